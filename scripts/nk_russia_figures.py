"""Figures for docs/nk_russia.md: the causal-loop diagram and the scenario plots.

Usage (from the repository root)::

    .venv/bin/python scripts/nk_russia_figures.py [--out docs/img]

Writes

- ``nk_causal_loop_diagram.png``: the claim links of the model file grouped into
  concepts, each arrow labelled with the claim ids behind it (generated from the
  ``claims:`` section, so it cannot drift from the model);
- ``nk_claim_links_full.png``: every claim link between model variables;
- ``nk_scenarios_overview.png``: key variables, all scenarios on one set of axes;
- ``nk_scenario_<name>.png``: each scenario beside the baseline;
- ``nk_loop_c9.png``: the reinforcing loop C9 switched off (test H2);
- ``nk_uncertainty.png``: an ensemble over every constant's distribution, before and
  after keeping only the members consistent with the shipment history, and the share
  of those members in which each headline claim holds (printed).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd

import quidpro
from quidpro.ensemble.sampling import draw

ROOT = Path(__file__).resolve().parents[1]

# Concepts of the condensed diagram: label -> (x, y, model variables it groups).
CONCEPTS: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "War in Ukraine": (0.5, 8.0, ("war_on", "war_intensity", "ceasefire_time")),
    "Hanoi failure,\nturn to Russia": (3.4, 10.2, ("hanoi_sanctions_relief", "nk_turn_to_russia")),
    "Top- and working-\nlevel contacts": (2.6, 8.4, ("bilateral_contacts",)),
    "Russia's war needs": (0.4, 10.2, ("russian_need_index",)),
    "Russian shell demand\nand shortage": (
        0.4,
        5.6,
        ("russian_shell_demand", "russian_unmet_demand", "russian_shell_gap", "russian_shell_use"),
    ),
    "Russian acquiescence": (6.0, 10.2, ("russian_acquiescence",)),
    "Partnership intensity": (
        5.0,
        7.6,
        ("partnership_target", "partnership_change", "partnership_intensity", "deal_readiness"),
    ),
    "No substitute partner": (8.0, 10.4, ("partner_exclusivity",)),
    "Defence treaty": (11.2, 10.4, ("treaty_commitment",)),
    "Shipments by sea\nand rail": (
        2.6,
        4.2,
        (
            "russia_request_from_nk",
            "shell_deliveries",
            "shells_shipped",
            "containers_per_month",
            "containers_shipped",
            "containers_by_sea",
            "containers_by_rail",
        ),
    ),
    "Exchange\nestablished": (5.0, 5.4, ("exchange_index",)),
    "Return flows: currency,\nmaterials, oil, food": (
        4.6,
        2.4,
        (
            "nk_export_revenue",
            "hard_currency_to_nk",
            "raw_materials_to_nk",
            "oil_to_nk_barrels",
            "food_to_nk",
            "ru_to_nk_containers",
        ),
    ),
    "Military know-how": (7.4, 3.8, ("knowhow_gain", "military_knowhow")),
    "NK arms-industry\ncapacity and output": (
        2.0,
        0.6,
        (
            "capacity_funding",
            "capacity_investment",
            "nk_shell_production_capacity",
            "materials_supply_index",
            "nk_capacity_utilisation",
            "nk_shell_production",
        ),
    ),
    "NK shell stockpile": (0.4, 2.4, ("nk_shell_stockpile", "nk_exportable_supply")),
    "Sanctions regime": (6.4, 0.4, ("sanctions_erosion", "sanctions_regime_strength")),
    "Space help,\nsatellites, intelligence": (
        9.0,
        8.2,
        (
            "space_assistance",
            "space_learning",
            "nk_space_capability",
            "satellite_launch_successes",
            "satellites_in_orbit",
            "nk_intelligence_capability",
        ),
    ),
    "ICBM/SLBM technology\n(red line)": (
        8.2,
        6.2,
        (
            "missile_tech_transfer_risk",
            "missile_tech_transfer_time",
            "red_line_crossed",
            "missile_tech_inflow",
            "nk_missile_tech",
        ),
    ),
    "Nuclear-threat\ncredibility": (10.6, 6.4, ("nuclear_threat_credibility",)),
    "Confrontational\nposture": (11.0, 4.4, ("nk_confrontational_posture",)),
    "Missile launches": (13.4, 3.2, ("nk_missile_launches_per_year",)),
    "Perceived escalation": (15.4, 4.6, ("nk_escalation_index",)),
    "US regional presence": (
        15.6,
        6.8,
        ("us_presence_target", "us_presence_change", "us_regional_presence"),
    ),
    "Chinese discomfort": (13.6, 8.4, ("chinese_discomfort",)),
    "Chinese restraint": (13.4, 6.0, ("china_restraint_on_nk",)),
    "Dependence on China,\nautonomy": (
        10.2,
        0.6,
        ("russia_nk_exchange_value", "china_share_of_nk_trade", "nk_policy_autonomy"),
    ),
    "Inter-Korean hostility": (
        9.2,
        2.6,
        ("hostility_target", "hostility_change", "inter_korean_hostility"),
    ),
    "'Primary enemy'\ndoctrine": (7.0, 5.4, ("doctrine_adoption", "primary_enemy_doctrine")),
    "Russian veto,\nUNSC sanctions likelihood": (
        12.6,
        0.4,
        ("russian_veto_willingness", "unsc_sanctions_likelihood"),
    ),
    "Brinkmanship": (14.2, 1.4, ("nk_brinkmanship",)),
    "Leverage for\nconcessions": (16.2, 0.4, ("concessions_leverage",)),
    "Alliance depth": (13.6, 10.4, ("alliance_depth",)),
    "South Korean pressure\nto arm Ukraine": (16.2, 9.4, ("sk_arms_ukraine_pressure",)),
}

LOOP_COLOURS = {"C9": "#c0392b", "C15": "#2471a3"}

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


def concept_of() -> dict[str, str]:
    out: dict[str, str] = {}
    for label, (_, _, names) in CONCEPTS.items():
        for n in names:
            out[n] = label
    return out


def claim_edges(spec: object) -> dict[tuple[str, str], list[str]]:
    """Concept-level edges (cause, effect) -> claim ids, from the model's claim links."""
    where = concept_of()
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for claim in spec.claims.values():  # type: ignore[attr-defined]
        for a, b in claim.links:
            ca, cb = where.get(a, a), where.get(b, b)
            if ca != cb and claim.id not in edges[(ca, cb)]:
                edges[(ca, cb)].append(claim.id)
    return edges


def loop_edges(g: nx.DiGraph) -> dict[tuple[str, str], str]:
    """Edges on the shortest cycle through each edge of a loop claim (C9, C15)."""
    out: dict[tuple[str, str], str] = {}
    for claim in LOOP_COLOURS:
        for a, b in [e for e in g.edges if claim in g.edges[e]["ids"]]:
            try:
                back = nx.shortest_path(g, b, a)
            except nx.NetworkXNoPath:
                continue
            cycle = [a, *back]
            for u, v in pairwise(cycle):
                out.setdefault((u, v), claim)
    return out


def causal_loop_diagram(spec: object, path: Path) -> None:
    edges = claim_edges(spec)
    g = nx.DiGraph()
    pos: dict[str, tuple[float, float]] = {}
    for label, (x, y, _) in CONCEPTS.items():
        g.add_node(label)
        pos[label] = (x, y)
    for (a, b), ids in edges.items():
        for n in (a, b):
            if n not in pos:  # a variable outside the concept map: place it on the margin
                g.add_node(n)
                pos[n] = (17.5, 10.5 - 0.6 * len([p for p in pos if p not in CONCEPTS]))
        g.add_edge(a, b, ids=ids)
    loop_edge = loop_edges(g)
    fig, ax = plt.subplots(figsize=(19, 12))
    colours = [LOOP_COLOURS[loop_edge[e]] if e in loop_edge else "#7f8c8d" for e in g.edges]
    widths = [2.4 if e in loop_edge else 1.2 for e in g.edges]
    nx.draw_networkx_edges(
        g,
        pos,
        ax=ax,
        edge_color=colours,
        width=widths,
        arrowsize=16,
        node_size=5200,
        connectionstyle="arc3,rad=0.12",
        min_source_margin=18,
        min_target_margin=22,
    )
    nx.draw_networkx_nodes(
        g, pos, ax=ax, node_size=5200, node_color="#fdfefe", edgecolors="#34495e", linewidths=1.2
    )
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=8)
    for (a, b), ids in edges.items():
        (x1, y1), (x2, y2) = pos[a], pos[b]
        # Label at 45% along a slightly bent path, matching the arc.
        mx, my = x1 + 0.45 * (x2 - x1), y1 + 0.45 * (y2 - y1)
        dx, dy = x2 - x1, y2 - y1
        mx, my = mx + 0.06 * dy, my - 0.06 * dx
        ax.text(
            mx,
            my,
            ",".join(ids),
            fontsize=7,
            color="#1b2631",
            ha="center",
            va="center",
            bbox={"boxstyle": "round,pad=0.15", "fc": "#fef9e7", "ec": "none", "alpha": 0.9},
        )
    ax.set_title(
        "nk_russia: causal-loop diagram of the article's claims. Arrows carry the ids "
        "of the claims behind them (polarities in the claims table); red = the "
        "reinforcing arms-for-resources loop (C9), blue = the balancing China/US "
        "loop (C15)",
        fontsize=11,
    )
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def full_link_diagram(spec: object, path: Path) -> None:
    g = nx.DiGraph()
    for claim in spec.claims.values():  # type: ignore[attr-defined]
        for a, b in claim.links:
            if g.has_edge(a, b):
                g.edges[a, b]["ids"].append(claim.id)
            else:
                g.add_edge(a, b, ids=[claim.id])
    where = concept_of()
    # Seed the layout with the concept positions so that the two diagrams read alike.
    seed = {n: CONCEPTS[where[n]][:2] if n in where else (8.0, 5.0) for n in g.nodes}
    pos = nx.spring_layout(g, pos=seed, k=0.9, iterations=60, seed=3, scale=None)
    fig, ax = plt.subplots(figsize=(24, 16))
    colours = [
        next((LOOP_COLOURS[i] for i in g.edges[e]["ids"] if i in LOOP_COLOURS), "#95a5a6")
        for e in g.edges
    ]
    nx.draw_networkx_edges(
        g, pos, ax=ax, edge_color=colours, arrowsize=10, width=1.1, node_size=900
    )
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=900, node_color="#eaf2f8", edgecolors="#5d6d7e")
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=7)
    for a, b in g.edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        ax.text(
            (x1 + x2) / 2,
            (y1 + y2) / 2,
            ",".join(g.edges[a, b]["ids"]),
            fontsize=6,
            ha="center",
            va="center",
            color="#1b2631",
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    ax.set_title(
        "nk_russia: every claim link between model variables "
        "(generated from the claims: section of nk_russia.yaml)",
        fontsize=12,
    )
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run_all(model: quidpro.LoadedModel) -> dict[str, pd.DataFrame]:
    runs = {"baseline": model.run()}
    for name in model.scenarios:
        runs[name] = model.run(scenario=name)
    return runs


def _dates(model: quidpro.LoadedModel, df: pd.DataFrame) -> pd.DatetimeIndex:
    return model.dates(df.index.to_numpy())


def overview(model: quidpro.LoadedModel, runs: dict[str, pd.DataFrame], path: Path) -> None:
    fig, axes = plt.subplots(4, 3, figsize=(16, 15), sharex=True)
    for ax, (var, title) in zip(axes.flat, KEY_VARIABLES, strict=True):
        for i, (name, df) in enumerate(runs.items()):
            ax.plot(
                _dates(model, df),
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
    fig.savefig(path, dpi=90)
    plt.close(fig)


def scenario_figure(
    model: quidpro.LoadedModel, runs: dict[str, pd.DataFrame], name: str, path: Path
) -> None:
    vars_ = SCENARIO_FOCUS.get(name, [v for v, _ in KEY_VARIABLES[:6]])
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5), sharex=True)
    base, alt = runs["baseline"], runs[name]
    for ax, var in zip(axes.flat, vars_, strict=True):
        ax.plot(_dates(model, base), base[var], color="black", lw=1.8, label="baseline")
        ax.plot(_dates(model, alt), alt[var], color="C3", lw=1.8, label=name)
        ax.axvline(
            pd.Timestamp("2025-01-01") if name != "ceasefire_2027" else pd.Timestamp("2027-01-01"),
            color="grey",
            ls=":",
            lw=1,
        )
        ax.set_title(LABELS.get(var, var), fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    doc = model.spec.scenarios[name].doc or ""
    fig.suptitle(f"Scenario {name}: {doc}", fontsize=12)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def loop_figure(model: quidpro.LoadedModel, path: Path) -> None:
    base = model.run()
    cut = model.run(set={"loop_c9_strength": 0.0})
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
        ax.plot(_dates(model, base), base[var], color="black", lw=1.8, label="loop C9 on")
        ax.plot(
            _dates(model, cut),
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
    fig.savefig(path, dpi=90)
    plt.close(fig)


ENSEMBLE_VARS = [
    ("containers_shipped", "Cumulative containers"),
    ("partnership_intensity", "Partnership intensity (0-1)"),
    ("nk_missile_launches_per_year", "NK missile launches per year"),
    ("sk_arms_ukraine_pressure", "Pressure on Seoul to arm Ukraine (0-1)"),
]


def _series(tr: object, name: str) -> np.ndarray:
    return tr.values[:, list(tr.names).index(name), :]  # type: ignore[attr-defined]


def _at(tr: object, name: str, t: float) -> np.ndarray:
    times = np.asarray(tr.times)  # type: ignore[attr-defined]
    return _series(tr, name)[int(np.argmin(np.abs(times - t)))]


def history_consistent(tr: object) -> np.ndarray:
    """Members with no shipment before June 2023 (t = 53) and 7,000-13,000 containers by
    mid-June 2024 (OBS0026: at least 10,000; within 30%)."""
    return (_at(tr, "containers_shipped", 53.0) < 50) & (
        (_at(tr, "containers_shipped", 65.4) > 7000) & (_at(tr, "containers_shipped", 65.4) < 13000)
    )


def uncertainty_figure(
    model: quidpro.LoadedModel, path: Path, n: int = 1000, seed: int = 11
) -> dict[str, float]:
    """Prior ensemble, the history-consistent members, and how often H1-H3 hold in them."""
    record = [v for v, _ in ENSEMBLE_VARS] + [
        "shells_shipped",
        "unsc_sanctions_likelihood",
        "nk_brinkmanship",
    ]
    members = draw(model.spec, n, seed, "lhs")
    prior = model.simulate(set=members, n_runs=n, record=record, save_every=1.0)
    keep = history_consistent(prior)
    kept = {k: v[keep] for k, v in members.items()}
    k = int(keep.sum())

    def sim(scenario: str | None = None, **extra: float) -> object:
        sets = dict(kept)
        sets.update({name: np.full(k, v) for name, v in extra.items()})
        return model.simulate(scenario=scenario, set=sets, n_runs=k, record=record, save_every=1.0)

    base, cease, cut, restored = (
        sim(),
        sim("ceasefire_2025"),
        sim(loop_c9_strength=0.0),
        sim("sanctions_restored"),
    )
    times = np.asarray(base.times)  # type: ignore[attr-defined]
    late = times >= 84
    h1 = _at(cease, "partnership_intensity", 96) <= 0.5 * _at(cease, "partnership_intensity", 72)
    h2 = _at(cut, "shells_shipped", 204) <= 0.75 * _at(base, "shells_shipped", 204)
    h3 = (_series(base, "unsc_sanctions_likelihood")[times >= 48].max(axis=0) <= 0.05) & (
        _series(base, "nk_brinkmanship")[late].mean(axis=0)
        - _series(restored, "nk_brinkmanship")[late].mean(axis=0)
        >= 0.1
    )
    stats = {
        "members": float(n),
        "history_consistent": float(k),
        "H1": float(h1.mean()),
        "H2": float(h2.mean()),
        "H3": float(h3.mean()),
    }
    calibrated = model.run(save_every=1.0)
    dates = model.dates(times)
    fig, axes = plt.subplots(2, 2, figsize=(14, 9), sharex=True)
    for ax, (var, title) in zip(axes.flat, ENSEMBLE_VARS, strict=True):
        for tr, colour, label in (
            (prior, "#b3b6b7", "all members"),
            (base, "C0", "history-consistent members"),
        ):
            y = _series(tr, var)
            q = np.quantile(y, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
            ax.fill_between(dates, q[0], q[4], color=colour, alpha=0.25, lw=0)
            ax.fill_between(dates, q[1], q[3], color=colour, alpha=0.45, lw=0)
            ax.plot(dates, q[2], color=colour, lw=1.2, label=f"{label} (median, 50%, 90%)")
        ax.plot(dates, calibrated[var].to_numpy(), color="black", lw=1.5, label="calibrated run")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.suptitle(
        f"nk_russia baseline: {n} members sampled from every constant's distribution (grey); "
        f"the {k} consistent with the 2023-24 shipments (blue)",
        fontsize=12,
    )
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description="Figures for docs/nk_russia.md")
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--model", default="nk_russia")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = quidpro.load(args.model)
    causal_loop_diagram(model.spec, out / "nk_causal_loop_diagram.png")
    full_link_diagram(model.spec, out / "nk_claim_links_full.png")
    runs = run_all(model)
    overview(model, runs, out / "nk_scenarios_overview.png")
    for name in model.scenarios:
        scenario_figure(model, runs, name, out / f"nk_scenario_{name}.png")
    loop_figure(model, out / "nk_loop_c9.png")
    stats = uncertainty_figure(model, out / "nk_uncertainty.png")
    print(
        f"ensemble: {stats['history_consistent']:.0f} of {stats['members']:.0f} members are "
        f"consistent with the shipment history; among them H1 holds in {stats['H1']:.0%}, "
        f"H2 in {stats['H2']:.0%}, H3 in {stats['H3']:.0%}"
    )
    for p in sorted(out.glob("nk_*.png")):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
