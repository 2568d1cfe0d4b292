"""Ensemble speed and memory: the flagship model at 1,000 / 100,000 / 1,000,000 runs.

Run: ``.venv/bin/python benchmarks/bench_ensemble.py [--sizes 1000,100000,1000000]``
(prints Markdown for docs/benchmarks-ensemble.md). Each size runs in its own
subprocess so that its peak resident memory (``resource.getrusage``) is its own; the
model is loaded and the kernel compiled by a 256-run warm-up before the clock starts.

Peers, on the small built-in ``logistic`` model (PySD cannot read the flagship's XMILE
export): PySD for a few runs, extrapolated (skipped when PySD is absent), quidpro on
the same model, and a hand-written Numba kernel of it — the practical limit.

``--command 20000,1000000`` (issue 12): the default ``quidpro ensemble nk_russia --runs
N --json FILE`` (every variable summarised) against the bare numba kernel for the same
members. In one process, after a warm-up: the library calls the command makes
(sampling, batches, streamed quantiles, the JSON document and its error bound), then
the kernel alone (``simulate(record=every variable, backend="jit")``, the members'
constants drawn outside the clock) at the model's every saved step and at the saved
times the command summarises; both as CPU time of the process, which a loaded machine
inflates less than wall time. Peak memory: the real command in a subprocess
(``getrusage`` of the child). The kernel is timed on up to ``--kernel-runs`` members
and scaled (its cost per member does not depend on N).
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
from typing import Any

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
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)  # the command's default
MAX_MEMORY = 256 * 2**20  # the command's default --max-memory


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


def command_path(m: quidpro.LoadedModel, n: int, seed: int) -> tuple[float, float, Any]:
    """CPU and wall seconds of what ``quidpro ensemble MODEL --runs n --json`` computes."""
    from quidpro.cli.ensemble import quantile_error

    cpu, wall = time.process_time(), time.perf_counter()
    res = ensemble(m, n, seed, backend="jit", max_bytes=MAX_MEMORY, per_member=False)
    doc = summary(res, QUANTILES)
    doc["quantile_error"] = quantile_error(res, list(QUANTILES))
    json.dumps(doc)
    return time.process_time() - cpu, time.perf_counter() - wall, res


def kernel_path(m: quidpro.LoadedModel, n: int, seed: int, save_every: float | None) -> float:
    """CPU seconds per member of the bare kernel, every variable recorded, in calls of 64.

    The calls reuse their output memory (an :class:`OutputArena`, as the command's
    batches do), so that neither side pays for fresh pages.
    """
    from quidpro.ensemble import draw
    from quidpro.solve.simulate import OutputArena, simulate

    c = m.compiled
    members = draw(c.model, n, seed)
    arena = OutputArena()
    spent = 0.0
    for lo in range(0, n, 4096):
        rows = members.rows(lo, min(lo + 4096, n))
        for a in range(0, len(next(iter(rows.values()))), 64):
            part = {k: v[a : a + 64] for k, v in rows.items()}
            k = len(next(iter(part.values())))
            t = time.process_time()
            simulate(
                c, part, k, record=c.visible, backend="jit", save_every=save_every, arena=arena
            )
            spent += time.process_time() - t
    return spent / n


def cli_peak(n: int) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of the real command in a subprocess."""
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out.json"
        args = [sys.executable, "-m", "quidpro.cli.main", "ensemble", FLAGSHIP, "--runs", str(n)]
        args += ["--seed", "1", "--json", str(out), "--no-store", "--quiet", "--backend", "jit"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return wall, cpu, after.ru_maxrss / 1024


def command_vs_kernel(sizes: list[int], kernel_runs: int) -> None:
    """The issue-12 table: the default command against the kernel, CPU-time ratios."""
    from quidpro.cli.ensemble import quantile_error

    m = quidpro.load(FLAGSHIP)
    ensemble(m, 512, 0, backend="jit", max_bytes=2**20, per_member=False)  # warm both paths
    ensemble(m, 64, 0, backend="jit", per_member=False)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"## {FLAGSHIP}: default ensemble, command vs kernel (load average {load})\n")
    print(
        "| runs | command CPU s | kernel CPU s, every step | ratio | kernel CPU s, "
        "same times | ratio | summarised times | rank bound | command wall s | CLI peak RSS MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        cpu, wall, res = command_path(m, n, 1)
        k = min(n, kernel_runs)
        every = kernel_path(m, k, 1, None) * n
        coarser = len(res.times) < m.spec.time.n_steps + 1
        step = float(res.times[1] - res.times[0]) if coarser else None
        same = kernel_path(m, k, 1, step) * n if coarser else every
        bound = quantile_error(res, list(QUANTILES))
        _, _, peak = cli_peak(n)
        print(
            f"| {n:,} | {cpu:.1f} | {every:.1f} | {cpu / every:.2f} | {same:.1f} | "
            f"{cpu / same:.2f} | {len(res.times)} of {m.spec.time.n_steps + 1} | "
            f"{bound['rank']:.3f} | {wall:.1f} | {peak:,.0f} |",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", nargs=3, metavar=("MODEL", "N", "BACKEND"))
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--command", help="sizes for the command-vs-kernel table (issue 12)")
    ap.add_argument("--kernel-runs", type=int, default=20000)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one[0], int(a.one[1]), a.one[2])))
        return
    if a.command:
        command_vs_kernel([int(x) for x in a.command.split(",")], a.kernel_runs)
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
