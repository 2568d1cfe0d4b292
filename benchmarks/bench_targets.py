"""DESIGN.md's speed targets, measured: quidpro and PySD on the same XMILE models, same run.

Models: ``../shared/benchmarks/partnership_k{1,10,100}.xmile`` (10 stocks, 17 flows,
35 auxiliaries per copy; Euler, 960 steps). Eight constants per copy are varied
per ensemble member (±20 %, uniform). Results of both tools are compared first,
so the timings are of the same computation.

Run: ``.venv/bin/python benchmarks/bench_targets.py [k ...]`` (default: 1 10); PySD
must be importable (``pip install -e '.[peer]'``). Prints Markdown.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import quidpro

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


def best(fn, repeat: int = 3) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def varied(m: quidpro.LoadedModel, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = [c for c in m.spec.constants if not c.startswith("perception")]
    per_copy: dict[str, list[str]] = {}
    for c in names:
        per_copy.setdefault(c.rsplit("_c", 1)[-1], []).append(c)
    chosen = [c for group in per_copy.values() for c in group[:8]]
    return {c: m.spec.constants[c].value * rng.uniform(0.8, 1.2, n) for c in chosen}


def main(ks: list[int]) -> None:
    import pysd

    warnings.simplefilter("ignore")
    rows = [measure(k, pysd) for k in ks]
    table(rows, pysd.__version__)


def measure(k: int, pysd: Any) -> dict[str, Any]:
    """Load, one run and an ensemble of partnership_k{k} in both tools."""
    path = SHARED / f"partnership_k{k}.xmile"
    t = time.perf_counter()
    m = quidpro.load(path)
    m.compiled.kernel("euler", tuple(m.compiled.system.visible), "numpy")
    q_load = time.perf_counter() - t
    t = time.perf_counter()
    pm = pysd.read_xmile(str(path))
    p_load = time.perf_counter() - t
    q_one_np = best(lambda: m.simulate(backend="numpy"))
    p_one = best(lambda: pm.run(), repeat=2 if k < 100 else 1)
    # Same numbers first: every common column within 1e-6 relative.
    ref = pm.run()
    ours = m.run(backend="numpy")
    cols = [c for c in ours.columns if c in ref.columns]
    worst = max(
        float(
            np.max(
                np.abs(ours[c].to_numpy() - ref[c].to_numpy())
                / np.maximum(np.abs(ref[c].to_numpy()), 1e-12)
            )
        )
        for c in cols
    )
    row = {
        "k": k,
        "q_load": q_load,
        "p_load": p_load,
        "q_one_np": q_one_np,
        "p_one": p_one,
        "agree": worst,
        "cols": len(cols),
    }
    if k <= 10:
        t = time.perf_counter()
        m.simulate(backend="jit")
        row["jit_compile"] = time.perf_counter() - t
        row["q_one_jit"] = best(lambda: m.simulate(backend="jit"), repeat=10)
        n = 100_000 if k == 1 else 10_000
        sets = varied(m, n)
        record = (m.compiled.system.visible[0],)
        m.simulate(n_runs=2, set=varied(m, 2), backend="jit", record=record)
        el = best(lambda: m.simulate(n_runs=n, set=sets, backend="jit", record=record), 2)
        row["jit_rps"] = n / el
        n_np = 10_000
        sets_np = varied(m, n_np)
        el = best(lambda: m.simulate(n_runs=n_np, set=sets_np, backend="numpy", record=record), 2)
        row["np_rps"] = n_np / el
    return row


def table(rows: list[dict[str, Any]], pysd_version: str) -> None:
    print("| model | tool | load + compile | one run | ensemble runs/s | agreement with PySD |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        name = f"partnership_k{r['k']}"
        print(
            f"| {name} | PySD {pysd_version} | {r['p_load']:.2f} s | "
            f"{r['p_one'] * 1e3:.0f} ms | {1 / r['p_one']:.1f} (a Python loop) | - |"
        )
        print(
            f"| {name} | quidpro NumPy | {r['q_load']:.2f} s | {r['q_one_np'] * 1e3:.1f} ms | "
            f"{r.get('np_rps', float('nan')):,.0f} | max rel. diff {r['agree']:.1e} "
            f"over {r['cols']} columns |"
        )
        if "q_one_jit" in r:
            print(
                f"| {name} | quidpro JIT | +{r['jit_compile']:.2f} s (numba; cached after) | "
                f"{r['q_one_jit'] * 1e3:.2f} ms | {r['jit_rps']:,.0f} (2 cores) | same |"
            )


def parse_ks(default: list[int]) -> list[int]:
    """The copies k to measure, from the command line."""
    import argparse

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("k", nargs="*", type=int, help=f"copies of the model (default: {default})")
    return ap.parse_args().k or default


if __name__ == "__main__":
    main(parse_ks([1, 10]))
