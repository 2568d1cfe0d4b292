"""Core speed: one run and 10,000 runs of a generated ~50-variable model, 1,000 steps.

Run: ``.venv/bin/python benchmarks/bench_core.py`` (prints a Markdown table for
docs/benchmarks.md). Each figure is the best of several repeats, after a warm-up.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from generated_model import model_yaml

import quidpro

# The table's largest rows keep every variable at every step of 10,000 members (4 GB),
# which is above the run-size limit a user gets by default (limits.MAX_VALUES).
os.environ.setdefault("QUIDPRO_MAX_VALUES", str(10**9))


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.yaml"
        path.write_text(model_yaml(1, 1000))
        t = time.perf_counter()
        m = quidpro.load(path)
        m.simulate(backend="numpy")
        load_numpy = time.perf_counter() - t
    spec = m.spec
    n_vars = len(spec.stocks) + len(spec.flows) + len(spec.auxiliaries)
    n_stocks = len(spec.stocks)
    steps = spec.time.n_steps
    names = [c for c, v in spec.constants.items() if v.distribution is not None]
    rows = []

    def sample(n: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(1)
        out = {}
        for name in names:
            d = spec.constants[name].distribution
            assert d is not None
            out[name] = rng.uniform(d.params["low"], d.params["high"], n)
        return out

    t = time.perf_counter()
    m.simulate(backend="jit")
    jit_compile = time.perf_counter() - t
    for backend in ("numpy", "jit"):
        one = best(lambda b=backend: m.simulate(backend=b))
        rows.append(
            (
                f"one run ({backend})",
                f"{one * 1e3:.2f} ms",
                f"{1 / one:,.0f} runs/s",
                f"{n_stocks * steps / one:,.3g}",
                "-",
            )
        )
    m.simulate(n_runs=2, set=sample(2), backend="jit")  # compile the parallel driver
    cases = [
        (10_000, None, "all 50 variables, every step"),
        (10_000, ("k0_total",), "1 variable, every step"),
        (100_000, ("k0_total",), "1 variable, every 10th step"),
    ]
    for n, record, what in cases:
        s = sample(n)
        every = 2.5 if n > 10_000 else None
        for backend in ("numpy", "jit"):
            if backend == "numpy" and n > 10_000:
                continue

            def go(b: str = backend, n: int = n, s: dict = s, r=record, e=every) -> None:
                m.simulate(n_runs=n, set=s, backend=b, record=r, save_every=e)

            tracemalloc.start()
            el = best(go, repeat=2)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            rows.append(
                (
                    f"{n:,} runs at once, {what} ({backend})",
                    f"{el:.2f} s",
                    f"{n / el:,.0f} runs/s",
                    f"{n * n_stocks * steps / el:,.3g}",
                    f"{peak:,.0f} MiB",
                )
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"model: {n_vars} variables ({n_stocks} stocks), {steps} Euler steps, "
        f"{len(names)} uncertain constants"
    )
    print(
        f"load + check + compile (NumPy, incl. first run): {load_numpy * 1e3:.0f} ms; "
        f"numba compile (first use, cache cold or warm): {jit_compile:.2f} s"
    )
    print()
    print("| what | time | throughput | stock-steps/s | peak memory (traced) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(f"\npeak resident memory of the process: {peak:,.0f} MiB")


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args()
    main()
