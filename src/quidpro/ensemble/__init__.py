"""Ensembles: sample the uncertain constants, run members in batches, summarise.

``ensemble(model, n_runs, seed)`` is the one-call entry point; :func:`summary` turns its
result into the JSON shape of ``quidpro ensemble --json``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from quidpro.ensemble.posterior import PosteriorTable
from quidpro.ensemble.query import Probe, counted, parse_probe, wilson
from quidpro.ensemble.runner import (
    MAX_BYTES,
    CompiledLike,
    Executor,
    HasCompiled,
    Plan,
    Result,
    compiled_of,
    make_plan,
    run_plan,
)
from quidpro.ensemble.sampling import SAMPLERS, draw, new_seed, sample

DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def ensemble(
    model: CompiledLike,
    n_runs: int,
    seed: int,
    *,
    sampler: str = "random",
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
    variables: Iterable[str] | None = None,
    queries: Sequence[str] = (),
    batch_size: int | None = None,
    backend: str = "auto",
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    max_bytes: int | None = None,
    posterior: PosteriorTable | None = None,
    per_member: bool = True,
) -> Result:
    """Sample, run and gather an ensemble of ``n_runs`` members of ``model``.

    ``queries`` are ``"EXPR at TIME"`` comparisons. Constants set by the scenario or
    ``sets`` are not sampled. With ``posterior`` its constants come from its rows
    (:mod:`quidpro.ensemble.posterior`), the others from their distributions. Same
    seed and sampler → same result whatever the batch size.

    Quantiles are exact while every member's values fit in ``max_bytes`` (256 MiB by
    default), else streamed through a sketch with a stated error bound
    (:mod:`quidpro.ensemble.sketch`); ``per_member=False`` keeps only counts, so memory
    does not grow with ``n_runs``.
    """
    spec = compiled_of(model).model
    probes = tuple(parse_probe(spec, q, comparison=True) for q in queries)
    plan = make_plan(
        model,
        n_runs,
        seed,
        scenario=scenario,
        sets=sets,
        variables=variables,
        probes=probes,
        backend=backend,
        batch_size=batch_size,
        max_bytes=MAX_BYTES if max_bytes is None else max_bytes,
        per_member=per_member,
    )
    members = draw(
        spec,
        n_runs,
        seed,
        sampler,
        scenario=scenario,
        fixed=(sets or {}).keys(),
        posterior=posterior,
    )
    return run_plan(model, plan, members, executor, progress)


def quantile_key(q: float) -> str:
    """A quantile as a JSON key: a decimal number such as ``"0.05"`` (never ``"5e-02"``)."""
    return str(np.format_float_positional(float(q), trim="0"))


def summary(result: Result, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> dict[str, Any]:
    """The ``quidpro ensemble --json`` document."""
    plan = result.plan
    qv = result.quantiles(quantiles)
    times = [float(t) for t in result.times]
    return {
        "runs": plan.n_runs,
        "seed": plan.seed,
        "variables": {
            name: {
                "time": times,
                "quantiles": {quantile_key(q): _numbers(s) for q, s in per.items()},
            }
            for name, per in qv.items()
        },
        "queries": counted(plan.probes, list(result.hits), result.n_ok),
    }


def _numbers(series: Iterable[float]) -> list[float | None]:
    """Floats for JSON; NaN (no finite member) becomes null, which JSON can hold."""
    return [float(x) if math.isfinite(x) else None for x in series]


__all__ = [
    "DEFAULT_QUANTILES",
    "SAMPLERS",
    "CompiledLike",
    "HasCompiled",
    "Plan",
    "Probe",
    "Result",
    "compiled_of",
    "draw",
    "ensemble",
    "make_plan",
    "new_seed",
    "parse_probe",
    "quantile_key",
    "run_plan",
    "sample",
    "summary",
    "wilson",
]
