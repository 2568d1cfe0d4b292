"""Where the ensemble's counting loop spends its time, per value counted (issue 12).

The default ``quidpro ensemble`` spends about half its time counting members into the
per-cell histograms (``ensemble/sketch_jit.py``). This script times, on one flagship
kernel call's output (``--members`` members, every variable, monthly), against a grid
from a pilot of ``--pilot`` members:

1. ``shipped``: :func:`quidpro.ensemble.sketch_jit.fold_counts` as the command runs it;
2. ``no walk``: the same loop with each member's bin fixed at the first saved time's
   (wrong counts, same memory traffic): the copy, the counting and the extremes;
3. ``copy only``: the per-time copy into a (variable, member) slab and the first
   time's binary search.

So ``shipped - no walk`` is what finding the bins costs (the walk from the last saved
time's bin), and ``no walk - copy only`` what adding one to a bin and tracking the
extremes cost. Best of ``--repeat``, wall time of the parallel loop, ns per value.

Run: ``.venv/bin/python benchmarks/bench_fold.py [--members 400] [--pilot 2000]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
from numba import njit, prange

import quidpro
from quidpro.ensemble import draw
from quidpro.ensemble.sketch import Grid, Sketch, edges_for
from quidpro.ensemble.sketch_jit import CHUNKS, _copy_time, fold_counts
from quidpro.solve.simulate import simulate


@njit(parallel=True, error_model="numpy", nogil=True)
def _fold_parts(values, keep, ok, padded, counts, low, high, count):  # type: ignore[no-untyped-def]
    """fold_counts with every member's bin fixed at the chunk's first search."""
    n_keep, n_members, n_var = keep.shape[0], values.shape[0], values.shape[2]
    n_edges = padded.shape[1] - 1
    n_chunks = min(CHUNKS, n_keep)
    for k in prange(n_chunks):
        lo, hi = k * n_keep // n_chunks, (k + 1) * n_keep // n_chunks
        slab = np.empty((n_var, n_members))
        pos = np.zeros((n_var, n_members), dtype=np.int64)
        for i in range(lo, hi):
            _copy_time(values, keep[i], slab)
            for v in range(n_var):
                c = i * n_var + v
                row, cnt, at = padded[c], counts[c], pos[v]
                if i == lo:
                    for r in range(n_members):
                        at[r] = np.searchsorted(row[:n_edges], slab[v, r], side="right")
                if not count:
                    continue
                low_c, high_c = low[c], high[c]
                for r in range(n_members):
                    x = slab[v, r]
                    if not ok[r] or x != x:
                        continue
                    p = at[r]
                    cnt[2 * p - np.int64(x == row[p - 1]) if p > 0 else 0] += 1
                    low_c, high_c = min(low_c, x), max(high_c, x)
                low[c], high[c] = low_c, high_c


def flagship_values(n_pilot: int, n_test: int) -> tuple[Grid, np.ndarray, np.ndarray]:
    """A grid from ``n_pilot`` members and one call's output of ``n_test`` more."""
    c = quidpro.load("nk_russia").compiled
    rows = draw(c.model, n_pilot + n_test, 1).rows(0, n_pilot + n_test)

    def run(a: int, z: int) -> tuple[np.ndarray, np.ndarray]:
        part = {k: v[a:z] for k, v in rows.items()}
        traj = simulate(c, part, z - a, record=c.visible, backend="jit", save_every=1)
        return np.moveaxis(traj.values, 2, 0), ~traj.failed  # (member, time, variable)

    pilot = [run(a, min(a + 200, n_pilot)) for a in range(0, n_pilot, 200)]
    values = np.concatenate([v for v, _ in pilot])
    ok = np.concatenate([o for _, o in pilot])
    n, n_t, n_v = values.shape
    cells = np.ascontiguousarray(np.moveaxis(values, 0, 2)).reshape(n_t * n_v, n)
    grid = Grid.from_pilot(cells, ok, edges_for(n))
    test, test_ok = run(n_pilot, n_pilot + n_test)
    return grid, test, test_ok


def best(fn: Callable[[Sketch], None], grid: Grid, repeat: int) -> float:
    """Best wall seconds of ``fn`` on a fresh sketch (after a warm-up call)."""
    fn(Sketch.empty(grid))
    times = []
    for _ in range(repeat):
        s = Sketch.empty(grid)
        t = time.perf_counter()
        fn(s)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--members", type=int, default=400, help="members of the timed call")
    ap.add_argument("--pilot", type=int, default=2000, help="members behind the grid")
    ap.add_argument("--repeat", type=int, default=7, help="timings; the best is kept")
    a = ap.parse_args()
    grid, values, ok = flagship_values(a.pilot, a.members)
    keep = np.arange(values.shape[1], dtype=np.int64)
    g = grid.padded

    def shipped(s: Sketch) -> None:
        fold_counts(values, keep, ok, g, s.counts, s.low, s.high)

    def no_walk(s: Sketch) -> None:
        _fold_parts(values, keep, ok, g, s.counts, s.low, s.high, True)

    def copy_only(s: Sketch) -> None:
        _fold_parts(values, keep, ok, g, s.counts, s.low, s.high, False)

    n = int(ok.sum()) * values.shape[1] * values.shape[2]
    load = os.getloadavg()[0]
    print(
        f"## Counting loop, {a.members} flagship members × {values.shape[1]} times × "
        f"{values.shape[2]} variables, {grid.n_edges} edges (load average {load:.2f})\n"
    )
    print("| loop | wall ms | ns per value (wall, 2 threads) |")
    print("|---|---:|---:|")
    for label, fn in (("shipped", shipped), ("no walk", no_walk), ("copy only", copy_only)):
        t = best(fn, grid, a.repeat)
        print(f"| {label} | {t * 1e3:.1f} | {t / n * 1e9:.2f} |")


if __name__ == "__main__":
    main()
