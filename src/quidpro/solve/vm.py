"""The interpreter backend: a lowered system as an instruction array.

The interpreter backend: a lowered system as an instruction array, run by one
numba function compiled once (:mod:`quidpro.solve.vm_runtime`).

numba's front end costs 10-20 ms a statement, so a generated kernel of 8,000
equations takes many minutes to compile; an instruction array takes milliseconds to
build (linear in the model) and the interpreter that runs it is compiled once per
installation. Members run in lanes of ``LANES``, so the cost of dispatching an
instruction is shared by a row of members and the row compiles to SIMD code.

Registers are laid out so that one range holds, in evaluation order, every static,
state and equation value: the kernel checks that range every step and reports each
member's first non-finite value (see :class:`~quidpro.solve.status.RunStatus`).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num, Unary
from quidpro.solve.lower import System
from quidpro.solve.members import MemberKernel
from quidpro.solve.tableau import ButcherTableau

# Opcodes, as in vm_runtime (kept here so that building a program imports no numba).
(ADD, SUB, MUL, DIV, COPY, NEG, POW, MIN, MAX, IF, LOOKUP) = range(11)
(LT, LE, GT, GE, EQ, NE, AND, OR, NOT, STEP, RAMP, PULSE, MOD) = range(11, 24)
_UNARY_NAMES = "abs exp ln log10 sqrt sin cos tan arcsin arccos arctan floor ceil"
_UNARY_NAMES += " sinh cosh tanh arcsinh arccosh arctanh trunc"
_UNARY = {name: 24 + i for i, name in enumerate(_UNARY_NAMES.split())}
_UNARY["int"] = _UNARY["floor"]
_BINARY = {"+": ADD, "-": SUB, "*": MUL, "/": DIV, "^": POW, "<": LT, "<=": LE, ">": GT}
_BINARY.update({">=": GE, "==": EQ, "!=": NE, "and": AND, "or": OR})
_CHAIN = {"+": 0, "-": 0, "*": 1, "/": 1}
T, TK, DT, T0, T1 = range(5)
_LOOKUP_MODE = {"clamp": 0, "linear": 1}


def available() -> bool:
    """Whether numba (which runs the interpreter) can be imported."""
    return importlib.util.find_spec("numba") is not None


class _Assembler:
    """Expression trees → three-address instructions over named and temporary registers."""

    def __init__(self, regs: dict[str, int], n_named: int, lookups: dict[str, int]) -> None:
        self.regs = regs
        self.lookups = lookups
        self.literals: dict[float, int] = {}
        self.literal_values: list[float] = []
        self.code: list[tuple[int, int, int, int, int]] = []
        self.first_temp = n_named  # literals are numbered after the temporaries, at the end
        self.next_temp = n_named
        self.max_temp = n_named

    def literal(self, value: float) -> int:
        """A register holding ``value`` (negative until the layout is final)."""
        key = float(value)
        if key not in self.literals:
            self.literals[key] = -1 - len(self.literal_values)
            self.literal_values.append(key)
        return self.literals[key]

    def temp(self) -> int:
        self.next_temp += 1
        self.max_temp = max(self.max_temp, self.next_temp)
        return self.next_temp - 1

    def emit(self, op: int, dst: int | None, a: int = 0, b: int = 0, c: int = 0) -> int:
        d = self.temp() if dst is None else dst
        self.code.append((op, d, a, b, c))
        return d

    def assign(self, expr: Expr, dst: int) -> None:
        """Code computing ``expr`` into register ``dst``; temporaries are reused after."""
        got = self.expr(expr, dst)
        if got != dst:
            self.emit(COPY, dst, got)
        self.next_temp = self.first_temp

    def expr(self, e: Expr, dst: int | None = None) -> int:  # noqa: PLR0911  # one return per node kind
        """Code for ``e``; its register (``dst`` when the result is computed)."""
        if isinstance(e, Num):
            return self.literal(e.value)
        if isinstance(e, Name | Index):
            if e.id == "pi":
                return self.literal(math.pi)
            if e.id == "inf":
                return self.literal(math.inf)
            return self.regs[e.id]
        if isinstance(e, Unary):
            x = self.expr(e.operand)
            if e.op == "+":
                return x
            return self.emit(NOT if e.op == "not" else NEG, dst, x)
        if isinstance(e, Binary):
            if e.op in _CHAIN:
                return self.chain(e, dst)
            left, right = self.expr(e.left), self.expr(e.right)
            return self.emit(_BINARY[e.op], dst, left, right)
        assert isinstance(e, Call)
        return self.call(e, dst)

    def chain(self, e: Binary, dst: int | None) -> int:
        """Emit a left-nested chain of ``+ -`` (or ``* /``) without recursion.

        A left-nested run of ``+ -`` (or ``* /``) without recursion, as the NumPy
        emitter writes it (same order of operations).
        """
        level = _CHAIN[e.op]
        spine: list[Binary] = []
        node: Expr = e
        while isinstance(node, Binary) and _CHAIN.get(node.op) == level:
            spine.append(node)
            node = node.left
        acc = self.expr(node)
        for i, link in enumerate(reversed(spine)):
            right = self.expr(link.right)
            last = i == len(spine) - 1
            out = dst if last else (acc if acc >= self.first_temp else None)
            acc = self.emit(_BINARY[link.op], out, acc, right)
        return acc

    def call(self, e: Call, dst: int | None) -> int:  # noqa: PLR0911  # one return per call family
        f = e.func
        if f in self.lookups:
            return self.emit(LOOKUP, dst, self.expr(e.args[0]), self.lookups[f])
        if f in ("min", "max"):
            acc = self.expr(e.args[0])
            for i, arg in enumerate(e.args[1:]):
                last = i == len(e.args) - 2
                out = dst if last else (acc if acc >= self.first_temp else None)
                acc = self.emit(MIN if f == "min" else MAX, out, acc, self.expr(arg))
            return acc
        args = [self.expr(a) for a in e.args]
        if f == "if":
            return self.emit(IF, dst, *args)
        if f in _UNARY:
            return self.emit(_UNARY[f], dst, args[0])
        if f == "mod":
            return self.emit(MOD, dst, *args)
        if f == "clip":
            return self.emit(MIN, dst, self.emit(MAX, None, args[0], args[1]), args[2])
        if f == "step":
            return self.emit(STEP, dst, *args)
        if f == "ramp":
            end = args[2] if len(args) > 2 else self.literal(math.inf)
            return self.emit(RAMP, dst, args[0], args[1], end)
        if f == "pulse":
            every = args[2] if len(args) > 2 else self.literal(0.0)
            return self.emit(PULSE, dst, args[0], args[1], every)
        raise NotImplementedError(f"{f}() has no form in the interpreter")


@dataclass
class Program:
    """A lowered system as instruction arrays and a register layout (see ``vm_runtime``)."""

    arrays: tuple[np.ndarray, ...]
    layout: np.ndarray  # check range lo, hi; static range lo, hi; the time register
    n_registers: int
    record: tuple[str, ...]


def assemble(system: System, method: ButcherTableau, record: tuple[str, ...]) -> Program:
    """The program of ``system`` under ``method``, recording ``record`` (linear time)."""
    m = system.model
    named = [*system.constants, *(e.name for e in system.static)]
    named += [s.name for s in system.states] + [e.name for e in system.equations]
    named += [x.name for x in system.memories]
    regs = {name: 5 + i for i, name in enumerate(named)}
    regs.update({"time": TK if m.time.hold_inputs else T, "dt": DT})
    regs.update({"start_time": T0, "stop_time": T1})
    extra = 5 + len(named)  # memory initial values and lags, derivatives
    n_mem, n_states = len(system.memories), len(system.states)
    mem_init = np.arange(extra, extra + n_mem)
    mem_lag = mem_init + n_mem
    deriv = np.arange(extra + 2 * n_mem, extra + 2 * n_mem + n_states)
    lookups = {name: i for i, name in enumerate(m.lookups)}
    asm = _Assembler(regs, extra + 2 * n_mem + n_states, lookups)
    for eq in system.static:
        asm.assign(eq.expr, regs[eq.name])
    code_static = _take(asm)
    exprs: dict[str, Expr] = {s.name: s.initial for s in system.states}
    exprs.update({x.name: x.init for x in system.memories})
    exprs.update({e.name: e.expr for e in system.equations})
    for name in system.init_order:
        asm.assign(exprs[name], regs[name])
    for i, mem in enumerate(system.memories):
        asm.emit(COPY, int(mem_init[i]), regs[mem.name])
        asm.assign(mem.lag, int(mem_lag[i]))
    code_init = _take(asm)
    for eq in system.equations:
        asm.assign(eq.expr, regs[eq.name])
    for i, s in enumerate(system.states):
        asm.assign(s.derivative, int(deriv[i]))
    code_step = _take(asm)
    n_literal = len(asm.literal_values)
    n_regs = asm.max_temp + n_literal
    reg0 = np.zeros(n_regs)
    reg0[asm.max_temp :] = asm.literal_values
    codes = [_place(c, asm.max_temp) for c in (code_static, code_init, code_step)]
    lk_x, lk_y, lk_meta = _lookup_tables(system)
    ints = np.int64
    arrays = (
        *codes,
        reg0,
        np.array([regs[c] for c in system.constants], dtype=ints),
        np.array([regs[r] for r in record], dtype=ints),
        np.array([regs[s.name] for s in system.states], dtype=ints),
        deriv.astype(ints),
        np.array([regs[x.name] for x in system.memories], dtype=ints),
        np.array([regs[x.source] for x in system.memories], dtype=ints),
        mem_init.astype(ints),
        mem_lag.astype(ints),
        lk_x,
        lk_y,
        lk_meta,
        _square(method.a),
        np.array(method.b, dtype=float),
        np.array(method.c, dtype=float),
    )
    static_lo = 5 + len(system.constants)
    chk_lo = static_lo + len(system.static)
    chk_hi = chk_lo + n_states + len(system.equations)
    layout = np.array([chk_lo, chk_hi, static_lo, chk_lo, regs["time"]], dtype=ints)
    return Program(arrays, layout, n_regs, record)


def _take(asm: _Assembler) -> list[tuple[int, int, int, int, int]]:
    code, asm.code = asm.code, []
    return code


def _place(code: list[tuple[int, int, int, int, int]], literal_base: int) -> np.ndarray:
    """Instructions with literal registers (numbered -1, -2, ...) moved after the temps."""
    arr = np.array(code, dtype=np.int64).reshape(-1, 5)
    operands = arr[:, 1:]
    operands[operands < 0] = literal_base - 1 - operands[operands < 0]  # (tables are >= 0)
    return arr


def _lookup_tables(system: System) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs: list[float] = []
    ys: list[float] = []
    meta = []
    for lk in system.model.lookups.values():
        mode = 2 if lk.discrete else _LOOKUP_MODE.get(lk.extrapolate, 0)
        meta.append((len(xs), len(xs) + len(lk.xs), mode))
        xs.extend(lk.xs)
        ys.extend(lk.ys)
    return (
        np.array(xs or [0.0]),
        np.array(ys or [0.0]),
        np.array(meta or [(0, 1, 0)], dtype=np.int64).reshape(-1, 3),
    )


def _square(a: tuple[tuple[float, ...], ...]) -> np.ndarray:
    out = np.zeros((len(a), len(a)))
    for i, row in enumerate(a):
        out[i, : len(row)] = row
    return out


class VmKernel(MemberKernel):
    """``run(consts, t0, dt, n_steps, stride, out)`` like the generated kernels."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.record = program.record

    @staticmethod
    def loaded() -> bool:
        """Whether the interpreter is loaded in this process."""
        import sys

        return "quidpro.solve.vm_runtime" in sys.modules

    @staticmethod
    def cached() -> bool:
        """Whether numba's disk cache holds the interpreter (no compile needed)."""
        spec = importlib.util.find_spec("quidpro.solve.vm_runtime")
        if spec is None or spec.origin is None:  # pragma: no cover
            return False
        from pathlib import Path

        folder = Path(spec.origin).parent / "__pycache__"
        return folder.exists() and any(folder.glob("vm_runtime.run_program-*.nbi"))

    def launch(self, cc: np.ndarray, args: tuple[Any, ...]) -> int:
        """Interpret the program for the members of ``cc`` (one block: on this thread)."""
        from quidpro.solve import vm_runtime

        p = self.program
        one_block = cc.shape[0] <= vm_runtime.LANES  # no thread pool for a single block
        run = vm_runtime.run_program_serial if one_block else vm_runtime.run_program
        run(p.arrays, p.layout, cc, *args)
        return int(p.layout[2])
