"""``quidpro loops`` end to end: the DESIGN.md JSON, the plots, XMILE input, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from quidpro.cli.main import app
from quidpro.io.xmile_writer import model_to_xmile

DATA = Path(__file__).parent / "data" / "loops"
runner = CliRunner()


def test_json_follows_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "loops.json"
    r = runner.invoke(app, ["loops", str(DATA / "yeast.yaml"), "--json", str(out)])
    assert r.exit_code == 0, r.output
    assert "R1" in r.output
    assert "cells → births" in r.output
    doc = json.loads(out.read_text())
    assert set(doc) == {"time", "loops", "dominant_periods"}
    n = len(doc["time"])
    assert n == 201
    for lp in doc["loops"]:
        assert set(lp) == {"id", "polarity", "variables", "relative_score"}
        assert lp["polarity"] in ("R", "B")
        assert len(lp["relative_score"]) == n
        assert all(-1 <= v <= 1 for v in lp["relative_score"])
    total = np.abs([lp["relative_score"] for lp in doc["loops"]]).sum(axis=0)
    np.testing.assert_allclose(total[1:], 1.0, atol=1e-9)
    ids = {lp["id"] for lp in doc["loops"]}
    for p in doc["dominant_periods"]:
        assert set(p) == {"start", "end", "loops"}
        assert p["start"] <= p["end"]
        assert set(p["loops"]) <= ids


def test_runs_add_p_dominant_and_plots_are_written(tmp_path: Path) -> None:
    out, png = tmp_path / "l.json", tmp_path / "l.png"
    r = runner.invoke(
        app,
        [
            "loops",
            "logistic",
            "--runs",
            "30",
            "--seed",
            "2",
            "--json",
            str(out),
            "--plot",
            str(png),
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["basis"] == "prior"  # the built-in logistic names no posterior
    assert "30 members drawn from the prior, seed 2" in r.output
    assert "p_dominant (max)" in r.output  # the table is printed beside the plots
    assert "population → births" in r.output
    for lp in doc["loops"]:
        assert len(lp["p_dominant"]) == len(doc["time"])
        assert all(0 <= v <= 1 for v in lp["p_dominant"])
    assert png.stat().st_size > 10_000
    assert (tmp_path / "l_cld.png").stat().st_size > 5_000


def test_dates_where_the_model_has_an_origin(tmp_path: Path) -> None:
    out = tmp_path / "l.json"
    r = runner.invoke(app, ["loops", "logistic", "--json", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert isinstance(doc["time"][0], str)
    assert doc["time"][0][:4].isdigit()
    assert doc["dominant_periods"][0]["start"] in doc["time"]


def test_xmile_model(tmp_path: Path) -> None:
    import quidpro

    xmile = tmp_path / "yeast.xmile"
    xmile.write_text(model_to_xmile(quidpro.load(DATA / "yeast.yaml").spec))
    out = tmp_path / "x.json"
    r = runner.invoke(app, ["loops", str(xmile), "--json", str(out)])
    assert r.exit_code == 0, r.output
    assert len(json.loads(out.read_text())["loops"]) == 4


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["loops", "logistic", "--json", "x.txt"], 2, "--json must end in .json"),
        (["loops", "logistic", "--runs", "0"], 2, "at least 1"),
        (["loops", "logistic", "--scenario", "nope"], 2, "unknown scenario"),
        (["loops", "logistic", "--set", "nope=1"], 2, "not a constant"),
        (["loops", "no_such_model.yaml"], 1, "no such model"),
        (["loops", "logistic", "--bogus"], 2, "No such option"),
        (["loops", "logistic", "--prior", "--posterior", "p.parquet"], 2, "exclude each other"),
        (["loops", "logistic", "--runs", "3", "--posterior", "nope.parquet"], 1, "not found"),
    ],
)
def test_errors_are_one_line_with_the_right_exit_code(args, code, text) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == code
    assert text in r.output
    assert "Traceback" not in r.output


TANK = """quidpro: 1
name: tank
time: {start: 0, stop: 10, dt: 1}
constants: {rate: 2}
stocks:
  water: {initial: 0, inflows: [filling]}
flows:
  filling: rate
"""


@pytest.mark.parametrize("runs", ["1", "4"])
def test_model_without_feedback_loops(tmp_path: Path, runs: str) -> None:
    model = tmp_path / "tank.yaml"
    model.write_text(TANK)
    out, png = tmp_path / "t.json", tmp_path / "t.png"
    r = runner.invoke(
        app, ["loops", str(model), "--runs", runs, "--json", str(out), "--plot", str(png)]
    )
    assert r.exit_code == 0, r.output
    assert "tank: no feedback loops" in r.output
    assert "no plot written" in r.output
    assert not png.exists()
    doc = json.loads(out.read_text())
    assert doc["loops"] == []
    assert doc["dominant_periods"] == []
    assert len(doc["time"]) == 11
    assert set(doc) == {"time", "loops", "dominant_periods"} | ({"basis"} if runs != "1" else set())


LOGISTIC = """quidpro: 1
name: logistic_loops
time: {start: 0, stop: 100, dt: 0.5}
constants:
  growth_rate: {value: 0.1, distribution: {kind: uniform, low: 0.05, high: 0.2}}
  capacity: 1000
stocks:
  population: {initial: 10, inflows: [births]}
flows:
  births: growth_rate * population * room
auxiliaries:
  room: 1 - population / capacity
"""


def test_posterior_file_is_the_basis_of_the_members(tmp_path: Path) -> None:
    from quidpro.ensemble.posterior import PosteriorTable, write_posterior

    model, post = tmp_path / "logistic.yaml", tmp_path / "post.parquet"
    model.write_text(LOGISTIC)
    write_posterior(PosteriorTable(("growth_rate",), np.array([[0.08], [0.12]])), post)
    out = tmp_path / "p.json"
    args = ["loops", str(model), "--runs", "20", "--seed", "4", "--json", str(out)]
    r = runner.invoke(app, [*args, "--posterior", str(post)])
    assert r.exit_code == 0, r.output
    assert "20 members drawn from the posterior (2 draws of 1 constants), seed 4" in r.output
    doc = json.loads(out.read_text())
    assert doc["basis"] == "posterior"
    # Growth rates 0.08 and 0.12 only: the reinforcing loop dominates each member until
    # its population passes K/2, at t = ln(99) / r (57.4 or 38.3 months), then never.
    r1 = next(lp for lp in doc["loops"] if lp["polarity"] == "R")
    t, p = np.asarray(doc["time"]), np.asarray(r1["p_dominant"])
    assert np.all(p[(t > 1) & (t < 37)] == 1.0)
    assert np.all(p[t > 59] == 0.0)
    mid = p[(t > 40) & (t < 56)]
    assert np.all((mid > 0) & (mid < 1))
    assert len(set(mid)) == 1  # the same members (those with r = 0.12) have crossed
    # One run with --prior: the flags only apply with --runs.
    r = runner.invoke(app, ["loops", str(model), "--prior"])
    assert r.exit_code == 0, r.output
    assert "apply with --runs N" in r.output
