"""Ensembles against closed forms: quantiles and query probabilities of exponential decay.

The model is x' = -k·x with x(0) = x0 and a lognormal rate k ~ LN(mu, sigma), so
x(t) = x0·exp(-k·t). x(t) falls as k rises, hence its p-quantile is
x0·exp(-t·k_(1-p)) with k_(1-p) = exp(mu + sigma·Φ⁻¹(1 - p)), and
P(x(t) > c) = P(k < ln(x0/c)/t) = Φ((ln(ln(x0/c)/t) - mu) / sigma).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from quidpro.api import LoadedModel
from quidpro.ensemble import ensemble, parse_probe, summary, wilson
from quidpro.ensemble.sampling import (
    MemberSample,
    draw,
    frozen,
    inverse_cdf,
    sample,
    unit_sample,
)
from quidpro.errors import ConfigError
from quidpro.io.load import parse_model
from quidpro.model.spec import Distribution

MU, SIGMA, X0 = math.log(0.1), 0.3, 100.0
DECAY = f"""quidpro: 1
name: decay
time: {{start: 0, stop: 10, dt: 0.125, method: rk4, units: month, origin: 2024-01-01}}
constants:
  k: {{value: 0.1, distribution: {{kind: lognormal, mu: {MU!r}, sigma: {SIGMA!r}}}}}
  x0: {X0!r}
stocks:
  x: {{initial: x0, outflows: [loss]}}
flows:
  loss: k * x
auxiliaries:
  half: x / 2
scenarios:
  slow: {{set: {{k: 0.05}}}}
"""


@pytest.fixture(scope="module")
def decay() -> LoadedModel:
    return LoadedModel(parse_model(DECAY, "decay.yaml"))


def exact_quantile(p: float, t: float) -> float:
    k = math.exp(MU + SIGMA * stats.norm.ppf(1 - p))
    return X0 * math.exp(-k * t)


def exact_prob_above(c: float, t: float) -> float:
    return float(stats.norm.cdf((math.log(math.log(X0 / c) / t) - MU) / SIGMA))


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("triangular", {"low": 0.5, "mode": 1.0, "high": 3.0}),
        ("triangular", {"low": 300000, "mode": 390000, "high": 600000}),  # integers
        ("triangular", {"low": 0.0, "mode": 0.0, "high": 0.9}),  # mode at an end
        ("triangular", {"low": -2.0, "mode": 5.0, "high": 5.0}),
        ("triangular", {"low": 1.0, "mode": 1.0, "high": 1.0}),  # zero width: scipy's NaN
        ("uniform", {"low": -1.0, "high": 7.5}),
        ("normal", {"mean": 3.0, "sd": 0.5}),
        ("lognormal", {"mu": -1.0, "sigma": 0.4}),
    ],
)
def test_inverse_cdf_is_scipys_ppf_bit_for_bit(kind: str, params: dict[str, float]) -> None:
    dist = Distribution(kind, params)
    u = np.clip(np.random.default_rng(7).random(20_000), 1e-12, 1 - 1e-12)
    u[:4] = [1e-12, 1 - 1e-12, 0.5, float(params.get("mode", 0.0) != params.get("low"))]
    u = np.clip(u, 1e-12, 1 - 1e-12)
    ours, theirs = inverse_cdf(dist, frozen(dist), u), frozen(dist).ppf(u)
    np.testing.assert_array_equal(ours, theirs)  # NaN where scipy's is NaN


@pytest.mark.parametrize("sampler", ["random", "lhs", "sobol"])
def test_quantiles_match_closed_form(decay: LoadedModel, sampler: str) -> None:
    n = 4096
    res = ensemble(decay, n, seed=11, sampler=sampler, variables=["x"], backend="numpy")
    doc = summary(res, (0.05, 0.5, 0.95))
    series = doc["variables"]["x"]
    times = np.array(series["time"])
    for p in (0.05, 0.5, 0.95):
        got = np.array(series["quantiles"][repr(p)])
        for t in (2.5, 5.0, 10.0):
            i = int(np.argmin(abs(times - t)))
            # compare in probability: the empirical CDF at the exact quantile
            values = res.values[i, 0, :]
            frac = np.mean(values <= exact_quantile(p, t))
            tol = 4 * math.sqrt(p * (1 - p) / n)
            assert frac == pytest.approx(p, abs=tol), (sampler, p, t)
            assert got[i] == pytest.approx(exact_quantile(p, t), rel=0.03)


def test_query_probability_matches_closed_form(decay: LoadedModel) -> None:
    n = 4000
    queries = ["x > 50 at 5", "x > 30 at 2024-11-01", "not (x <= 60) and time > 0 at 4.05"]
    res = ensemble(decay, n, seed=5, variables=[], queries=queries, backend="numpy")
    out = summary(res)["queries"]
    assert [q["query"] for q in out] == queries
    for q, c, t in zip(out, (50.0, 30.0, 60.0), (5.0, 10.0, 4.05), strict=True):
        exact = exact_prob_above(c, t)
        sd = math.sqrt(exact * (1 - exact) / n)
        assert q["probability"] == pytest.approx(exact, abs=4 * sd + 1e-3)
        lo, hi = q["ci"]
        assert lo <= q["probability"] <= hi
        assert hi - lo < 0.04


def test_query_interpolates_between_saved_steps(decay: LoadedModel) -> None:
    # saved every 1 month: x at 4.5 is interpolated between 4 and 5
    res = ensemble(decay, 1, seed=0, sets={"k": 0.1}, variables=["x"], queries=[])
    probe = parse_probe(decay.spec, "x at 4.5")
    times = res.plan.times
    from quidpro.ensemble.query import read_probe

    series = {"x": res.values[:, 0, :]}
    coarse = times[::8]
    got = read_probe(probe, coarse, {"x": series["x"][::8]}, decay.spec, 1)[0]
    a, b = X0 * math.exp(-0.4), X0 * math.exp(-0.5)
    assert got == pytest.approx((a + b) / 2, rel=1e-6)


def test_same_seed_same_numbers_whatever_the_batch_size(decay: LoadedModel) -> None:
    kw = {"queries": ["x > 50 at 5"], "backend": "numpy"}
    docs = [summary(ensemble(decay, 300, seed=9, batch_size=b, **kw)) for b in (7, 64, None)]
    assert docs[0] == docs[1] == docs[2]
    other = summary(ensemble(decay, 300, seed=10, **kw))
    assert other != docs[0]


def test_scenario_and_set_constants_are_not_sampled(decay: LoadedModel) -> None:
    res = ensemble(decay, 50, seed=1, scenario="slow", variables=["x"], backend="numpy")
    assert np.ptp(res.values[-1, 0, :]) == 0.0
    assert res.values[-1, 0, 0] == pytest.approx(X0 * math.exp(-0.5), rel=1e-6)
    res = ensemble(decay, 50, seed=1, sets={"k": 0.2}, variables=["x"], backend="numpy")
    assert np.ptp(res.values[-1, 0, :]) == 0.0
    assert draw(decay.spec, 5, 1, scenario="slow").names == []


def test_seeded_regression(decay: LoadedModel) -> None:
    doc = summary(ensemble(decay, 200, seed=42, variables=["x"], queries=["x > 40 at 10"]))
    end = {k: v[-1] for k, v in doc["variables"]["x"]["quantiles"].items()}
    expected = {
        "0.05": 21.104970958261543,
        "0.25": 28.917242009118983,
        "0.5": 34.97992840327092,
        "0.75": 44.248832499986264,
        "0.95": 54.96178635804122,
    }
    assert list(end) == list(expected)
    np.testing.assert_allclose(list(end.values()), list(expected.values()), rtol=1e-5)
    assert doc["queries"][0]["probability"] == pytest.approx(0.34)


def test_non_finite_runs_are_counted_not_fatal(write_model) -> None:
    m = LoadedModel(
        parse_model(
            """quidpro: 1
name: blowup
time: {start: 0, stop: 4, dt: 1}
constants:
  k: {value: 1, distribution: {kind: uniform, low: -1, high: 1}}
stocks:
  s: {initial: 1, inflows: [f]}
flows:
  f: ln(k)
""",
            "blowup.yaml",
        )
    )
    res = ensemble(m, 400, seed=3, queries=["s > 0 at 4"], backend="numpy")
    n_failed = int(res.failed.sum())
    assert 150 < n_failed < 250
    doc = summary(res)
    assert all(np.isfinite(doc["variables"]["s"]["quantiles"]["0.5"]))
    # s(4) = 1 + 4·ln(k) > 0 ⇔ k > exp(-1/4), among the finite runs (k > 0)
    assert doc["queries"][0]["probability"] == pytest.approx(1 - math.exp(-0.25), abs=0.08)


def test_memory_bound_thins_saved_steps(decay: LoadedModel) -> None:
    full = ensemble(decay, 100, seed=2, variables=["x", "loss"], backend="numpy")
    thin = ensemble(
        decay, 100, seed=2, variables=["x", "loss"], backend="numpy", max_bytes=10 * 2 * 100 * 8
    )
    assert len(full.times) == 81
    assert 2 <= len(thin.times) <= 10
    assert thin.times[0] == 0.0
    assert thin.times[-1] == 10.0
    idx = np.searchsorted(full.times, thin.times)
    np.testing.assert_array_equal(full.values[idx], thin.values)


def test_samplers_and_distributions() -> None:
    dists = {
        "u": Distribution("uniform", {"low": 2.0, "high": 4.0}),
        "n": Distribution("normal", {"mean": 1.0, "sd": 0.5}),
        "t": Distribution("triangular", {"low": 0.0, "mode": 1.0, "high": 4.0}),
        "l": Distribution("lognormal", {"mu": 0.0, "sigma": 0.25}),
    }
    for sampler in ("random", "lhs", "sobol"):
        s = sample(dists, 2048, 7, sampler)
        assert s["u"].min() >= 2.0
        assert s["u"].max() <= 4.0
        assert s["n"].mean() == pytest.approx(1.0, abs=0.05)
        assert s["t"].mean() == pytest.approx(5.0 / 3.0, abs=0.05)
        assert np.median(s["l"]) == pytest.approx(1.0, abs=0.03)
    u = unit_sample(1000, 2, 1, "lhs")
    for j in range(2):  # one point per stratum
        assert sorted(np.floor(u[:, j] * 1000).astype(int)) == list(range(1000))
    np.testing.assert_array_equal(unit_sample(10, 3, 5), unit_sample(10, 3, 5))


@pytest.mark.parametrize("sampler", ["random", "lhs", "sobol"])
def test_member_rows_do_not_depend_on_the_range(sampler: str) -> None:
    dists = {"a": Distribution("normal", {"mean": 0.0, "sd": 1.0})}
    dists["b"] = Distribution("uniform", {"low": 0.0, "high": 1.0})
    n = 70_000  # more than one block of random numbers
    whole = MemberSample(dists, n, 3, sampler).rows(0, n)
    ms = MemberSample(dists, n, 3, sampler)
    cuts = [0, 1, 999, 65_535, 65_537, 69_999, n]
    for lo, hi in itertools.pairwise(cuts):
        part = ms.rows(lo, hi)
        for name in dists:
            np.testing.assert_array_equal(part[name], whole[name][lo:hi])


def test_wilson_interval() -> None:
    lo, hi = wilson(0, 100)
    assert lo == 0.0
    assert hi == pytest.approx(0.0370, abs=1e-4)
    lo, hi = wilson(50, 100)
    assert (lo, hi) == pytest.approx((0.4038, 0.5962), abs=1e-4)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("x > 5", "EXPRESSION at TIME"),
        ("x + 1 at 5", "comparison"),
        ("y > 1 at 5", "not a stock"),
        ("x > 1 at 99", "outside the run"),
        ("x > ( at 5", "syntax error"),
        ("x > 1 at 1999-01-01", "outside the run"),
    ],
)
def test_bad_queries(decay: LoadedModel, query: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_probe(decay.spec, query, comparison=True)


def test_quantile_keys_are_decimal_numbers() -> None:
    from quidpro.ensemble import quantile_key

    assert [quantile_key(q) for q in (0.05, 0.5, 1.0, 1e-5, 0.975)] == [
        "0.05",
        "0.5",
        "1.0",
        "0.00001",
        "0.975",
    ]
