"""Plot of a loop analysis: relative loop scores over time, and p_dominant over an ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

from quidpro.analysis.loops import LoopAnalysis, LoopReport
from quidpro.model.calendar import to_dates
from quidpro.report.plain_figure import save_figure

MAX_LINES = 8  # loops drawn; the rest are summed into one grey "other loops" line


def ranked(analysis: LoopAnalysis) -> list[LoopReport]:
    """Loops by mean absolute relative score, largest first (named loops kept in)."""
    return sorted(analysis.loops, key=lambda lp: -float(np.mean(np.abs(lp.relative_score))))


def _x(analysis: LoopAnalysis) -> tuple[Any, str]:
    t = analysis.model.time
    if t.origin is not None:
        return to_dates(analysis.times, t.origin, t.units, t.start), "date"
    return analysis.times, f"time ({t.units})" if t.units else "time"


def plot_loops(analysis: LoopAnalysis, path: Path, title: str | None = None) -> None:
    """Relative loop scores (top) and, with an ensemble, p_dominant (bottom) to PNG."""
    loops = ranked(analysis)
    shown = loops[:MAX_LINES]
    named = [lp for lp in loops[MAX_LINES:] if lp.name]
    shown += named
    rest = [lp for lp in loops if lp not in shown]
    x, xlabel = _x(analysis)
    ensemble = any(lp.p_dominant is not None for lp in shown)
    rows = 2 if ensemble else 1
    fig, axes = plt.subplots(rows, 1, figsize=(10, 4.2 * rows), sharex=True, squeeze=False)
    ax = axes[0, 0]
    colours = plt.get_cmap("tab10")
    for i, lp in enumerate(shown):
        style = "-" if lp.polarity == "R" else "--"
        ax.plot(x, lp.relative_score, style, color=colours(i % 10), lw=1.6, label=_label(lp))
    if rest:
        other = np.sum([lp.relative_score for lp in rest], axis=0)
        ax.plot(x, other, ":", color="0.55", lw=1.2, label=f"{len(rest)} other loops (sum)")
    ax.axhline(0, color="0.3", lw=0.6)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("relative loop score\n(+ reinforcing, − balancing)")
    ax.set_title(title or f"{analysis.model.title or analysis.model.name}: loops that matter")
    ax.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.grid(alpha=0.3)
    if ensemble:
        ax2 = axes[1, 0]
        for i, lp in enumerate(shown):
            if lp.p_dominant is not None:
                ax2.plot(x, lp.p_dominant, color=colours(i % 10), lw=1.4, label=lp.label)
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_ylabel(f"share of {analysis.runs} members\nwhere the loop dominates")
        ax2.grid(alpha=0.3)
    axes[-1, 0].set_xlabel(xlabel)
    if xlabel == "date":
        axes[-1, 0].xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    fig.tight_layout()
    save_figure(fig, path, dpi=130, bbox_inches="tight")
    plt.close(fig)


def _label(lp: LoopReport) -> str:
    chain = " → ".join(lp.variables)
    if len(chain) > 60:
        chain = chain[:57] + "…"
    head = lp.label + (f" [{lp.claim}]" if lp.claim else "")
    return f"{head}: {chain}"


__all__ = ["plot_loops", "ranked"]
