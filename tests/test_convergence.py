"""The measured order of each method: the slope of log(error) against log(dt).

As diffrax's ``test_ode_order``: halve dt several times, fit a line through
(log dt, log error) at the final time, and compare its slope with the order.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from quidpro.api import LoadedModel
from quidpro.io.load import parse_model
from quidpro.solve.methods import METHODS

DTS = [2.0**-k for k in range(2, 7)]  # 1/4 ... 1/64

LINEAR = """
stocks:
  y: {initial: 1, outflows: [decay]}
flows:
  decay: y
"""

# A damped, driven pendulum: nonlinear and time-dependent (RK4 stages see time).
PENDULUM = """
constants:
  damping: 0.1
stocks:
  angle: {initial: 1, inflows: [turning]}
  speed: {initial: 0, inflows: [torque]}
flows:
  turning: speed
  torque: -sin(angle) - damping * speed + 0.5 * cos(time)
"""


def build(body: str) -> LoadedModel:
    text = f"quidpro: 1\nname: conv\ntime: {{start: 0, stop: 4, dt: 0.25}}\n{body}"
    return LoadedModel(parse_model(text, "conv.yaml"))


@functools.cache
def pendulum_reference() -> float:
    def f(t: float, y: np.ndarray) -> list[float]:
        return [y[1], -np.sin(y[0]) - 0.1 * y[1] + 0.5 * np.cos(t)]

    with np.errstate(under="ignore"):  # scipy's first-step heuristic underflows at t = 0
        sol = solve_ivp(f, (0, 4), [1.0, 0.0], method="DOP853", rtol=1e-13, atol=1e-13)
    return float(sol.y[0, -1])


def measured_order(m: LoadedModel, var: str, exact: float, method: str) -> float:
    errors = []
    for dt in DTS:
        df = m.run(method=method, dt=dt, backend="numpy")
        assert df.index[-1] == 4.0
        errors.append(abs(df[var].iloc[-1] - exact))
    slope, _ = np.polyfit(np.log(DTS), np.log(errors), 1)
    return float(slope)


@pytest.mark.parametrize(("method", "tol"), [("euler", 0.1), ("rk4", 0.2)])
def test_order_on_linear_decay(method: str, tol: float) -> None:
    order = measured_order(build(LINEAR), "y", float(np.exp(-4.0)), method)
    assert order == pytest.approx(METHODS[method].order, abs=tol)


@pytest.mark.parametrize(("method", "tol"), [("euler", 0.15), ("rk4", 0.25)])
def test_order_on_a_nonlinear_driven_model(method: str, tol: float) -> None:
    order = measured_order(build(PENDULUM), "angle", pendulum_reference(), method)
    assert order == pytest.approx(METHODS[method].order, abs=tol)


def test_rk4_is_close_to_the_reference_solution() -> None:
    df = build(PENDULUM).run(method="rk4", dt=1 / 64, backend="numpy")
    assert df["angle"].iloc[-1] == pytest.approx(pendulum_reference(), abs=1e-8)
