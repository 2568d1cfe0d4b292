"""Plot of a scenario discovery: PRIM's peeling trajectory and the box it chose."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from quidpro.analysis.discover import Discovery
from quidpro.report.plain_figure import save_figure


def plot_discovery(d: Discovery, path: Path) -> None:
    """Coverage against density along the peeling (left), the box's ranges (right)."""
    names = _tightest(d)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, max(4.2, 0.32 * len(names) + 1.8)))
    cov = [r["coverage"] for r in d.trajectory]
    den = [r["density"] for r in d.trajectory]
    dims = [r["res dim"] for r in d.trajectory]
    sc = ax.scatter(cov, den, c=dims, cmap="viridis", s=18)
    ax.plot([d.coverage], [d.density], "o", mfc="none", mec="red", ms=12, label="chosen box")
    ax.set_xlabel("coverage (share of cases of interest in the box)")
    ax.set_ylabel("density (share of the box that is of interest)")
    ax.set_title("PRIM peeling trajectory")
    fig.colorbar(sc, ax=ax, label="constants restricted")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    for i, n in enumerate(names):
        s_lo, s_hi = d.ranges[n]
        lo, hi = d.box[n]
        width = (s_hi - s_lo) or 1.0
        ax2.barh(i, 1.0, left=0.0, color="0.9")
        ax2.barh(i, (hi - lo) / width, left=(lo - s_lo) / width, color="tab:red")
        ax2.text(1.02, i, f"{lo:.3g} .. {hi:.3g}", va="center", fontsize=8)
    ax2.set_yticks(range(len(names)), names, fontsize=8)
    ax2.set_xlim(0, 1.35)
    ax2.set_xlabel("position within the sampled range")
    hidden = len(d.box) - len(names)
    more = f"; {hidden} more constants cut by less than 10%" if hidden else ""
    ax2.set_title(
        f"box: {d.condition}\nholds in {d.share:.0%} of {d.runs} members{more}", fontsize=9
    )
    fig.tight_layout()
    save_figure(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _tightest(d: Discovery, cut: float = 0.9, most: int = 15) -> list[str]:
    """Restricted constants whose box spans at most ``cut`` of the sampled range.

    The tightest come first, at most ``most`` of them.
    """

    def share(n: str) -> float:
        lo, hi = d.box[n]
        s_lo, s_hi = d.ranges[n]
        return (hi - lo) / (s_hi - s_lo) if s_hi > s_lo else 1.0

    tight = sorted((n for n in d.box if share(n) <= cut), key=share)
    return list(reversed(tight[:most]))  # barh draws bottom-up: tightest on top


__all__ = ["plot_discovery"]
