"""The flagship's figures (docs/nk_russia.md).

Every scenario against the baseline, loop C9 switched off, and the posterior ensemble
against the prior and the record.

:func:`write_figures` draws them all; ``scripts/nk_russia_figures.py`` and the docs call
it. Runs go through the kernel directly (``report`` sits below the public API).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from quidpro.analysis.claims import members
from quidpro.ensemble.runner import CompiledLike, compiled_of
from quidpro.model.calendar import to_dates
from quidpro.model.overrides import constant_overrides
from quidpro.model.spec import Model
from quidpro.report.flagship_diagram import causal_loop_diagram, full_link_diagram
from quidpro.report.plain_figure import save_figure
from quidpro.solve.simulate import simulate

KEY_VARIABLES = [
    ("war_intensity", "War intensity (0-1)"),
    ("partnership_intensity", "Partnership intensity (0-1)"),
    ("containers_per_month", "Containers shipped per month"),
    ("shells_shipped", "Cumulative shells shipped"),
    ("nk_shell_production_capacity", "NK shell capacity (shells/month)"),
    ("nk_missile_launches_per_year", "NK missile launches per year"),
    ("unsc_sanctions_likelihood", "UNSC sanctions likelihood (0-1)"),
    ("nk_brinkmanship", "Brinkmanship (0-1)"),
    ("china_share_of_nk_trade", "China's share of NK trade"),
    ("sk_arms_ukraine_pressure", "Pressure on Seoul to arm Ukraine (0-1)"),
    ("nk_missile_tech", "NK ICBM/SLBM technology (0-1)"),
    ("sanctions_regime_strength", "Sanctions regime strength (0-1)"),
]

# For each scenario, the variables it is about (shown beside the baseline).
SCENARIO_FOCUS = {
    "ceasefire_2025": [
        "war_intensity",
        "partnership_intensity",
        "containers_per_month",
        "shells_shipped",
        "unsc_sanctions_likelihood",
        "sk_arms_ukraine_pressure",
    ],
    "ceasefire_2027": [
        "war_intensity",
        "partnership_intensity",
        "containers_per_month",
        "shells_shipped",
        "unsc_sanctions_likelihood",
        "sk_arms_ukraine_pressure",
    ],
    "missile_tech_transfer": [
        "nk_missile_tech",
        "nk_missile_launches_per_year",
        "nk_brinkmanship",
        "sk_arms_ukraine_pressure",
        "partnership_intensity",
        "containers_per_month",
    ],
    "china_pressure": [
        "nk_missile_launches_per_year",
        "china_share_of_nk_trade",
        "nk_brinkmanship",
        "partnership_intensity",
        "containers_per_month",
        "sk_arms_ukraine_pressure",
    ],
    "sanctions_restored": [
        "unsc_sanctions_likelihood",
        "nk_brinkmanship",
        "nk_missile_launches_per_year",
        "sanctions_regime_strength",
        "containers_per_month",
        "partnership_intensity",
    ],
    "sk_arms_ukraine": [
        "sk_arms_ukraine_pressure",
        "containers_per_month",
        "shells_shipped",
        "nk_missile_launches_per_year",
        "partnership_intensity",
        "nk_brinkmanship",
    ],
}
LABELS = dict(KEY_VARIABLES)


def run_frame(
    model: CompiledLike,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
    save_every: float = 1.0,
) -> pd.DataFrame:
    """One run as a DataFrame indexed by model time, a column per variable."""
    compiled = compiled_of(model)
    traj = simulate(
        compiled,
        constant_overrides(compiled.model, scenario, sets),
        1,
        save_every=save_every,
        backend="numpy",
    )
    return pd.DataFrame(
        traj.values[:, :, 0], index=pd.Index(traj.times, name="time"), columns=list(traj.names)
    )


def run_all(model: CompiledLike) -> dict[str, pd.DataFrame]:
    """The baseline and every scenario of the model."""
    spec = compiled_of(model).model
    runs = {"baseline": run_frame(model)}
    for name in spec.scenarios:
        runs[name] = run_frame(model, name)
    return runs


def dates_of(spec: Model, times: Any) -> pd.DatetimeIndex:
    """Calendar dates of model times."""
    t = spec.time
    assert t.origin is not None, "the flagship has a time origin"
    return to_dates(np.asarray(times), t.origin, t.units, t.start)


def _dates(spec: Model, df: pd.DataFrame) -> pd.DatetimeIndex:
    return dates_of(spec, df.index.to_numpy())


def overview(spec: Model, runs: dict[str, pd.DataFrame], path: Path) -> None:
    """Key variables under every scenario, on one set of axes each."""
    fig, axes = plt.subplots(4, 3, figsize=(16, 15), sharex=True)
    for ax, (var, title) in zip(axes.flat, KEY_VARIABLES, strict=True):
        for i, (name, df) in enumerate(runs.items()):
            ax.plot(
                _dates(spec, df),
                df[var],
                lw=2.2 if name == "baseline" else 1.2,
                color="black" if name == "baseline" else f"C{i}",
                label=name,
            )
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle("nk_russia: key variables under every scenario (2019-2035)", fontsize=13)
    fig.autofmt_xdate()
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    plt.close(fig)


def scenario_figure(spec: Model, runs: dict[str, pd.DataFrame], name: str, path: Path) -> None:
    """One scenario beside the baseline, on the variables it is about."""
    vars_ = SCENARIO_FOCUS.get(name, [v for v, _ in KEY_VARIABLES[:6]])
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5), sharex=True)
    base, alt = runs["baseline"], runs[name]
    for ax, var in zip(axes.flat, vars_, strict=True):
        ax.plot(_dates(spec, base), base[var], color="black", lw=1.8, label="baseline")
        ax.plot(_dates(spec, alt), alt[var], color="C3", lw=1.8, label=name)
        ax.axvline(
            pd.Timestamp("2025-01-01") if name != "ceasefire_2027" else pd.Timestamp("2027-01-01"),
            color="grey",
            ls=":",
            lw=1,
        )
        ax.set_title(LABELS.get(var, var), fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    doc = spec.scenarios[name].doc or ""
    fig.suptitle(f"Scenario {name}: {doc}", fontsize=12)
    fig.autofmt_xdate()
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    plt.close(fig)


def loop_figure(model: CompiledLike, path: Path) -> None:
    """Headline claim H2: the baseline beside loop C9 switched off."""
    spec = compiled_of(model).model
    base = run_frame(model)
    cut = run_frame(model, sets={"loop_c9_strength": 0.0})
    vars_ = [
        "nk_shell_production_capacity",
        "nk_capacity_utilisation",
        "nk_shell_stockpile",
        "containers_per_month",
        "shells_shipped",
        "partnership_intensity",
    ]
    titles = [
        "NK shell capacity (shells/month)",
        "Factory utilisation",
        "NK exportable stockpile",
        "Containers shipped per month",
        "Cumulative shells shipped",
        "Partnership intensity",
    ]
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5), sharex=True)
    for ax, var, title in zip(axes.flat, vars_, titles, strict=True):
        ax.plot(_dates(spec, base), base[var], color="black", lw=1.8, label="loop C9 on")
        ax.plot(
            _dates(spec, cut),
            cut[var],
            color="C3",
            lw=1.8,
            label="loop C9 off (loop_c9_strength = 0)",
        )
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Headline claim H2: the arms-for-resources cycle (C9) switched off", fontsize=12)
    fig.autofmt_xdate()
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    plt.close(fig)


ENSEMBLE_VARS = [
    ("containers_shipped", "Cumulative containers"),
    ("partnership_intensity", "Partnership intensity (0-1)"),
    ("nk_missile_launches_per_year", "NK missile launches per year"),
    ("sk_arms_ukraine_pressure", "Pressure on Seoul to arm Ukraine (0-1)"),
]


# Ledger indicators drawn on the ensemble panels: variable -> indicator.
RECORD_OF = {
    "containers_shipped": "containers_shipped_nk_to_ru",
    "nk_missile_launches_per_year": "nk_missiles_launched_per_year",
}
CUTOFF = "2024-06-19"


def _bands(
    model: CompiledLike, values: Mapping[str, np.ndarray], n: int, variables: list[str]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Times and the 5/25/50/75/95% quantiles of each variable over ``n`` members."""
    compiled = compiled_of(model)
    traj = simulate(
        compiled,
        constant_overrides(compiled.model, None, values),
        n,
        record=variables,
        save_every=1.0,
        backend="auto",
    )
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    return traj.times, {v: np.quantile(traj.series(v), qs, axis=1) for v in variables}


def _record(ax: Any, spec: Model, ledger: Any, indicator: str) -> None:
    """Ledger rows of ``indicator`` on ``ax``: values as dots, bounds as arrows."""
    from quidpro.analysis.likelihood import targets

    rows = [r for r in ledger if r.indicator == indicator]
    tg = targets(spec, rows)
    marks = {"value": ("o", "value"), "lower": ("^", "lower bound"), "upper": ("v", "upper bound")}
    seen: set[str] = set()
    for t in tg.items:
        mid = t.time if t.end is None else (t.time + t.end) / 2
        marker, label = marks[t.term]
        ax.plot(
            dates_of(spec, [mid])[0],
            t.value,
            marker=marker,
            ls="none",
            color="#c0392b",
            ms=6,
            label=f"record: {label}" if label not in seen else None,
        )
        seen.add(label)


def uncertainty_figure(
    model: CompiledLike, path: Path, n: int = 1000, seed: int = 11, posterior: Path | None = None
) -> dict[str, Any]:
    """The prior ensemble (grey) and the posterior ensemble (blue) against the record.

    Returns which members were drawn: ``{"members": n, "source": "posterior"|"prior"}``.
    """
    from quidpro.evidence.ledger import default_ledger

    spec = compiled_of(model).model
    variables = [v for v, _ in ENSEMBLE_VARS]
    prior_values, _, _ = members(spec, n, seed, prior=True)
    post_values, source, where = members(spec, n, seed, posterior)
    times, prior_q = _bands(model, prior_values, n, variables)
    _, post_q = _bands(model, post_values, n, variables)
    dates = dates_of(spec, times)
    ledger = default_ledger(spec.file, None)
    fig, axes = plt.subplots(2, 2, figsize=(14, 9), sharex=True)
    shown = [("prior", prior_q, "#b3b6b7")]
    if source == "posterior":
        shown.append(("posterior", post_q, "C0"))
    for ax, (var, title) in zip(axes.flat, ENSEMBLE_VARS, strict=True):
        for label, q, colour in shown:
            ax.fill_between(dates, q[var][0], q[var][4], color=colour, alpha=0.25, lw=0)
            ax.fill_between(dates, q[var][1], q[var][3], color=colour, alpha=0.45, lw=0)
            ax.plot(dates, q[var][2], color=colour, lw=1.2, label=f"{label}: median, 50%, 90%")
        if var in RECORD_OF:
            _record(ax, spec, ledger, RECORD_OF[var])
        ax.axvline(pd.Timestamp(CUTOFF), color="black", ls=":", lw=1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("date")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    what = f"posterior ({Path(where).name})" if source == "posterior" and where else "prior only"
    fig.suptitle(
        f"nk_russia baseline, {n} members: prior (grey) and {what}; red: the ledger "
        f"(dotted line: calibration cutoff {CUTOFF})",
        fontsize=12,
    )
    fig.autofmt_xdate()
    fig.tight_layout()
    save_figure(fig, path, dpi=90)
    plt.close(fig)
    return {"members": n, "source": source}


def write_figures(
    model: CompiledLike, out: Path, runs: int = 1000, seed: int = 11, posterior: Path | None = None
) -> list[Path]:
    """Every figure of docs/nk_russia.md into ``out``; returns the files written."""
    spec = compiled_of(model).model
    out.mkdir(parents=True, exist_ok=True)
    causal_loop_diagram(spec, out / "nk_causal_loop_diagram.png")
    full_link_diagram(spec, out / "nk_claim_links_full.png")
    all_runs = run_all(model)
    overview(spec, all_runs, out / "nk_scenarios_overview.png")
    for name in spec.scenarios:
        scenario_figure(spec, all_runs, name, out / f"nk_scenario_{name}.png")
    loop_figure(model, out / "nk_loop_c9.png")
    uncertainty_figure(model, out / "nk_uncertainty.png", runs, seed, posterior)
    return sorted(out.glob("nk_*.png"))
