"""The likelihood of evidence rows given model runs, for many runs at once.

Each fitted row becomes a :class:`Target`: the model's prediction for it is the
observation's expression, read at the row's date (``period: point``) or averaged over
the saved steps of the row's calendar year (``period: year``, for ``YYYY`` dates), and
it enters the log-likelihood as one term per run:

- a value (``count``, ``cumulative``, ``share``): the log-density of the observed
  value, normal ``N(pred, sd)`` or lognormal ``log y ~ N(log pred, sd)``;
- a lower bound (``estimate_low``, "more than L"): a censored term,
  ``log P(Y > L)``, and an upper bound (``estimate_high``, "up to U"): ``log P(Y < U)``,
  with Y distributed as above around the prediction.

``confidence`` widens the error: the sd is multiplied by :data:`CONFIDENCE_FACTORS`
(high 1, medium 1.5, low 2.5; a row without a confidence keeps the sd as written).
Under a lognormal error a prediction at or below zero is read as
:data:`FLOOR` times the observed value (a miss by a factor of a million: a huge but
finite penalty, so optimisers and samplers can climb out of it).

Rows the likelihood cannot use are kept in :attr:`Targets.skipped` with the reason:
events, rows without a value, indicators the model does not observe, dates outside
the run, and non-positive values under a lognormal error.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import log_ndtr

from quidpro.errors import ConfigError
from quidpro.evidence.ledger import Ledger, Row
from quidpro.lang.ast import names
from quidpro.model.calendar import to_time
from quidpro.model.observations import Observation
from quidpro.model.spec import Model
from quidpro.solve.evaluate import evaluate

CONFIDENCE_FACTORS: Mapping[str | None, float] = {
    None: 1.0,
    "high": 1.0,
    "medium": 1.5,
    "low": 2.5,
}
FLOOR = 1e-6
_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class Target:
    """One row as the likelihood sees it."""

    row: Row
    observation: Observation
    term: str  # "value" | "lower" | "upper"
    time: float  # model time of a point reading; the year's start for a year mean
    end: float | None  # the year's end (exclusive) for a year mean, else None
    sd: float  # after the confidence factor

    @property
    def value(self) -> float:
        """The observed value (or bound)."""
        assert self.row.value is not None
        return self.row.value


@dataclass
class Targets:
    """The fitted rows of a ledger for one model, and those left out (with why)."""

    model: Model
    items: list[Target]
    skipped: list[tuple[Row, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def variables(self) -> tuple[str, ...]:
        """The stocks, flows and auxiliaries the targets read."""
        used: dict[str, None] = {}
        for t in self.items:
            for n in sorted(names(t.observation.expression)):
                if n not in ("time", "dt", "pi"):
                    used[n] = None
        return tuple(used)

    @property
    def last_time(self) -> float:
        """The latest model time any target reads."""
        return max((t.end if t.end is not None else t.time) for t in self.items)


def row_time(model: Model, row: Row, when: dt.date | None = None) -> float:
    """Model time of a row: its day, or the middle of its month or year.

    With ``when`` (a day of the row's span), the model time of that day.
    """
    if row.time is not None:
        return row.time
    t = model.time
    if t.origin is None:
        raise ConfigError(
            f"the evidence is dated but model {model.name!r} has no time.origin; give the "
            "model an origin or the evidence a time column"
        )
    assert row.date is not None
    if when is not None:
        return to_time(when, t.origin, t.units, t.start)
    start = to_time(row.date.start, t.origin, t.units, t.start)
    if row.date.precision == "day":
        return start
    # A month or a year: the middle of its span in model time (mid-month, mid-year).
    return 0.5 * (start + to_time(row.date.end, t.origin, t.units, t.start))


def targets(model: Model, ledger: Ledger | Iterable[Row]) -> Targets:
    """The rows of ``ledger`` the model's ``observations:`` can score."""
    out = Targets(model, [])
    t0, t1 = model.time.start, model.time.stop
    for row in ledger:
        obs = model.observations.get(row.indicator)
        reason = None
        if row.kind == "event":
            reason = "event (shown, never fitted)"
        elif row.value is None:
            reason = "no value (shown, never fitted)"
        elif obs is None:
            reason = "indicator not in the model's observations"
        elif obs.error == "lognormal" and row.value <= 0:
            reason = "value not positive under a lognormal error"
        if reason is not None or obs is None:
            out.skipped.append((row, reason or ""))
            continue
        yearly = obs.period == "year" and row.date is not None and row.date.precision == "year"
        if yearly:
            assert row.date is not None
            start, end = row_time(model, row, row.date.start), row_time(model, row, row.date.end)
        else:
            start, end = row_time(model, row), None
        if start < t0 - 1e-9 or (end if end is not None else start) > t1 + 1e-9:
            out.skipped.append((row, "dated outside the run"))
            continue
        term = {"estimate_low": "lower", "estimate_high": "upper"}.get(row.kind, "value")
        sd = obs.sd * CONFIDENCE_FACTORS[row.confidence]
        out.items.append(Target(row, obs, term, start, end, sd))
    return out


def indicator_series(
    obs: Observation, times: np.ndarray, series: Mapping[str, np.ndarray], model: Model
) -> np.ndarray:
    """The observation's expression over every saved time and run, shape (time, run)."""
    env = {n: series[n] for n in names(obs.expression) if n in series}
    when: Any = times[:, None]  # evaluate() is vectorised: time may be an array too
    value = evaluate(obs.expression, env, model.lookups, when, model.time.dt)
    shape = next(iter(series.values())).shape
    return np.broadcast_to(np.asarray(value, dtype=float), shape)


def predictions(tg: Targets, times: np.ndarray, series: Mapping[str, np.ndarray]) -> np.ndarray:
    """The model's value for every target and run, shape (target, run)."""
    n_runs = next(iter(series.values())).shape[1]
    out = np.empty((len(tg.items), n_runs))
    cache: dict[str, np.ndarray] = {}
    for i, t in enumerate(tg.items):
        obs = t.observation
        if obs.indicator not in cache:
            cache[obs.indicator] = indicator_series(obs, times, series, tg.model)
        y = cache[obs.indicator]
        if t.end is not None:
            mask = (times >= t.time - 1e-9) & (times < t.end - 1e-9)
            out[i] = y[mask].mean(axis=0)
        else:
            out[i] = _interp(times, y, t.time)
    return out


def _interp(times: np.ndarray, y: np.ndarray, t: float) -> np.ndarray:
    i = int(np.searchsorted(times, t, side="right")) - 1
    i = min(max(i, 0), len(times) - 1)
    if i == len(times) - 1 or abs(times[i] - t) < 1e-12:
        return np.asarray(y[i], dtype=float)
    w = (t - times[i]) / (times[i + 1] - times[i])
    return np.asarray((1.0 - w) * y[i] + w * y[i + 1], dtype=float)


def log_terms(tg: Targets, pred: np.ndarray) -> np.ndarray:
    """Each target's log-likelihood term per run, shape (target, run)."""
    out = np.empty_like(pred, dtype=float)
    for i, t in enumerate(tg.items):
        out[i] = term(t.observation.error, t.term, t.value, t.sd, pred[i])
    return out


def term(error: str, kind: str, y: float, sd: float, pred: np.ndarray) -> np.ndarray:
    """One observation's log-likelihood for each prediction in ``pred``.

    ``kind`` "value" gives a log-density; "lower" the censored log-probability
    log P(Y > y) and "upper" log P(Y < y), Y distributed by ``error`` around ``pred``.
    """
    p = np.asarray(pred, dtype=float)
    if error == "lognormal":
        mu = np.log(np.maximum(p, FLOOR * abs(y)))
        x = math.log(y)
        jac = -x  # log-density of y, not of log y
    else:
        mu, x, jac = p, y, 0.0
    z = (x - mu) / sd
    if kind == "value":
        out: np.ndarray = -0.5 * z * z - math.log(sd) - 0.5 * _LOG_2PI + jac
    elif kind == "lower":
        out = log_ndtr(-z)
    else:
        out = log_ndtr(z)
    return np.where(np.isfinite(p), out, -np.inf)


def log_likelihood(tg: Targets, times: np.ndarray, series: Mapping[str, np.ndarray]) -> np.ndarray:
    """The total log-likelihood of every run, shape (run,); -inf for a failed run."""
    if not tg.items:
        n = next(iter(series.values())).shape[1] if series else 1
        return np.zeros(n)
    with np.errstate(all="ignore"):
        total = log_terms(tg, predictions(tg, times, series)).sum(axis=0)
    return np.where(np.isnan(total), -np.inf, total)
