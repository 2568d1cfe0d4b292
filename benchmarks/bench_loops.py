"""Loop analysis cost as a multiple of a plain run, and loop discovery on a large model.

Run: ``.venv/bin/python benchmarks/bench_loops.py [--runs 10000] [--k100 PATH]``
(prints Markdown for docs/benchmarks.md, section "Loop analysis"). Every number is a
ratio measured in this process after a warm-up (the best of ``--repeat`` timings):

1. the flagship, one run: the loop kernel (plain equations + the partial changes, all
   steps recorded, link scores) against the plain kernel, both NumPy; and the whole
   ``analyse_loops`` (expansion, 2,683 elementary loops, augmented compile, scores,
   dominance) against ``model.run()``;
2. the flagship over ``--runs`` members: ``analyse_loops(runs=N)`` against a plain
   ensemble of the same members and batch sizes;
3. loop discovery on ``partnership_k100`` (1,000 stocks, 8,900 links; path from
   ``--k100`` or benchmarks/partnership_k100.xmile): more elementary loops than the
   budget, so the strongest-path search runs on the scores of every link.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import quidpro
from quidpro.analysis.loops import _Setup, analyse_loops
from quidpro.ensemble.sampling import draw
from quidpro.solve.simulate import simulate

HERE = Path(__file__).resolve().parent


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def single(repeat: int) -> list[str]:
    m = quidpro.load("nk_russia")
    setup = _Setup(m.spec, 20000, {})
    setup.run({}, 1, "numpy", 0)  # warm-up: both kernels generated
    simulate(m.compiled, {}, 1, backend="numpy")
    plain = best(lambda: simulate(m.compiled, {}, 1, backend="numpy"), repeat)
    loops = best(lambda: setup.run({}, 1, "numpy", 0), repeat)
    run = best(lambda: m.run(backend="numpy"), repeat)
    whole = best(lambda: analyse_loops(m, backend="numpy"), max(1, repeat // 2))
    return [
        f"| flagship, one run: kernel | {plain * 1e3:.0f} ms | {loops * 1e3:.0f} ms "
        f"| {loops / plain:.2f}× |",
        f"| flagship, one run: `analyse_loops` vs `model.run()` | {run * 1e3:.0f} ms "
        f"| {whole * 1e3:.0f} ms | {whole / run:.2f}× |",
    ]


def ensemble(n: int) -> list[str]:
    m = quidpro.load("nk_russia")
    sample = draw(m.spec, n, 1)
    rows = sample.rows(0, n)
    analyse_loops(m, runs=2, seed=1, backend="numpy")  # warm-up
    t = time.perf_counter()
    analyse_loops(m, runs=n, seed=1, backend="numpy")
    loops = time.perf_counter() - t
    t = time.perf_counter()
    step = 64
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        simulate(m.compiled, {k: v[lo:hi] for k, v in rows.items()}, hi - lo, backend="numpy")
    plain = time.perf_counter() - t
    return [
        f"| flagship, {n:,} members (NumPy, batches of 64) | {plain:.1f} s | {loops:.1f} s "
        f"| {loops / plain:.2f}× |"
    ]


def k100(path: Path) -> list[str]:
    t = time.perf_counter()
    m = quidpro.load(path)
    load = time.perf_counter() - t
    t = time.perf_counter()
    setup = _Setup(m.spec, 20000, {})
    found = time.perf_counter() - t
    s = setup.searched
    return [
        f"| partnership_k100: load + compile | {load:.1f} s | | |",
        f"| partnership_k100: loop discovery ({s['method']}; {s['loops']} loops kept, "
        f"{len(setup.links):,} links scored) | | {found:.1f} s | |",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="ensemble members (10000 in docs)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--k100", type=Path, default=HERE / "partnership_k100.xmile")
    args = ap.parse_args()
    print("| what | plain | loop analysis | ratio |")
    print("|---|---|---|---|")
    for line in single(args.repeat):
        print(line, flush=True)
    for line in ensemble(args.runs):
        print(line, flush=True)
    if args.k100.exists():
        for line in k100(args.k100):
            print(line, flush=True)
    else:
        print(f"| partnership_k100 | not found at {args.k100} | | |")


if __name__ == "__main__":
    main()
