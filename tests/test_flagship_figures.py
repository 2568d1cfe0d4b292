"""The figure scripts run from a clone and write every figure (so they cannot rot)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "nk_russia_figures.py"


@pytest.mark.slow
def test_the_figures_script_writes_every_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), "--out", str(tmp_path), "--runs", "8"])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert done.value.code == 0
    names = {p.name for p in tmp_path.glob("*.png")}
    expected = {
        "nk_causal_loop_diagram.png",
        "nk_claim_links_full.png",
        "nk_scenarios_overview.png",
        "nk_loop_c9.png",
        "nk_uncertainty.png",
        *(f"nk_scenario_{s}.png" for s in ("ceasefire_2025", "sk_arms_ukraine")),
    }
    assert expected <= names
    for name in names:
        assert (tmp_path / name).stat().st_size > 10_000, name


ENSEMBLE_SCRIPT = SCRIPT.parent / "ensemble_figures.py"


@pytest.mark.slow
def test_the_ensemble_figures_script_writes_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    small = ["--runs", "16", "--compare-runs", "8", "--samples", "2"]
    monkeypatch.setattr(sys, "argv", [str(ENSEMBLE_SCRIPT), "--out", str(tmp_path), *small])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ENSEMBLE_SCRIPT), run_name="__main__")
    assert done.value.code == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"ensemble_fan.png", "ensemble_compare.png", "ensemble_sobol.png"}
    for name in names:
        assert (tmp_path / name).stat().st_size > 10_000, name
    assert "sobol sensitivity of containers_shipped" in capsys.readouterr().out
