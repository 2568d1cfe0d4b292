"""scripts/nk_russia_figures.py runs from a clone and writes every figure (so it cannot rot)."""

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
