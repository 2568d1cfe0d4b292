"""The likelihood against closed forms: normal and lognormal log-densities, censored
bound terms against scipy.stats' cdf/sf, confidence factors, the year mean, and the
batched total against a member-by-member sum."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from tests.calib_models import write_ledger

from quidpro.analysis.likelihood import (
    CONFIDENCE_FACTORS,
    log_likelihood,
    predictions,
    targets,
    term,
)
from quidpro.api import LoadedModel
from quidpro.evidence.ledger import read_ledger
from quidpro.io.load import parse_model

PRED = np.array([50.0, 100.0, 180.0, 400.0])


@pytest.mark.parametrize("y", [30.0, 100.0, 250.0])
def test_value_terms_are_log_densities(y: float) -> None:
    assert term("normal", "value", y, 40.0, PRED) == pytest.approx(stats.norm.logpdf(y, PRED, 40.0))
    expected = stats.lognorm.logpdf(y, s=0.3, scale=PRED)
    assert term("lognormal", "value", y, 0.3, PRED) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("bound", [60.0, 150.0, 1000.0])
def test_bounds_are_censored_terms(bound: float) -> None:
    assert term("normal", "lower", bound, 40.0, PRED) == pytest.approx(
        stats.norm.logsf(bound, PRED, 40.0)
    )
    assert term("normal", "upper", bound, 40.0, PRED) == pytest.approx(
        stats.norm.logcdf(bound, PRED, 40.0)
    )
    lo = stats.lognorm.logsf(bound, s=0.3, scale=PRED)
    hi = stats.lognorm.logcdf(bound, s=0.3, scale=PRED)
    assert term("lognormal", "lower", bound, 0.3, PRED) == pytest.approx(lo, rel=1e-9)
    assert term("lognormal", "upper", bound, 0.3, PRED) == pytest.approx(hi, rel=1e-9)


def test_a_far_miss_is_finite_and_a_failed_run_is_not() -> None:
    far = term("lognormal", "value", 100.0, 0.2, np.array([0.0, -5.0, np.nan]))
    assert np.isfinite(far[:2]).all()
    assert far[0] < -1000
    assert far[2] == -np.inf


LINEAR = """quidpro: 1
name: lin
time: {start: 0, stop: 36, dt: 1, units: month, origin: 2020-01-01}
constants:
  a: {value: 1, distribution: {kind: uniform, low: 0, high: 2}}
stocks:
  s: {initial: 0, inflows: [f]}
flows:
  f: a
auxiliaries:
  clock: time
observations:
  yearly: {expression: clock, error: {kind: normal, sd: 2}, period: year}
  point: {expression: clock, error: {kind: normal, sd: 2}}
  level: {expression: s * 10, error: {kind: lognormal, sd: 0.5}}
"""
HEADER = ["id", "date", "indicator", "value", "kind", "confidence"]


def _ledger(tmp_path: Path) -> Path:
    rows = [
        ["Y", "2021", "yearly", "17", "count", "high"],  # mean over 12..23 = 17.5
        ["M", "2021-07", "point", "18", "count", "medium"],  # read at mid-July = 18.5
        ["D", "2021-01-01", "point", "12", "count", "low"],  # read at 12
        ["YP", "2022", "point", "30", "count", ""],  # a YYYY date read at mid-year = 30
        ["L", "2021-01-01", "level", "100", "estimate_low", "high"],  # s = 12 a → 120 a
        ["E", "2021-02-01", "point", "", "event", "high"],
        ["N", "2021-02-01", "point", "", "estimate_low", "high"],
        ["U", "2021-02-01", "unknown", "3", "count", "high"],
        ["O", "2018", "point", "3", "count", "high"],
        ["Z", "2021-02-01", "level", "0", "count", "high"],
    ]
    return write_ledger(tmp_path / "lin.csv", rows, HEADER)


def test_targets_read_points_year_means_and_skip_with_reasons(tmp_path: Path) -> None:
    spec = parse_model(LINEAR, "lin.yaml")
    tg = targets(spec, read_ledger(_ledger(tmp_path)))
    assert [t.row.id for t in tg.items] == ["Y", "M", "D", "YP", "L"]
    assert {r.id: why for r, why in tg.skipped} == {
        "E": "event (shown, never fitted)",
        "N": "no value (shown, never fitted)",
        "U": "indicator not in the model's observations",
        "O": "dated outside the run",
        "Z": "value not positive under a lognormal error",
    }
    assert [t.sd for t in tg.items[:3]] == [2.0, 2.0 * CONFIDENCE_FACTORS["medium"], 2.0 * 2.5]
    assert [t.term for t in tg.items] == ["value"] * 4 + ["lower"]
    m = LoadedModel(spec)
    a = np.array([0.5, 1.0, 1.5])
    traj = m.simulate(set={"a": a}, n_runs=3)
    series = {n: traj.values[:, i, :] for i, n in enumerate(traj.names)}
    pred = predictions(tg, traj.times, series)
    np.testing.assert_allclose(pred[0], 17.5)
    np.testing.assert_allclose(pred[1], 18.5)
    np.testing.assert_allclose(pred[2], 12.0)
    np.testing.assert_allclose(pred[3], 30.0)
    np.testing.assert_allclose(pred[4], 120.0 * a)
    total = log_likelihood(tg, traj.times, series)
    by_hand = [
        stats.norm.logpdf(17, 17.5, 2)
        + stats.norm.logpdf(18, 18.5, 3)
        + stats.norm.logpdf(12, 12, 5)
        + stats.norm.logpdf(30, 30, 2)
        + stats.lognorm.logsf(100, s=0.5, scale=120 * ai)
        for ai in a
    ]
    np.testing.assert_allclose(total, by_hand, rtol=1e-10)
    assert math.isclose(tg.last_time, 30.0)
