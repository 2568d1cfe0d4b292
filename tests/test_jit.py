"""The numba backend against the NumPy kernel, and the "auto" backend's choice.

Both backends are generated from the same lowered system, so on a model that uses
every deterministic builtin they must agree to rounding (the transcendental
functions of NumPy and of numba's libm may differ in the last bit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import quidpro
from quidpro.errors import ConfigError, SimulationError

pytest.importorskip("numba")

EVERYTHING = (Path(__file__).parent / "models" / "everything.yaml").read_text()


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> quidpro.LoadedModel:
    path = tmp_path_factory.mktemp("jit") / "everything.yaml"
    path.write_text(EVERYTHING)
    return quidpro.load(path)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Kernels compiled by the tests go to a folder of their own."""
    monkeypatch.setenv("QUIDPRO_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_jit_equals_numpy_on_every_builtin(model: quidpro.LoadedModel, method: str) -> None:
    k = np.array([0.1, 0.3, 0.5, 0.9])
    a = model.simulate(n_runs=4, set={"k": k}, method=method, backend="numpy")
    b = model.simulate(n_runs=4, set={"k": k}, method=method, backend="jit")
    assert a.names == b.names
    assert not a.failures
    assert not b.failures
    np.testing.assert_allclose(b.values, a.values, rtol=1e-12, atol=1e-12)
    tank = b.series("tank")
    assert tank.min() >= 0  # the limiter works in machine code too


def test_jit_batch_equals_loop_bit_for_bit(model: quidpro.LoadedModel) -> None:
    k = np.linspace(0.05, 1.0, 6)
    batch = model.simulate(n_runs=6, set={"k": k}, backend="jit").values
    for i, ki in enumerate(k):
        one = model.simulate(set={"k": ki}, backend="jit").values[:, :, 0]
        np.testing.assert_array_equal(batch[:, :, i], one)


def test_jit_records_a_subset_and_saves_every(model: quidpro.LoadedModel) -> None:
    full = model.simulate(backend="numpy")
    part = model.simulate(backend="jit", record=["d3", "tank"], save_every=1.0)
    assert part.names == ("d3", "tank")
    np.testing.assert_array_equal(part.times, full.times[::4])
    np.testing.assert_allclose(part.series("d3"), full.series("d3")[::4], rtol=1e-12)


def test_jit_reports_non_finite_values_like_numpy(write_model) -> None:
    m = quidpro.load(
        write_model(
            "quidpro: 1\nname: boom\ntime: {start: 0, stop: 4, dt: 1}\nconstants: {z: 0}\n"
            "stocks:\n  x: {initial: 1, inflows: [f]}\nflows:\n  f: 1 / (z * time - z)\n"
        )
    )
    for backend in ("numpy", "jit"):
        traj = m.simulate(backend=backend)
        assert traj.failures[0][0] == "f"
    with pytest.raises(SimulationError, match="'f' became"):
        m.run(backend="jit")


def test_jit_refuses_a_delay_shorter_than_a_step(write_model) -> None:
    m = quidpro.load(
        write_model(
            "quidpro: 1\nname: short\ntime: {start: 0, stop: 4, dt: 1}\n"
            "auxiliaries:\n  a: time\n  b: delay_fixed(a, 0.2, 0)\n"
        )
    )
    with pytest.raises(SimulationError, match="shorter than one step"):
        m.simulate(backend="jit")


def _on_auto(
    model: quidpro.LoadedModel, monkeypatch: pytest.MonkeyPatch, *, vm_cached: bool
) -> quidpro.LoadedModel:
    """A fresh load of ``model`` under the "auto" backend, the interpreter not loaded."""
    monkeypatch.delenv("QUIDPRO_BACKEND", raising=False)
    monkeypatch.setattr("quidpro.solve.vm.VmKernel.loaded", staticmethod(lambda: False))
    monkeypatch.setattr("quidpro.solve.vm.VmKernel.cached", staticmethod(lambda: vm_cached))
    return quidpro.load(model.spec.file)


def test_auto_starts_on_numpy_and_moves_to_a_fast_path_once_numpy_time_would_pay(
    model: quidpro.LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The interpreter's one compile is on disk (a fresh clone compiles it at first use:
    # the cost model then rightly prefers numba's smaller compile of this one model).
    fresh = _on_auto(model, monkeypatch, vm_cached=True)
    monkeypatch.setenv("QUIDPRO_CACHE", str(model.spec.file) + ".empty-cache")
    assert fresh.compiled.choose_backend("auto", 1) == "numpy"
    fresh.compiled.numpy_seconds = 1e6  # as if the model had been run for a long time
    # One run: the interpreter (no compile of this model) beats numba's compile.
    assert fresh.compiled.choose_backend("auto", 1) == "vm"
    assert fresh.compiled.choose_backend("auto", 10**7) == "jit"  # a huge ensemble pays
    monkeypatch.setenv("QUIDPRO_BACKEND", "numpy")
    assert fresh.compiled.choose_backend("auto", 10**7) == "numpy"
    with pytest.raises(ConfigError, match="unknown backend 'gpu'"):
        fresh.compiled.choose_backend("gpu", 1)


def test_a_fresh_process_runs_a_small_model_once_on_numpy_though_numba_has_it_cached(
    model: quidpro.LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # numba's import and CPU target (~0.25-0.75 s) cost more than one NumPy run of a
    # small model; once a process has paid them, a cached kernel is free to use.
    from quidpro.solve import simulate

    monkeypatch.setattr("quidpro.solve.jit.JitKernel.cached", lambda self, many: True)
    fresh = _on_auto(model, monkeypatch, vm_cached=False)
    monkeypatch.setattr(simulate, "numba_target_ready", lambda: False)
    assert fresh.compiled.choose_backend("auto", 1) == "numpy"
    fresh.compiled.numpy_seconds = simulate.JIT_START  # NumPy's time has paid for it
    assert fresh.compiled.choose_backend("auto", 1) == "jit"
    fresh.compiled.numpy_seconds = 0.0
    assert fresh.compiled.choose_backend("auto", 10**6) == "jit"  # an ensemble pays at once
    monkeypatch.setattr(simulate, "numba_target_ready", lambda: True)
    assert fresh.compiled.choose_backend("auto", 1) == "jit"


def test_models_with_random_draws_stay_on_numpy(write_model) -> None:
    m = quidpro.load(
        write_model(
            "quidpro: 1\nname: noisy\ntime: {start: 0, stop: 2, dt: 1}\n"
            "auxiliaries:\n  a: normal(0, 1, 3)\n"
        )
    )
    assert m.compiled.choose_backend("auto", 10**7) == "numpy"
    with pytest.raises(ConfigError, match="jit backend needs numba"):
        m.simulate(backend="jit")


def test_a_kernels_module_keeps_its_bytecode_even_when_python_writes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (Python compiles the flagship's generated module in ~50 ms a process without it)
    import importlib.util
    import sys

    from quidpro.solve.jit import JitKernel

    monkeypatch.setenv("QUIDPRO_CACHE", str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    value = len(str(tmp_path))  # a module of its own for this test's folder
    kernel = JitKernel(f"x = {value}\n", ("x",))
    assert kernel.module().x == value
    source = tmp_path / "kernels" / f"{kernel.module_name}.py"
    pyc = Path(importlib.util.cache_from_source(str(source)))
    assert pyc.exists()
    source.write_text("x = -1\n")  # another text under the same name: both rewritten
    assert JitKernel(kernel.source, ("x",)).module().x == value
    sys.modules.pop(kernel.module_name, None)
