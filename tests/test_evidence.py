"""Evidence ledgers (file:line errors, dates, cutoffs), the observations: and
calibration: sections (file:line:col errors), levers, and --set by date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.calib_models import SYN, write_ledger

from quidpro.errors import ConfigError, ModelError
from quidpro.evidence.ledger import EvidenceError, builtin_ledger, parse_date, read_ledger
from quidpro.io.load import parse_model, read_model

CUTOFF = dt.date(2024, 6, 19)


def test_dates_as_precise_as_their_source() -> None:
    y, m, d = parse_date("2023"), parse_date("2024-02"), parse_date("2024-02-29")
    assert (y.start, y.end, y.precision) == (dt.date(2023, 1, 1), dt.date(2024, 1, 1), "year")
    assert (m.start, m.end, m.middle) == (
        dt.date(2024, 2, 1),
        dt.date(2024, 3, 1),
        dt.date(2024, 2, 15),
    )
    assert (d.start, d.end, d.middle) == (dt.date(2024, 2, 29), dt.date(2024, 3, 1), d.start)
    assert parse_date("2023").middle == dt.date(2023, 7, 2)
    for bad in ("2023-13", "2023-02-30", "23-01-01", "2023/01/01", "soon"):
        with pytest.raises(ValueError, match="not a date"):
            parse_date(bad)


def test_before_keeps_only_rows_known_by_the_cutoff(tmp_path: Path) -> None:
    rows = [
        ["A", "2023", "x", "1", "count", "high", "s"],  # known from 2024-01-01
        ["B", "2023-12", "x", "1", "count", "high", "s"],  # known from 2024-01-01
        ["C", "2023-12-31", "x", "1", "count", "", "s"],  # known from 2024-01-01
        ["D", "2024-01-01", "x", "1", "count", "low", "s"],  # known from 2024-01-02
    ]
    ledger = read_ledger(write_ledger(tmp_path / "e.csv", rows))
    assert [r.id for r in ledger.before(dt.date(2023, 12, 31))] == []
    assert [r.id for r in ledger.before(dt.date(2024, 1, 1))] == ["A", "B", "C"]
    assert [r.id for r in ledger.after(dt.date(2024, 1, 1))] == ["D"]
    assert ledger.rows[2].confidence is None
    assert ledger.rows[3].confidence == "low"


def test_time_column_for_models_without_origin(tmp_path: Path) -> None:
    header = ["id", "time", "indicator", "value", "kind"]
    path = write_ledger(tmp_path / "t.csv", [["T1", "3.5", "x", "2", "count"]], header)
    ledger = read_ledger(path)
    assert not ledger.dated
    assert ledger.rows[0].time == 3.5
    assert [r.id for r in ledger.before(4.0)] == ["T1"]
    assert not list(ledger.before(3.5))


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        ([["A", "2023-1-01", "x", "1", "count", "high", "s"]], 2, "A: not a date"),
        (
            [
                ["A", "2023", "x", "1", "count", "high", "s"],
                ["A", "2023", "x", "2", "count", "high", "s"],
            ],
            3,
            "duplicate id 'A' (first at line 3)",
        ),
        ([["A", "2023", "x", "lots", "count", "high", "s"]], 2, "A: value 'lots' is not a number"),
        ([["A", "2023", "x", "1", "guess", "high", "s"]], 2, "A: unknown kind 'guess'"),
        ([["A", "2023", "x", "1", "count", "sure", "s"]], 2, "A: unknown confidence 'sure'"),
        ([["A", "2023", "", "1", "count", "high", "s"]], 2, "A: empty indicator"),
        ([["", "2023", "x", "1", "count", "high", "s"]], 2, "empty id"),
        ([["A", "2023", "x", "1", "count"]], 2, "5 fields where the header has 7"),
        ([["A", "", "x", "1", "count", "high", "s"]], 2, "A: empty date"),
    ],
)
def test_ledger_errors_name_file_and_line(
    tmp_path: Path, rows: list[list[str]], line: int, message: str
) -> None:
    path = write_ledger(
        tmp_path / "bad.csv", [["OK", "2020", "x", "1", "count", "high", "s"], *rows]
    )
    with pytest.raises(EvidenceError) as info:
        read_ledger(path)
    assert str(info.value).startswith(f"{path}:{line + 1}: {message}")


def test_header_errors_are_at_line_one(tmp_path: Path) -> None:
    path = write_ledger(tmp_path / "h.csv", [], ["id", "when", "indicator", "value"])
    with pytest.raises(
        EvidenceError, match=r"h\.csv:1: missing column\(s\) date \(or time\), kind"
    ):
        read_ledger(path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(EvidenceError, match=r"empty\.csv:1: the evidence file is empty"):
        read_ledger(empty)


def test_the_shipped_ledger_is_dated_before_the_article() -> None:
    path = builtin_ledger(str(read_model("nk_russia").file))
    assert path is not None
    assert path.name == "nk_russia.evidence.csv"
    ledger = read_ledger(path)
    assert len(ledger) >= 90
    assert all(r.date is not None and r.date.end <= CUTOFF for r in ledger), "post-cutoff row"
    assert len(ledger.before(CUTOFF)) == len(ledger)
    for column in ("source_title", "source_publisher", "source_url", "source_date", "notes"):
        assert column in ledger.rows[0].fields
    assert all(r.fields["source_title"] for r in ledger if r.kind != "event")


def test_observations_section_builds() -> None:
    spec = parse_model(SYN, "syn.yaml")
    obs = spec.observations
    assert list(obs) == ["population", "growth_per_year"]
    assert (obs["population"].error, obs["population"].sd, obs["population"].period) == (
        "lognormal",
        0.1,
        "point",
    )
    assert (obs["growth_per_year"].error, obs["growth_per_year"].period) == ("normal", "year")
    assert spec.constants["switch_time"].lever
    assert not spec.constants["r"].lever


BASE = """quidpro: 1
name: m
time: {start: 0, stop: 10, dt: 1}
constants:
  k: 0.1
stocks:
  x: {initial: 1, inflows: [f]}
flows:
  f: k * x
"""


@pytest.mark.parametrize(
    ("tail", "where", "message"),
    [
        (
            "observations:\n  y: {expression: z, error: {kind: normal, sd: 1}}\n",
            "11:19",
            "'z' is not a stock, flow or auxiliary",
        ),
        (
            "observations:\n  y: {expression: k, error: {kind: normal, sd: 1}}\n",
            "11:19",
            "'k' is a constant",
        ),
        (
            "observations:\n  y: {expression: x, error: {kind: gamma, sd: 1}}\n",
            "11:36",
            "must be one of lognormal, normal, got 'gamma'",
        ),
        (
            "observations:\n  y: {expression: x, error: {kind: normal, sd: -1}}\n",
            "11:48",
            "sd of observation 'y' must be positive",
        ),
        (
            "observations:\n  y: {expression: x, error: {kind: normal, sd: 1}, period: month}\n",
            "11:60",
            "period of observation 'y' must be point or year",
        ),
        (
            "observations:\n  y: {expression: x, eror: {kind: normal, sd: 1}}\n",
            "11:22",
            "unknown key 'eror' in observation 'y'",
        ),
        ("observations:\n  y: {error: {kind: normal, sd: 1}}\n", "11:6", "needs an 'expression'"),
        ("observations:\n  y: {expression: x +, error: {kind: normal, sd: 1}}\n", "11:", ""),
        ("calibration: {posterior: ''}\n", "10:27", "calibration.posterior must be a file name"),
        ("calibration: {file: a.parquet}\n", "10:15", "unknown key 'file' in calibration"),
        ("constants2: 1\n", "10:1", "unknown key 'constants2'"),
    ],
)
def test_observation_errors_are_located(tail: str, where: str, message: str) -> None:
    with pytest.raises(ModelError) as info:
        parse_model(BASE + tail, "m.yaml")
    text = str(info.value)
    assert text.startswith(f"m.yaml:{where}"), text
    assert message in text


def test_lever_must_be_a_boolean() -> None:
    text = BASE.replace("  k: 0.1", "  k: {value: 0.1, lever: yes please}")
    with pytest.raises(ModelError, match=r"m\.yaml:5:\d+: lever of 'k' must be true or false"):
        parse_model(text, "m.yaml")


def test_levers_are_never_sampled() -> None:
    from quidpro.analysis.sensitivity import problem
    from quidpro.ensemble.sampling import draw, uncertain, varied

    spec = parse_model(SYN, "syn.yaml")
    assert list(uncertain(spec)) == ["r", "cap"]
    assert varied(spec) == ["r", "cap"]
    assert problem(spec)["names"] == ["r", "cap"]
    assert set(draw(spec, 8, 1).rows(0, 8)) == {"r", "cap"}


def test_set_a_time_constant_by_date() -> None:
    from quidpro.cli.options import parse_sets

    spec = parse_model(SYN, "syn.yaml")
    assert parse_sets(["switch_time=2021-01-01"], spec) == {"switch_time": 12.0}
    assert parse_sets(["switch_time=2020-01-16"], spec)["switch_time"] == pytest.approx(15 / 31)
    assert parse_sets(["r=0.2"], spec) == {"r": 0.2}
    with pytest.raises(
        ConfigError,
        match=r"--set cap=2021-01-01: 'cap' is in people, not in the model's time units",
    ):
        parse_sets(["cap=2021-01-01"], spec)
    no_origin = parse_model(BASE, "m.yaml")
    with pytest.raises(ConfigError, match=r"--set k=2021-01-01: model 'm' has no time.origin"):
        parse_sets(["k=2021-01-01"], no_origin)
    with pytest.raises(ConfigError, match="is not a number"):
        parse_sets(["k=soon"], no_origin)
