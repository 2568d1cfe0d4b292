"""``model.graph.Digraph``: the order and the cycle networkx gives, without networkx."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from quidpro.model.graph import Digraph


def random_graphs(acyclic: bool) -> list[list[tuple[str, str]]]:
    rng = random.Random(7)
    graphs = []
    for _ in range(200):
        n = rng.randint(1, 25)
        names = [f"v{rng.randint(0, 99)}_{i}" for i in range(n)]
        edges = []
        for _ in range(rng.randint(0, 3 * n)):
            a, b = rng.randrange(n), rng.randrange(n)
            if acyclic and a >= b:
                continue
            edges.append((names[a], names[b]))
        rng.shuffle(edges)
        graphs.append([(x, x) for x in names] + edges)  # (x, x): add the node alone
    return graphs


def both(ops: list[tuple[str, str]]) -> tuple[Digraph, nx.DiGraph]:
    ours, theirs = Digraph(), nx.DiGraph()
    for a, b in ops:
        if a == b:
            ours.add_node(a)
            theirs.add_node(a)
        else:
            ours.add_edge(a, b)
            theirs.add_edge(a, b)
    return ours, theirs


@pytest.mark.parametrize("ops", random_graphs(acyclic=True))
def test_the_order_is_networkxs_lexicographical_topological_sort(
    ops: list[tuple[str, str]],
) -> None:
    ours, theirs = both(ops)
    position = {n: i for i, n in enumerate(theirs)}
    for key in (position.__getitem__, str):
        assert ours.ordered(key) == list(nx.lexicographical_topological_sort(theirs, key=key))


@pytest.mark.parametrize("ops", random_graphs(acyclic=False))
def test_a_cycle_gives_no_order_and_networkxs_cycle(ops: list[tuple[str, str]]) -> None:
    ours, theirs = both(ops)
    try:
        expected = nx.find_cycle(theirs)
    except nx.NetworkXNoCycle:
        assert ours.ordered(str) is not None
        return
    assert ours.ordered(str) is None
    assert ours.find_cycle() == list(expected)


def test_a_name_that_needs_itself_is_a_cycle() -> None:
    g = Digraph()
    g.add_edge("a", "b")
    g.add_edge("b", "b")
    assert g.ordered(str) is None
    assert g.find_cycle() == [("b", "b")]
