"""Every operator, function and builtin of format v1, evaluated in a model."""

from __future__ import annotations

import math

import pytest

from quidpro.api import LoadedModel
from quidpro.errors import ParseError, SimulationError
from quidpro.io.load import parse_model

HEAD = "quidpro: 1\nname: b\ntime: {start: 0, stop: 2, dt: 0.5}\n"


def value(expr: str, constants: str = "") -> float:
    """The value of ``expr`` as an auxiliary at time 0."""
    text = f"{HEAD}constants:\n  x: 2.5\n  y: -4\n{constants}auxiliaries:\n  a: {expr}\n"
    df = LoadedModel(parse_model(text, "b.yaml")).run(backend="numpy")
    return float(df["a"].iloc[0])


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 - 2 - 1", 4),
        ("8 / 2 / 2", 2),
        ("10 / 4", 2.5),
        ("2 ^ 3", 8),
        ("2 ^ 3 ^ 2", 512),  # right associative
        ("-2 ^ 2", -4),  # ^ binds tighter than unary minus (XMILE)
        ("(-2) ^ 2", 4),
        ("2 ^ -1", 0.5),
        ("-x", -2.5),
        ("(- -x)", 2.5),
        ("+x", 2.5),
        ("x - -1", 3.5),
        ("2 * -x", -5),
        ("-x * 2", -5),
        ("1e3 + .5 + 2.", 1002.5),
        ("1.5E-1", 0.15),
        ("x*y", -10),
        ("3 - 2 * 2 ^ 2 / 4", 1),
    ],
)
def test_arithmetic_and_precedence(expr: str, expected: float) -> None:
    assert value(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 < 2", 1),
        ("2 < 2", 0),
        ("2 <= 2", 1),
        ("3 <= 2", 0),
        ("1 > 2", 0),
        ("3 > 2", 1),
        ("2 >= 3", 0),
        ("3 >= 3", 1),
        ("1 == 1", 1),
        ("1 == 2", 0),
        ("1 != 1", 0),
        ("1 != 2", 1),
        ("1 + 1 == 2", 1),  # arithmetic binds tighter than comparison
        ("1 and 0", 0),
        ("1 and 1", 1),
        ("2 and -3", 1),  # any non-zero number is true
        ("0 or 0", 0),
        ("0 or 1", 1),
        ("not 0", 1),
        ("not 5", 0),
        ("not 1 < 2", 0),  # not binds looser than comparison
        ("0 or 1 and 0", 0),  # and binds tighter than or
        ("1 or 1 and 0", 1),
        ("not 0 and 0", 0),  # not binds tighter than and
        ("(x > 2) * 10", 10),  # a condition is 1 or 0 in arithmetic
        ("x > 2 and y < 0", 1),
    ],
)
def test_comparisons_and_logic(expr: str, expected: float) -> None:
    assert value(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("if(x > 2, 10, 20)", 10),
        ("if(x > 3, 10, 20)", 20),
        ("if(0, 10, 20)", 20),
        ("if(-1, 10, 20)", 10),
        ("if(1, 1, 1 / 0)", 1),  # the untaken branch may be infinite
        ("min(3, 1, 2)", 1),
        ("min(5)", 5),
        ("max(3, 1, 2)", 3),
        ("max(x, y)", 2.5),
        ("abs(y)", 4),
        ("abs(x)", 2.5),
        ("exp(1)", math.e),
        ("exp(0)", 1),
        ("ln(exp(2))", 2),
        ("ln(1)", 0),
        ("log10(1000)", 3),
        ("sqrt(16)", 4),
        ("sin(0)", 0),
        ("sin(pi / 2)", 1),
        ("cos(0)", 1),
        ("cos(pi)", -1),
        ("floor(2.7)", 2),
        ("floor(-1.5)", -2),
        ("ceil(2.1)", 3),
        ("ceil(-1.5)", -1),
        ("clip(5, 0, 3)", 3),
        ("clip(-1, 0, 3)", 0),
        ("clip(2, 0, 3)", 2),
        ("tan(0)", 0),
        ("mod(7, 3)", 1),
        ("int(2.9)", 2),
        ("arctan(1) * 4", math.pi),
    ],
)
def test_functions(expr: str, expected: float) -> None:
    assert value(expr) == pytest.approx(expected, rel=1e-15, abs=1e-15)


LOOKUPS = """
lookups:
  clamped: {points: [[0, 1], [1, 0.5], [2, 0]]}
  explicit_clamp: {points: [[0, 1], [1, 0.5], [2, 0]], extrapolate: clamp}
  linear: {points: [[0, 1], [1, 0.5], [2, 0]], extrapolate: linear}
  single: {points: [[3, 7]], extrapolate: linear}
"""


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("clamped(0)", 1),
        ("clamped(0.5)", 0.75),
        ("clamped(1)", 0.5),
        ("clamped(1.5)", 0.25),
        ("clamped(2)", 0),
        ("clamped(-10)", 1),  # clamped below the first point
        ("clamped(10)", 0),  # and above the last
        ("explicit_clamp(-1)", 1),
        ("linear(0.5)", 0.75),
        ("linear(-1)", 1.5),  # the first segment extended
        ("linear(3)", -0.5),  # the last segment extended
        ("linear(x)", -0.25),
        ("single(-5)", 7),
        ("single(50)", 7),
    ],
)
def test_lookups(expr: str, expected: float) -> None:
    text = f"{HEAD}constants:\n  x: 2.5\n{LOOKUPS}auxiliaries:\n  a: {expr}\n"
    df = LoadedModel(parse_model(text, "b.yaml")).run(backend="numpy")
    assert df["a"].iloc[0] == pytest.approx(expected, abs=1e-15)


def test_time_dt_and_run_bounds() -> None:
    text = """quidpro: 1
name: b
time: {start: 1, stop: 3, dt: 0.5}
auxiliaries:
  t: time
  step_length: dt
  first: start_time
  last: stop_time
"""
    df = LoadedModel(parse_model(text, "b.yaml")).run(backend="numpy")
    assert df["t"].tolist() == [1, 1.5, 2, 2.5, 3]
    assert df.index.tolist() == df["t"].tolist()
    assert set(df["step_length"]) == {0.5}
    assert set(df["first"]) == {1}
    assert set(df["last"]) == {3}


def test_time_builtins_over_time() -> None:
    text = f"""{HEAD}auxiliaries:
  st: step(3, 1)
  rp: ramp(2, 0.5, 1.5)
  pl: pulse(1, 1)
  sm: smooth(st, 1)
  d1: delay1(st, 1)
  d3: delay3(st, 1)
  s3: smooth3(st, 1)
  df: delay_fixed(st, 0.5, -1)
"""
    df = LoadedModel(parse_model(text, "b.yaml")).run(backend="numpy")
    assert df["st"].tolist() == [0, 0, 3, 3, 3]
    assert df["rp"].tolist() == [0, 0, 1, 2, 2]
    assert df["pl"].tolist() == [0, 0, 2, 0, 0]  # magnitude / dt in the step at t0
    assert df["sm"].tolist() == [0, 0, 0, 1.5, 2.25]
    assert df["d1"].tolist() == [0, 0, 0, 1.5, 2.25]
    # Third order: the input reaches the output through three stages, three steps late.
    assert df["d3"].tolist() == [0, 0, 0, 0, 0]
    assert df["s3"].tolist() == [0, 0, 0, 0, 0]
    assert df["df"].tolist() == [-1, 0, 0, 3, 3]


@pytest.mark.parametrize("backend", ["numpy", "jit", "vm"])
def test_a_fixed_delay_whose_time_is_an_auxiliary_keeps_its_value_at_the_start(
    backend: str,
) -> None:
    # tau is 1 at the start and 2 from t = 1: the delay stays one time unit (two steps);
    # the kernels read tau at t0 for the lag (they used to name its in-step value).
    if backend != "numpy":
        pytest.importorskip("numba")
    text = f"""{HEAD}auxiliaries:
  tau: 1 + step(1, 1)
  st: step(3, 0.5)
  df: delay_fixed(st, tau, -1)
"""
    df = LoadedModel(parse_model(text, "b.yaml")).run(backend=backend)
    assert df["st"].tolist() == [0, 3, 3, 3, 3]
    assert df["df"].tolist() == [-1, -1, 0, 3, 3]


def test_chained_comparison_is_a_syntax_error() -> None:
    with pytest.raises(ParseError, match=r"syntax error: unexpected '<'"):
        value("1 < 2 < 3")


def test_division_by_zero_in_a_taken_branch_is_a_run_error() -> None:
    with pytest.raises(SimulationError) as info:
        value("1 / (x - 2.5)")
    assert str(info.value) == "b.yaml:8:3: 'a' became inf at time 0"


@pytest.mark.parametrize(
    ("expr", "constants", "bad"),
    [
        ("x / zero", "  zero: 0\n", "inf"),
        ("y ^ half", "  half: 0.5\n", "nan"),
        ("ratio", "  zero: 0\n  ratio: x / zero\n", "inf"),
        ("big ^ big", "  big: 1000\n", "inf"),
    ],
)
def test_constant_arithmetic_that_is_not_finite_is_reported_not_raised(
    expr: str, constants: str, bad: str
) -> None:
    with pytest.raises(SimulationError) as info:
        value(expr, constants)
    assert info.value.message == f"'a' became {bad} at time 0"


@pytest.mark.parametrize(
    ("expr", "bad"),
    [
        ("1 / 0", "inf"),
        ("-1 / 0", "-inf"),
        ("0 / 0", "nan"),
        ("(-8) ^ 0.5", "nan"),
        ("10 ^ 400", "inf"),
        ("ln(0)", "-inf"),
        ("sqrt(-1)", "nan"),
        ("exp(1000)", "inf"),
    ],
)
def test_literal_arithmetic_that_is_not_finite_is_reported_not_raised(expr: str, bad: str) -> None:
    with pytest.raises(SimulationError) as info:
        value(expr)
    assert info.value.message == f"'a' became {bad} at time 0"
    assert (info.value.variable, info.value.time) == ("a", 0)
