"""Functions the generated kernels call: time builtins and lookups.

They accept floats or arrays over the ensemble axis alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

Array = Any  # float | np.ndarray; the kernels mix both freely


def sd_step(t: float, height: Array, t0: Array) -> Array:
    """0 before t0, ``height`` from t0 on."""
    return np.where(t >= t0, height, 0.0)


def sd_ramp(t: float, slope: Array, t0: Array, t1: Array = np.inf) -> Array:
    """0 before t0, ``slope * (t - t0)`` until t1, constant after."""
    return slope * (np.minimum(t, t1) - np.minimum(t, t0))


def sd_pulse(tk: float, dt: float, magnitude: Array, t0: Array, interval: Array = 0.0) -> Array:
    """Moves ``magnitude`` in one step: ``magnitude/dt`` during the step that starts at t0.

    With ``interval > 0`` the pulse repeats every ``interval``. ``tk`` is the start of
    the current step, so every stage of a Runge–Kutta step sees the same pulse.
    """
    eps = dt * 1e-6
    since = tk - t0
    repeat = np.asarray(interval) > 0
    phase = np.where(repeat, np.mod(since + eps, np.where(repeat, interval, 1.0)) - eps, since)
    on = (since > -eps) & (phase > -eps) & (phase < dt - eps)
    return np.where(on, magnitude / dt, 0.0)


def delayed(buf: Sequence[Array], lags: np.ndarray, init: Array) -> np.ndarray:
    """Per member ``r``: the value ``lags[r]`` steps ago from ``buf`` (oldest first), or
    ``init`` while fewer steps have passed. For delays that differ between members.
    """
    n = len(buf)
    out = np.array(np.broadcast_to(init, lags.shape), dtype=float)
    for lag in np.unique(lags[lags <= n]):
        chosen = lags == lag
        out[chosen] = np.broadcast_to(buf[n - int(lag)], lags.shape)[chosen]
    return out


class LookupFn:
    """A graphical function: piecewise linear, clamped or linearly extrapolated, or discrete."""

    def __init__(
        self,
        xs: tuple[float, ...],
        ys: tuple[float, ...],
        extrapolate: str = "clamp",
        discrete: bool = False,
    ) -> None:
        self.xs = np.asarray(xs, dtype=float)
        self.ys = np.asarray(ys, dtype=float)
        self.linear = extrapolate == "linear" and len(xs) > 1
        self.discrete = discrete

    def __call__(self, x: Array) -> Array:
        xs, ys = self.xs, self.ys
        if self.discrete:
            i = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 1)
            return ys[i]
        y = np.interp(x, xs, ys)
        if self.linear:
            lo = ys[0] + (x - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0])
            hi = ys[-1] + (x - xs[-1]) * (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
            y = np.where(x < xs[0], lo, np.where(x > xs[-1], hi, y))
        return y
