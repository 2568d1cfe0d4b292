"""XMILE builtin functions (XMILE 1.0 §3.5) mapped to quidpro's builtins.

Most keep their meaning under a lower-case name; a few are renamed
(``SMTH1`` → ``smooth``) or rewritten (``DELAY(x, tau)`` → ``delay_fixed(x, tau, x)``,
``SAFEDIV(a, b, x)`` → ``if(b == 0, x, a / b)``).
"""

from __future__ import annotations

from quidpro.errors import Loc, ModelError, UndefinedNameError, UnsupportedError
from quidpro.lang.ast import Binary, Call, Expr, Num
from quidpro.lang.suggest import did_you_mean

SAME = {
    "abs",
    "exp",
    "ln",
    "log10",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "int",
    "mod",
    "min",
    "max",
    "if",
    "step",
    "ramp",
    "pulse",
    "init",
    "previous",
    "trend",
    "forcst",
    "delay1",
    "delay3",
    "delayn",
    "sum",
    "mean",
    "prod",
    "size",
    "stddev",
    "normal",
    "uniform",
    "lognormal",
    "poisson",
    "exprnd",
}
RENAMED = {
    "smth1": "smooth",
    "smth3": "smooth3",
    "smthn": "smoothn",
    "if_then_else": "if",
    "random": "uniform",
}
ARITY = {
    "abs": (1, 1),
    "exp": (1, 1),
    "ln": (1, 1),
    "log10": (1, 1),
    "sqrt": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "tan": (1, 1),
    "arcsin": (1, 1),
    "arccos": (1, 1),
    "arctan": (1, 1),
    "sinh": (1, 1),
    "cosh": (1, 1),
    "tanh": (1, 1),
    "int": (1, 1),
    "mod": (2, 2),
    "if": (3, 3),
    "step": (2, 2),
    "ramp": (2, 3),
    "pulse": (2, 3),
    "init": (1, 1),
    "previous": (1, 2),
    "smooth": (2, 3),
    "smooth3": (2, 3),
    "smoothn": (3, 4),
    "delay": (2, 3),
    "delay1": (2, 3),
    "delay3": (2, 3),
    "delayn": (3, 4),
    "trend": (2, 3),
    "forcst": (3, 4),
    "safediv": (2, 3),
    "normal": (2, 5),
    "uniform": (2, 3),
    "lognormal": (2, 5),
    "poisson": (1, 4),
    "exprnd": (1, 2),
}
KNOWN = sorted(SAME | set(RENAMED) | {"delay", "safediv", "lookup"})


def map_call(func: str, args: tuple[Expr, ...], loc: Loc) -> Expr:
    """The quidpro expression for the XMILE call ``func(args)`` (func lower-cased)."""
    name = RENAMED.get(func, func)
    if func not in SAME and func not in RENAMED and func not in ("delay", "safediv"):
        hint = did_you_mean(func, KNOWN, display=str.upper)
        raise UndefinedNameError(f"unknown function {func.upper()!r}{hint}", loc)
    lo, hi = ARITY.get(name, (1, 999))
    if not lo <= len(args) <= hi:
        raise ModelError(
            f"{func.upper()} takes {lo if lo == hi else f'{lo} to {hi}'} argument(s), "
            f"got {len(args)}",
            loc,
        )
    if name == "delay":
        x, tau = args[0], args[1]
        return Call("delay_fixed", (x, tau, args[2] if len(args) > 2 else x), loc)
    if name == "safediv":
        a, b = args[0], args[1]
        fallback = args[2] if len(args) > 2 else Num(0.0, loc)
        return Call(
            "if", (Binary("==", b, Num(0.0, loc), loc), fallback, Binary("/", a, b, loc)), loc
        )
    if name in ("normal", "uniform", "lognormal", "poisson", "exprnd"):
        return _random(name, args, loc)
    return Call(name, args, loc)


def _random(name: str, args: tuple[Expr, ...], loc: Loc) -> Expr:
    """NORMAL(mean, sd[, seed]) and the others; bounds (min, max) are refused."""
    n_params = 2 if name in ("normal", "uniform", "lognormal") else 1
    if len(args) > n_params + 1:
        raise UnsupportedError(
            f"{name.upper()} with bounds (min, max) is not supported; clip the draw with "
            f"MIN/MAX instead (a different distribution) or drop the bounds",
            loc,
        )
    return Call(name, args, loc)
