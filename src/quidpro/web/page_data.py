"""The JSON one model's page is built from (``GET /api/page/{model}``).

Panels a model has nothing for (no feedback loop, no evidence file, no stored
back-test, no posterior) carry ``None``, and the page says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from quidpro.report.available import (
    evidence_document,
    loop_analysis,
    posterior_info,
    source_ids,
    stored_backtest,
)
from quidpro.report.labels import date_levers, dated_events, first_sentence, label_of
from quidpro.web import levers

if TYPE_CHECKING:
    from quidpro.api import LoadedModel

N_DEFAULT_VARIABLES = 4


def page_data(
    m: LoadedModel, name: str, ranking: Sequence[tuple[str, float]], n_sliders: int
) -> dict[str, Any]:
    """Everything the page of model ``name`` shows before the first run.

    Args:
        m: The loaded model.
        name: The name requests use for it.
        ranking: Slider candidates by importance (``Workbench.ranking``).
        n_sliders: How many sliders to show.
    """
    spec = m.spec
    t = spec.time
    sliders = [levers.slider(spec, n, s) for n, s in ranking[:n_sliders]]
    loops = loop_analysis(m)
    return {
        "name": name,
        "title": spec.title or name,
        "doc": " ".join((spec.doc or "").split()),
        "time": {
            "start": t.start,
            "stop": t.stop,
            "units": t.units or "time",
            "origin": t.origin.isoformat() if t.origin else None,
        },
        "sliders": sliders,
        "date_levers": [_date_lever(m, n) for n in date_levers(spec)],
        "scenarios": [
            {"name": "baseline", "doc": "The model as written.", "set": {}},
            *(
                {"name": s.name, "doc": s.doc or "", "set": dict(s.set)}
                for s in spec.scenarios.values()
            ),
        ],
        "variables": _variables(m),
        "default_variables": default_variables(m),
        "events": _events(m),
        "claims": _claims(m),
        "graph": claim_graph(m),
        "evidence_ids": _evidence_ids(m),
        "posterior": posterior_info(m),
        "sources": {sid: dict(s.fields) for sid, s in spec.sources.items()},
        "evidence": evidence_document(m),
        "loops": loops,
        "loop_graph": loop_graph(m, loops),
        "backtest": stored_backtest(m),
    }


def default_variables(m: LoadedModel) -> list[str]:
    """The stocks the model calls required outputs, else its first stocks."""
    spec = m.spec
    required = [n for n, s in spec.stocks.items() if "required output" in (s.doc or "").lower()]
    chosen = required or list(spec.stocks) or list(spec.variables)
    return chosen[:N_DEFAULT_VARIABLES]


def _variables(m: LoadedModel) -> list[dict[str, Any]]:
    spec = m.spec
    out = []
    for n, s in spec.stocks.items():
        out.append(_var(n, "stock", s.units, s.doc, label_of(spec, n)))
    for n, v in spec.flows.items():
        out.append(_var(n, "flow", v.units, v.doc, label_of(spec, n)))
    for n, v in spec.auxiliaries.items():
        out.append(_var(n, "auxiliary", v.units, v.doc, label_of(spec, n)))
    return out


def _var(name: str, kind: str, units: str | None, doc: str | None, label: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "label": label,
        "units": units or "",
        "doc": first_sentence(doc),
    }


def _date_lever(m: LoadedModel, name: str) -> dict[str, Any]:
    spec = m.spec
    c = spec.constants[name]
    t = spec.time
    inside = t.start <= c.value <= t.stop
    date = None
    if inside and t.origin is not None:
        date = m.dates([c.value])[0].strftime("%Y-%m-%d")
    return {
        "name": name,
        "label": label_of(spec, name),
        "doc": first_sentence(c.doc),
        "value": float(c.value),
        "never": not inside,
        "never_value": float(c.value) if not inside else float(c.range[1] if c.range else 9999),
        "date": date,
        "min_date": _iso(m, max(t.start, c.range[0] if c.range else t.start)),
        "max_date": _iso(m, t.stop),
    }


def _iso(m: LoadedModel, time: float) -> str | None:
    if m.spec.time.origin is None:
        return None
    return str(m.dates([time])[0].strftime("%Y-%m-%d"))


def _events(m: LoadedModel) -> list[dict[str, Any]]:
    out = dated_events(m.spec)
    for e in out:
        e["date"] = _iso(m, e["time"])
    return out


def claim_graph(m: LoadedModel) -> dict[str, Any]:
    """The claims' links as a drawn graph.

    Nodes have positions in a 1000 × 700 box (networkx's Kamada-Kawai layout,
    deterministic); edges carry the claims behind them.
    """
    import networkx as nx

    spec = m.spec
    g = nx.DiGraph()
    for cid, c in spec.claims.items():
        for a, b in c.links:
            if g.has_edge(a, b):
                g[a][b]["claims"].append(cid)
            else:
                g.add_edge(a, b, claims=[cid])
    if not g:
        return {"nodes": [], "edges": [], "loop_edges": []}
    pos = nx.kamada_kawai_layout(g.to_undirected())
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)

    def scale(v: float, lo: float, hi: float, size: float) -> float:
        return 40 + (size - 80) * (v - lo) / ((hi - lo) or 1.0)

    kinds = {
        **dict.fromkeys(spec.stocks, "stock"),
        **dict.fromkeys(spec.flows, "flow"),
        **dict.fromkeys(spec.auxiliaries, "auxiliary"),
        **dict.fromkeys(spec.constants, "constant"),
    }
    in_cycles = set()
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            in_cycles |= {f"{a}>{b}" for a, b in g.subgraph(comp).edges}
    return {
        "nodes": [
            {
                "id": n,
                "kind": kinds.get(n, "other"),
                "x": round(scale(pos[n][0], x0, x1, 1000), 1),
                "y": round(scale(pos[n][1], y0, y1, 700), 1),
            }
            for n in g.nodes
        ],
        "edges": [
            {"source": a, "target": b, "claims": d["claims"]} for a, b, d in g.edges(data=True)
        ],
        "loop_edges": sorted(in_cycles),
    }


def loop_graph(m: LoadedModel, loops: dict[str, Any] | None) -> dict[str, Any] | None:
    """The causal-loop diagram of the loops that matter, laid out in a 1000 × 560 box.

    Nodes are the loops' variables; each edge is a link of one or more of those loops
    (``loops``, in the order of ``matter``) with its polarity and the claims and evidence
    behind it. networkx's Kamada-Kawai layout, deterministic.
    """
    import networkx as nx

    if not loops or not loops["matter"]:
        return None
    spec = m.spec
    by_id = {lp["id"]: lp for lp in loops["loops"]}
    g = nx.DiGraph()
    for lid in loops["matter"]:
        for link in by_id[lid]["links"]:
            a, b = link["source"], link["target"]
            if g.has_edge(a, b):
                g[a][b]["loops"].append(lid)
            else:
                g.add_edge(a, b, loops=[lid], link=link)
    pos = nx.kamada_kawai_layout(g.to_undirected())
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]

    def scale(v: float, lo: float, hi: float, size: float) -> float:
        return round(60 + (size - 200) * (v - lo) / ((hi - lo) or 1.0), 1)

    at = {
        n: (
            scale(pos[n][0], min(xs), max(xs), 1000),
            scale(pos[n][1], min(ys), max(ys), 700) * 0.8 + 10,
        )
        for n in g.nodes
    }
    at = spread_labels(at, {n: label_of(spec, n) for n in g.nodes}, (1000.0, 560.0))
    return {
        "loops": list(loops["matter"]),
        "nodes": [
            {
                "id": n,
                "kind": "stock" if n in spec.stocks else "flow" if n in spec.flows else "auxiliary",
                "x": round(at[n][0], 1),
                "y": round(at[n][1], 1),
            }
            for n in g.nodes
        ],
        "edges": [
            {
                "source": a,
                "target": b,
                "loops": d["loops"],
                "polarity": d["link"]["polarity"],
                "claims": d["link"]["claims"],
                "evidence": d["link"]["evidence"],
            }
            for a, b, d in g.edges(data=True)
        ],
    }


LABEL_CHAR = 6.4  # width of a character of the diagram's 11 px labels, about
LABEL_ROW = 16.0  # height a node and its label take (the label sits above and right)


def spread_labels(
    at: dict[str, tuple[float, float]],
    labels: dict[str, str],
    box: tuple[float, float],
    rounds: int = 300,
) -> dict[str, tuple[float, float]]:
    """Node positions moved apart until no two nodes' labels overlap (where they can).

    Each node takes a box from its dot to the end of its label (drawn above and right
    of it, as the page draws it). Overlapping pairs are pushed apart along the axis
    where the overlap is smaller, half each, for at most ``rounds`` rounds; nodes stay
    inside ``box``. Deterministic: pairs are visited in name order.
    """
    names = sorted(at)
    xy = {n: [at[n][0], at[n][1]] for n in names}
    width = {n: 16.0 + LABEL_CHAR * len(labels.get(n, n)) for n in names}
    for _ in range(rounds):
        moved = False
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                (ax, ay), (bx, by) = xy[a], xy[b]
                # label boxes: [x - 8, x - 8 + width] × [y - LABEL_ROW, y + 4]
                ox = min(ax + width[a], bx + width[b]) - max(ax, bx)
                oy = LABEL_ROW + 4.0 - abs(ay - by)
                if ox <= 0 or oy <= 0:
                    continue
                moved = True
                if oy <= ox:  # apart vertically
                    step = 0.5 * oy + 0.5
                    up = -1.0 if (ay, a) < (by, b) else 1.0
                    xy[a][1] += up * step
                    xy[b][1] -= up * step
                else:
                    step = 0.5 * ox + 0.5
                    left = -1.0 if (ax, a) < (bx, b) else 1.0
                    xy[a][0] += left * step
                    xy[b][0] -= left * step
        for n in names:
            xy[n][0] = min(max(xy[n][0], 20.0), box[0] - width[n])
            xy[n][1] = min(max(xy[n][1], 24.0), box[1] - 10.0)
        if not moved:
            break
    return {n: (xy[n][0], xy[n][1]) for n in names}


def _evidence_ids(m: LoadedModel) -> dict[str, list[str]]:
    """Constant → the source ids its ``source`` text names (evidence and article)."""
    spec = m.spec
    out = {}
    for n, c in spec.constants.items():
        ids = source_ids(spec, c.source)
        if ids:
            out[n] = ids
    return out


def _claims(m: LoadedModel) -> list[dict[str, Any]]:
    """Every claim with its links and, per link, the source it rests on."""
    spec = m.spec
    article = next(
        (sid for sid, s in spec.sources.items() if s.fields.get("kind") == "article"), None
    )
    out = []
    for cid, c in spec.claims.items():
        out.append(
            {
                "id": cid,
                "text": c.text,
                "paragraph": list(c.paragraph),
                "polarity": c.polarity,
                "kind": c.kind,
                "links": [list(link) for link in c.links],
                "source": article,
            }
        )
    return out
