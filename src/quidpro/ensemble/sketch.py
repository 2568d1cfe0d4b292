"""Streaming quantiles with a stated error bound: equi-depth histograms per cell.

An ensemble too large to keep every member's values summarises each *cell* (a
variable at a saved time) by a histogram whose edges are fixed once, from a
*pilot* (the first members, kept exactly), and whose counts are exact:

- The edges of a cell are ``E`` order statistics of its pilot values at equal rank
  steps (the pilot's minimum, ..., its maximum), so each interval holds about
  ``1/(E - 1)`` of the pilot, whatever the distribution's shape (heavy tails and
  atoms included: repeated edges make an atom its own bin).
- Bins: below the first edge; for each edge ``e_j`` the values equal to it, then the
  open interval ``(e_j, e_{j+1})``; above the last edge. The exact minimum and
  maximum close the two outer bins.
- Every later member adds one to one bin per cell (:func:`fold`); sketches with the
  same grid merge by adding counts (:meth:`Sketch.merge`), so batches give the same
  counts in any order or grouping, bit for bit.

Why hand-written: a per-cell quantile sketch over ~10^5 cells must cost about as
much per value as the kernel that made the value (a couple of nanoseconds); the
sketch libraries on PyPI (t-digest, KLL, DDSketch bindings) summarise one stream
per object, at tens of nanoseconds a value, and cannot share one grid over cells.

Error bound (proved in docs/ensembles.md, tested in tests/test_sketch.py): for a
quantile ``q`` of ``n`` finite values, NumPy's (linear) quantile interpolates the
order statistics of ranks ``floor(h)`` and ``ceil(h)``, ``h = q (n - 1)``. Both lie
in known bins, so the exact value lies in the interval ``[a, b]`` spanned by those
bins, and the estimate (linear within a bin) lies there too: its value error is
at most ``b - a`` (zero on an atom), its rank error at most the share of members in
those bins. :meth:`Sketch.quantiles` returns both bounds with every estimate.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_EDGES = 128
MIN_EDGES = 17
PILOT_PER_BIN = 8  # pilot members per interval: fewer makes the bins uneven
BLOCK = 4096  # cells sorted (or summarised) at a time, so no temporary grows with the grid


def edges_for(pilot: int) -> int:
    """The number of edges a pilot of ``pilot`` members supports (17 to 128)."""
    return int(min(MAX_EDGES, max(MIN_EDGES, pilot // PILOT_PER_BIN + 1)))


def cell_bytes(n_edges: int) -> int:
    """Bytes of one cell's edges, its counts, and one batch's partial counts."""
    return (n_edges + 1) * 8 + 2 * ((2 * n_edges + 1) * 4 + 2 * 8)


@dataclass
class Grid:
    """The fixed bins of every cell: its sorted edges, then +inf (where searches stop)."""

    padded: np.ndarray  # (cells, E + 1) float64

    @property
    def edges(self) -> np.ndarray:
        """The sorted edges, (cells, E)."""
        return self.padded[:, :-1]

    @classmethod
    def from_pilot(cls, values: np.ndarray, ok: np.ndarray, n_edges: int) -> Grid:
        """Edges at equal rank steps of ``values[cell, member]`` over members ``ok``.

        Cells are sorted a block at a time, so the pilot is never copied whole.
        """
        cells = values.shape[0]
        padded = np.full((cells, n_edges + 1), np.inf)
        padded[:, :-1] = 0.0
        if np.count_nonzero(ok):
            every = bool(ok.all())
            steps = np.linspace(0.0, 1.0, n_edges)
            for a in range(0, cells, BLOCK):
                block = values[a : a + BLOCK]
                ranked = np.sort(block if every else block[:, ok], axis=1)  # NaN last
                n = np.count_nonzero(~np.isnan(ranked), axis=1)  # per cell
                pos = np.round(steps[None, :] * np.maximum(n - 1, 0)[:, None]).astype(np.intp)
                picked = np.take_along_axis(ranked, pos, axis=1)
                padded[a : a + BLOCK, :-1] = np.where(n[:, None] > 0, picked, 0.0)
        return cls(padded)

    @property
    def n_cells(self) -> int:
        """Cells (variable-times) the grid covers."""
        return int(self.padded.shape[0])

    @property
    def n_edges(self) -> int:
        """Edges per cell."""
        return int(self.padded.shape[1] - 1)

    @property
    def nbytes(self) -> int:
        """Memory held by the grid."""
        return int(self.padded.nbytes)


@dataclass
class Sketch:
    """Exact counts per bin of every cell of a :class:`Grid`, and exact extremes."""

    grid: Grid
    counts: np.ndarray  # (cells, 2E + 1) uint32
    low: np.ndarray  # (cells,) smallest value seen (the first edge if none is below)
    high: np.ndarray  # (cells,) largest value seen

    @classmethod
    def empty(cls, grid: Grid) -> Sketch:
        """No member counted yet."""
        counts = np.zeros((grid.n_cells, 2 * grid.n_edges + 1), dtype=np.uint32)
        return cls(grid, counts, grid.edges[:, 0].copy(), grid.edges[:, -1].copy())

    @property
    def nbytes(self) -> int:
        """Memory of the counts and extremes (the grid is shared)."""
        return self.counts.nbytes + self.low.nbytes + self.high.nbytes

    def merge(self, other: Sketch) -> None:
        """Add ``other``'s members (same grid) to this sketch."""
        if other.grid is not self.grid and other.counts.shape != self.counts.shape:
            raise ValueError("sketches on different grids cannot be merged")
        self.counts += other.counts
        np.minimum(self.low, other.low, out=self.low)
        np.maximum(self.high, other.high, out=self.high)

    def add(self, values: np.ndarray, keep: np.ndarray, ok: np.ndarray) -> None:
        """Count ``values[member, time, variable]`` at times ``keep``, members ``ok``.

        Cell ``i * V + v`` is variable ``v`` at time ``keep[i]``; ``V`` is
        ``values.shape[2]``.
        """
        fold(values, keep, ok, self)

    def quantiles(self, qs: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Estimates, value bounds and rank bounds, each of shape (len(qs), cells).

        The exact sample quantile (NumPy's linear method over the counted values)
        lies within ``value_bound`` of the estimate, and the estimate's rank within
        ``rank_bound`` (a share of the members) of ``q``. NaN where no value was counted.
        Computed a block of cells at a time, so the temporaries stay small.
        """
        out = np.full((3, len(qs), self.grid.n_cells), np.nan)
        for a in range(0, self.grid.n_cells, BLOCK):
            cells = slice(a, min(a + BLOCK, self.grid.n_cells))
            out[:, :, cells] = self._block_quantiles(qs, cells)
        return out[0], out[1], out[2]

    def _block_quantiles(self, qs: Sequence[float], cells: slice) -> np.ndarray:
        """:meth:`quantiles` of some cells, stacked: (3, len(qs), cells)."""
        counts = self.counts[cells].astype(np.int64)
        cum = np.cumsum(counts, axis=1)
        n = cum[:, -1]
        lower, upper = self._bin_bounds(cells)
        out = np.full((3, len(qs), len(n)), np.nan)
        has = np.nonzero(n > 0)[0]
        cum, counts, n = cum[has], counts[has], n[has]
        lower, upper = lower[has], upper[has]
        rows = np.arange(len(n))
        for iq, q in enumerate(qs):
            h = q * (n - 1)
            i0 = np.floor(h).astype(np.int64)
            i1 = np.minimum(i0 + 1, n - 1)
            frac = h - i0
            k0, x0 = self._order_stat(i0, cum, counts, lower, upper, rows, n)
            k1, x1 = self._order_stat(i1, cum, counts, lower, upper, rows, n)
            e = x0 + frac * (x1 - x0)
            a, b = lower[rows, k0], upper[rows, k1]
            width = np.maximum(e - a, b - e)
            start = cum[rows, k0] - counts[rows, k0]
            out[0, iq, has] = e
            out[1, iq, has] = width
            # an estimate on an atom is the exact value: no rank error to speak of
            out[2, iq, has] = np.where(width > 0, (cum[rows, k1] - start) / n, 0.0)
        return out

    def _bin_bounds(self, cells: slice) -> tuple[np.ndarray, np.ndarray]:
        """Each bin's smallest and largest possible value, shape (cells, 2E + 1)."""
        e = self.grid.edges[cells]
        n_cells, n_e = e.shape
        lower = np.empty((n_cells, 2 * n_e + 1))
        upper = np.empty_like(lower)
        lower[:, 0], upper[:, 0] = self.low[cells], e[:, 0]
        lower[:, 1::2], upper[:, 1::2] = e, e  # equal to the edge
        lower[:, 2:-1:2], upper[:, 2:-1:2] = e[:, :-1], e[:, 1:]  # between two edges
        lower[:, -1], upper[:, -1] = e[:, -1], self.high[cells]
        return lower, upper

    @staticmethod
    def _order_stat(  # noqa: PLR0917  # one vectorised step over the cells
        i: np.ndarray,
        cum: np.ndarray,
        counts: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        rows: np.ndarray,
        n: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The bin of the order statistic of rank ``i`` per cell, and its estimate.

        Within a bin of ``c`` members the ``m``-th (0-based) is placed at
        ``a + (m + 0.5) / c · (b - a)``; the smallest and largest members are exact.
        """
        k = (cum <= i[:, None]).sum(axis=1)
        c = counts[rows, k]
        m = i - (cum[rows, k] - c)
        a, b = lower[rows, k], upper[rows, k]
        x = a + (m + 0.5) / c * (b - a)
        last = counts.shape[1] - 1
        x = np.where((i == 0) & (k == 0), lower[rows, 0], x)  # the exact minimum
        x = np.where((i == n - 1) & (k == last), upper[rows, -1], x)  # the exact maximum
        return k, x


def fold(values: np.ndarray, keep: np.ndarray, ok: np.ndarray, sketch: Sketch) -> None:
    """Add members to ``sketch``: numba's parallel loop when installed, else NumPy."""
    g = sketch.grid
    keep = np.ascontiguousarray(keep, dtype=np.int64)
    ok = np.ascontiguousarray(ok, dtype=np.bool_)
    if values.shape[0] == 0 or not ok.any():
        return
    jit = _jit()
    if jit is not None:
        jit.fold_counts(values, keep, ok, g.padded, sketch.counts, sketch.low, sketch.high)
        return
    _fold_numpy(values, keep, ok, sketch)


def _fold_numpy(values: np.ndarray, keep: np.ndarray, ok: np.ndarray, sketch: Sketch) -> None:
    """The same counts as the numba loop, one cell at a time (slow; numba is optional)."""
    g = sketch.grid
    n_var = values.shape[2]
    width = sketch.counts.shape[1]
    for i, t in enumerate(keep):
        block = values[ok, t, :]  # (members, variables)
        for v in range(n_var):
            c = i * n_var + v
            x = block[:, v]
            x = x[~np.isnan(x)]
            e = g.edges[c]
            j = np.searchsorted(e, x, side="right") - 1
            bins = np.where(j < 0, 0, 2 * j + 1 + (x != e[np.maximum(j, 0)]))
            sketch.counts[c] += np.bincount(bins, minlength=width).astype(np.uint32)
            if x.size:
                sketch.low[c] = min(sketch.low[c], x.min())
                sketch.high[c] = max(sketch.high[c], x.max())


_JIT: Any = None


def _jit() -> Any:
    """The numba loop's module (imported once), or None without numba."""
    global _JIT  # noqa: PLW0603  # a lazily imported module, once per process
    if _JIT is None and importlib.util.find_spec("numba") is not None:
        from quidpro.ensemble import sketch_jit

        _JIT = sketch_jit
    return _JIT
