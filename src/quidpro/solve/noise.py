"""Random draws for the random builtins (``normal``, ``uniform``, ``lognormal``,
``poisson``, ``exprnd``; XMILE's NORMAL, RANDOM, ...), vectorised over the ensemble.

A draw is a pure function of (seed, call site, time step, ensemble member), computed
with the SplitMix64 mixer on unsigned 64-bit integers, so:

- every member gets its own independent stream, and member *i* of a batch sees the
  same numbers as a run of its own (a batch equals a loop);
- all Runge–Kutta stages of a step see the same value (the step, not the stage time,
  is an input), as do the initial values (step 0);
- the same seed gives the same run, whatever else the model contains.

No global random state is read or changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix_int(x: int) -> int:
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _mix(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(_GOLDEN)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: np.ndarray = x ^ (x >> np.uint64(31))
    return out


def uniform01(seed: Any, site: int, step: int, draw: int, members: np.ndarray) -> np.ndarray:
    """Uniform numbers in (0, 1): one per member (its index in the whole ensemble, so a
    member draws the same numbers in any batch), for this site, step and draw.
    """
    seeds = np.asarray(seed, dtype=float)
    members = np.asarray(members, dtype=np.uint64)
    key = _mix_int(_mix_int(_mix_int(site) ^ step) ^ draw)
    if seeds.ndim == 0:
        base = np.uint64(_mix_int(key ^ (int(seeds) & _MASK)))
        x = _mix(members ^ base)
    else:  # a seed per member
        s = seeds.astype(np.int64).astype(np.uint64)
        x = _mix(_mix(s ^ np.uint64(key)) ^ members)
    return ((x >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53


def _step(tk: float, t0: float, dt: float) -> int:
    return round(float((tk - t0) / dt))


def _normal(seed: Any, site: int, k: int, members: np.ndarray) -> np.ndarray:
    u1, u2 = uniform01(seed, site, k, 0, members), uniform01(seed, site, k, 1, members)
    out: np.ndarray = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return out


def draw(kind: str, tk: float, t0: float, dt: float, members: np.ndarray, *args: Any) -> Any:
    """One step's draw of ``kind`` for ``members`` (ensemble indices), with its
    parameters, then (seed, site).
    """
    n = len(members)
    *params, seed, site = args
    k = _step(tk, t0, dt)
    site = int(site)
    if kind == "uniform":
        lo, hi = params
        return lo + (hi - lo) * uniform01(seed, site, k, 0, members)
    if kind == "normal":
        mean, sd = params
        return mean + sd * _normal(seed, site, k, members)
    if kind == "lognormal":  # mean and sd of the lognormal itself (XMILE, Stella)
        mean, sd = (np.asarray(p, dtype=float) for p in params)
        sigma2 = np.log1p((sd / mean) ** 2)
        mu = np.log(mean) - sigma2 / 2
        return np.exp(mu + np.sqrt(sigma2) * _normal(seed, site, k, members))
    if kind == "exprnd":
        (mean,) = params
        return -mean * np.log(uniform01(seed, site, k, 0, members))
    if kind == "poisson":
        (mean,) = params
        return _poisson(
            np.broadcast_to(np.asarray(mean, dtype=float), (n,)), seed, site, k, members
        )
    raise ValueError(kind)  # pragma: no cover - the builtins are checked before


def _poisson(mean: np.ndarray, seed: Any, site: int, k: int, members: np.ndarray) -> np.ndarray:
    """By inversion for small means, a rounded normal above 50 (error below 1e-2)."""
    n = len(members)
    u = uniform01(seed, site, k, 0, members)
    big = mean > 50
    count = np.zeros(n)
    p = np.exp(-np.where(big, 0.0, mean))
    cdf = p.copy()
    for i in range(1, 200):
        more = (u > cdf) & ~big
        if not more.any():
            break
        p = np.where(more, p * mean / i, p)
        cdf = np.where(more, cdf + p, cdf)
        count = np.where(more, i, count)
    approx = np.maximum(0.0, np.round(mean + np.sqrt(mean) * _normal(seed, site, k, members)))
    return np.where(big, approx, count)
