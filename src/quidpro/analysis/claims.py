"""A model's claims as probabilities over an ensemble of its plausible worlds.

A *claim test* turns a claim of the source analysis into a yes/no question about one
member: does H1 hold in this world? Each test names the runs it needs (*variants*: the
baseline, a scenario, a constant switched), and every member runs every variant with the
same sampled constants (common random numbers), so a comparison between variants is a
comparison within one world. The claim's probability is the share of members in which it
holds, with a Wilson interval for the sampling error of that share.

Members come from the model's posterior when it has one (one row per draw, one column
per constant) and from the constants' distributions otherwise; the report says which.

"Evidence that would move it most": for each claim, the quantity a future observation
would report (an indicator at a date) whose value across members correlates most with
the claim's outcome. Learning that quantity would shift the probability most, from
``p_if_high`` (members above the indicator's median) to ``p_if_low`` (below it).

The flagship's claim tests are in :mod:`quidpro.analysis.flagship_claims`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from quidpro.ensemble.posterior import PosteriorTable, model_posterior, read_posterior
from quidpro.ensemble.query import wilson
from quidpro.ensemble.runner import CompiledLike, compiled_of
from quidpro.ensemble.sampling import draw
from quidpro.errors import ConfigError
from quidpro.model.calendar import to_time
from quidpro.model.overrides import constant_overrides
from quidpro.model.spec import Model
from quidpro.solve.simulate import simulate


@dataclass(frozen=True)
class Variant:
    """One run every member needs: a scenario and constant settings on top of it."""

    scenario: str | None = None
    sets: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Indicator:
    """A quantity an observation would report, read in the baseline run.

    ``variable`` at ``date`` (``period`` "point") or its mean over the calendar year of
    ``date`` ("year").
    """

    name: str
    variable: str
    date: str
    period: str = "point"


class Runs:
    """Every variant's trajectories for the same members.

    ``series[variant][name]`` has shape (time, member); times are model time, dates are
    read through the model's ``time.origin``.
    """

    def __init__(
        self,
        model: Model,
        times: np.ndarray,
        series: Mapping[str, Mapping[str, np.ndarray]],
    ) -> None:
        self.model = model
        self.times = times
        self.series = series

    def t(self, when: str | float) -> float:
        """Model time of an ISO date (or a model time, passed through)."""
        if isinstance(when, int | float):
            return float(when)
        spec = self.model.time
        if spec.origin is None:
            raise ConfigError(f"model {self.model.name!r} has no time.origin for date {when!r}")
        return to_time(when, spec.origin, spec.units, spec.start)

    def of(self, variant: str, name: str) -> np.ndarray:
        """One variable of one variant, shape (time, member)."""
        try:
            return np.asarray(self.series[variant][name])
        except KeyError:
            raise ConfigError(
                f"claim test reads {name!r} in run {variant!r}, not recorded"
            ) from None

    def at(self, variant: str, name: str, when: str | float) -> np.ndarray:
        """Each member's value at a time (linear interpolation between saved times)."""
        y = self.of(variant, name)
        t = self.t(when)
        i = int(np.clip(np.searchsorted(self.times, t), 1, len(self.times) - 1))
        t0, t1 = self.times[i - 1], self.times[i]
        w = 0.0 if t1 == t0 else float(np.clip((t - t0) / (t1 - t0), 0.0, 1.0))
        out: np.ndarray = (1 - w) * y[i - 1] + w * y[i]
        return out

    def _window(self, variant: str, name: str, start: str | float, end: str | float) -> np.ndarray:
        t0, t1 = self.t(start), self.t(end)
        mask = (self.times >= t0) & (self.times <= t1)
        if not mask.any():
            raise ConfigError(f"no saved time between {start} and {end}")
        out: np.ndarray = self.of(variant, name)[mask]
        return out

    def mean(self, variant: str, name: str, start: str | float, end: str | float) -> np.ndarray:
        """Each member's mean over saved times in ``[start, end]``."""
        out: np.ndarray = self._window(variant, name, start, end).mean(axis=0)
        return out

    def min(self, variant: str, name: str, start: str | float, end: str | float) -> np.ndarray:
        """Each member's minimum over saved times in ``[start, end]``."""
        out: np.ndarray = self._window(variant, name, start, end).min(axis=0)
        return out

    def max(self, variant: str, name: str, start: str | float, end: str | float) -> np.ndarray:
        """Each member's maximum over saved times in ``[start, end]``."""
        out: np.ndarray = self._window(variant, name, start, end).max(axis=0)
        return out

    def indicator(self, ind: Indicator) -> np.ndarray:
        """Each member's value of an indicator."""
        if ind.period == "year":
            year = int(ind.date[:4])
            return self.mean("baseline", ind.variable, f"{year}-01-01", f"{year}-12-31")
        return self.at("baseline", ind.variable, ind.date)


@dataclass(frozen=True)
class ClaimTest:
    """A claim as a yes/no question about each member.

    ``definition`` states the question in words, thresholds included (it is printed and
    written to the JSON); ``holds`` answers it for every member at once.
    """

    id: str
    text: str
    definition: str
    variants: tuple[str, ...]
    variables: tuple[str, ...]
    holds: Callable[[Runs], np.ndarray]


@dataclass(frozen=True)
class ClaimSet:
    """A model's claim tests, the runs they need, and the indicators to rank as evidence."""

    variants: Mapping[str, Variant]
    tests: tuple[ClaimTest, ...]
    indicators: tuple[Indicator, ...] = ()


@dataclass
class ClaimResult:
    """One claim test's verdict in every member, and the evidence that would move it."""

    test: ClaimTest
    holds: np.ndarray  # (member,) bool, over the members that ran
    evidence: list[dict[str, Any]]

    @property
    def probability(self) -> float:
        """Share of members in which the claim holds."""
        return float(self.holds.mean()) if self.holds.size else float("nan")

    @property
    def ci(self) -> tuple[float, float]:
        """95% Wilson interval of the probability."""
        return wilson(int(self.holds.sum()), int(self.holds.size))


@dataclass
class ClaimsReport:
    """Every claim of a model over one ensemble."""

    model: str
    runs: int
    seed: int
    source: str  # "posterior" | "prior"
    posterior: str | None
    members_ok: int
    results: list[ClaimResult]

    def to_json(self) -> dict[str, Any]:
        """The ``claims --json`` document (keys documented in docs/nk_russia.md)."""
        return {
            "model": self.model,
            "runs": self.runs,
            "seed": self.seed,
            "source": self.source,
            "posterior": self.posterior,
            "members_ok": self.members_ok,
            "claims": [
                {
                    "id": r.test.id,
                    "text": r.test.text,
                    "definition": r.test.definition,
                    "probability": _num(r.probability),
                    "ci": [_num(x) for x in r.ci],
                    "evidence": r.evidence,
                }
                for r in self.results
            ],
        }


def _num(x: float) -> float | None:
    return None if math.isnan(x) else round(float(x), 6)


def inert_constants(model: Model, cutoff: str | None = None) -> set[str]:
    """Uncertain constants that cannot move any observation the model scores.

    Each is set to the 1% and the 99% quantile of its prior in one batch; a constant
    whose extremes change no prediction of the ledger's scorable rows (dated before
    ``cutoff`` when given) by more than 0.01% is inert: the likelihood, whose smallest
    error is 20% (lognormal sd 0.2), cannot tell its values apart, so its posterior is its
    prior. Scenario-only mechanisms (what Russia
    does after a ceasefire, Seoul's choice) are inert before the war ends.
    """
    import datetime as dt

    from quidpro.analysis.likelihood import targets
    from quidpro.analysis.record import ensemble_predictions
    from quidpro.ensemble.sampling import frozen, uncertain
    from quidpro.evidence.ledger import builtin_ledger, read_ledger
    from quidpro.solve.simulate import Compiled

    path = builtin_ledger(model.file)
    if path is None:
        return set()
    ledger = read_ledger(path)
    if cutoff is not None:
        ledger = ledger.before(dt.date.fromisoformat(cutoff))
    tg = targets(model, ledger)
    if not tg.items:
        return set()
    dists = uncertain(model)
    names = list(dists)
    k = len(names)
    values = {n: np.full(2 * k + 1, model.constants[n].value) for n in names}
    for j, n in enumerate(names):
        f = frozen(dists[n])
        values[n][2 * j] = float(f.ppf(0.01))
        values[n][2 * j + 1] = float(f.ppf(0.99))
    pred = ensemble_predictions(Compiled(model), tg, values, 2 * k + 1, backend="numpy")
    base = pred[:, -1:]
    scale = np.maximum(np.abs(base), 1e-12)
    moved = np.abs(pred[:, :-1] - base) / scale > 1e-4
    return {n for j, n in enumerate(names) if not moved[:, 2 * j : 2 * j + 2].any()}


def members(
    model: Model, n: int, seed: int, posterior: Path | None = None, prior: bool = False
) -> tuple[dict[str, np.ndarray], str, str | None]:
    """Each member's constants, where they came from ("posterior" | "prior") and the file.

    The posterior is ``posterior`` if given, else the one the model names
    (``calibration: {posterior: FILE}``), unless ``prior``. Constants it does not hold
    stay at their values, as in the calibration, except the inert ones
    (:func:`inert_constants`), whose posterior is their prior: they are drawn from it,
    so a claim that turns on them carries their uncertainty.
    """
    table: PosteriorTable | None = None
    where: str | None = None
    if not prior:
        if posterior is not None:
            table, where = read_posterior(posterior, model), str(posterior)
        else:
            table = model_posterior(model)
            if table is not None and model.calibration is not None:
                where = str(model.calibration.posterior_path(model.file))
    sample = draw(model, n, seed, "random", posterior=table)
    values = sample.rows(0, n)
    if table is not None:
        from quidpro.ensemble.sampling import MemberSample, uncertain

        cutoff = (table.meta or {}).get("until")
        free = inert_constants(model, str(cutoff) if cutoff else None) - set(table.names)
        if free:
            values.update(MemberSample(uncertain(model), n, seed, "random", free).rows(0, n))
    return values, ("prior" if table is None else "posterior"), where


def run_variants(
    model: CompiledLike,
    claims: ClaimSet,
    values: Mapping[str, np.ndarray],
    n: int,
    *,
    save_every: float = 1.0,
    progress: Callable[[int], None] | None = None,
    batch: int = 500,
    backend: str = "auto",
) -> tuple[Runs, np.ndarray]:
    """Run every variant for every member; returns the runs and which members ran cleanly.

    ``progress`` is called with the number of member-runs just finished (the total is
    ``n`` times the number of variants the tests need, :func:`runs_needed`).
    """
    compiled = compiled_of(model)
    spec = compiled.model
    record = sorted(
        {v for t in claims.tests for v in t.variables} | {i.variable for i in claims.indicators}
    )
    needed = {v for t in claims.tests for v in t.variants} | {"baseline"}
    unknown = needed - set(claims.variants)
    if unknown:
        raise ConfigError(f"claim tests name unknown runs: {sorted(unknown)}")
    series: dict[str, dict[str, np.ndarray]] = {}
    ok = np.ones(n, dtype=bool)
    times = np.empty(0)
    for name, var in claims.variants.items():
        if name not in needed:
            continue
        fixed = set(var.sets)
        if var.scenario is not None:
            fixed |= set(spec.scenarios[var.scenario].set)
        parts: dict[str, list[np.ndarray]] = {r: [] for r in record}
        for lo in range(0, n, batch):
            hi = min(n, lo + batch)
            sets = {k: np.asarray(v[lo:hi]) for k, v in values.items() if k not in fixed}
            sets.update({k: np.full(hi - lo, float(v)) for k, v in var.sets.items()})
            traj = simulate(
                compiled,
                constant_overrides(spec, var.scenario, sets),
                hi - lo,
                record=record,
                save_every=save_every,
                backend=backend,
                member_offset=lo,
            )
            times = traj.times
            for r in record:
                parts[r].append(traj.series(r))
            ok[lo:hi] &= ~traj.failed
            if progress is not None:
                progress(hi - lo)
        series[name] = {r: np.concatenate(v, axis=1) for r, v in parts.items()}
    return Runs(spec, times, series), ok


def runs_needed(claims: ClaimSet, n: int) -> int:
    """Member-runs :func:`run_variants` makes: one per member per variant needed."""
    return n * len({v for t in claims.tests for v in t.variants} | {"baseline"})


def rank_evidence(
    runs: Runs, holds: np.ndarray, ok: np.ndarray, indicators: Sequence[Indicator], top: int = 3
) -> list[dict[str, Any]]:
    """Indicators ordered by how strongly their value predicts the claim across members."""
    out: list[dict[str, Any]] = []
    y = holds.astype(float)
    for ind in indicators:
        x = runs.indicator(ind)[ok]
        r = 0.0 if x.std() == 0 or y.std() == 0 else float(np.corrcoef(x, y)[0, 1])
        high = x > np.median(x)
        out.append(
            {
                "indicator": ind.name,
                "variable": ind.variable,
                "date": ind.date,
                "period": ind.period,
                "correlation": round(r, 4),
                "median": float(np.median(x)),
                "p_if_high": _num(float(y[high].mean())) if high.any() else None,
                "p_if_low": _num(float(y[~high].mean())) if (~high).any() else None,
            }
        )
    out.sort(key=lambda e: -abs(float(e["correlation"])))
    return out[:top]


def evaluate(
    model: CompiledLike,
    claims: ClaimSet,
    *,
    n: int = 1000,
    seed: int = 0,
    posterior: Path | None = None,
    prior: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ClaimsReport:
    """Every claim test over ``n`` members (see the module docstring)."""
    if n < 2:
        raise ConfigError(f"n must be at least 2, got {n}")
    spec = compiled_of(model).model
    values, source, path = members(spec, n, seed, posterior, prior)
    runs, ok = run_variants(model, claims, values, n, progress=progress)
    results = []
    for test in claims.tests:
        holds = np.asarray(test.holds(runs), dtype=bool)[ok]
        results.append(ClaimResult(test, holds, rank_evidence(runs, holds, ok, claims.indicators)))
    return ClaimsReport(spec.name, n, seed, source, path, int(ok.sum()), results)
