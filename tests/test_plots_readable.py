"""run --plot: any variables, plain titles, units on the axes, dates, events, observations."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from typer.testing import CliRunner

import quidpro
from quidpro.cli.main import app
from quidpro.report.labels import dated_events
from quidpro.report.plots import run_figure


def test_panels_have_labels_units_dates_events_and_points() -> None:
    m = quidpro.load("nk_russia")
    df = m.run(backend="numpy")
    obs = {
        "containers_shipped": [
            (pd.Timestamp("2023-10-13"), 1000.0),
            (pd.Timestamp("2024-03-18"), 7000.0),
        ]
    }
    fig = run_figure(
        df, ["containers_shipped", "partnership_intensity"], "t", spec=m.spec, observations=obs
    )
    try:
        a, b = fig.axes[:2]
        assert a.get_title() == "Containers shipped to Russia"  # its label in the file
        assert a.get_ylabel() == "containers"
        assert b.get_ylabel() == "dimensionless"
        assert a.get_xlabel() == b.get_xlabel() == "date"  # one row: both are the bottom
        n_events = len(dated_events(m.spec))
        assert n_events >= 3
        dashed = [ln for ln in a.get_lines() if ln.get_linestyle() == "--"]
        assert len(dashed) == n_events
        offsets = a.collections[0].get_offsets()
        assert len(offsets) == 2
        assert list(offsets[:, 1]) == [1000.0, 7000.0]
        ticks = [t.get_text() for t in a.get_yticklabels()]
        assert any("," in t for t in ticks)  # thousands separators on the axis
    finally:
        plt.close(fig)


def test_run_plot_takes_vars(tmp_path: Path) -> None:
    out = tmp_path / "run.png"
    r = CliRunner().invoke(
        app,
        [
            "run",
            "nk_russia",
            "--plot",
            str(out),
            "--no-store",
            "-q",
            "--vars",
            "containers_per_month,nk_missile_launches_per_year",
        ],
    )
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    r = CliRunner().invoke(
        app, ["run", "nk_russia", "--plot", str(out), "--no-store", "--vars", "nope"]
    )
    assert r.exit_code == 2
    assert "--vars: 'nope' is not a variable" in r.output


def test_event_labels_stay_inside_the_panel_and_off_each_other() -> None:
    m = quidpro.load("nk_russia")
    df = m.run(backend="numpy")
    fig = run_figure(df, list(m.compiled.system.visible)[:16], "t", spec=m.spec)
    try:
        fig.canvas.draw()
        top = fig.axes[0]
        box = top.get_window_extent()
        labels = [t.get_window_extent() for t in top.texts]
        assert len(labels) >= 4
        for b in labels:  # vertical text hung from the top: within the panel's height
            assert b.y0 >= box.y0 - 1, (b, box)
            assert b.y1 <= box.y1 + 1, (b, box)
        for i, a in enumerate(labels):
            for b in labels[i + 1 :]:
                assert not a.overlaps(b), (a, b)
    finally:
        plt.close(fig)


def test_close_marks_merge_under_one_label_that_wraps_and_counts_the_rest() -> None:
    from quidpro.report.labels import LABEL_CHARS, merge_close

    marks = [(0.0, "a"), (10.0, "far"), (0.5, "b" * 30), (1.0, "c" * 30), (1.4, "d")]
    merged = merge_close(marks, lambda a, b: b - a < 1.5)
    assert [at for at, _ in merged] == [0.0, 10.0]  # anchored at each group's first mark
    assert merged[0][1].split("\n") == ["a / " + "b" * 30, "c" * 30 + " / d"]
    assert all(len(line) <= LABEL_CHARS for line in merged[0][1].split("\n"))
    assert merged[1][1] == "far"
    assert merge_close(marks, lambda a, b: b - a < 1.5, most=2)[0][1].endswith(" +2")
