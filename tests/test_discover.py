"""Scenario discovery (PRIM) on a function with a known box."""

from __future__ import annotations

import itertools
import json

import pytest
from typer.testing import CliRunner

import quidpro
from quidpro.analysis.discover import discover
from quidpro.cli.main import app
from quidpro.errors import ConfigError

BOX = """
quidpro: 1
name: known_box
time: {start: 0, stop: 2, dt: 1}
constants:
  a: {value: 0.5, distribution: {kind: uniform, low: 0, high: 1}}
  b: {value: 0.5, distribution: {kind: uniform, low: 0, high: 1}}
  c: {value: 0.5, distribution: {kind: uniform, low: 0, high: 1}}
stocks:
  s: {initial: 0, inflows: [f]}
flows:
  f: inside
auxiliaries:
  inside: if(a > 0.6 and b < 0.3, 1, 0)
"""


def test_prim_finds_the_known_box(write_model) -> None:
    m = quidpro.load(write_model(BOX))
    d = discover(m, "s > 0.5 at 2", runs=3000, seed=7)
    assert d.share == pytest.approx(0.4 * 0.3, abs=0.03)
    assert set(d.box) == {"a", "b"}  # c does not matter
    assert d.box["a"][0] == pytest.approx(0.6, abs=0.03)
    assert d.box["b"][1] == pytest.approx(0.3, abs=0.03)
    assert d.density > 0.9
    assert d.coverage > 0.8
    cov = [row["coverage"] for row in d.trajectory]
    assert cov[0] == 1.0  # peeling starts from the whole sample
    assert all(x >= y - 1e-12 for x, y in itertools.pairwise(cov))


def test_discover_cli_json_and_errors(write_model, tmp_path) -> None:
    path = write_model(BOX)
    out = tmp_path / "d.json"
    r = CliRunner().invoke(
        app,
        [
            "discover",
            str(path),
            "--where",
            "s > 0.5 at 2",
            "--runs",
            "1500",
            "--seed",
            "3",
            "--json",
            str(out),
            "--plot",
            str(tmp_path / "d.png"),
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert {"condition", "runs", "box", "coverage", "density", "peeling_trajectory"} <= set(doc)
    assert doc["box"]["a"]["low"] == pytest.approx(0.6, abs=0.05)
    assert (tmp_path / "d.png").stat().st_size > 0
    bad = CliRunner().invoke(app, ["discover", str(path), "--where", "s at 2"])
    assert bad.exit_code == 2
    assert "comparison" in bad.output
    with pytest.raises(ConfigError, match="comparison"):
        discover(quidpro.load(path), "s + 1 at 2", runs=10)
