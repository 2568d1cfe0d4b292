"""Draw ensemble members from the constants' uncertainty distributions.

Every sampler makes points in the unit hypercube, one row per member and one column
per uncertain constant, and maps each column through its distribution's inverse CDF
(``scipy.stats``'s ``ppf``, or its closed form, bit for bit: :func:`inverse_cdf`):

- ``random``: plain Monte Carlo. Members come in fixed blocks of :data:`BLOCK`; block
  ``b`` draws from ``np.random.SeedSequence(seed).spawn(...)[b]``, and a range that starts
  inside a block jumps to it (``PCG64.advance``) instead of drawing the rows before it.
- ``lhs``: Latin hypercube (McKay et al. 1979, as in ``scipy.stats.qmc.LatinHypercube``):
  column j is ``(perm_j + jitter) / n``; the permutations are kept as int32 (4 bytes per
  member and constant), the jitter comes in seeded blocks like ``random``.
- ``sobol``: scrambled Sobol' points from ``scipy.stats.qmc.Sobol``, fast-forwarded to
  the first member of a batch.

:class:`MemberSample` gives the rows of any member range ``[lo, hi)`` on demand, and
the rows of a member never depend on the range asked for, so the numbers are the
same whatever the batch size or the machine a batch runs on — and a million-member
ensemble never holds its whole sample (``n × k`` floats) in memory.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from quidpro.ensemble.posterior import PosteriorSample, PosteriorTable
from quidpro.errors import ConfigError, ModelError
from quidpro.model.overrides import set_by_scenario
from quidpro.model.spec import Distribution, Model

if TYPE_CHECKING:
    from scipy import stats

SAMPLERS = ("random", "lhs", "sobol")
# Unit-cube points are kept this far from 0 and 1 so that unbounded inverse CDFs stay finite.
_EPS = 1e-12


def frozen(dist: Distribution) -> stats.rv_continuous:
    """The ``scipy.stats`` frozen distribution of a model's ``distribution:`` entry."""
    # imported here: scipy.stats takes longer to import than the rest of quidpro, and
    # only ensembles need it (not `import quidpro` or a single run)
    from scipy import stats

    p = dist.params
    if dist.kind == "uniform":
        return stats.uniform(loc=p["low"], scale=p["high"] - p["low"])
    if dist.kind == "normal":
        return stats.norm(loc=p["mean"], scale=p["sd"])
    if dist.kind == "triangular":
        width = p["high"] - p["low"]
        c = (p["mode"] - p["low"]) / width if width > 0 else 0.5
        return stats.triang(c, loc=p["low"], scale=width)
    if dist.kind == "lognormal":
        return stats.lognorm(s=p["sigma"], scale=float(np.exp(p["mu"])))
    raise ModelError(f"unknown distribution kind {dist.kind!r}", dist.loc)  # a model defect


def uncertain(model: Model) -> dict[str, Distribution]:
    """The constants that carry a distribution and are not levers, in file order."""
    return {
        n: c.distribution
        for n, c in model.constants.items()
        if c.distribution is not None and not c.lever
    }


#: The largest seed: the run store keeps seeds as signed 64-bit integers.
MAX_SEED = 2**63 - 1
#: Members of one sample: below 2**32, the bound make_plan puts on an ensemble.
MAX_MEMBERS = 2**32


def check_seed(seed: int) -> None:
    """Raise a :class:`ConfigError` unless ``seed`` is a whole number 0 to 2^63-1."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed must be a whole number, got {seed!r}")
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"seed must be 0 to 2^63-1, got {seed}")


def new_seed() -> int:
    """A fresh 32-bit seed from the operating system's entropy (recorded with results)."""
    return int(np.random.SeedSequence().generate_state(1)[0])


BLOCK = 65536


class MemberSample:
    """The sampled constants of ``n`` members, produced a range of members at a time."""

    def __init__(
        self,
        dists: Mapping[str, Distribution],
        n: int,
        seed: int,
        sampler: str = "random",
        keep: Iterable[str] | None = None,
    ) -> None:
        if sampler not in SAMPLERS:
            raise ConfigError(f"unknown sampler {sampler!r}; use one of {', '.join(SAMPLERS)}")
        if not 1 <= n < MAX_MEMBERS:
            raise ConfigError(f"the number of members must be 1 to 2**32 - 1, got {n:,}")
        check_seed(seed)
        self.dists = dict(dists)
        self.n = n
        self.seed = seed
        self.sampler = sampler
        self.keep = list(self.dists) if keep is None else [k for k in keep if k in self.dists]
        self._frozen = {name: frozen(d) for name, d in self.dists.items() if name in self.keep}
        self._perm: np.ndarray | None = None

    @property
    def names(self) -> list[str]:
        """The sampled constants, in the model's order."""
        return list(self.keep)

    def unit(self, lo: int, hi: int) -> np.ndarray:
        """Unit-cube rows of members ``lo .. hi - 1``, shape ``(hi - lo, k)``."""
        k = len(self.dists)
        if k == 0 or hi <= lo:
            return np.empty((max(hi - lo, 0), k))
        if self.sampler == "sobol":
            from scipy.stats import qmc  # see frozen(): imported when needed

            with warnings.catch_warnings():  # balance needs a power of 2; any n is valid
                warnings.simplefilter("ignore", UserWarning)
                engine = qmc.Sobol(d=k, scramble=True, rng=np.random.default_rng(self.seed))
                if lo > 0:  # scipy rejects fast_forward(0)
                    engine.fast_forward(lo)
                u = engine.random(hi - lo)
        elif self.sampler == "lhs":
            if self._perm is None:
                rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1 << 30,)))
                self._perm = np.stack(
                    [rng.permutation(self.n).astype(np.int32) for _ in range(k)], axis=1
                )
            u = (self._perm[lo:hi] + self._blocks(lo, hi, k)) / self.n
        else:
            u = self._blocks(lo, hi, k)
        out: np.ndarray = np.clip(u, _EPS, 1.0 - _EPS)
        return out

    def _blocks(self, lo: int, hi: int, k: int) -> np.ndarray:
        parts = []
        for b in range(lo // BLOCK, (hi - 1) // BLOCK + 1):
            start = b * BLOCK
            bits = np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(b,)))
            skip = max(lo - start, 0)  # rows of the block before lo: one draw per value
            bits.advance(skip * k)
            rows = min(hi, start + BLOCK) - start - skip
            parts.append(np.random.Generator(bits).random((rows, k)))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def rows(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        """Values of the kept constants for members ``lo .. hi - 1``: name → (hi - lo,)."""
        u = self.unit(lo, hi)
        column = {name: j for j, name in enumerate(self.dists)}
        by_constant = np.ascontiguousarray(u.T)  # a row per constant: contiguous columns
        return {
            n: inverse_cdf(self.dists[n], self._frozen[n], by_constant[column[n]])
            for n in self.keep
        }


def inverse_cdf(dist: Distribution, rv: stats.rv_continuous, u: np.ndarray) -> np.ndarray:
    """``rv.ppf(u)`` for ``u`` strictly inside (0, 1), bit for bit.

    scipy's ``ppf`` spends most of its time validating and broadcasting (about 140 ns
    a value for a triangular distribution, 20 µs a member on the flagship's 142
    constants: a serial fifth of a million-member ensemble). For the kinds whose
    inverse is closed-form, this evaluates scipy's own formula (``triang._ppf``,
    ``uniform._ppf``, then ``* scale + loc``) on the values directly;
    ``tests/test_ensemble.py`` checks that it matches ``ppf`` exactly.
    """
    p = dist.params
    if dist.kind == "triangular" and p["high"] > p["low"]:
        width = p["high"] - p["low"]
        c = (p["mode"] - p["low"]) / width
        std = np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u)))
        return np.asarray(std * width + p["low"], dtype=float)
    if dist.kind == "uniform" and p["high"] > p["low"]:
        return np.asarray(u * (p["high"] - p["low"]) + p["low"], dtype=float)
    return np.asarray(rv.ppf(u), dtype=float)


def unit_sample(n: int, k: int, seed: int, sampler: str = "random") -> np.ndarray:
    """Points in the unit hypercube, shape ``(n, k)``, open at both ends."""
    dists = {f"u{j}": Distribution("uniform", {"low": 0.0, "high": 1.0}) for j in range(k)}
    return MemberSample(dists, n, seed, sampler).unit(0, n)


def sample(
    dists: Mapping[str, Distribution], n: int, seed: int, sampler: str = "random"
) -> dict[str, np.ndarray]:
    """``n`` draws of every distribution: name → array of shape ``(n,)``."""
    return MemberSample(dists, n, seed, sampler).rows(0, n)


def bounds(model: Model, name: str) -> tuple[float, float]:
    """Bounds for sensitivity analysis of one constant.

    Its ``range`` if it has one, otherwise its distribution's 1% and 99% quantiles.
    """
    c = model.constants[name]
    if c.range is not None:
        return (float(c.range[0]), float(c.range[1]))
    if c.distribution is None:
        raise ConfigError(f"constant {name!r} has neither a range nor a distribution")
    f = frozen(c.distribution)
    return (float(f.ppf(0.01)), float(f.ppf(0.99)))


def varied(model: Model) -> list[str]:
    """Constants a sensitivity analysis varies: those with a distribution or a range.

    Levers are left out: scenario dates and switches are choices, not uncertainties.
    """
    return [
        n
        for n, c in model.constants.items()
        if (c.distribution is not None or c.range) and not c.lever
    ]


def draw(
    model: Model,
    n: int,
    seed: int,
    sampler: str = "random",
    *,
    scenario: str | None = None,
    fixed: Iterable[str] = (),
    posterior: PosteriorTable | None = None,
) -> MemberSample | PosteriorSample:
    """Members' values of every uncertain constant not fixed by the scenario or ``fixed``.

    The sample is drawn over *all* uncertain constants before any are dropped, so two
    scenarios run with one seed share their random numbers (common random numbers).
    With ``posterior``, its constants come from resampled posterior rows and the others
    keep their values, as in the calibration (:mod:`quidpro.ensemble.posterior`).
    """
    skip = set(fixed) | set_by_scenario(model, scenario)
    dists = uncertain(model)
    if posterior is None:
        return MemberSample(dists, n, seed, sampler, [k for k in dists if k not in skip])
    # The posterior was computed with every other constant at its value, so they stay
    # there: drawing them from their priors would pair the calibrated constants with
    # worlds the calibration never saw (quidpro.ensemble.posterior explains).
    prior = MemberSample(dists, n, seed, sampler, [])
    keep = [k for k in posterior.names if k not in skip]
    return PosteriorSample(posterior, prior, n, seed, keep)
