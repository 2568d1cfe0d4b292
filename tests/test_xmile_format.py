"""The expression formatter: ``parse(format(tree)) == tree`` in both syntaxes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from quidpro.lang.ast import Binary, Call, Expr, Name, Num, Unary
from quidpro.lang.expr import parse_expression
from quidpro.lang.format import format_expr, format_number, format_xmile
from quidpro.lang.xmile_expr import parse_xmile_expression

names = st.sampled_from(["a", "b", "stock", "x_1", "rate"]).map(Name)
numbers = st.floats(min_value=0, max_value=1e6, allow_nan=False).map(Num)
OPS = ["+", "-", "*", "/", "^", "<", "<=", ">", ">=", "==", "!=", "and", "or"]


def trees(calls: bool) -> st.SearchStrategy[Expr]:
    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        options = [
            st.builds(Binary, st.sampled_from(OPS), inner, inner),
            st.builds(Unary, st.sampled_from(["-", "+", "not"]), inner),
            st.builds(lambda c, a, b: Call("if", (c, a, b)), inner, inner, inner),
        ]
        if calls:
            options.append(
                st.builds(
                    lambda f, a, b: Call(f, (a, b)), st.sampled_from(["min", "max"]), inner, inner
                )
            )
        return st.one_of(*options)

    return st.recursive(st.one_of(names, numbers), extend, max_leaves=12)


@given(trees(calls=True))
def test_quidpro_syntax_round_trips(e: Expr) -> None:
    assert parse_expression(format_expr(e)) == e


@given(trees(calls=False))
def test_xmile_syntax_round_trips(e: Expr) -> None:
    assert parse_xmile_expression(format_xmile(e)) == e


def test_xmile_spelling() -> None:
    e = parse_expression("if(time > dt and not x, smooth(y, 3), delay_fixed(y, 2, 0)) + mod(a, b)")
    assert format_xmile(e) == (
        "(IF TIME > DT AND NOT x THEN SMTH1(y, 3) ELSE DELAY(y, 2, 0)) + (a mod b)"
    )
    assert format_xmile(parse_expression("-a^2 + 2^-b")) == "-(a^2) + 2^(-b)"
    assert format_xmile(Name("Heat loss")) == '"Heat loss"'
    assert format_expr(parse_expression("a - (b - c) * -d")) == "a - (b - c) * -d"


def test_numbers_read_back_exactly() -> None:
    for v in (0.1, 1e-05, 3.0, 1 / 3, 1e20, 123456789.125):
        assert float(format_number(v)) == v
