"""Scenarios side by side, each an ensemble over the same sampled members.

``compare`` runs one ensemble per scenario with common random numbers (the same seed
draws the same unit-cube sample; constants a scenario sets are not sampled) and reads
each variable at each requested time as a probe, so the table's quantiles are exact at
those times. With ``n_runs == 1`` nothing is sampled: each scenario is its default run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from quidpro.ensemble import quantile_key, summary
from quidpro.ensemble.posterior import PosteriorTable
from quidpro.ensemble.query import parse_probe
from quidpro.ensemble.runner import (
    CompiledLike,
    Executor,
    Plan,
    Result,
    Rows,
    compiled_of,
    make_plan,
    run_plan,
)
from quidpro.ensemble.sampling import draw
from quidpro.model.calendar import to_dates
from quidpro.model.overrides import BASELINE
from quidpro.model.spec import Model

TABLE_QUANTILES = (0.05, 0.5, 0.95)


def default_times(model: Model, n: int = 4) -> list[str]:
    """``n`` evenly spaced times after the start, the last being the end of the run.

    As text: ISO dates where the model has a time origin, numbers otherwise.
    """
    t = model.time
    times = t.start + (t.stop - t.start) * np.arange(1, n + 1) / n
    times = t.start + np.floor((times - t.start) / t.dt + 1e-9) * t.dt
    if t.origin is None:
        return [f"{x:g}" for x in times]
    return [d.date().isoformat() for d in to_dates(times, t.origin, t.units, t.start)]


def compare(
    model: CompiledLike,
    scenarios: Sequence[str],
    n_runs: int,
    seed: int,
    *,
    variables: Sequence[str],
    at: Sequence[str],
    queries: Sequence[str] = (),
    sampler: str = "random",
    backend: str = "auto",
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    posterior: PosteriorTable | None = None,
) -> dict[str, tuple[Result, dict[str, Any]]]:
    """Run one ensemble per scenario with common random numbers, and tabulate them.

    Args:
        model: The compiled model (or a holder of one, such as ``LoadedModel``).
        scenarios: Scenario names; ``"baseline"`` is the model as written.
        n_runs: Members per scenario (1: each scenario's default run, nothing sampled).
        seed: The seed of the sample, shared by every scenario.
        variables: The variables to tabulate.
        at: The times to read them at (numbers, or ISO dates with a time origin).
        queries: ``"EXPR at TIME"`` comparisons whose probabilities are wanted.
        sampler: ``"random"``, ``"lhs"`` or ``"sobol"``.
        backend: ``"numpy"``, ``"jit"`` or ``"auto"``.
        executor: Where batches run (this process by default).
        progress: Called with the number of members just finished.
        posterior: Draw the calibrated constants from these posterior draws.

    Returns:
        Per scenario: the ensemble result and its table
        ``{variable: {time text: {"0.05": v, "0.5": v, "0.95": v}}}``.
    """
    compiled = compiled_of(model)
    spec = compiled.model
    points = [(v, t, parse_probe(spec, v, at=t)) for v in variables for t in at]
    qprobes = [parse_probe(spec, q, comparison=True) for q in queries]
    out: dict[str, tuple[Result, dict[str, Any]]] = {}
    for name in scenarios:
        scen = None if name == BASELINE else name
        plan = make_plan(
            compiled,
            n_runs,
            seed,
            scenario=scen,
            sets={},
            variables=variables,
            probes=(*qprobes, *(p for _, _, p in points)),
            backend=backend,
        )
        members: Rows | dict[str, np.ndarray] = (
            draw(spec, n_runs, seed, sampler, scenario=scen, posterior=posterior)
            if n_runs > 1
            else {}
        )
        res = run_plan(compiled, plan, members, executor, progress)
        values = res.probes[len(qprobes) :]
        ok = res.ok
        table: dict[str, Any] = {v: {} for v in variables}
        for i, (v, t, _) in enumerate(points):
            row = values[i][ok]
            qv = np.quantile(row, TABLE_QUANTILES) if row.size else [np.nan] * 3
            cells = zip(TABLE_QUANTILES, qv, strict=True)
            table[v][t] = {quantile_key(q): float(x) for q, x in cells}
        res.probes = res.probes[: len(qprobes)]
        res.hits = res.hits[: len(qprobes)]
        res.plan = _only_queries(res.plan, len(qprobes))
        out[name] = (res, table)
    return out


def _only_queries(plan: Plan, n: int) -> Plan:
    return replace(plan, probes=plan.probes[:n])


BAND_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def document(
    results: Mapping[str, tuple[Result, dict[str, Any]]],
    n_runs: int,
    seed: int,
    at: Sequence[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``quidpro compare --json`` document of :func:`compare`'s results, and bands.

    The bands are each scenario's quantiles over time (``{scenario: summary
    variables}``, for plots). The document is ``{"runs", "seed", "at", "scenarios":
    {name: {"table", "queries"}}}``.
    """
    doc: dict[str, Any] = {"runs": n_runs, "seed": seed, "at": list(at), "scenarios": {}}
    bands: dict[str, Any] = {}
    for name, (res, table) in results.items():
        s = summary(res, BAND_QUANTILES)
        bands[name] = s["variables"]
        doc["scenarios"][name] = {"table": table, "queries": s["queries"]}
    return doc, bands
