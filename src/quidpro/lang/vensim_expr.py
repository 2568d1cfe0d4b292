"""Parse a Vensim right-hand side (``vensim.lark``) into quidpro's syntax tree.

Names keep the file's spelling (quotes removed); :mod:`quidpro.model.from_vensim`
maps them to the model's names and builtins. ``=`` becomes ``==``, ``<>``
becomes ``!=``, ``:NA:`` becomes Vensim's NA value (-2^109). A subscript that
ends in ``!`` keeps it (``Cats!``): it marks the dimension a ``SUM`` runs over.
Function names are kept in upper case with single spaces (``IF THEN ELSE``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from quidpro.errors import NOWHERE, Loc, ParseError
from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num, Unary
from quidpro.lang.expr import MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH, _ChainRules, _depth

NA_VALUE = -(2.0**110)  # Vensim's :NA: (-1.298e33)
_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")

LocAt = Callable[[int], Loc]


def unquote(text: str) -> str:
    """A name as written, without surrounding quotes and backslash escapes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def function_key(raw: str) -> str:
    """A function name as the builtin table spells it: ``IF THEN ELSE``."""
    return " ".join(raw.replace("_", " ").split()).upper()


def finite_number(text: str, loc: Loc) -> float:
    """The value of a number literal; an error at ``loc`` when it overflows (``1e400``).

    Every number a ``.mdl`` file writes passes here, so no infinity reaches a model
    from a literal (one that overflows is a typing slip, not a value).
    """
    value = float(text)
    if not math.isfinite(value):
        raise ParseError(
            f"the number {text.strip()} is too large for a double (at most about 1.8e308)", loc
        )
    return value


class _ToAst(_ChainRules, Transformer[Token, Expr]):
    def __init__(self, at: LocAt, base: int) -> None:
        super().__init__()
        self._at = at
        self._base = base

    def locate(self, at: LocAt, base: int) -> None:
        """Positions of the next text parsed: ``at(base + offset)``."""
        self._at = at
        self._base = base

    def _loc(self, pos: int | None) -> Loc:
        return self._at(self._base + (pos or 0))

    def _tok(self, tok: Token) -> Loc:
        return self._loc(tok.start_pos)

    def number(self, children: list[Token]) -> Num:
        loc = self._loc(children[0].start_pos)
        return Num(finite_number(children[0], loc), loc)

    def na(self, children: list[Token]) -> Num:
        return Num(NA_VALUE, self._loc(children[0].start_pos))

    def string(self, children: list[Token]) -> Name:
        # Only the data functions take text ('file.xls'); they are refused by name.
        return Name(str(children[0]), self._loc(children[0].start_pos))

    def ref(self, children: list[Token]) -> Token:
        return children[0]

    def name(self, children: list[Token]) -> Name:
        return Name(unquote(str(children[0])), self._loc(children[0].start_pos))

    def call(self, children: list[Any]) -> Call:
        func, *args = children
        loc = self._loc(func.start_pos)
        return Call(function_key(str(func)), tuple(a for a in args if a is not None), loc)

    def index(self, children: list[Any]) -> Index:
        name, *subs = children
        return Index(unquote(str(name)), tuple(subs), self._loc(name.start_pos))

    def subscript(self, children: list[Token]) -> str:
        text = unquote(str(children[0]))
        return text + "!" if len(children) > 1 else text

    def not_(self, children: list[Any]) -> Expr:
        return Unary("not", children[0], children[0].loc)

    def comparison(self, children: list[Any]) -> Expr:
        left, tok, right = children
        op = {"=": "==", "<>": "!="}.get(str(tok), str(tok))
        return Binary(op, left, right, self._loc(tok.start_pos))

    def unary_(self, children: list[Any]) -> Expr:
        tok, operand = children
        if str(tok) == "+":
            return operand  # type: ignore[no-any-return]
        if isinstance(operand, Num):
            return Num(-operand.value, self._loc(tok.start_pos))
        return Unary("-", operand, self._loc(tok.start_pos))

    def power_(self, children: list[Any]) -> Expr:
        if len(children) == 1:
            return children[0]  # type: ignore[no-any-return]
        return Binary("^", children[0], children[1], children[0].loc)


def _error(exc: UnexpectedInput, text: str, at: LocAt, base: int) -> ParseError:
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        body = text.rstrip()
        what = "unexpected end of equation"
        if body.count("(") > body.count(")"):
            what += " (a '(' is not closed)"
        return ParseError(f"syntax error: {what}", at(base + max(len(body) - 1, 0)))
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        what = f"unexpected character {text[pos]!r}"
    else:
        assert isinstance(exc, UnexpectedToken)
        what = f"unexpected {str(exc.token)!r}"
        pos = exc.token.start_pos
    return ParseError(f"syntax error: {what}", at(base + (pos or 0)))


@cache
def _parser() -> tuple[Lark, _ToAst]:
    # The transformer runs inside the LALR parser (no parse tree is built): about twice
    # as fast. It is told the text's position in the file before each parse.
    grammar = files("quidpro.lang").joinpath("vensim.lark").read_text()
    to_ast = _ToAst(lambda _offset: NOWHERE, 0)
    parser = Lark(
        grammar,
        parser="lalr",
        maybe_placeholders=False,
        transformer=to_ast,
    )
    return parser, to_ast


def parse_vensim_expression(text: str, at: LocAt, base: int = 0) -> Expr:
    """Parse one right-hand side; ``base`` is the offset of ``text`` in the file."""
    if not text.strip():
        raise ParseError("empty equation", at(base))
    if _NUMBER.match(text):  # the common case, without the parser
        lead = len(text) - len(text.lstrip())
        return Num(finite_number(text, at(base + lead)), at(base + lead))
    # The same bounds as the YAML and XMILE readers (lang/expr.py, docs/hardening.md).
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ParseError(
            f"the equation is {len(text):,} characters long, more than the limit of "
            f"{MAX_EXPRESSION_CHARS:,}; split it into auxiliaries",
            at(base),
        )
    parser, to_ast = _parser()
    to_ast.locate(at, base)
    try:
        result: Expr = parser.parse(text)  # type: ignore[assignment]
    except UnexpectedInput as exc:
        raise _error(exc, text, at, base) from None
    except RecursionError:
        raise ParseError("the equation is nested too deeply; split it", at(base)) from None
    if _depth(result) > MAX_EXPRESSION_DEPTH:
        raise ParseError(
            f"the equation is nested more than {MAX_EXPRESSION_DEPTH} levels deep; "
            "split it into auxiliaries",
            at(base),
        )
    return result


__all__ = ["NA_VALUE", "function_key", "parse_vensim_expression", "unquote"]
