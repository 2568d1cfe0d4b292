"""Run a compiled model over time for one or many parameter sets at once.

The ensemble axis is the last axis of every stored array: ``values[time, var, run]``.
A single run is an ensemble of one. A run that produces a non-finite value gets a
status (the variable and time) instead of stopping the others; :func:`run_single`
turns that status into a :class:`~quidpro.errors.SimulationError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from quidpro.errors import ConfigError, SimulationError
from quidpro.model.spec import Model, TimeSpec
from quidpro.solve.codegen import Kernel, LagError, generate
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


class Compiled:
    """A model lowered once; kernels are generated per method and recorded set."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.system: System = lower(model)
        self._kernels: dict[tuple[str, tuple[str, ...]], Kernel] = {}

    def kernel(self, method: str, record: tuple[str, ...]) -> Kernel:
        key = (method, record)
        if key not in self._kernels:
            self._kernels[key] = generate(self.system, METHODS[method], record)
        return self._kernels[key]

    def constant_values(self, overrides: Mapping[str, Any], n_runs: int) -> list[Any]:
        """Every constant's value (float or per-run array), expressions resolved in order."""
        m = self.model
        env: dict[str, Any] = {}
        pending = []
        for name, c in m.constants.items():
            if name in overrides:
                env[name] = _as_values(overrides[name], n_runs, name)
            elif c.expr is None:
                env[name] = c.value
            else:
                pending.append(name)
        while pending:  # constant expressions, in dependency order (cycles checked earlier)
            progress = False
            for name in list(pending):
                expr = m.constants[name].expr
                assert expr is not None
                from quidpro.lang.ast import names as _names

                if all(d not in pending for d in _names(expr)):
                    env[name] = evaluate(expr, env, m.lookups, m.time.start, m.time.dt)
                    pending.remove(name)
                    progress = True
            if not progress:  # pragma: no cover - check_model rejects cycles
                raise ConfigError(f"cannot order constants {pending}")
        return [env[name] for name in self.system.constants]


def _as_values(v: Any, n_runs: int, name: str) -> Any:
    arr = np.asarray(v, dtype=float)
    if arr.ndim == 0:
        return float(arr)
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
) -> Trajectories:
    """Integrate ``n_runs`` members at once; overrides are floats or per-run arrays."""
    m = compiled.model
    time: TimeSpec = m.time
    if dt is not None:
        if dt <= 0:
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
    kernel = compiled.kernel(method, rec)
    consts = compiled.constant_values(overrides or {}, n_runs)
    n_steps = time.n_steps
    stride = time.save_stride
    n_save = n_steps // stride + 1
    out = np.empty((n_save, len(rec), n_runs))
    with np.errstate(all="ignore"):
        try:
            kernel.run(consts, time.start, time.dt, n_steps, stride, out)
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
    traj.failures = _failures(traj)
    return traj


def _failures(traj: Trajectories) -> dict[int, tuple[str, float]]:
    finite = np.isfinite(traj.values)
    if finite.all():
        return {}
    failures = {}
    bad_runs = np.nonzero(~finite.all(axis=(0, 1)))[0]
    for r in bad_runs:
        ok = finite[:, :, r]
        ti = int(np.argmax(~ok.all(axis=1)))
        vi = int(np.argmax(~ok[ti]))
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
