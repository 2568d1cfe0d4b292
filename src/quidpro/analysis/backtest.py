"""Back-tests: calibrate on the evidence known before a cutoff, forecast what came after.

At each cutoff the model is calibrated (:mod:`quidpro.analysis.calibrate`) on the rows
known before it (:meth:`~quidpro.evidence.ledger.Ledger.before`: a row counts from the
end of its date's span) and scored on the rows after it, so nothing after the cutoff
reaches the forecast (no look-ahead). The forecast of a row is the *posterior
predictive* distribution of the observation: a posterior ensemble of the model
(:func:`~quidpro.ensemble.sampling.draw` with the calibration's draws) read as the
likelihood reads it, plus the observation's own error (lognormal or normal, with
its confidence factor), drawn from a stream seeded by the seed and the row's id, so
a row's forecast does not depend on which other rows are scored.

Scores (``scoringrules``): for a value row, the CRPS of the predictive ensemble and
the 90% interval score; ``covered`` when the observation lies in the 5–95% interval.
Two baselines, each a point forecast (its CRPS is the absolute error): persistence
holds the last value of the indicator seen before the cutoff; trend extends the line
through the last two (in model time; from one value only, it is persistence). A
bound ("more than L", "up to U") is *respected* when the forecast does not rule it
out (a lower bound: q95 ≥ L; an upper bound: q05 ≤ U); bounds get no CRPS (a score
of a whole distribution against half a line is not proper) and count in
``bounds_respected``, not in ``coverage90``. CRPSS = 1 − ΣCRPS / ΣCRPS(baseline), over
the value rows both were scored on.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from quidpro.analysis.calibrate import (
    Problem,
    calibrate,
    check_settings,
    default_params,
    scorable,
    stable_backend,
)
from quidpro.analysis.likelihood import Target, Targets, predictions, row_time, targets
from quidpro.ensemble.runner import CompiledLike, compiled_of
from quidpro.ensemble.sampling import MAX_MEMBERS, check_seed, draw
from quidpro.errors import ConfigError
from quidpro.evidence.ledger import VALUE_KINDS, Ledger
from quidpro.model.overrides import constant_overrides
from quidpro.solve.simulate import simulate

Progress = Callable[[str, int, int], None]


def predictive(
    model: CompiledLike,
    tg: Targets,
    posterior: Any,
    runs: int,
    seed: int,
    *,
    scenario: str | None = None,
    sets: dict[str, float] | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Posterior-predictive draws of every target, shape (target, run)."""
    compiled = compiled_of(model)
    spec = compiled.model
    members = draw(
        spec, runs, seed, scenario=scenario, fixed=(sets or {}).keys(), posterior=posterior
    )
    overrides = constant_overrides(spec, scenario, {**members.rows(0, runs), **(sets or {})})
    traj = simulate(compiled, overrides, runs, record=tg.variables, backend=backend)
    series = {n: traj.values[:, i, :] for i, n in enumerate(traj.names)}
    with np.errstate(all="ignore"):
        pred = predictions(tg, traj.times, series)
    out = np.empty_like(pred)
    for i, t in enumerate(tg.items):
        out[i] = _with_error(t, pred[i], seed)
    return out


def _with_error(t: Target, pred: np.ndarray, seed: int) -> np.ndarray:
    key = zlib.crc32(t.row.id.encode())
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3, key)))
    noise = rng.normal(0.0, t.sd, pred.shape)
    if t.observation.error == "lognormal":
        return np.asarray(np.maximum(pred, 0.0) * np.exp(noise))
    return np.asarray(pred + noise)


def baselines(model: CompiledLike, seen: Ledger, t: Target) -> tuple[float | None, float | None]:
    """Persistence and trend point forecasts of ``t`` from the rows seen before."""
    spec = compiled_of(model).model
    past = sorted(
        (row_time(spec, r), r.value)
        for r in seen
        if r.indicator == t.row.indicator and r.kind in VALUE_KINDS and r.value is not None
    )
    if not past:
        return None, None
    t_last, v_last = past[-1]
    if len(past) == 1 or past[-1][0] == past[-2][0]:
        return v_last, v_last
    t_prev, v_prev = past[-2]
    when = t.time if t.end is None else 0.5 * (t.time + t.end)
    return v_last, v_last + (v_last - v_prev) / (t_last - t_prev) * (when - t_last)


def backtest(
    model: CompiledLike,
    ledger: Ledger,
    cutoffs: Sequence[dt.date | float],
    *,
    runs: int = 1000,
    seed: int = 0,
    method: str = "mcmc",
    draws: int = 1000,
    params: Sequence[str] | None = None,
    max_steps: int = 5000,
    backend: str = "auto",
    progress: Progress | None = None,
    sampler: str = "smc",
    particles: int | None = None,
) -> dict[str, Any]:
    """The ``backtest --json`` document for ``cutoffs``.

    Args:
        model: The compiled model (or a holder of one) with an ``observations:`` section.
        ledger: The evidence; rows after each cutoff are scored, never fitted.
        cutoffs: Dates, or model times for a ledger in model time.
        runs: Forecast members per cutoff, 1 to 2**32 - 1.
        seed: Seeds the calibration and the forecast, 0 to 2**63 - 1.
        method: ``map`` or ``mcmc`` (see :func:`~quidpro.analysis.calibrate.calibrate`).
        draws: Posterior draws per cutoff.
        params: Constants to calibrate (default: every uncertain non-lever constant).
        max_steps: At most this many MCMC steps per cutoff.
        backend: The kernel: auto, numpy or jit.
        progress: Called with (stage, done, total).
        sampler: The ``mcmc`` sampler, ``smc`` or ``emcee``.
        particles: SMC particles (default: max(1000, draws)).

    Returns:
        ``{"cutoffs": [{"cutoff", "observations", "coverage90", "crpss_trend",
        "crpss_persistence", ...}]}``.

    Raises:
        ConfigError: No cutoff, or bad settings (checked before any cutoff, including
            the calibration's, whether or not a cutoff calibrates).
        EvidenceError: The ledger has no rows, or none the model can score.
    """
    import scoringrules as sr

    compiled = compiled_of(model)
    spec = compiled.model
    if not cutoffs:
        raise ConfigError("a back-test needs at least one cutoff")
    if not 1 <= runs < MAX_MEMBERS:
        raise ConfigError(f"runs must be 1 to 2**32 - 1, got {runs}")
    check_seed(seed)
    names = list(params) if params else default_params(compiled)
    check_settings(method, sampler, draws, max_steps, None, particles, len(names))
    scorable(compiled, ledger)
    out: list[dict[str, Any]] = []
    for cutoff in cutoffs:
        seen, later = ledger.before(cutoff), ledger.after(cutoff)
        train, test = targets(spec, seen), targets(spec, later)
        label = cutoff.isoformat() if isinstance(cutoff, dt.date) else f"{cutoff:g}"

        def stage(text: str, done: int, total: int, label: str = label) -> None:
            if progress is not None:
                progress(f"{label}: {text}", done, total)

        fit = None
        if train.items:  # nothing known yet: the forecast is the prior's
            problem = Problem(compiled, train, names, backend=backend)
            fit = calibrate(
                problem,
                method,
                draws,
                seed,
                stage,
                max_steps=max_steps,
                sampler=sampler,
                particles=particles,
            )
        rows: list[dict[str, Any]] = []
        if test.items:
            stage("forecast", 0, 1)
            table = fit.table() if fit is not None else None
            kernel = stable_backend(compiled, backend, 1, runs, test.variables)
            ens = predictive(compiled, test, table, runs, seed, backend=kernel)
            for t, sample in zip(test.items, ens, strict=True):
                rows.append(_score(compiled, seen, t, sample, sr))
        out.append(_summary(label, rows, fit))
    return {"cutoffs": out}


def _score(
    model: CompiledLike, seen: Ledger, t: Target, sample: np.ndarray, sr: Any
) -> dict[str, Any]:
    ok = sample[np.isfinite(sample)]
    q05, q50, q95 = (math.nan,) * 3
    if ok.size:
        q05, q50, q95 = (float(v) for v in np.quantile(ok, [0.05, 0.5, 0.95]))
    y = t.value
    row = t.row
    entry: dict[str, Any] = {
        "id": row.id,
        "indicator": row.indicator,
        "date": row.when,
        "kind": row.kind,
        "observed": y,
        "q05": q05,
        "q50": q50,
        "q95": q95,
    }
    if t.term == "value":
        persist, trend = baselines(model, seen, t)
        entry["covered"] = bool(q05 <= y <= q95)
        entry["crps"] = float(sr.crps_ensemble(y, ok)) if ok.size else None
        entry["crps_persistence"] = None if persist is None else abs(y - persist)
        entry["crps_trend"] = None if trend is None else abs(y - trend)
        entry["interval_score"] = float(sr.interval_score(y, q05, q95, 0.1))
    else:
        entry["covered"] = bool(q95 >= y) if t.term == "lower" else bool(q05 <= y)
        entry.update(crps=None, crps_persistence=None, crps_trend=None, interval_score=None)
    return entry


def _summary(label: str, rows: list[dict[str, Any]], fit: Any) -> dict[str, Any]:
    values = [r for r in rows if r["kind"] in VALUE_KINDS]
    bounds = [r for r in rows if r["kind"] not in VALUE_KINDS]

    def skill(key: str) -> float | None:
        both = [r for r in values if r["crps"] is not None and r[key] is not None]
        base = float(sum(r[key] for r in both))
        if not both or base == 0:
            return None
        return 1.0 - float(sum(r["crps"] for r in both)) / base

    return {
        "cutoff": label,
        "observations": rows,
        "coverage90": (sum(r["covered"] for r in values) / len(values)) if values else None,
        "crpss_trend": skill("crps_trend"),
        "crpss_persistence": skill("crps_persistence"),
        "bounds_respected": (sum(r["covered"] for r in bounds) / len(bounds)) if bounds else None,
        "calibrated_on": 0 if fit is None else fit.n_observations,
        "calibration": None
        if fit is None
        else {
            "method": fit.method,
            "backend": fit.diagnostics.get("backend"),
            **{k: fit.diagnostics.get(k) for k in ("converged", "steps", "acceptance")},
        },
    }
