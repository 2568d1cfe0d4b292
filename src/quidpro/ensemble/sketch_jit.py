"""The numba loop that counts members into a :class:`~quidpro.ensemble.sketch.Sketch`.

A member's rank among the others changes little from one saved time to the next, so
its bin at one time is the best guess for its bin at the next: the loop keeps each
(member, variable)'s position among the edges and walks from it, one comparison on
each side when the member stays in its bin (the common case, and a well-predicted
branch), a step per edge crossed otherwise. The first time of a chunk starts from a
binary search. Parallel over chunks of saved times (each with its own positions);
within a time, every variable of every member, so each cell's edges and counts are
read once per call. Each time's values are first copied into a (variable, member)
slab: the compiled kernels write member-major output, where consecutive members of a
cell lie a member's whole record apart (a page or more), and reading them in that
order cost a third of the loop's time. This module imports nothing of quidpro
(sketch imports it lazily).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

CHUNKS = 8  # chunks of saved times run in parallel (each starts with a binary search)


@njit(parallel=True, cache=True, error_model="numpy", nogil=True)
def fold_counts(  # noqa: PLR0917  # arrays of one sketch, passed to numba
    values: np.ndarray,
    keep: np.ndarray,
    ok: np.ndarray,
    padded: np.ndarray,
    counts: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> None:
    """Add ``values[member, time, variable]`` (times ``keep``, members ``ok``) to counts."""
    n_keep = keep.shape[0]
    n_chunks = min(CHUNKS, n_keep)
    for k in prange(n_chunks):
        lo = k * n_keep // n_chunks
        hi = (k + 1) * n_keep // n_chunks
        pos = np.zeros((values.shape[2], values.shape[0]), dtype=np.int64)
        slab = np.empty((values.shape[2], values.shape[0]))
        for i in range(lo, hi):
            _copy_time(values, keep[i], slab)
            _fold_time(slab, i, ok, padded, counts, low, high, pos, i == lo)


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _copy_time(values: np.ndarray, t: int, slab: np.ndarray) -> None:
    """``slab[v, r] = values[r, t, v]``, read in the order of member-major memory."""
    for r in range(values.shape[0]):
        for v in range(values.shape[2]):
            slab[v, r] = values[r, t, v]


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def _fold_time(  # noqa: PLR0917  # one saved time of fold_counts
    slab: np.ndarray,
    i: int,
    ok: np.ndarray,
    padded: np.ndarray,
    counts: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    pos: np.ndarray,
    first: bool,
) -> None:
    n_var, n_members = slab.shape
    n_edges = padded.shape[1] - 1
    for v in range(n_var):
        c = i * n_var + v
        row = padded[c]
        cnt = counts[c]
        at = pos[v]
        low_c, high_c = low[c], high[c]
        for r in range(n_members):
            x = slab[v, r]
            if not ok[r] or x != x:  # noqa: PLR0124  # NaN (numba's test): not counted
                continue
            if first:
                p = np.searchsorted(row[:n_edges], x, side="right")
            else:  # p = the number of edges <= x, found from the last time's
                p = at[r]
                while p < n_edges and row[p] <= x:
                    p += 1
                while p > 0 and row[p - 1] > x:
                    p -= 1
            at[r] = p
            # bin 0 below the first edge; 2p - 1 equal to edge p - 1; 2p above it
            cnt[2 * p - np.int64(x == row[p - 1]) if p > 0 else 0] += 1
            low_c = min(low_c, x)
            high_c = max(high_c, x)
        low[c], high[c] = low_c, high_c
