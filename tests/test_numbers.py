"""The number-format policy (report/numbers.py): one set of rules for every reader."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table

import quidpro
from quidpro.cli.format import number_column, print_table, split_to_fit, text_column
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


# ---------------------------------------------------------------- terminal tables

WIDTHS = [80, 200]


def _wide_table() -> tuple[Table, list[str]]:
    """A table of a name column and twelve number columns (wider than 80 columns)."""
    table = Table(title="twelve numbers a row", title_justify="left")
    text_column(table, "indicator")
    for j in range(12):
        number_column(table, f"q{j:02d}")
    cells = []
    for i in range(5):
        row = [fmt_number(1234567.8 * (i + 1) * (j + 1)) for j in range(12)]
        table.add_row(f"containers_shipped_nk_to_ru_{i}", *row)
        cells += row
    return table, cells


def _render(table: Table, width: int, keep: int = 1) -> str:
    out = Console(width=width, record=True, file=io.StringIO())
    print_table(table, keep=keep, out=out)
    return out.export_text()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_table_wider_than_the_terminal_keeps_every_number_whole(width: int) -> None:
    table, cells = _wide_table()
    text = _render(table, width)
    assert "…" not in text
    for cell in cells:
        assert f" {cell} " in text  # whole, between its padding
    assert max(len(line) for line in text.splitlines()) <= width


def test_a_split_table_repeats_the_row_names_and_keeps_the_column_order() -> None:
    table, _ = _wide_table()
    parts = split_to_fit(table, Console(width=80, file=io.StringIO()), keep=1)
    assert len(parts) > 1
    headers = [[c.header for c in p.columns] for p in parts]
    assert all(h[0] == "indicator" for h in headers)
    assert [h for p in headers for h in p[1:]] == [f"q{j:02d}" for j in range(12)]
    assert parts[0].title == "twelve numbers a row"
    assert parts[1].title == f"twelve numbers a row (continued, 2 of {len(parts)})"
    # a table that fits stays one table
    assert split_to_fit(table, Console(width=300, file=io.StringIO())) == [table]


STORED = Path(quidpro.__file__).parent / "models" / "nk_russia.backtest.json"


@pytest.mark.parametrize("width", WIDTHS)
def test_backtest_table_shows_every_number_in_full(
    width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The terminal table once cut numbers to ``1.268e…``; now each reads whole."""
    from quidpro.cli import backtest as cli_backtest
    from quidpro.cli import format as cli_format

    out = Console(width=width, record=True, file=io.StringIO())
    monkeypatch.setattr(cli_format, "console", out)
    monkeypatch.setattr(cli_backtest, "console", out)
    doc = json.loads(STORED.read_text(encoding="utf-8"))
    for c in doc["cutoffs"]:
        cli_backtest._table(c)
    text = out.export_text()
    assert "…" not in text
    assert "e+0" not in text  # no scientific notation for counts people read
    for c in doc["cutoffs"]:
        for r in c["observations"]:
            assert r["id"] in text
            for key in ("observed", "q50", "crps_trend"):
                if r[key] is not None:
                    assert fmt_number(r[key], scale=abs(r[key])) in text
        assert f"CRPSS vs trend {fmt_number(c['crpss_trend'])}" in text
    assert max(len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_evidence_table_shows_values_in_full(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from quidpro.cli import common
    from quidpro.cli.main import app

    monkeypatch.setattr(common.console, "width", width)
    r = CliRunner().invoke(app, ["evidence", "nk_russia"])
    assert r.exit_code == 0, r.stderr
    assert "…" not in r.stdout
    assert "1e+06" not in r.stdout  # was f"{v:,.6g}"
    for value in _values():
        assert f" {value} " in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= width


def _values() -> set[str]:
    """Every recorded value of the flagship's ledger, as the policy writes it."""
    from quidpro.evidence.ledger import builtin_ledger, read_ledger

    found = builtin_ledger(str(quidpro.load("nk_russia").spec.file))
    assert found is not None
    values = {fmt_number(r.value, 6) for r in read_ledger(found) if r.value is not None}
    assert "1,000,000" in values  # the rows that once read 1e+06
    return values
