"""``quidpro evidence``: the ledger table (fitted or why not), the plot, errors."""

from __future__ import annotations

from pathlib import Path

from tests.calib_models import write_ledger, write_syn
from typer.testing import CliRunner

from quidpro.cli.main import app

runner = CliRunner()


def test_evidence_table_and_plot(tmp_path: Path) -> None:
    model, ledger = write_syn(tmp_path)
    png = tmp_path / "ev.png"
    r = runner.invoke(app, ["evidence", str(model), "--evidence", str(ledger), "--plot", str(png)])
    assert r.exit_code == 0, r.stderr
    assert "P06" in r.stdout
    assert "no: event (shown, never fitted)" in r.stdout
    assert "8 rows fitted" in r.stdout
    assert png.stat().st_size > 10_000


def test_evidence_of_the_flagship_defaults_to_its_ledger() -> None:
    r = runner.invoke(app, ["evidence", "nk_russia", "--indicator", "containers_shipped_nk_to_ru"])
    assert r.exit_code == 0, r.stderr
    assert "OBS0023" in r.stdout
    assert "nk_russia.evidence.csv" in r.stdout


def test_evidence_errors(tmp_path: Path) -> None:
    model, ledger = write_syn(tmp_path)
    bad = write_ledger(tmp_path / "bad.csv", [["A", "2021", "x", "1", "count", "certain", "s"]])
    r = runner.invoke(app, ["evidence", str(model), "--evidence", str(bad)])
    assert r.exit_code == 1
    assert f"{bad}:2: A: unknown confidence 'certain'" in r.stderr
    r = runner.invoke(app, ["evidence", str(model), "--evidence", str(ledger), "--indicator", "x"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["evidence", str(model), "--evidence", str(tmp_path / "none.csv")])
    assert r.exit_code == 1
    assert "cannot read the evidence file" in r.stderr
