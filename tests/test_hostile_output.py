"""Hostile queries, flags and text (issue 13): usage errors, and text that stays text."""

from __future__ import annotations

import warnings
from io import BytesIO
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.text import Text
from typer.testing import CliRunner

import quidpro
from quidpro.cli.main import app
from quidpro.ensemble.query import parse_probe
from quidpro.errors import ConfigError
from quidpro.io.results import safe_text, spreadsheet_safe, write_table
from quidpro.lang.display import plain
from quidpro.report.plain_figure import save_figure


def _cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r.exit_code, r.stdout, r.stderr


QUERIES = [
    (
        "smooth(population, 1) > 0 at 5",
        "in 'smooth(population, 1) > 0 at 5': smooth() remembers the past, so a query cannot "
        "compute it from saved values; define it as an auxiliary of the model and query that",
    ),
    (
        "normal(0, 1) > 0 at 5",
        "in 'normal(0, 1) > 0 at 5': normal() draws random numbers, so a query cannot "
        "compute it from saved values; define it as an auxiliary of the model and query that",
    ),
    ("min() > 0 at 5", "in 'min() > 0 at 5': min() takes at least 1 argument, got 0"),
    ("abs(1, 2) > 0 at 5", "in 'abs(1, 2) > 0 at 5': abs() takes 1 argument, got 2"),
    ("evil(1) > 0 at 5", "in 'evil(1) > 0 at 5': evil() is not a function or lookup"),
]


@pytest.mark.parametrize(("query", "message"), QUERIES)
def test_a_query_calling_what_it_cannot_compute_is_a_usage_error(query: str, message: str) -> None:
    spec = quidpro.load("logistic").spec
    with pytest.raises(ConfigError) as info:
        parse_probe(spec, query, comparison=True)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "args",
    [
        ["ensemble", "logistic", "-n", "4", "-q", "--query", "smooth(population,1) > 0 at 5"],
        ["compare", "logistic", "--scenarios", "fast", "-n", "1", "--query", "min() > 0 at 5"],
        ["sensitivity", "logistic", "--output", "normal(0, 1)", "--at", "5"],
    ],
)
def test_queries_and_outputs_are_checked_in_every_command(args: list[str]) -> None:
    code, _, err = _cli(*args)
    assert code == 2, err
    assert err.strip().startswith("quidpro: error: in ")
    assert "Traceback" not in err


SEEDED = [
    ["ensemble", "logistic", "-n", "4", "-q"],
    ["loops", "logistic", "--runs", "3"],
    ["claims", "logistic", "--runs", "10"],
    ["discover", "logistic", "--where", "population > 1 at 5", "--runs", "20"],
    ["calibrate", "logistic"],
    ["backtest", "logistic"],
    ["evidence", "logistic"],
    ["brief", "logistic"],
]


@pytest.mark.parametrize("seed", ["-1", str(2**63)])
@pytest.mark.parametrize("args", SEEDED, ids=[a[0] for a in SEEDED])
def test_a_seed_out_of_range_is_a_usage_error(args: list[str], seed: str) -> None:
    code, _, err = _cli(*args, "--seed", seed)
    assert code == 2
    assert "Invalid value for '--seed': Input should be " in err
    assert "Traceback" not in err


@pytest.mark.parametrize("seed", [-1, 2**63, 1.5, True])
def test_the_library_names_a_bad_seed(seed: object) -> None:
    from quidpro.ensemble import ensemble
    from quidpro.errors import ConfigError

    m = quidpro.load("logistic")
    with pytest.raises(ConfigError, match="seed must be"):
        ensemble(m, 4, seed)  # type: ignore[arg-type]


HOSTILE_TEXT = """quidpro: 1
name: t
title: "[bold]title[/] $x^{$"
time: {start: 0, stop: 2, dt: 1}
constants:
  k: {value: 0.1, units: "[/]"}
stocks:
  s: {initial: 1, inflows: [f], units: "\\e]0;owned\\a[red]people"}
flows:
  f: k * s
"""


def test_markup_and_escape_sequences_in_model_text_print_as_text(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text(HOSTILE_TEXT)
    code, out, err = _cli("run", str(model), "--out", str(tmp_path / "m.csv"))
    assert code == 0, err
    assert "[bold]title[/] $x^{$" in out  # markup shown, not applied; mathtext not read
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\\x1b]0;owne" in out  # the units column is cut at 18 characters


def test_a_mathtext_title_is_drawn_as_written(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text(HOSTILE_TEXT.replace("\\e]0;owned\\a", ""))
    png = tmp_path / "m.png"
    code, _, err = _cli("run", str(model), "--plot", str(png))
    assert code == 0, err
    assert png.stat().st_size > 0


def test_model_text_in_a_plot_gives_no_warning_and_no_mathtext(tmp_path: Path) -> None:
    # Control characters in units (the panel's y label) used to be a missing-glyph
    # warning; every plot is now saved through save_figure, which escapes them.
    model = tmp_path / "m.yaml"
    model.write_text(HOSTILE_TEXT)
    png = tmp_path / "m.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, _, err = _cli("run", str(model), "--plot", str(png), "--no-store")
    assert code == 0, err
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_save_figure_makes_every_text_plain() -> None:
    fig, ax = plt.subplots()
    ax.barh([0, 1], [1, 2])
    ax.set_yticks([0, 1], labels=["$a^{$", "b\x07c"])  # names on a categorical axis
    ax.set_title("$x^{$ \x1b]0;owned\x07")
    ax.set_ylabel("[/]people\x1b[2J")
    ax.plot([0, 1], [0, 1], label="$y$")
    ax.legend()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_figure(fig, BytesIO(), format="png")
    texts = {t.get_text() for t in fig.findobj(Text)}
    assert "$x^{$ \\x1b]0;owned\\x07" in texts
    assert "[/]people\\x1b[2J" in texts
    assert [t.get_text() for t in ax.get_yticklabels()] == ["$a^{$", "b\\x07c"]
    assert not any(t.get_parse_math() for t in fig.findobj(Text) if "$" in t.get_text())
    plt.close(fig)


def test_plain_shows_control_characters_and_keeps_newlines() -> None:
    assert plain("a\x1b[2Jb\x9bc\td\ne") == "a\\x1b[2Jb\\x9bc\td\ne"


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("population", "population"),
        ("x[a]", "x[a]"),
    ],
)
def test_cells_a_spreadsheet_would_run_are_quoted(text: str, safe: str) -> None:
    assert safe_text(text) == safe


def test_csv_and_parquet_headers_and_text_cells_are_safe(tmp_path: Path) -> None:
    df = pd.DataFrame({"=HYPERLINK(1)": [1.0, -2.0], "v": ["=cmd", "ok"]})
    df.index.name = "time"
    write_table(df, tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines() == [
        "time,'=HYPERLINK(1),v",
        "0,1.0,'=cmd",
        "1,-2.0,ok",
    ]
    write_table(df, tmp_path / "r.parquet")
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert list(back.columns) == ["time", "'=HYPERLINK(1)", "v"]
    assert list(spreadsheet_safe(df)["'=HYPERLINK(1)"]) == [1.0, -2.0]  # numbers unchanged


HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["loops", "logistic", "--runs", HUGE], "the number of members must be 1 to 2**32 - 1"),
        (["claims", "nk_russia", "--runs", HUGE], "--runs must be 2 to 200,000"),
        (
            ["sensitivity", "logistic", "--output", "population", "--at", "5", "--samples", HUGE],
            "more than the limit of",
        ),
    ],
)
def test_a_huge_count_is_refused_at_once(args: list[str], message: str) -> None:
    code, _, err = _cli(*args)
    assert code == 2, err  # a usage error
    assert message in err
    assert "Traceback" not in err


def test_a_save_step_longer_than_the_run_saves_its_start(tmp_path: Path) -> None:
    out = tmp_path / "run.csv"
    code, _, err = _cli("run", "logistic", "--no-store", "--save-every", HUGE, "--out", str(out))
    assert code == 0, err
    assert len(out.read_text().strip().splitlines()) == 2  # the header and the start


def test_serve_on_a_port_in_use_or_an_unknown_host_says_so_before_listening() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = _cli("serve", "--port", str(port))
    assert code == 1, err
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in err
    assert "workbench on" not in out
    code, _, err = _cli("serve", "--host", "no-such-host.invalid")
    assert code == 2, err
    assert "--host 'no-such-host.invalid' is not an address" in err


def _parquet(path: Path, columns: dict[str, list[object]], meta: bytes | None = None) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(columns)
    if meta is not None:
        table = table.replace_schema_metadata({b"quidpro.posterior": meta})
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize(
    ("columns", "meta", "message"),
    [
        ({"growth_rate": ["a", "b"]}, None, "columns that are not numbers: growth_rate (string)"),
        ({"growth_rate": [0.1, float("nan")]}, None, "non-finite values (growth_rate of draw 1"),
        ({"growth_rate": [0.1, 0.2]}, b"{not json", "has unreadable metadata"),
        ({"growth_rate": [0.1, 0.2]}, b"[1, 2]", "has unreadable metadata"),
    ],
)
def test_a_hostile_posterior_file_is_a_clear_error(
    tmp_path: Path, columns: dict[str, list[object]], meta: bytes | None, message: str
) -> None:
    from quidpro.ensemble.posterior import read_posterior
    from quidpro.errors import ModelError

    path = _parquet(tmp_path / "post.parquet", columns, meta)
    with pytest.raises(ModelError, match="posterior file") as info:
        read_posterior(path, quidpro.load("logistic").spec)
    assert message in str(info.value)
