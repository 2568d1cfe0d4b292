"""Loop products in bulk, the per-model cache and order independence of the loop analysis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import quidpro
from quidpro.analysis import loops as loops_mod
from quidpro.analysis.loops import analyse_loops, relative_scores
from quidpro.analysis.loops_products import LoopProducts

DATA = Path(__file__).parent / "data" / "loops"


def _random_case(seed: int) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    ls = rng.normal(size=(40, 30, 7))
    ls[rng.random(ls.shape) < 0.2] = 0.0  # links inactive at some times
    ls[[3, 17]] = 0.0  # and two links that never score
    members = [rng.choice(40, size=int(rng.integers(1, 9)), replace=False) for _ in range(300)]
    parts = rng.integers(0, 3, size=300)
    return ls, members, parts


def _one_by_one(ls: np.ndarray, members: list[np.ndarray]) -> np.ndarray:
    out = np.zeros((len(members), *ls.shape[1:]))
    for k, m in enumerate(members):
        row = ls[m[0]].copy()
        for j in m[1:]:
            row *= ls[j]
        out[k] = row
    return out


def test_shared_products_equal_the_loop_by_loop_product() -> None:
    ls, members, parts = _random_case(1)
    want = _one_by_one(ls, members)
    lp = LoopProducts(members, parts)
    # The factors are regrouped (prefix and suffix trees), so equal to rounding.
    np.testing.assert_allclose(lp.scores(ls), want, rtol=1e-13, atol=0)
    dead = [k for k, m in enumerate(members) if 3 in m or 17 in m]
    assert dead
    assert not lp.scores(ls)[dead].any()
    # Shared runs are multiplied once: fewer products than factors.
    assert lp.heads.size + lp.tails.size < sum(len(m) for m in members)
    # In blocks of one column too (the memory bound).
    flat = ls.reshape(len(ls), -1)
    got = np.zeros((len(members), flat.shape[1]))
    widths = set()
    for cols, prod in lp.blocks(flat, block_bytes=1):
        got[lp.order, cols] = prod  # rows come in partition order
        widths.add(cols.stop - cols.start)
    assert widths == {1}
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-13, atol=0)


def test_loops_of_one_link_and_no_loops() -> None:
    ls = np.array([[2.0, -3.0], [0.5, 4.0]])
    lp = LoopProducts([np.array([0]), np.array([1, 0]), np.array([1])])
    np.testing.assert_array_equal(lp.scores(ls), [[2.0, -3.0], [1.0, -12.0], [0.5, 4.0]])
    empty = LoopProducts([])
    assert empty.scores(ls).shape == (0, 2)
    assert empty.relative_of(ls, []).shape == (0, 2)
    # An overflow times a zero is 0, as nan_to_num(nan=0) of the plain product.
    big = np.array([[1e300, 1e300], [1e300, 0.0]])
    lp = LoopProducts([np.array([0, 0, 1])])
    np.testing.assert_array_equal(lp.scores(big), [[np.finfo(float).max, 0.0]])
    np.testing.assert_array_equal(lp.relative_of(big, [0]), [[1.0, 0.0]])


def test_relative_scores_of_kept_loops_normalise_over_every_loop() -> None:
    ls, members, parts = _random_case(2)
    keep = [0, 5, 9, 120, 299]
    want = relative_scores(_one_by_one(ls, members), parts)[keep]
    got = LoopProducts(members, parts).relative_of(ls, keep)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    assert np.all(np.abs(got) <= 1 + 1e-12)


def test_structure_is_cached_per_model_and_not_confused_between_models() -> None:
    m = quidpro.load(DATA / "yeast.yaml")
    first = analyse_loops(m)
    s = loops_mod._structure(m.spec, loops_mod.BUDGET)
    assert loops_mod._structure(m.spec, loops_mod.BUDGET) is s
    again = analyse_loops(m)
    for a, b in zip(first.loops, again.loops, strict=True):
        assert (a.id, a.variables) == (b.id, b.variables)
        np.testing.assert_array_equal(a.relative_score, b.relative_score)
    other = quidpro.load(DATA / "bass.yaml")
    assert loops_mod._structure(other.spec, loops_mod.BUDGET) is not s
    assert {lp.variables for lp in analyse_loops(other).loops} != {
        lp.variables for lp in first.loops
    }


_PROBE = """
import json, sys
import quidpro
from quidpro.analysis.loops import analyse_loops
from quidpro.analysis.loops_expand import expand
from quidpro.analysis.loops_graph import enumerate_cycles, link_graph
m = quidpro.load(sys.argv[1])
a = analyse_loops(m, runs=30, seed=4, backend="numpy")
out = {lp.id: [list(lp.variables), lp.relative_score.tolist(), lp.p_dominant.tolist()]
       for lp in a.loops}
out["cycles"] = enumerate_cycles(link_graph(expand(m.spec)), 100)[0]
print(json.dumps(out))
"""


def test_results_do_not_depend_on_string_hashing() -> None:
    # networkx yields cycles in an order set by Python's per-process string hashing;
    # the analysis sorts them, so ids, scores and dominance (where ties are broken by
    # order) are the same in every process.
    outs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run(
            [sys.executable, "-c", _PROBE, str(DATA / "yeast.yaml")],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outs.append(json.loads(run.stdout))
    assert outs[0] == outs[1]
    assert len(outs[0]) == 5  # four loops and the cycle list


def test_automaton_accepts_exactly_the_loops() -> None:
    # The minimal automaton of a set of link sequences: its paths from the start to an
    # accepting state are the sequences, so the sum over paths of products of per-link
    # weights is the sum over the sequences; and it is smaller than their prefix tree.
    from quidpro.analysis.loops_products import automaton

    rng = np.random.default_rng(4)
    seqs = sorted({tuple(rng.choice(12, size=int(rng.integers(1, 7)))) for _ in range(400)})
    n, edges, accepting = automaton(seqs)
    assert np.all(edges[:, 0] < edges[:, 1])  # numbered in topological order
    assert len(edges) < sum(len(q) for q in seqs) / 2
    w = rng.random(12) + 0.5
    val = np.zeros(n)
    val[0] = 1.0
    for a, b, k in edges:
        val[b] += val[a] * w[k]
    want = sum(np.prod(w[list(q)]) for q in seqs)
    np.testing.assert_allclose(val[accepting].sum(), want, rtol=1e-12)
    # Paths, enumerated: exactly the sequences, each once.
    out: dict[int, list[tuple[int, int]]] = {}
    for a, b, k in edges.tolist():
        out.setdefault(a, []).append((b, k))
    found, stack = [], [(0, ())]
    while stack:
        s, path = stack.pop()
        if s in set(accepting.tolist()):
            found.append(path)
        stack.extend((b, (*path, k)) for b, k in out.get(s, []))
    assert sorted(found) == seqs
    # A sequence given twice is accepted twice (its product counted twice).
    n2, edges2, accepting2 = automaton([*seqs, seqs[3]])
    val = np.zeros(n2)
    val[0] = 1.0
    for a, b, k in edges2:
        val[b] += val[a] * w[k]
    np.testing.assert_allclose(val[accepting2].sum(), want + np.prod(w[list(seqs[3])]), rtol=1e-12)


@pytest.mark.parametrize(
    ("n_t", "n_m", "stride"), [(12, 300, 1), (600, 5, 1), (600, 5, 3), (13, 300, 4)]
)
def test_numba_counts_equal_relative_of_and_dominant_mask(n_t: int, n_m: int, stride: int) -> None:
    # loops_jit's counts, from series crafted so that every link score is a chosen
    # number (some huge, so that products overflow and the loop-by-loop fallback is
    # taken), equal those of the NumPy path on the same link scores, at every
    # ``stride``-th step: many members at few steps, and few members at more steps than
    # one block of columns holds (numba's layout reads a member's steps side by side).
    pytest.importorskip("numba")
    from quidpro.analysis.loops import dominant_mask
    from quidpro.analysis.loops_kernel import Augmented, Recipe, scores

    rng = np.random.default_rng(9)
    n_links = 30
    want_ls = rng.normal(size=(n_links, n_t, n_m))
    want_ls[rng.random(want_ls.shape) < 0.2] = 0.0
    want_ls[rng.random(want_ls.shape) < 0.02] = 1e200  # products overflow
    # Series per link: source and target rise by 1 a step, the partial is the target's
    # last value plus the wanted score (its link score, up to rounding).
    values = np.zeros((n_t, 3 * n_links, n_m))
    steps = np.arange(n_t, dtype=float)[:, None]
    values[:, 0::3] = steps[:, None, :] + rng.random((n_links, n_m))
    values[:, 1::3] = steps[:, None, :] + rng.random((n_links, n_m))
    values[1:, 2::3] = values[:-1, 1::3] + np.moveaxis(want_ls, 0, 1)[1:]
    names = [
        f"s{k // 3}" if k % 3 == 0 else f"z{k // 3}" if k % 3 == 1 else f"p{k // 3}"
        for k in range(3 * n_links)
    ]
    links = [(f"s{k}", f"z{k}") for k in range(n_links)]
    aug = Augmented(
        model=None,
        recipes={  # type: ignore[arg-type]
            (f"s{k}", f"z{k}"): Recipe(f"s{k}", f"z{k}", "partial", partial=f"p{k}")
            for k in range(n_links)
        },
    )
    with np.errstate(all="ignore"):
        ls = scores(aug, {n: values[:, i] for i, n in enumerate(names)}, links)
    cycles = sorted(
        {
            tuple(rng.choice(n_links, size=int(rng.integers(1, 6)), replace=False))
            for _ in range(200)
        }
    )
    members = [np.array(c) for c in cycles]
    parts = rng.integers(0, 2, size=len(members))
    lp = LoopProducts(members, parts)
    keep = list(range(0, len(members), 4))
    with np.errstate(all="ignore"):
        saved = ls[:, ::stride]
        want = dominant_mask(lp.relative_of(saved, keep), parts[keep]).sum(axis=2)
    kind = np.zeros(n_links, dtype=np.int64)
    for got in _counts_in_both_layouts(values, stride, kind, lp, keep, saved.shape[1]):
        np.testing.assert_array_equal(got, want)
    with np.errstate(all="ignore"):
        assert any(np.isinf(ls[m].prod(axis=0)).any() for m in members)  # overflows
    assert want.sum() > 0


@pytest.mark.parametrize(("n_t", "n_m", "stride"), [(9, 40, 1), (300, 3, 1), (31, 40, 3)])
def test_numba_counts_of_every_link_kind_from_non_finite_starts(
    n_t: int, n_m: int, stride: int
) -> None:
    # Links of every kind (partial, sign, inflow, outflow), series that wander (some
    # members start at inf, -inf or NaN): loops_jit's counts equal the NumPy path's.
    # At the start the compiled pass compares each series with itself, so its link
    # scores are 0 there, as NumPy's (whose change at the start is 0 by definition).
    pytest.importorskip("numba")
    from quidpro.analysis.loops import dominant_mask
    from quidpro.analysis.loops_kernel import Augmented, Recipe, scores

    rng = np.random.default_rng(4)
    n_links = 24
    moves = rng.normal(size=(n_t, 3 * n_links, n_m))
    moves[rng.random(moves.shape) < 0.1] = 0.0  # a series that stands still: inactive links
    values = np.cumsum(moves, axis=0)
    start = values[0]
    start[rng.random(start.shape) < 0.3] = rng.choice([np.inf, -np.inf, np.nan])
    names = [f"{'szp'[k % 3]}{k // 3}" for k in range(3 * n_links)]
    kinds = ["partial", "sign", "inflow", "outflow"]
    recipes = {}
    for k in range(n_links):
        what = kinds[k % 4]
        other = {"partial": f"p{k}"} if what == "partial" else {}
        if what in ("inflow", "outflow"):
            other = {"net": f"p{k}"}
        recipes[(f"s{k}", f"z{k}")] = Recipe(f"s{k}", f"z{k}", what, **other)
    aug = Augmented(model=None, recipes=recipes)  # type: ignore[arg-type]
    with np.errstate(all="ignore"):
        ls = scores(aug, {n: values[:, i] for i, n in enumerate(names)}, list(recipes))
    assert np.all(ls[:, 0] == 0.0)
    cycles = sorted(
        {
            tuple(rng.choice(n_links, size=int(rng.integers(1, 5)), replace=False))
            for _ in range(120)
        }
    )
    lp = LoopProducts([np.array(c) for c in cycles], rng.integers(0, 2, size=len(cycles)))
    keep = list(range(0, len(cycles), 3))
    with np.errstate(all="ignore"):
        saved = ls[:, ::stride]
        want = dominant_mask(lp.relative_of(saved, keep), lp.parts[keep]).sum(axis=2)
    kind = np.arange(n_links, dtype=np.int64) % 4  # loops_jit's codes, in kinds' order
    for got in _counts_in_both_layouts(values, stride, kind, lp, keep, saved.shape[1]):
        np.testing.assert_array_equal(got, want)
    assert want.sum() > 0


def _counts_in_both_layouts(
    values: np.ndarray,
    stride: int,
    kind: np.ndarray,
    lp: LoopProducts,
    keep: list[int],
    n_saved: int,
) -> list[np.ndarray]:
    """loops_jit's counts of the kept loops over ``values[step, series, member]``.

    Link k reads series 3k (source), 3k + 1 (target) and 3k + 2 (partial or net). The
    series are stored step by step (NumPy's kernel) and member by member (numba's, seen
    through a transposed view); one count array for each.
    """
    from quidpro.analysis import loops_jit

    a = lp.arrays(keep)
    idx = np.arange(len(kind), dtype=np.int64)
    by_member = np.moveaxis(np.ascontiguousarray(np.moveaxis(values, 2, 0)), 0, 2)
    out = []
    for stored in (values, by_member):
        got = np.zeros((len(keep), n_saved))
        links = (kind, 3 * idx, 3 * idx + 1, 3 * idx + 2)
        loops_jit.dominance_counts(stored, stride, links, a, got, np.ones(values.shape[2], bool))
        out.append(got)
    return out


@pytest.mark.parametrize(("n_t", "stride"), [(9, 1), (300, 1), (301, 3)])
def test_numba_summary_of_one_run_equals_the_numpy_arrays(n_t: int, stride: int) -> None:
    # loops_jit_single (the base run on the compiled backends): from one member's
    # series with links of every kind and non-finite starts, the link scores; from those
    # (and from link scores huge enough that loop products overflow) every loop's sign
    # sum and peak relative score, and the kept loops' series: all equal the NumPy
    # path's arrays bit for bit, over fewer columns than one block and over several
    # blocks with a partial last one.
    pytest.importorskip("numba")
    from quidpro.analysis import loops_jit_single as single
    from quidpro.analysis.loops_kernel import Augmented, Recipe, scores

    rng = np.random.default_rng(12)
    n_links = 24
    moves = rng.normal(size=(n_t, 3 * n_links))
    moves[rng.random(moves.shape) < 0.1] = 0.0  # inactive links
    values = np.cumsum(moves, axis=0)
    values[0, rng.random(3 * n_links) < 0.3] = rng.choice([np.inf, -np.inf, np.nan])
    names = [f"{'szp'[k % 3]}{k // 3}" for k in range(3 * n_links)]
    kinds = ["partial", "sign", "inflow", "outflow"]
    recipes = {}
    for k in range(n_links):
        what = kinds[k % 4]
        other = {"net": f"p{k}"} if what in ("inflow", "outflow") else {}
        other = {"partial": f"p{k}"} if what == "partial" else other
        recipes[(f"s{k}", f"z{k}")] = Recipe(f"s{k}", f"z{k}", what, **other)
    aug = Augmented(model=None, recipes=recipes)  # type: ignore[arg-type]
    with np.errstate(all="ignore"):
        want_ls = scores(aug, {n: values[:, i] for i, n in enumerate(names)}, list(recipes))
    want_ls = want_ls[:, ::stride]
    idx = np.arange(n_links, dtype=np.int64)
    kind = idx % 4  # loops_jit's codes, in kinds' order
    ls = single.saved_link_scores(values, stride, kind, 3 * idx, 3 * idx + 1, 3 * idx + 2)
    np.testing.assert_array_equal(ls, want_ls)

    cycles = sorted(
        {
            tuple(rng.choice(n_links, size=int(rng.integers(1, 6)), replace=False))
            for _ in range(150)
        }
    )
    lp = LoopProducts([np.array(c) for c in cycles], rng.integers(0, 3, size=len(cycles)))
    keep = list(range(0, len(cycles), 5))
    huge = ls.copy()
    huge[rng.random(ls.shape) < 0.05] = 1e200  # loop products overflow
    for link_scores in (ls, huge):
        with np.errstate(all="ignore"):
            want_scores = lp.scores(link_scores)
            want_rel = relative_scores(want_scores, lp.parts)
        heads, tails, starts = lp.full_trees()
        signs, peak = np.zeros(lp.n_loops), np.zeros(lp.n_loops)
        denom = np.empty((len(starts) - 1, ls.shape[1]))
        single.summary(link_scores, heads, tails, starts, signs, peak, denom)
        np.testing.assert_array_equal(signs[lp.row], np.sign(want_scores).sum(axis=1))
        np.testing.assert_array_equal(peak[lp.row], np.abs(want_rel).max(axis=1))
        got_scores, got_rel = np.zeros((2, len(keep), ls.shape[1]))
        single.kept_series(link_scores, *lp.kept_trees(keep), denom, got_scores, got_rel)
        np.testing.assert_array_equal(got_scores, want_scores[keep])
        np.testing.assert_array_equal(got_rel, want_rel[keep])
        assert len(np.unique(np.sign(want_scores).sum(axis=1))) > 3  # both polarities, idle
    assert (np.abs(want_scores) == np.finfo(float).max).any()  # the products overflowed
