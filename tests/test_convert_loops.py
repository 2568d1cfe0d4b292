"""``quidpro convert`` keeps a model's named loops (the ``loops:`` section)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from quidpro.cli.main import app
from quidpro.io.load import read_model
from quidpro.model.loops_spec import LoopName

NAMED = """
quidpro: 1
name: named_loops
time: {start: 0, stop: 10, dt: 0.5}
constants: {growth_rate: 0.1, capacity: 1000}
stocks:
  population: {initial: 10, inflows: [births]}
flows:
  births: growth_rate * population * room
auxiliaries:
  room: 1 - population / capacity
loops:
  crowding:
    claim: C1
    polarity: B
    variables: [population, room]
    doc: "Room runs out as the population grows."
  growth:
    variables: [births]
"""


def test_yaml_to_yaml_keeps_the_loops_section(tmp_path: Path) -> None:
    src = tmp_path / "named.yaml"
    src.write_text(NAMED)
    out = tmp_path / "again.yaml"
    result = CliRunner().invoke(app, ["convert", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "loops:" in out.read_text()
    before, after = read_model(src).loops, read_model(out).loops
    assert list(after) == ["crowding", "growth"]
    assert after == before  # every field but the file position
    assert all(isinstance(v, LoopName) for v in after.values())
    assert after["crowding"].claim == "C1"
    assert after["growth"].polarity is None


def test_flagship_to_yaml_keeps_the_c9_loop(tmp_path: Path) -> None:
    out = tmp_path / "nk.yaml"
    result = CliRunner().invoke(app, ["convert", "nk_russia", "-o", str(out)])
    assert result.exit_code == 0, result.output
    c9 = read_model(out).loops["c9_arms_for_resources"]
    assert c9 == read_model("nk_russia").loops["c9_arms_for_resources"]
    assert c9.loc.line > 0  # errors in the converted file point into it
    assert Path(c9.loc.file).name == out.name


def test_yaml_to_xmile_keeps_loops_as_documentation_and_says_so(tmp_path: Path) -> None:
    src = tmp_path / "named.yaml"
    src.write_text(NAMED)
    out = tmp_path / "named.xmile"
    result = CliRunner().invoke(app, ["convert", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 named loop(s) kept as documentation only" in result.output
    text = out.read_text()
    assert "Loop crowding: population -&gt; room (claim C1, B)" in text
    assert "Loop growth: births" in text
    back = read_model(out)
    assert back.loops == {}  # a documented loss: XMILE has no named loops
    assert set(back.stocks) == {"population"}
