"""The numba loop that counts, from a batch's recorded series, how often each loop dominates.

The NumPy path of an ensemble's loop analysis (link scores of every step as arrays,
then :meth:`~quidpro.analysis.loops_products.LoopProducts.relative_of`, then
:func:`~quidpro.analysis.loops.dominant_mask`) makes a dozen passes over arrays of
``(link or tree node, time, member)`` far larger than the processor's cache: on the
flagship it cost ten times the kernel run it reads. Here one pass does everything for
a block of columns at a time, the columns side by side so that the inner loops are
vector operations: with numba's kernel (each member's steps contiguous) a column is
one member at one of a block of its saved steps, and groups of members run in
parallel; with NumPy's (each step's members contiguous) a column is a member at one
step. For each block: the link scores (as
:func:`~quidpro.analysis.loops_kernel.scores`); each partition's sum of absolute loop
scores as one pass over the minimal automaton of its loops
(:func:`~quidpro.analysis.loops_products.automaton`: a state's value is the sum of the
products along the paths reaching it); the kept loops' scores from the two product
trees restricted to their paths (the same products as the full trees); their relative
scores; and the dominant set (as ``dominant_mask``: stable order by magnitude, the same
running sum), counted. Nothing of ``(link, time, member)`` size is stored.

Every operation is the NumPy path's, in the same order, except the partition sums
(added in another order: a relative 1e-16 on sums of non-negative terms; a column whose
sum overflows is redone loop by loop, as the NumPy path does). This module imports
nothing of quidpro (loops imports it lazily, only with numba installed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numba
import numpy as np
from numba import njit, prange

CHUNK = 256  # columns per pass (vector loops long enough to pay; ~2 MiB of tree values)
PAD = 8  # spare columns: rows 2 KiB apart would share the same few cache sets
PARTIAL, SIGN, INFLOW, OUTFLOW = 0, 1, 2, 3
BIG = np.finfo(np.float64).max


@njit(cache=True, error_model="numpy", inline="always")
def _finite(x: float) -> float:
    """``nan_to_num(x, nan=0.0)``: NaN to 0, infinities to the largest floats."""
    if x != x:  # noqa: PLR0124  # numba's NaN test
        return 0.0
    if x > BIG:
        return BIG
    if x < -BIG:
        return -BIG
    return x


@njit(cache=True, error_model="numpy", inline="always")
def _sign(x: float) -> float:
    """``np.sign``: NaN stays NaN."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    if x == 0.0:
        return 0.0
    return x


@njit(cache=True, error_model="numpy", inline="always")
def _score(  # noqa: PLR0917  # numba: scalars positionally
    kind: int, x1: float, x0: float, z1: float, z0: float, p1: float, p0: float
) -> float:
    """One link's score from its source ``x``, target ``z`` and partial-or-net ``p``.

    ``1`` is the value at a step, ``0`` at the step before; as
    :func:`~quidpro.analysis.loops_kernel.scores`, without branches on the values.
    """
    dx = x1 - x0
    if kind >= INFLOW:  # flow to stock: the flow's change over the net flow's
        dnet = p1 - p0
        ratio = abs(dx / (1.0 if dnet == 0.0 else dnet))
        return _finite(0.0 if dnet == 0.0 else (1.0 if kind == INFLOW else -1.0) * ratio)
    dz = z1 - z0
    if kind == SIGN:
        return _finite(0.0 if (dz == 0.0) | (dx == 0.0) else _sign(dz * dx))
    pz = p1 - z0
    mag = abs(pz / (1.0 if dz == 0.0 else dz))
    return _finite(0.0 if (dz == 0.0) | (dx == 0.0) else mag * _sign(pz * dx))


@njit(cache=True, error_model="numpy")
def _link_scores(  # noqa: PLR0917  # numba: arrays positionally
    now: np.ndarray,
    before: np.ndarray,
    m0: int,
    m1: int,
    kind: np.ndarray,
    src: np.ndarray,
    tgt: np.ndarray,
    aux: np.ndarray,
    ls: np.ndarray,
) -> None:
    """Link scores of columns ``m0 .. m1 - 1`` of ``now`` against ``before`` into ``ls``.

    ``now`` and ``before`` are series ``(series, column)``: a column is a member at a
    step ``t`` and at ``t - 1``, or one member at several steps. At the run's start
    ``before`` is the start itself, so that every change, and every score, is 0 (a NaN
    change gives a NaN score, counted as 0 like any other).

    One loop per link over the columns (vector operations).
    """
    w = m1 - m0
    for k in range(len(kind)):
        a, z, p, kk = src[k], tgt[k], aux[k], kind[k]
        out = ls[k]
        x1, x0 = now[a, m0:m1], before[a, m0:m1]
        z1, z0, p1, p0 = now[z, m0:m1], before[z, m0:m1], now[p, m0:m1], before[p, m0:m1]
        for j in range(w):
            out[j] = _score(kk, x1[j], x0[j], z1[j], z0[j], p1[j], p0[j])


@njit(cache=True, error_model="numpy")
def _tree(  # noqa: PLR0917  # numba: arrays positionally
    parent: np.ndarray, link: np.ndarray, first: int, ls: np.ndarray, w: int, out: np.ndarray
) -> None:
    """Node values of a prefix tree over the first ``w`` columns, nodes in level order."""
    for n in range(first, len(parent)):
        q, k = parent[n], link[n]
        if q < 0:
            for j in range(w):
                out[n, j] = ls[k, j]
        else:
            for j in range(w):
                out[n, j] = out[q, j] * ls[k, j]


@njit(cache=True, error_model="numpy")
def _denominators(  # numba: arrays positionally
    ls: np.ndarray,
    sums: tuple[np.ndarray, ...],
    w: int,
    val: np.ndarray,
    denom: np.ndarray,
) -> None:
    """Each partition's sum of absolute loop scores: one pass over its automaton.

    A state's value is the sum over the paths reaching it of their products of absolute
    link scores; the accepting states' values add up to the sum over the loops.
    """
    starts, src, dst, link, accepting, owner, _, first = sums
    denom[:, :w] = 0.0
    for s in starts:
        val[s, :w] = 1.0
    for e in range(len(src)):
        a, b, k = src[e], dst[e], link[e]
        if first[e]:  # a state's first incoming path: set (no zeroing pass)
            for j in range(w):
                val[b, j] = val[a, j] * abs(ls[k, j])
        else:
            for j in range(w):
                val[b, j] += val[a, j] * abs(ls[k, j])
    for i in range(len(accepting)):
        for j in range(w):
            denom[owner[i], j] += val[accepting[i], j]


@njit(cache=True, error_model="numpy")
def _exact_denominator(  # numba: arrays positionally
    ls: np.ndarray,
    exact: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    j: int,
    denom: np.ndarray,
) -> None:
    """Column ``j``'s sums loop by loop: an overflow or ``inf * 0`` counts as in NumPy's."""
    starts, h_ptr, h_links, t_ptr, t_links = exact
    for p in range(len(starts) - 1):
        total = 0.0
        for r in range(starts[p], starts[p + 1]):
            head = ls[h_links[h_ptr[r]], j]
            for i in range(h_ptr[r] + 1, h_ptr[r + 1]):
                head *= ls[h_links[i], j]
            tail = 1.0
            for i in range(t_ptr[r], t_ptr[r + 1]):
                tail = ls[t_links[i], j] if i == t_ptr[r] else tail * ls[t_links[i], j]
            total += abs(_finite(head * tail))
        denom[p, j] = total


@njit(cache=True, error_model="numpy")
def _dominant(  # noqa: PLR0917  # numba: arrays positionally
    rel: np.ndarray,
    g_ptr: np.ndarray,
    g_idx: np.ndarray,
    w: int,
    at: np.ndarray,
    live: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Count, per group of kept loops, the smallest set explaining at least half.

    Column ``j`` of ``rel`` is counted at saved time ``at[j]``, if ``live[j]``.

    As ``dominant_mask``: loops in a stable order by decreasing magnitude, each taken
    while the running sum before it (``cumsum - self``, the same floats) is below one
    half. The loops are picked largest first and the picking stops once the sum before
    is past one half by more than rounding can bring back (each magnitude is at most
    one, so the rest would not be taken).
    """
    size = 0
    for g in range(len(g_ptr) - 1):
        size = max(size, g_ptr[g + 1] - g_ptr[g])
    mag = np.empty(size)
    for j in range(w):
        if not live[j]:
            continue
        for g in range(len(g_ptr) - 1):
            lo, n = g_ptr[g], g_ptr[g + 1] - g_ptr[g]
            for i in range(n):
                mag[i] = abs(rel[g_idx[lo + i], j])
            running = 0.0
            for _ in range(n):
                best = 0
                for i in range(1, n):
                    if mag[i] > mag[best]:
                        best = i
                mk = mag[best]
                if mk <= 0.0:  # the rest are 0 (or already taken)
                    break
                running += mk
                before = running - mk
                if before < 0.5 - 1e-12:
                    counts[g_idx[lo + best], at[j]] += 1.0
                elif before > 0.5 + 1e-9:
                    break
                if running > 0.5 + 1e-9:  # the next one's sum before is past a half
                    break
                mag[best] = -1.0  # taken


def dominance_counts(  # noqa: PLR0917  # the arrays of one batch
    values: np.ndarray,
    stride: int,
    links: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    arrays: Mapping[str, Any],
    counts: np.ndarray,
    ok: np.ndarray,
) -> None:
    """Add to ``counts[kept loop, saved time]`` the ``ok`` members in which it dominates.

    Args:
        values: the batch's series ``(step, series, member)``, every step: stored so
            (NumPy's kernel) or as ``(member, step, series)`` seen through a transposed
            view (numba's); another layout is copied.
        stride: steps per saved time.
        links: per link, its kind, source, target and partial-or-net series.
        arrays: :meth:`~quidpro.analysis.loops_products.LoopProducts.arrays` of the
            kept loops, by key:

            - ``sums``: the partitions' automata: start states, transitions (source,
              target, link), accepting states and their partitions, the number of
              states, and which transitions are the first into their target;
            - ``exact``: partition starts, each loop's head and reversed tail links
              (pointers, links), for a column whose automaton sum is not finite;
            - ``heads``: parent node (-1: a first link) and link of each node of the
              head tree, restricted to the kept loops' paths;
            - ``tails``: the same for the tail tree (node 0 the empty product);
            - ``kept``: the kept loops' head node, tail node and partition;
            - ``groups``: the kept loops by partition (pointers, kept indices).
        counts: ``(kept loop, saved time)``, added to.
        ok: per member, whether it counts (a member whose run failed does not).
    """
    ok = np.ascontiguousarray(ok, dtype=np.bool_)
    a = arrays
    tables = (a["sums"], a["exact"], a["heads"], a["tails"], a["kept"], a["groups"])
    args = (stride, links, *tables, ok)
    by_member = np.moveaxis(values, 2, 0)
    if by_member.flags.c_contiguous:  # numba's kernel: one member's steps side by side
        n_groups = min(by_member.shape[0], 2 * numba.get_num_threads())
        partial = np.zeros((n_groups, *counts.shape))
        _counts_by_member(by_member, *args, partial)
        counts += partial.sum(axis=0)
    else:  # NumPy's kernel: members side by side, a step at a time
        _counts_by_step(np.ascontiguousarray(values), *args, counts)


@njit(cache=True, error_model="numpy")
def _work(  # noqa: PLR0917  # numba: arrays positionally
    n_series: int,
    width: int,
    links: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    sums: tuple[np.ndarray, ...],
    exact: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    heads: tuple[np.ndarray, np.ndarray],
    tails: tuple[np.ndarray, np.ndarray],
    kept: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, ...]:
    """Scratch arrays of ``width`` columns: series now and before, then :func:`_block`'s."""
    cols = width + PAD
    return (
        np.empty((n_series, cols)),  # series at the columns' steps
        np.empty((n_series, cols)),  # the same one step earlier
        np.empty((len(links[0]), cols)),  # link scores
        np.empty((len(heads[0]), cols)),  # head tree
        np.ones((len(tails[0]), cols)),  # tail tree (node 0 the empty tail)
        np.empty((max(sums[6][0], 1), cols)),  # automaton states
        np.empty((len(exact[0]) - 1, cols)),  # partition sums
        np.empty((len(kept[0]), cols)),  # relative scores
    )


@njit(cache=True, error_model="numpy", parallel=True)
def _counts_by_member(  # noqa: PLR0917  # numba: arrays positionally
    by_member: np.ndarray,
    stride: int,
    links: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    sums: tuple[np.ndarray, ...],
    exact: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    heads: tuple[np.ndarray, np.ndarray],
    tails: tuple[np.ndarray, np.ndarray],
    kept: tuple[np.ndarray, np.ndarray, np.ndarray],
    groups: tuple[np.ndarray, np.ndarray],
    ok: np.ndarray,
    partial: np.ndarray,
) -> None:
    """:func:`dominance_counts` of ``by_member[member, step, series]``, into ``partial[g]``.

    A member's steps are contiguous: its saved steps (and the step before each) are
    read in blocks of :data:`CHUNK`, which are the columns of the vector loops. Groups
    of members run in parallel, each counting into its own ``partial[g]``.
    """
    n_members, n_steps, n_series = by_member.shape
    n_groups = partial.shape[0]
    n_saved = (n_steps - 1) // stride + 1
    for g in prange(n_groups):
        work = _work(n_series, CHUNK, links, sums, exact, heads, tails, kept)
        now, before = work[0], work[1]
        at = np.empty(CHUNK, dtype=np.int64)
        live = np.ones(CHUNK, dtype=np.bool_)  # the columns are one member's steps
        for m in range(g * n_members // n_groups, (g + 1) * n_members // n_groups):
            if not ok[m]:
                continue
            for s0 in range(0, n_saved, CHUNK):
                w = min(n_saved, s0 + CHUNK) - s0
                for j in range(w):
                    at[j] = s0 + j
                    _column(by_member[m], (s0 + j) * stride, j, stride == 1, now, before)
                if stride == 1:  # the step before is the previous column
                    for i in range(n_series):
                        before[i, 1:w] = now[i, : w - 1]
                args = (now, before, 0, w, at, live, links, sums, exact, heads, tails, kept)
                _block(*args, groups, work[2:], partial[g])


@njit(cache=True, error_model="numpy", inline="always")
def _column(  # noqa: PLR0917  # numba: arrays positionally
    steps: np.ndarray, t: int, j: int, first_only: bool, now: np.ndarray, before: np.ndarray
) -> None:
    """Column ``j``: a member's series at step ``t`` and ``t - 1`` (j = 0 only if first_only)."""
    row, prev = steps[t], steps[max(t - 1, 0)]
    for i in range(len(row)):
        now[i, j] = row[i]
    if j == 0 or not first_only:
        for i in range(len(row)):
            before[i, j] = prev[i]


@njit(cache=True, error_model="numpy")
def _counts_by_step(  # noqa: PLR0917  # numba: arrays positionally
    values: np.ndarray,
    stride: int,
    links: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    sums: tuple[np.ndarray, ...],
    exact: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    heads: tuple[np.ndarray, np.ndarray],
    tails: tuple[np.ndarray, np.ndarray],
    kept: tuple[np.ndarray, np.ndarray, np.ndarray],
    groups: tuple[np.ndarray, np.ndarray],
    ok: np.ndarray,
    counts: np.ndarray,
) -> None:
    """:func:`dominance_counts` of ``values[step, series, member]``: members side by side."""
    n_steps, _, n_members = values.shape
    work = _work(0, CHUNK, links, sums, exact, heads, tails, kept)
    at = np.empty(CHUNK, dtype=np.int64)
    for t in range(0, n_steps, stride):
        at[:] = t // stride
        for m0 in range(0, n_members, CHUNK):
            m1 = min(n_members, m0 + CHUNK)
            args = (values[t], values[max(t - 1, 0)], m0, m1, at, ok[m0:m1])
            _block(*args, links, sums, exact, heads, tails, kept, groups, work[2:], counts)


@njit(cache=True, error_model="numpy")
def _block(  # noqa: PLR0917  # numba: arrays positionally
    now: np.ndarray,
    before: np.ndarray,
    m0: int,
    m1: int,
    at: np.ndarray,
    live: np.ndarray,
    links: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    sums: tuple[np.ndarray, ...],
    exact: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    heads: tuple[np.ndarray, np.ndarray],
    tails: tuple[np.ndarray, np.ndarray],
    kept: tuple[np.ndarray, np.ndarray, np.ndarray],
    groups: tuple[np.ndarray, np.ndarray],
    work: tuple[np.ndarray, ...],
    counts: np.ndarray,
) -> None:
    """The counts of columns ``m0 .. m1 - 1`` of ``now`` and ``before`` (saved times ``at``).

    A column whose ``live`` is false is not counted.
    """
    ls, head, tail, val, denom, rel = work
    k_head, k_tail, k_part = kept
    w = m1 - m0
    _link_scores(now, before, m0, m1, links[0], links[1], links[2], links[3], ls)
    _tree(heads[0], heads[1], 0, ls, w, head)
    _tree(tails[0], tails[1], 1, ls, w, tail)
    _denominators(ls, sums, w, val, denom)
    for j in range(w):
        for p in range(denom.shape[0]):
            d = denom[p, j]
            if d - d != 0.0:  # not finite: loop by loop, as NumPy's fallback
                _exact_denominator(ls, exact, j, denom)
                break
    for i in range(len(k_head)):
        for j in range(w):
            mine = _finite(head[k_head[i], j] * tail[k_tail[i], j])
            d = denom[k_part[i], j]
            rel[i, j] = mine / d if d > 0.0 else 0.0
    _dominant(rel, groups[0], groups[1], w, at, live, counts)
