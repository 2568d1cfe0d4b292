"""Bayesian calibration of a model's constants on evidence, many runs per kernel call.

The prior of each calibrated constant is its ``distribution:``; the likelihood is
:mod:`quidpro.analysis.likelihood`. Both methods work in the prior's *normal scores*
``z = Φ⁻¹(F(x))`` (F the prior CDF): every constant becomes unbounded and of unit
scale, and the prior becomes a standard normal, so the posterior density in z is
``φ(z)·L(x(z))`` exactly (the change of variables absorbs the prior density).

- ``map``: the posterior mode of the constants themselves (prior density × likelihood
  in x): a global search with SciPy's differential evolution (``vectorized=True``: a
  whole population is one batched simulation), then L-BFGS-B from the best point with
  gradients by forward differences (k + 1 runs, one batch). Intervals and draws come
  from a Laplace approximation: a Gaussian in z around the mode with the inverse of
  the Hessian (by finite differences, one batch), its eigenvalues floored at the
  prior's (1), so it is never wider than the prior.
- ``mcmc`` with ``sampler="smc"`` (the default): a tempered sequential Monte Carlo
  sampler, four independent populations in one batch (:mod:`quidpro.analysis.smc`);
  R-hat across the populations. Measured on the flagship it reached its posterior in
  a fifth of emcee's time (docs/benchmarks.md): a population of thousands per call
  uses the kernel far better than a few dozen walkers.
- ``mcmc`` with ``sampler="emcee"``: emcee's ensemble sampler (``vectorize=True``:
  all walkers in one batch) with differential-evolution moves (80% DE, 20% DE
  snooker; ter Braak & Vrugt 2008),
  walkers started from the Laplace approximation at the mode. It runs until the
  chain is longer than 50 integrated autocorrelation times and their estimate has
  settled (or ``max_steps``); the first two autocorrelation times are burn-in.
  Diagnostics: acceptance, autocorrelation times, effective sample size
  (kept samples / τ) and split-chain R-hat over the walkers (Gelman et al.).

Runs stop at the last time the evidence reads (when the model does not use
``stop_time``), which makes each evaluation cheaper without changing it.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import ndtr, ndtri

from quidpro.analysis.likelihood import Targets, log_likelihood, targets
from quidpro.analysis.smc import check_particles, min_particles, smc
from quidpro.ensemble.posterior import PosteriorTable
from quidpro.ensemble.runner import CompiledLike, compiled_of
from quidpro.ensemble.sampling import check_seed, frozen, uncertain
from quidpro.errors import ConfigError
from quidpro.evidence.ledger import EvidenceError, Ledger
from quidpro.lang.ast import names
from quidpro.model.check import expressions
from quidpro.model.overrides import constant_overrides
from quidpro.solve.simulate import Compiled, simulate

METHODS = ("map", "mcmc")
SAMPLERS = ("emcee", "smc")
Z_BOUND = 5.0  # the search box in normal scores: 5 prior sd either side
BATCH = 4096  # members per kernel call
# emcee: the chain's first convergence check (its first autocorrelation time, the
# burn-in and the ESS come from it; a shorter chain has none), and the checks after it.
MIN_STEPS, CHECK_EVERY = 200, 100
Progress = Callable[[str, int, int], None]  # (stage, done, total)


def min_walkers(k: int) -> int:
    """The fewest emcee walkers for ``k`` constants.

    emcee's ensemble moves refuse fewer walkers than twice the dimensions (and the
    initial walkers must span them), and the differential-evolution move needs a pair
    of walkers in the half it does not move: 4 at least.
    """
    return max(4, 2 * k)


def check_settings(  # noqa: PLR0917 - one check per setting of calibrate
    method: str,
    sampler: str,
    draws: int,
    max_steps: int,
    walkers: int | None,
    particles: int | None,
    k: int,
) -> None:
    """Raise a :class:`ConfigError` for a setting :func:`calibrate` cannot use.

    Every setting is checked whatever the method, so a bad value never passes unseen
    (a back-test calibrates only at cutoffs with evidence before them).
    """
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; use map or mcmc")
    if sampler not in SAMPLERS:
        raise ConfigError(f"unknown sampler {sampler!r}; use {' or '.join(SAMPLERS)}")
    if draws < 1:
        raise ConfigError(f"draws must be at least 1, got {draws}")
    if max_steps < MIN_STEPS:
        raise ConfigError(
            f"max_steps must be at least {MIN_STEPS} (emcee's first convergence check), "
            f"got {max_steps}"
        )
    plural = "" if k == 1 else "s"
    if walkers is not None and walkers < min_walkers(k):
        raise ConfigError(
            f"walkers must be at least {min_walkers(k)} for {k} calibrated constant{plural} "
            f"(emcee needs twice as many walkers as constants, and 4 at least), got {walkers}"
        )
    if particles is not None:
        check_particles(particles, k)
    elif max(1000, draws) < (least := min_particles(k)):
        raise ConfigError(
            f"particles: the default, max(1000, draws) = {max(1000, draws)}, is too few "
            f"for {k} calibrated constants; give at least {least}"
        )


def scorable(model: CompiledLike, ledger: Ledger) -> Targets:
    """The rows of ``ledger`` the model can score, at least one.

    Raises:
        EvidenceError: The file has no rows, or none the model's observations read.
    """
    spec = compiled_of(model).model
    if not len(ledger):
        raise EvidenceError("the evidence file has no rows (only a header)", ledger.file, 0)
    tg = targets(spec, ledger)
    if not tg.items:
        why = Counter(reason for _, reason in tg.skipped)
        reads = ", ".join(spec.observations) or "no indicator"
        raise EvidenceError(
            "no evidence row the model can score: "
            + "; ".join(f"{reason} ({n} row{'' if n == 1 else 's'})" for reason, n in why.items())
            + f"; the observations: section of {spec.name} reads {reads}",
            ledger.file,
            0,
        )
    return tg


def legacy_random_state(seed: int) -> np.random.RandomState:
    """NumPy's legacy generator for ``seed``, as SciPy's differential evolution and emcee use.

    ``RandomState(seed)`` takes seeds below 2**32 only. Those keep the stream they always
    had (calibrations of those seeds are unchanged); a larger seed (every command takes
    0 to 2**63 - 1) seeds the same Mersenne Twister through a ``SeedSequence`` instead.
    """
    if seed < 2**32:
        return np.random.RandomState(seed)
    return np.random.RandomState(np.random.MT19937(np.random.SeedSequence(seed)))


def default_params(model: CompiledLike, fixed: Sequence[str] = ()) -> list[str]:
    """Every constant with a distribution that is not a lever nor fixed."""
    return [n for n in uncertain(compiled_of(model).model) if n not in fixed]


def check_params(model: CompiledLike, params: Sequence[str]) -> list[str]:
    """``params`` as given, each a constant with a distribution and not a lever.

    Raises:
        ConfigError: A name is not a constant, is a lever or has no distribution.
    """
    spec = compiled_of(model).model
    out = []
    for p in params:
        c = spec.constants.get(p)
        if c is None:
            raise ConfigError(f"params: {p!r} is not a constant of {spec.name}")
        if c.lever:
            raise ConfigError(f"params: {p!r} is a scenario lever; levers are never calibrated")
        if c.distribution is None:
            raise ConfigError(
                f"params: {p!r} has no distribution; calibration needs one as its prior"
            )
        if p not in out:
            out.append(p)
    if not out:
        raise ConfigError(f"nothing to calibrate: {spec.name} has no constant with a distribution")
    return out


class Problem:
    """Prior, likelihood and a batched evaluator of the posterior density."""

    def __init__(
        self,
        model: CompiledLike,
        tg: Targets,
        params: Sequence[str],
        *,
        scenario: str | None = None,
        sets: Mapping[str, float] | None = None,
        backend: str = "auto",
    ) -> None:
        if not tg.items:
            raise ConfigError(
                "no evidence row the model can score: check the observations: section "
                "and the cutoff"
            )
        compiled = compiled_of(model)
        spec = compiled.model
        self.targets = tg
        self.names = check_params(compiled, params)
        self.priors = [frozen(spec.constants[n].distribution) for n in self.names]  # type: ignore[arg-type]
        self.base = constant_overrides(spec, scenario, sets)
        clash = [n for n in self.names if n in self.base]
        if clash:
            raise ConfigError(
                f"cannot calibrate {', '.join(clash)}: fixed by the scenario or the settings"
            )
        self.compiled = _truncated(compiled, tg.last_time)
        self.record = tg.variables
        self.backend_request = backend
        self.backend = "numpy"
        self.evaluations = 0
        self.calls = 0
        self.seconds = 0.0

    @property
    def k(self) -> int:
        """The number of calibrated constants."""
        return len(self.names)

    def plan_backend(self, calls: int, members: int) -> None:
        """Pick the kernel for about ``calls`` calls of ``members`` each.

        The choice depends on the model and the work alone (:func:`stable_backend`), so
        a calibration gives the same numbers in every process.
        """
        self.backend = stable_backend(
            self.compiled, self.backend_request, calls, members, self.record
        )

    def x_of_z(self, z: np.ndarray) -> np.ndarray:
        """Constants from normal scores, row by row: shape (n, k)."""
        u = np.clip(ndtr(z), 1e-15, 1 - 1e-15)
        return np.column_stack([f.ppf(u[:, j]) for j, f in enumerate(self.priors)])

    def z_of_x(self, x: np.ndarray) -> np.ndarray:
        """Normal scores of constants, row by row (the inverse of :meth:`x_of_z`)."""
        u = np.column_stack([f.cdf(x[:, j]) for j, f in enumerate(self.priors)])
        return np.asarray(ndtri(np.clip(u, 1e-15, 1 - 1e-15)))

    def log_prior_x(self, x: np.ndarray) -> np.ndarray:
        """The prior log-density of constants ``x`` (n, k), shape (n,)."""
        with np.errstate(divide="ignore"):
            return np.asarray(
                np.sum([f.logpdf(x[:, j]) for j, f in enumerate(self.priors)], axis=0)
            )

    def log_likelihood(self, x: np.ndarray) -> np.ndarray:
        """Log-likelihood of every row of ``x`` (n, k), in batches of :data:`BATCH`."""
        x = np.atleast_2d(x)
        out = np.empty(x.shape[0])
        for lo in range(0, x.shape[0], BATCH):
            hi = min(lo + BATCH, x.shape[0])
            sets = {**self.base, **{n: x[lo:hi, j].copy() for j, n in enumerate(self.names)}}
            started = perf_counter()
            traj = simulate(self.compiled, sets, hi - lo, record=self.record, backend=self.backend)
            series = {n: traj.values[:, i, :] for i, n in enumerate(traj.names)}
            out[lo:hi] = log_likelihood(self.targets, traj.times, series)
            self.seconds += perf_counter() - started
            self.calls += 1
            self.evaluations += hi - lo
        return out

    def log_density_z(self, z: np.ndarray) -> np.ndarray:
        """The posterior density of normal scores (what the sampler explores)."""
        z = np.atleast_2d(z)
        lp = stats.norm.logpdf(z).sum(axis=1)
        return np.asarray(lp + self.log_likelihood(self.x_of_z(z)))

    def log_density_x(self, z: np.ndarray) -> np.ndarray:
        """The posterior density of the constants themselves at ``x(z)`` (for the mode)."""
        x = self.x_of_z(np.atleast_2d(z))
        return np.asarray(self.log_prior_x(x) + self.log_likelihood(x))


def stable_backend(
    model: Compiled, request: str, calls: int, members: int, record: tuple[str, ...]
) -> str:
    """The kernel for ``calls`` calls of ``members`` members, from the model and work alone.

    The backends agree only to rounding, and a search for the mode amplifies rounding
    (the flagship's back-test CRPSS moved by 0.01 between the NumPy and numba kernels),
    while simulate's tiered ``auto`` switches kernel mid-search once the time it has
    measured would pay for a compile, and counts a compile as free when the disk cache
    holds one: numbers then depend on the machine's load and on what ran before. Here
    ``auto`` (or ``QUIDPRO_BACKEND``) is resolved once per stage by simulate's cost
    model (``Compiled.choose_backend(..., reproducible=True)``) as if nothing were
    compiled, timed or cached: numba's kernel (``jit``) when the model has one and the
    work pays for its compile, else NumPy. A named backend is taken as it is (and checked).
    """
    if request == "auto":  # checked here: simulate's own reading takes a bad value as auto
        request = os.environ.get("QUIDPRO_BACKEND", "auto")
    return model.choose_backend(
        request, members, None, record, calls=max(calls, 1), reproducible=True
    )


def _truncated(model: Compiled, last: float) -> Compiled:
    """The model compiled to stop just after ``last`` (unless it reads ``stop_time``)."""
    spec = model.model
    t = spec.time
    uses_stop = any("stop_time" in names(e) for _, _, e in expressions(spec))
    stop = min(t.stop, t.start + (math.floor((last - t.start) / t.dt + 1e-9) + 2) * t.dt)
    if uses_stop or stop >= t.stop:
        return model
    return Compiled(replace(spec, time=replace(t, stop=stop)))


@dataclass
class Result:
    """A calibration: the mode, the draws and how they were obtained."""

    method: str
    seed: int
    names: list[str]
    map: np.ndarray  # (k,)
    draws: np.ndarray  # (n_draws, k)
    n_observations: int
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The ``calibrate --json`` document."""
        params = {}
        for j, n in enumerate(self.names):
            col = self.draws[:, j]
            lo, med, hi = np.quantile(col, [0.05, 0.5, 0.95])
            params[n] = {
                "map": float(self.map[j]),
                "median": float(med),
                "ci90": [float(lo), float(hi)],
            }
        return {
            "method": self.method,
            "seed": self.seed,
            "observations": self.n_observations,
            "parameters": params,
            "diagnostics": self.diagnostics,
        }

    def table(self, meta: Mapping[str, Any] | None = None) -> PosteriorTable:
        """The draws as a posterior table (what ``--out`` writes), with ``meta``."""
        info = {"method": self.method, "seed": self.seed, "observations": self.n_observations}
        return PosteriorTable(tuple(self.names), self.draws, {**info, **(meta or {})})


# ---------------------------------------------------------------- the mode


def find_mode(
    problem: Problem, seed: int, progress: Progress | None = None, max_generations: int = 60
) -> tuple[np.ndarray, float, dict[str, Any]]:
    """The posterior mode in normal scores: differential evolution, then L-BFGS-B."""
    from scipy.optimize import differential_evolution, minimize

    k = problem.k
    popsize = max(5, min(15, math.ceil(300 / k)))
    problem.plan_backend(max_generations + 40, popsize * k)
    generation = [0]

    def objective(zt: np.ndarray) -> np.ndarray:  # DE passes (k, S)
        v = -problem.log_density_x(np.asarray(zt).T)
        return np.where(np.isfinite(v), v, 1e300)

    def callback(*_: Any) -> None:
        generation[0] += 1
        if progress is not None:
            progress("mode: global search", generation[0], max_generations)

    de = differential_evolution(
        objective,
        bounds=[(-Z_BOUND, Z_BOUND)] * k,
        vectorized=True,
        updating="deferred",
        popsize=popsize,
        maxiter=max_generations,
        tol=1e-8,
        seed=legacy_random_state(seed),
        polish=False,
        init="sobol" if k <= 40 else "latinhypercube",
        callback=callback,
    )
    steps = [0]

    def value_and_grad(z: np.ndarray) -> tuple[float, np.ndarray]:
        h = 1e-4
        pts = np.repeat(z[None, :], k + 1, axis=0)
        pts[1:] += h * np.eye(k)
        f = -problem.log_density_x(pts)
        if not np.all(np.isfinite(f)):
            return 1e300, np.zeros(k)
        steps[0] += 1
        if progress is not None:
            progress("mode: local refinement", min(steps[0], 100), 100)
        return float(f[0]), (f[1:] - f[0]) / h

    local = minimize(
        value_and_grad,
        de.x,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-Z_BOUND, Z_BOUND)] * k,
        options={"maxiter": 100},
    )
    best = local.x if local.fun <= de.fun else de.x
    value = -float(min(local.fun, de.fun))
    info = {
        "de_generations": int(de.nit),
        "local_iterations": int(local.nit),
        "log_posterior_at_map": value,
    }
    return np.asarray(best), value, info


def laplace(problem: Problem, z0: np.ndarray, h: float = 1e-2) -> np.ndarray:
    """Covariance in normal scores from the Hessian of the -log density at ``z0``.

    The Hessian comes from central differences (one batch); its eigenvalues are floored
    at 1, the prior's, so the approximation is never wider than the prior.
    """
    k = problem.k
    eye = np.eye(k)
    pts = [z0]
    pairs = [(i, j) for i in range(k) for j in range(i, k)]
    for i, j in pairs:
        for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
            pts.append(z0 + h * (si * eye[i] + sj * eye[j]))
    f = -problem.log_density_z(np.array(pts))
    hess = np.empty((k, k))
    for n, (i, j) in enumerate(pairs):
        pp, pm, mp, mm = f[1 + 4 * n : 5 + 4 * n]
        hess[i, j] = hess[j, i] = (pp - pm - mp + mm) / (4 * h * h)
    if not np.all(np.isfinite(hess)):
        return np.eye(k)
    w, v = np.linalg.eigh(0.5 * (hess + hess.T))
    w = np.maximum(w, 1.0)
    cov: np.ndarray = (v / w) @ v.T
    return cov


# ---------------------------------------------------------------- the methods


def calibrate(  # noqa: PLR0917 - the order reads as the command line does
    problem: Problem,
    method: str = "mcmc",
    draws: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
    max_steps: int = 5000,
    walkers: int | None = None,
    sampler: str = "smc",
    particles: int | None = None,
) -> Result:
    """Calibrate ``problem`` by ``method`` (map | mcmc); ``draws`` rows in the result.

    ``sampler`` chooses the posterior sampler of ``mcmc``: ``smc`` (the default, the
    faster on the flagship: :mod:`quidpro.analysis.smc`, ``particles`` in all) or
    ``emcee``. ``seed`` is 0 to 2**63 - 1.

    Raises:
        ConfigError: A bad seed or setting (:func:`check_settings`).
    """
    check_seed(seed)
    check_settings(method, sampler, draws, max_steps, walkers, particles, problem.k)
    started = perf_counter()
    z_map, _logp, info = find_mode(problem, seed, progress)
    cov = laplace(problem, z_map)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    if method == "map":
        z = rng.multivariate_normal(z_map, cov, size=draws, method="eigh")
        diag: dict[str, Any] = {"approximation": "laplace", **info}
    elif sampler == "smc":
        n = max(1000, draws) if particles is None else particles
        problem.plan_backend(150, n)
        z_all, diag = smc(
            lambda z: problem.log_likelihood(problem.x_of_z(z)),
            problem.k,
            n,
            seed,
            progress=progress,
        )
        n = len(z_all)
        pick = np.linspace(0, n - 1, draws).round().astype(int)
        z = z_all[pick] if draws <= n else z_all[rng.integers(0, n, draws)]
        r = diag.pop("rhat_groups")
        diag["rhat"] = {p: round(float(v), 4) for p, v in zip(problem.names, r, strict=True)}
        ess = diag.pop("ess_groups")
        diag["ess"] = {p: round(float(v), 1) for p, v in zip(problem.names, ess, strict=True)}
        diag = {**info, **diag}
    else:
        z, diag = _mcmc(problem, z_map, cov, draws, seed, rng, progress, max_steps, walkers)
        diag = {**info, **diag}
    seconds = perf_counter() - started
    diag.update(
        evaluations=problem.evaluations,
        kernel_calls=problem.calls,
        backend=problem.backend,
        seconds=round(seconds, 3),
        evaluations_per_second=round(problem.evaluations / max(problem.seconds, 1e-9), 1),
    )
    x_map = problem.x_of_z(z_map[None, :])[0]
    return Result(method, seed, problem.names, x_map, problem.x_of_z(z), len(problem.targets), diag)


def _mcmc(  # noqa: PLR0917 - a private step of calibrate
    problem: Problem,
    z_map: np.ndarray,
    cov: np.ndarray,
    draws: int,
    seed: int,
    rng: np.random.Generator,
    progress: Progress | None,
    max_steps: int,
    walkers: int | None,
) -> tuple[np.ndarray, dict[str, Any]]:
    import emcee

    k = problem.k
    nw = max(32, 2 * k + 2) if walkers is None else walkers
    nw += nw % 2  # rounded up to an even number (the ensemble moves in two halves)
    min_steps, check_every = MIN_STEPS, CHECK_EVERY
    problem.plan_backend(max_steps, nw)
    p0 = rng.multivariate_normal(z_map, cov, size=nw, method="eigh")
    sampler = emcee.EnsembleSampler(
        nw,
        k,
        problem.log_density_z,
        vectorize=True,
        moves=[(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)],
    )
    sampler.random_state = legacy_random_state(seed).get_state()
    state: Any = p0
    tau_prev = np.inf
    converged = False
    tau = np.full(k, np.nan)
    steps = 0
    while steps < max_steps:
        n = min(check_every, max_steps - steps)
        state = sampler.run_mcmc(state, n, progress=False)
        steps += n
        if progress is not None:
            progress("posterior: sampling", steps, max_steps)
        if steps < min_steps:
            continue
        tau = sampler.get_autocorr_time(tol=0, quiet=True)
        t_max = float(np.max(tau))
        if steps > 50 * t_max and abs(tau_prev - t_max) / t_max < 0.05:
            enough = nw * (steps - int(2 * t_max)) / max(t_max, 1.0)
            if enough >= min(draws, 400):
                converged = True
                break
        tau_prev = t_max
    t_max = float(np.nanmax(tau)) if np.isfinite(tau).any() else 1.0
    burn = min(math.ceil(2 * t_max), steps // 2)
    chain = sampler.get_chain(discard=burn)  # (steps, walkers, k)
    flat = chain.reshape(-1, k)
    pick = np.linspace(0, flat.shape[0] - 1, draws).round().astype(int)
    diag = {
        "sampler": "emcee (DE + DE-snooker moves)",
        "walkers": nw,
        "steps": steps,
        "burn_in": burn,
        "converged": converged,
        "acceptance": round(float(np.mean(sampler.acceptance_fraction)), 4),
        "autocorr_time": {n: round(float(t), 2) for n, t in zip(problem.names, tau, strict=True)},
        "ess": {
            n: round(float(flat.shape[0] / max(t, 1.0)), 1)
            for n, t in zip(problem.names, tau, strict=True)
        },
        "rhat": {
            n: round(float(r), 4) for n, r in zip(problem.names, split_rhat(chain), strict=True)
        },
    }
    return flat[pick], diag


def split_rhat(chain: np.ndarray) -> np.ndarray:
    """Split-chain R-hat (Gelman et al., BDA3 §11.4) per parameter of ``chain``.

    ``chain`` is (steps, chains, k); each chain's halves count as two chains. Written here because
    ArviZ, which has it, takes seconds to import for these few lines.
    """
    n = chain.shape[0] // 2
    if n < 2:
        return np.full(chain.shape[2], np.nan)
    halves = np.concatenate([chain[:n], chain[n : 2 * n]], axis=1)  # (n, 2m, k)
    means = halves.mean(axis=0)
    w = halves.var(axis=0, ddof=1).mean(axis=0)
    b = n * means.var(axis=0, ddof=1)
    var = (n - 1) / n * w + b / n
    with np.errstate(divide="ignore", invalid="ignore"):
        r: np.ndarray = np.sqrt(var / w)
    return np.where(w > 0, r, 1.0)
