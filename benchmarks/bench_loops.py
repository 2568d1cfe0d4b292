"""Loop analysis cost as a multiple of a plain run, and loop discovery on a large model.

Run: ``.venv/bin/python benchmarks/bench_loops.py [--runs 10000] [--backend numpy]
[--k100 PATH] [--skip-single]`` (prints Markdown for docs/benchmarks.md, section
"Issue 9"). Every number is a ratio measured in this process after a warm-up (the
best of ``--repeat`` timings):

1. the flagship, one run, on NumPy's backend and (with numba) on numba's: the
   augmented kernel (plain equations + the partial changes, every step recorded)
   against the plain kernel; the whole ``analyse_loops`` against ``model.run()``, warm
   (the model's loops and augmented kernel cached, as for every call after the first)
   and cold (cache cleared: expansion, enumeration of ~3,000 loops, augmented compile
   and code generation included; numba's kernels then come from its disk cache);
2. the flagship over ``--runs`` members drawn from its shipped posterior (as
   ``quidpro loops --runs N`` does): ``analyse_loops(runs=N)`` against plain runs of
   the same members as ``quidpro.ensemble`` runs them (its members per kernel call,
   saved times and recorded variables, from its plan, and its reused output memory),
   both on ``--backend``. The
   plain runs of each loop batch's members run in ``analyse_loops``'s progress
   callback, right after that batch, so that both see the same machine load; wall
   and CPU time of each are summed separately. The whole ``quidpro.ensemble()`` of
   the same members (kernel and quantiles) is timed after, as a second reference;
3. loop discovery on ``partnership_k100`` (1,000 stocks, 8,900 links; path from
   ``--k100``): more elementary loops than the budget, so every link is scored in a
   probe run and the strongest-path search runs on those scores; the split is given.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path

import quidpro
from quidpro.analysis import loops as loops_mod
from quidpro.analysis.loops import _Setup, analyse_loops, members
from quidpro.ensemble import MAX_BYTES
from quidpro.ensemble import ensemble as plain_ensemble
from quidpro.ensemble.posterior import model_posterior
from quidpro.ensemble.runner import make_plan
from quidpro.solve.simulate import OutputArena, simulate

HERE = Path(__file__).resolve().parent


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def single(repeat: int, backend: str) -> list[str]:
    """One flagship run's loop analysis against a plain one, on ``backend``."""
    m = quidpro.load("nk_russia")
    setup = _Setup(m.spec, 20000, {})
    setup.run({}, 1, backend, 0)  # warm-up: both kernels generated (compiled)
    simulate(m.compiled, {}, 1, backend=backend)
    analyse_loops(m, backend=backend)
    plain = best(lambda: simulate(m.compiled, {}, 1, backend=backend), repeat)
    # The augmented kernel's run alone (its partial changes, every step recorded).
    loops = best(lambda: setup.series({}, 1, backend, 0), repeat)
    run = best(lambda: m.run(backend=backend), repeat)
    warm = best(lambda: analyse_loops(m, backend=backend), repeat)

    def cold() -> None:
        loops_mod._CACHE.clear()
        analyse_loops(m, backend=backend)

    first = best(cold, repeat)
    ms = 1e3
    return [
        f"| flagship, one run: kernel, augmented vs plain ({backend}) | {plain * ms:.2f} ms "
        f"| {loops * ms:.2f} ms | {loops / plain:.2f}× |",
        f"| flagship, one run: `analyse_loops` (warm) vs `model.run()` ({backend}) "
        f"| {run * ms:.2f} ms | {warm * ms:.2f} ms | {warm / run:.2f}× |",
        f"| flagship, one run: `analyse_loops` (cold) vs `model.run()` ({backend}) "
        f"| {run * ms:.2f} ms | {first * ms:.1f} ms | {first / run:.2f}× |",
    ]


def ensemble(n: int, backend: str) -> list[str]:
    m = quidpro.load("nk_russia")
    table = model_posterior(m.spec)
    rows = members(m.spec, n, 1, posterior=table).rows(0, n)
    # The kernel calls quidpro.ensemble makes for these members: its members per call,
    # saved times and recorded variables (a user's plain ensemble of n members).
    plan = make_plan(m.compiled, n, 1, backend=backend, max_bytes=MAX_BYTES)
    save_every = float(plan.times[1] - plan.times[0])

    arena = OutputArena()  # as quidpro.ensemble's batches reuse their output memory

    def plain_call(lo: int, hi: int) -> None:
        simulate(
            m.compiled,
            {k: v[lo:hi] for k, v in rows.items()},
            hi - lo,
            record=plan.record,
            save_every=save_every,
            backend=plan.backend,
            member_offset=lo,
            arena=arena,
        )

    analyse_loops(m, runs=2, seed=1, backend=backend, posterior=table)  # warm-up
    plain_call(0, 2)
    plain = [0.0, 0.0]  # wall, CPU seconds
    done = [0]

    def plain_runs(hi: int) -> None:  # the members of the loop batch just finished
        wall, cpu = time.perf_counter(), time.process_time()
        for lo in range(done[0], hi, plan.call_size):
            plain_call(lo, min(hi, lo + plan.call_size))
        plain[0] += time.perf_counter() - wall
        plain[1] += time.process_time() - cpu
        done[0] = hi

    wall, cpu = time.perf_counter(), time.process_time()
    analyse_loops(m, runs=n, seed=1, backend=backend, posterior=table, progress=plain_runs)
    loops = time.perf_counter() - wall - plain[0], time.process_time() - cpu - plain[1]
    wall, cpu = time.perf_counter(), time.process_time()
    plain_ensemble(m, n, 1, posterior=table, backend=backend)
    whole = time.perf_counter() - wall, time.process_time() - cpu
    what = f"flagship, {n:,} posterior members ({plan.backend})"
    return [
        f"| {what}, wall | {plain[0]:.1f} s | {loops[0]:.1f} s | {loops[0] / plain[0]:.2f}× |",
        f"| {what}, CPU | {plain[1]:.1f} s | {loops[1]:.1f} s | {loops[1] / plain[1]:.2f}× |",
        f"| {what}, CPU, against the whole `quidpro.ensemble()` (kernel + quantiles) "
        f"| {whole[1]:.1f} s | {loops[1]:.1f} s | {loops[1] / whole[1]:.2f}× |",
        f"| ... plain: {plan.call_size} members per kernel call, {len(plan.times)} saved "
        f"times, {len(plan.record)} variables (as `quidpro.ensemble`) | | | |",
    ]


def k100(path: Path) -> list[str]:
    t = time.perf_counter()
    m = quidpro.load(path)
    load = time.perf_counter() - t
    loops_mod._CACHE.clear()
    t = time.perf_counter()
    setup = _Setup(m.spec, 20000, {})
    found = time.perf_counter() - t
    s, split = setup.searched, setup.timings
    # The probe run's first kernel call generates the code; a second call does not.
    rerun = best(lambda: setup.run({}, 1, "numpy", 0), 1)
    codegen = split["probe_run"] - rerun
    rest = found - sum(split.values())
    return [
        f"| partnership_k100: load + compile | {load:.1f} s | | |",
        f"| partnership_k100: loop discovery ({s['method']}; {s['loops']:,} loops kept, "
        f"{len(setup.links):,} links scored) | | {found:.1f} s | |",
        f"| ... expansion and link graph {split['expansion']:.1f} s; enumeration up to the "
        f"budget {split['enumeration']:.1f} s; augmented model lowered "
        f"{split['compile']:.1f} s; probe run {split['probe_run']:.1f} s (of which code "
        f"generation {codegen:.1f} s, the run {rerun:.1f} s); strongest-path search "
        f"{split['search']:.1f} s; loop bookkeeping {split['bookkeeping']:.1f} s; other "
        f"{rest:.1f} s | | | |",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="ensemble members (10000 in docs)")
    ap.add_argument("--backend", default="numpy", help="kernel backend of the ensemble rows")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--k100", type=Path, default=HERE / "partnership" / "partnership_k100.xmile")
    ap.add_argument("--skip-single", action="store_true")
    ap.add_argument("--skip-k100", action="store_true")
    args = ap.parse_args()
    print("| what | plain | loop analysis | ratio |")
    print("|---|---|---|---|")
    if not args.skip_single:
        with_numba = importlib.util.find_spec("numba") is not None
        for backend in ("numpy", "jit") if with_numba else ("numpy",):
            for line in single(args.repeat, backend):
                print(line, flush=True)
    if args.runs:
        for line in ensemble(args.runs, args.backend):
            print(line, flush=True)
    if args.skip_k100:
        return
    if args.k100.exists():
        for line in k100(args.k100):
            print(line, flush=True)
    else:
        print(f"| partnership_k100 | not found at {args.k100} | | |")


if __name__ == "__main__":
    main()
