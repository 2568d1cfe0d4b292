"""A causal-loop diagram of the loops that matter.

Only the variables and links of the top loops are drawn (a full-link diagram of a real
model is unreadable), each link with its polarity (+/−), stocks as boxes, and a legend
of the loops with their ids, polarity, mean share and claim. The layout is Graphviz's
``dot`` when the binary is installed (``apt-get install graphviz``): it routes edges
around nodes and keeps labels apart. Without it, networkx's Kamada-Kawai layout on a
matplotlib canvas is the fallback.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from quidpro.analysis.loops import LoopAnalysis, LoopReport
from quidpro.report.loop_plots import ranked
from quidpro.report.plain_figure import save_figure

MAX_LOOPS = 5
_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def loops_that_matter(analysis: LoopAnalysis, n: int = MAX_LOOPS) -> list[LoopReport]:
    """The ``n`` loops with the largest mean share, plus every named loop."""
    top = ranked(analysis)[:n]
    return top + [lp for lp in analysis.loops if lp.name and lp not in top]


def _edges(loops: list[LoopReport]) -> dict[tuple[str, str], tuple[int, list[int]]]:
    out: dict[tuple[str, str], tuple[int, list[int]]] = {}
    for i, lp in enumerate(loops):
        vs = lp.variables
        pairs = list(zip(vs, (*vs[1:], vs[0]), strict=True))
        for (a, b), s in zip(pairs, lp.signs or (1,) * len(pairs), strict=True):
            sign, members = out.get((a, b), (s, []))
            members.append(i)
            out[(a, b)] = (sign, members)
    return out


def _mark(sign: int) -> str:
    return "+" if sign > 0 else "−" if sign < 0 else "?"


def _legend(lp: LoopReport) -> str:
    share = float(np.mean(np.abs(lp.relative_score)))
    name = f" {lp.name}" if lp.name else ""
    claim = f" [{lp.claim}]" if lp.claim else ""
    kind = "reinforcing" if lp.polarity == "R" else "balancing"
    return f"{lp.id}{name}{claim}: {kind}, mean share {share:.0%}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(analysis: LoopAnalysis, loops: list[LoopReport]) -> str:
    """The diagram as Graphviz DOT text."""
    stocks = set(analysis.model.stocks)
    lines = [
        "digraph cld {",
        "  graph [rankdir=LR, splines=true, overlap=false, nodesep=0.5, ranksep=0.9, "
        'fontname="Helvetica", fontsize=11, labelloc=t];',
        '  node [fontname="Helvetica", fontsize=11, shape=plaintext];',
        '  edge [fontname="Helvetica", fontsize=13, arrowsize=0.7];',
        f"  label={_quote(f'{analysis.model.title or analysis.model.name}: loops that matter')};",
    ]
    names = sorted({v for lp in loops for v in lp.variables})
    for v in names:
        shape = "box, style=rounded" if v in stocks else "plaintext"
        lines.append(f"  {_quote(v)} [label={_quote(v.replace('_', ' '))}, shape={shape}];")
    for (a, b), (sign, members) in _edges(loops).items():
        colour = _COLOURS[members[0] % len(_COLOURS)]
        width = 1.0 + 0.6 * len(members)
        style = "solid" if sign else "dashed"  # dashed: the link never scored in the run
        lines.append(
            f"  {_quote(a)} -> {_quote(b)} [label={_quote(_mark(sign))}, color={_quote(colour)}, "
            f"fontcolor={_quote(colour)}, penwidth={width:.1f}, style={style}];"
        )
    legend = "\\l".join(_legend(lp) for lp in loops)
    legend += "\\ldashed ?: a link that never changed its target in this run\\l"
    lines.append(f'  legend [shape=note, fontsize=10, label="{legend}"];')
    lines.append("}")
    return "\n".join(lines)


def draw_cld(analysis: LoopAnalysis, path: Path, n: int = MAX_LOOPS) -> str:
    """Write the diagram of the loops that matter to ``path`` (PNG).

    Returns the layout engine used: "graphviz" or "networkx".
    """
    loops = loops_that_matter(analysis, n)
    dot = shutil.which("dot")
    if dot is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".dot", delete=False) as fh:
            fh.write(dot_source(analysis, loops))
        # The DOT text is quidpro's own (quoted names), run without a shell.
        subprocess.run([dot, "-Tpng", "-Gdpi=110", fh.name, "-o", str(path)], check=True)
        Path(fh.name).unlink()
        return "graphviz"
    _draw_networkx(analysis, loops, path)
    return "networkx"


def _draw_networkx(analysis: LoopAnalysis, loops: list[LoopReport], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    g = nx.DiGraph()
    edges = _edges(loops)
    for (a, b), (sign, members) in edges.items():
        g.add_edge(a, b, sign=sign, colour=_COLOURS[members[0] % len(_COLOURS)])
    pos = nx.kamada_kawai_layout(g) if len(g) > 2 else nx.circular_layout(g)
    fig, ax = plt.subplots(figsize=(11, 8))
    stocks = [v for v in g if v in analysis.model.stocks]
    nx.draw_networkx_nodes(g, pos, nodelist=stocks, node_shape="s", node_color="#f0f0f0", ax=ax)
    nx.draw_networkx_labels(g, pos, {v: v.replace("_", "\n") for v in g}, font_size=8, ax=ax)
    for a, b, d in g.edges(data=True):
        nx.draw_networkx_edges(
            g,
            pos,
            [(a, b)],
            edge_color=d["colour"],
            arrowsize=14,
            ax=ax,
            connectionstyle="arc3,rad=0.15",
            min_source_margin=18,
            min_target_margin=18,
        )
    labels = {(a, b): _mark(d["sign"]) for a, b, d in g.edges(data=True)}
    nx.draw_networkx_edge_labels(g, pos, labels, font_size=11, ax=ax, label_pos=0.35)
    ax.set_title(f"{analysis.model.title or analysis.model.name}: loops that matter")
    ax.text(
        0.0,
        -0.05,
        "\n".join(_legend(lp) for lp in loops),
        transform=ax.transAxes,
        fontsize=8,
        va="top",
    )
    ax.axis("off")
    save_figure(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)


__all__ = ["dot_source", "draw_cld", "loops_that_matter"]
