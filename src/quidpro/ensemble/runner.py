"""Run an ensemble in memory-bounded batches and summarise it as it streams.

The members' constant values are drawn per batch (:mod:`quidpro.ensemble.sampling`),
so a batch is just a member range ``[lo, lo + b)``; a batch's kernel calls take a few
members at a time, sized so that their output stays in the processor's cache while
it is summarised.

Quantiles, two regimes (``Plan.pilot``):

- **exact**, when every member's value of every requested variable at every saved
  time fits in ``max_bytes`` (256 MiB by default): they are gathered by member index
  and the quantiles are NumPy's;
- **streaming** otherwise: the first ``pilot`` members (as many as fit) are gathered
  and fix an equi-depth histogram per variable-time (:mod:`quidpro.ensemble.sketch`);
  every later batch only adds counts to it. Memory does not grow with the number of
  members, and every quantile comes with a proven bound on its error. Quantiles are
  streamed at up to :data:`MAX_TIMES` saved times, evenly spaced, first and last
  included: without queries the kernel then saves only those (a coarser save step,
  which is most of the saving: recording and counting cost per value); with queries
  it saves every step, which the queries read, and the histograms skip the others.

Queries count their hits per batch (exact). The outcome never depends on the batch
size, the order batches finish in, or the machine that ran them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from quidpro.ensemble.query import Probe, read_probe
from quidpro.ensemble.sketch import MAX_EDGES, Grid, Sketch, cell_bytes, edges_for
from quidpro.errors import ConfigError
from quidpro.model.overrides import constant_overrides
from quidpro.model.spec import TimeSpec
from quidpro.solve.simulate import Compiled, OutputArena, simulate

GATHER_BYTES = 256 * 2**20  # exact quantiles up to this many gathered values (the pilot's cap)
SKETCH_BYTES = 384 * 2**20  # the histograms; beyond it saved times are thinned evenly
MAX_TIMES = 256  # saved times a streamed ensemble summarises at most (a fan chart's detail)
BATCH = 4096  # members sampled and summarised per batch
PILOT_BATCH_BYTES = 32 * 2**20  # a gathered batch's values (copied into the pilot)
NUMPY_BATCH_BYTES = 128 * 2**20  # NumPy's kernel: members per call (fast from ~1,000 up)
CACHE_BYTES = 32 * 2**20  # compiled kernels: one call's output, counted while in cache
MIN_PILOT = 128
MAX_BYTES = GATHER_BYTES  # the former name of the gathering budget


@dataclass(frozen=True)
class Plan:
    """Everything a batch needs besides its members' sampled values (picklable).

    ``keep`` indexes the saved steps whose quantiles are reported; ``variables`` are
    the variables whose quantiles are wanted; ``probes`` are read for every member.
    ``pilot`` members are gathered exactly (all of them: exact quantiles); ``grid`` is
    set for the batches after the pilot, which only count.
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
    pilot: int = 0
    n_edges: int = MAX_EDGES
    call_size: int = 256  # members per kernel call
    per_member: bool = True  # keep every member's probe values and failure flag
    grid: Grid | None = field(default=None, compare=False, repr=False)

    @property
    def exact(self) -> bool:
        """Whether every member is gathered (exact quantiles)."""
        return self.pilot >= self.n_runs

    @property
    def record(self) -> tuple[str, ...]:
        """Variables the kernel records: the requested ones, then those probes read."""
        extra = [v for p in self.probes for v in p.variables if v not in self.variables]
        return self.variables + tuple(dict.fromkeys(extra))

    def batches(self) -> list[tuple[int, int]]:
        """``[lo, hi)`` member ranges: the pilot's, then the rest's."""
        return self.pilot_batches() + self.stream_batches()

    def pilot_batches(self) -> list[tuple[int, int]]:
        """The ranges of the gathered members (smaller batches: their values are copied)."""
        per_member = max(1, len(self.keep) * len(self.variables) * 8)
        size = min(self.batch_size, max(self.call_size, PILOT_BATCH_BYTES // per_member))
        return _ranges(0, min(self.pilot, self.n_runs), size)

    def stream_batches(self) -> list[tuple[int, int]]:
        """The ranges of the members that are only counted."""
        return _ranges(min(self.pilot, self.n_runs), self.n_runs, self.batch_size)


def _ranges(lo: int, hi: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, hi)) for a in range(lo, hi, size)]


@dataclass
class Batch:
    """One batch's share of an ensemble, members ``lo .. lo + n - 1``.

    Gathered batches carry ``values`` (kept step, variable, member); counted ones a
    ``sketch`` of their members. ``probes`` (probe, member), ``failed`` (member,):
    members with a non-finite value anywhere.
    """

    lo: int
    values: np.ndarray | None
    probes: np.ndarray
    failed: np.ndarray
    sketch: Sketch | None = None


class Result:
    """An ensemble's summary: quantiles over time, query counts, failures.

    Exact (``plan.exact``): ``values[kept step, variable, member]`` holds every member.
    Streaming: ``sketch`` holds the histograms and :meth:`quantile_bounds` the error
    bound of every quantile. ``probes[probe, member]`` and ``failed[member]`` exist when
    ``plan.per_member``; the counts ``hits`` (per probe, among finite members),
    ``n_failed`` always.
    """

    def __init__(  # the parts of a summary
        self,
        plan: Plan,
        times: np.ndarray,
        *,
        values: np.ndarray | None,
        sketch: Sketch | None,
        probes: np.ndarray | None,
        failed: np.ndarray | None,
        hits: np.ndarray,
        n_failed: int,
    ) -> None:
        self.plan = plan
        self.times = times
        self.sketch = sketch
        self.hits = hits
        self.n_failed = n_failed
        self._values = values
        self._probes = probes
        self._failed = failed
        self.extra: dict[str, Any] = {}
        self._streamed: dict[tuple[float, ...], tuple[np.ndarray, ...]] = {}

    def streamed(self, qs: Iterable[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sketch's estimates, value and rank bounds, (quantile, time, variable); cached."""
        key = tuple(float(q) for q in qs)
        if key not in self._streamed:
            if self.sketch is None:
                raise ConfigError("an exact ensemble has no streamed quantiles")
            shape = (len(key), len(self.times), len(self.plan.variables))
            self._streamed[key] = tuple(a.reshape(shape) for a in self.sketch.quantiles(key))
        est, vb, rb = self._streamed[key]
        return est, vb, rb

    @property
    def values(self) -> np.ndarray:
        """Every member's values, (kept step, variable, member); exact ensembles only."""
        if self._values is None:
            raise ConfigError(
                f"the {self.plan.n_runs:,} members' values were summarised, not kept "
                f"(more than max_bytes); quantiles come from the streaming sketch"
            )
        return self._values

    @property
    def probes(self) -> np.ndarray:
        """Every member's probe values, (probe, member)."""
        if self._probes is None:
            raise ConfigError("per-member probe values were not kept (per_member=False)")
        return self._probes

    @probes.setter
    def probes(self, value: np.ndarray) -> None:
        self._probes = value

    @property
    def failed(self) -> np.ndarray:
        """Members whose values went non-finite (shape (n_runs,), bool)."""
        if self._failed is None:
            raise ConfigError("per-member failure flags were not kept (per_member=False)")
        return self._failed

    @property
    def ok(self) -> np.ndarray:
        """Members whose values stayed finite (shape (n_runs,), bool)."""
        return ~self.failed

    @property
    def n_ok(self) -> int:
        """Members that ran to the end with finite values."""
        return self.plan.n_runs - self.n_failed

    @property
    def state_bytes(self) -> int:
        """Memory of the summary (gathered values or histograms, counts, per-member flags)."""
        parts = [self._values, self._probes, self._failed, self.hits]
        total = sum(a.nbytes for a in parts if a is not None)
        if self.sketch is not None:
            total += self.sketch.nbytes + self.sketch.grid.nbytes
        return total

    def quantiles(self, qs: Iterable[float]) -> dict[str, dict[float, np.ndarray]]:
        """Per variable, per quantile, a series over the kept times (finite members only)."""
        qs = list(qs)
        if self.sketch is not None:
            est = self.streamed(qs)[0]
            return {
                name: {q: est[i, :, j] for i, q in enumerate(qs)}
                for j, name in enumerate(self.plan.variables)
            }
        return self._exact_quantiles(qs)

    def quantile_bounds(self, qs: Iterable[float]) -> tuple[np.ndarray, np.ndarray]:
        """Error bounds of :meth:`quantiles`: value and rank, (quantile, time, variable).

        Zero for an exact ensemble. Streaming: the exact sample quantile lies within the
        value bound of the estimate; the estimate's rank within the rank bound of q.
        """
        qs = list(qs)
        shape = (len(qs), len(self.times), len(self.plan.variables))
        if self.sketch is None:
            return np.zeros(shape), np.zeros(shape)
        _, vb, rb = self.streamed(qs)
        return vb, rb

    def _exact_quantiles(self, qs: list[float]) -> dict[str, dict[float, np.ndarray]]:
        values = self.values
        ok = self.ok
        every = bool(ok.all())
        out: dict[str, dict[float, np.ndarray]] = {}
        for j, name in enumerate(self.plan.variables):
            qv = np.full((len(qs), len(self.times)), np.nan)
            if ok.any():
                for a in range(0, len(self.times), 16):  # a few rows at a time: cache-sized
                    rows = values[a : a + 16, j, :]
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


def make_plan(  # the settings of an ensemble, by name
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
    max_bytes: int = GATHER_BYTES,
    per_member: bool = True,
) -> Plan:
    """Check the request; choose the pilot, the kept steps, the batches; resolve the backend.

    ``max_bytes`` caps the gathered values: within it every member is kept (exact
    quantiles), beyond it the first members that fit form the pilot of the streaming
    sketch. ``per_member=False`` keeps only counts (memory independent of ``n_runs``).
    """
    compiled = compiled_of(model)
    spec = compiled.model
    if n_runs < 1:
        raise ConfigError(f"n_runs must be at least 1, got {n_runs}")
    if n_runs >= 2**32:
        raise ConfigError(f"n_runs must be below 2**32, got {n_runs}")
    if batch_size is not None and batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
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
    probes = tuple(probes)
    n_save = time.n_steps // time.save_stride + 1
    exact = n_runs * n_save * len(names) * 8 <= max_bytes
    if not exact and not probes:
        time = _coarser(time, n_save)
    stride = time.save_stride
    n_save = time.n_steps // stride + 1
    times = time.start + np.arange(n_save) * stride * time.dt
    keep, pilot = _pilot(n_save, len(names), n_runs, max_bytes)
    record = names + tuple(dict.fromkeys(v for p in probes for v in p.variables if v not in names))
    resolved = compiled.choose_backend(backend, n_runs, method or time.method, record, time.n_steps)
    batch = min(batch_size or BATCH, n_runs)
    member_bytes = max(1, n_save * len(record) * 8)
    if resolved == "numpy":
        calls = max(256, NUMPY_BATCH_BYTES // member_bytes)
    else:  # compiled kernels: a call's output stays in cache while it is summarised
        calls = max(8, CACHE_BYTES // member_bytes)
    return Plan(
        n_runs=n_runs,
        seed=seed,
        scenario=scenario,
        sets=dict(sets or {}),
        variables=names,
        probes=probes,
        times=times,
        keep=keep,
        batch_size=batch,
        method=method,
        dt=dt,
        backend=resolved,
        pilot=pilot,
        n_edges=edges_for(pilot),
        call_size=min(calls, batch),
        per_member=per_member,
    )


def _coarser(time: TimeSpec, n_save: int) -> TimeSpec:
    """The time axis saving at most :data:`MAX_TIMES` times, the last one included.

    The save step grows by the smallest factor that divides the saved intervals
    (so the end stays a saved time) and brings them within the limit; when no factor
    up to twice the least does, the axis is unchanged (the kept steps thin it).
    """
    least = math.ceil((n_save - 1) / (MAX_TIMES - 1))
    if least <= 1:
        return time
    for k in range(least, 2 * least + 1):
        if (n_save - 1) % k == 0:
            return replace(time, save_every=k * time.save_stride * time.dt)
    return time


def _pilot(n_save: int, n_vars: int, n_runs: int, max_bytes: int) -> tuple[np.ndarray, int]:
    """The kept steps and the members gathered (all of them when they fit)."""
    if n_runs * n_save * n_vars * 8 <= max_bytes:
        return np.arange(n_save), n_runs  # exact at every saved time
    keep = _kept_steps(n_save, n_vars * cell_bytes(MAX_EDGES), SKETCH_BYTES)
    if len(keep) > MAX_TIMES:
        keep = keep[np.unique(np.linspace(0, len(keep) - 1, MAX_TIMES).round().astype(int))]
    pilot = max_bytes // (len(keep) * n_vars * 8)
    if pilot < MIN_PILOT:  # too little room for a pilot: fewer kept steps
        keep = _kept_steps(n_save, n_vars * 8 * MIN_PILOT, max_bytes)
        pilot = max_bytes // (len(keep) * n_vars * 8)
    return keep, int(min(pilot, n_runs))


def _kept_steps(n_save: int, bytes_per_step: int, max_bytes: int) -> np.ndarray:
    if bytes_per_step == 0:
        return np.arange(n_save)
    fit = max_bytes // bytes_per_step
    if fit < 1:
        raise ConfigError(
            f"the quantiles of {bytes_per_step // 8:,} values per time step do not fit in "
            f"{max_bytes / 2**20:.0f} MiB; ask for fewer variables or raise max_bytes"
        )
    if fit >= n_save:
        return np.arange(n_save)
    if fit == 1:
        return np.array([n_save - 1])
    k = math.ceil((n_save - 1) / (fit - 1))
    idx = np.arange(0, n_save, k)
    return idx if idx[-1] == n_save - 1 else np.append(idx, n_save - 1)


def run_batch(model: CompiledLike, plan: Plan, lo: int, samples: Mapping[str, np.ndarray]) -> Batch:
    """Simulate members ``lo .. lo + b`` (``samples[name]`` has shape (b,)).

    Before the pilot is complete (``plan.grid`` unset) the batch gathers its values;
    after, it counts them into a sketch on the plan's grid. The kernel runs
    ``plan.call_size`` members at a time.
    """
    compiled = compiled_of(model)
    b = len(next(iter(samples.values()))) if samples else _batch_len(plan, lo)
    overrides = constant_overrides(compiled.model, plan.scenario, {**samples, **plan.sets})
    nv = len(plan.variables)
    grid = plan.grid
    values = None if grid is not None else np.empty((len(plan.keep), nv, b))
    sketch = None if grid is None else Sketch.empty(grid)
    probes = np.empty((len(plan.probes), b))
    failed = np.zeros(b, dtype=bool)
    save_every = (plan.times[1] - plan.times[0]) if len(plan.times) > 1 else None
    full = len(plan.keep) == len(plan.times)
    arena = OutputArena()  # each call's values are counted or copied before the next
    for a in range(0, b, plan.call_size):
        z = min(a + plan.call_size, b)
        traj = simulate(
            compiled,
            overrides=_rows(overrides, a, z, b),
            n_runs=z - a,
            method=plan.method,
            dt=plan.dt,
            record=plan.record,
            backend=plan.backend,
            save_every=save_every,
            member_offset=lo + a,
            arena=arena,
        )
        bad = failed[a:z]
        bad[:] = traj.failed
        if sketch is not None:
            sketch.add(np.moveaxis(traj.values[:, :nv, :], 2, 0), plan.keep, ~bad)
        elif values is not None:
            values[:, :, a:z] = traj.values[:, :nv, :] if full else traj.values[plan.keep, :nv, :]
        series = {name: traj.values[:, j, :] for j, name in enumerate(traj.names)}
        for i, p in enumerate(plan.probes):
            probes[i, a:z] = read_probe(p, traj.times, series, compiled.model, z - a)
    return Batch(lo, values, probes, failed, sketch)


def _rows(overrides: Mapping[str, Any], a: int, z: int, b: int) -> dict[str, Any]:
    """The overrides of members ``a .. z - 1`` of a batch of ``b`` (arrays sliced)."""
    out: dict[str, Any] = {}
    for k, v in overrides.items():
        arr = np.asarray(v)
        out[k] = arr[a:z] if arr.ndim == 1 and arr.shape[0] == b else v
    return out


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


class _Tally:
    """What every batch adds besides quantiles: probes, failures, query hits."""

    def __init__(self, plan: Plan) -> None:
        n, n_p = plan.n_runs, len(plan.probes)
        self.probes = np.empty((n_p, n)) if plan.per_member else None
        self.failed = np.zeros(n, dtype=bool) if plan.per_member else None
        self.hits = np.zeros(n_p, dtype=np.int64)
        self.n_failed = 0

    def add(self, batch: Batch) -> None:
        hi = batch.lo + batch.failed.shape[0]
        ok = ~batch.failed
        self.hits += np.count_nonzero(batch.probes[:, ok], axis=1)
        self.n_failed += int(batch.failed.sum())
        if self.probes is not None and self.failed is not None:
            self.probes[:, batch.lo : hi] = batch.probes
            self.failed[batch.lo : hi] = batch.failed


def run_plan(
    model: CompiledLike,
    plan: Plan,
    samples: Mapping[str, np.ndarray] | Rows,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Run every member of ``plan`` and summarise them.

    The pilot's batches run first and are gathered by member index; when the plan is
    not exact their values then fix the sketch's grid, and the other batches run on it
    and only count (each batch's sketch merges into the whole, in any order).

    Args:
        model: The compiled model (or a holder of one).
        plan: From :func:`make_plan`.
        samples: ``samples[name]`` of shape (n_runs,), or :class:`Rows` giving the values
            of a member range on demand (so a batch's are made when it starts).
        executor: Where batches run (this process by default).
        progress: Called with the number of members just finished.

    Returns:
        The summarised ensemble.
    """
    executor = executor or LocalExecutor(model)
    tally = _Tally(plan)
    nv, n_keep, n_pilot = len(plan.variables), len(plan.keep), min(plan.pilot, plan.n_runs)
    gathered = np.empty((n_keep, nv, n_pilot))
    pilot_ok = np.zeros(n_pilot, dtype=bool)
    for batch in executor.map(plan, _tasks(samples, plan.pilot_batches())):
        hi = batch.lo + batch.failed.shape[0]
        assert batch.values is not None
        gathered[:, :, batch.lo : hi] = batch.values
        pilot_ok[batch.lo : hi] = ~batch.failed
        tally.add(batch)
        if progress is not None:
            progress(hi - batch.lo)
    times = plan.times[plan.keep]
    if plan.exact:
        if tally.failed is None:  # the gathered members' flags (bounded by the budget)
            tally.failed = ~pilot_ok
        return _result(plan, times, tally, values=gathered, sketch=None)
    grid = Grid.from_pilot(gathered.reshape(n_keep * nv, n_pilot), pilot_ok, plan.n_edges)
    sketch = Sketch.empty(grid)
    sketch.add(np.moveaxis(gathered, 2, 0), np.arange(n_keep), pilot_ok)
    del gathered
    counting = replace(plan, grid=grid)
    for batch in executor.map(counting, _tasks(samples, plan.stream_batches())):
        assert batch.sketch is not None
        sketch.merge(batch.sketch)
        tally.add(batch)
        if progress is not None:
            progress(batch.failed.shape[0])
    return _result(plan, times, tally, values=None, sketch=sketch)


def _tasks(
    samples: Mapping[str, np.ndarray] | Rows, ranges: list[tuple[int, int]]
) -> Iterator[Task]:
    if isinstance(samples, Mapping):
        for lo, hi in ranges:
            yield lo, {k: np.asarray(v[lo:hi]) for k, v in samples.items()}
    else:
        for lo, hi in ranges:
            yield lo, samples.rows(lo, hi)


def _result(
    plan: Plan,
    times: np.ndarray,
    tally: _Tally,
    *,
    values: np.ndarray | None,
    sketch: Sketch | None,
) -> Result:
    return Result(
        plan,
        times,
        values=values,
        sketch=sketch,
        probes=tally.probes,
        failed=tally.failed,
        hits=tally.hits,
        n_failed=tally.n_failed,
    )
