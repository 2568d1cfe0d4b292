"""Small directed graphs of names: an evaluation order, and the cycle that prevents one.

Reading and running a model needs only an order (Kahn's algorithm, here in the
standard library); networkx (a fifth of a second to import) is imported only for a
model in error, to find the cycle its message names, so that the message is the one
networkx has always given.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any


class Digraph:
    """Nodes and edges in the order they were added (as ``networkx.DiGraph`` keeps them)."""

    def __init__(self) -> None:
        self.succ: dict[str, dict[str, None]] = {}

    def add_node(self, node: str) -> None:
        """Add ``node`` (again: no change)."""
        self.succ.setdefault(node, {})

    def add_edge(self, tail: str, head: str) -> None:
        """Add the edge ``tail -> head`` (and either node not yet added, tail first)."""
        self.add_node(tail)
        self.add_node(head)
        self.succ[tail][head] = None

    def ordered(self, key: Callable[[str], Any]) -> list[str] | None:
        """Every node after its predecessors, the smallest ``key`` first; None on a cycle.

        With a ``key`` unique to each node this is the order of networkx's
        ``lexicographical_topological_sort``.
        """
        indegree = dict.fromkeys(self.succ, 0)
        for heads in self.succ.values():
            for head in heads:
                indegree[head] += 1
        ready = [(key(n), i, n) for i, (n, d) in enumerate(indegree.items()) if d == 0]
        heapq.heapify(ready)
        position = {n: i for i, n in enumerate(self.succ)}
        out: list[str] = []
        while ready:
            node = heapq.heappop(ready)[2]
            out.append(node)
            for head in self.succ[node]:
                indegree[head] -= 1
                if indegree[head] == 0:
                    heapq.heappush(ready, (key(head), position[head], head))
        return out if len(out) == len(self.succ) else None

    def find_cycle(self) -> list[tuple[str, str]]:
        """The edges of the cycle ``networkx.find_cycle`` finds (for an error message)."""
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(self.succ)
        g.add_edges_from((tail, head) for tail, heads in self.succ.items() for head in heads)
        return [(tail, head) for tail, head in nx.find_cycle(g)]
