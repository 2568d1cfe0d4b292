"""Builtins and methods against analytic solutions, each with its stated tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from quidpro.api import LoadedModel
from quidpro.io.load import parse_model


def build(body: str, time: str = "{start: 0, stop: 10, dt: 1}") -> LoadedModel:
    return LoadedModel(parse_model(f"quidpro: 1\nname: t\ntime: {time}\n{body}", "model.yaml"))


def run(m: LoadedModel, **kw):
    return m.run(backend="numpy", **kw)


DECAY = """
constants:
  k: 1
stocks:
  y: {initial: 1, outflows: [decay]}
flows:
  decay: k * y
"""


def test_decay_euler_is_the_exact_discrete_solution_within_the_error_bound() -> None:
    dt, k = 0.1, 1.0
    df = run(build(DECAY, f"{{start: 0, stop: 2, dt: {dt}}}"))
    t = df.index.to_numpy()
    n = np.arange(len(t))
    # Forward Euler on y' = -k y is y_n = (1 - k dt)^n exactly.
    np.testing.assert_allclose(df["y"], (1 - k * dt) ** n, rtol=1e-12)
    # |exp(-x n) - (1 - x)^n| <= n x^2 / 2 for 0 < x < 1: the global error is O(dt).
    err = np.abs(df["y"].to_numpy() - np.exp(-k * t))
    assert np.all(err <= t * k**2 * dt / 2 + 1e-15)
    assert err.max() > 0.01  # and it is really first order, not exact


def test_decay_rk4_to_1e_8_relative() -> None:
    dt = 1 / 64
    df = run(build(DECAY, f"{{start: 0, stop: 2, dt: {dt}}}"), method="rk4")
    t = df.index.to_numpy()
    np.testing.assert_allclose(df["y"], np.exp(-t), rtol=1e-8, atol=0)
    x = dt
    amplification = 1 - x + x**2 / 2 - x**3 / 6 + x**4 / 24
    np.testing.assert_allclose(df["y"], amplification ** np.arange(len(t)), rtol=1e-13)
    np.testing.assert_allclose(df["decay"], df["y"], rtol=0)  # the flow is k*y at each time


def test_logistic_growth_rk4_and_euler() -> None:
    body = """
constants:
  r: 0.5
  cap: 100
stocks:
  p: {initial: 1, inflows: [births]}
flows:
  births: r * p * (1 - p / cap)
"""
    m = build(body, "{start: 0, stop: 30, dt: 0.125}")
    t = run(m).index.to_numpy()
    exact = 100 / (1 + 99 * np.exp(-0.5 * t))
    np.testing.assert_allclose(run(m, method="rk4")["p"], exact, rtol=1e-6)
    euler = run(m)["p"].to_numpy()
    err = np.max(np.abs(euler - exact))
    assert 1.0 < err < 3.0  # O(dt): about 2.5 people (of 100) at dt = 1/8
    half = run(m, dt=0.0625)["p"].to_numpy()[::2]
    assert np.max(np.abs(half - exact)) == pytest.approx(err / 2, rel=0.1)
    np.testing.assert_allclose(euler[-1], 100, rtol=1e-4)


def _delay3_exact(t: np.ndarray, tau: float) -> np.ndarray:
    u = 3 * t / tau
    return 1 - np.exp(-u) * (1 + u + u**2 / 2)


STEP_RESPONSES = """
constants:
  tau: 4
auxiliaries:
  one: 1
  d1: delay1(one, tau, 0)
  d3: delay3(one, tau, 0)
  s1: smooth(one, tau, 0)
  s3: smooth3(one, tau, 0)
"""


def test_step_responses_of_delays_and_smooths_rk4() -> None:
    df = run(build(STEP_RESPONSES, "{start: 0, stop: 20, dt: 0.03125}"), method="rk4")
    t = df.index.to_numpy()
    first = 1 - np.exp(-t / 4)
    third = _delay3_exact(t, 4)
    for name, exact in (("d1", first), ("s1", first), ("d3", third), ("s3", third)):
        np.testing.assert_allclose(df[name], exact, rtol=0, atol=1e-8, err_msg=name)


def test_step_responses_euler_within_first_order_error() -> None:
    dt = 0.0625
    df = run(build(STEP_RESPONSES, f"{{start: 0, stop: 20, dt: {dt}}}"))
    t = df.index.to_numpy()
    # smooth under Euler is exactly 1 - (1 - dt/tau)^n.
    np.testing.assert_allclose(df["s1"], 1 - (1 - dt / 4) ** np.arange(len(t)), rtol=1e-12)
    np.testing.assert_allclose(df["d1"], df["s1"], rtol=1e-12)
    third = _delay3_exact(t, 4)
    assert np.max(np.abs(df["d3"] - third)) < 0.01
    np.testing.assert_allclose(df["s3"], df["d3"], atol=1e-12)


def test_smooth_of_a_step_starts_at_the_input_and_responds_from_t0() -> None:
    dt = 0.5
    m = build(
        "auxiliaries:\n  x: step(1, 2)\n  s: smooth(x, 2)\n  d: delay1(x, 2)\n",
        f"{{start: 0, stop: 6, dt: {dt}}}",
    )
    df = run(m)
    t = df.index.to_numpy()
    n = np.maximum(0, np.round((t - 2) / dt))
    expected = 1 - (1 - dt / 2) ** n  # Euler's exact discrete response from t = 2 on
    np.testing.assert_allclose(df["s"], expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(df["d"], expected, rtol=1e-12, atol=0)
    assert df.loc[2.0, "s"] == 0
    assert df.loc[2.5, "s"] == 0.25


def test_init_of_smooth_and_delay_when_the_input_depends_on_stocks() -> None:
    body = """
stocks:
  s: {initial: 5, inflows: [f]}
flows:
  f: 1
auxiliaries:
  sm: smooth(s * 2, 3)
  sm3: smooth3(s * 2, 3)
  d1: delay1(s, 2)
  d3: delay3(s + 1, 2)
  given: smooth(s, 3, -7)
  dgiven: delay3(s, 3, 4)
"""
    df = run(build(body))
    first = df.iloc[0]
    assert (first["sm"], first["sm3"], first["d1"], first["d3"]) == (10, 10, 5, 6)
    assert (first["given"], first["dgiven"]) == (-7, 4)
    # smooth(2s, 3) under Euler: 10, 10, 10 + (12 - 10)/3, ...
    assert df.loc[1.0, "sm"] == 10
    np.testing.assert_allclose(df.loc[2.0, "sm"], 10 + 2 / 3, rtol=1e-14)


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_delay_fixed_is_an_exact_shift(method: str) -> None:
    body = """
auxiliaries:
  x: sin(time) + time
  late: delay_fixed(x, 3, -1)
"""
    df = run(build(body, "{start: 0, stop: 10, dt: 0.25}"), method=method)
    t = df.index.to_numpy()
    expected = np.where(t < 3, -1.0, np.sin(t - 3) + (t - 3))
    np.testing.assert_allclose(df["late"], expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize("method", ["euler", "rk4"])
@pytest.mark.parametrize("dt", [0.25, 0.1, 1.0])
def test_pulse_moves_exactly_m_in_one_step(method: str, dt: float) -> None:
    body = "stocks:\n  s: {initial: 0, inflows: [f]}\nflows:\n  f: pulse(3, 2)\n"
    df = run(build(body, f"{{start: 0, stop: 5, dt: {dt}}}"), method=method)
    t = df.index.to_numpy()
    k0 = round(2 / dt)
    s = df["s"].to_numpy()
    assert np.all(s[: k0 + 1] == 0)
    np.testing.assert_allclose(s[k0 + 1 :], 3.0, rtol=1e-14)
    f = df["f"].to_numpy()
    np.testing.assert_allclose(f[k0], 3 / dt, rtol=1e-14)
    assert np.count_nonzero(f) == 1
    assert t[k0] == pytest.approx(2.0)


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_repeating_pulse(method: str) -> None:
    body = "stocks:\n  s: {initial: 0, inflows: [f]}\nflows:\n  f: pulse(1.5, 1, 2)\n"
    df = run(build(body, "{start: 0, stop: 8, dt: 0.5}"), method=method)
    expected = 1.5 * np.array([np.sum(np.array([1, 3, 5, 7]) < t) for t in df.index])
    np.testing.assert_allclose(df["s"], expected, rtol=1e-14)


def test_step_and_ramp_at_exact_times() -> None:
    body = """
auxiliaries:
  st: step(4, 2)
  r: ramp(2, 1, 3)
  r_open: ramp(0.5, 2)
"""
    df = run(build(body, "{start: 0, stop: 5, dt: 0.5}"))
    t = df.index.to_numpy()
    np.testing.assert_array_equal(df["st"], np.where(t >= 2, 4.0, 0.0))
    np.testing.assert_array_equal(df["r"], 2 * (np.clip(t, 1, 3) - 1))
    np.testing.assert_array_equal(df["r_open"], 0.5 * np.maximum(t - 2, 0))
    assert df.loc[2.0, "st"] == 4
    assert df.loc[1.5, "st"] == 0


def test_step_at_a_time_that_is_not_exact_in_binary() -> None:
    df = run(build("auxiliaries:\n  st: step(1, 0.3)\n", "{start: 0, stop: 1, dt: 0.1}"))
    # time 0.3 is computed as 0 + 3 * 0.1 = 0.30000000000000004 >= 0.3
    assert df["st"].tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]


NON_NEGATIVE = """
stocks:
  s: {initial: 5, inflows: [i], outflows: [f, g], non_negative: true}
flows:
  i: 0.5
  f: 2
  g: 0.3 * s + 1
"""


def test_non_negative_stock_limits_and_reports_its_outflows() -> None:
    df = run(build(NON_NEGATIVE))
    assert df["s"].tolist()[:4] == [5.0, 1.0, 0.0, 0.0]
    # t=0: 5.5 available, f=2 and g=2.5 fit; t=1: 1.5 available, f takes it all, g none.
    assert df["f"].tolist()[:3] == [2.0, 1.5, 0.5]
    assert df["g"].tolist()[:3] == [2.5, 0.0, 0.0]
    s = df["s"].to_numpy()
    np.testing.assert_allclose(s[1:], s[:-1] + df["i"][:-1] - df["f"][:-1] - df["g"][:-1])


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_non_negative_stock_never_below_zero(method: str) -> None:
    body = """
stocks:
  s: {initial: 5, inflows: [i], outflows: [f], non_negative: true}
  free: {initial: 5, inflows: [i2], outflows: [f2]}
flows:
  i: 0.2 * (1 + sin(time))
  f: 3 * s + 2
  i2: 0.2 * (1 + sin(time))
  f2: 3 * free + 2
"""
    df = run(build(body, "{start: 0, stop: 10, dt: 0.5}"), method=method)
    assert df["s"].min() >= 0
    assert df["free"].min() < 0  # the same model without the flag goes negative
    assert np.all(df["f"] <= df["s"] / 0.5 + df["i"] + 1e-12)


def test_flow_non_negative_key_clips_at_zero() -> None:
    body = "flows:\n  f: {equation: 2 - time, non_negative: true}\n"
    df = run(build(body, "{start: 0, stop: 4, dt: 1}"))
    assert df["f"].tolist() == [2, 1, 0, 0, 0]


def test_stop_not_a_whole_number_of_steps_ends_at_the_last_step_before_it() -> None:
    body = "stocks:\n  s: {initial: 0, inflows: [f]}\nflows:\n  f: 1\n"
    m = build(body, "{start: 0, stop: 1, dt: 0.3}")
    df = run(m)
    np.testing.assert_array_equal(df.index, [0, 0.3, 0.6, 0.8999999999999999])
    np.testing.assert_allclose(df["s"], df.index, rtol=1e-15)
    assert run(m, dt=0.4).index.tolist() == [0, 0.4, 0.8]
    assert len(run(m, dt=0.1)) == 11  # 1.0 is reached despite 10 * 0.1 != 1 in binary
    m = build(body, "{start: 2, stop: 3, dt: 0.25}")
    assert run(m).index.tolist() == [2, 2.25, 2.5, 2.75, 3]


def test_save_every_in_the_file_keeps_every_nth_step() -> None:
    body = "stocks:\n  s: {initial: 1, outflows: [f]}\nflows:\n  f: 0.5 * s\n"
    coarse = run(build(body, "{start: 0, stop: 4, dt: 0.25, save_every: 1}"))
    fine = run(build(body, "{start: 0, stop: 4, dt: 0.25}"))
    assert coarse.index.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(coarse.to_numpy(), fine.to_numpy()[::4])
    # save_every that does not divide the run: the last saved step is before stop.
    odd = run(build(body, "{start: 0, stop: 4, dt: 0.25, save_every: 1.5}"))
    assert odd.index.tolist() == [0, 1.5, 3]


def test_the_method_in_the_file_is_the_default() -> None:
    m = build(DECAY, "{start: 0, stop: 2, dt: 0.5, method: rk4}")
    rk4 = run(m)
    x = 0.5
    np.testing.assert_allclose(rk4["y"].iloc[1], 1 - x + x**2 / 2 - x**3 / 6 + x**4 / 24)
    assert run(m, method="euler")["y"].iloc[1] == 0.5


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_pulse_off_the_grid_fires_in_the_first_step_from_t0(method: str) -> None:
    body = "stocks:\n  s: {initial: 0, inflows: [f]}\nflows:\n  f: pulse(3, 2.1)\n"
    df = run(build(body, "{start: 0, stop: 4, dt: 0.25}"), method=method)
    assert df["f"][df["f"] != 0].index.tolist() == [2.25]
    assert df.loc[2.25, "s"] == 0
    assert df.loc[2.5, "s"] == pytest.approx(3, rel=1e-14)
