"""Small pure pieces of the Vensim builder: rates into flows, the clock, names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath

from quidpro.errors import Loc
from quidpro.lang.ast import Binary, Expr, Name, Num, Unary
from quidpro.model.spec import TimeSpec

SPECIAL = {
    "time": "time",
    "time step": "dt",
    "initial time": "start_time",
    "final time": "stop_time",
}


def split_rate(rate: Expr) -> list[tuple[int, Expr]]:
    """``a + b - c`` -> [(+1, a), (+1, b), (-1, c)]."""
    if isinstance(rate, Binary) and rate.op in ("+", "-"):
        right = split_rate(rate.right)
        if rate.op == "-":
            right = [(-s, t) for s, t in right]
        return split_rate(rate.left) + right
    if isinstance(rate, Unary) and rate.op == "-":
        return [(-s, t) for s, t in split_rate(rate.operand)]
    return [(1, rate)]


def clock_value(key: str, time: TimeSpec, loc: Loc) -> Expr:
    """What a control variable reports: the clock's value (SAVEPER: its number)."""
    if key == "saveper":
        return Num(time.save_every, loc) if time.save_every is not None else Name("dt", loc)
    return Name(SPECIAL[key], loc)


def fresh(name: str, *tables: Mapping[str, object]) -> str:
    """``name``, with ``_`` appended until no table holds it."""
    while any(name in t for t in tables):
        name += "_"
    return name


def model_name(file: str) -> str:
    """A model name from the file's name: word characters, not starting with a digit."""
    name = re.sub(r"\W+", "_", PurePath(file).stem).strip("_") or "model"
    return f"m_{name}" if name[0].isdigit() else name
