"""The numba loop that counts, from a batch's recorded series, how often each loop dominates.

The NumPy path of an ensemble's loop analysis (link scores of every step as arrays,
then :meth:`~quidpro.analysis.loops_products.LoopProducts.relative_of`, then
:func:`~quidpro.analysis.loops.dominant_mask`) makes a dozen passes over arrays of
``(link or tree node, time, member)`` far larger than the processor's cache: on the
flagship it cost ten times the kernel run it reads. Here one pass over the saved times
does everything for a chunk of members at a time (their values contiguous, so the
inner loops are vector operations): the link scores of the step (as
:func:`~quidpro.analysis.loops_kernel.scores`), both product trees, each partition's
sum of absolute loop scores, the kept loops' relative scores, and the dominant set
(as ``dominant_mask``: stable order by magnitude, the same running sum), counted.
Nothing of ``(link, time, member)`` size is stored.

Every operation is the NumPy path's, in the same order, except the partition sums
(the NumPy path's ``einsum`` may add in another order: a relative 1e-16). This module
imports nothing of quidpro (loops imports it lazily, only with numba installed).
"""

from __future__ import annotations

import numpy as np
from numba import njit

CHUNK = 32  # members per pass (their tree values stay in the processor's cache)
PARTIAL, SIGN, INFLOW, OUTFLOW = 0, 1, 2, 3
BIG = np.finfo(np.float64).max


@njit(cache=True, inline="always")
def _finite(x: float) -> float:
    """``nan_to_num(x, nan=0.0)``: NaN to 0, infinities to the largest floats."""
    if x != x:  # noqa: PLR0124  # numba's NaN test
        return 0.0
    if x > BIG:
        return BIG
    if x < -BIG:
        return -BIG
    return x


@njit(cache=True, inline="always")
def _sign(x: float) -> float:
    """``np.sign``: NaN stays NaN."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    if x == 0.0:
        return 0.0
    return x


@njit(cache=True)
def _link_scores(  # noqa: PLR0917  # numba: arrays positionally
    values: np.ndarray,
    t: int,
    m0: int,
    m1: int,
    kind: np.ndarray,
    src: np.ndarray,
    tgt: np.ndarray,
    aux: np.ndarray,
    ls: np.ndarray,
) -> None:
    """Link scores over step ``[t - 1, t]`` of members ``m0 .. m1 - 1`` into ``ls``."""
    for k in range(len(kind)):
        a, z, p = src[k], tgt[k], aux[k]
        for j in range(m1 - m0):
            m = m0 + j
            if t == 0:
                ls[k, j] = 0.0
                continue
            dx = values[t, a, m] - values[t - 1, a, m]
            if kind[k] >= INFLOW:
                dnet = values[t, p, m] - values[t - 1, p, m]
                ratio = abs(dx / (1.0 if dnet == 0.0 else dnet))
                v = 0.0 if dnet == 0.0 else ratio if kind[k] == INFLOW else -ratio
            else:
                dz = values[t, z, m] - values[t - 1, z, m]
                if dz == 0.0 or dx == 0.0:
                    v = 0.0
                elif kind[k] == SIGN:
                    v = _sign(dz * dx)
                else:
                    pz = values[t, p, m] - values[t - 1, z, m]
                    mag = abs(pz / (1.0 if dz == 0.0 else dz))
                    v = mag * _sign(pz * dx)
            ls[k, j] = _finite(v)


@njit(cache=True)
def _tree(
    parent: np.ndarray, link: np.ndarray, first: int, ls: np.ndarray, out: np.ndarray
) -> None:
    """Node values of a prefix tree, nodes in level order from ``first``."""
    w = ls.shape[1]
    for n in range(first, len(parent)):
        q, k = parent[n], link[n]
        if q < 0:
            for j in range(w):
                out[n, j] = ls[k, j]
        else:
            for j in range(w):
                out[n, j] = out[q, j] * ls[k, j]


@njit(cache=True)
def _denominators(  # noqa: PLR0917  # numba: arrays positionally
    head: np.ndarray,
    tail: np.ndarray,
    p_ptr: np.ndarray,
    p_heads: np.ndarray,
    h_ptr: np.ndarray,
    h_tails: np.ndarray,
    w: int,
    inner: np.ndarray,
    denom: np.ndarray,
) -> None:
    """Each partition's sum of absolute loop scores: ``sum_h |head_h| sum_t |tail_t|``."""
    for p in range(len(p_ptr) - 1):
        for j in range(w):
            denom[p, j] = 0.0
        for i in range(p_ptr[p], p_ptr[p + 1]):
            for j in range(w):
                inner[j] = 0.0
            for e in range(h_ptr[i], h_ptr[i + 1]):
                tn = h_tails[e]
                for j in range(w):
                    inner[j] += abs(tail[tn, j])
            hn = p_heads[i]
            for j in range(w):
                denom[p, j] += abs(head[hn, j]) * inner[j]


@njit(cache=True)
def _exact_denominator(  # noqa: PLR0917  # numba: arrays positionally
    head: np.ndarray,
    tail: np.ndarray,
    starts: np.ndarray,
    loop_head: np.ndarray,
    loop_tail: np.ndarray,
    j: int,
    denom: np.ndarray,
) -> None:
    """Column ``j``'s sums loop by loop (an overflow or ``inf * 0`` counts as NumPy's)."""
    for p in range(len(starts) - 1):
        s = 0.0
        for r in range(starts[p], starts[p + 1]):
            s += abs(_finite(head[loop_head[r], j] * tail[loop_tail[r], j]))
        denom[p, j] = s


@njit(cache=True)
def _dominant(  # noqa: PLR0917  # numba: arrays positionally
    rel: np.ndarray, g_ptr: np.ndarray, g_idx: np.ndarray, w: int, t: int, counts: np.ndarray
) -> None:
    """Count, per group of kept loops, the smallest set explaining at least half."""
    order = np.empty(len(g_idx), dtype=np.int64)
    for j in range(w):
        for g in range(len(g_ptr) - 1):
            lo, hi = g_ptr[g], g_ptr[g + 1]
            for i in range(lo, hi):  # stable insertion sort by decreasing magnitude
                k = g_idx[i]
                mk = abs(rel[k, j])
                pos = i
                while pos > lo and abs(rel[order[pos - 1], j]) < mk:
                    order[pos] = order[pos - 1]
                    pos -= 1
                order[pos] = k
            running = 0.0
            for i in range(lo, hi):
                k = order[i]
                mk = abs(rel[k, j])
                running += mk
                if running - mk < 0.5 - 1e-12 and mk > 0.0:
                    counts[k, t] += 1.0


@njit(cache=True)
def dominance_counts(  # noqa: PLR0917  # numba: arrays positionally
    values: np.ndarray,
    stride: int,
    links: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    heads: tuple[np.ndarray, np.ndarray],
    tails: tuple[np.ndarray, np.ndarray],
    sums: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    exact: tuple[np.ndarray, np.ndarray, np.ndarray],
    kept: tuple[np.ndarray, np.ndarray, np.ndarray],
    groups: tuple[np.ndarray, np.ndarray],
    counts: np.ndarray,
) -> None:
    """Add to ``counts[kept loop, saved time]`` the members in which the loop dominates.

    Args:
        values: the batch's series ``(step, series, member)``, every step.
        stride: steps per saved time.
        links: per link, its kind, source, target and partial-or-net series.
        heads: parent node (-1: a first link) and link of each head-tree node.
        tails: the same for the tail tree (node 0 the empty product).
        sums: partition sums' heads per partition (pointers, nodes) and tails per head
            (pointers, nodes).
        exact: partition starts, head and tail nodes of every loop in partition order.
        kept: the kept loops' head node, tail node and partition (row of the sums).
        groups: the kept loops by partition (pointers, kept indices) for dominance.
        counts: ``(kept loop, saved time)``, added to.
    """
    kind, src, tgt, aux = links
    n_steps, n_members = values.shape[0], values.shape[2]
    k_head, k_tail, k_part = kept
    n_parts = len(sums[0]) - 1
    ls = np.empty((len(kind), CHUNK))
    head = np.empty((len(heads[0]), CHUNK))
    tail = np.empty((len(tails[0]), CHUNK))
    tail[0] = 1.0  # the empty tail
    inner = np.empty(CHUNK)
    denom = np.empty((n_parts, CHUNK))
    rel = np.empty((len(k_head), CHUNK))
    for m0 in range(0, n_members, CHUNK):
        m1 = min(n_members, m0 + CHUNK)
        w = m1 - m0
        for t in range(0, n_steps, stride):
            _link_scores(values, t, m0, m1, kind, src, tgt, aux, ls)
            _tree(heads[0], heads[1], 0, ls, head)
            _tree(tails[0], tails[1], 1, ls, tail)
            _denominators(head, tail, sums[0], sums[1], sums[2], sums[3], w, inner, denom)
            for j in range(w):
                for p in range(n_parts):
                    d = denom[p, j]
                    if d - d != 0.0:  # not finite: loop by loop, as NumPy's fallback
                        _exact_denominator(head, tail, exact[0], exact[1], exact[2], j, denom)
                        break
            for i in range(len(k_head)):
                for j in range(w):
                    mine = _finite(head[k_head[i], j] * tail[k_tail[i], j])
                    d = denom[k_part[i], j]
                    rel[i, j] = mine / d if d > 0.0 else 0.0
            _dominant(rel, groups[0], groups[1], w, t // stride, counts)
