"""Units checking: exact messages at the line of the fault, and the shipped models clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from quidpro.cli.main import app
from quidpro.errors import UnitError
from quidpro.io.load import builtin_models, parse_model, read_model
from quidpro.model.check import unit_errors

HEAD = "quidpro: 1\nname: m\ntime: {start: 0, stop: 10, dt: 1, units: year}\n"

# The issue's example: a price plus a distance, declared people/year, into a USD stock.
ISSUE = """\
quidpro: 1
name: m
time: {start: 0, stop: 10, dt: 1, units: year}
constants:
  price: {value: 3, units: USD/shell}
  distance: {value: 2, units: km}
stocks:
  cash: {initial: 0, inflows: [income], units: USD}
flows:
  income: {equation: price + distance, units: people/year}
"""


def problems(text: str) -> list[tuple[str, str]]:
    return [(str(p.loc), p.message) for p in unit_errors(parse_model(text, "model.yaml"))]


def test_the_issue_example_fails_twice() -> None:
    assert problems(ISSUE) == [
        ("model.yaml:10:28", "unit error: 'income' adds USD/shell (price) and km (distance)"),
        (
            "model.yaml:10:47",
            "unit error: flow 'income' is in people/year, but it flows into stock 'cash' "
            "(USD), which needs USD/year",
        ),
    ]


def test_a_unit_error_prints_at_its_line_with_a_caret() -> None:
    first = unit_errors(parse_model(ISSUE, "model.yaml"))[0]
    assert isinstance(first, UnitError)
    assert str(first) == (
        "model.yaml:10:28: unit error: 'income' adds USD/shell (price) and km (distance)\n"
        "      income: {equation: price + distance, units: people/year}\n"
        "                               ^"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (  # a misspelt unit: the suggestion fixes the whole text
            "constants:\n  a: {value: 1, units: people/monht}\n",
            [
                (
                    "5:24",
                    "unit error: unknown unit 'monht' in 'people/monht' "
                    "(did you mean 'people/month'?)",
                )
            ],
        ),
        (  # the clock's own units may be misspelt too
            "constants:\n  a: {value: 1, units: peple}\n  b: {value: 1, units: people}\n"
            "  c: {value: 1, units: people}\n",
            [("5:24", "unit error: unknown unit 'peple' in 'peple' (did you mean 'people'?)")],
        ),
        (  # quidpro never converts: per month is not per year
            "stocks:\n  s: {initial: 1, inflows: [f], units: people}\n"
            "flows:\n  f: {equation: 0.1 * s, units: people/month}\n",
            [
                (
                    "7:33",
                    "unit error: flow 'f' is in people/month, but it flows into stock 's' "
                    "(people), which needs people/year",
                )
            ],
        ),
        (
            "stocks:\n  s: {initial: 1, outflows: [f], units: people}\n"
            "flows:\n  f: {equation: 0.1 * s, units: USD/year}\n",
            [
                (
                    "7:33",
                    "unit error: flow 'f' is in USD/year, but it flows out of stock 's' "
                    "(people), which needs people/year",
                )
            ],
        ),
        (
            "constants:\n  p: {value: 1, units: people}\n  q: {value: 1, units: km}\n"
            "auxiliaries:\n  a: if(p > q, 1, 0)\n",
            [("8:11", "unit error: 'a' compares people (p) and km (q)")],
        ),
        (
            "constants:\n  p: {value: 1, units: people}\n  q: {value: 1, units: km}\n"
            "auxiliaries:\n  a: max(p, q, 3)\n",
            [("8:6", "unit error: 'a' passes unlike units to max(): people (p) and km (q)")],
        ),
        (
            "constants:\n  p: {value: 1, units: people}\n  q: {value: 1, units: km}\n"
            "auxiliaries:\n  a: if(time > 1, p, q)\n",
            [("8:6", "unit error: 'a' passes unlike units to if(): people (p) and km (q)")],
        ),
        (
            "constants:\n  p: {value: 1, units: people}\nauxiliaries:\n  a: exp(p)\n",
            [
                (
                    "7:10",
                    "unit error: the argument of exp() in 'a' must be dimensionless, "
                    "got people (p)",
                )
            ],
        ),
        (
            "constants:\n  p: {value: 1, units: people}\nauxiliaries:\n  a: smooth(time, p)\n",
            [
                (
                    "7:19",
                    "unit error: argument 2 of smooth() (a time) in 'a' must be in year, "
                    "got people (p)",
                )
            ],
        ),
        (
            "constants:\n  p: {value: 1, units: people}\n  q: {value: 1, units: km}\n"
            "auxiliaries:\n  a: smooth(p, 2, q)\n",
            [("8:6", "unit error: 'a' passes unlike units to smooth(): people (p) and km (q)")],
        ),
        (
            'constants:\n  p: {value: 1, units: people}\nauxiliaries:\n  a: "step(p, p)"\n',
            [
                (
                    "7:15",
                    "unit error: argument 2 of step() (a time) in 'a' must be in year, "
                    "got people (p)",
                )
            ],
        ),
        (
            "constants:\n  p: {value: 1, units: people}\n"
            "lookups:\n  eff: {points: [[0, 0], [1, 1]], input_units: dmnl, units: 1/year}\n"
            "auxiliaries:\n  a: eff(p)\n",
            [
                (
                    "9:10",
                    "unit error: the input of lookup 'eff' in 'a' must be dimensionless, "
                    "got people (p)",
                )
            ],
        ),
        (
            "constants:\n  p: {value: 1, units: people}\n  r: {value: 1, units: 1/year}\n"
            "auxiliaries:\n  a: {equation: p * r, units: people}\n",
            [
                (
                    "8:3",
                    "unit error: 'a' is declared people, but its equation p * r is in people/year",
                )
            ],
        ),
        (
            "constants:\n  p: {value: 1, units: people}\nstocks:\n  s: {initial: p, units: USD}\n",
            [("7:3", "unit error: 's' is declared USD, but its initial value p is in people")],
        ),
        (
            "constants:\n  p: {value: 1, units: people}\n  a: {value: 2 * p, units: USD}\n",
            [],  # a number literal has no units: 2 * p is unchecked
        ),
        (
            "constants:\n  f: {value: 0.5, units: percent}\n  g: {value: 0.5, units: Dmnl}\n"
            "auxiliaries:\n  a: f + g\n",
            [("8:8", "unit error: 'a' adds percent (f) and dimensionless (g)")],
        ),
        (
            "constants:\n  d: {value: 1, units: km}\n  e: {value: 1, units: meter}\n"
            "auxiliaries:\n  a: d - e\n",
            [("8:8", "unit error: 'a' subtracts km (d) and m (e)")],
        ),
    ],
)
def test_unit_errors(body: str, expected: list[tuple[str, str]]) -> None:
    assert problems(HEAD + body) == [(f"model.yaml:{w}", m) for w, m in expected]


def test_units_that_agree_pass() -> None:
    body = """\
constants:
  births_per_year: {value: 120, units: people/year}
  months_per_year: {value: 12, units: month/year}
  lifetime: {value: 60, units: months}
  share: {value: 0.5, units: Dmnl}
  half: {value: 0.5, units: "1"}
  price: {value: 3, units: USD/shell}
stocks:
  people_now: {initial: 100, inflows: [births], outflows: [deaths], units: people}
  shells: {initial: 0, inflows: [made], units: shells}
  cash: {initial: 0, inflows: [sales], units: USD}
flows:
  births: {equation: births_per_year / months_per_year * (share + half), units: people/month}
  deaths: {equation: "smooth(people_now / lifetime, lifetime, 0)", units: people/month}
  made: {equation: "step(10, 12) + ramp(1, 2, 5)", units: shell/month}
  sales: {equation: price * made, units: USD/month}
auxiliaries:
  growth: {equation: "exp(time / lifetime) * ln(1 + share)", units: dimensionless}
  ok: {equation: "if(people_now > 50 and time < 5, people_now, 50)", units: people}
  clock: {equation: time + dt, units: month}
"""
    text = "quidpro: 1\nname: m\ntime: {start: 0, stop: 10, dt: 1, units: month}\n" + body
    assert problems(text) == []


def test_without_time_units_the_flows_are_not_checked_against_their_stocks() -> None:
    text = (
        "quidpro: 1\nname: m\ntime: {start: 0, stop: 5}\n"
        "stocks:\n  s: {initial: 1, inflows: [f], units: people}\n"
        "flows:\n  f: {equation: 1, units: USD}\n"
    )
    assert problems(text) == []


def test_unreadable_units_are_named() -> None:
    found = problems(HEAD + "constants:\n  a: {value: 1, units: people//year}\n")
    assert len(found) == 1
    where, message = found[0]
    assert where == "model.yaml:5:24"
    assert message.startswith("unit error: cannot read the units 'people//year'")


@pytest.mark.parametrize("name", sorted(builtin_models()))
def test_shipped_models_are_unit_clean(name: str) -> None:
    assert [str(p) for p in unit_errors(read_model(name))] == []


def test_check_fails_and_run_warns(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(ISSUE)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:10:28: unit error: 'income' adds USD/shell (price) and km" in result.output
    assert f"{path}:10:47: unit error: flow 'income' is in people/year" in result.output
    assert "ok" not in result.output
    result = CliRunner().invoke(app, ["run", str(path), "--no-store", "-q"])
    assert result.exit_code == 0, result.output
    assert f"{path}:10:28: warning: unit error: 'income' adds USD/shell" in result.output


def test_known_units_may_be_capitalised_as_stella_and_vensim_write_them() -> None:
    text = (
        "quidpro: 1\nname: m\ntime: {start: 0, stop: 5, dt: 1, units: Months}\n"
        "stocks:\n  s: {initial: 1, inflows: [f], units: widgets}\n"
        "flows:\n  f: {equation: s / lag, units: widgets/Month}\n"
        "constants:\n  lag: {value: 2, units: month}\n"
        "auxiliaries:\n  a: {equation: time + lag, units: MONTH}\n"
    )
    assert problems(text) == []
