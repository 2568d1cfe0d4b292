"""The model against its evidence: one panel per observed indicator (Agg backend).

Each panel shows the model's reading of the indicator (its ``observations:``
expression) over the dates of the evidence: the baseline run, or the 5–95% band and
median of a posterior ensemble when the model has a posterior. Values are points
(an annual value is a bar across its year), lower bounds are upward arrows and upper
bounds downward ones, estimates of the same indicator on the same date are drawn
side by side, and every event of the ledger is a dated vertical line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from quidpro.analysis.likelihood import indicator_series
from quidpro.ensemble.posterior import PosteriorTable
from quidpro.ensemble.sampling import draw
from quidpro.evidence.ledger import Ledger, Row
from quidpro.model.calendar import to_dates
from quidpro.model.overrides import constant_overrides
from quidpro.report.labels import merge_close
from quidpro.report.plain_figure import save_figure
from quidpro.solve.simulate import Compiled, simulate

_ARROW = 0.12  # arrow length, as a share of the panel's value range


def model_bands(
    compiled: Compiled,
    indicators: Sequence[str],
    posterior: PosteriorTable | None,
    runs: int,
    seed: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Saved times and, per indicator, an array (3, time) of its 5%, 50%, 95%.

    All three are the baseline run when there is no posterior.
    """
    spec = compiled.model
    obs = [spec.observations[i] for i in indicators]
    record = tuple(dict.fromkeys(n for o in obs for n in _names(o, spec)))
    if posterior is None:
        traj = simulate(compiled, {}, 1, record=record)
    else:
        members = draw(spec, runs, seed, posterior=posterior).rows(0, runs)
        traj = simulate(compiled, constant_overrides(spec, None, members), runs, record=record)
    series = {n: traj.values[:, j, :] for j, n in enumerate(traj.names)}
    out = {}
    for o in obs:
        y = indicator_series(o, traj.times, series, spec)
        with np.errstate(all="ignore"):
            out[o.indicator] = np.nanquantile(y, [0.05, 0.5, 0.95], axis=1)
    return traj.times, out


def _names(obs: Any, spec: Any) -> list[str]:
    from quidpro.lang.ast import names

    visible = {*spec.stocks, *spec.flows, *spec.auxiliaries}
    return sorted(n for n in names(obs.expression) if n in visible)


def _when(row: Row) -> pd.Timestamp:
    assert row.date is not None
    return pd.Timestamp(row.date.middle)


def plot_evidence(
    compiled: Compiled,
    ledger: Ledger,
    path: Path,
    *,
    posterior: PosteriorTable | None = None,
    runs: int = 200,
    seed: int = 0,
    title: str | None = None,
) -> list[str]:
    """Draw the figure; returns the indicators shown (those the model observes)."""
    spec = compiled.model
    t = spec.time
    if t.origin is None or not ledger.dated:
        raise ValueError("the evidence plot needs a model with time.origin and a dated ledger")
    rows = [r for r in ledger if r.date is not None]
    shown = [i for i in ledger.indicators() if i in spec.observations]
    if not shown:
        raise ValueError("the model observes none of the ledger's indicators")
    times, bands = model_bands(compiled, shown, posterior, runs, seed)
    dates = to_dates(times, t.origin, t.units, t.start)
    first, last = to_dates([t.start, t.stop], t.origin, t.units, t.start)
    events = [r for r in rows if r.kind == "event" and first <= _when(r) <= last]
    units: Mapping[str, str] = {r.indicator: r.fields.get("unit", "") for r in rows}
    cols = 1 if len(shown) == 1 else 2
    nrows = math.ceil(len(shown) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6.8 * cols, 3.9 * nrows + 0.8), squeeze=False)
    for ax, ind in zip(axes.flat, shown, strict=False):
        mine = [r for r in rows if r.indicator == ind and r.value is not None and r.kind != "event"]
        lo = min(r.date.start for r in mine if r.date) if mine else first.date()
        hi = max(r.date.end for r in mine if r.date) if mine else last.date()
        x0 = max(pd.Timestamp(lo) - pd.DateOffset(months=6), first)
        x1 = min(pd.Timestamp(hi) + pd.DateOffset(months=6), last)
        window = (dates >= x0) & (dates <= x1)
        q = bands[ind]
        if posterior is not None:
            ax.fill_between(dates[window], q[0][window], q[2][window], color="tab:blue",
                            alpha=0.25, lw=0, label="posterior 5-95%")  # fmt: skip
            ax.plot(dates[window], q[1][window], color="tab:blue", lw=1.5, label="posterior median")
        else:
            ax.plot(dates[window], q[1][window], color="tab:blue", lw=1.5, label="model (baseline)")
        _rows(ax, mine, spec.observations[ind].period)
        shown_events = [ev for ev in events if x0 <= _when(ev) <= x1]
        for ev in shown_events:
            ax.axvline(_when(ev), color="grey", lw=0.7, ls="--", alpha=0.6)
        marks = [(_when(ev), ev.id) for ev in shown_events]
        for at, label in merge_close(marks, _near(0.03 * (x1 - x0)), most=2):
            ax.annotate(label, (at, 1.0), xycoords=("data", "axes fraction"), fontsize=6,
                        color="grey", rotation=90, va="top", ha="right")  # fmt: skip
        ax.set_title(ind, fontsize=10)
        ax.set_ylabel(units.get(ind) or "value")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
        ax.tick_params(axis="x", rotation=30, labelsize=8)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_visible(False)
    fig.suptitle(
        (title or spec.title or spec.name)
        + "\nevidence: points = values, arrows = bounds, bars = annual values, dashed = events",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=110)
    plt.close(fig)
    return shown


def _near(gap: pd.Timedelta) -> Callable[[pd.Timestamp, pd.Timestamp], bool]:
    """Whether a date is within ``gap`` of an earlier one (3% of a panel: a label's height)."""
    return lambda a, b: bool(b - a < gap)


def _rows(ax: Any, rows: Sequence[Row], period: str) -> None:
    """Values, bounds and annual bars; rows sharing a date sit side by side."""
    by_day: dict[pd.Timestamp, list[Row]] = {}
    for r in rows:
        by_day.setdefault(_when(r), []).append(r)
    top = max((r.value or 0.0) for r in rows) if rows else 1.0
    labelled: set[str] = set()
    for day, group in by_day.items():
        for k, r in enumerate(group):
            assert r.value is not None
            assert r.date is not None
            x = day + pd.Timedelta(days=9 * (k - 0.5 * (len(group) - 1)))
            colour = {"low": "tab:gray", "medium": "tab:red", "high": "darkred"}.get(
                r.confidence or "high", "darkred"
            )
            kind = {"estimate_low": "lower bound", "estimate_high": "upper bound"}.get(
                r.kind, "value"
            )
            label = None if kind in labelled else f"observed {kind}"
            labelled.add(kind)
            if kind == "value" and period == "year" and r.date.precision == "year":
                ax.hlines(r.value, pd.Timestamp(r.date.start), pd.Timestamp(r.date.end),
                          color=colour, lw=3, label=label)  # fmt: skip
            elif kind == "value":
                ax.plot([x], [r.value], "o", color=colour, ms=5, label=label)
            else:
                sign = 1 if r.kind == "estimate_low" else -1
                arrow = {"arrowstyle": "->", "color": colour, "lw": 1.5}
                ax.annotate("", (x, r.value + sign * _ARROW * top), (x, r.value), arrowprops=arrow)
                ax.plot([x], [r.value], "_", color=colour, ms=9, mew=2, label=label)
            ax.annotate(r.id, (x, r.value), fontsize=5.5, xytext=(3, 2), textcoords="offset points")
