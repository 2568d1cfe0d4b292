"""Write a syntax tree back as text: quidpro's own syntax or XMILE's.

Parentheses are added only where precedence needs them, so that
``parse(format(tree)) == tree`` for every tree the parsers produce. Numbers are
written in the shortest form that reads back exactly (``repr`` of the float).
"""

from __future__ import annotations

import math
import re

from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num, Unary
from quidpro.lang.builtins import BUILTINS

# Binding strength, loosest first, as in expr.lark and xmile.lark.
_OR, _AND, _NOT, _CMP, _SUM, _PROD, _UNARY, _POW, _ATOM = range(1, 10)
_BINARY_PREC = {
    "or": _OR,
    "and": _AND,
    "<": _CMP,
    "<=": _CMP,
    ">": _CMP,
    ">=": _CMP,
    "==": _CMP,
    "!=": _CMP,
    "+": _SUM,
    "-": _SUM,
    "*": _PROD,
    "/": _PROD,
    "^": _POW,
}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_XMILE_KEYWORDS = {"if", "then", "else", "and", "or", "not", "mod"}


def format_number(v: float) -> str:
    """A float as short text that parses back to the same value."""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e16:
        return str(int(v))
    return repr(float(v))


class _Formatter:
    def __init__(self, xmile: bool) -> None:
        self.xmile = xmile

    def text(self, e: Expr) -> str:
        return self.fmt(e)[0]

    def wrap(self, e: Expr, at_least: int) -> str:
        text, prec = self.fmt(e)
        return f"({text})" if prec < at_least else text

    def fmt(self, e: Expr) -> tuple[str, int]:
        """The text of ``e`` and the precedence of its outermost operator."""
        if isinstance(e, Num):
            return self.number(e)
        if isinstance(e, Name):
            return self.name(e.id), _ATOM
        if isinstance(e, Index):
            subs = ", ".join(self.name(s) if s != "*" else s for s in e.subscripts)
            return f"{self.name(e.id)}[{subs}]", _ATOM
        if isinstance(e, Unary):
            return self.unary(e)
        if isinstance(e, Binary):
            return self.binary(e)
        return self.call(e)

    def number(self, e: Num) -> tuple[str, int]:
        text = format_number(abs(e.value))
        if self.xmile and math.isinf(e.value):
            text = "INF"
        if e.value < 0 or (e.value == 0 and math.copysign(1.0, e.value) < 0):
            return f"-{text}", _UNARY
        return text, _ATOM

    def unary(self, e: Unary) -> tuple[str, int]:
        if e.op == "not":
            kw = "NOT " if self.xmile else "not "
            return kw + self.wrap(e.operand, _NOT), _NOT
        # XMILE tools differ on -a^b (PySD reads (-a)^b): spell it out.
        least = _ATOM if self.xmile and isinstance(e.operand, Binary) else _UNARY
        return e.op + self.wrap(e.operand, least), _UNARY

    def binary(self, e: Binary) -> tuple[str, int]:
        prec = _BINARY_PREC[e.op]
        if e.op == "^":  # right-associative; the base is an atom
            # XMILE tools differ on a^b^c and a^-b: bracket every compound exponent.
            right = self.wrap(e.right, _ATOM if self.xmile else _UNARY)
            return f"{self.wrap(e.left, _ATOM)}^{right}", _POW
        if prec == _CMP:  # not associative
            left, right = self.wrap(e.left, _SUM), self.wrap(e.right, _SUM)
        else:
            left, right = self.wrap(e.left, prec), self.wrap(e.right, prec + 1)
        op = e.op
        if self.xmile:
            op = {"==": "=", "!=": "<>", "and": "AND", "or": "OR"}.get(op, op)
        return f"{left} {op} {right}", prec

    def call(self, e: Call) -> tuple[str, int]:
        args = [self.text(a) for a in e.args]
        if not self.xmile:
            return f"{e.func}({', '.join(args)})", _ATOM
        return _xmile_call(e, args, self), _ATOM

    def name(self, name: str) -> str:
        if not self.xmile:
            return name
        special = {
            "time": "TIME",
            "dt": "DT",
            "start_time": "STARTTIME",
            "stop_time": "STOPTIME",
            "pi": "PI",
            "inf": "INF",
        }
        if name in special:
            return special[name]
        m = re.match(r"^(.*)\[(.*)\]$", name)
        if m and m.group(1):  # an array element: base[e1,e2]
            subs = ", ".join(self.name(s) for s in m.group(2).split(","))
            return f"{self.name(m.group(1))}[{subs}]"
        if _IDENT.match(name) and name.lower() not in _XMILE_KEYWORDS:
            return name
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


_XMILE_NAMES = {
    "smooth": "SMTH1",
    "smooth3": "SMTH3",
    "smoothn": "SMTHN",
    "delay_fixed": "DELAY",
    "floor": "INT",
}


# Functions XMILE 1.0 spells with others: one template over the arguments a0, a1, ...
_XMILE_TEMPLATES = {
    "if": "(IF {a0} THEN {a1} ELSE {a2})",
    "clip": "MIN(MAX({a0}, {a1}), {a2})",
    "ceil": "-INT(-({a0}))",
    "trunc": "(IF {a0} < 0 THEN -INT(-({a0})) ELSE INT({a0}))",  # toward zero
}
_XMILE_HYPERBOLIC = {
    "sinh": "((EXP({x}) - EXP(-({x}))) / 2)",
    "cosh": "((EXP({x}) + EXP(-({x}))) / 2)",
    "tanh": "((EXP(2 * ({x})) - 1) / (EXP(2 * ({x})) + 1))",
    "arcsinh": "LN({x} + SQRT(({x})^2 + 1))",
    "arccosh": "LN({x} + SQRT(({x})^2 - 1))",
    "arctanh": "(LN((1 + {x}) / (1 - {x})) / 2)",
}


def _xmile_call(e: Call, args: list[str], f: _Formatter) -> str:
    func = e.func
    if func in _XMILE_TEMPLATES:
        return _XMILE_TEMPLATES[func].format(**{f"a{i}": a for i, a in enumerate(args)})
    if func in _XMILE_HYPERBOLIC:  # not in XMILE 1.0: spelled with EXP and LN
        return _XMILE_HYPERBOLIC[func].format(x=args[0])
    if func in ("min", "max") and len(args) > 2:
        inner = Call(func, e.args[1:], e.loc)
        return f"{func.upper()}({args[0]}, {_xmile_call(inner, args[1:], f)})"
    if func == "mod":  # XMILE is case-blind, but PySD's grammar reads only lowercase mod
        return f"({f.wrap(e.args[0], _PROD)} mod {f.wrap(e.args[1], _UNARY)})"
    if func in _XMILE_NAMES:
        name = _XMILE_NAMES[func]
    elif func in BUILTINS or func in ("sum", "mean", "prod", "size", "stddev"):
        name = func.upper()
    else:  # a graphical function, called by its name
        name = f.name(func)
    return f"{name}({', '.join(args)})"


def format_expr(e: Expr) -> str:
    """``e`` in quidpro's expression syntax (format v1)."""
    return _Formatter(xmile=False).text(e)


def format_xmile(e: Expr) -> str:
    """``e`` in XMILE syntax; lookups keep their names (called like functions)."""
    return _Formatter(xmile=True).text(e)
