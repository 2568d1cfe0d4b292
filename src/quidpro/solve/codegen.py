"""Generate one vectorised simulation function from a lowered system.

Each variable becomes a local of the generated function, holding a float or an
array over the ensemble axis. The source is made only from quidpro's own
tokens: variable names are replaced by generated identifiers (``c0``, ``s3``,
``e7``) and numbers are formatted floats, so no text of the model file reaches
Python. Non-finite values are reported against the
model's variable names: the kernel checks every state and equation at every step
(see :mod:`quidpro.solve.status`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num, Unary, names
from quidpro.lang.builtins import BUILTINS
from quidpro.solve import noise, runtime
from quidpro.solve.lower import System
from quidpro.solve.status import RunStatus, Scanner
from quidpro.solve.tableau import ButcherTableau

_UNARY_FUNCS = {
    "abs": "np.abs",
    "exp": "np.exp",
    "ln": "np.log",
    "log10": "np.log10",
    "sqrt": "np.sqrt",
    "sin": "np.sin",
    "cos": "np.cos",
    "tan": "np.tan",
    "arcsin": "np.arcsin",
    "arccos": "np.arccos",
    "arctan": "np.arctan",
    "sinh": "np.sinh",
    "cosh": "np.cosh",
    "tanh": "np.tanh",
    "arcsinh": "np.arcsinh",
    "arccosh": "np.arccosh",
    "arctanh": "np.arctanh",
    "trunc": "np.trunc",
    "floor": "np.floor",
    "ceil": "np.ceil",
    "int": "np.floor",
}
_COMPARE = {
    "<": "np.less",
    "<=": "np.less_equal",
    ">": "np.greater",
    ">=": "np.greater_equal",
    "==": "np.equal",
    "!=": "np.not_equal",
}
_RANDOM = {n for n, b in BUILTINS.items() if b.kind == "random"}
_ARITH = {"+": "+", "-": "-", "*": "*", "/": "/", "^": "**"}
_CHAIN = {"+": 0, "-": 0, "*": 1, "/": 1}  # left-associative, by precedence level


class Emitter:
    """Expression → Python source over NumPy, with generated identifiers only."""

    def __init__(self, ident: dict[str, str], lookups: dict[str, str]) -> None:
        self.ident = ident
        self.lookups = lookups

    # How this dialect turns a condition into a number, and a number into a condition.
    AS_NUMBER = "({code} * 1.0)"
    AS_CONDITION = "np.not_equal({code}, 0.0)"

    def num(self, e: Expr) -> str:
        """Code for ``e`` as a number (a condition becomes 1.0 or 0.0)."""
        code, is_bool = self.emit(e)
        return self.AS_NUMBER.format(code=code) if is_bool else code

    def cond(self, e: Expr) -> str:
        """Code for ``e`` as a condition (a number is true when nonzero)."""
        code, is_bool = self.emit(e)
        return code if is_bool else self.AS_CONDITION.format(code=code)

    def emit(self, e: Expr) -> tuple[str, bool]:  # noqa: PLR0911  # one return per node kind
        """Code for ``e`` and whether it is a condition."""
        if isinstance(e, Num):
            v = e.value
            return ("np.inf" if v == np.inf else repr(float(v))), False
        if isinstance(e, Name | Index):
            return self.ident[e.id], False
        if isinstance(e, Unary):
            if e.op == "not":
                return f"np.logical_not({self.cond(e.operand)})", True
            return f"({e.op}{self.num(e.operand)})", False
        if isinstance(e, Binary):
            if e.op in _COMPARE:
                return f"{_COMPARE[e.op]}({self.num(e.left)}, {self.num(e.right)})", True
            if e.op in ("and", "or"):
                fn = "np.logical_and" if e.op == "and" else "np.logical_or"
                return f"{fn}({self.cond(e.left)}, {self.cond(e.right)})", True
            if e.op in _CHAIN:
                return self.chain(e), False
            left = self.num(e.left)
            if e.op in ("/", "^") and not names(e.left):
                # Python floats raise on 1/0 and overflow (or go complex) on (-8)^0.5;
                # NumPy floats give inf or nan, which the run then reports.
                left = f"np.float64({left})"
            return f"({left} {_ARITH[e.op]} {self.num(e.right)})", False
        assert isinstance(e, Call)
        return self.call(e)

    def chain(self, e: Binary) -> str:
        """Emit a left-nested chain of ``+ -`` (or ``* /``) flat.

        A left-nested run of ``+ -`` (or ``* /``) as one flat Python expression, so that
        a sum of many terms recurses neither here nor in Python's compiler.
        """
        level = _CHAIN[e.op]
        spine: list[Binary] = []
        node: Expr = e
        while isinstance(node, Binary) and _CHAIN.get(node.op) == level:
            spine.append(node)
            node = node.left
        code = self.num(node)
        literal = not names(node)
        for b in reversed(spine):
            right = self.num(b.right)
            if b.op == "/" and literal:  # see the np.float64 note in emit
                code = f"(np.float64({code}) / {right})"
            else:
                code = f"{code} {b.op} {right}"
            literal = literal and not names(b.right)
        return f"({code})"

    # The dialect: how this backend writes each function (NumPy arrays here).
    IF = "np.where({c}, {a}, {b})"
    MIN, MAX = "np.minimum", "np.maximum"
    CLIP = "np.minimum(np.maximum({x}, {lo}), {hi})"
    TIME_FUNCS: ClassVar[dict[str, str]] = {
        "step": "_step({time}, {args})",
        "ramp": "_ramp({time}, {args})",
        "pulse": "_pulse(tk, dt, {args})",
    }
    RANDOM: str | None = "_noise({kind!r}, tk, _t0, dt, _members, {args})"

    def call(self, e: Call) -> tuple[str, bool]:  # noqa: PLR0911  # one return per call family
        """Code for a builtin or lookup call and whether it is a condition."""
        f, args = e.func, [self.num(a) for a in e.args]
        if f in self.lookups:
            return f"{self.lookups[f]}({args[0]})", False
        if f == "if":
            return self.IF.format(c=self.cond(e.args[0]), a=args[1], b=args[2]), False
        if f in ("min", "max"):
            fn = self.MIN if f == "min" else self.MAX
            out = args[0]
            for a in args[1:]:
                out = f"{fn}({out}, {a})"
            return out, False
        if f in _UNARY_FUNCS:
            return f"{_UNARY_FUNCS[f]}({args[0]})", False
        if f == "mod":
            return f"np.mod({args[0]}, {args[1]})", False
        if f == "clip":
            return self.CLIP.format(x=args[0], lo=args[1], hi=args[2]), False
        if f in self.TIME_FUNCS:  # pulse reads tk: the same in every stage of a step
            return self.TIME_FUNCS[f].format(time=self.ident["time"], args=", ".join(args)), False
        if f in _RANDOM and self.RANDOM is not None:  # lowered to (params..., seed, site)
            return self.RANDOM.format(kind=f, args=", ".join(args)), False
        raise NotImplementedError(f"{f}() has no form in {type(self).__name__}")


@dataclass
class Kernel:
    """The NumPy kernel: :meth:`run` fills ``out[time, recorded variable, run]``.

    ``record`` names the recorded variables in order; ``source`` is the generated code.
    """

    function: Callable[..., None]
    record: tuple[str, ...]
    source: str
    constants: tuple[str, ...]

    def run(  # noqa: PLR0917  # the kernel interface every backend shares
        self,
        consts: list[Any],
        t0: float,
        dt: float,
        n_steps: int,
        stride: int,
        out: np.ndarray,
        *,
        member_offset: int = 0,
    ) -> RunStatus:
        """Integrate every member; the status of each (see :class:`RunStatus`)."""
        scan = Scanner(out.shape[2])
        try:
            self.function(consts, t0, dt, n_steps, stride, out, member_offset, scan)
        except LagError as exc:
            return RunStatus.short(out.shape[2], exc.index)
        return scan.status


def identifiers(system: System) -> tuple[dict[str, str], dict[str, str]]:
    """Generated identifiers for every name, and for every lookup function."""
    ident: dict[str, str] = {
        "time": "tk" if system.model.time.hold_inputs else "t",
        "dt": "dt",
        "start_time": "_t0",
        "stop_time": "_t1",
        "pi": "np.pi",
        "inf": "np.inf",
    }
    for i, c in enumerate(system.constants):
        ident[c] = f"c{i}"
    for i, s in enumerate(system.states):
        ident[s.name] = f"s{i}"
    for i, mem in enumerate(system.memories):
        ident[mem.name] = f"m{i}"
    for i, eq in enumerate(system.static):
        ident[eq.name] = f"z{i}"
    for i, eq in enumerate(system.equations):
        ident[eq.name] = f"e{i}"
    lookups = {name: f"_lk{i}" for i, name in enumerate(system.model.lookups)}
    return ident, lookups


def initial_values(
    system: System,
    ident: dict[str, str],
    lookups: dict[str, str],
    emitter: type[Emitter],
    wrap: str = "{}",
) -> tuple[dict[str, str], list[str]]:
    """Emit the t0 statements and return the identifiers of the t0 values.

    Statements computing every state, memory and equation at t0, in dependency order,
    then the states' starting values; and the identifiers of those t0 values.
    """
    init_ident = {**ident}
    for name in [
        *(s.name for s in system.states),
        *(x.name for x in system.memories),
        *(e.name for e in system.equations),
    ]:
        init_ident[name] = f"i_{ident[name]}"
    iem = emitter(init_ident, lookups)
    exprs = {s.name: s.initial for s in system.states}
    exprs.update({x.name: x.init for x in system.memories})
    exprs.update({e.name: e.expr for e in system.equations})
    lines = [f"{init_ident[n]} = {wrap.format(iem.num(exprs[n]))}" for n in system.init_order]
    lines += [f"{ident[s.name]} = {init_ident[s.name]}" for s in system.states]
    return init_ident, lines


def stage_states(method: ButcherTableau, stage: int, states: list[str]) -> list[str]:
    """The state at which stage ``stage`` evaluates: ``y + dt * sum_j a_ij K_j``."""
    terms_of = (
        " + ".join(f"{a!r} * K{j}[{i}]" for j, a in enumerate(method.a[stage]) if a != 0.0)
        for i in range(len(states))
    )
    return [f"{y} + dt * ({t})" if t else y for y, t in zip(states, terms_of, strict=True)]


def step_update(method: ButcherTableau, states: list[str]) -> list[str]:
    """``y = y + dt * sum_i b_i K_i`` for every state."""
    return [
        f"{y} = {y} + dt * ("
        + " + ".join(f"{b!r} * K{j}[{i}]" for j, b in enumerate(method.b) if b != 0.0)
        + ")"
        for i, y in enumerate(states)
    ]


def finite_check(values: list[str], chunk: int = 64) -> list[str]:
    """Emit statements setting ``_acc`` to the sum of ``values``.

    Statements setting ``_acc`` to a sum of ``values``: non-finite where any of them is
    (or on overflow, which the scan then finds clean). Chunked: Python's compiler
    recurses on long sums.
    """
    if not values:
        return ["_acc = 0.0"]
    lines = []
    for i in range(0, len(values), chunk):
        part = _balanced_sum(values[i : i + chunk])
        lines.append(f"_acc = {part}" if i == 0 else f"_acc = _acc + {part}")
    return lines


def _balanced_sum(items: list[str]) -> str:
    """Sum ``items`` as a balanced tree of additions.

    ``(a + b) + (c + d)``: a tree of additions, not a chain, so that the check adds
    a few cycles of latency a step rather than one addition's per variable.
    """
    if len(items) == 1:
        return items[0]
    mid = len(items) // 2
    return f"({_balanced_sum(items[:mid])} + {_balanced_sum(items[mid:])})"


def checked_values(system: System, ident: dict[str, str]) -> list[str]:
    """Identifiers of the states and equations, in evaluation order (after the statics)."""
    return [ident[s.name] for s in system.states] + [ident[e.name] for e in system.equations]


def generate(system: System, method: ButcherTableau, record: tuple[str, ...]) -> Kernel:
    """The NumPy kernel of ``system`` under ``method``, recording ``record``."""
    ident, lookups = identifiers(system)
    source = "\n".join(_numpy_source(system, method, record, ident, lookups)) + "\n"
    namespace: dict[str, Any] = {
        "np": np,
        "_step": runtime.sd_step,
        "_ramp": runtime.sd_ramp,
        "_pulse": runtime.sd_pulse,
        "_noise": noise.draw,
        "_deque": __import__("collections").deque,
        "_delayed": runtime.delayed,
        "_LagError": LagError,
    }
    for name, lk in system.model.lookups.items():
        namespace[lookups[name]] = runtime.LookupFn(lk.xs, lk.ys, lk.extrapolate, lk.discrete)
    code = compile(source, f"<quidpro kernel {system.model.name}>", "exec")
    exec(code, namespace)  # the source is generated from the checked syntax tree only
    return Kernel(namespace["run"], record, source, tuple(system.constants))


def _numpy_source(
    system: System,
    method: ButcherTableau,
    record: tuple[str, ...],
    ident: dict[str, str],
    lookups: dict[str, str],
) -> list[str]:
    """The lines of ``run``: set-up and initial values, the right-hand side, the loop."""
    em = Emitter(ident, lookups)
    L: list[str] = []
    w = L.append
    consts = ", ".join(ident[c] for c in system.constants)
    w("def run(C, t0, dt, n_steps, stride, out, member_offset, _scan):")
    w("    t0, dt = np.float64(t0), np.float64(dt)  # NumPy floats: 1/0 is inf, not an error")
    w("    _t0 = t0")
    w("    _t1 = t0 + n_steps * dt")
    w("    _n = out.shape[2]  # ensemble members (random draws need one each)")
    w("    _members = np.arange(member_offset, member_offset + _n, dtype=np.uint64)")
    if system.constants:
        w(f"    {consts}{',' if len(system.constants) == 1 else ''} = C")
    for eq in system.static:
        w(f"    {ident[eq.name]} = np.float64({em.num(eq.expr)})")
    statics = [ident[e.name] for e in system.static]
    w(f"    _scan.note(0, {_tuple_of(statics)}, 0)")
    w("    t = tk = t0")  # initial values, in dependency order, at t = t0
    init_ident, lines = initial_values(system, ident, lookups, Emitter, "np.float64({})")
    L.extend(f"    {line}" for line in lines)
    at_start = Emitter(init_ident, lookups)  # a lag is its delay time at the start
    for i, mem in enumerate(system.memories):
        # The lag in steps may differ between members (a delay time set per run).
        w(f"    _lags{i} = np.round({at_start.num(mem.lag)})")
        w(f"    if not np.min(_lags{i}) >= 1: raise _LagError({i})")
        w(f"    _lag{i} = int(np.max(_lags{i}))")
        w(f"    _one{i} = bool(np.all(_lags{i} == _lag{i}))")
        w(f"    _buf{i} = _deque(maxlen=_lag{i})")
        w(f"    _init{i} = {init_ident[mem.name]}")
    value_pos = _numpy_rhs(system, record, ident, em, L)
    _numpy_loop(system, method, record, ident, value_pos=value_pos, L=L)
    return L


def _tuple_of(items: list[str]) -> str:
    return "(" + "".join(i + ", " for i in items) + ")"


def _numpy_rhs(
    system: System, record: tuple[str, ...], ident: dict[str, str], em: Emitter, L: list[str]
) -> dict[str, int]:
    """Emit ``rhs`` and return where each value is.

    ``rhs``: every equation, the derivatives, and the values the loop records or
    remembers; at stage 0 (``_k >= 0``) the finite check. Returns where each value is.
    """
    S = [ident[s.name] for s in system.states]
    M = [ident[x.name] for x in system.memories]
    states = {s.name for s in system.states}
    value_names = list(
        dict.fromkeys([r for r in record if r not in states] + [m.source for m in system.memories])
    )
    L.append(f"    def rhs({', '.join(['t', 'tk', '_k', *S, *M])}):")
    L.extend(f"        {ident[eq.name]} = {em.num(eq.expr)}" for eq in system.equations)
    L.append("        if _k >= 0:")
    checked = checked_values(system, ident)
    L.extend(f"            {line}" for line in finite_check(checked))
    L.append("            if not np.all(np.isfinite(_acc)):")
    L.append(f"                _scan.note(_k, {_tuple_of(checked)}, {len(system.static)})")
    derivs = _tuple_of([em.num(s.derivative) for s in system.states])
    L.append(f"        return {derivs}, {_tuple_of([ident[v] for v in value_names])}")
    return {v: j for j, v in enumerate(value_names)}


def _numpy_loop(
    system: System,
    method: ButcherTableau,
    record: tuple[str, ...],
    ident: dict[str, str],
    *,
    value_pos: dict[str, int],
    L: list[str],
) -> None:
    """The time loop: memories, stage 0 (recorded), the other stages, the update."""
    w = L.append
    S = [ident[s.name] for s in system.states]
    M = [ident[x.name] for x in system.memories]
    states = {s.name for s in system.states}
    w("    isave = 0")
    w("    for k in range(n_steps + 1):")
    w("        tk = t0 + k * dt")
    for i, mem in enumerate(system.memories):
        w(
            f"        {ident[mem.name]} = (_buf{i}[0] if len(_buf{i}) == _lag{i} else _init{i}) "
            f"if _one{i} else _delayed(_buf{i}, _lags{i}, _init{i})"
        )
    w(f"        K0, V = rhs(tk, tk, k, {''.join(x + ', ' for x in S + M)})")
    w("        if k % stride == 0:")
    w("            o = out[isave]")
    for j, r in enumerate(record):
        src = ident[r] if r in states else f"V[{value_pos[r]}]"
        w(f"            o[{j}] = {src}")
    w("            isave += 1")
    for i, mem in enumerate(system.memories):
        w(f"        _buf{i}.append(V[{value_pos[mem.source]}])")
    w("        if k == n_steps:")
    w("            break")
    for stage in range(1, len(method.b)):
        ys = stage_states(method, stage, S)
        w(
            f"        K{stage}, _ = rhs(tk + {method.c[stage]!r} * dt, tk, -1, "
            f"{''.join(y + ', ' for y in ys)}{''.join(x + ', ' for x in M)})"
        )
    L.extend(f"        {line}" for line in step_update(method, S))


class LagError(Exception):
    """A delay_fixed or previous whose lag is shorter than one step."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index
