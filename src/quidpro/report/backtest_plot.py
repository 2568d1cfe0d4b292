"""Back-test figure: forecasts against what was observed after each cutoff.

Each indicator's forecasts (90% interval and median, one colour per cutoff) against
the observations (Agg backend).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from quidpro.model.spec import Model
from quidpro.report.plain_figure import save_figure

COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown")
MARKERS = {"estimate_low": "^", "estimate_high": "v"}
OBSERVED = {"o": "observed", "^": "observed lower bound", "v": "observed upper bound"}


def _x(date: str, dated: bool) -> Any:
    if not dated:
        return float(date)
    if len(date) == 4:
        return pd.Timestamp(f"{date}-07-01")
    if len(date) == 7:
        return pd.Timestamp(f"{date}-15")
    return pd.Timestamp(date)


def plot_backtest(
    doc: Mapping[str, Any], model: Model, path: Path, units: Mapping[str, str] | None = None
) -> None:
    """Write the figure of a ``backtest`` document to ``path`` (PNG)."""
    indicators = list(
        dict.fromkeys(r["indicator"] for c in doc["cutoffs"] for r in c["observations"])
    )
    n = max(len(indicators), 1)
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 3.6 * rows + 0.6), squeeze=False)
    dated = model.time.origin is not None
    shift = pd.Timedelta(days=6) if dated else 0.05 * model.time.dt
    for ax, ind in zip(axes.flat, indicators, strict=False):
        for k, c in enumerate(doc["cutoffs"]):
            colour = COLOURS[k % len(COLOURS)]
            obs = [r for r in c["observations"] if r["indicator"] == ind]
            for j, r in enumerate(obs):
                x = _x(r["date"], dated) + (k - 0.5 * (len(doc["cutoffs"]) - 1)) * shift
                label = f"forecast from {c['cutoff']} (5-95%)" if j == 0 else None
                ax.vlines(x, r["q05"], r["q95"], color=colour, lw=2.2, alpha=0.7, label=label)
                ax.plot([x], [r["q50"]], "_", color=colour, ms=12, mew=2)
            if dated:
                ax.axvline(pd.Timestamp(c["cutoff"]), color=colour, ls=":", lw=1)
        shown: set[str] = set()
        labelled: set[str] = set()
        for r in (r for c in doc["cutoffs"] for r in c["observations"] if r["indicator"] == ind):
            if r["id"] in shown:
                continue
            shown.add(r["id"])
            marker = MARKERS.get(r["kind"], "o")
            text = OBSERVED[marker] if marker not in labelled else None
            labelled.add(marker)
            ax.plot(
                [_x(r["date"], dated)], [r["observed"]], marker, color="black", ms=6, label=text
            )
        ax.set_title(ind, fontsize=10)
        unit = (units or {}).get(ind)
        if unit:
            ax.set_ylabel(unit)
        if dated:
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
            ax.tick_params(axis="x", rotation=30)
        else:
            ax.set_xlabel(model.time.units or "time")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[len(indicators) :]:
        ax.set_visible(False)
    fig.suptitle(f"{model.title or model.name}: back-test (dotted lines: cutoffs)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=110)
    plt.close(fig)
