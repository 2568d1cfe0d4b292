"""Parse XMILE expression text (XMILE 1.0 §3.3) into quidpro's syntax tree.

The grammar is ``xmile.lark``. The tree uses the same nodes as quidpro's own
language (:mod:`quidpro.lang.ast`) but keeps the file's raw spelling of names and
functions (function names lower-cased); :mod:`quidpro.lang.xmile_names` maps them to
the model's names and quidpro's builtins. ``=`` becomes ``==``, ``<>`` becomes
``!=``, ``a MOD b`` becomes ``mod(a, b)`` and ``IF c THEN a ELSE b`` becomes
``if(c, a, b)``. Comments in braces are blanked out first, keeping every column.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from lark import Lark, Token, v_args

from quidpro.errors import NOWHERE, Loc, ParseError
from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num
from quidpro.lang.expr import _ToAst, bounded, lalr_parser

_COMMENT = re.compile(r"\{[^}]*\}")
_PLAIN_NUMBER = re.compile(r"^\s*(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


@cache
def _parser() -> Lark:
    return lalr_parser("xmile.lark")


def unquote(text: str) -> str:
    """A name as written, without surrounding quotes and escapes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


class _XmileToAst(_ToAst):
    def ref(self, children: list[Token]) -> Token:
        return children[0]

    @v_args(meta=True)
    def name(self, meta: Any, children: list[Token]) -> Name:
        return Name(unquote(str(children[0])), self._loc(meta.line, meta.column))

    def call(self, children: list[Any]) -> Call:
        func, *args = children
        return Call(str(func).lower(), tuple(a for a in args if a is not None), self._tok(func))

    def index(self, children: list[Any]) -> Index:
        name, *subs = children
        return Index(unquote(str(name)), tuple(subs), self._tok(name))

    def subscript(self, children: list[Token]) -> str:
        return unquote(str(children[0]))

    @v_args(meta=True)
    def if_(self, meta: Any, children: list[Any]) -> Call:
        return Call("if", tuple(children), self._loc(meta.line, meta.column))

    def comparison(self, children: list[Any]) -> Expr:
        left, tok, right = children
        op = {"=": "==", "<>": "!="}.get(str(tok), str(tok))
        return Binary(op, left, right, self._tok(tok))

    def product_chain(self, children: list[Any]) -> Expr:
        node: Expr = children[0]
        for i in range(1, len(children), 2):
            tok, right = children[i], children[i + 1]
            if str(tok).lower() == "mod":
                node = Call("mod", (node, right), self._tok(tok))
            else:
                node = Binary(str(tok), node, right, self._tok(tok))
        return node


def blank_comments(text: str) -> str:
    """Replace ``{...}`` comments by spaces (newlines kept, so positions hold)."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def parse_xmile_expression(text: str, where: Loc = NOWHERE) -> Expr:
    """Parse one XMILE expression; ``where`` is the position of its first character."""
    clean = blank_comments(text) if "{" in text else text
    if not clean.strip():
        raise ParseError("empty equation", where)
    if _PLAIN_NUMBER.match(clean):  # the common case, without the parser
        lead = len(clean) - len(clean.lstrip())
        at = where
        if "\n" not in clean[:lead]:
            at = where.shifted(0, where.col + lead, where.source_line)
        return Num(float(clean), at)
    base = where if where.col > 0 else Loc(where.file, max(where.line, 1), 1, where.source_line)
    return bounded(clean, base, lambda: _XmileToAst(base, clean).transform(_parser().parse(clean)))


def is_number_list(text: str) -> list[float] | None:
    """``1, 2, 3`` (a per-element list of constants), or None."""
    parts = [p.strip() for p in blank_comments(text).split(",")]
    if len(parts) < 2:
        return None
    try:
        return [float(p) for p in parts]
    except ValueError:
        return None


__all__ = ["Num", "blank_comments", "is_number_list", "parse_xmile_expression", "unquote"]
