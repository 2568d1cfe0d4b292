"""The JSON one model's page is built from (``GET /api/page/{model}``).

Panels whose analysis has not landed for a model (loops, evidence, back-test) carry
``None``, and the page says "not available for this model yet".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from quidpro.report.available import backtest_scores, evidence_rows, loop_analysis
from quidpro.report.labels import date_levers, dated_events, first_sentence, plain_label
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
        "posterior": None,
        "sources": {sid: dict(s.fields) for sid, s in spec.sources.items()},
        "evidence": evidence_rows(m),
        "loops": loop_analysis(m),
        "backtest": backtest_scores(m),
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
        out.append(_var(n, "stock", s.units, s.doc))
    for n, v in spec.flows.items():
        out.append(_var(n, "flow", v.units, v.doc))
    for n, v in spec.auxiliaries.items():
        out.append(_var(n, "auxiliary", v.units, v.doc))
    return out


def _var(name: str, kind: str, units: str | None, doc: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "label": plain_label(name),
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
        "label": plain_label(name.removesuffix("_time")),
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


def _evidence_ids(m: LoadedModel) -> dict[str, list[str]]:
    """Constant → the source ids its ``source`` text names (evidence and article)."""
    import re

    spec = m.spec
    known = set(spec.sources)
    out = {}
    for n, c in spec.constants.items():
        ids = [t for t in re.findall(r"[A-Za-z][A-Za-z0-9_]*", c.source or "") if t in known]
        if ids:
            out[n] = list(dict.fromkeys(ids))
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
