"""One run's loop scores summarised in a compiled pass, for the report of one analysis.

The report of :func:`~quidpro.analysis.loops.analyse_loops` needs two numbers of every
loop of the base run (the sum of the signs of its score, for its polarity, and the peak
of its relative score, to decide whether it is kept) and the series of the few loops it
keeps. The NumPy path forms every loop's score and relative score at every saved time
(on the flagship 2,964 loops at 817 times, 19 MB each), level by level of the product
trees through arrays far larger than the processor's cache: on the compiled backends
that took 25 of the 35 ms of an analysis whose kernel run takes 2 ms. Here the same
products are made a block of columns at a time, held in cache and reduced on the spot;
each partition's sum of absolute scores is kept (a row per partition), so the kept
loops' relative scores are the same divisions.

The operations are the NumPy path's, in its order (link scores as
:func:`~quidpro.analysis.loops_kernel.scores`, tree nodes level by level, a head node
times a tail node, ``nan_to_num``, a partition's sum over its loops in row order), so
the results are the same floats; the tests compare them bit for bit. This module
imports nothing of quidpro at run time but :mod:`loops_jit` (numba only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from quidpro.analysis.loops_jit import _finite, _score, _tree

if TYPE_CHECKING:
    from quidpro.analysis.loops_products import FlatTree as Tree
BLOCK = 32  # columns per block: the flagship's pass 2.5 ms, 3.0 ms with 16 (2026-12-05)


@njit(cache=True, error_model="numpy")
def saved_link_scores(  # noqa: PLR0917  # numba: arrays positionally
    values: np.ndarray,
    stride: int,
    kind: np.ndarray,
    src: np.ndarray,
    tgt: np.ndarray,
    aux: np.ndarray,
) -> np.ndarray:
    """Link scores ``(link, saved time)`` of one member's ``values[step, series]``.

    Every step is recorded; a saved step's score reads the step before it (the start's
    is 0: the start against itself). Read a step's row at a time: copying the series
    into columns first (a transpose) took four times as long.
    """
    n_steps = values.shape[0]
    n_saved = (n_steps - 1) // stride + 1
    out = np.empty((n_saved, len(kind)))
    for j in range(n_saved):
        t = j * stride
        now, prev = values[t], values[max(t - 1, 0)]
        for k in range(len(kind)):
            a, z, p = src[k], tgt[k], aux[k]
            out[j, k] = _score(kind[k], now[a], prev[a], now[z], prev[z], now[p], prev[p])
    return out.T.copy()


@njit(cache=True, error_model="numpy")
def summary(  # noqa: PLR0917  # numba: arrays positionally
    ls: np.ndarray,
    heads: Tree,
    tails: Tree,
    starts: np.ndarray,
    signs: np.ndarray,
    peak: np.ndarray,
    denom: np.ndarray,
) -> None:
    """Every loop's sign sum and peak relative score, and the partitions' sums.

    Args:
        ls: link scores ``(link, column)``.
        heads: the full head tree, a node per loop row.
        tails: the full tail tree (node 0 the empty product).
        starts: the first loop row of each partition, then the number of loops (rows
            are in partition order).
        signs: per loop row, added to: the sum over columns of the sign of its score.
        peak: per loop row, raised to: the largest absolute relative score.
        denom: ``(partition, column)``, set: the sum of its loops' absolute scores.
    """
    n_links, n_cols = ls.shape
    h_parent, h_link, h_end = heads
    t_parent, t_link, t_end = tails
    n_rows = len(h_end)
    block = np.empty((n_links, BLOCK))
    head = np.empty((len(h_parent), BLOCK))
    tail = np.ones((len(t_parent), BLOCK))
    score = np.empty((n_rows, BLOCK))
    # Per loop and column of a block, kept across blocks: the inner loops are then
    # element-wise (vector operations), reduced over the columns once at the end.
    lane_sign = np.zeros((n_rows, BLOCK))
    lane_peak = np.zeros((n_rows, BLOCK))
    d = np.empty(BLOCK)
    for c0 in range(0, n_cols, BLOCK):
        w = min(n_cols, c0 + BLOCK) - c0
        for k in range(n_links):
            for j in range(w):
                block[k, j] = ls[k, c0 + j]
        _tree(h_parent, h_link, 0, block, w, head)
        _tree(t_parent, t_link, 1, block, w, tail)
        _products(head, tail, h_end, t_end, w, score)
        for p in range(len(starts) - 1):
            d[:] = 0.0
            for r in range(starts[p], starts[p + 1]):
                for j in range(w):
                    d[j] += abs(score[r, j])
            for j in range(w):
                denom[p, c0 + j] = d[j]
                if not d[j] > 0.0:  # every score 0: s / inf is the 0 NumPy's path sets
                    d[j] = np.inf
            for r in range(starts[p], starts[p + 1]):
                sign, top, mine = lane_sign[r], lane_peak[r], score[r]
                for j in range(w):
                    s = mine[j]
                    sign[j] += (s > 0.0) - (s < 0.0)  # s is finite
                    a = abs(s / d[j])
                    top[j] = a if a > top[j] else top[j]
    for r in range(n_rows):
        signs[r] += lane_sign[r].sum()
        peak[r] = max(peak[r], lane_peak[r].max())


@njit(cache=True, error_model="numpy")
def _products(  # noqa: PLR0917  # numba: arrays positionally
    head: np.ndarray,
    tail: np.ndarray,
    h_end: np.ndarray,
    t_end: np.ndarray,
    w: int,
    out: np.ndarray,
) -> None:
    """Each loop's score over the first ``w`` columns: its head node times its tail node."""
    for r in range(len(h_end)):
        hr, tr = h_end[r], t_end[r]
        for j in range(w):
            out[r, j] = _finite(head[hr, j] * tail[tr, j])


@njit(cache=True, error_model="numpy")
def kept_series(  # noqa: PLR0917  # numba: arrays positionally
    ls: np.ndarray,
    heads: Tree,
    tails: Tree,
    part: np.ndarray,
    denom: np.ndarray,
    scores: np.ndarray,
    rel: np.ndarray,
) -> None:
    """Scores and relative scores ``(kept loop, column)`` of a few loops.

    ``heads`` and ``tails`` are the trees restricted to the kept loops' paths (the same
    node values as the full trees'), ``part`` each kept loop's row in ``denom``.
    """
    n_cols = ls.shape[1]
    h_parent, h_link, h_end = heads
    t_parent, t_link, t_end = tails
    head = np.empty((len(h_parent), n_cols))
    tail = np.ones((len(t_parent), n_cols))
    _tree(h_parent, h_link, 0, ls, n_cols, head)
    _tree(t_parent, t_link, 1, ls, n_cols, tail)
    _products(head, tail, h_end, t_end, n_cols, scores)
    for i in range(len(h_end)):
        for j in range(n_cols):
            d = denom[part[i], j]
            rel[i, j] = scores[i, j] / d if d > 0.0 else 0.0
