"""The number-format policy (report/numbers.py): one set of rules for every reader."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quidpro.report.numbers import (
    fmt_column,
    fmt_interval,
    fmt_number,
    fmt_percent,
    fmt_table,
)

CASES = [
    (0.0, "0"),
    (-0.0, "0"),
    (2.693e-61, "0"),
    (-3e-12, "0"),
    (1.0, "1"),
    (0.5, "0.5"),
    (12.0, "12"),
    (9868.0, "9,868"),
    (34110.7, "34,110"),
    (34118.0, "34,120"),
    (-34118.0, "-34,120"),
    (2790000000.0, "2,790,000,000"),
    (0.1234567, "0.1235"),
    (0.00123456, "0.001235"),
    (3.2e-5, "3.2e-05"),
    (1.5e-7, "1.5e-07"),
    (2.5e15, "2.5e+15"),
    (float("nan"), "n/a"),
    (None, "n/a"),
    (float("inf"), "∞"),
    (float("-inf"), "-∞"),
]


@pytest.mark.parametrize(("x", "text"), CASES)
def test_policy_cases(x: float | None, text: str) -> None:
    assert fmt_number(x) == text


def test_significant_digits_are_a_parameter() -> None:
    assert fmt_number(34110.7, 2) == "34,000"
    assert fmt_number(0.1234567, 2) == "0.12"
    assert fmt_number(1234.5678, 6) == "1,234.57"


def test_zero_is_judged_against_the_scale_of_its_neighbours() -> None:
    # A stock that drained to rounding noise beside values in the millions reads 0 ...
    assert fmt_column([6.65e6, 1.2e-4, 3.0e5]) == ["6,650,000", "0", "300,000"]
    # ... but a small quantity on its own scale keeps its digits.
    assert fmt_column([1.2e-4, 3.0e-4]) == ["0.00012", "0.0003"]
    assert fmt_table([[1e6, 0.5], [1e-5, 0.25]]) == [["1,000,000", "0.5"], ["0", "0.25"]]


def test_compact_words_for_prose() -> None:
    assert fmt_number(2.79e9, 3, compact=True) == "2.79 billion"
    assert fmt_number(4.5e6, 3, compact=True) == "4.5 million"
    assert fmt_number(1.2e12, 3, compact=True) == "1.2 trillion"
    assert fmt_number(950000.0, 3, compact=True) == "950,000"


def test_percent_and_intervals() -> None:
    assert fmt_percent(0.873) == "87%"
    assert fmt_percent(0.004) == "<1%"
    assert fmt_percent(0.9991) == ">99%"
    assert fmt_percent(1.0) == "100%"
    assert fmt_percent(0.0) == "0%"
    assert fmt_percent(0.8734, 1) == "87.3%"
    assert fmt_interval(0.8, 0.92, percent=True) == "80%–92%"
    assert fmt_interval(1200.0, 34118.0) == "1,200–34,120"


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_number_reads_back_to_about_its_value(x: float) -> None:
    text = fmt_number(x)
    back = float(text.replace(",", ""))
    if abs(x) < 1e-9:
        assert back == 0.0
    elif math.isinf(back):  # rounded up past the largest float, e.g. 1.798e+308
        assert abs(x) > 1.797e308
    else:
        assert math.isclose(back, x, rel_tol=1e-3)
