"""Global sensitivity of one output at one time to the uncertain constants (SALib).

The factors are the constants with a ``distribution`` or a ``range``. Each factor
varies uniformly between bounds: its ``range`` when given, otherwise its
distribution's 1% and 99% quantiles (so an unbounded normal or lognormal gets finite
bounds covering 98% of its mass); a zero-width range leaves the constant out.
Sobol' uses Saltelli's design without second-order terms — ``N·(k+2)`` runs for
base sample size ``N`` and ``k`` factors — and reports
S1 and ST with 95% bootstrap confidence half-widths; Morris uses ``N`` trajectories
of ``k+1`` runs on a 4-level grid and reports mu* (with its confidence) and sigma.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from quidpro.ensemble.posterior import PosteriorTable
from quidpro.ensemble.query import parse_probe
from quidpro.ensemble.runner import CompiledLike, Executor, compiled_of, make_plan, run_plan
from quidpro.ensemble.sampling import bounds, varied
from quidpro.errors import ConfigError, Loc, ModelError
from quidpro.model.limits import MAX_VALUES, limit
from quidpro.model.overrides import set_by_scenario
from quidpro.model.spec import Model

METHODS = ("sobol", "morris")


def problem(
    model: Model, fixed: set[str] | None = None, posterior: PosteriorTable | None = None
) -> dict[str, Any]:
    """SALib's problem dict over the varied constants not in ``fixed``.

    Args:
        model: The checked model.
        fixed: Constants held at a value (by a scenario or explicit settings).
        posterior: A calibration's draws: a calibrated constant then varies between
            its posterior's 1% and 99% quantiles (each on its own: SALib's indices
            assume independent inputs).

    Returns:
        ``{"num_vars": k, "names": [...], "bounds": [(lo, hi), ...]}``.

    Raises:
        ModelError: A range runs backwards, or the model has no constant to vary.
        ConfigError: Every constant that varies is in ``fixed``.
    """
    candidates = varied(model)
    if not candidates:
        raise ModelError(
            f"model {model.name!r} has no constant with a distribution or range to vary",
            Loc(model.file, 1, 1),
        )
    names, limits = [], []
    for n in candidates:
        if n in (fixed or set()):
            continue
        if posterior is not None and n in posterior.names:
            lo, hi = (float(v) for v in np.quantile(posterior.column(n), [0.01, 0.99]))
        else:
            lo, hi = bounds(model, n)
        if lo > hi:
            loc = model.constants[n].loc
            raise ModelError(f"the range of {n!r} runs backwards, [{lo:g}, {hi:g}]", loc)
        if lo < hi:  # a zero-width range (a fixed constant) does not vary
            names.append(n)
            limits.append((lo, hi))
    if not names:
        raise ConfigError(
            f"model {model.name!r} has no constant with a distribution or range to vary "
            "that the scenario or the settings leave free"
        )
    return {"num_vars": len(names), "names": names, "bounds": limits}


def design_runs(prob: Mapping[str, Any], method: str, samples: int) -> int:
    """The rows of :func:`design` (SALib's counts), checked against the run-size limit.

    Sobol' (first and total order) makes ``N (k + 2)`` runs, Morris ``N (k + 1)``.

    Raises:
        ConfigError: ``samples`` is below 2, or the design would hold more values
            than ``QUIDPRO_MAX_VALUES``.
    """
    if samples < 2:
        raise ConfigError(f"samples must be at least 2, got {samples}")
    if method not in ("sobol", "morris"):
        raise ConfigError(f"unknown method {method!r}; use sobol or morris")
    k = int(prob["num_vars"])
    runs = samples * (k + 2 if method == "sobol" else k + 1)
    cap = limit(MAX_VALUES)
    if runs * max(k, 1) > cap:
        raise ConfigError(
            f"{samples:,} samples make {runs:,} runs of {k} constants, more than the "
            f"limit of {cap:,} values; use fewer samples or raise QUIDPRO_MAX_VALUES"
        )
    return runs


def design(prob: Mapping[str, Any], method: str, samples: int, seed: int) -> np.ndarray:
    """The sample matrix, shape (runs, k): Saltelli/Sobol' or Morris trajectories."""
    design_runs(prob, method, samples)
    with warnings.catch_warnings():  # Sobol' balance prefers powers of 2; any N is valid
        warnings.simplefilter("ignore")
        if method == "sobol":
            from SALib.sample import sobol as sobol_sample

            return np.asarray(
                sobol_sample.sample(dict(prob), samples, calc_second_order=False, seed=seed)
            )
        if method == "morris":
            from SALib.sample import morris as morris_sample

            return np.asarray(morris_sample.sample(dict(prob), samples, num_levels=4, seed=seed))
    raise ConfigError(f"unknown method {method!r}; use sobol or morris")


def indices(
    prob: Mapping[str, Any], method: str, x: np.ndarray, y: np.ndarray, seed: int
) -> dict[str, dict[str, float]]:
    """SALib's analysis of outputs ``y`` (shape (runs,)) as name → value tables."""
    names = list(prob["names"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(dict(prob), y, calc_second_order=False, seed=seed)
            keys: tuple[str, ...] = ("S1", "ST", "S1_conf", "ST_conf")
        else:
            from SALib.analyze import morris

            si = morris.analyze(dict(prob), x, y, num_levels=4, seed=seed)
            keys = ("mu_star", "sigma", "mu_star_conf")
    return {k: {n: float(v) for n, v in zip(names, si[k], strict=True)} for k in keys}


def sensitivity(  # noqa: PLR0917 - the six positional ones define the analysis
    model: CompiledLike,
    method: str,
    output: str,
    at: str,
    samples: int,
    seed: int,
    *,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
    backend: str = "auto",
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    posterior: PosteriorTable | None = None,
) -> dict[str, Any]:
    """Run the design and analyse it: indices, run count, seed (see :func:`json_document`).

    ``output`` is a variable (or an expression of variables) read at time ``at``.
    """
    compiled = compiled_of(model)
    spec = compiled.model
    probe = parse_probe(spec, output, at=at)
    prob = problem(spec, fixed_constants(spec, scenario, sets), posterior)
    x = design(prob, method, samples, seed)
    plan = make_plan(
        compiled,
        len(x),
        seed,
        scenario=scenario,
        sets=sets,
        variables=(),
        probes=(probe,),
        backend=backend,
    )
    members = {n: x[:, j] for j, n in enumerate(prob["names"])}
    result = run_plan(compiled, plan, members, executor, progress)
    if result.failed.any():  # the model's ranges reach values where it breaks down
        raise ModelError(
            f"{int(result.failed.sum())} of {len(x)} runs went non-finite; narrow the "
            "constants' ranges so that every run is finite",
            Loc(spec.file, 1, 1),
        )
    doc: dict[str, Any] = {
        "method": method,
        "output": output,
        "at": _at_value(at),
        "samples": samples,
        "runs": len(x),
        "seed": seed,
    }
    doc.update(indices(prob, method, x, result.probes[0], seed))
    return doc


def fixed_constants(
    model: Model, scenario: str | None = None, sets: Mapping[str, float] | None = None
) -> set[str]:
    """The constants an analysis holds fixed: those ``sets`` or the scenario set."""
    return set(sets or {}) | set_by_scenario(model, scenario)


def design_size(
    model: Model,
    method: str,
    samples: int,
    seed: int,
    *,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
) -> int:
    """How many runs :func:`sensitivity` makes with these arguments (for a progress bar)."""
    del seed  # the count does not depend on it
    return design_runs(problem(model, fixed_constants(model, scenario, sets)), method, samples)


# DESIGN.md fixes the ``quidpro sensitivity --json`` document: these keys and no others
# (the run store keeps the whole analysis: seed, sample size, Morris's mu_star_conf).
JSON_KEYS = {
    "sobol": ("method", "output", "at", "S1", "ST", "S1_conf", "ST_conf"),
    "morris": ("method", "output", "at", "mu_star", "sigma"),
}


def json_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The ``--json`` document of DESIGN.md, from what :func:`sensitivity` returns."""
    return {k: doc[k] for k in JSON_KEYS[doc["method"]]}


def _at_value(at: str) -> float | str:
    try:
        return float(at)
    except ValueError:
        return at


def negative_note(doc: Mapping[str, Any]) -> str | None:
    """A sentence explaining negative Sobol estimates in ``doc``, or None if there are none.

    True Sobol indices lie in [0, 1]; a negative estimate is sampling error of a small
    index. When its confidence interval reaches zero, read it as "no detectable effect";
    one whose interval stays below zero means too few runs for that index.
    """
    if doc.get("method") != "sobol":
        return None
    neg = within = 0
    for key in ("S1", "ST"):
        for name, value in doc[key].items():
            if value < 0:
                neg += 1
                within += value + doc[f"{key}_conf"][name] >= 0
    if neg == 0:
        return None
    return (
        f"{neg} Sobol estimate(s) are negative: true indices lie in [0, 1], so these are "
        f"sampling error of small effects; {within} of them have a 95% interval (the ± "
        "column) that reaches 0 (read: no detectable effect)"
        + ("" if within == neg else "; the others need more --runs")
        + "."
    )
