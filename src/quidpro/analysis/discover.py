"""Scenario discovery: which ranges of the uncertain constants make a condition hold.

An ensemble samples every constant that carries a distribution (never a scenario
lever, a constant marked ``lever: true``), the condition ``EXPR at DATE`` is read for
each member, and PRIM (Friedman & Fisher 1999, the implementation of the ``prim``
package, Project Platypus) peels the sample space down to a box of constants where the
condition holds for most members. Coverage is the share of all the members where it
holds that fall in the box; density the share of the box's members where it holds.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from quidpro.ensemble.runner import CompiledLike, compiled_of
from quidpro.errors import ConfigError, SimulationError
from quidpro.model.overrides import set_by_scenario
from quidpro.model.spec import Model


@dataclass
class Discovery:
    """A PRIM box and how it was found (see :func:`discover`)."""

    condition: str
    runs: int
    seed: int
    share: float  # of all members where the condition holds
    box: dict[str, tuple[float, float]]  # restricted constants -> (low, high)
    coverage: float
    density: float
    mass: float
    trajectory: list[dict[str, float]] = field(default_factory=list)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # sampled ranges
    failed: int = 0  # members that went non-finite, left out of everything above


def uncertain_constants(spec: Model, fixed: set[str]) -> list[str]:
    """Constants with a distribution that are neither levers nor fixed by the user."""
    return [
        n
        for n, c in spec.constants.items()
        if c.distribution is not None and not getattr(c, "lever", False) and n not in fixed
    ]


def discover(
    model: CompiledLike,
    where: str,
    *,
    runs: int = 2000,
    seed: int = 0,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    min_density: float = 0.9,
    progress: Callable[[int], None] | None = None,
) -> Discovery:
    """PRIM box of the uncertain constants where ``where`` ("EXPR at DATE") holds.

    Args:
        model: a compiled model or a :class:`quidpro.LoadedModel`.
        where: a comparison read at one time, e.g. ``"partnership_intensity < 0.2 at
            2027-01-01"``.
        runs: ensemble members.
        seed: the sample's seed.
        scenario: a scenario whose settings hold for every member.
        sets: constant values held for every member.
        peel_alpha: share of the members peeled off at each PRIM step.
        mass_min: smallest share of members a box may hold.
        min_density: the box reported is the first along the peeling trajectory whose
            density reaches this (the largest, least restricted such box); PRIM's own
            last box when none does.
        progress: called with the number of members just finished.
    """
    import prim

    from quidpro.ensemble.query import parse_probe
    from quidpro.ensemble.runner import make_plan, run_plan
    from quidpro.ensemble.sampling import draw

    if not 0 < min_density <= 1:  # NaN fails too
        raise ConfigError(f"min_density must be above 0 and at most 1, got {min_density:g}")
    spec = compiled_of(model).model
    probe = parse_probe(spec, where, comparison=True)
    sets = dict(sets or {})
    fixed = set(sets)
    fixed |= set_by_scenario(spec, scenario)
    names = uncertain_constants(spec, fixed)
    if not names:
        raise ConfigError(f"{spec.name} has no uncertain constants (with a distribution) to vary")
    plan = make_plan(model, runs, seed, scenario=scenario, sets=sets, variables=(), probes=[probe])
    sample = draw(spec, runs, seed, scenario=scenario, fixed=fixed | _levers(spec))
    x = pd.DataFrame(sample.rows(0, runs))[names]
    result = run_plan(model, plan, sample, progress=progress)
    ok = ~result.failed
    failed = int(runs - ok.sum())
    if not ok.any():
        raise _all_failed(model, sample, scenario, sets, runs)
    y = result.probes[0] > 0.5
    x, y = x[ok].reset_index(drop=True), y[ok]
    share = float(y.mean())
    ranges = {n: (float(x[n].min()), float(x[n].max())) for n in names}
    if not y.any() or y.all():
        return Discovery(
            where, runs, seed, share, {}, float(y.all()), share, 1.0, [], ranges, failed
        )
    # The selected box: ``_cur_box`` is the index PrimBox keeps for it (no public name).
    with warnings.catch_warnings():  # the package is written for older pandas/NumPy
        warnings.simplefilter("ignore")
        p = prim.Prim(
            x,
            y.astype(float),
            threshold=0.5,
            threshold_type=">",
            peel_alpha=peel_alpha,
            mass_min=mass_min,
        )
        box = p.find_box()
        traj = box.peeling_trajectory
        dense = [i for i, d in enumerate(traj["density"]) if d >= min_density]
        if dense:
            box.select(dense[0])
        limits = box.limits() if callable(box.limits) else box.limits
    restricted = {str(n): (float(row["min"]), float(row["max"])) for n, row in limits.iterrows()}
    trajectory = [
        {k: float(row[k]) for k in ("coverage", "density", "mass", "res dim")}
        for _, row in traj.iterrows()
    ]
    return Discovery(
        where,
        runs,
        seed,
        share,
        restricted,
        float(traj["coverage"].iloc[box._cur_box]),
        float(traj["density"].iloc[box._cur_box]),
        float(traj["mass"].iloc[box._cur_box]),
        trajectory,
        ranges,
        failed,
    )


def _all_failed(
    model: CompiledLike, sample: Any, scenario: str | None, sets: Mapping[str, float], runs: int
) -> SimulationError:
    """The error when every member went non-finite, naming the first member's failure."""
    from quidpro.model.overrides import constant_overrides
    from quidpro.solve.simulate import failure_of

    compiled = compiled_of(model)
    overrides = constant_overrides(compiled.model, scenario, {**sample.rows(0, 1), **sets})
    what = f"every one of the {runs:,} members went non-finite, so there is nothing to discover"
    first = failure_of(compiled, overrides)
    if first is not None:
        return SimulationError(
            f"{what}; the first: {first.message}", first.variable, first.time, first.loc
        )
    return SimulationError(what, "", float("nan"))  # pragma: no cover - it failed before


def _levers(spec: Model) -> set[str]:
    return {n for n, c in spec.constants.items() if getattr(c, "lever", False)}


def as_json(d: Discovery) -> dict[str, Any]:
    """The ``discover --json`` document."""
    return {
        "condition": d.condition,
        "runs": d.runs,
        "seed": d.seed,
        "share": d.share,
        "box": {
            n: {"low": lo, "high": hi, "sampled": list(d.ranges.get(n, (np.nan,) * 2))}
            for n, (lo, hi) in d.box.items()
        },
        "coverage": d.coverage,
        "density": d.density,
        "mass": d.mass,
        "peeling_trajectory": d.trajectory,
        "failed": d.failed,
    }


__all__ = ["Discovery", "as_json", "discover", "uncertain_constants"]
