"""Builtins added with the Vensim reader, in every syntax that names them, against closed forms.

Hyperbolic and inverse hyperbolic functions, ``trunc`` (toward zero, Vensim's
INTEGER) and ``safediv`` in format v1; SINH/COSH/TANH and SAFEDIV in XMILE (and
written back by ``quidpro convert``); arithmetic over whole arrays and slices.
"""

from __future__ import annotations

import math

import pytest

from quidpro.api import LoadedModel
from quidpro.io.load import parse_model
from quidpro.io.xmile_writer import model_to_xmile

HEAD = "quidpro: 1\nname: b\ntime: {start: 0, stop: 1, dt: 1}\n"


def yaml_value(expr: str) -> float:
    text = f'{HEAD}constants:\n  x: 0.5\n  z: 0\nauxiliaries:\n  a: "{expr}"\n'
    return float(LoadedModel(parse_model(text, "b.yaml")).run(backend="numpy")["a"].iloc[0])


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("sinh(x)", math.sinh(0.5)),
        ("cosh(x)", math.cosh(0.5)),
        ("tanh(x)", math.tanh(0.5)),
        ("arcsinh(x)", math.asinh(0.5)),
        ("arccosh(1 + x)", math.acosh(1.5)),
        ("arctanh(x)", math.atanh(0.5)),
        ("cosh(x)^2 - sinh(x)^2", 1.0),
        ("trunc(-2.5)", -2.0),
        ("trunc(2.5)", 2.0),
        ("int(-2.5)", -3.0),  # int stays floor, as XMILE's INT
        ("safediv(1, z)", 0.0),
        ("safediv(1, z, 7)", 7.0),
        ("safediv(3, 2, 7)", 1.5),
        ("pi", math.pi),
    ],
)
def test_format_v1_builtins(expr: str, expected: float) -> None:
    assert yaml_value(expr) == pytest.approx(expected, rel=1e-14, abs=1e-14)


def xmile(eqn: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">\n'
        "<header><name>t</name></header>\n"
        "<sim_specs><start>0</start><stop>1</stop><dt>1</dt></sim_specs>\n"
        f'<model><variables><aux name="y"><eqn>{eqn}</eqn></aux>'
        '<aux name="x"><eqn>0.5 + TIME * 0</eqn></aux></variables></model>\n</xmile>\n'
    )


@pytest.mark.parametrize(
    ("eqn", "expected"),
    [
        ("SINH(x)", math.sinh(0.5)),
        ("COSH(x)", math.cosh(0.5)),
        ("TANH(x)", math.tanh(0.5)),
        ("SAFEDIV(x, 0, 3) + SAFEDIV(x, 2)", 3.25),
        ("PI", math.pi),
    ],
)
def test_xmile_builtins_and_their_export(eqn: str, expected: float) -> None:
    spec = parse_model(xmile(eqn), "t.xmile")
    got = float(LoadedModel(spec).run(backend="numpy")["y"].iloc[0])
    assert got == pytest.approx(expected, rel=1e-14)
    again = parse_model(model_to_xmile(spec), "again.xmile")  # written back, read again
    assert float(LoadedModel(again).run(backend="numpy")["y"].iloc[0]) == pytest.approx(
        expected, rel=1e-12
    )


def test_format_v1_exports_new_builtins_to_xmile() -> None:
    text = (
        f"{HEAD}constants:\n  x: 0.5\nauxiliaries:\n"
        '  a: "trunc(-x - 2) + arctanh(x) + sinh(x) + safediv(1, 0, 2)"\n'
    )
    spec = parse_model(text, "b.yaml")
    expected = -2 + math.atanh(0.5) + math.sinh(0.5) + 2
    again = parse_model(model_to_xmile(spec), "b.xmile")
    assert float(LoadedModel(again).run(backend="numpy")["a"].iloc[0]) == pytest.approx(expected)


ARRAYS = """quidpro: 1
name: arr
time: {start: 0, stop: 1, dt: 1}
dimensions:
  actor: [ru, kp]
  side: [a, b]
constants:
  w: {dims: [actor], value: {ru: 2, kp: 3}}
  m: {dims: [actor, side], value: {"ru,a": 1, "ru,b": 2, "kp,a": 3, "kp,b": 4}}
auxiliaries:
  dot: sum(w[*] * w[*])
  row: sum(m[ru, *])
  col: {dims: [side], equation: "sum(m[*, side])"}
  scaled: {dims: [actor], equation: "w * 2 + sum(w[*])"}
  total: sum(m[*, *]) + mean(w[*]) + max(m[kp, *])
"""


def test_arithmetic_on_whole_arrays_and_slices() -> None:
    df = LoadedModel(parse_model(ARRAYS, "arr.yaml")).run(backend="numpy")
    row = df.iloc[0]
    assert row["dot"] == 2 * 2 + 3 * 3
    assert row["row"] == 1 + 2
    assert (row["col[a]"], row["col[b]"]) == (1 + 3, 2 + 4)
    assert (row["scaled[ru]"], row["scaled[kp]"]) == (2 * 2 + 5, 3 * 2 + 5)
    assert row["total"] == 10 + 2.5 + 4
