"""Scalar helpers for JIT kernels (numba), mirroring :mod:`quidpro.solve.runtime`."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy", inline="always")
def j_min(a: float, b: float) -> float:
    """``np.minimum`` of two floats: NaN if either is (Python's ``min`` would drop it)."""
    if a != a:  # noqa: PLR0124  # numba's NaN test
        return a
    if b != b:  # noqa: PLR0124
        return b
    return a if a < b else b


@njit(cache=True, error_model="numpy", inline="always")
def j_max(a: float, b: float) -> float:
    """``np.maximum`` of two floats: NaN if either is."""
    if a != a:  # noqa: PLR0124
        return a
    if b != b:  # noqa: PLR0124
        return b
    return a if a > b else b


@njit(cache=True, error_model="numpy")
def j_step(t: float, height: float, t0: float) -> float:
    """``step(height, t0)`` at time ``t``."""
    return height if t >= t0 else 0.0


@njit(cache=True, error_model="numpy")
def j_ramp(t: float, slope: float, t0: float, t1: float = np.inf) -> float:
    """``ramp(slope, t0, t1)`` at time ``t``."""
    return slope * (min(t, t1) - min(t, t0))


@njit(cache=True, error_model="numpy")
def j_pulse(tk: float, dt: float, magnitude: float, t0: float, interval: float = 0.0) -> float:
    """``pulse(magnitude, t0, interval)`` at step time ``tk``, as a rate over ``dt``."""
    eps = dt * 1e-6
    since = tk - t0
    if since <= -eps:
        return 0.0
    phase = np.mod(since + eps, interval) - eps if interval > 0 else since
    return magnitude / dt if -eps < phase < dt - eps else 0.0


@njit(cache=True, error_model="numpy")
def j_interp(  # noqa: PLR0911  # one return per region of the table
    x: float, xs: np.ndarray, ys: np.ndarray, linear: bool, discrete: bool
) -> float:
    """A lookup table's value at ``x``: clamped, linear beyond the ends, or discrete."""
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
    if x != x:  # noqa: PLR0124  # NaN in, NaN out (numba's NaN test)
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
