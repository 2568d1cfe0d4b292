"""A batch equals a loop, bit for bit: every member of an ensemble is its own run."""

from __future__ import annotations

import numpy as np
import pytest

from quidpro.api import LoadedModel
from quidpro.errors import ConfigError, SimulationError
from quidpro.io.load import parse_model, read_model

MODEL = """quidpro: 1
name: batch
time: {start: 0, stop: 8, dt: 0.25}
constants:
  k: 0.3
  cap: 50
  tau: 2
  start_stock: 5
stocks:
  p: {initial: start_stock, inflows: [growth], outflows: [loss], non_negative: true}
  q: {initial: 1, inflows: [loss]}
flows:
  growth: k * p * (1 - p / cap) + pulse(3, 1, 2)
  loss: effect(p / cap) * smooth(p, tau) * 0.2 + step(k, 2) + ramp(0.1, 1, 3)
auxiliaries:
  seen: delay3(q, tau) + delay1(p, tau, 1) + smooth3(q, tau) + delay_fixed(p, 1, 0)
  wave: sin(time * k) + exp(-k) + ln(1 + p) + if(p > 10, 1, 0) + clip(q, 1, 2)
lookups:
  effect: {points: [[0, 0], [0.5, 0.2], [1, 1]], extrapolate: linear}
"""


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return LoadedModel(parse_model(MODEL, "batch.yaml"))


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_batch_equals_loop(model: LoadedModel, method: str) -> None:
    rng = np.random.default_rng(7)
    n = 9
    ks = rng.uniform(0.05, 1.5, n)
    caps = rng.uniform(20, 80, n)
    taus = rng.uniform(0.5, 4, n)
    batch = model.simulate(
        n_runs=n, set={"k": ks, "cap": caps, "tau": taus}, method=method, backend="numpy"
    )
    assert batch.values.shape == (33, 6, n)
    assert batch.names == ("p", "q", "growth", "loss", "seen", "wave")
    for i in range(n):
        one = model.simulate(
            set={"k": ks[i], "cap": caps[i], "tau": taus[i]}, method=method, backend="numpy"
        )
        np.testing.assert_array_equal(batch.values[:, :, i], one.values[:, :, 0])
        df = model.run(
            set={"k": ks[i], "cap": caps[i], "tau": taus[i]}, method=method, backend="numpy"
        )
        np.testing.assert_array_equal(batch.values[:, :, i], df.to_numpy())


def test_scalar_settings_broadcast_over_the_batch(model: LoadedModel) -> None:
    batch = model.simulate(n_runs=3, set={"k": 0.5}, backend="numpy")
    one = model.simulate(set={"k": 0.5}, backend="numpy")
    for i in range(3):
        np.testing.assert_array_equal(batch.values[:, :, i], one.values[:, :, 0])


def test_members_differ_only_where_their_constants_do(model: LoadedModel) -> None:
    batch = model.simulate(n_runs=2, set={"k": np.array([0.3, 0.6])}, backend="numpy")
    assert not np.array_equal(batch.values[:, :, 0], batch.values[:, :, 1])
    baseline = model.simulate(backend="numpy")
    np.testing.assert_array_equal(batch.values[:, :, 0], baseline.values[:, :, 0])


def test_a_failing_member_does_not_stop_the_others() -> None:
    text = MODEL.replace("  wave:", "  root: sqrt(cap - 30)\n  wave:")
    m = LoadedModel(parse_model(text, "batch.yaml"))
    batch = m.simulate(n_runs=3, set={"cap": np.array([50.0, 20.0, 40.0])}, backend="numpy")
    assert batch.failures == {1: ("root", 0.0)}
    for i, cap in ((0, 50.0), (2, 40.0)):
        np.testing.assert_array_equal(
            batch.values[:, :, i], m.simulate(set={"cap": cap}, backend="numpy").values[:, :, 0]
        )


def test_record_and_save_every_select_the_same_numbers(model: LoadedModel) -> None:
    full = model.simulate(n_runs=2, set={"k": np.array([0.2, 0.4])}, backend="numpy")
    part = model.simulate(
        n_runs=2,
        set={"k": np.array([0.2, 0.4])},
        record=["q", "p"],
        save_every=1,
        backend="numpy",
    )
    assert part.names == ("q", "p")
    np.testing.assert_array_equal(part.times, np.arange(9.0))
    np.testing.assert_array_equal(part.series("p"), full.series("p")[::4])
    np.testing.assert_array_equal(part.series("q"), full.series("q")[::4])


def test_wrong_shape_of_settings_is_a_config_error(model: LoadedModel) -> None:
    with pytest.raises(ConfigError) as info:
        model.simulate(n_runs=3, set={"k": np.array([0.1, 0.2])}, backend="numpy")
    assert str(info.value) == "values for 'k' have shape (2,), expected (3,)"
    with pytest.raises(ConfigError) as info:
        model.simulate(record=["nope"], backend="numpy")
    assert str(info.value) == "unknown variable(s) to record: nope"


def test_builtin_model_batch_equals_loop() -> None:
    m = LoadedModel(read_model("logistic"))
    rates = np.array([0.05, 0.1, 0.2])
    batch = m.simulate(n_runs=3, set={"growth_rate": rates}, method="rk4", backend="numpy")
    for i, r in enumerate(rates):
        one = m.simulate(set={"growth_rate": r}, method="rk4", backend="numpy")
        np.testing.assert_array_equal(batch.values[:, :, i], one.values[:, :, 0])


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_delay_fixed_with_a_delay_time_per_member(method: str) -> None:
    text = """quidpro: 1
name: lag
time: {start: 0, stop: 6, dt: 0.5}
constants:
  tau: 1
stocks:
  s: {initial: 0, inflows: [f]}
flows:
  f: 1 + sin(time)
auxiliaries:
  late: delay_fixed(s, tau, -1)
  prev: previous(late, 7)
"""
    m = LoadedModel(parse_model(text, "lag.yaml"))
    taus = np.array([0.5, 2.0, 1.0, 3.0, 2.0])
    batch = m.simulate(n_runs=5, set={"tau": taus}, method=method, backend="numpy")
    for i, tau in enumerate(taus):
        one = m.simulate(set={"tau": tau}, method=method, backend="numpy")
        np.testing.assert_array_equal(batch.values[:, :, i], one.values[:, :, 0])
        late = one.series("late")[:, 0]
        s = one.series("s")[:, 0]
        k = round(tau / 0.5)
        np.testing.assert_array_equal(late[k:], s[:-k])
        assert np.all(late[:k] == -1)


def test_a_delay_shorter_than_a_step_in_any_member_is_an_error() -> None:
    text = "quidpro: 1\nname: lag\ntime: {stop: 4, dt: 1}\nconstants:\n  tau: 2\n"
    text += "auxiliaries:\n  late: delay_fixed(time, tau, 0)\n"
    m = LoadedModel(parse_model(text, "lag.yaml"))
    with pytest.raises(SimulationError) as info:
        m.simulate(n_runs=2, set={"tau": np.array([2.0, 0.2])}, backend="numpy")
    assert info.value.message == (
        "the delay of 'late' is shorter than one step (dt = 1); use a delay of at least dt"
    )


@pytest.mark.parametrize("backend", ["numpy", "jit"])
def test_calls_through_an_arena_reuse_its_memory_and_give_the_same_numbers(
    model: LoadedModel, backend: str
) -> None:
    # An ensemble's batches pass one OutputArena to their kernel calls: a call of the
    # same shape writes over the last one's memory, with the numbers of a fresh call.
    if backend == "jit":
        pytest.importorskip("numba")
    from quidpro.solve.simulate import OutputArena, simulate

    arena = OutputArena()
    c = model.compiled
    calls = [{"k": np.array([0.1, 0.2, 0.3])}, {"k": np.array([0.4, 0.5, 0.6])}]
    seen = []
    for sets in calls:
        traj = simulate(c, sets, 3, backend=backend, arena=arena)
        fresh = simulate(c, sets, 3, backend=backend)
        np.testing.assert_array_equal(traj.values, fresh.values)
        seen.append(traj.values)
    assert np.shares_memory(seen[0], seen[1])  # the second call wrote over the first's
    other = simulate(c, {"k": 0.1}, 2, backend=backend, arena=arena)  # another shape
    assert not np.shares_memory(other.values, seen[1])
