"""Run an ensemble in memory-bounded batches and gather what the analyses need.

The members' constant values are drawn beforehand (:mod:`quidpro.ensemble.sampling`),
so a batch is just a slice ``[lo, lo + b)`` of them; each batch's results are written
into arrays indexed by member, so the outcome does not depend on the batch size, the
order batches finish in, or the machine that ran them.

Memory: a batch holds ``saved steps × recorded variables × b`` floats (``b`` is chosen
to keep this near :data:`BATCH_BYTES`); the gathered result holds every member's value
of each requested variable at each *kept* saved step, because exact quantiles need all
members. When that would exceed ``max_bytes`` the kept steps are thinned evenly (the
first and last are always kept): quantiles stay exact at the times reported, and
queries and probes still read the full-resolution batch, so they are unaffected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from quidpro.ensemble.query import Probe, read_probe
from quidpro.errors import ConfigError
from quidpro.model.overrides import constant_overrides
from quidpro.solve.simulate import Compiled, simulate

BATCH_BYTES = 128 * 2**20
MAX_BYTES = 2**30
MAX_BATCH = 8192  # NumPy over members is fastest at a few thousand (cache-sized arrays)


@dataclass(frozen=True)
class Plan:
    """Everything a batch needs besides its members' sampled values (small, picklable).

    ``keep`` indexes the saved steps kept for quantiles; ``variables`` are the variables
    whose quantiles are wanted; ``probes`` are read for every member.
    """

    n_runs: int
    seed: int
    scenario: str | None
    sets: Mapping[str, float]
    variables: tuple[str, ...]
    probes: tuple[Probe, ...]
    times: np.ndarray  # every saved time, shape (n_save,)
    keep: np.ndarray  # indices into times, shape (n_keep,)
    batch_size: int
    method: str | None = None
    dt: float | None = None
    backend: str = "numpy"

    @property
    def record(self) -> tuple[str, ...]:
        """Variables the kernel records: the requested ones, then those probes read."""
        extra = [v for p in self.probes for v in p.variables if v not in self.variables]
        return self.variables + tuple(dict.fromkeys(extra))

    def batches(self) -> list[tuple[int, int]]:
        """``[lo, hi)`` member ranges."""
        b = self.batch_size
        return [(lo, min(lo + b, self.n_runs)) for lo in range(0, self.n_runs, b)]


@dataclass
class Batch:
    """One batch's share of an ensemble, from member ``lo`` on.

    ``values`` (kept step, variable, member), ``probes`` (probe, member), ``failed``
    (member,): members whose recorded values went non-finite.
    """

    lo: int
    values: np.ndarray
    probes: np.ndarray
    failed: np.ndarray


@dataclass
class Result:
    """A gathered ensemble, every member's values at the kept times.

    ``values[kept step, variable, member]``, ``probes[probe, member]``,
    ``failed[member]``; ``times`` are the kept times.
    """

    plan: Plan
    times: np.ndarray
    values: np.ndarray
    probes: np.ndarray
    failed: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> np.ndarray:
        """Members whose values stayed finite (shape (n_runs,), bool)."""
        return ~self.failed

    def quantiles(self, qs: Iterable[float]) -> dict[str, dict[float, np.ndarray]]:
        """Per variable, per quantile, a series over the kept times (finite members only)."""
        qs = list(qs)
        ok = self.ok
        every = bool(ok.all())
        out: dict[str, dict[float, np.ndarray]] = {}
        for j, name in enumerate(self.plan.variables):
            qv = np.full((len(qs), len(self.times)), np.nan)
            if ok.any():
                for a in range(0, len(self.times), 16):  # a few rows at a time: cache-sized
                    rows = self.values[a : a + 16, j, :]
                    block = rows.copy() if every else rows[:, ok]
                    qv[:, a : a + 16] = np.quantile(block, qs, axis=1, overwrite_input=True)
            out[name] = {q: qv[i] for i, q in enumerate(qs)}
        return out


Task = tuple[int, dict[str, np.ndarray]]  # (first member, sampled values of the batch)


class Executor(Protocol):
    """Runs batches somewhere and yields them as they finish (in any order)."""

    def map(self, plan: Plan, tasks: Iterable[Task]) -> Iterator[Batch]:
        """Run each (first member, samples) task of ``plan``; yield batches as they end."""
        ...


class HasCompiled(Protocol):
    """Anything that holds a compiled model, such as :class:`quidpro.LoadedModel`."""

    @property
    def compiled(self) -> Compiled:
        """The model lowered once, with its kernels."""
        ...


CompiledLike = Compiled | HasCompiled
"""What the ensemble functions accept: a :class:`Compiled` model or a holder of one."""


def compiled_of(model: CompiledLike) -> Compiled:
    """The compiled model itself, given it or an object that holds it."""
    return model if isinstance(model, Compiled) else model.compiled


class Rows(Protocol):
    """Sampled constants by member range (:class:`~quidpro.ensemble.sampling.MemberSample`)."""

    def rows(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        """The sampled values of members ``lo .. hi - 1``: name → array of shape (hi - lo,)."""
        ...


def make_plan(
    model: CompiledLike,
    n_runs: int,
    seed: int,
    *,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
    variables: Iterable[str] | None = None,
    probes: Iterable[Probe] = (),
    method: str | None = None,
    dt: float | None = None,
    save_every: float | None = None,
    backend: str = "auto",
    batch_size: int | None = None,
    max_bytes: int = MAX_BYTES,
) -> Plan:
    """Check the request, choose the batch size and the kept steps, resolve the backend."""
    compiled = compiled_of(model)
    spec = compiled.model
    if n_runs < 1:
        raise ConfigError(f"n_runs must be at least 1, got {n_runs}")
    constant_overrides(spec, scenario, sets)  # validates the scenario and the set names
    visible = compiled.system.visible
    names = tuple(visible) if variables is None else tuple(variables)
    unknown = [v for v in names if v not in visible]
    if unknown:
        raise ConfigError(f"not a stock, flow or auxiliary of {spec.name}: {', '.join(unknown)}")
    time = spec.time
    if dt is not None:
        time = replace(time, dt=dt)
    if save_every is not None:
        time = replace(time, save_every=save_every)
    stride = time.save_stride
    n_save = time.n_steps // stride + 1
    times = time.start + np.arange(n_save) * stride * time.dt
    probes = tuple(probes)
    keep = _kept_steps(n_save, len(names) * n_runs * 8, max_bytes)
    n_rec = len(names) + sum(len(p.variables) for p in probes)
    if batch_size is None:
        batch_size = min(MAX_BATCH, max(256, BATCH_BYTES // max(1, n_save * n_rec * 8)))
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    record = names + tuple(dict.fromkeys(v for p in probes for v in p.variables if v not in names))
    resolved = compiled.choose_backend(backend, n_runs, method or time.method, record, time.n_steps)
    return Plan(
        n_runs=n_runs,
        seed=seed,
        scenario=scenario,
        sets=dict(sets or {}),
        variables=names,
        probes=probes,
        times=times,
        keep=keep,
        batch_size=min(batch_size, n_runs),
        method=method,
        dt=dt,
        backend=resolved,
    )


def _kept_steps(n_save: int, bytes_per_step: int, max_bytes: int) -> np.ndarray:
    if bytes_per_step == 0:
        return np.arange(n_save)
    fit = max_bytes // bytes_per_step
    if fit < 1:
        raise ConfigError(
            f"the quantiles of {bytes_per_step // 8:,} values per time step do not fit in "
            f"{max_bytes / 2**20:.0f} MiB; ask for fewer variables or fewer runs"
        )
    if fit >= n_save:
        return np.arange(n_save)
    if fit == 1:
        return np.array([n_save - 1])
    k = math.ceil((n_save - 1) / (fit - 1))
    idx = np.arange(0, n_save, k)
    return idx if idx[-1] == n_save - 1 else np.append(idx, n_save - 1)


def run_batch(model: CompiledLike, plan: Plan, lo: int, samples: Mapping[str, np.ndarray]) -> Batch:
    """Simulate members ``lo .. lo + b`` (``samples[name]`` has shape (b,))."""
    compiled = compiled_of(model)
    b = len(next(iter(samples.values()))) if samples else _batch_len(plan, lo)
    traj = simulate(
        compiled,
        overrides=constant_overrides(compiled.model, plan.scenario, {**samples, **plan.sets}),
        n_runs=b,
        method=plan.method,
        dt=plan.dt,
        record=plan.record,
        backend=plan.backend,
        save_every=(plan.times[1] - plan.times[0]) if len(plan.times) > 1 else None,
        member_offset=lo,
    )
    nv = len(plan.variables)
    full = len(plan.keep) == len(traj.times)
    values = traj.values[:, :nv, :] if full else traj.values[plan.keep, :nv, :]
    series = {name: traj.values[:, j, :] for j, name in enumerate(traj.names)}
    probes = np.empty((len(plan.probes), b))
    for i, p in enumerate(plan.probes):
        probes[i] = read_probe(p, traj.times, series, compiled.model, b)
    failed = np.zeros(b, dtype=bool)
    failed[list(traj.failures)] = True
    return Batch(lo, values, probes, failed)


def _batch_len(plan: Plan, lo: int) -> int:
    return min(lo + plan.batch_size, plan.n_runs) - lo


class LocalExecutor:
    """Runs batches one after another in this process."""

    def __init__(self, model: CompiledLike) -> None:
        self.model = compiled_of(model)

    def map(self, plan: Plan, tasks: Iterable[Task]) -> Iterator[Batch]:
        """Run the batches in order, here."""
        for lo, samples in tasks:
            yield run_batch(self.model, plan, lo, samples)


def run_plan(
    model: CompiledLike,
    plan: Plan,
    samples: Mapping[str, np.ndarray] | Rows,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Run every member of ``plan`` and gather the results by member index.

    Args:
        model: The compiled model (or a holder of one).
        plan: From :func:`make_plan`.
        samples: ``samples[name]`` of shape (n_runs,), or :class:`Rows` giving the values
            of a member range on demand (so a batch's are made when it starts).
        executor: Where batches run (this process by default).
        progress: Called with the number of members just finished.

    Returns:
        The gathered ensemble.
    """
    executor = executor or LocalExecutor(model)
    n = plan.n_runs
    values = np.empty((len(plan.keep), len(plan.variables), n))
    probes = np.empty((len(plan.probes), n))
    failed = np.zeros(n, dtype=bool)
    if isinstance(samples, Mapping):
        table = samples
        tasks: Iterator[Task] = (
            (lo, {k: np.asarray(v[lo:hi]) for k, v in table.items()}) for lo, hi in plan.batches()
        )
    else:
        rows = samples
        tasks = ((lo, rows.rows(lo, hi)) for lo, hi in plan.batches())
    for batch in executor.map(plan, tasks):
        hi = batch.lo + batch.failed.shape[0]
        values[:, :, batch.lo : hi] = batch.values
        probes[:, batch.lo : hi] = batch.probes
        failed[batch.lo : hi] = batch.failed
        if progress is not None:
            progress(hi - batch.lo)
    return Result(plan, plan.times[plan.keep], values, probes, failed)
