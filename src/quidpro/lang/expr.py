"""Parse expression text into the syntax tree of :mod:`quidpro.lang.ast`.

The grammar (``expr.lark``) is LALR and knows only numbers, names, operators and
calls: nothing in an expression can reach Python. Positions are kept on every
node, relative to the place the expression sits in its model file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from quidpro.cache import parser_cache
from quidpro.errors import NOWHERE, Loc, ParseError
from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num, Unary, children

_TOKEN_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "RPAR": "')'",
    "LPAR": "'('",
    "COMMA": "','",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*' or '/'",
    "COMP_OP": "a comparison",
    "$END": "the end of the expression",
}


# Bounds on one expression, checked before and after parsing so that a hostile file
# cannot make the parser, the compiler or Python's own code generator run out of stack
# or memory (docs/hardening.md). No equation of a real model comes near them.
MAX_EXPRESSION_CHARS = 100_000
MAX_EXPRESSION_DEPTH = 64


_CHAINS = ({"+", "-"}, {"*", "/"})


def _depth(expr: Expr) -> int:
    """How deeply ``expr`` nests, counted without recursion.

    A left-associative chain such as ``a + b + c + ...`` is one level however long it
    is: the kernels compile it flat. Everything else (calls, powers, a chain inside
    another operator) adds a level.
    """
    deepest, stack = 0, [(expr, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        for i, child in enumerate(children(node)):
            flat = (
                i == 0
                and isinstance(node, Binary)
                and isinstance(child, Binary)
                and any(node.op in c and child.op in c for c in _CHAINS)
            )
            stack.append((child, d if flat else d + 1))
    return deepest


def fold_chain(children: list[Any], op: str | None, loc_of: Callable[[Token], Loc]) -> Expr:
    """A left-associative chain ``a op b op c`` as nested :class:`Binary` nodes.

    ``children`` alternate operand, operator token, operand...; with a fixed ``op``
    (``and``, ``or``) they are operands only. The YAML and Vensim readers fold with it
    through :class:`_ChainRules`.
    """
    node: Expr = children[0]
    i = 1
    while i < len(children):
        if op is None:
            tok, right = children[i], children[i + 1]
            node = Binary(str(tok), node, right, loc_of(tok))
            i += 2
        else:
            node = Binary(op, node, children[i], node.loc)
            i += 1
    return node


class _ChainRules:
    """The transformer rules that fold chains, shared by the YAML and Vensim readers.

    A transformer that mixes this in gives ``_tok``: the location of an operator token.
    """

    def _tok(self, tok: Token) -> Loc:
        raise NotImplementedError

    def _chain(self, children: list[Any], op: str | None = None) -> Expr:
        return fold_chain(children, op, self._tok)

    def sum_chain(self, children: list[Any]) -> Expr:
        return self._chain(children)

    def product_chain(self, children: list[Any]) -> Expr:
        return self._chain(children)

    def or_chain(self, children: list[Any]) -> Expr:
        return self._chain(children, "or")

    def and_chain(self, children: list[Any]) -> Expr:
        return self._chain(children, "and")


def lalr_parser(grammar_file: str) -> Lark:
    """The LALR parser of a grammar in ``quidpro.lang``, its tables kept in the cache."""
    grammar = files("quidpro.lang").joinpath(grammar_file).read_text()
    return Lark(
        grammar,
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=parser_cache(grammar_file.removesuffix(".lark")),
    )


@cache
def _parser() -> Lark:
    return lalr_parser("expr.lark")


class _ToAst(_ChainRules, Transformer[Token, Expr]):
    def __init__(self, base: Loc, text: str) -> None:
        super().__init__()
        self._base = base
        self._lines = text.splitlines() or [""]

    def _loc(self, line: int, col: int) -> Loc:
        # Lark counts from 1; the first line of the expression sits at base.col.
        src = self._lines[line - 1] if 0 < line <= len(self._lines) else None
        if line == 1:
            return self._base.shifted(0, self._base.col + col - 1, self._base.source_line)
        return self._base.shifted(line - 1, col, src)

    def _tok(self, tok: Token) -> Loc:
        return self._loc(tok.line or 1, tok.column or 1)

    @v_args(meta=True)
    def number(self, meta: Any, children: list[Token]) -> Num:
        return Num(float(children[0]), self._loc(meta.line, meta.column))

    @v_args(meta=True)
    def name(self, meta: Any, children: list[Token]) -> Name:
        return Name(str(children[0]), self._loc(meta.line, meta.column))

    def call(self, children: list[Any]) -> Call:
        func, *args = children
        return Call(str(func), tuple(a for a in args if a is not None), self._tok(func))

    def index(self, children: list[Any]) -> Index:
        name, *subs = children
        return Index(str(name), tuple(subs), self._tok(name))

    def subscript(self, children: list[Token]) -> str:
        return str(children[0])

    def comparison(self, children: list[Any]) -> Expr:
        return self._chain(children)

    @v_args(meta=True)
    def not_(self, meta: Any, children: list[Any]) -> Expr:
        return Unary("not", children[0], self._loc(meta.line, meta.column))

    def unary_(self, children: list[Any]) -> Expr:
        tok, operand = children
        return Unary(str(tok), operand, self._tok(tok))

    def power_(self, children: list[Any]) -> Expr:
        if len(children) == 1:
            return children[0]  # type: ignore[no-any-return]
        base, exponent = children
        return Binary("^", base, exponent, base.loc)


def _describe(tok: Token | None) -> str:
    if tok is None or tok.type == "$END":
        return "the end of the expression"
    return repr(str(tok))


# Vensim spellings a modeller may bring to a YAML expression, and what to write instead.
_VENSIM_HINTS = (
    (re.compile(r"\bIF\s+THEN\s+ELSE\b", re.IGNORECASE), "use if(cond, a, b) for IF THEN ELSE"),
    (re.compile(r"<>"), "use != for 'not equal'"),
    (re.compile(r"(?<![<>=!])=(?!=)"), "use == to compare ('=' is not an operator here)"),
    (re.compile(r":(AND|OR|NOT):", re.IGNORECASE), "use and, or, not for :AND:, :OR:, :NOT:"),
)


def _vensim_hint(text: str) -> str:
    """A hint for the first Vensim spelling in ``text`` (" (use ...)") or ``""``."""
    for pattern, hint in _VENSIM_HINTS:
        if pattern.search(text):
            return f" ({hint})"
    return ""


def _syntax_error(exc: UnexpectedInput, text: str, base: Loc) -> ParseError:
    line = getattr(exc, "line", 1) or 1
    col = getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        body = text.rstrip()  # the end is just past the last character written
        line = body.count("\n") + 1
        col = len(body.splitlines()[-1]) + 1 if body else 1
        what = "unexpected end of expression"
        if text.count("(") > text.count(")"):
            what += " (a '(' is not closed)"
    elif isinstance(exc, UnexpectedCharacters):
        what = f"unexpected character {text.splitlines()[line - 1][col - 1]!r}"
    else:
        assert isinstance(exc, UnexpectedToken)
        what = f"unexpected {_describe(exc.token)}"
        expected = sorted(_TOKEN_NAMES.get(t, t) for t in exc.expected if t in _TOKEN_NAMES)
        if expected and not _vensim_hint(text):  # the hint says what to write instead
            what += f", expected {' or '.join(expected[:4])}"
    what += _vensim_hint(text)
    lines = text.splitlines() or [""]
    if line == 1:
        loc = base.shifted(0, base.col + col - 1, base.source_line)
    else:
        loc = base.shifted(line - 1, col, lines[line - 1])
    return ParseError(f"syntax error: {what}", loc)


def parse_expression(text: str | float | int, where: Loc = NOWHERE) -> Expr:
    """Parse one expression; ``where`` is the position of its first character."""
    if isinstance(text, bool):
        raise ParseError(f"expected an expression, got {text!r}", where)
    if isinstance(text, int | float):
        return Num(float(text), where)
    if not text.strip():
        raise ParseError("empty expression", where)
    base = where if where.col > 0 else Loc(where.file, max(where.line, 1), 1, where.source_line)
    return bounded(text, base, lambda: _ToAst(base, text).transform(_parser().parse(text)))


def bounded(text: str, base: Loc, build: Callable[[], Expr]) -> Expr:
    """``build()`` the tree of ``text`` within the size and depth limits, or a located error.

    Shared by the YAML and XMILE expression readers (and any later one).
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ParseError(
            f"the expression is {len(text):,} characters long, more than the limit of "
            f"{MAX_EXPRESSION_CHARS:,}; split it into auxiliaries",
            base,
        )
    try:
        result = build()
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, base) from None
    except (RecursionError, VisitError) as exc:
        if isinstance(exc, VisitError) and not isinstance(exc.orig_exc, RecursionError):
            raise
        raise ParseError(
            "the expression is nested too deeply; split it into auxiliaries", base
        ) from None
    if _depth(result) > MAX_EXPRESSION_DEPTH:
        raise ParseError(
            f"the expression is nested more than {MAX_EXPRESSION_DEPTH} levels deep; "
            "split it into auxiliaries",
            base,
        )
    return result
