"""Issue 12's figures, each a ratio measured in one process:

- ``single``: the flagship's ``model.run()`` against the bare kernel it calls;
- ``handwritten``: quidpro's ensemble kernels on ``partnership_k1`` against the
  hand-written numba ``prange`` kernel of the same equations, generated here from
  ``benchmarks/partnership/gen.py`` (same members, same saved stocks; results first);
- ``compile``: load + compile + 1,000 runs of ``partnership_k{1,10,100}`` on the
  interpreter (no per-model compile), and how it grows with k, in wall and CPU time;
- ``jit-compile``: numba's compile of the generated kernel of ``partnership_k1``;
- ``startup``: ``quidpro --help`` and ``quidpro run nk_russia`` in fresh processes.

Run: ``.venv/bin/python benchmarks/bench_kernel.py [single handwritten compile jit-compile
startup]``
(default: all). The interpreter compiles once per installation (its first use takes
about a minute); numba kernels are cached on disk after their first compile.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import quidpro

HERE = Path(__file__).resolve().parent
PARTNERSHIP = HERE / "partnership"
sys.path.insert(0, str(PARTNERSHIP))


def best(fn: Callable[[], Any], repeat: int = 5) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def bare(m: quidpro.LoadedModel, backend: str, record: tuple[str, ...], n: int, stride: int):
    """The kernel call alone: what simulate() does after validation and set-up."""
    c = m.compiled
    tm = m.spec.time
    kernel = c.kernel(tm.method, record, backend)
    consts = c.constant_values({}, n)
    n_save = tm.n_steps // stride + 1
    if hasattr(kernel, "allocate"):
        out = kernel.allocate(n_save, len(record), n)
    else:
        out = np.empty((n_save, len(record), n))
    return lambda: kernel.run(consts, tm.start, tm.dt, tm.n_steps, stride, out)


def single() -> None:
    m = quidpro.load("nk_russia")
    rec = m.compiled.visible
    stride = m.spec.time.save_stride
    for _ in range(3):
        m.run()  # the auto backend settles (numba's disk cache, or time spent)
    chosen = m.compiled.choose_backend("auto", 1)  # what the timed auto runs below use
    print(f"## single run of nk_russia (auto: {chosen!r} before the timings)\n")
    print("| what | time | × bare jit kernel |")
    print("|---|---|---|")
    jit_kernel = best(bare(m, "jit", rec, 1, stride), 20)
    rows = {
        "model.run() (auto)": best(lambda: m.run(), 20),
        "model.run(backend='jit')": best(lambda: m.run(backend="jit"), 20),
        "model.run(backend='vm')": best(lambda: m.run(backend="vm"), 20),
        "model.simulate(backend='jit')": best(lambda: m.simulate(backend="jit"), 20),
        "bare jit kernel": jit_kernel,
        "bare vm kernel": best(bare(m, "vm", rec, 1, stride), 20),
        "model.run(backend='numpy')": best(lambda: m.run(backend="numpy"), 3),
    }
    for what, t in rows.items():
        print(f"| {what} | {t * 1e3:.2f} ms | {t / jit_kernel:.1f} |")
    print()


def handwritten(n: int = 20_000) -> None:
    import gen

    ns: dict[str, Any] = {}
    exec(compile(gen.numba_src(1, parallel=True), "<hand-written k1>", "exec"), ns)  # ours
    P = gen.sample_params(1, n)
    names = gen.param_names(1)
    m = quidpro.load(PARTNERSHIP / "partnership_k1.xmile")
    tm = m.spec.time
    save_every = 48 * tm.dt
    sets = {name: P[i] for i, name in enumerate(names)}
    states = gen.state_names(1)
    rec = tuple(s for s in states if s in m.compiled.visible)

    def ours(backend: str) -> np.ndarray:
        traj = m.simulate(set=sets, n_runs=n, record=rec, save_every=save_every, backend=backend)
        return traj.values

    hand = ns["simulate"](P[:, :100])  # compile, and the same numbers first
    for backend in ("jit", "vm"):
        got = m.simulate(
            set={k: v[:100] for k, v in sets.items()},
            n_runs=100,
            record=rec,
            save_every=save_every,
            backend=backend,
        ).values
        cols = [states.index(r) for r in rec]
        rel = np.abs(got - hand[:, cols]) / np.maximum(np.abs(hand[:, cols]), 1e-12)
        print(f"{backend}: max relative difference to the hand-written kernel {rel.max():.1e}")
    t_hand = best(lambda: ns["simulate"](P), 3)
    t_jit = best(lambda: ours("jit"), 3)
    t_vm = best(lambda: ours("vm"), 3)
    n_eq = len(m.compiled.system.equations) + len(m.compiled.system.states)
    cost = n * tm.n_steps * n_eq / (os.cpu_count() or 1)
    print(f"\n## partnership_k1, {n:,} members, {len(rec)} stocks every 48 steps\n")
    print("| kernel | time | runs/s | × hand-written | ns per equation-step (per core) |")
    print("|---|---|---|---|---|")
    for what, t in (("hand-written numba prange", t_hand), ("quidpro jit", t_jit)):
        print(f"| {what} | {t:.2f} s | {n / t:,.0f} | {t_hand / t:.2f} | {t / cost * 1e9:.2f} |")
    print(
        f"| quidpro vm | {t_vm:.2f} s | {n / t_vm:,.0f} | {t_hand / t_vm:.2f} | "
        f"{t_vm / cost * 1e9:.2f} |"
    )
    print(f"\n({n_eq} quidpro equations and states; the hand-written kernel has the same)\n")


class Clock:
    """Wall and CPU time (all threads of this process) of a phase."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def compile_times(ks: tuple[int, ...] = (1, 10, 100), n: int = 1000) -> None:
    """Load + assemble + ``n`` runs on the interpreter, wall and CPU time.

    The machine is shared: the CPU time of this process (both cores' worth at most)
    is what a quiet machine would take in wall time, times about one half.
    """
    print(f"## load + compile + {n:,} runs on the interpreter (load average {_load()})\n")
    print("| k | equations | load | assemble | 1,000 runs | total (wall) | total (CPU) | × k=10 |")
    print("|---|---|---|---|---|---|---|---|")
    totals: dict[int, float] = {}
    for k in ks:
        with Clock() as load:
            m = quidpro.load(PARTNERSHIP / f"partnership_k{k}.xmile")
        rec = tuple(m.compiled.visible[:10])
        with Clock() as assemble:
            m.compiled.kernel(m.spec.time.method, rec, "vm")
        with Clock() as run:
            traj = m.simulate(n_runs=n, record=rec, save_every=12.0, backend="vm")
        assert not traj.failures
        totals[k] = load.wall + assemble.wall + run.wall
        cpu = load.cpu + assemble.cpu + run.cpu
        n_eq = len(m.compiled.system.equations) + len(m.compiled.system.states)
        grow = f"{totals[k] / totals[10]:.1f}" if 10 in totals else "–"
        print(
            f"| {k} | {n_eq:,} | {load.wall:.2f} s | {assemble.wall:.2f} s | {run.wall:.2f} s | "
            f"{totals[k]:.1f} s | {cpu:.1f} s | {grow} |"
        )
    print(f"\n(load average at the end {_load()})\n")


def jit_compile(ks: tuple[int, ...] = (1,)) -> None:
    """numba's compile of the generated kernel of ``partnership_k{k}`` (a fresh cache)."""
    import tempfile

    print(f"## numba's compile of the generated kernel (load average {_load()})\n")
    print("| k | equations | compile (wall) | compile (CPU) |")
    print("|---|---|---|---|")
    for k in ks:
        with tempfile.TemporaryDirectory() as cache:
            os.environ["QUIDPRO_CACHE"] = cache
            m = quidpro.load(PARTNERSHIP / f"partnership_k{k}.xmile")
            rec = tuple(m.compiled.visible[:10])
            with Clock() as clock:
                m.simulate(n_runs=2 * 8 + 1, record=rec, save_every=12.0, backend="jit")
            n_eq = len(m.compiled.system.equations) + len(m.compiled.system.states)
            print(f"| {k} | {n_eq:,} | {clock.wall:.1f} s | {clock.cpu:.1f} s |")
    os.environ.pop("QUIDPRO_CACHE")
    print()


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def startup() -> None:
    exe = Path(sys.executable).with_name("quidpro")
    print("## start-up (fresh processes, best of 3)\n")
    print("| command | time |")
    print("|---|---|")
    for args in (["--help"], ["run", "nk_russia"]):
        t = best(lambda a=args: subprocess.run([str(exe), *a], capture_output=True), 3)
        print(f"| quidpro {' '.join(args)} | {t:.2f} s |")
    t = best(lambda: subprocess.run([sys.executable, "-c", "import quidpro"]), 3)
    print(f"| python -c 'import quidpro' | {t:.2f} s |")
    t = best(lambda: subprocess.run([sys.executable, "-c", "pass"]), 3)
    print(f"| python -c 'pass' | {t:.2f} s |\n")


PARTS: dict[str, Callable[[], None]] = {
    "single": single,
    "handwritten": handwritten,
    "compile": compile_times,
    "jit-compile": jit_compile,
    "startup": startup,
}


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "parts",
        nargs="*",
        metavar="PART",
        help=f"what to measure, any of: {', '.join(PARTS)} (default: all but jit-compile)",
    )
    parts = ap.parse_args().parts or ["single", "handwritten", "compile", "startup"]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        ap.error(f"unknown part {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    for part in parts:
        PARTS[part]()


if __name__ == "__main__":
    main()
