"""The flagship's scenario levers (dates and switches) are never sampled, and a lever
date can be typed as a date: issue 8, deliverables 7 and 8, on the flagship itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

import quidpro
from quidpro.analysis.calibrate import default_params
from quidpro.analysis.sensitivity import problem
from quidpro.cli.main import app
from quidpro.ensemble.posterior import model_posterior
from quidpro.ensemble.sampling import draw


def test_no_command_samples_a_lever() -> None:
    m = quidpro.load("nk_russia")
    spec = m.spec
    levers = {n for n, c in spec.constants.items() if c.lever}
    assert {"ceasefire_time", "veto_end_time", "loop_c9_strength"} <= levers
    assert not levers & set(problem(spec)["names"])  # sensitivity, prior bounds
    table = model_posterior(spec)
    assert table is not None
    assert not levers & set(problem(spec, posterior=table)["names"])  # with the posterior
    assert not levers & set(default_params(m))  # calibrate
    for posterior in (None, table):  # ensemble, from the prior and the posterior
        assert not levers & set(draw(spec, 4, 1, posterior=posterior).rows(0, 4))


def test_set_a_lever_by_date(tmp_path: Path) -> None:
    """`--set ceasefire_time=2025-07-01` is month 78 of a model that starts in 2019."""
    runner = CliRunner()
    out = {}
    for label, value in (("date", "2025-07-01"), ("months", "78")):
        path = tmp_path / f"{label}.csv"
        args = ["run", "nk_russia", "--set", f"ceasefire_time={value}", "--no-store"]
        res = runner.invoke(app, [*args, "--out", str(path)])
        assert res.exit_code == 0, res.output
        out[label] = pd.read_csv(path)
    assert "date" in out["date"].columns
    pd.testing.assert_frame_equal(out["date"], out["months"])
    war = out["date"].set_index("date")["war_intensity"]
    assert war["2025-06-01"] > 0.5  # the fighting goes on until July 2025,
    assert war["2025-07-01"] > war["2025-08-01"] > war["2025-09-01"]  # then winds down
    assert np.all(war.loc["2026-01-01":] < 0.01)
