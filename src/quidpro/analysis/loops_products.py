"""Loop scores as products of link scores, for thousands of loops at once.

A loop's score is the product of its links' scores (Schoenberg, Davidsen & Eberlein
2020). The flagship has ~3,000 loops of up to 63 links (118,000 factors in all);
multiplying each loop's links in turn over every ``(time, member)`` column made the
loop products 3/4 of an ensemble's analysis. Loops share long runs of links, so
:class:`LoopProducts` multiplies shared runs once:

- each loop is rotated to start at its most widely shared link and cut in two
  halves; the first halves form a *prefix tree* (a node per distinct prefix, its value
  its parent's times one link), the reversed second halves another, so a loop's score
  is one node of each multiplied together. On the flagship that is ~6,400 products
  instead of 118,000;
- each tree is computed level by level, one gather-and-multiply per depth for all its
  nodes at once, over a block of columns small enough to stay in the processor's
  cache (the product of long rows was limited by memory bandwidth).

Hand-written because it is the project's own bookkeeping (no library computes products
over a set of index paths); a log-domain matrix product would also be one call, but
``exp(sum(log))`` needs zero and sign bookkeeping and costs an ``exp`` per loop and
column. The factors are regrouped, so a score can differ from the left-to-right
product in the last bits (a relative 1e-15; the tests allow 1e-13).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

BLOCK_BYTES = 48 * 2**20  # memory of one block's tree values, at most
_Block = tuple[slice, np.ndarray, np.ndarray]  # columns, head and tail tree values
# A product tree as flat arrays (numba): its nodes' parents (-1: a first link) and links
# in level order, and each loop's node.
FlatTree = tuple[np.ndarray, np.ndarray, np.ndarray]


def flat_columns(a: np.ndarray) -> np.ndarray:
    """``a`` as ``(rows, columns)``: every axis after the first flattened (also for 0 rows)."""
    return a.reshape(a.shape[0], int(np.prod(a.shape[1:], dtype=int)))


class _Tree:
    """Prefix tree of link sequences, nodes numbered level by level."""

    def __init__(self, seqs: Sequence[tuple[int, ...]], identity: bool = False) -> None:
        # With ``identity``, node 0 is the empty product (a row of ones).
        ids: dict[tuple[int, ...], int] = {(): 0} if identity else {}
        self.identity = identity
        by_depth: list[list[tuple[int, ...]]] = []
        for q in seqs:
            for d in range(1, len(q) + 1):
                key = q[:d]
                if key not in ids:
                    ids[key] = -1
                    while len(by_depth) < d:
                        by_depth.append([])
                    by_depth[d - 1].append(key)
        self.levels: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # lo, hi, parent, link
        n = 1 if identity else 0
        for level in by_depth:
            level.sort()
            lo = n
            for key in level:
                ids[key] = n
                n += 1
            parents = np.array([ids[key[:-1]] if len(key) > 1 else -1 for key in level], dtype=int)
            links = np.array([key[-1] for key in level])
            self.levels.append((lo, n, parents, links))
        self.size = n
        self.end = np.array([ids[q] for q in seqs], dtype=int)

    def restricted(self, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Parent and link of the nodes on the paths to ``ends`` only, and ``ends`` there.

        Same level order, so each node's value is the full tree's (same products).
        """
        parent, link = self.flat()
        on = np.zeros(self.size, dtype=bool)
        for end in ends.tolist():
            node = end
            while node >= 0 and not on[node]:
                on[node] = True
                node = parent[node]
        if self.identity:
            on[0] = True
        nodes = np.flatnonzero(on)
        new = np.full(self.size, -1, dtype=np.int64)
        new[nodes] = np.arange(len(nodes))
        sub_parent = np.where(parent[nodes] >= 0, new[np.maximum(parent[nodes], 0)], -1)
        return sub_parent.astype(np.int64), link[nodes], new[ends]

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """Parent (-1 for a first link) and link of every node, in level order."""
        parent = np.full(self.size, -1, dtype=np.int64)
        link = np.zeros(self.size, dtype=np.int64)
        for lo, hi, parents, links in self.levels:
            parent[lo:hi] = parents
            link[lo:hi] = links
        return parent, link

    def values(self, flat: np.ndarray) -> np.ndarray:
        """Every node's product ``(node, column)`` for link scores ``flat``."""
        out = np.empty((self.size, flat.shape[1]))
        if self.identity:
            out[0] = 1.0
        for depth, (lo, hi, parents, links) in enumerate(self.levels):
            if depth == 0:
                np.take(flat, links, axis=0, out=out[lo:hi])
            else:
                np.multiply(out[parents], flat[links], out=out[lo:hi])
        return out


def automaton(seqs: Sequence[tuple[int, ...]]) -> tuple[int, np.ndarray, np.ndarray]:
    """The minimal acyclic automaton accepting exactly ``seqs`` (non-empty).

    Returns the number of states (0 the start, every transition from a lower to a higher
    state), the transitions ``(source, target, link)`` sorted by source, and the
    accepting states (one entry per sequence: a sequence given twice, twice). A sum
    over the sequences of products of per-link weights is one pass over the
    transitions (:mod:`quidpro.analysis.loops_jit`); the flagship's 2,964 loops
    (118,000 factors) need 488 transitions.
    """
    trie: list[dict[int, int]] = [{}]
    ends = [0]  # sequences ending at each trie node
    for q in seqs:
        node = 0
        for a in q:
            nxt = trie[node].get(a)
            if nxt is None:
                nxt = trie[node][a] = len(trie)
                trie.append({})
                ends.append(0)
            node = nxt
        ends[node] += 1
    # Merge equal sub-automata, children before parents (trie nodes are numbered in
    # insertion order, so a child's number is above its parent's).
    signature: dict[tuple[Any, ...], int] = {}
    state = [0] * len(trie)
    for node in range(len(trie) - 1, -1, -1):
        key = (ends[node], tuple(sorted((a, state[c]) for a, c in trie[node].items())))
        state[node] = signature.setdefault(key, len(signature))
    n = len(signature)
    edges = sorted(
        (n - 1 - sid, n - 1 - child, a) for (_, out), sid in signature.items() for a, child in out
    )
    accepting = sorted(n - 1 - sid for (k, _), sid in signature.items() for _ in range(k))
    return (
        n,
        np.array(edges, dtype=np.int64).reshape(len(edges), 3),
        np.array(accepting, dtype=np.int64),
    )


def _first_in(targets: np.ndarray) -> np.ndarray:
    """1 for each transition that is the first (in order) into its target, else 0."""
    first = np.zeros(len(targets), dtype=np.int64)
    _, at = np.unique(targets, return_index=True)
    first[at] = 1
    return first


class LoopProducts:
    """Loops as index arrays into a ``(link, ...)`` array of link scores.

    Args:
        members: for each loop, the indices of its links (in loop order).
        parts: the cycle partition of each loop (for :meth:`relative_of`); loops are
            computed in partition order, so that a partition's loops are one range of
            rows.
    """

    def __init__(self, members: Sequence[np.ndarray], parts: np.ndarray | None = None) -> None:
        self.n_loops = len(members)
        self.parts = np.zeros(self.n_loops, dtype=int) if parts is None else np.asarray(parts)
        self.order = np.argsort(self.parts, kind="stable")  # row r computes loop order[r]
        self.row = np.empty(self.n_loops, dtype=int)
        self.row[self.order] = np.arange(self.n_loops)
        shared = Counter(int(link) for m in members for link in m)
        heads, tails = [], []
        self.rotated: list[tuple[int, ...]] = []  # each loop's links from its start, by row
        for k in self.order:
            seq = [int(x) for x in members[k]]
            start = max(range(len(seq)), key=lambda i: (shared[seq[i]], seq[i]))
            seq = seq[start:] + seq[:start]
            half = (len(seq) + 1) // 2
            self.rotated.append(tuple(seq))
            heads.append(tuple(seq[:half]))
            tails.append(tuple(reversed(seq[half:])))
        self.heads = _Tree(heads)
        self.tails = _Tree(tails, identity=True)  # a loop of one link has the empty tail
        sorted_parts = self.parts[self.order]
        self.starts = np.flatnonzero(np.r_[True, sorted_parts[1:] != sorted_parts[:-1]])
        self.part_ids = sorted_parts[self.starts] if self.n_loops else np.zeros(0, dtype=int)
        self._pair_sums: list[tuple[np.ndarray, Any]] | None = None
        self._full: tuple[FlatTree, FlatTree, np.ndarray] | None = None

    def _trees(self, flat: np.ndarray, rows: int, block_bytes: int) -> Iterator[_Block]:
        """Both trees' values, a block of columns at a time (``rows`` more per column)."""
        rows += self.heads.size + self.tails.size
        width = max(1, block_bytes // (8 * max(1, rows)))
        for lo in range(0, flat.shape[1], width):
            cols = slice(lo, min(flat.shape[1], lo + width))
            block = np.ascontiguousarray(flat[:, cols])
            with np.errstate(over="ignore", invalid="ignore"):  # see scores()
                yield cols, self.heads.values(block), self.tails.values(block)

    def _product(self, head: np.ndarray, tail: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Scores of the loops at ``rows`` (partition order) from both trees' values."""
        with np.errstate(over="ignore", invalid="ignore"):
            prod: np.ndarray = head[self.heads.end[rows]]
            prod *= tail[self.tails.end[rows]]
        return prod

    def blocks(
        self, flat: np.ndarray, block_bytes: int = BLOCK_BYTES
    ) -> Iterator[tuple[slice, np.ndarray]]:
        """``(columns, scores (row, column))`` a block of columns at a time.

        Row ``r`` is loop ``order[r]`` (partition order); a product that overflows or
        meets ``inf * 0`` is not finite here (see :meth:`scores`).

        Args:
            flat: link scores ``(link, column)``.
            block_bytes: memory of one block's intermediate products, at most (one
                column at least).
        """
        every = np.arange(self.n_loops)
        for cols, head, tail in self._trees(flat, 2 * self.n_loops, block_bytes):
            yield cols, self._product(head, tail, every)

    def scores(self, ls: np.ndarray) -> np.ndarray:
        """Every loop's score ``(loop, ...)`` from link scores ``(link, ...)``.

        As a loop-by-loop product with ``nan_to_num(nan=0)``: an ``inf * 0`` is 0.
        """
        flat = flat_columns(ls)
        out = np.zeros((self.n_loops, flat.shape[1]))
        for cols, prod in self.blocks(flat):
            out[self.order, cols] = prod
        if not np.isfinite(out).all():
            np.nan_to_num(out, nan=0.0, copy=False)
        return out.reshape(self.n_loops, *ls.shape[1:])

    def _sums(self) -> list[tuple[np.ndarray, Any]]:
        """Per partition: its loops' distinct head nodes, and which tails go with each.

        A partition's sum of absolute loop scores is ``sum_h |head_h| * sum_t A[h, t]
        |tail_t|``, with ``A`` the 0/1 matrix of (head, tail) pairs that are its loops:
        one sparse product instead of a product per loop.
        """
        from scipy.sparse import csr_matrix

        out = []
        bounds = [*self.starts.tolist(), self.n_loops]
        for lo, hi in itertools.pairwise(bounds):
            heads, at = np.unique(self.heads.end[lo:hi], return_inverse=True)
            pairs = csr_matrix(
                (np.ones(hi - lo), (at, self.tails.end[lo:hi])),
                shape=(len(heads), self.tails.size),
            )
            out.append((heads, pairs))
        return out

    def arrays(self, keep: Sequence[int]) -> dict[str, Any]:
        """Partition sums as automata, the ``keep`` loops' trees, as flat arrays (numba)."""
        i64 = np.int64
        kept_parts = self.parts[np.asarray(keep, dtype=int)]
        groups = [np.flatnonzero(kept_parts == p) for p in np.unique(kept_parts)]
        starts, edges, accepting, owner = [], [], [], []
        offset = 0
        bounds = [*self.starts.tolist(), self.n_loops]
        for p, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            n, e, acc = automaton(self.rotated[lo:hi])
            starts.append(offset)
            edges.append(e + np.array([offset, offset, 0]))  # states renumbered
            accepting.append(acc + offset)
            owner.append(np.full(len(acc), p, dtype=i64))
            offset += n
        e = np.concatenate([np.zeros((0, 3), dtype=i64), *edges])
        (h_parent, h_link, h_end), (t_parent, t_link, t_end), part = self.kept_trees(keep)
        return {
            "sums": (
                np.array(starts, dtype=i64),
                e[:, 0].copy(),
                e[:, 1].copy(),
                e[:, 2].copy(),
                np.concatenate([np.zeros(0, dtype=i64), *accepting]),
                np.concatenate([np.zeros(0, dtype=i64), *owner]),
                np.array([offset], dtype=i64),
                _first_in(e[:, 1]),
            ),
            "exact": self._sequences(),
            "heads": (h_parent, h_link),
            "tails": (t_parent, t_link),
            "kept": (h_end, t_end, part),
            "groups": (
                np.r_[0, np.cumsum([len(g) for g in groups])].astype(i64),
                np.concatenate([np.zeros(0, dtype=int), *groups]).astype(i64),
            ),
        }

    def full_trees(self) -> tuple[FlatTree, FlatTree, np.ndarray]:
        """Both trees (a node per loop row) and the partitions' first rows, then the loop count."""
        if self._full is None:
            i64 = np.int64
            self._full = (
                (*self.heads.flat(), self.heads.end.astype(i64)),
                (*self.tails.flat(), self.tails.end.astype(i64)),
                np.r_[self.starts, self.n_loops].astype(i64),
            )
        return self._full

    def kept_trees(self, keep: Sequence[int]) -> tuple[FlatTree, FlatTree, np.ndarray]:
        """Both trees restricted to the ``keep`` loops' paths, and each one's partition row."""
        kept = np.asarray(keep, dtype=int)
        rows = self.row[kept]
        heads = self.heads.restricted(self.heads.end[rows])
        tails = self.tails.restricted(self.tails.end[rows])
        part = np.searchsorted(self.part_ids, self.parts[kept]).astype(np.int64)
        return heads, tails, part

    def _sequences(self) -> tuple[np.ndarray, ...]:
        """Partition starts, then each loop's head and reversed tail links (pointers, links)."""
        i64 = np.int64
        heads = [self.rotated[r][: (len(self.rotated[r]) + 1) // 2] for r in range(self.n_loops)]
        tails = [tuple(reversed(q[len(h) :])) for q, h in zip(self.rotated, heads, strict=True)]

        def flat(seqs: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
            ptr = np.r_[0, np.cumsum([len(q) for q in seqs])].astype(i64)
            return ptr, np.array([a for q in seqs for a in q], dtype=i64)

        return (np.r_[self.starts, self.n_loops].astype(i64), *flat(heads), *flat(tails))

    def relative_of(self, ls: np.ndarray, keep: Sequence[int]) -> np.ndarray:
        """Relative scores ``(len(keep), ...)`` of the ``keep`` loops.

        Each is normalised by the absolute scores of every loop of its partition, summed
        through the trees (see :meth:`_sums`) without forming every loop's score.
        """
        flat = flat_columns(ls)
        kept = np.asarray(keep, dtype=int)
        rel = np.zeros((len(kept), flat.shape[1]))
        if self.n_loops == 0 or len(kept) == 0:
            return rel.reshape(len(kept), *ls.shape[1:])
        if self._pair_sums is None:
            self._pair_sums = self._sums()
        kept_rows = self.row[kept]
        part_row = np.searchsorted(self.part_ids, self.parts[kept])
        for cols, head, tail in self._trees(flat, 2 * len(kept), BLOCK_BYTES):
            with np.errstate(over="ignore", invalid="ignore"):
                abs_tail = np.abs(tail)
                denom = np.stack(
                    [
                        np.einsum("ij,ij->j", np.abs(head[heads]), pairs @ abs_tail)
                        for heads, pairs in self._pair_sums
                    ]
                )
            if not np.isfinite(denom).all():  # rare: as scores(), inf * 0 counts 0
                prod = np.nan_to_num(self._product(head, tail, np.arange(self.n_loops)), nan=0.0)
                denom = np.add.reduceat(np.abs(prod), self.starts, axis=0)
            mine = np.nan_to_num(self._product(head, tail, kept_rows), nan=0.0, copy=False)
            d = denom[part_row]
            with np.errstate(invalid="ignore", divide="ignore"):
                rel[:, cols] = np.where(d > 0, mine / np.where(d > 0, d, 1.0), 0.0)
        return rel.reshape(len(kept), *ls.shape[1:])


__all__ = ["LoopProducts", "flat_columns"]
