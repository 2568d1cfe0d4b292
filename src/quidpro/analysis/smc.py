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
estimates the model evidence (its log is reported). The particles form
:data:`GROUPS` independent populations (each resampled and moved on its own, all
evaluated in the same kernel calls, β chosen so every population keeps its ESS);
R-hat across them is the convergence diagnostic, as across chains in MCMC, and the
effective sample size (:func:`ancestral_ess`) says how many independent draws the
final particles are worth.

Written here because no well-kept library offers a tempered SMC that takes a
vectorised log-likelihood as a plain function (pymc's and blackjax's need their own
model graphs); the pieces are short and tested on the synthetic model.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import logsumexp

from quidpro.errors import ConfigError

Progress = Callable[[str, int, int], None]
# Independent populations, tempered on one schedule and run in the same kernel calls:
# their agreement (R-hat across them) is the convergence diagnostic.
GROUPS = 4
# The fewest particles a population works with: two leave the ESS target (half of them)
# at one, met by any weights, so tempering jumps to beta = 1 in one stage.
MIN_PER_GROUP = 3


def min_particles(k: int) -> int:
    """The fewest particles for ``k`` constants: :data:`GROUPS` populations of ``k + 1``.

    A population's covariance (the move's proposal) spans only ``n - 1`` directions, so
    with ``n <= k`` particles the moves never leave a subspace; and a population needs
    :data:`MIN_PER_GROUP` at least for the tempering to take more than one stage.
    """
    return GROUPS * max(MIN_PER_GROUP, k + 1)


def check_particles(particles: int, k: int) -> None:
    """Raise a :class:`ConfigError` when ``particles`` is below :func:`min_particles`."""
    least = min_particles(k)
    if particles < least:
        raise ConfigError(
            f"particles must be at least {least} for {k} calibrated constant"
            f"{'' if k == 1 else 's'} ({GROUPS} populations of max({MIN_PER_GROUP}, k + 1)), "
            f"got {particles}"
        )


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
        particles: Population size (every move is one batch of this many runs), at
            least :func:`min_particles`; rounded up to a multiple of :data:`GROUPS`.
        seed: Seeds the initial draws, resampling and moves.
        progress: Called with (stage, β in thousandths, 1000).
        moves_target: Summed acceptance a stage's moves must reach.
        max_moves: At most this many moves a stage.

    Returns:
        The final particles and ``{"stages", "moves", "acceptance", "log_evidence", ...}``.

    Raises:
        ConfigError: Fewer particles than :func:`min_particles`.
    """
    check_particles(particles, k)
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
    n = -(-particles // GROUPS)  # particles per group
    total = n * GROUPS
    z = rng.standard_normal((total, k))
    ll = _finite(loglik_fn(z))
    beta, stages, moves = 0.0, 0, 0
    log_evidence = np.zeros(GROUPS)
    accept_rates: list[float] = []
    scale = 2.38 / math.sqrt(k)
    while beta < 1.0:
        groups = ll.reshape(GROUPS, n)
        new = min(_next_beta(g, beta, 0.5 * n) for g in groups)
        logw = (new - beta) * groups
        log_evidence += logsumexp(logw, axis=1) - math.log(n)
        idx = np.concatenate(
            [g * n + _systematic(_normalised(logw[g]), rng) for g in range(GROUPS)]
        )
        z, ll, beta = z[idx], ll[idx], new
        stages += 1
        chol = np.stack([_cholesky(z[g * n : (g + 1) * n], k) for g in range(GROUPS)])
        moved = 0.0
        for _ in range(max_moves):
            step = rng.standard_normal((GROUPS, n, k)) @ chol.transpose(0, 2, 1)
            prop = z + scale * step.reshape(total, k)
            ll_prop = _finite(loglik_fn(prop))
            with np.errstate(over="ignore", invalid="ignore"):  # -1e300 minus -1e300
                log_ratio = beta * (ll_prop - ll) - 0.5 * ((prop**2).sum(1) - (z**2).sum(1))
            accept = np.log(rng.random(total)) < log_ratio
            z[accept], ll[accept] = prop[accept], ll_prop[accept]
            rate = float(accept.mean())
            accept_rates.append(rate)
            moves += 1
            moved += rate
            if moved >= moves_target:
                break
        if progress is not None:
            progress("posterior: tempering", round(1000 * beta), 1000)
    rhat = group_rhat(z.reshape(GROUPS, n, k))
    ess = ancestral_ess(z.reshape(GROUPS, n, k))
    return z, {
        "sampler": f"tempered SMC, {GROUPS} independent populations (random-walk moves)",
        "particles": total,
        "stages": stages,
        "moves": moves,
        "acceptance": round(float(np.mean(accept_rates)) if accept_rates else 0.0, 4),
        "log_evidence": round(float(np.mean(log_evidence)), 3),
        "log_evidence_spread": round(float(np.ptp(log_evidence)), 3),
        "unique_particles": len(np.unique(z, axis=0)),
        "rhat_groups": rhat,
        "ess_groups": ess,
    }


def _finite(ll: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(ll), ll, -1e300)


def _normalised(logw: np.ndarray) -> np.ndarray:
    w = np.exp(logw - logw.max())
    return np.asarray(w / w.sum())


def _cholesky(z: np.ndarray, k: int) -> np.ndarray:
    cov = np.cov(z, rowvar=False).reshape(k, k) + 1e-9 * np.eye(k)
    return np.asarray(np.linalg.cholesky(cov))


def ancestral_ess(samples: np.ndarray) -> np.ndarray:
    """Effective sample size per parameter of SMC populations, shape (populations, n, k).

    Systematic resampling leaves the copies of one ancestor side by side, and the
    Metropolis moves only partly separate them, so within a population neighbours in
    index order are correlated as successive states of a chain are. Reading each
    population as a chain, emcee's integrated autocorrelation time ``tau`` (averaged
    over the populations) counts that clustering: the ESS is ``populations * n / tau``,
    at most the number of particles. A sample of independent draws gives about its size.
    """
    from emcee.autocorr import integrated_time

    g, n, _ = samples.shape
    chain = np.transpose(samples, (1, 0, 2))  # (n, populations, k): emcee's layout
    logger = logging.getLogger("emcee.autocorr")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its "chain is short" note concerns MCMC run lengths
    try:
        tau = np.asarray(integrated_time(chain, quiet=True), dtype=float)
    finally:
        logger.setLevel(level)
    tau = np.where(np.isfinite(tau), np.maximum(tau, 1.0), float(n))
    return np.asarray(g * n / tau)


def group_rhat(samples: np.ndarray) -> np.ndarray:
    """Gelman-Rubin R-hat per parameter across independent populations.

    Args:
        samples: Shape (populations, draws, k).

    Returns:
        Shape (k,): near 1 when the populations agree.
    """
    n = samples.shape[1]
    means = samples.mean(axis=1)
    w = samples.var(axis=1, ddof=1).mean(axis=0)
    b = n * means.var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt(((n - 1) / n * w + b / n) / w)
    return np.asarray(np.where(w > 0, r, 1.0))
