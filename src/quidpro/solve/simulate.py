"""Run a compiled model over time for one or many parameter sets at once.

The ensemble axis is the last axis of every stored array: ``values[time, var, run]``.
A single run is an ensemble of one. A run that produces a non-finite value gets a
status (the variable and time) instead of stopping the others; :func:`run_single`
turns that status into a :class:`~quidpro.errors.SimulationError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any

import numpy as np

from quidpro.errors import ConfigError, Loc, ModelError, SimulationError
from quidpro.lang.ast import names
from quidpro.model.spec import Model, TimeSpec
from quidpro.solve.codegen import LagError, generate
from quidpro.solve.evaluate import evaluate
from quidpro.solve.lower import System, lower
from quidpro.solve.methods import METHODS


@dataclass
class Trajectories:
    """The result of a batch: ``values[time, variable, run]``."""

    times: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray
    failures: dict[int, tuple[str, float]] = field(default_factory=dict)  # run -> (var, time)

    def series(self, name: str) -> np.ndarray:
        """One variable, shape (time, run)."""
        return self.values[:, self.names.index(name), :]


BACKENDS = ("auto", "numpy", "jit")
# Cost model of the "auto" backend (seconds, measured on a 2-core machine, see
# docs/benchmarks.md): NumPy pays a call per equation per step, numba a compile
# that grows faster than linearly with the number of equations, once per kernel.
NUMPY_CALL = 1.5e-6
NUMPY_PER_MEMBER = 3e-9
JIT_PER_MEMBER = 4e-9
JIT_COMPILE_FIXED = 1.5  # importing numba and its helpers
JIT_COMPILE_PER_EQUATION = 0.05
JIT_COMPILE_GROWTH = 150.0


class Compiled:
    """A model lowered once; kernels are generated per method, recorded set and backend."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.system: System = lower(model)
        self._kernels: dict[tuple[str, tuple[str, ...], str], Any] = {}
        self.numpy_seconds = 0.0  # time spent in NumPy kernels (for the "auto" backend)

    def kernel(self, method: str, record: tuple[str, ...], backend: str = "numpy") -> Any:
        """The NumPy :class:`Kernel` or a :class:`~quidpro.solve.jit.JitKernel`."""
        key = (method, record, backend)
        if key not in self._kernels:
            try:
                if backend == "jit":
                    from quidpro.solve.jit import JitKernel, generate_source

                    source = generate_source(self.system, METHODS[method], record)
                    self._kernels[key] = JitKernel(source, record)
                else:
                    self._kernels[key] = generate(self.system, METHODS[method], record)
            except (RecursionError, SyntaxError):  # Python's limits on nesting
                raise _too_deep(self.system) from None
        return self._kernels[key]

    def choose_backend(
        self,
        backend: str,
        n_runs: int,
        method: str | None = None,
        record: tuple[str, ...] | None = None,
        n_steps: int | None = None,
    ) -> str:
        """Resolve "auto" by tiered compilation: NumPy (no compile time) until the time it
        has spent on this model, plus this call's, would pay for compiling with numba;
        numba at once when its disk cache already holds the kernel.
        """
        if backend not in BACKENDS:
            raise ConfigError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
        method = method or self.model.time.method
        record = record if record is not None else tuple(self.system.visible)
        n_steps = n_steps if n_steps is not None else self.model.time.n_steps
        if backend == "auto":
            backend = os.environ.get("QUIDPRO_BACKEND", "auto")
        if backend != "auto":
            if backend == "jit" and not _jit_ok(self, method, record):
                raise ConfigError(
                    "the jit backend needs numba (pip install 'quidpro[jit]') "
                    "and a model whose functions all have a JIT form"
                )
            return backend
        if not _jit_ok(self, method, record):
            return "numpy"
        n_eq = len(self.system.equations) + len(self.system.states)
        work = n_steps * len(METHODS[method].b) * n_eq
        numpy_cost = work * (NUMPY_CALL + NUMPY_PER_MEMBER * n_runs)
        kernel = self.kernel(method, record, "jit")
        compile_cost = (
            0.0
            if kernel.cached(many=n_runs > 1)
            else JIT_COMPILE_FIXED
            + JIT_COMPILE_PER_EQUATION * n_eq * (1 + n_eq / JIT_COMPILE_GROWTH)
        )
        jit_cost = compile_cost + work * JIT_PER_MEMBER * n_runs / (os.cpu_count() or 1)
        return "jit" if self.numpy_seconds + numpy_cost > jit_cost else "numpy"

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


def _jit_ok(compiled: Compiled, method: str, record: tuple[str, ...]) -> bool:
    from quidpro.solve import jit

    if not jit.available():
        return False
    try:
        compiled.kernel(method, record, "jit")
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


def simulate(
    compiled: Compiled,
    overrides: Mapping[str, Any] | None = None,
    n_runs: int = 1,
    method: str | None = None,
    dt: float | None = None,
    record: Sequence[str] | None = None,
    save_every: float | None = None,
    backend: str = "auto",
    member_offset: int = 0,
) -> Trajectories:
    """Integrate ``n_runs`` members at once; overrides are floats or per-run arrays.

    ``member_offset`` is the ensemble index of the first member: random builtins draw by
    member index, so a batch of a larger ensemble sees the numbers it would see in one
    big batch.
    """
    m = compiled.model
    time: TimeSpec = m.time
    if dt is not None:
        if not dt > 0 or not np.isfinite(dt):  # NaN fails every comparison
            raise ConfigError(f"--dt must be positive, got {dt:g}")
        time = replace(time, dt=dt)
    if save_every is not None:
        time = replace(time, save_every=save_every)
    method = method or time.method
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    rec = tuple(record) if record is not None else tuple(compiled.system.visible)
    unknown = [r for r in rec if r not in compiled.system.visible]
    if unknown:
        raise ConfigError(f"unknown variable(s) to record: {', '.join(unknown)}")
    backend = compiled.choose_backend(backend, n_runs, method, rec, time.n_steps)
    kernel = compiled.kernel(method, rec, backend)
    consts = compiled.constant_values(overrides or {}, n_runs)
    n_steps = time.n_steps
    stride = time.save_stride
    n_save = n_steps // stride + 1
    if hasattr(kernel, "allocate"):
        out = kernel.allocate(n_save, len(rec), n_runs)
    else:
        out = np.empty((n_save, len(rec), n_runs))
    with np.errstate(all="ignore"):
        try:
            started = perf_counter()
            status = kernel.run(consts, time.start, time.dt, n_steps, stride, out, member_offset)
            if backend == "numpy":
                compiled.numpy_seconds += perf_counter() - started
            if status is not None and status.any():
                raise LagError(int(status[status > 0][0]) - 1)
        except LagError as exc:
            mem = compiled.system.memories[exc.index]
            raise SimulationError(
                f"the delay of {mem.owner!r} is shorter than one step (dt = "
                f"{time.dt:g}); use a delay of at least dt",
                mem.owner,
                time.start,
                mem.loc,
            ) from None
    times = time.start + np.arange(n_save) * stride * time.dt
    traj = Trajectories(times, rec, out)
    traj.failures = _failures(traj, evaluation_order(compiled.system))
    return traj


def evaluation_order(system: System) -> tuple[str, ...]:
    """Names in the order a step computes them: statics, states, then the equations."""
    return (
        *(e.name for e in system.static),
        *(s.name for s in system.states),
        *(e.name for e in system.equations),
    )


def _failures(traj: Trajectories, order: Sequence[str] = ()) -> dict[int, tuple[str, float]]:
    """Each failed run's root cause: at the earliest time with a non-finite value, the
    variable computed first (not the ones its value spread to in the same step)."""
    finite = np.isfinite(traj.values)
    if finite.all():
        return {}
    rank = {name: i for i, name in enumerate(order)}
    columns = sorted(range(len(traj.names)), key=lambda j: rank.get(traj.names[j], len(rank)))
    failures = {}
    bad_runs = np.nonzero(~finite.all(axis=(0, 1)))[0]
    for r in bad_runs:
        ok = finite[:, :, r]
        ti = int(np.argmax(~ok.all(axis=1)))
        vi = next(j for j in columns if not ok[ti, j])
        failures[int(r)] = (traj.names[vi], float(traj.times[ti]))
    return failures


def raise_failure(compiled: Compiled, traj: Trajectories, run: int = 0) -> None:
    """Turn the first failure of ``run`` into a SimulationError at the variable's line."""
    if run not in traj.failures:
        return
    name, t = traj.failures[run]
    value = traj.values[list(traj.times).index(t), traj.names.index(name), run]
    raise SimulationError(
        f"{name!r} became {value} at time {t:g}", name, t, compiled.model.loc_of(name)
    )
