"""Vensim functions mapped to quidpro's builtins (or rewritten into them).

Most keep their meaning under quidpro's name (``SMOOTH`` -> ``smooth``); the
argument order differs for a few (``DELAY N(x, tau, init, n)`` ->
``delayn(x, tau, n, init)``); some are spelled out with other builtins
(``XIDZ``, ``ZIDZ``, ``QUANTUM``, ``MODULO``, ``PULSE``, ``PULSE TRAIN``, ``LOG``).
Calls that need the model (``SUM``, ``ELMCOUNT``, lookups, macros, ``SAMPLE IF
TRUE``, ``ACTIVE INITIAL``) are handled by :mod:`quidpro.model.from_vensim`.
"""

from __future__ import annotations

from collections.abc import Callable

from quidpro.errors import Loc, ModelError, UndefinedNameError, UnsupportedError
from quidpro.lang.ast import Binary, Call, Expr, Name, Num
from quidpro.lang.suggest import closest

# Vensim name -> (quidpro name, min args, max args); same argument order.
SAME: dict[str, tuple[str, int, int]] = {
    "ABS": ("abs", 1, 1),
    "EXP": ("exp", 1, 1),
    "LN": ("ln", 1, 1),
    "SQRT": ("sqrt", 1, 1),
    "SIN": ("sin", 1, 1),
    "COS": ("cos", 1, 1),
    "TAN": ("tan", 1, 1),
    "ARCSIN": ("arcsin", 1, 1),
    "ARCCOS": ("arccos", 1, 1),
    "ARCTAN": ("arctan", 1, 1),
    "SINH": ("sinh", 1, 1),
    "COSH": ("cosh", 1, 1),
    "TANH": ("tanh", 1, 1),
    "INTEGER": ("trunc", 1, 1),
    "MIN": ("min", 2, 2),
    "MAX": ("max", 2, 2),
    "IF THEN ELSE": ("if", 3, 3),
    "STEP": ("step", 2, 2),
    "RAMP": ("ramp", 3, 3),
    "SMOOTH": ("smooth", 2, 2),
    "SMOOTHI": ("smooth", 3, 3),
    "SMOOTH3": ("smooth3", 2, 2),
    "SMOOTH3I": ("smooth3", 3, 3),
    "DELAY1": ("delay1", 2, 2),
    "DELAY1I": ("delay1", 3, 3),
    "DELAY3": ("delay3", 2, 2),
    "DELAY3I": ("delay3", 3, 3),
    "DELAY FIXED": ("delay_fixed", 3, 3),
    "TREND": ("trend", 3, 3),
    "FORECAST": ("forcst", 3, 3),
    "INITIAL": ("init", 1, 1),
    "RANDOM UNIFORM": ("uniform", 3, 3),
}
# Rewritten below; arity checked the same way.
SPELLED: dict[str, tuple[int, int]] = {
    "XIDZ": (3, 3),
    "ZIDZ": (2, 2),
    "MODULO": (2, 2),
    "QUANTUM": (2, 2),
    "POWER": (2, 2),
    "LOG": (2, 2),
    "PULSE": (2, 2),
    "PULSE TRAIN": (4, 4),
    "DELAY N": (4, 4),
    "SMOOTH N": (4, 4),
    "GAME": (1, 1),
}
# Known Vensim functions quidpro does not run, with the reason given to the modeller.
UNSUPPORTED = {
    "GET XLS DATA": "reads an external spreadsheet",
    "GET XLS CONSTANTS": "reads an external spreadsheet",
    "GET XLS LOOKUPS": "reads an external spreadsheet",
    "GET DIRECT DATA": "reads an external file",
    "GET DIRECT CONSTANTS": "reads an external file",
    "GET DIRECT LOOKUPS": "reads an external file",
    "GET DIRECT SUBSCRIPT": "reads an external file",
    "GET DATA AT TIME": "needs a data variable from an external file",
    "GET DATA BETWEEN TIMES": "needs a data variable from an external file",
    "GET 123 DATA": "reads an external spreadsheet",
    "GET TIME VALUE": "needs the calendar of a Vensim run",
    "ALLOCATE AVAILABLE": "is not implemented",
    "ALLOCATE BY PRIORITY": "is not implemented",
    "VECTOR SELECT": "is not implemented",
    "VECTOR ELM MAP": "is not implemented",
    "VECTOR SORT ORDER": "is not implemented",
    "VECTOR RANK": "is not implemented",
    "LOOKUP INVERT": "is not implemented",
    "LOOKUP AREA": "is not implemented",
    "LOOKUP FORWARD": "is not implemented",
    "LOOKUP BACKWARD": "is not implemented",
    "RANDOM NORMAL": "is not implemented (bounded draws)",
    "RANDOM POISSON": "is not implemented (bounded draws)",
    "NPV": "is not implemented",
    "DELAY CONVEYOR": "is not implemented",
    "QUEUE FIFO": "is not implemented",
}
# Handled by the model builder, listed here so that unknown-name hints know them.
CONTEXTUAL = (
    "INVERT MATRIX",
    "SUM",
    "PROD",
    "VMIN",
    "VMAX",
    "ELMCOUNT",
    "SAMPLE IF TRUE",
    "ACTIVE INITIAL",
)
KNOWN = sorted({*SAME, *SPELLED, *CONTEXTUAL, "INTEG", "WITH LOOKUP", "TABBED ARRAY"})


def _b(op: str, a: Expr, b: Expr, loc: Loc) -> Binary:
    return Binary(op, a, b, loc)


def _divide_or(a: Expr, b: Expr, fallback: Expr, loc: Loc) -> Expr:
    return Call("if", (_b("==", b, Num(0.0, loc), loc), fallback, _b("/", a, b, loc)), loc)


def check_arity(func: str, args: tuple[Expr, ...], lo: int, hi: int, loc: Loc) -> None:
    """Raise a located error when ``func`` gets a wrong number of arguments."""
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise ModelError(f"{func} takes {want} argument(s), got {len(args)}", loc)


def map_call(func: str, args: tuple[Expr, ...], loc: Loc) -> Expr:
    """The quidpro expression for the Vensim call ``func(args)`` (``func`` upper case)."""
    if func in UNSUPPORTED:
        raise UnsupportedError(f"Vensim function {func} {UNSUPPORTED[func]}", loc)
    if func in SAME:
        name, lo, hi = SAME[func]
        check_arity(func, args, lo, hi, loc)
        return Call(name, args, loc)
    if func not in SPELLED:
        close = closest(func, KNOWN)
        hint = f" (did you mean {close}?)" if close else ""
        raise UndefinedNameError(f"unknown function {func}{hint}", loc)
    lo, hi = SPELLED[func]
    check_arity(func, args, lo, hi, loc)
    return _spelled(func, args, loc)


def _modulo(a: Expr, b: Expr, loc: Loc) -> Expr:
    """``a - b * trunc(a / b)``: the sign of the dividend, as Vensim (C's fmod)."""
    return _b("-", a, _b("*", b, Call("trunc", (_b("/", a, b, loc),), loc), loc), loc)


def _quantum(x: Expr, q: Expr, loc: Loc) -> Expr:
    """``q * INTEGER(x / q)``, and ``x`` itself when ``q <= 0``."""
    whole = _b("*", q, Call("trunc", (_b("/", x, q, loc),), loc), loc)
    return Call("if", (_b("<=", q, Num(0.0, loc), loc), x, whole), loc)


def _mid_step(loc: Loc) -> Expr:
    # Vensim reads PULSE and PULSE TRAIN at mid-step, so a width of 0 lasts one step.
    return _b("+", Name("time", loc), _b("/", Name("dt", loc), Num(2.0, loc), loc), loc)


def _pulse(start: Expr, width: Expr, loc: Loc) -> Expr:
    """1 from ``start`` for ``width`` (at least one step), else 0."""
    half = _mid_step(loc)
    end = _b("+", start, Call("max", (width, Name("dt", loc)), loc), loc)
    on = _b("and", _b(">", half, start, loc), _b("<", half, end, loc), loc)
    return Call("if", (on, Num(1.0, loc), Num(0.0, loc)), loc)


def _pulse_train(start: Expr, width: Expr, interval: Expr, last: Expr, loc: Loc) -> Expr:
    """PULSE(start, width) repeated every ``interval`` until ``last``."""
    zero = Num(0.0, loc)
    half = _mid_step(loc)
    since = _b("-", half, start, loc)
    phase = Call(
        "if", (_b(">", interval, zero, loc), Call("mod", (since, interval), loc), since), loc
    )
    in_run = _b("and", _b(">", since, zero, loc), _b("<", _b("-", half, last, loc), zero, loc), loc)
    on = _b("and", in_run, _b("<", phase, Call("max", (width, Name("dt", loc)), loc), loc), loc)
    return Call("if", (on, Num(1.0, loc), zero), loc)


_SPELL: dict[str, Callable[[tuple[Expr, ...], Loc], Expr]] = {
    "XIDZ": lambda a, loc: _divide_or(a[0], a[1], a[2], loc),
    "ZIDZ": lambda a, loc: _divide_or(a[0], a[1], Num(0.0, loc), loc),
    "MODULO": lambda a, loc: _modulo(a[0], a[1], loc),
    "QUANTUM": lambda a, loc: _quantum(a[0], a[1], loc),
    "POWER": lambda a, loc: _b("^", a[0], a[1], loc),
    "LOG": lambda a, loc: _b("/", Call("ln", (a[0],), loc), Call("ln", (a[1],), loc), loc),
    "GAME": lambda a, _loc: a[0],
    # DELAY N(x, tau, init, n) and SMOOTH N(x, tau, init, n): quidpro puts n before init.
    "DELAY N": lambda a, loc: Call("delayn", (a[0], a[1], a[3], a[2]), loc),
    "SMOOTH N": lambda a, loc: Call("smoothn", (a[0], a[1], a[3], a[2]), loc),
    "PULSE": lambda a, loc: _pulse(a[0], a[1], loc),
    "PULSE TRAIN": lambda a, loc: _pulse_train(a[0], a[1], a[2], a[3], loc),
}


def _spelled(func: str, args: tuple[Expr, ...], loc: Loc) -> Expr:
    return _SPELL[func](args, loc)
