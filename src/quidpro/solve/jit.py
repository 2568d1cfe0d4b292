"""The JIT backend: the same lowered system as scalar code compiled by numba.

Where the NumPy kernel pays one call per equation per step (fast only for large
ensembles), this one runs a whole member in machine code, and members in
parallel over the cores. The generated module is written to the user's cache
folder, named by the hash of its source, so numba's own cache makes the second
load of a model instant. numba is optional (the ``jit`` extra).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from quidpro.lang.ast import Binary, Expr, Unary
from quidpro.solve.codegen import (
    Emitter,
    checked_values,
    finite_check,
    identifiers,
    initial_values,
    stage_states,
    step_update,
)
from quidpro.solve.lower import System
from quidpro.solve.status import RunStatus
from quidpro.solve.tableau import ButcherTableau

_COMPARE = {"<", "<=", ">", ">=", "==", "!="}


def available() -> bool:
    """Whether numba can be imported."""
    return importlib.util.find_spec("numba") is not None


class ScalarEmitter(Emitter):
    """Expression → scalar Python that numba compiles (``a if c else b``, ``min``...)."""

    def emit(self, e: Expr) -> tuple[str, bool]:
        if isinstance(e, Unary) and e.op == "not":
            return f"(not {self.cond(e.operand)})", True
        if isinstance(e, Binary) and e.op in _COMPARE:
            return f"({self.num(e.left)} {e.op} {self.num(e.right)})", True
        if isinstance(e, Binary) and e.op in ("and", "or"):
            return f"({self.cond(e.left)} {e.op} {self.cond(e.right)})", True
        return super().emit(e)

    AS_NUMBER = "(1.0 if {code} else 0.0)"
    AS_CONDITION = "({code} != 0.0)"
    IF = "({a} if {c} else {b})"
    MIN, MAX = "min", "max"
    CLIP = "min(max({x}, {lo}), {hi})"
    TIME_FUNCS: ClassVar[dict[str, str]] = {
        "step": "j_step({time}, {args})",
        "ramp": "j_ramp({time}, {args})",
        "pulse": "j_pulse(tk, dt, {args})",
    }
    RANDOM = None  # models with random draws run on NumPy


def _tuple(items: list[str]) -> str:
    return "(" + "".join(i + ", " for i in items) + ")" if items else "(0.0,)"


def generate_source(system: System, method: ButcherTableau, record: tuple[str, ...]) -> str:
    """The source of a module with ``run_one`` and ``run_many`` (see :class:`JitKernel`)."""
    ident, lookups = identifiers(system)
    em = ScalarEmitter(ident, lookups)
    L: list[str] = [
        "import numpy as np",
        "from numba import njit, prange",
        "from quidpro.solve.jit_runtime import j_first_bad, j_interp, j_pulse, j_ramp, j_step",
        "",
    ]
    _lookup_functions(system, lookups, L)
    value_pos = _scalar_rhs(system, record, ident, em, L)
    _scalar_run_one(system, method, record, ident, lookups, value_pos, L)
    L.append("@njit(cache=True, error_model='numpy', parallel=True)")
    L.append("def run_many(CC, t0, dt, n_steps, stride, out, status, values):")
    L.append("    for r in prange(CC.shape[0]):")
    L.append("        run_one(CC, r, t0, dt, n_steps, stride, out, status, values)")
    return "\n".join(L) + "\n"


def _lookup_functions(system: System, lookups: dict[str, str], L: list[str]) -> None:
    for name, lk in system.model.lookups.items():
        li = lookups[name][3:]
        L.append(f"_X{li} = np.array({list(lk.xs)!r})")
        L.append(f"_Y{li} = np.array({list(lk.ys)!r})")
        L.append("@njit(cache=True, error_model='numpy')")
        L.append(f"def {lookups[name]}(x):")
        linear = lk.extrapolate == "linear"
        L.append(f"    return j_interp(x, _X{li}, _Y{li}, {linear}, {lk.discrete})")


def _args(system: System, ident: dict[str, str], states: list[str]) -> list[str]:
    M = [ident[x.name] for x in system.memories]
    C = [ident[c] for c in system.constants]
    Z = [ident[e.name] for e in system.static]
    return ["dt", "_t0", "_t1", *states, *M, *C, *Z]


def _scalar_rhs(
    system: System, record: tuple[str, ...], ident: dict[str, str], em: Emitter, L: list[str]
) -> dict[str, int]:
    """``rhs``: equations, derivatives, recorded and remembered values, and at stage 0
    (``_k >= 0``) a sum of every state and equation, non-finite if any of them is; and
    ``scan``, the same step again (run only then) giving the first non-finite one.
    """
    states = {s.name for s in system.states}
    value_names = list(
        dict.fromkeys([r for r in record if r not in states] + [m.source for m in system.memories])
    )
    S = [ident[s.name] for s in system.states]
    equations = [f"    {ident[eq.name]} = {em.num(eq.expr)}" for eq in system.equations]
    checked = checked_values(system, ident)
    L.append("@njit(cache=True, error_model='numpy')")
    L.append(f"def rhs({', '.join(['t', 'tk', '_k', *_args(system, ident, S)])}):")
    L.extend(equations)
    derivs = _tuple([em.num(s.derivative) for s in system.states])
    values = _tuple([ident[v] for v in value_names])
    L.append("    _acc = 0.0")
    L.append("    if _k >= 0:")
    L.extend(f"        {line}" for line in finite_check(checked))
    L.append(f"    return {derivs}, {values}, _acc")
    L.append("@njit(cache=True, error_model='numpy')")
    L.append(f"def scan({', '.join(['t', 'tk', *_args(system, ident, S)])}):")
    L.extend(equations)
    L.append(f"    _all = np.array({_tuple(checked)})")
    L.append("    _bad = j_first_bad(_all)")
    L.append("    return _bad, _all[max(_bad, 0)]")
    return {v: j for j, v in enumerate(value_names)}


def _scalar_run_one(
    system: System,
    method: ButcherTableau,
    record: tuple[str, ...],
    ident: dict[str, str],
    lookups: dict[str, str],
    value_pos: dict[str, int],
    L: list[str],
) -> None:
    """``run_one``: member ``r`` from its constants to ``out[r]`` and ``status[r]``."""
    em = ScalarEmitter(ident, lookups)
    w = L.append
    S = [ident[s.name] for s in system.states]
    states = {s.name for s in system.states}
    w("@njit(cache=True, error_model='numpy')")
    w("def run_one(CC, r, t0, dt, n_steps, stride, out, status, values):")
    w("    _t0 = t0")
    w("    _t1 = t0 + n_steps * dt")
    w("    o = out[r]")
    for i, c in enumerate(system.constants):
        w(f"    {ident[c]} = CC[r, {i}]")
    for eq in system.static:
        w(f"    {ident[eq.name]} = {em.num(eq.expr)}")
    statics = [ident[e.name] for e in system.static]
    L.extend(f"    {line}" for line in finite_check(statics))
    w("    if not np.isfinite(_acc):")
    w(f"        _all = np.array({_tuple(statics)})")
    w("        _bad = j_first_bad(_all)")
    w("        if _bad >= 0:")
    w("            status[r, 0], status[r, 1], values[r] = 1, _bad, _all[_bad]")
    w("    t = tk = t0")
    init_ident, lines = initial_values(system, ident, lookups, ScalarEmitter)
    L.extend(f"    {line}" for line in lines)
    for i, mem in enumerate(system.memories):
        w(f"    _lagf{i} = np.round({em.num(mem.lag)})")
        w(f"    if not _lagf{i} >= 1:")
        w(f"        status[r, 0], status[r, 1] = 2, {i}")
        w("        return")
        w(f"    _lag{i} = int(_lagf{i})")
        w(f"    _buf{i} = np.empty(_lag{i})")
        w(f"    _init{i} = {init_ident[mem.name]}")
    w("    isave = 0")
    w("    for k in range(n_steps + 1):")
    w("        tk = t0 + k * dt")
    for i, mem in enumerate(system.memories):
        w(f"        {ident[mem.name]} = _buf{i}[k % _lag{i}] if k >= _lag{i} else _init{i}")
    tail = ", ".join(_args(system, ident, S))
    w("        _kc = k if status[r, 0] == 0 else -1  # check until the first failure")
    w(f"        K0, V, _acc = rhs(tk, tk, _kc, {tail})")
    w("        if not np.isfinite(_acc):")
    w(f"            _bad, _val = scan(tk, tk, {tail})")
    w("            if _bad >= 0:")
    n_static = len(system.static)
    w(f"                status[r, 0], status[r, 1], status[r, 2] = 1, {n_static} + _bad, k")
    w("                values[r] = _val")
    w("        if k % stride == 0:")
    for j, rec in enumerate(record):
        src = ident[rec] if rec in states else f"V[{value_pos[rec]}]"
        w(f"            o[isave, {j}] = {src}")
    w("            isave += 1")
    for i, mem in enumerate(system.memories):
        w(f"        _buf{i}[k % _lag{i}] = V[{value_pos[mem.source]}]")
    w("        if k == n_steps:")
    w("            break")
    for stage in range(1, len(method.b)):
        stage_args = ", ".join(_args(system, ident, stage_states(method, stage, S)))
        w(f"        K{stage}, _, _ = rhs(tk + {method.c[stage]!r} * dt, tk, -1, {stage_args})")
    L.extend(f"        {line}" for line in step_update(method, S))


def _cache_dir() -> Path:
    """Where generated kernels and numba's cache of them live ($QUIDPRO_CACHE overrides)."""
    import os

    import platformdirs

    root = os.environ.get("QUIDPRO_CACHE") or platformdirs.user_cache_dir("quidpro")
    path = Path(root) / "kernels"
    path.mkdir(parents=True, exist_ok=True)
    return path


class JitKernel:
    """``run(consts, t0, dt, n_steps, stride, out)`` like the NumPy kernel; compiled lazily."""

    def __init__(self, source: str, record: tuple[str, ...]) -> None:
        self.source = source
        self.record = record
        digest = hashlib.sha256(source.encode()).hexdigest()[:20]
        self.module_name = f"quidpro_kernel_{digest}"
        self._module: Any = None

    def module(self) -> Any:
        if self._module is None:
            path = _cache_dir() / f"{self.module_name}.py"
            if not path.exists() or path.read_text() != self.source:
                tmp = path.with_suffix(f".tmp{id(self)}")
                tmp.write_text(self.source)
                tmp.replace(path)
            spec = importlib.util.spec_from_file_location(self.module_name, path)
            assert spec is not None
            assert spec.loader is not None
            mod = importlib.util.module_from_spec(spec)
            sys.modules[self.module_name] = mod
            spec.loader.exec_module(mod)
            self._module = mod
        return self._module

    def cached(self, many: bool) -> bool:
        """Whether numba's disk cache already holds this kernel (no compile needed)."""
        folder = _cache_dir() / "__pycache__"
        func = "run_many" if many else "run_one"
        return folder.exists() and any(folder.glob(f"{self.module_name}.{func}-*.nbi"))

    def run(
        self,
        consts: list[Any],
        t0: float,
        dt: float,
        n_steps: int,
        stride: int,
        out: np.ndarray,
        member_offset: int = 0,  # unused: models with random draws run on NumPy
    ) -> RunStatus:
        """Fill ``out[time, var, run]``; the status of every member.

        Members write run-major blocks (``out`` should be a view of a (run, time, var)
        array, as :func:`allocate` makes): each core then writes memory of its own.
        """
        n_runs = out.shape[2]
        cc = np.empty((n_runs, max(len(consts), 1)))
        for i, v in enumerate(consts):
            cc[:, i] = v
        status = np.zeros((n_runs, 3), dtype=np.int64)
        values = np.zeros(n_runs)
        mod = self.module()
        run_major = np.moveaxis(out, 2, 0)
        args = (float(t0), float(dt), n_steps, stride, run_major, status, values)
        if n_runs == 1:
            mod.run_one(cc, 0, *args)
        else:
            mod.run_many(cc, *args)
        return RunStatus.from_codes(status, 0, values)

    @staticmethod
    def allocate(n_save: int, n_rec: int, n_runs: int) -> np.ndarray:
        """An output array indexed [time, var, run] whose memory is run-major."""
        return np.moveaxis(np.empty((n_runs, n_save, n_rec)), 0, 2)
