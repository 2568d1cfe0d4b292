"""The interpreter backend (``vm``) against the NumPy kernel, and the status every
backend computes inside its kernel.

The interpreter follows the NumPy kernel's semantics operation by operation (NaN
propagating min/max, np.interp's formula, np.mod's sign rule, the same order of the
Runge-Kutta sums), so on arithmetic the two agree bit for bit; transcendental
functions may differ in the last bit between NumPy and numba's libm (1e-12 here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import quidpro
from quidpro.errors import SimulationError
from quidpro.solve import vm
from quidpro.solve.methods import METHODS

pytest.importorskip("numba")

EVERYTHING = Path(__file__).parent / "models" / "everything.yaml"
BACKENDS = ("numpy", "jit", "vm")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Kernels compiled by the tests go to a folder of their own."""
    monkeypatch.setenv("QUIDPRO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def model() -> quidpro.LoadedModel:
    return quidpro.load(EVERYTHING)


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_vm_equals_numpy_on_every_builtin(model: quidpro.LoadedModel, method: str) -> None:
    k = np.linspace(0.1, 0.9, 11)  # two blocks of lanes, the second one partly used
    a = model.simulate(n_runs=11, set={"k": k}, method=method, backend="numpy")
    b = model.simulate(n_runs=11, set={"k": k}, method=method, backend="vm")
    assert not a.failures
    assert not b.failures
    np.testing.assert_allclose(b.values, a.values, rtol=1e-12, atol=1e-12)
    assert b.series("tank").min() >= 0


def test_vm_batch_equals_loop_bit_for_bit(model: quidpro.LoadedModel) -> None:
    k = np.linspace(0.05, 1.0, 19)
    batch = model.simulate(n_runs=19, set={"k": k}, backend="vm").values
    for i in (0, 7, 8, 18):  # first and last lanes of blocks
        one = model.simulate(set={"k": k[i]}, backend="vm").values[:, :, 0]
        np.testing.assert_array_equal(batch[:, :, i], one)


def test_vm_records_a_subset_and_saves_every(model: quidpro.LoadedModel) -> None:
    full = model.simulate(backend="numpy")
    part = model.simulate(backend="vm", record=["d3", "tank"], save_every=1.0)
    assert part.names == ("d3", "tank")
    np.testing.assert_array_equal(part.times, full.times[::4])
    np.testing.assert_allclose(part.series("d3"), full.series("d3")[::4], rtol=1e-12)


EDGES = """\
quidpro: 1
name: edges
time: {start: 0, stop: 3, dt: 0.5}
constants: {x: 1}
auxiliaries:
  m1: min(x, 0 / 0 * time) + 1
  m2: mod(x, -1.5) + mod(-x, 1.5) + mod(x, 0.75)
  picks: if(x > 0 and not (x == 1), 1, 2) + (x != x) + (x <= 0.5) * 4
  shaped: table(x * time) + wide(x + time) + table(-5) + wide(-5)
  clipped: clip(x * time, -1, 1) + abs(-x) + floor(x) + ceil(x) + x ^ 2 + x ^ 0.5
  time_fns: step(x, 1) + ramp(x, 0.5, 2) + ramp(x, 1) + pulse(x, 0.5, 1) + pulse(x, 1)
lookups:
  table: {points: [[-1, 0], [0, 1], [2, 1], [3, 5]]}
  wide: {points: [[0, 0], [1, 10], [2, 20]], extrapolate: linear}
"""


def test_vm_follows_numpy_semantics_on_edge_values(write_model) -> None:
    m = quidpro.load(write_model(EDGES))
    xs = np.array([-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 1.5, 2.25, 3.0, 7.0])
    a = m.simulate(n_runs=len(xs), set={"x": xs}, backend="numpy")
    b = m.simulate(n_runs=len(xs), set={"x": xs}, backend="vm")
    np.testing.assert_array_equal(b.values, a.values)  # NaN where NumPy has NaN
    assert a.failures == b.failures
    assert set(b.failures.values()) == {("m1", 0.0)}


HIDDEN = """\
quidpro: 1
name: hidden
time: {start: 0, stop: 4, dt: 1}
stocks:
  x: {initial: 1, inflows: [f]}
flows:
  f: 0.1
auxiliaries:
  unseen: if(time > 2, ln(x - 2), 0)
  smoothed: smooth(1 / (time - 3), 1)
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_finds_failures_in_variables_it_does_not_record(
    write_model, backend: str
) -> None:
    m = quidpro.load(write_model(HIDDEN))
    traj = m.simulate(backend=backend, record=["x"], n_runs=3)
    assert np.isfinite(traj.values).all()  # nothing recorded went wrong
    # ln(x - 2) at time 3 (x = 1.3) is nan; smooth's hidden input 1/(t - 3) is inf at
    # time 3 too, but "unseen" comes first in evaluation order.
    assert traj.failures == dict.fromkeys(range(3), ("unseen", 3.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_hidden_variable_is_reported_as_the_users(write_model, backend: str) -> None:
    m = quidpro.load(write_model(HIDDEN.replace("ln(x - 2)", "x")))
    traj = m.simulate(backend=backend, record=["x"])
    assert traj.failures == {0: ("smoothed", 3.0)}  # not "_smoothed__in1"
    with pytest.raises(SimulationError) as info:
        m.run(backend=backend)
    assert info.value.message == "'smoothed' became inf at time 3"
    assert "__" not in str(info.value)


def test_vm_refuses_a_delay_shorter_than_a_step(write_model) -> None:
    m = quidpro.load(
        write_model(
            "quidpro: 1\nname: short\ntime: {start: 0, stop: 4, dt: 1}\n"
            "auxiliaries:\n  a: time\n  b: delay_fixed(a, 0.2, 0)\n"
        )
    )
    with pytest.raises(SimulationError, match="shorter than one step"):
        m.simulate(backend="vm")


def test_vm_delays_differ_between_members(write_model) -> None:
    m = quidpro.load(
        write_model(
            "quidpro: 1\nname: lags\ntime: {start: 0, stop: 10, dt: 1}\nconstants: {d: 2}\n"
            "auxiliaries:\n  a: time * time\n  b: delay_fixed(a, d, -1)\n"
            "  c: previous(b, 5)\n"
        )
    )
    d = np.array([1.0, 2.0, 3.0, 5.0, 2.0, 1.0, 4.0, 2.0, 6.0])
    a = m.simulate(n_runs=len(d), set={"d": d}, backend="numpy")
    b = m.simulate(n_runs=len(d), set={"d": d}, backend="vm")
    np.testing.assert_array_equal(b.values, a.values)
    np.testing.assert_array_equal(b.series("b")[:, 3], [-1, -1, -1, -1, -1, 0, 1, 4, 9, 16, 25])


def test_a_program_is_linear_in_the_model(write_model) -> None:
    """Instructions grow with the equations (no per-model compile to grow faster)."""
    sizes = []
    for n in (5, 50):
        aux = "".join(f"  a{i}: a{i - 1} * 0.5 + sin(time) + t(time)\n" for i in range(1, n))
        text = (
            "quidpro: 1\nname: chain\ntime: {start: 0, stop: 2, dt: 1}\nauxiliaries:\n"
            f"  a0: time\n{aux}lookups:\n  t: {{points: [[0, 0], [1, 1]]}}\n"
        )
        m = quidpro.load(write_model(text, f"chain{n}.yaml"))
        prog = vm.assemble(m.compiled.system, METHODS["euler"], ("a0",))
        sizes.append(sum(len(a) for a in prog.arrays[:3]))
    assert sizes[1] - sizes[0] == 45 * 2 * 5  # 5 an equation, at t0 and in the step
