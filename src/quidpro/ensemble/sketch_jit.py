"""The numba loop that counts members into a :class:`~quidpro.ensemble.sketch.Sketch`.

Parallel over saved times: a time's values of every member (a few hundred KiB of the
JIT kernel's run-major output) stay in the core's cache while each cell, its table
and counts in L1, takes every member's value in turn. The bin search is branch-free
(one table look-up, one comparison) except for the rare slot holding several edges.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# sketch.MANY, the table's "several edges" flag, repeated here so that this module
# imports nothing of quidpro (sketch imports it lazily); tests check the two agree.
MANY = 128


@njit(parallel=True, cache=True, error_model="numpy", nogil=True)
def fold_counts(  # noqa: PLR0917  # arrays of one sketch, passed to numba
    values: np.ndarray,
    keep: np.ndarray,
    ok: np.ndarray,
    padded: np.ndarray,
    guide: np.ndarray,
    lo: np.ndarray,
    scale: np.ndarray,
    counts: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> None:
    """Add ``values[member, time, variable]`` (times ``keep``, members ``ok``) to counts."""
    n_members, n_var = values.shape[0], values.shape[2]
    n_slots = guide.shape[1]
    top_slot = float(n_slots - 1)
    for i in prange(keep.shape[0]):
        t = keep[i]
        for v in range(n_var):
            c = i * n_var + v
            lo_c, scale_c, first = lo[c], scale[c], padded[c, 0]
            low_c, high_c = low[c], high[c]
            for r in range(n_members):
                x = values[r, t, v]
                if not ok[r] or x != x:  # noqa: PLR0124  # NaN (numba's test): not counted
                    continue
                s = int(min(max((x - lo_c) * scale_c, 0.0), top_slot))
                g = np.int64(guide[c, s])
                j = g & (MANY - 1)
                e0, e1 = padded[c, j], padded[c, j + 1]
                step = e1 <= x
                eq = (x == e1) if step else (x == e0)
                j += np.int64(step)
                if g & MANY:  # several edges in the slot (rare): step on
                    while padded[c, j + 1] <= x:
                        j += 1
                    eq = x == padded[c, j]
                b = 2 * j + 2 - np.int64(eq)
                counts[c, b if x >= first else 0] += 1
                low_c = min(low_c, x)
                high_c = max(high_c, x)
            low[c], high[c] = low_c, high_c
