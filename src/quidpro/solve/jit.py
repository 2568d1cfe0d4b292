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
    identifiers,
    initial_values,
    stage_states,
    step_update,
)
from quidpro.solve.lower import System
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
    m = system.model
    ident, lookups = identifiers(system)
    em = ScalarEmitter(ident, lookups)
    states = {s.name for s in system.states}
    S = [ident[s.name] for s in system.states]
    M = [ident[x.name] for x in system.memories]
    C = [ident[c] for c in system.constants]
    Z = [ident[e.name] for e in system.static]
    value_names = list(
        dict.fromkeys(
            [r for r in record if r not in states] + [mem.source for mem in system.memories]
        )
    )
    pos = {v: j for j, v in enumerate(value_names)}
    L: list[str] = [
        "import numpy as np",
        "from numba import njit, prange",
        "from quidpro.solve.jit_runtime import j_interp, j_pulse, j_ramp, j_step",
        "",
    ]
    w = L.append
    for name, lk in m.lookups.items():
        li = lookups[name][3:]
        w(f"_X{li} = np.array({list(lk.xs)!r})")
        w(f"_Y{li} = np.array({list(lk.ys)!r})")
        w("@njit(cache=True, error_model='numpy')")
        w(f"def {lookups[name]}(x):")
        w(f"    return j_interp(x, _X{li}, _Y{li}, {lk.extrapolate == 'linear'}, {lk.discrete})")
    args = ", ".join(["t", "tk", "dt", "_t0", "_t1", *S, *M, *C, *Z])
    w("@njit(cache=True, error_model='numpy')")
    w(f"def rhs({args}):")
    for eq in system.equations:
        w(f"    {ident[eq.name]} = {em.num(eq.expr)}")
    derivs = [em.num(s.derivative) for s in system.states]
    w(f"    return {_tuple(derivs)}, {_tuple([ident[v] for v in value_names])}")
    w("@njit(cache=True, error_model='numpy')")
    w("def run_one(CC, r, t0, dt, n_steps, stride, out):")
    w("    _t0 = t0")
    w("    _t1 = t0 + n_steps * dt")
    w("    o = out[r]")
    for i, c in enumerate(C):
        w(f"    {c} = CC[r, {i}]")
    for eq in system.static:
        w(f"    {ident[eq.name]} = {em.num(eq.expr)}")
    w("    t = tk = t0")
    init_ident, lines = initial_values(system, ident, lookups, ScalarEmitter)
    for line in lines:
        w(f"    {line}")
    for i, mem in enumerate(system.memories):
        w(f"    _lag{i} = int(np.round({em.num(mem.lag)}))")
        w(f"    if _lag{i} < 1:")
        w(f"        return {i + 1}")
        w(f"    _buf{i} = np.empty(_lag{i})")
        w(f"    _init{i} = {init_ident[mem.name]}")
    call_tail = ", ".join(["dt", "_t0", "_t1", *S, *M, *C, *Z])
    w("    isave = 0")
    w("    for k in range(n_steps + 1):")
    w("        tk = t0 + k * dt")
    for i, mem in enumerate(system.memories):
        w(f"        {ident[mem.name]} = _buf{i}[k % _lag{i}] if k >= _lag{i} else _init{i}")
    w(f"        K0, V = rhs(tk, tk, {call_tail})")
    w("        if k % stride == 0:")
    for j, r in enumerate(record):
        src = ident[r] if r in states else f"V[{pos[r]}]"
        w(f"            o[isave, {j}] = {src}")
    w("            isave += 1")
    for i, mem in enumerate(system.memories):
        w(f"        _buf{i}[k % _lag{i}] = V[{pos[mem.source]}]")
    w("        if k == n_steps:")
    w("            break")
    for stage in range(1, len(method.b)):
        stage_args = ", ".join(["dt", "_t0", "_t1", *stage_states(method, stage, S), *M, *C, *Z])
        w(f"        K{stage}, _ = rhs(tk + {method.c[stage]!r} * dt, tk, {stage_args})")
    for line in step_update(method, S):
        w(f"        {line}")
    w("    return 0")
    w("@njit(cache=True, error_model='numpy', parallel=True)")
    w("def run_many(CC, t0, dt, n_steps, stride, out, status):")
    w("    for r in prange(CC.shape[0]):")
    w("        status[r] = run_one(CC, r, t0, dt, n_steps, stride, out)")
    return "\n".join(L) + "\n"


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
    ) -> np.ndarray:
        """Fill ``out[time, var, run]``; returns a status per run (0 ok, i+1: memory i lag < 1).

        Members write run-major blocks (``out`` should be a view of a (run, time, var)
        array, as :func:`allocate` makes): each core then writes memory of its own.
        """
        n_runs = out.shape[2]
        cc = np.empty((n_runs, max(len(consts), 1)))
        for i, v in enumerate(consts):
            cc[:, i] = v
        status = np.zeros(n_runs, dtype=np.int64)
        mod = self.module()
        run_major = np.moveaxis(out, 2, 0)
        if n_runs == 1:
            status[0] = mod.run_one(cc, 0, float(t0), float(dt), n_steps, stride, run_major)
        else:
            mod.run_many(cc, float(t0), float(dt), n_steps, stride, run_major, status)
        return status

    @staticmethod
    def allocate(n_save: int, n_rec: int, n_runs: int) -> np.ndarray:
        """An output array indexed [time, var, run] whose memory is run-major."""
        return np.moveaxis(np.empty((n_runs, n_save, n_rec)), 0, 2)
