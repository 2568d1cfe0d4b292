"""The streaming quantile sketch: its error bound against exact NumPy quantiles.

The bound (quidpro.ensemble.sketch, docs/ensembles.md): the exact sample quantile lies
within ``value_bound`` of the estimate, and the estimate's rank within ``rank_bound`` of
q. Checked on random data (where the bins are balanced, so the bounds are also small)
and on adversarial data (a sorted stream, atoms, a pilot unlike the rest), where only
the bound's truth is promised. Also: the numba loop counts exactly what the NumPy
reference counts, batches merge to the one-shot counts, the state does not grow with
the number of members, and an ensemble summarised by the sketch agrees with the exact
path within the bound.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from quidpro.api import LoadedModel
from quidpro.ensemble import ensemble, summary
from quidpro.ensemble.sketch import Grid, Sketch, _fold_numpy, edges_for
from quidpro.io.load import parse_model

QS = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)


def sketch_of(data: np.ndarray, pilot: int) -> Sketch:
    """A sketch of ``data[cell, member]`` whose grid comes from the first ``pilot`` members."""
    g = Grid.from_pilot(data[:, :pilot], np.ones(pilot, dtype=bool), edges_for(pilot))
    s = Sketch.empty(g)
    s.add(np.ascontiguousarray(data.T)[:, None, :], np.array([0]), np.ones(data.shape[1], bool))
    return s


def check_bound(data: np.ndarray, s: Sketch) -> tuple[np.ndarray, np.ndarray]:
    """Assert the bounds hold; return the actual rank errors and the rank bounds."""
    est, vb, rb = s.quantiles(QS)
    exact = np.quantile(data, QS, axis=1)
    tol = 1e-12 * np.maximum(np.abs(exact), 1.0)
    assert np.all(np.abs(est - exact) <= vb + tol)
    ranked = np.sort(data, axis=1)
    n = data.shape[1]
    actual = np.empty_like(est)
    for c in range(data.shape[0]):
        lo = np.searchsorted(ranked[c], est[:, c], side="left")
        hi = np.searchsorted(ranked[c], est[:, c], side="right")
        target = np.array(QS) * (n - 1)
        actual[:, c] = np.maximum(0, np.maximum(lo - 1 - target, target - hi)) / n
    assert np.all(actual <= rb + 1.0 / n)
    return actual, rb


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng, shape: rng.normal(5.0, 2.0, shape),
        lambda rng, shape: rng.lognormal(0.0, 2.5, shape),  # heavy right tail
        lambda rng, shape: -rng.pareto(1.5, shape),  # heavy left tail
        lambda rng, shape: np.where(rng.random(shape) < 0.4, 0.0, rng.exponential(3.0, shape)),
        lambda rng, shape: rng.integers(0, 5, shape).astype(float),  # atoms only
    ],
    ids=["normal", "lognormal", "pareto-left", "zero-atom", "discrete"],
)
def test_bound_holds_and_is_small_on_random_data(draw: object) -> None:
    rng = np.random.default_rng(7)
    data = draw(rng, (40, 6000))  # type: ignore[operator]
    s = sketch_of(data, 600)
    actual, rb = check_bound(data, s)
    e = s.grid.n_edges
    # balanced bins: the bound and the error are about one bin's share of the members
    assert rb.max() <= 3.0 / (e - 1)
    assert actual.max() <= 1.5 / (e - 1)
    # the extremes are exact
    est, _, _ = s.quantiles([0.0, 1.0])
    np.testing.assert_array_equal(est[0], data.min(axis=1))
    np.testing.assert_array_equal(est[1], data.max(axis=1))


def test_bound_holds_on_adversarial_streams() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    rows = [
        np.sort(rng.normal(size=n)),  # sorted: the pilot holds only the smallest values
        np.sort(rng.normal(size=n))[::-1],  # the largest first
        np.r_[np.zeros(500), rng.normal(10, 1, n - 500)],  # a constant pilot
        np.r_[rng.normal(size=500), rng.normal(1e6, 1, n - 500)],  # a shift after it
        np.full(n, 2.5),  # every member equal
        np.r_[rng.normal(size=500), np.full(n - 500, 0.125)],  # an atom after the pilot
    ]
    data = np.array(rows)
    s = sketch_of(data, 500)
    check_bound(data, s)
    est, vb, _ = s.quantiles([0.5])
    assert est[0, 4] == 2.5  # an atom is exact
    assert vb[0, 4] == 0.0
    # an atom the pilot did not see falls inside one bin: known to within its width
    assert abs(est[0, 5] - 0.125) <= vb[0, 5] < 0.1


def test_numba_loop_counts_as_numpy_does() -> None:
    pytest.importorskip("numba")
    rng = np.random.default_rng(1)
    values = rng.lognormal(0, 1.5, (700, 9, 5))  # (member, time, variable)
    values[:, 0, :] = 3.0  # a constant cell
    values[:, 1, 2] = np.where(rng.random(700) < 0.5, 0.0, values[:, 1, 2])
    values[17, 4, 1] = np.nan
    keep = np.array([0, 1, 4, 8])
    ok = rng.random(700) > 0.1
    pilot = np.ascontiguousarray(values[:300][:, keep, :].transpose(1, 2, 0)).reshape(-1, 300)
    grid = Grid.from_pilot(pilot, ok[:300], edges_for(int(ok[:300].sum())))
    a, b = Sketch.empty(grid), Sketch.empty(grid)
    a.add(values, keep, ok)  # numba
    _fold_numpy(values, keep, ok, b)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.low, b.low)
    np.testing.assert_array_equal(a.high, b.high)
    assert int(a.counts.sum()) == len(keep) * 5 * int(ok.sum()) - int(ok[17])
    # the same values laid out time-major in memory (the NumPy kernel's output) count alike
    c = Sketch.empty(grid)
    c.add(np.moveaxis(np.ascontiguousarray(np.moveaxis(values, 0, 2)), 2, 0), keep, ok)
    np.testing.assert_array_equal(c.counts, a.counts)


def test_batches_merge_to_the_one_shot_counts() -> None:
    rng = np.random.default_rng(5)
    values = rng.gamma(2.0, 3.0, (3000, 6, 4))
    keep = np.arange(6)
    ok = np.ones(3000, dtype=bool)
    pilot = np.ascontiguousarray(values[:400].transpose(1, 2, 0)).reshape(-1, 400)
    grid = Grid.from_pilot(pilot, ok[:400], edges_for(400))
    whole = Sketch.empty(grid)
    whole.add(values, keep, ok)
    merged = Sketch.empty(grid)
    for lo, hi in [(2000, 3000), (0, 7), (7, 1200), (1200, 2000)]:  # any order and sizes
        part = Sketch.empty(grid)
        part.add(values[lo:hi], keep, ok[lo:hi])
        merged.merge(part)
    np.testing.assert_array_equal(merged.counts, whole.counts)
    np.testing.assert_array_equal(merged.low, whole.low)
    np.testing.assert_array_equal(merged.high, whole.high)
    a, b = merged.quantiles(QS), whole.quantiles(QS)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


MU, SIGMA = math.log(0.1), 0.3
DECAY = f"""quidpro: 1
name: decay
time: {{start: 0, stop: 10, dt: 0.125, method: euler, units: month}}
constants:
  k: {{value: 0.1, distribution: {{kind: lognormal, mu: {MU!r}, sigma: {SIGMA!r}}}}}
  x0: {{value: 100, distribution: {{kind: uniform, low: 50, high: 150}}}}
stocks:
  x: {{initial: x0, outflows: [loss]}}
flows:
  loss: k * x
auxiliaries:
  zeroish: "max(0, x - 60)"
"""
SMALL = 150 * 81 * 3 * 8  # max_bytes for a pilot of 150 members of 3 variables x 81 times


@pytest.fixture(scope="module")
def decay() -> LoadedModel:
    return LoadedModel(parse_model(DECAY, "decay.yaml"))


def test_ensemble_streams_past_the_budget_within_the_bound(decay: LoadedModel) -> None:
    q = ["x > 60 at 5"]
    exact = ensemble(decay, 3000, seed=4, queries=q, backend="numpy")
    streamed = ensemble(decay, 3000, seed=4, queries=q, backend="numpy", max_bytes=SMALL)
    assert exact.plan.exact
    assert not streamed.plan.exact
    assert streamed.plan.pilot == 150
    d_exact, d_stream = summary(exact), summary(streamed)
    assert d_exact.keys() == d_stream.keys()
    assert d_stream["queries"] == d_exact["queries"]  # counted exactly either way
    qs = [0.05, 0.25, 0.5, 0.75, 0.95]
    vb, rb = streamed.quantile_bounds(qs)
    for j, name in enumerate(streamed.plan.variables):
        s_ = d_stream["variables"][name]
        e_ = d_exact["variables"][name]
        assert s_["time"] == e_["time"]  # every saved time, not thinned
        assert s_["quantiles"].keys() == e_["quantiles"].keys()
        for i, key in enumerate(s_["quantiles"]):
            got, want = np.array(s_["quantiles"][key]), np.array(e_["quantiles"][key])
            assert np.all(np.abs(got - want) <= vb[i, :, j] + 1e-9 * np.abs(want) + 1e-12)
    assert rb.max() <= 3.0 / (streamed.plan.n_edges - 1)


def test_streamed_ensemble_does_not_depend_on_batches(decay: LoadedModel) -> None:
    a = ensemble(decay, 2500, seed=9, backend="numpy", max_bytes=SMALL, batch_size=256)
    b = ensemble(decay, 2500, seed=9, backend="numpy", max_bytes=SMALL, batch_size=1000)
    assert summary(a) == summary(b)


def test_summary_state_does_not_grow_with_members(decay: LoadedModel) -> None:
    sizes = []
    for n in (1000, 4000, 16000):
        r = ensemble(decay, n, seed=1, backend="numpy", max_bytes=SMALL, per_member=False)
        assert r.sketch is not None
        sizes.append((r.state_bytes, r.sketch.counts.shape, r.plan.pilot))
        assert int(r.sketch.counts.sum(dtype=np.int64)) == 81 * 3 * (n - r.n_failed)
    assert sizes[0] == sizes[1] == sizes[2]


def test_numba_loop_walks_far_and_restarts_per_chunk() -> None:
    """Members that cross many edges between times, and more times than chunks."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(11)
    n, times = 400, 40
    values = rng.normal(size=(n, times, 3)).cumsum(axis=1)  # random walks: ranks move
    values[:, ::2, 0] *= -1.0  # every other time reverses the order of variable 0
    values[::7, :, 1] = 0.0  # an atom in variable 1
    values[5, 9, 2] = np.inf  # a failed member's value: never counted
    keep = np.arange(times)
    ok = np.ones(n, dtype=bool)
    ok[5] = False
    pilot = np.ascontiguousarray(values[:200].transpose(1, 2, 0)).reshape(-1, 200)
    grid = Grid.from_pilot(pilot, ok[:200], edges_for(199))
    a, b = Sketch.empty(grid), Sketch.empty(grid)
    a.add(values, keep, ok)  # numba
    _fold_numpy(values, keep, ok, b)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.low, b.low)
    np.testing.assert_array_equal(a.high, b.high)


def test_streaming_summarises_at_most_max_times_saved_times() -> None:
    from quidpro.ensemble.runner import MAX_TIMES

    long = LoadedModel(parse_model(DECAY.replace("stop: 10", "stop: 40"), "decay.yaml"))
    n_save = 321  # 320 steps of 0.125 month
    small = 150 * 161 * 3 * 8  # a pilot of 150 members at 161 times
    exact = ensemble(long, 2000, seed=2, backend="numpy")
    streamed = ensemble(long, 2000, seed=2, backend="numpy", max_bytes=small)
    assert len(exact.times) == n_save
    # no queries: the kernel saves every other step (the smallest factor within the
    # limit that keeps the last time), and the quantiles are within their bound there
    np.testing.assert_array_equal(streamed.times, exact.times[::2])
    assert len(streamed.times) <= MAX_TIMES
    qs = [0.05, 0.5, 0.95]
    want, got = exact.quantiles(qs), streamed.quantiles(qs)
    vb, _ = streamed.quantile_bounds(qs)
    for j, name in enumerate(streamed.plan.variables):
        for i, q in enumerate(qs):
            err = np.abs(got[name][q] - want[name][q][::2])
            assert np.all(err <= vb[i, :, j] + 1e-9 * np.abs(want[name][q][::2]) + 1e-12)
    # with a query the kernel saves every step (the query reads them) and the
    # histograms keep at most MAX_TIMES of them: the probability is the exact one
    q = ["x > 60 at 3.3"]
    e_q = ensemble(long, 2000, seed=2, backend="numpy", queries=q)
    s_q = ensemble(long, 2000, seed=2, backend="numpy", queries=q, max_bytes=small)
    assert len(s_q.plan.times) == n_save
    assert len(s_q.times) <= MAX_TIMES
    assert s_q.times[0] == 0.0
    assert s_q.times[-1] == 40.0
    assert summary(s_q)["queries"] == summary(e_q)["queries"]
