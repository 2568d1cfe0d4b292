"""Scalar helpers for JIT kernels (numba), mirroring :mod:`quidpro.solve.runtime`."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def j_step(t: float, height: float, t0: float) -> float:
    return height if t >= t0 else 0.0


@njit(cache=True, error_model="numpy")
def j_ramp(t: float, slope: float, t0: float, t1: float = np.inf) -> float:
    return slope * (min(t, t1) - min(t, t0))


@njit(cache=True, error_model="numpy")
def j_pulse(tk: float, dt: float, magnitude: float, t0: float, interval: float = 0.0) -> float:
    eps = dt * 1e-6
    since = tk - t0
    if since <= -eps:
        return 0.0
    phase = np.mod(since + eps, interval) - eps if interval > 0 else since
    return magnitude / dt if -eps < phase < dt - eps else 0.0


@njit(cache=True, error_model="numpy")
def j_interp(x: float, xs: np.ndarray, ys: np.ndarray, linear: bool, discrete: bool) -> float:
    n = xs.shape[0]
    if discrete:
        i = np.searchsorted(xs, x, side="right") - 1
        return float(ys[min(max(i, 0), n - 1)])
    if linear and n > 1:
        if x < xs[0]:
            return float(ys[0] + (x - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0]))
        if x > xs[n - 1]:
            return float(
                ys[n - 1] + (x - xs[n - 1]) * (ys[n - 1] - ys[n - 2]) / (xs[n - 1] - xs[n - 2])
            )
    if x <= xs[0]:
        return float(ys[0])
    if x >= xs[n - 1]:
        return float(ys[n - 1])
    if x != x:  # NaN in, NaN out
        return x
    lo, hi = 0, n - 1
    while hi - lo > 1:  # bisection: no allocation, unlike np.interp on a scalar
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    w = (x - xs[lo]) / (xs[hi] - xs[lo])
    return float(ys[lo] + w * (ys[hi] - ys[lo]))


@njit(cache=True, error_model="numpy")
def j_first_bad(values: np.ndarray) -> int:
    """The index of the first non-finite value (-1 if none: the sum overflowed)."""
    for i in range(values.shape[0]):
        if not np.isfinite(values[i]):
            return i
    return -1
