"""Ensemble plots: fan charts, scenario bands and ranked sensitivity bars (Agg backend)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from quidpro.report.plain_figure import PLAIN_TEXT, save_figure

Series = Mapping[str, Any]  # {"time": [...], "quantiles": {"0.05": [...], ...}}
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def _bands(
    ax: Any, x: Any, series: Series, colour: str, label: str | None, *, inner_only: bool = False
) -> None:
    qs = sorted(series["quantiles"], key=float)
    values = {float(q): np.asarray(series["quantiles"][q], dtype=float) for q in qs}
    keys = sorted(values)
    n = len(keys)
    for i in range(n // 2):  # outer bands lighter
        if inner_only and i < n // 2 - 1:
            continue
        lo, hi = keys[i], keys[n - 1 - i]
        ax.fill_between(x, values[lo], values[hi], color=colour, alpha=0.15 + 0.15 * i, lw=0)
    mid = min(keys, key=lambda q: abs(q - 0.5))
    ax.plot(x, values[mid], color=colour, lw=1.6, label=label)


TWO_COLUMNS_UP_TO = 4  # panels; more go three to a row


def _grid(n: int) -> tuple[Any, np.ndarray]:
    cols = 1 if n == 1 else 2 if n <= TWO_COLUMNS_UP_TO else 3
    rows = math.ceil(n / cols)
    width = 7.0 if cols == 1 else 4.4 * cols
    fig, axes = plt.subplots(rows, cols, figsize=(width, 3.2 * rows + 0.4), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat[:n]


@matplotlib.rc_context(PLAIN_TEXT)
def fan_chart(
    scenarios: Mapping[str, Mapping[str, Series]],
    variables: Sequence[str],
    path: str | Path,
    *,
    title: str = "",
    dates: Any = None,
    time_label: str = "time",
) -> None:
    """One panel per variable; per scenario, quantile bands around the median.

    ``scenarios[name][variable]`` is an ensemble JSON series; ``dates`` (optional) maps
    the series' times to calendar dates for the x axis.
    """
    fig, axes = _grid(len(variables))
    for ax, var in zip(axes, variables, strict=True):
        for k, (scen, series) in enumerate(scenarios.items()):
            x = series[var]["time"] if dates is None else dates(series[var]["time"])
            label = scen if len(scenarios) > 1 else None
            colour = COLOURS[k % len(COLOURS)]
            _bands(ax, x, series[var], colour, label, inner_only=len(scenarios) > 1)
        ax.set_title(var, fontsize=10)
        ax.grid(alpha=0.3)
        if dates is None:
            ax.set_xlabel(time_label, fontsize=8)
        ax.tick_params(labelsize=8)
    if len(scenarios) > 1:
        axes[0].legend(fontsize=8)
    first = next(iter(next(iter(scenarios.values())).values()))
    keys = sorted(float(q) for q in first["quantiles"])
    bands = [f"{100 * keys[i]:g}–{100 * keys[-1 - i]:g}%" for i in range(len(keys) // 2)]
    bands = bands[-1:] if len(scenarios) > 1 else bands
    note = "line: median" + (f"; bands: {', '.join(bands)}" if bands else "")
    fig.text(0.995, 0.005, note, fontsize=7, color="0.4", ha="right", va="bottom")
    if title:
        fig.suptitle(title, fontsize=10, wrap=True)
    fig.autofmt_xdate() if dates is not None else None
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)


@matplotlib.rc_context(PLAIN_TEXT)
def sensitivity_bars(
    doc: Mapping[str, Any], path: str | Path, title: str = "", top: int = 20
) -> None:
    """Ranked horizontal bars of the ``top`` most influential constants.

    Sobol' ST and S1 (with confidence) or Morris mu* and sigma.
    """
    if doc["method"] == "sobol":
        main, second, labels = "ST", "S1", ("total (ST)", "first order (S1)")
        err_main, err_second = doc["ST_conf"], doc["S1_conf"]
    else:
        main, second, labels = "mu_star", "sigma", ("mu*", "sigma")
        err_main, err_second = doc.get("mu_star_conf", {}), {}
    names = sorted(doc[main], key=lambda n: doc[main][n])[-top:]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(names) + 1.4))
    ax.barh(
        y + 0.2,
        [doc[main][n] for n in names],
        0.4,
        xerr=[err_main.get(n, 0.0) for n in names],
        label=labels[0],
        color="tab:blue",
    )
    ax.barh(
        y - 0.2,
        [doc[second][n] for n in names],
        0.4,
        xerr=[err_second.get(n, 0.0) for n in names],
        label=labels[1],
        color="tab:orange",
    )
    ax.set_yticks(y, names, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    shown = "" if len(doc[main]) <= top else f" (top {top} of {len(doc[main])})"
    ax.set_title(title or f"{doc['method']}: {doc['output']} at {doc['at']}{shown}", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
