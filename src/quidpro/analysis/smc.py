"""A vectorised sequential Monte Carlo sampler (adaptive tempering), one batch a move.

Particles start from the prior (standard normal in the priors' normal scores, see
:mod:`quidpro.analysis.calibrate`) and are moved through the tempered posteriors
φ(z)·L(z)^β, β from 0 to 1 (Del Moral, Doucet & Jasra 2006). Each stage picks the next
β by bisection so that the effective sample size of the incremental weights is half
the particles, resamples systematically, and moves every particle with random-walk
Metropolis steps whose proposal is the particles' own covariance scaled by
2.38²/k (Roberts & Rosenthal 2001): one kernel call per step for all particles. Steps
continue until the particles have moved about as far as an independent draw (the
summed acceptance reaches ``moves_target``). The product of the stages' mean weights
estimates the model evidence (its log is reported).

Written here because no well-kept library offers a tempered SMC that takes a
vectorised log-likelihood as a plain function (pymc's and blackjax's need their own
model graphs); the pieces are short and tested on the synthetic model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import logsumexp

Progress = Callable[[str, int, int], None]


def _ess(logw: np.ndarray) -> float:
    with np.errstate(under="ignore"):  # tiny weights are zero weights
        w = np.exp(logw - logw.max())
        return float(w.sum() ** 2 / (w * w).sum())


def _next_beta(loglik: np.ndarray, beta: float, target: float) -> float:
    """The largest β' ≤ 1 whose incremental weights keep an ESS of ``target``."""
    if _ess((1.0 - beta) * loglik) >= target:
        return 1.0
    lo, hi = beta, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _ess((mid - beta) * loglik) >= target:
            lo = mid
        else:
            hi = mid
    return max(lo, beta + 1e-12)


def _systematic(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(weights)
    positions = (rng.random() + np.arange(n)) / n
    idx: np.ndarray = np.searchsorted(np.cumsum(weights), positions)
    return np.asarray(np.minimum(idx, n - 1))


def smc(
    loglik_fn: Callable[[np.ndarray], np.ndarray],
    k: int,
    particles: int,
    seed: int,
    *,
    progress: Progress | None = None,
    moves_target: float = 3.0,
    max_moves: int = 30,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Draws of the posterior in normal scores, shape (particles, k), and diagnostics.

    Args:
        loglik_fn: The log-likelihood of rows of normal scores (n, k) → (n,).
        k: The number of constants.
        particles: Population size (every move is one batch of this many runs).
        seed: Seeds the initial draws, resampling and moves.
        progress: Called with (stage, β in thousandths, 1000).
        moves_target: Summed acceptance a stage's moves must reach.
        max_moves: At most this many moves a stage.

    Returns:
        The final particles and ``{"stages", "moves", "acceptance", "log_evidence", ...}``.
    """
    with np.errstate(under="ignore"):  # vanishing weights and densities are zeros
        return _run(loglik_fn, k, particles, seed, progress, moves_target, max_moves)


def _run(  # noqa: PLR0917 - the body of smc
    loglik_fn: Callable[[np.ndarray], np.ndarray],
    k: int,
    particles: int,
    seed: int,
    progress: Progress | None,
    moves_target: float,
    max_moves: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(11,)))
    z = rng.standard_normal((particles, k))
    ll = loglik_fn(z)
    ll = np.where(np.isfinite(ll), ll, -1e300)
    beta, log_evidence, stages, moves = 0.0, 0.0, 0, 0
    accept_rates: list[float] = []
    scale = 2.38 / math.sqrt(k)
    while beta < 1.0:
        new = _next_beta(ll, beta, 0.5 * particles)
        logw = (new - beta) * ll
        log_evidence += float(logsumexp(logw) - math.log(particles))
        with np.errstate(under="ignore"):
            w = np.exp(logw - logw.max())
        idx = _systematic(w / w.sum(), rng)
        z, ll, beta = z[idx], ll[idx], new
        stages += 1
        cov = np.cov(z, rowvar=False).reshape(k, k) + 1e-9 * np.eye(k)
        chol = np.linalg.cholesky(cov)
        moved = 0.0
        for _ in range(max_moves):
            prop = z + scale * rng.standard_normal((particles, k)) @ chol.T
            ll_prop = loglik_fn(prop)
            ll_prop = np.where(np.isfinite(ll_prop), ll_prop, -1e300)
            with np.errstate(over="ignore", invalid="ignore"):  # -1e300 minus -1e300
                log_ratio = beta * (ll_prop - ll) - 0.5 * ((prop**2).sum(1) - (z**2).sum(1))
            accept = np.log(rng.random(particles)) < log_ratio
            z[accept], ll[accept] = prop[accept], ll_prop[accept]
            rate = float(accept.mean())
            accept_rates.append(rate)
            moves += 1
            moved += rate
            if moved >= moves_target:
                break
        if progress is not None:
            progress("posterior: tempering", round(1000 * beta), 1000)
    return z, {
        "sampler": "tempered SMC (random-walk moves)",
        "particles": particles,
        "stages": stages,
        "moves": moves,
        "acceptance": round(float(np.mean(accept_rates)) if accept_rates else 0.0, 4),
        "log_evidence": round(log_evidence, 3),
        "unique_particles": len(np.unique(z, axis=0)),
    }
