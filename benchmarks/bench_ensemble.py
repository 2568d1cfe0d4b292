"""Ensemble speed and memory: the flagship model at 1,000 / 100,000 / 1,000,000 runs.

Run: ``.venv/bin/python benchmarks/bench_ensemble.py [--sizes 1000,100000,1000000]``
(prints Markdown for docs/benchmarks-ensemble.md). Each size runs in its own
subprocess so that its peak resident memory (``resource.getrusage``) is its own; the
model is loaded and the kernel compiled by a 256-run warm-up before the clock starts.

Peers, on the small built-in ``logistic`` model (PySD cannot read the flagship's XMILE
export): PySD for a few runs, extrapolated (skipped when PySD is absent), quidpro on
the same model, and a hand-written Numba kernel of it — the practical limit.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import quidpro
from quidpro.ensemble import ensemble, summary
from quidpro.io.load import builtin_models

FLAGSHIP = "nk_russia" if "nk_russia" in builtin_models() else "logistic"
QUERIES = {
    "nk_russia": ["containers_shipped > 20000 at 2025-06-01"],
    "logistic": ["population > 900 at 2024-01-01"],
}
VARS = {"nk_russia": ["containers_shipped"], "logistic": ["population"]}


def one(model: str, n: int, backend: str) -> dict[str, float]:
    """Time one ensemble of ``n`` runs in this process (after a warm-up)."""
    t = time.perf_counter()
    m = quidpro.load(model)
    ensemble(m, 256, 0, variables=VARS[model], backend=backend)
    warm = time.perf_counter() - t
    t = time.perf_counter()
    res = ensemble(m, n, 1, variables=VARS[model], queries=QUERIES[model], backend=backend)
    doc = summary(res)
    secs = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB on Linux
    return {
        "runs": n,
        "seconds": secs,
        "runs_per_s": n / secs,
        "peak_mib": peak,
        "warmup_s": warm,
        "kept_times": len(res.times),
        "saved_times": len(res.plan.times),
        "batch": res.plan.batch_size,
        "backend": res.plan.backend,
        "p": doc["queries"][0]["probability"],
    }


def in_subprocess(model: str, n: int, backend: str) -> dict[str, float]:
    args = [sys.executable, __file__, "--one", model, str(n), backend]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def pysd_rate(runs: int = 20) -> float | None:
    """PySD runs per second on the logistic model (a Python loop of single runs)."""
    try:
        import warnings

        import pysd
    except ImportError:
        return None
    from quidpro.io.xmile_writer import model_to_xmile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "logistic.xmile"
        path.write_text(model_to_xmile(quidpro.load("logistic").spec))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm = pysd.read_xmile(str(path))
            rng = np.random.default_rng(0)
            t = time.perf_counter()
            for r in rng.uniform(0.05, 0.2, runs):
                pm.run(params={"growth_rate": float(r)}, return_columns=["population"])
            return runs / (time.perf_counter() - t)


def numba_rate(n: int = 1_000_000, batch: int = 8192) -> float | None:
    """A hand-written Numba kernel of the logistic model: full trajectories, per batch."""
    try:
        from numba import njit, prange
    except ImportError:
        return None

    @njit(parallel=True, cache=False)
    def kernel(r, k, p0, dt, n_steps, out):  # type: ignore[no-untyped-def]
        for i in prange(r.shape[0]):
            p = p0
            out[0, i] = p
            for s in range(n_steps):
                p = p + dt * (r[i] * p * (1.0 - p / k[i]))
                out[s + 1, i] = p

    rng = np.random.default_rng(0)
    r_all, k_all = rng.uniform(0.05, 0.2, n), rng.normal(1000, 100, n)
    out = np.empty((401, batch))
    kernel(r_all[:batch], k_all[:batch], 10.0, 0.25, 400, out)  # compile
    t = time.perf_counter()
    for lo in range(0, n, batch):
        b = min(batch, n - lo)
        kernel(r_all[lo : lo + b], k_all[lo : lo + b], 10.0, 0.25, 400, out[:, :b])
    return n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", nargs=3, metavar=("MODEL", "N", "BACKEND"))
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--backend", default="auto")
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one[0], int(a.one[1]), a.one[2])))
        return
    print(f"## {FLAGSHIP}: ensembles ({a.backend} backend)\n")
    print("| runs | seconds | runs/s | peak RSS (MiB) | batch | kept/saved times | backend |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for n in (int(x) for x in a.sizes.split(",")):
        r = in_subprocess(FLAGSHIP, n, a.backend)
        print(
            f"| {n:,} | {r['seconds']:.1f} | {r['runs_per_s']:,.0f} | {r['peak_mib']:,.0f} | "
            f"{r['batch']:,} | {r['kept_times']}/{r['saved_times']} | {r['backend']} |",
            flush=True,
        )
    print("\n## logistic (1 stock, 400 steps): peers\n")
    print("| what | runs/s |")
    print("|---|---:|")
    rate = pysd_rate()
    print(f"| PySD, 20 single runs, extrapolated | {rate:,.0f} |" if rate else "| PySD | absent |")
    for backend in ("numpy", "jit"):
        r = in_subprocess("logistic", 100_000, backend)
        print(f"| quidpro ensemble, {backend}, 100,000 runs | {r['runs_per_s']:,.0f} |", flush=True)
    nb = numba_rate()
    print(
        f"| hand-written Numba kernel, 1,000,000 runs | {nb:,.0f} |" if nb else "| Numba | absent |"
    )


if __name__ == "__main__":
    main()
