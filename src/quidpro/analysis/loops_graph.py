"""Feedback loops of a model's variable graph: enumeration, polarity, stable ids.

The graph has an edge x → z for every stock or variable x in z's equation and an
edge from every flow to the stock it fills or drains. Loops are its elementary
cycles (Johnson's algorithm, :func:`networkx.simple_cycles`). Where a model has
more loops than a budget, :func:`strongest_loops` is the bounded search of
Eberlein & Schoenberg ("Finding the loops that matter", 2020): at each of a set of
times, a depth-first search from every stock that follows the links with the
largest link scores and prunes a path as soon as it is weaker than the best path
already found to the same variable.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from quidpro.analysis.loops_expand import Expansion, inputs


@dataclass(frozen=True)
class Link:
    """A causal link of the variable graph."""

    source: str
    target: str
    kind: str  # "aux" (an equation input) | "inflow" | "outflow" (a flow into a stock)


@dataclass(frozen=True)
class Loop:
    """An elementary feedback loop of the expanded model."""

    id: str
    nodes: tuple[str, ...]  # expanded names, in loop order, starting at the smallest
    variables: tuple[str, ...]  # the model's own variables, in loop order
    polarity: str  # "R" | "B" | "U" (undetermined before a run)
    partition: int


def link_graph(ex: Expansion) -> nx.DiGraph:
    """The expanded model's stocks, flows and auxiliaries with their links."""
    m = ex.model
    g = nx.DiGraph()
    g.add_nodes_from([*m.stocks, *m.flows, *m.auxiliaries])
    for name in [*m.flows, *m.auxiliaries]:
        for src in inputs(m, name):
            g.add_edge(src, name, kind="aux")
    for s in m.stocks.values():
        for f in s.inflows:
            g.add_edge(f, s.name, kind="inflow")
        for f in s.outflows:
            g.add_edge(f, s.name, kind="outflow")
    return g


def _canonical(cycle: Sequence[str]) -> tuple[str, ...]:
    i = cycle.index(min(cycle))  # names are unique on an elementary cycle
    return tuple(cycle[i:]) + tuple(cycle[:i])


def enumerate_cycles(g: nx.DiGraph, budget: int) -> tuple[list[tuple[str, ...]], bool]:
    """Every elementary cycle, or the first ``budget`` and ``True`` when there are more.

    The cycles are sorted (by their canonical node sequences): networkx yields them in
    an order that depends on Python's string hashing, which changes between processes,
    and the order decides ties between loops of equal scores.
    """
    found = list(itertools.islice(nx.simple_cycles(g), budget + 1))
    cut = len(found) > budget
    return sorted(_canonical(c) for c in found[:budget]), cut


def fold(ex: Expansion, nodes: Sequence[str]) -> tuple[str, ...]:
    """A loop's model variables: added names folded into their owners, repeats merged."""
    owner = ex.owner
    out: list[str] = []
    for n in nodes:
        v = owner.get(n, n)
        if not out or out[-1] != v:
            out.append(v)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    # Start at the model's first stock on the loop (file order), for a reader.
    order = ex.stock_order
    on_loop = [k for k, v in enumerate(out) if v in order]
    if on_loop:
        k = min(on_loop, key=lambda i: order[out[i]])
        out = out[k:] + out[:k]
    return tuple(out)


def is_internal(ex: Expansion, nodes: Sequence[str], folded: Sequence[str] | None = None) -> bool:
    """A loop entirely inside one builtin (a smoothing stage's own adjustment).

    ``folded`` is ``fold(ex, nodes)`` when the caller has it already.
    """
    if not all(n in ex.owner for n in nodes):
        return False
    return len(set(fold(ex, nodes) if folded is None else folded)) <= 1


def partitions(g: nx.DiGraph) -> dict[str, int]:
    """Cycle partition of each node: its strongly connected component.

    Components are numbered in the order of their smallest names.
    """
    comps = sorted((sorted(c) for c in nx.strongly_connected_components(g)), key=lambda c: c[0])
    return {n: i for i, comp in enumerate(comps) for n in comp}


def structural_sign(
    g: nx.DiGraph, nodes: Sequence[str], signs: Mapping[tuple[str, str], int]
) -> str:
    """R or B from known link signs (outflows are negative), U if any is unknown."""
    product = 1
    for a, b in zip(nodes, (*nodes[1:], nodes[0]), strict=True):
        kind = g.edges[a, b]["kind"]
        s = -1 if kind == "outflow" else 1 if kind == "inflow" else signs.get((a, b), 0)
        if s == 0:
            return "U"
        product *= s
    return "R" if product > 0 else "B"


def assign_ids(
    loops: Iterable[tuple[tuple[str, ...], str, int, tuple[str, ...]]],
) -> list[Loop]:
    """Stable ids: loops ordered by (polarity, length, variables), numbered per polarity.

    ``loops`` yields (nodes, polarity, partition, variables).
    """
    ordered = sorted(loops, key=lambda t: ({"R": 0, "B": 1}.get(t[1], 2), len(t[3]), t[3], t[0]))
    counters: dict[str, int] = {}
    out = []
    for nodes, pol, part, variables in ordered:
        counters[pol] = counters.get(pol, 0) + 1
        out.append(Loop(f"{pol}{counters[pol]}", nodes, variables, pol, part))
    return out


def strongest_loops(
    stocks: Iterable[str],
    scores: Mapping[tuple[str, str], np.ndarray],
    times: Iterable[int],
    limit: int,
) -> list[tuple[str, ...]]:
    """Loops found by the strongest-path search at the given time indices.

    ``scores`` maps each link to its link scores over time; a loop is kept once
    (canonical rotation) and the search stops after ``limit`` loops.
    """
    found: dict[tuple[str, ...], None] = {}
    stock_list = sorted(stocks)
    for t in times:
        out: dict[str, list[tuple[float, str]]] = {}
        for (a, b), series in scores.items():
            w = abs(float(series[t]))
            if w > 0 and np.isfinite(w):
                out.setdefault(a, []).append((w, b))
        for lst in out.values():
            lst.sort(key=lambda p: (-p[0], p[1]))
        for target in stock_list:
            _search(target, out, found, limit)
            if len(found) >= limit:
                return list(found)
    return list(found)


def _search(
    target: str,
    out: Mapping[str, list[tuple[float, str]]],
    found: dict[tuple[str, ...], None],
    limit: int,
) -> None:
    # An explicit stack instead of recursion: models have long chains.
    best: dict[str, float] = {}
    visiting: set[str] = set()
    path: list[str] = []
    stack: list[tuple[str, float, int]] = [(target, 1.0, 0)]  # node, score, phase
    while stack:
        node, score, phase = stack.pop()
        if phase == 1:  # leaving node
            visiting.discard(node)
            path.pop()
            continue
        if node in visiting:
            if node == target:
                found.setdefault(_canonical(path), None)
                if len(found) >= limit:
                    return
            continue
        if score < best.get(node, 0.0):
            continue
        best[node] = score
        visiting.add(node)
        path.append(node)
        stack.append((node, score, 1))
        for w, nxt in reversed(out.get(node, [])):
            stack.append((nxt, score * w, 0))


__all__ = [
    "Link",
    "Loop",
    "assign_ids",
    "enumerate_cycles",
    "fold",
    "is_internal",
    "link_graph",
    "partitions",
    "strongest_loops",
    "structural_sign",
]
