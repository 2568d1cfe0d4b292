"""The JIT backend: the same lowered system as scalar code compiled by numba.

Where the NumPy kernel pays one call per equation per step (fast only for large
ensembles), this one runs the model in machine code, members in parallel over the
cores. Members run in lanes of ``LANES``: every equation of a step is computed for a
row of members in one loop that LLVM turns into SIMD code (lookups are written
branch-free for that, and the finite check is a sum per lane, with the culprit
searched only when a sum is not finite). The generated module is written to the
user's cache folder, named by the hash of its source, so numba's own cache makes
the second load of a model instant. numba is optional (the ``jit`` extra).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import itertools
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from quidpro.cache import cache_root
from quidpro.lang.ast import Binary, Expr, Unary
from quidpro.model.spec import Lookup
from quidpro.solve.codegen import (
    Emitter,
    checked_values,
    finite_check,
    identifiers,
    initial_values,
)
from quidpro.solve.lower import System
from quidpro.solve.members import MemberKernel
from quidpro.solve.tableau import ButcherTableau

_COMPARE = {"<", "<=", ">", ">=", "==", "!="}
LANES = 8  # members per row: two AVX2 vectors of doubles (4 and 16 measured slower)
BRANCH_FREE_POINTS = 16  # lookups up to this size are a chain of selects


def available() -> bool:
    """Whether numba can be imported."""
    return importlib.util.find_spec("numba") is not None


class ScalarEmitter(Emitter):
    """Expression → scalar Python that numba compiles (``a if c else b``, ``min``...)."""

    def emit(self, e: Expr) -> tuple[str, bool]:
        """Code for ``e`` and whether it is a condition (scalar forms first)."""
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
    MIN, MAX = "j_min", "j_max"  # NaN-propagating, as np.minimum and the interpreter
    CLIP = "j_min(j_max({x}, {lo}), {hi})"
    TIME_FUNCS: ClassVar[dict[str, str]] = {
        "step": "j_step({time}, {args})",
        "ramp": "j_ramp({time}, {args})",
        "pulse": "j_pulse(tk, dt, {args})",
    }
    RANDOM = None  # models with random draws run on NumPy


def _tuple(items: list[str]) -> str:
    return "(" + "".join(i + ", " for i in items) + ")" if items else "(0.0,)"


class _Layout:
    """Where each lane value lives: a row of one register file ``F[row * LANES + lane]``.

    Rows: constants, statics, states, memories, values (recorded or remembered), each
    stage's derivatives, the finite sums. One flat array indexed by literal offsets
    is what lets LLVM see that no store of a step aliases a load, and vectorise.
    """

    def __init__(self, system: System, record: tuple[str, ...], ident: dict[str, str]) -> None:
        states = {s.name for s in system.states}
        self.values = list(
            dict.fromkeys(
                [r for r in record if r not in states] + [m.source for m in system.memories]
            )
        )
        self.ident = ident
        self.names = {
            "C": [ident[c] for c in system.constants],
            "Z": [ident[e.name] for e in system.static],
            "S": [ident[s.name] for s in system.states],
            "M": [ident[x.name] for x in system.memories],
            "V": [ident[v] for v in self.values],
        }
        self.base: dict[str, int] = {}
        row = 0
        for a in "CZSMV":
            self.base[a] = row
            row += len(self.names[a])
        self.base["K"] = row
        self.state_row = {s.name: i for i, s in enumerate(system.states)}
        self.value_row = {v: i for i, v in enumerate(self.values)}

    def rows(self, n_stages: int) -> int:
        """The register file's rows for a method of ``n_stages`` (and one of sums)."""
        return self.base["K"] + n_stages * len(self.names["S"]) + 1

    def acc(self, n_stages: int) -> int:
        """The row of the finite sums."""
        return self.rows(n_stages) - 1

    def at(self, array: str, i: int | str, lane: str = "j") -> str:
        """The register of row ``i`` of ``array`` in lane ``lane``."""
        return f"F[({self.base[array]} + {i}) * LANES + {lane}]"

    def k(self, stage: int, i: int | str, lane: str = "j") -> str:
        """The register of state ``i``'s derivative at stage ``stage``."""
        return f"F[({self.base['K']} + {stage * len(self.names['S'])} + {i}) * LANES + {lane}]"

    def loads(self, lane: str, arrays: str = "CZSM") -> list[str]:
        """Statements reading lane ``lane`` of the arrays into the generated locals."""
        return [
            f"{name} = {self.at(a, i, lane)}"
            for a in arrays
            for i, name in enumerate(self.names[a])
        ]


def generate_source(system: System, method: ButcherTableau, record: tuple[str, ...]) -> str:
    """The source of a module with ``run_many`` and ``run_serial`` (see :class:`JitKernel`)."""
    ident, lookups = identifiers(system)
    em = ScalarEmitter(ident, lookups)
    lay = _Layout(system, record, ident)
    L: list[str] = [
        "import numpy as np",
        "from numba import njit, prange",
        "from quidpro.solve.jit_runtime import j_first_bad, j_interp, j_max, j_min, j_pulse, j_ramp"
        ", j_step",
        f"LANES = {LANES}",
        "",
    ]
    for name, lk in system.model.lookups.items():
        L.extend(_lookup_function(lookups[name], lk))
    for stage in range(len(method.b)):  # one function a stage: literal offsets only
        L.extend(_lanes_function(system, em, lay, stage, len(method.b)))
    L.extend(_scan_function(system, em, lay))
    L.extend(_block_function(system, method, record, em, lay))
    for name, parallel, loop in (("run_many", True, "prange"), ("run_serial", False, "range")):
        L.append(f"@njit(cache=True, error_model='numpy', parallel={parallel})")
        L.append(f"def {name}(CC, t0, dt, n_steps, stride, out, status, values):")
        L.append(f"    for b in {loop}((CC.shape[0] + LANES - 1) // LANES):")
        L.append("        block(CC, b * LANES, t0, dt, n_steps, stride, out, status, values)")
    return "\n".join(L) + "\n"


def _lookup_function(fn: str, lk: Lookup) -> list[str]:
    """A lookup as a numba function of ``x``.

    A small table with increasing x is written as a chain of selects on literals (no
    loop, no branch: the lane loop stays SIMD), computing exactly the formula of
    :func:`~quidpro.solve.jit_runtime.j_interp` on the interval its bisection finds.
    """
    xs, ys = [float(x) for x in lk.xs], [float(y) for y in lk.ys]
    n = len(xs)
    head = ["@njit(cache=True, error_model='numpy')", f"def {fn}(x):"]
    increasing = all(a < b for a, b in itertools.pairwise(xs))
    if lk.discrete or n < 2 or n > BRANCH_FREE_POINTS or not increasing:
        linear = lk.extrapolate == "linear"
        table = f"np.array({xs!r}), np.array({ys!r})"
        return [*head, f"    return j_interp(x, {table}, {linear}, {lk.discrete})"]

    def segment(i: int) -> str:  # ys[lo] + (x - xs[lo]) / (xs[hi] - xs[lo]) * (ys[hi] - ys[lo])
        return f"({ys[i]!r} + ((x - {xs[i]!r}) / {xs[i + 1] - xs[i]!r}) * {ys[i + 1] - ys[i]!r})"

    body = [f"    y = {segment(0)}"]  # NaN in, NaN out: every comparison below is false
    body += [f"    y = {segment(i)} if x >= {xs[i]!r} else y" for i in range(1, n - 1)]
    body.append(f"    y = {ys[-1]!r} if x >= {xs[-1]!r} else y")
    body.append(f"    y = {ys[0]!r} if x <= {xs[0]!r} else y")
    if lk.extrapolate == "linear":
        low = f"({ys[0]!r} + (x - {xs[0]!r}) * {ys[1] - ys[0]!r} / {xs[1] - xs[0]!r})"
        high = f"({ys[-1]!r} + (x - {xs[-1]!r}) * {ys[-1] - ys[-2]!r} / {xs[-1] - xs[-2]!r})"
        body.append(f"    y = {low} if x < {xs[0]!r} else y")
        body.append(f"    y = {high} if x > {xs[-1]!r} else y")
    return [*head, *body, "    return y"]


def _equations(system: System, em: Emitter) -> list[str]:
    return [f"{em.ident[eq.name]} = {em.num(eq.expr)}" for eq in system.equations]


def _lanes_function(
    system: System, em: Emitter, lay: _Layout, stage: int, n_stages: int
) -> list[str]:
    """``lanes{stage}``: a stage's derivatives of every lane.

    At stage 0 also the recorded and remembered values and each lane's finite sum.
    One loop over the lanes with the step's every equation in its body: what LLVM
    vectorises.
    """
    L = ["@njit(cache=True, error_model='numpy')"]
    L.append(f"def lanes{stage}(t, tk, dt, _t0, _t1, F):")
    L.append("    for j in range(LANES):")
    body = [*lay.loads("j"), *_equations(system, em)]
    body += [f"{lay.k(stage, i)} = {em.num(s.derivative)}" for i, s in enumerate(system.states)]
    if stage == 0:
        body += [f"{lay.at('V', i)} = {v}" for i, v in enumerate(lay.names["V"])]
        body += finite_check(checked_values(system, lay.ident))
        body.append(f"F[{lay.acc(n_stages)} * LANES + j] = _acc")
    L.extend(f"        {line}" for line in body)
    return L


def _scan_function(system: System, em: Emitter, lay: _Layout) -> list[str]:
    """``scan``: lane ``j``'s step again, giving its first non-finite value (run on failure)."""
    L = ["@njit(cache=True, error_model='numpy')"]
    L.append("def scan(t, tk, dt, _t0, _t1, F, j):")
    L.extend(f"    {line}" for line in [*lay.loads("j"), *_equations(system, em)])
    L.append(f"    _all = np.array({_tuple(checked_values(system, lay.ident))})")
    L.append("    _bad = j_first_bad(_all)")
    L.append("    return _bad, _all[max(_bad, 0)]")
    return L


def _block_function(  # noqa: PLR0915  # the numba loop, emitted line by line in order
    system: System, method: ButcherTableau, record: tuple[str, ...], em: Emitter, lay: _Layout
) -> list[str]:
    """``block``: members ``r0 .. r0 + LANES`` from their constants to ``out`` and ``status``.

    The last block repeats its last member in the lanes past the end (not written back).
    """
    L = ["@njit(cache=True, error_model='numpy')"]
    w = L.append
    n_const, n_states, n_static = len(system.constants), len(system.states), len(system.static)
    n_mem, n_stages = len(system.memories), len(method.b)
    acc = lay.acc(n_stages)
    w("def block(CC, r0, t0, dt, n_steps, stride, out, status, values):")
    w("    n = CC.shape[0]")
    w("    width = min(LANES, n - r0)")
    w("    _t0 = t0")
    w("    _t1 = t0 + n_steps * dt")
    w(f"    F = np.zeros({lay.rows(n_stages)} * LANES)")
    w(f"    MI = np.zeros(({max(n_mem, 1)}, LANES))  # the memories' values before their lag")
    w("    LAG = np.ones(MI.shape, dtype=np.int64)")
    w(f"    Y = np.zeros(({max(n_states, 1)}, LANES))")
    w("    for j in range(LANES):")
    w("        r = min(r0 + j, n - 1)")
    w(f"        for i in range({n_const}):")
    w(f"            {lay.at('C', 'i')} = CC[r, i]")
    w("    depth = 1")
    w("    for j in range(LANES):  # statics, their check, initial values, lags")
    init_ident, init_lines = initial_values(system, lay.ident, em.lookups, ScalarEmitter)
    init_lines = init_lines[: len(init_lines) - n_states]  # (states go to F below)
    statics = lay.names["Z"]
    body = [*lay.loads("j", "C")]
    body += [f"{lay.ident[eq.name]} = {em.num(eq.expr)}" for eq in system.static]
    body += [f"{lay.at('Z', i)} = {z}" for i, z in enumerate(statics)]
    body += finite_check(statics)
    body += [
        "if j < width and not np.isfinite(_acc):",
        f"    _all = np.array({_tuple(statics)})",
        "    _bad = j_first_bad(_all)",
        "    if _bad >= 0:",
        "        status[r0 + j, 0], status[r0 + j, 1], values[r0 + j] = 1, _bad, _all[_bad]",
        "t = tk = t0",
        *init_lines,
    ]
    body += [f"{lay.at('S', i)} = {init_ident[s.name]}" for i, s in enumerate(system.states)]
    at_start = ScalarEmitter(init_ident, em.lookups)  # a lag is its delay time at the start
    for i, mem in enumerate(system.memories):
        body += [
            f"_lagf = np.round({at_start.num(mem.lag)})",
            "if not _lagf >= 1:",
            "    if j < width:",
            f"        status[r0 + j, 0], status[r0 + j, 1] = 2, {i}",
            "    return",
            f"LAG[{i}, j] = int(_lagf)",
            f"depth = max(depth, LAG[{i}, j])",
            f"MI[{i}, j] = {init_ident[mem.name]}",
        ]
    L.extend(f"        {line}" for line in body)
    w(f"    BUF = np.zeros(({max(n_mem, 1)}, depth, LANES))")
    w("    isave = 0")
    w("    for k in range(n_steps + 1):")
    w("        tk = t0 + k * dt")
    w(f"        for i in range({n_mem}):")
    w("            for j in range(LANES):")
    w("                lag = LAG[i, j]")
    w("                m = BUF[i, (k - lag) % depth, j] if k >= lag else MI[i, j]")
    w(f"                {lay.at('M', 'i')} = m")
    w("        lanes0(tk, tk, dt, _t0, _t1, F)")
    w(f"        if not np.isfinite(np.sum(F[{acc} * LANES : {acc} * LANES + width])):")
    w("            for j in range(width):")
    w(f"                if status[r0 + j, 0] == 0 and not np.isfinite(F[{acc} * LANES + j]):")
    w("                    _bad, _val = scan(tk, tk, dt, _t0, _t1, F, j)")
    w("                    if _bad >= 0:")
    w(f"                        status[r0 + j, 0], status[r0 + j, 1] = 1, {n_static} + _bad")
    w("                        status[r0 + j, 2], values[r0 + j] = k, _val")
    w("        if k % stride == 0:")
    w("            for j in range(width):")
    for col, name in enumerate(record):
        if name in lay.state_row:
            src = lay.at("S", lay.state_row[name])
        else:
            src = lay.at("V", lay.value_row[name])
        w(f"                out[r0 + j, isave, {col}] = {src}")
    w("            isave += 1")
    for i, mem in enumerate(system.memories):
        w("        for j in range(LANES):")
        w(f"            BUF[{i}, k % depth, j] = {lay.at('V', lay.value_row[mem.source])}")
    w("        if k == n_steps:")
    w("            break")
    L.extend(f"        {line}" for line in _stages(method, n_states, lay))
    return L


def _stages(method: ButcherTableau, n_states: int, lay: _Layout) -> list[str]:
    """The later stages and the update ``y + dt * sum_i b_i K_i``.

    In the order (and so the rounding) of the NumPy kernel's ``stage_states`` and
    ``step_update``.
    """

    def combine(weights: tuple[float, ...], base: str) -> list[str]:
        terms = " + ".join(f"{a!r} * {lay.k(s, 'i')}" for s, a in enumerate(weights) if a != 0.0)
        y = lay.at("S", "i") if base == "S" else "Y[i, j]"
        value = f"{y} + dt * ({terms})" if terms else y
        return [
            f"for i in range({n_states}):",
            "    for j in range(LANES):",
            f"        {lay.at('S', 'i')} = {value}",
        ]

    if len(method.b) == 1:
        return combine(method.b, "S")
    lines = [
        f"for i in range({n_states}):",
        "    for j in range(LANES):",
        f"        Y[i, j] = {lay.at('S', 'i')}",
    ]
    for stage in range(1, len(method.b)):
        lines += combine(method.a[stage], "Y")
        lines.append(f"lanes{stage}(tk + {method.c[stage]!r} * dt, tk, dt, _t0, _t1, F)")
    return lines + combine(method.b, "Y")


def _cache_dir() -> Path:
    """Where generated kernels and numba's cache of them live ($QUIDPRO_CACHE overrides)."""
    path = cache_root() / "kernels"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _keep_bytecode(path: Path, stale: bool) -> None:
    """Write the module's bytecode beside it (once), even under PYTHONDONTWRITEBYTECODE.

    Python takes ~50 ms to compile the flagship's generated module (50 KB) in every
    process that imports it without bytecode; the folder is quidpro's own cache, so
    the bytecode is kept whatever the user's setting for their own source trees.
    """
    try:
        pyc = Path(importlib.util.cache_from_source(str(path)))
    except NotImplementedError:  # pragma: no cover - an interpreter without bytecode caching
        return
    if stale or not pyc.exists():
        import py_compile

        with contextlib.suppress(OSError, py_compile.PyCompileError):
            py_compile.compile(str(path), cfile=str(pyc), doraise=True)


class JitKernel(MemberKernel):
    """``run(consts, t0, dt, n_steps, stride, out)`` like the NumPy kernel; compiled lazily."""

    def __init__(self, source: str, record: tuple[str, ...]) -> None:
        self.source = source
        self.record = record
        digest = hashlib.sha256(source.encode()).hexdigest()[:20]
        self.module_name = f"quidpro_kernel_{digest}"
        self._module: Any = None

    def module(self) -> Any:
        """The kernel's module, written to numba's cache folder and imported once."""
        if self._module is None:
            path = _cache_dir() / f"{self.module_name}.py"
            stale = not path.exists() or path.read_text() != self.source
            if stale:
                tmp = path.with_suffix(f".tmp{id(self)}")
                tmp.write_text(self.source)
                tmp.replace(path)
            _keep_bytecode(path, stale)
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
        func = "run_many" if many else "run_serial"
        return folder.exists() and any(folder.glob(f"{self.module_name}.{func}-*.nbi"))

    def launch(self, cc: np.ndarray, args: tuple[Any, ...]) -> int:
        """Run the members of ``cc``: one block on this thread, more over the cores."""
        mod = self.module()
        run = mod.run_serial if cc.shape[0] <= LANES else mod.run_many
        run(cc, *args)
        return 0
