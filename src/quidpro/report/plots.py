"""Static plots of runs (matplotlib, Agg backend: works without a display).

Each variable gets a panel titled with its plain label and its units on the y axis;
the x axis shows dates where the model has ``time.origin``; the model's dated events
are dashed lines and observations (evidence) are points. Tick labels follow the
number policy of :mod:`quidpro.report.numbers`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter

from quidpro.model.spec import Model
from quidpro.report.labels import dated_events, label_of, merge_close
from quidpro.report.numbers import fmt_number
from quidpro.report.plain_figure import PLAIN_TEXT, save_figure

Observation = tuple[Any, float]  # (time or date, value)


def _units(spec: Model | None, name: str) -> str:
    if spec is None:
        return ""
    obj = spec.stocks.get(name) or spec.variables.get(name)
    return getattr(obj, "units", None) or ""


def _x_of(spec: Model | None, df: pd.DataFrame, time: float) -> Any:
    """Chart x of a model time: its date when the run has dates."""
    if "dates" not in df.attrs or spec is None or spec.time.origin is None:
        return time
    origin = spec.time.origin
    from quidpro.model.calendar import to_dates

    t = spec.time
    return to_dates([time], origin, t.units, t.start)[0]


def _grouped(events: list[dict[str, Any]], spec: Model | None) -> list[tuple[float, str]]:
    """Events closer than 3% of the run under one label (see :func:`merge_close`)."""
    if spec is None:
        return []
    gap = 0.03 * (spec.time.stop - spec.time.start)
    return merge_close([(e["time"], e["label"]) for e in events], lambda a, b: b - a < gap)


# Panels per row by number of panels (one panel alone): up to 4 → 2, up to 12 → 3, else 4.
COLUMNS = ((4, 2), (12, 3), (math.inf, 4))


@matplotlib.rc_context(PLAIN_TEXT)
def plot_run(
    df: pd.DataFrame,
    variables: Sequence[str],
    path: str | Path,
    title: str = "",
    time_label: str = "time",
    *,
    spec: Model | None = None,
    observations: Mapping[str, Sequence[Observation]] | None = None,
) -> None:
    """One small panel per variable, sharing the time axis, written to ``path`` (PNG).

    Args:
        df: A run (``LoadedModel.run``): a column per variable, ``attrs["dates"]``
            when the model has dates.
        variables: The columns to draw, in order.
        path: The PNG to write.
        title: The figure's title.
        time_label: The x axis label when there are no dates.
        spec: The model, for labels, units and dated events (optional).
        observations: Per variable, (time or date, value) points to draw.
    """
    fig = run_figure(df, variables, title, time_label, spec=spec, observations=observations)
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def run_figure(
    df: pd.DataFrame,
    variables: Sequence[str],
    title: str = "",
    time_label: str = "time",
    *,
    spec: Model | None = None,
    observations: Mapping[str, Sequence[Observation]] | None = None,
) -> Any:
    """The figure of :func:`plot_run` (a matplotlib Figure; the caller closes it)."""
    n = len(variables)
    cols = 1 if n == 1 else next(c for limit, c in COLUMNS if n <= limit)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(4.4 * cols, 2.8 * rows + 0.3),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    x = df.attrs.get("dates", df.index)
    events = dated_events(spec) if spec is not None else []
    ticks = FuncFormatter(lambda v, _: fmt_number(v, 3))
    for ax, name in zip(axes.flat, variables, strict=False):
        ax.plot(x, df[name].to_numpy(), lw=1.6, color="#1f5f8b", label="model")
        for e in events:
            ax.axvline(_x_of(spec, df, e["time"]), color="0.55", lw=0.8, ls="--", zorder=0)
        points = (observations or {}).get(name, ())
        if points:
            ax.scatter(
                *zip(*points, strict=True), s=16, color="#d9822b", zorder=3, label="observed"
            )
        ax.set_title(label_of(spec, name), fontsize=9)
        units = _units(spec, name)
        if units:
            ax.set_ylabel(units, fontsize=8)
        ax.yaxis.set_major_formatter(ticks)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("date" if "dates" in df.attrs else time_label, fontsize=8)
    if events:
        top = axes.flat[0]
        for t, label in _grouped(events, spec):
            top.annotate(
                label,
                (_x_of(spec, df, t), 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(0, -2),
                textcoords="offset points",
                rotation=90,
                fontsize=6,
                color="0.4",
                ha="right",
                va="top",
            )
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
