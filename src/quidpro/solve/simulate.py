"""Run a compiled model over time for one or many parameter sets at once.

The ensemble axis is the last axis of every stored array: ``values[time, var, run]``.
A single run is an ensemble of one. Every backend has one protocol: a kernel is made
once per (method, recorded variables, backend), ``kernel.run(...)`` fills the output
and returns a :class:`~quidpro.solve.status.RunStatus` per member. A member that
produces a non-finite value (in any equation, recorded or not) gets a status (the
user's variable and the time) instead of stopping the others; :func:`raise_failure`
turns it into a :class:`~quidpro.errors.SimulationError` at the variable's line.

Backends: ``numpy`` (vectorised over members, no compile), ``jit`` (the model as
numba machine code: fastest, but compiling costs 10-20 ms an equation, once; cached
on disk), ``vm`` (an instruction array run by an interpreter compiled once per
installation: no per-model compile, any size) and ``auto`` (see
:meth:`Compiled.choose_backend`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any

import numpy as np

from quidpro.errors import ConfigError, Loc, ModelError, SimulationError
from quidpro.lang.ast import Num, names
from quidpro.model.limits import check_delay_steps, check_values
from quidpro.model.spec import Model, TimeSpec
from quidpro.solve.codegen import generate
from quidpro.solve.evaluate import evaluate
from quidpro.solve.lower import Equation, State, System, lower
from quidpro.solve.members import numba_target_ready
from quidpro.solve.methods import METHODS
from quidpro.solve.status import RunStatus


@dataclass
class Trajectories:
    """The result of a batch: ``values[time, variable, run]``.

    ``failures`` maps each failed run to its first non-finite value's user variable and
    time (found in every equation, recorded or not); ``status`` holds the details.
    """

    times: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray
    failures: dict[int, tuple[str, float]] = field(default_factory=dict)
    status: RunStatus | None = None

    def series(self, name: str) -> np.ndarray:
        """One variable, shape (time, run)."""
        return self.values[:, self.names.index(name), :]

    @property
    def failed(self) -> np.ndarray:
        """Per run, whether it failed (is a key of :attr:`failures`)."""
        out = np.zeros(self.values.shape[2], dtype=bool)
        out[list(self.failures)] = True
        return out


BACKENDS = ("auto", "numpy", "jit", "vm")
# Cost model of the "auto" backend (seconds, measured on a 2-core machine, see
# docs/benchmarks.md): NumPy pays a call per equation per step; numba a compile
# that grows faster than linearly with the number of equations, once per kernel;
# the interpreter a load of numba (its compile is once per installation).
NUMPY_CALL = 1.5e-6
NUMPY_PER_MEMBER = 3e-9
JIT_PER_MEMBER = 2e-9
VM_PER_MEMBER = 6.5e-9
JIT_COMPILE_FIXED = 1.5  # importing numba and its helpers
JIT_START = 0.4  # a cached kernel's first use in a process: numba's import and CPU target
JIT_COMPILE_PER_EQUATION = 0.05
JIT_COMPILE_GROWTH = 150.0
VM_LOAD = 0.5  # importing numba and loading the interpreter from its cache
VM_COMPILE = 60.0  # the interpreter's one compile, when no cache holds it
JIT_MOST_EQUATIONS = JIT_COMPILE_GROWTH * 4  # larger models: numba's compile is minutes


def _jit_compile_seconds(n_eq: int) -> float:
    """The cost model's time for numba to compile a model of ``n_eq`` equations."""
    return JIT_COMPILE_FIXED + JIT_COMPILE_PER_EQUATION * n_eq * (1 + n_eq / JIT_COMPILE_GROWTH)


class Compiled:
    """A model lowered once; kernels are generated per method, recorded set and backend."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.system: System = lower(model)
        self._kernels: dict[tuple[str, tuple[str, ...], str], Any] = {}
        self.numpy_seconds = 0.0  # time spent in NumPy kernels (for the "auto" backend)
        self.visible: tuple[str, ...] = tuple(self.system.visible)

    def kernel(self, method: str, record: tuple[str, ...], backend: str = "numpy") -> Any:
        """Return the (cached) kernel of a backend.

        The kernel of a backend (NumPy :class:`Kernel`, ``JitKernel`` or ``VmKernel``):
        ``run(consts, t0, dt, n_steps, stride, out, member_offset) -> RunStatus``.
        """
        key = (method, record, backend)
        if key not in self._kernels:
            try:
                self._kernels[key] = self._make_kernel(method, record, backend)
            except (RecursionError, SyntaxError):  # Python's limits on nesting
                raise _too_deep(self.system) from None
        return self._kernels[key]

    def _make_kernel(self, method: str, record: tuple[str, ...], backend: str) -> Any:
        if backend == "jit":
            from quidpro.solve.jit import JitKernel, generate_source

            return JitKernel(generate_source(self.system, METHODS[method], record), record)
        if backend == "vm":
            from quidpro.solve.vm import VmKernel, assemble

            return VmKernel(assemble(self.system, METHODS[method], record))
        return generate(self.system, METHODS[method], record)

    def choose_backend(
        self,
        backend: str,
        n_runs: int,
        method: str | None = None,
        record: tuple[str, ...] | None = None,
        n_steps: int | None = None,
        *,
        calls: int = 1,
        reproducible: bool = False,
    ) -> str:
        """Resolve the "auto" backend by tiered compilation.

        Resolve "auto" by tiered compilation: NumPy (no compile time) until the time it
        has spent on this model, plus this call's, would pay for the cheapest fast path:
        numba's kernel of this model (its compile, or when its disk cache holds it the
        start of numba in a process that has not used it) or the interpreter (a load of
        numba; linear in the model, so any size).

        ``calls`` is how many calls of ``n_runs`` members the choice is for. With
        ``reproducible`` the choice depends on the model and the work alone, the same on
        every machine: as if nothing were compiled, timed or cached, on one core, with
        numba's kernel the only fast path (the interpreter's cost is mostly its cache's).
        """
        if backend not in BACKENDS:
            raise ConfigError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
        method = method or self.model.time.method
        record = record if record is not None else tuple(self.system.visible)
        n_steps = n_steps if n_steps is not None else self.model.time.n_steps
        if backend == "auto":
            backend = os.environ.get("QUIDPRO_BACKEND", "auto")
        if backend in ("jit", "vm"):
            if not _fast_ok(self, method, record, backend):
                raise ConfigError(
                    f"the {backend} backend needs numba (pip install 'quidpro[jit]') "
                    "and a model whose functions all have a compiled form "
                    "(models with random draws run on numpy)"
                )
            return backend
        if backend == "numpy":
            return backend
        n_eq = len(self.system.equations) + len(self.system.states)
        work = calls * n_steps * len(METHODS[method].b) * n_eq
        numpy_cost = work * (NUMPY_CALL + NUMPY_PER_MEMBER * n_runs)
        per_core = work * n_runs / (1 if reproducible else os.cpu_count() or 1)
        if reproducible:
            costs = self._fresh_costs(method, record, n_eq, per_core)
            spent = 0.0
        else:
            costs = self._tiered_costs(method, record, n_eq, per_core, many=n_runs > 1)
            spent = self.numpy_seconds
        if not costs:
            return "numpy"
        fast = min(costs, key=costs.__getitem__)
        return fast if spent + numpy_cost > costs[fast] else "numpy"

    def _tiered_costs(
        self, method: str, record: tuple[str, ...], n_eq: int, per_core: float, *, many: bool
    ) -> dict[str, float]:
        """The seconds of each fast path, counting what is loaded or cached as done."""
        costs: dict[str, float] = {}
        if _fast_ok(self, method, record, "vm"):
            from quidpro.solve.vm import VmKernel

            load = 0.0 if VmKernel.loaded() else VM_LOAD if VmKernel.cached() else VM_COMPILE
            costs["vm"] = load + per_core * VM_PER_MEMBER
            if n_eq <= JIT_MOST_EQUATIONS:
                kernel = self.kernel(method, record, "jit")
                if not kernel.cached(many=many):
                    compile_cost = _jit_compile_seconds(n_eq)
                else:  # a single run of a small model in a fresh process stays on NumPy
                    compile_cost = 0.0 if numba_target_ready() else JIT_START
                costs["jit"] = compile_cost + per_core * JIT_PER_MEMBER
        return costs

    def _fresh_costs(
        self, method: str, record: tuple[str, ...], n_eq: int, per_core: float
    ) -> dict[str, float]:
        """The seconds of numba's kernel as if nothing were compiled (none without one)."""
        if n_eq > JIT_MOST_EQUATIONS or not _fast_ok(self, method, record, "jit"):
            return {}
        return {"jit": _jit_compile_seconds(n_eq) + per_core * JIT_PER_MEMBER}

    def constant_values(self, overrides: Mapping[str, Any], n_runs: int) -> list[Any]:
        """Every constant's value (float or per-run array), expressions resolved in order."""
        m = self.model
        env: dict[str, Any] = {}
        pending = []
        for name, c in m.constants.items():
            if name in overrides:
                env[name] = _as_values(overrides[name], n_runs, name)
            elif c.expr is None:
                env[name] = np.float64(c.value)  # NumPy floats: 1/0 is inf, not an error
            else:
                pending.append(name)
        while pending:  # constant expressions, in dependency order (cycles checked earlier)
            progress = False
            for name in list(pending):
                expr = m.constants[name].expr
                assert expr is not None
                if all(d not in pending for d in names(expr)):
                    env[name] = evaluate(expr, env, m.lookups, m.time.start, m.time.dt)
                    pending.remove(name)
                    progress = True
            if not progress:  # pragma: no cover - check_model rejects cycles
                raise ConfigError(f"cannot order constants {pending}")
        return [env[name] for name in self.system.constants]


def _too_deep(system: System) -> ModelError:
    """The equation too deeply nested for Python to compile, as an error at its line."""
    from quidpro.solve.codegen import Emitter, identifiers

    emitter = Emitter(*identifiers(system))
    for eq in [*system.static, *system.equations]:
        try:
            compile(emitter.num(eq.expr), "<quidpro>", "eval")
        except (RecursionError, SyntaxError):
            return ModelError(
                f"the equation of {eq.owner!r} is nested too deeply to compile; "
                "split it into auxiliaries",
                eq.loc,
            )
    return ModelError(
        "the model is nested too deeply to compile; split long equations into auxiliaries",
        Loc(system.model.file, 1, 1),
    )


def _fast_ok(compiled: Compiled, method: str, record: tuple[str, ...], backend: str) -> bool:
    """Whether numba is installed and the model has a form for ``backend``."""
    from quidpro.solve import vm

    if not vm.available():
        return False
    try:
        compiled.kernel(method, record, backend)
    except NotImplementedError:
        return False
    return True


def _as_values(v: Any, n_runs: int, name: str) -> Any:
    arr = np.asarray(v, dtype=float)
    if arr.ndim == 0:
        return np.float64(arr)
    if arr.shape != (n_runs,):
        raise ConfigError(f"values for {name!r} have shape {arr.shape}, expected ({n_runs},)")
    return arr


class OutputArena:
    """Output memory reused by successive :func:`simulate` calls of the same shape.

    A caller that reads each call's values before the next call (an ensemble's batches
    of kernel calls) passes one arena to all of them: the kernel then writes into the
    memory of the last call of that shape (overwriting its values) instead of fresh
    pages, which the operating system must fault in and zero on every call (about a
    seventh of a flagship call of 193 members, measured). One array per shape is kept.
    """

    def __init__(self) -> None:
        self._arrays: dict[tuple[Any, ...], np.ndarray] = {}

    def take(self, key: tuple[Any, ...], make: Callable[[], np.ndarray]) -> np.ndarray:
        """The array kept for ``key``, made by ``make()`` the first time."""
        if key not in self._arrays:
            self._arrays[key] = make()
        return self._arrays[key]


def _output(kernel: Any, shape: tuple[int, int, int], arena: OutputArena | None) -> np.ndarray:
    """The ``[time, var, run]`` array the kernel fills: its own layout, from ``arena``."""

    def make() -> np.ndarray:
        if hasattr(kernel, "allocate"):
            return np.asarray(kernel.allocate(*shape))
        return np.empty(shape)

    return make() if arena is None else arena.take((type(kernel), *shape), make)


def simulate(
    compiled: Compiled,
    overrides: Mapping[str, Any] | None = None,
    n_runs: int = 1,
    *,
    method: str | None = None,
    dt: float | None = None,
    record: Sequence[str] | None = None,
    save_every: float | None = None,
    backend: str = "auto",
    member_offset: int = 0,
    arena: OutputArena | None = None,
) -> Trajectories:
    """Integrate ``n_runs`` members at once; overrides are floats or per-run arrays.

    Args:
        compiled: the model, lowered.
        overrides: constant values, a float or one value per run each.
        n_runs: ensemble members.
        method: "euler" or "rk4" (default: the model's).
        dt: the time step (default: the model's).
        record: the variables to keep (default: every stock, flow and auxiliary).
        save_every: keep every this much model time (default: the model's).
        backend: "auto", "numpy", "jit" or "vm".
        member_offset: the ensemble index of the first member: random builtins draw by
            member index, so a batch of a larger ensemble sees the numbers it would see
            in one big batch.
        arena: reuse the output memory of earlier calls through this arena (their
            values are overwritten): see :class:`OutputArena`.

    Raises:
        ConfigError: a bad argument (named by its parameter).
        ModelError: the run would keep more values, or a delay remember more steps,
            than their limits (:mod:`quidpro.model.limits`).
        SimulationError: a delay shorter than one step.
    """
    time, method, rec = _resolve(compiled, dt, save_every, method, record)
    consts = compiled.constant_values(overrides or {}, n_runs)
    n_steps, stride = time.n_steps, time.save_stride
    n_save = n_steps // stride + 1
    # Bounded work (docs/hardening.md): both checked before any kernel or buffer exists.
    check_values(n_save, len(rec), n_runs, time.loc)
    _check_delays(compiled, consts, time)
    backend = compiled.choose_backend(backend, n_runs, method, rec, time.n_steps)
    kernel = compiled.kernel(method, rec, backend)
    out = _output(kernel, (n_save, len(rec), n_runs), arena)
    with np.errstate(all="ignore"):
        started = perf_counter()
        status = kernel.run(
            consts, time.start, time.dt, n_steps, stride, out, member_offset=member_offset
        )
        if backend == "numpy":
            compiled.numpy_seconds += perf_counter() - started
    _raise_short_lag(compiled, status, time)
    times = time.start + np.arange(n_save) * stride * time.dt
    failures = _failures(compiled.system, status, time)
    return Trajectories(times, rec, out, failures, status)


def _resolve(
    compiled: Compiled,
    dt: float | None,
    save_every: float | None,
    method: str | None,
    record: Sequence[str] | None,
) -> tuple[TimeSpec, str, tuple[str, ...]]:
    """The run's time axis, method and recorded variables, checked."""
    time: TimeSpec = compiled.model.time
    if dt is not None:
        if not dt > 0 or not np.isfinite(dt):  # NaN fails every comparison
            raise ConfigError(f"dt must be positive, got {dt:g}")
        if dt > time.stop - time.start:
            raise ConfigError(
                f"dt ({dt:g}) is longer than the whole run ({time.stop - time.start:g})"
            )
        time = replace(time, dt=dt)
    if save_every is not None:
        # a stride computed from saved times may fall short of dt by rounding
        if not save_every >= time.dt * (1 - 1e-9) or not np.isfinite(save_every):
            raise ConfigError(f"save_every ({save_every:g}) must be at least dt ({time.dt:g})")
        time = replace(time, save_every=save_every)
    method = method or time.method
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    visible = compiled.visible
    rec = tuple(record) if record is not None else visible
    known = set(visible)
    unknown = [r for r in rec if r not in known]
    if unknown:
        raise ConfigError(f"unknown variable(s) to record: {', '.join(unknown)}")
    return time, method, rec


_KNOWN = frozenset(("dt", "pi", "inf"))


def _check_delays(compiled: Compiled, consts: list[Any], time: TimeSpec) -> None:
    """Refuse a ``delay_fixed`` whose ring buffer would exceed its limit, in any member.

    The lag in steps is an expression of constants (and of equations of constants),
    evaluated here with the run's own values, as every kernel would at its start.
    A lag that depends on anything else is left to the kernel.
    """
    system = compiled.system
    lags = [m for m in system.memories if not isinstance(m.lag, Num)]
    if not lags:
        return
    env: dict[str, Any] = dict(zip(system.constants, consts, strict=True))
    lookups = compiled.model.lookups
    needed = set().union(*(names(m.lag) for m in lags))
    for eq in reversed(system.static):  # the equations of constants the lags read
        if eq.name in needed:
            needed |= names(eq.expr)
    for eq in system.static:  # ordered: each reads constants and earlier statics only
        if eq.name in needed:
            env[eq.name] = evaluate(eq.expr, env, lookups, time.start, time.dt)
    for mem in lags:
        if names(mem.lag) <= env.keys() | _KNOWN:
            steps = np.asarray(evaluate(mem.lag, env, lookups, time.start, time.dt), dtype=float)
            worst = float(np.nan if np.isnan(steps).any() else np.max(steps))
            check_delay_steps(worst, mem.owner, time.dt, mem.loc)


def _raise_short_lag(compiled: Compiled, status: RunStatus, time: TimeSpec) -> None:
    index = status.short_lag()
    if index is None:
        return
    mem = compiled.system.memories[index]
    raise SimulationError(
        f"the delay of {mem.owner!r} is shorter than one step (dt = "
        f"{time.dt:g}); use a delay of at least dt",
        mem.owner,
        time.start,
        mem.loc,
    )


def evaluation_order(system: System) -> list[Equation | State]:
    """Return what a step computes, in order.

    What a step computes, in order: statics, states, then the equations (the index
    a :class:`RunStatus` gives).
    """
    return [*system.static, *system.states, *system.equations]


def _failures(system: System, status: RunStatus, time: TimeSpec) -> dict[int, tuple[str, float]]:
    """Return each failed run's root cause.

    Each failed run's root cause: the user variable (hidden ones map to their owner)
    whose value was first non-finite, and the time.
    """
    order = evaluation_order(system)
    return {
        int(r): (order[status.where[r]].owner, float(time.start + status.step[r] * time.dt))
        for r in status.failed()
    }


def failure_of(
    compiled: Compiled, overrides: Mapping[str, Any], member_offset: int = 0
) -> SimulationError | None:
    """Why one member goes non-finite (its variable, time and line), run alone on NumPy.

    ``overrides`` are that member's values; ``member_offset`` its index in the ensemble
    (its noise streams). None when it runs to the end.
    """
    traj = simulate(compiled, overrides, 1, backend="numpy", member_offset=member_offset)
    try:
        raise_failure(compiled, traj)
    except SimulationError as exc:
        return exc
    return None


def raise_failure(compiled: Compiled, traj: Trajectories, run: int = 0) -> None:
    """Turn the first failure of ``run`` into a SimulationError at the variable's line."""
    if run not in traj.failures:
        return
    name, t = traj.failures[run]
    value = traj.status.value[run] if traj.status is not None else np.nan
    raise SimulationError(
        f"{name!r} became {value} at time {t:g}", name, t, compiled.model.loc_of(name)
    )
