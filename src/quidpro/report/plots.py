"""Static plots of runs (matplotlib, Agg backend: works without a display)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

#: Model text (names, units, titles) is drawn as written: ``$x^{$`` is not mathtext.
PLAIN_TEXT: Any = {"text.parse_math": False, "text.usetex": False}

# Panels per row by number of panels (one panel alone): up to 4 → 2, up to 12 → 3, else 4.
COLUMNS = ((4, 2), (12, 3), (math.inf, 4))


@matplotlib.rc_context(PLAIN_TEXT)
def plot_run(
    df: pd.DataFrame,
    variables: Sequence[str],
    path: str | Path,
    title: str = "",
    time_label: str = "time",
) -> None:
    """One small panel per variable, sharing the time axis; dates when the model has them."""
    n = len(variables)
    cols = 1 if n == 1 else next(c for limit, c in COLUMNS if n <= limit)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(4.2 * cols, 2.6 * rows),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    x = df.attrs.get("dates", df.index)
    for ax, name in zip(axes.flat, variables, strict=False):
        ax.plot(x, df[name].to_numpy(), lw=1.6, color="#1f5f8b")
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("date" if "dates" in df.attrs else time_label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)
