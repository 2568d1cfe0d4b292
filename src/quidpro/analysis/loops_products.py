"""Loop scores as products of link scores, for thousands of loops at once.

A loop's score is the product of its links' scores (Schoenberg, Davidsen & Eberlein
2020). The flagship has 2,683 loops of up to ~30 links; multiplying them one loop at a
time costs a NumPy call per link per loop, which dominated an ensemble's analysis.
:class:`LoopProducts` groups loops by length and multiplies each group with one gather
and one multiply per link position, over every loop of the group and every
``(time, member)`` column at once, in row chunks of bounded memory. The factors are
multiplied in the same order as before (first link to last), so the scores are the
same floating-point numbers, bit for bit, as a loop-by-loop product. (A log-domain
matrix product would also be one call, but ``exp(sum(log))`` is not exact and needs
separate zero and sign bookkeeping; the grouped product is exact and as fast.)

A loop with a link that never scores (0 at every column) is 0 without multiplying:
:meth:`LoopProducts.live` finds them first, which removes most of the flagship's loops
in a single run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

CHUNK_BYTES = 64 * 2**20  # memory of one chunk of products


class LoopProducts:
    """Loops as index arrays into a ``(link, ...)`` array of link scores.

    Args:
        members: for each loop, the indices of its links (in loop order).
    """

    def __init__(self, members: Sequence[np.ndarray]) -> None:
        self.n_loops = len(members)
        lengths = np.array([len(m) for m in members], dtype=int)
        self.groups: list[tuple[np.ndarray, np.ndarray]] = []
        for length in np.unique(lengths):
            idx = np.flatnonzero(lengths == length)
            self.groups.append((idx, np.stack([np.asarray(members[int(k)]) for k in idx])))

    def live(self, alive_links: np.ndarray) -> np.ndarray:
        """Boolean per loop: every one of its links scores somewhere."""
        out = np.zeros(self.n_loops, dtype=bool)
        for idx, links in self.groups:
            out[idx] = alive_links[links].all(axis=1)
        return out

    def chunks(
        self, flat: np.ndarray, live: np.ndarray, chunk_bytes: int = CHUNK_BYTES
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(loop indices, scores)`` of the live loops, a chunk of rows at a time.

        Args:
            flat: link scores ``(link, column)``.
            live: which loops to compute (see :meth:`live`).
            chunk_bytes: memory of one chunk of scores, at most (one row at least).
        """
        rows = max(1, chunk_bytes // max(1, 8 * flat.shape[1]))
        for group, group_links in self.groups:
            sel = live[group]
            idx, links = group[sel], group_links[sel]
            for lo in range(0, len(idx), rows):
                part = links[lo : lo + rows]
                prod = flat[part[:, 0]]  # a gather: a fresh array to multiply into
                for j in range(1, part.shape[1]):
                    prod *= flat[part[:, j]]
                yield idx[lo : lo + rows], np.nan_to_num(prod, nan=0.0, copy=False)

    def scores(self, ls: np.ndarray, alive_links: np.ndarray | None = None) -> np.ndarray:
        """Every loop's score ``(loop, ...)`` from link scores ``(link, ...)``."""
        flat = ls.reshape(len(ls), -1)
        if alive_links is None:
            alive_links = np.any(flat != 0, axis=1)
        out = np.zeros((self.n_loops, flat.shape[1]))
        for idx, prod in self.chunks(flat, self.live(alive_links)):
            out[idx] = prod
        return out.reshape(self.n_loops, *ls.shape[1:])

    def relative_of(self, ls: np.ndarray, parts: np.ndarray, keep: Sequence[int]) -> np.ndarray:
        """Relative scores ``(len(keep), ...)`` of the ``keep`` loops.

        Each is normalised by the absolute scores of every loop of its partition;
        the scores of loops not kept are summed chunk by chunk and never stored whole.
        """
        flat = ls.reshape(len(ls), -1)
        n_cols = flat.shape[1]
        n_parts = int(parts.max(initial=-1)) + 1
        denom = np.zeros((n_parts, n_cols))
        kept = np.zeros((len(keep), n_cols))
        row_of = np.full(self.n_loops, -1)
        row_of[np.asarray(keep, dtype=int)] = np.arange(len(keep))
        live = self.live(np.any(flat != 0, axis=1))
        for idx, prod in self.chunks(flat, live):
            chunk_parts = parts[idx]
            for p in np.unique(chunk_parts):
                denom[p] += np.abs(prod[chunk_parts == p]).sum(axis=0)
            rows = row_of[idx]
            mine = rows >= 0
            kept[rows[mine]] = prod[mine]
        d = denom[parts[np.asarray(keep, dtype=int)]]
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(d > 0, kept / np.where(d > 0, d, 1.0), 0.0)
        return rel.reshape(len(keep), *ls.shape[1:])


__all__ = ["LoopProducts"]
