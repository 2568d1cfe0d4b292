"""The flagship's causal-loop diagrams, drawn from the ``claims:`` section of the model.

``causal_loop_diagram`` groups the model's variables into the article's concepts and
labels each arrow with the ids of the claims behind it; ``full_link_diagram`` draws every
claim link between variables. Both are generated from the model file, so they cannot
drift from it. The concept layout is hand-placed (a readable map is an editorial
choice no layout algorithm makes); variables outside it are placed on the margin.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx

from quidpro.report.plain_figure import save_figure

# Concepts of the condensed diagram: label -> (x, y, model variables it groups).
CONCEPTS: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "War in Ukraine": (0.5, 8.0, ("war_on", "war_intensity", "war_started", "ceasefire_time")),
    "Hanoi failure,\nturn to Russia": (3.4, 10.2, ("hanoi_sanctions_relief", "nk_turn_to_russia")),
    "Top- and working-\nlevel contacts": (2.6, 8.4, ("bilateral_contacts",)),
    "Russia's war needs": (0.4, 10.2, ("russian_need_index",)),
    "Russian shell demand\nand shortage": (
        0.4,
        5.6,
        (
            "russian_shell_demand",
            "russian_unmet_demand",
            "russian_shell_gap",
            "russian_shell_use",
            "ru_mobilisation_target",
            "ru_reserve_shortfall",
            "ru_industry_mobilisation",
        ),
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
        (
            "russia_nk_exchange_value",
            "russian_goods_to_nk_usd",
            "china_nk_trade_value",
            "china_share_of_nk_trade",
            "nk_policy_autonomy",
        ),
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
    "Seoul's threat\nperception": (16.2, 10.6, ("sk_threat_perception",)),
    "South Korean pressure\nto arm Ukraine": (
        16.2,
        8.6,
        ("sk_pressure_target", "sk_pressure_change", "sk_arms_ukraine_pressure"),
    ),
}

LOOP_COLOURS = {"C9": "#c0392b", "C15": "#2471a3"}


def concept_of() -> dict[str, str]:
    """Variable name -> the concept label that groups it."""
    out: dict[str, str] = {}
    for label, (_, _, names) in CONCEPTS.items():
        for n in names:
            out[n] = label
    return out


def claim_edges(spec: Any) -> dict[tuple[str, str], list[str]]:
    """Concept-level edges (cause, effect) -> claim ids, from the model's claim links."""
    where = concept_of()
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for claim in spec.claims.values():
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


def causal_loop_diagram(spec: Any, path: Path) -> None:
    """Write the condensed causal-loop diagram of ``spec``'s claim links to ``path`` (PNG)."""
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
    save_figure(fig, path, dpi=100)
    plt.close(fig)


def full_link_diagram(spec: Any, path: Path) -> None:
    """Write every claim link between model variables to ``path`` (PNG)."""
    g = nx.DiGraph()
    for claim in spec.claims.values():
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
    save_figure(fig, path, dpi=90)
    plt.close(fig)
