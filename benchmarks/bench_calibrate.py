"""Calibration speed on the flagship: likelihood throughput, a converged posterior,
and the cost of a posterior ensemble against a prior one.

Run: ``.venv/bin/python benchmarks/bench_calibrate.py [--skip-mcmc] [--samplers smc,emcee]
[--twelve] [--particles N]`` (prints Markdown for the "Issue 8" section of
docs/benchmarks.md). Every number is measured in this one process after a warm-up (the
numba kernel compiled or loaded from its cache):

1. model runs per second of the batched likelihood (one kernel call for a whole
   batch of parameter sets) at the batch sizes the methods use, NumPy and numba;
2. ``calibrate(method="mcmc")`` with each sampler of ``--samplers`` on the flagship's
   evidence before 2024-06-19, with the 35 constants of the shipped posterior (or,
   ``--twelve``, the twelve the old one-off script fitted): wall time, runs, kernel
   calls, diagnostics;
3. a 10,000-member ensemble drawn from that posterior (with ``--skip-mcmc``: from the
   shipped one) against one from the prior (same seed, same variables): the ratio of
   their wall times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

import numpy as np

import quidpro
from quidpro.analysis.calibrate import Problem, calibrate
from quidpro.analysis.likelihood import targets
from quidpro.ensemble import ensemble
from quidpro.ensemble.posterior import model_posterior
from quidpro.evidence.ledger import default_ledger

CUTOFF = dt.date(2024, 6, 19)
TWELVE = [
    "ru_reserve_initial",
    "rail_capacity_containers",
    "logistics_setup_months",
    "russian_fire_rate_full",
    "ru_restock_months",
    "shells_per_container",
    "launch_base_per_year",
    "launch_brinkmanship_weight",
    "covid_launch_dampening",
    "covid_closure_depth",
    "border_reopen_time",
    "border_reopen_months",
]


def throughput(problem: Problem, backend: str, sizes: list[int]) -> dict[int, float]:
    """Model runs per second of the batched likelihood at each batch size."""
    problem.backend = backend
    rng = np.random.default_rng(0)
    out = {}
    for n in sizes:
        z = rng.normal(size=(n, problem.k))
        problem.log_density_z(z)  # warm-up (compile / cache load)
        reps = max(1, 2048 // n)
        t = time.perf_counter()
        for _ in range(reps):
            problem.log_density_z(z)
        out[n] = reps * n / (time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skip-mcmc", action="store_true", help="no calibration: throughput, cost")
    ap.add_argument("--samplers", default="smc", help="comma-separated: smc, emcee")
    ap.add_argument("--twelve", action="store_true", help="the old script's twelve constants")
    ap.add_argument("--particles", type=int, default=4000, help="SMC particles")
    args = ap.parse_args()
    m = quidpro.load("nk_russia")
    shipped = model_posterior(m.spec)
    assert shipped is not None
    params = TWELVE if args.twelve else list(shipped.names)
    tg = targets(m.spec, default_ledger(m.spec.file, None).before(CUTOFF))
    problem = Problem(m, tg, params, backend="jit")
    steps = problem.compiled.model.time.n_steps
    print(f"## Calibration of the flagship ({len(tg)} observations, {len(params)} constants)\n")
    print(f"Runs stop at the last evidence date ({steps} steps instead of "
          f"{m.spec.time.n_steps}).\n")  # fmt: skip
    print("| batch | NumPy runs/s | numba runs/s |\n|---|---|---|")
    sizes = [32, 256, 2048]
    numpy_rate = throughput(problem, "numpy", sizes)
    jit_rate = throughput(problem, "jit", sizes)
    for n in sizes:
        print(f"| {n:,} | {numpy_rate[n]:,.0f} | {jit_rate[n]:,.0f} |")
    res = None
    for sampler in [] if args.skip_mcmc else args.samplers.split(","):
        fresh = Problem(m, tg, params, backend="jit")
        t = time.perf_counter()
        res = calibrate(
            fresh, "mcmc", draws=1000, seed=1, sampler=sampler, particles=args.particles
        )
        wall = time.perf_counter() - t
        d = res.diagnostics
        print(f"\n`calibrate --method mcmc --sampler {sampler}` ({d['backend']}): {wall:.0f} s, "
              f"{d['evaluations']:,} runs in {d['kernel_calls']:,} calls "
              f"({d['evaluations'] / wall:,.0f} runs/s overall), max R-hat "
              f"{max(d['rhat'].values()):.3f}, min ESS {min(d['ess'].values()):,.0f}, "
              f"acceptance {d['acceptance']:.2f}.")  # fmt: skip
    table = shipped if res is None else res.table()
    timings = {}
    for label, post in (("prior", None), ("posterior", table)):
        ensemble(m, 512, 0, variables=["containers_shipped"], posterior=post)  # warm-up
        t = time.perf_counter()
        ensemble(m, 10_000, 2, variables=["containers_shipped"], posterior=post)
        timings[label] = time.perf_counter() - t
    ratio = timings["posterior"] / timings["prior"]
    print(f"\n10,000-member ensemble: prior {timings['prior']:.2f} s, posterior "
          f"{timings['posterior']:.2f} s (ratio {ratio:.2f}).")  # fmt: skip
    if res is not None:
        print("\n```json\n" + json.dumps(res.summary()["diagnostics"], indent=1)[:2000] + "\n```")


if __name__ == "__main__":
    main()
