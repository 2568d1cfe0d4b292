"""Values known before a Vensim run starts, and ACTIVE INITIAL rewrites.

``binary_value`` and ``call_value`` compute what an operator or a builtin gives
for plain numbers, so the builder can fold a control variable, a DELAY N order or
an INVERT MATRIX cell to a number at the start of the run (the builtins it needs
at most: the solver runs everything else). ``with_initials`` and
``explicit_inits`` give initial-value contexts the ``ACTIVE INITIAL`` value of a
variable instead of its equation.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from quidpro.lang.ast import Binary, Call, Expr, Name, Unary

_IMPLICIT_INIT = {"smooth": 2, "smooth3": 2, "delay1": 2, "delay3": 2, "trend": 2}


def binary_value(op: str, a: float, b: float) -> float | None:
    """``a op b`` for numbers (None when it has no finite value)."""
    ops = {
        "+": a + b,
        "-": a - b,
        "*": a * b,
        "<": float(a < b),
        "<=": float(a <= b),
        ">": float(a > b),
        ">=": float(a >= b),
        "==": float(a == b),
        "!=": float(a != b),
        "and": float(bool(a) and bool(b)),
        "or": float(bool(a) or bool(b)),
    }
    if op in ops:
        return ops[op]
    if op == "/":
        return a / b if b else None
    if op == "^":
        try:
            return float(a**b)
        except (OverflowError, ZeroDivisionError):
            return None
    return None


_CALLS: dict[str, Callable[[list[float], float], float]] = {
    "if": lambda v, _t: v[1] if v[0] else v[2],
    "min": lambda v, _t: min(v),
    "max": lambda v, _t: max(v),
    "step": lambda v, t: v[0] if t >= v[1] else 0.0,
    "ramp": lambda v, t: v[0] * (min(t, v[2]) - min(t, v[1])),
    "abs": lambda v, _t: abs(v[0]),
    "trunc": lambda v, _t: float(math.trunc(v[0])),
    "exp": lambda v, _t: math.exp(v[0]),
}


def call_value(func: str, v: list[float], t: float) -> float | None:
    """A pure builtin or time function at time ``t`` (None when not known here)."""
    fn = _CALLS.get(func)
    try:
        return None if fn is None else fn(v, t)
    except (OverflowError, ValueError):  # EXP(1000), INTEGER of inf or nan: not folded
        return None


def value_of(e: Expr, operands: list[float], t: float) -> float | None:
    """The value of the operator or call ``e`` given its operands' values."""
    if isinstance(e, Unary):
        return -operands[0] if e.op == "-" else float(not operands[0])
    if isinstance(e, Binary):
        return binary_value(e.op, operands[0], operands[1])
    if isinstance(e, Call):
        return call_value(e.func, operands, t)
    return None


def with_initials(e: Expr, initials: dict[str, Expr]) -> Expr:
    """``e`` with each ACTIVE INITIAL variable replaced by its initial value."""
    if not initials:
        return e
    if isinstance(e, Name):
        return initials.get(e.id, e)
    if isinstance(e, Unary):
        return Unary(e.op, with_initials(e.operand, initials), e.loc)
    if isinstance(e, Binary):
        return Binary(
            e.op, with_initials(e.left, initials), with_initials(e.right, initials), e.loc
        )
    if isinstance(e, Call):
        return Call(e.func, tuple(with_initials(a, initials) for a in e.args), e.loc)
    return e


def explicit_inits(e: Expr, initials: dict[str, Expr]) -> Expr:
    """Give smooth/delay calls whose input is an ACTIVE INITIAL variable an explicit start."""
    if isinstance(e, Unary):
        return Unary(e.op, explicit_inits(e.operand, initials), e.loc)
    if isinstance(e, Binary):
        return Binary(
            e.op, explicit_inits(e.left, initials), explicit_inits(e.right, initials), e.loc
        )
    if isinstance(e, Call):
        args = tuple(explicit_inits(a, initials) for a in e.args)
        n = _IMPLICIT_INIT.get(e.func)
        if n is not None and len(args) == n:
            start = with_initials(args[0], initials)
            if start != args[0]:
                args = (*args, start)
        if e.func == "init":
            args = (with_initials(args[0], initials),)
        return Call(e.func, args, e.loc)
    return e
