"""Bounded work (issue 13): every request past a limit is refused before it is allocated.

Each case is a small model asking for a huge buffer or expansion; the expected outcome
is the error's ``file:line:col`` and its message, exactly, on every backend. Where a
limit can be raised, raising it makes the same model run, with the right values.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from quidpro.api import LoadedModel
from quidpro.cli.main import app
from quidpro.ensemble import ensemble
from quidpro.errors import ModelError, QuidproError
from quidpro.io.load import parse_model, read_model
from quidpro.model.limits import (
    MAX_DELAY_STEPS,
    MAX_FILE_CHARS,
    MAX_ORDER,
    MAX_VALUES,
    MAX_VARIABLES,
)
from quidpro.solve.simulate import Compiled, simulate

BASE = """quidpro: 1
name: t
time: {start: 0, stop: 10, dt: 1}
constants:
  k: 0.1
stocks:
  s: {initial: 1, inflows: [f]}
flows:
  f: k * s
auxiliaries:
  d: EXPR
"""
BACKENDS = [
    "numpy",
    *(
        pytest.param(b, marks=pytest.mark.skipif(not importlib.util.find_spec("numba"), reason=b))
        for b in ("jit", "vm")
    ),
]


def _model(expr: str) -> LoadedModel:
    return LoadedModel(parse_model(BASE.replace("EXPR", expr), "m.yaml"))


def _ring(steps: str) -> str:
    return (
        f"the delay of 'd' is {steps} time steps (its delay / dt, dt = 1); its ring buffer "
        "holds at most 1,000,000 steps: use a shorter delay or a larger dt, or raise the "
        "limit with QUIDPRO_MAX_DELAY_STEPS=N"
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("delay", "steps"),
    [("1.0e300", "1e+300"), ("1/0", "inf"), ("0/0", "nan"), ("inf", "inf"), ("1.0e9", "1e+09")],
)
def test_a_delay_past_the_ring_buffer_limit_is_a_located_error(
    delay: str, steps: str, backend: str
) -> None:
    model = _model(f"delay_fixed(s, {delay}, 0)")
    with pytest.raises(ModelError) as info:
        model.run(backend=backend)
    assert (str(info.value.loc), info.value.message) == ("m.yaml:11:6", _ring(steps))


def test_a_delay_set_per_member_is_checked_for_every_member() -> None:
    compiled = Compiled(parse_model(BASE.replace("EXPR", "delay_fixed(s, k, 0)"), "m.yaml"))
    with pytest.raises(ModelError, match=r"m.yaml:11:6: the delay of 'd' is 1e\+07 time steps"):
        simulate(compiled, {"k": np.array([2.0, 1e7])}, 2, backend="numpy")


def test_a_delay_read_from_an_auxiliary_of_constants_is_checked() -> None:
    text = BASE.replace("EXPR", "delay_fixed(s, tau, 0)\n  tau: k * 3.0e7")
    with pytest.raises(ModelError, match=r"m.yaml:11:6: the delay of 'd' is 3e\+06 time steps"):
        LoadedModel(parse_model(text, "m.yaml")).run(backend="numpy")


@pytest.mark.parametrize("backend", BACKENDS)
def test_raising_the_delay_limit_runs_the_delay_exactly(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_DELAY_STEPS[0], "5")
    with pytest.raises(ModelError, match="holds at most 5 steps"):
        _model("delay_fixed(s, 6, 0)").run(backend="numpy")
    df = _model("delay_fixed(s, 5, 0)").run(backend=backend)
    s, d = df["s"].to_numpy(), df["d"].to_numpy()
    np.testing.assert_array_equal(d[:5], 0.0)
    np.testing.assert_allclose(d[5:], s[:-5], rtol=1e-15)  # s five steps ago, exactly


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (
            "smoothn(s, 1, 1000000)",
            "smoothn() asks for 1,000,000 stages, more than the limit of 1,000; use fewer "
            "stages, or raise the limit with QUIDPRO_MAX_ORDER=N",
        ),
        (
            "delayn(s, 1, 1.0e300)",
            "delayn() asks for 1e+300 stages, more than the limit of 1,000; use fewer "
            "stages, or raise the limit with QUIDPRO_MAX_ORDER=N",
        ),
        ("smoothn(s, 1, inf)", "smoothn() needs a whole number of stages as a literal, like 3"),
        ("delayn(s, 1, 0/0)", "delayn() needs a whole number of stages as a literal, like 3"),
    ],
)
def test_a_chain_of_too_many_stages_is_refused_before_it_is_built(expr: str, message: str) -> None:
    with pytest.raises(ModelError) as info:
        _model(expr)
    assert (str(info.value.loc), info.value.message) == ("m.yaml:11:6", message)


def test_raising_the_order_limit_builds_the_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_ORDER[0], "2")
    with pytest.raises(ModelError, match="asks for 3 stages, more than the limit of 2"):
        _model("smoothn(s, 1, 3)")
    assert len(_model("smoothn(s, 1, 2)").compiled.system.states) == 3  # s and two stages


VALUES = (
    "the run would keep {total} values ({points} saved points x {variables} variables x "
    "{members} members, {gib} GiB), more than the limit of 20; save fewer points (a larger "
    "save_every), record fewer variables or run fewer members at once, or raise the limit "
    "with QUIDPRO_MAX_VALUES=N"
)


def test_saved_values_past_the_limit_are_refused_before_allocation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MAX_VALUES[0], "20")
    model = _model("2 * s")
    with pytest.raises(ModelError) as info:
        model.run()  # 11 points x 3 variables x 1 member = 33
    expected = VALUES.format(total=33, points=11, variables=3, members=1, gib="2.46e-07")
    assert (str(info.value.loc), info.value.message) == ("m.yaml:3:7", expected)
    assert len(model.run(save_every=2)) == 6  # 6 x 3 = 18 values fit
    with pytest.raises(ModelError, match=r"the run would keep 24 values \(2 saved points x 3 "):
        model.simulate(n_runs=4, save_every=10)


def test_an_ensemble_batch_past_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_VALUES[0], "20")
    model = _model("2 * s")
    with pytest.raises(ModelError, match=r"11 saved points x 3 variables x 5 members"):
        ensemble(model, 5, seed=1, backend="numpy")


def test_the_run_command_reports_the_values_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_VALUES[0], "20")
    path = tmp_path / "m.yaml"
    path.write_text(BASE.replace("EXPR", "2 * s"))
    r = CliRunner().invoke(app, ["run", str(path), "--no-store"])
    assert r.exit_code == 1
    assert "more than the limit of 20" in r.stderr
    assert "QUIDPRO_MAX_VALUES=N" in r.stderr
    assert "Traceback" not in r.stderr


YAML_ARRAYS = """quidpro: 1
name: t
time: {start: 0, stop: 4, dt: 1}
dimensions:
DIMS
auxiliaries:
  a: {dims: [NAMES], equation: 1}
"""


def _variables(count: str, what: str) -> str:
    return (
        f"{what} would expand to {count} variables, more than the limit of 100,000; "
        "raise the limit with QUIDPRO_MAX_VARIABLES=N"
    )


def test_yaml_arrays_past_the_variable_limit_are_refused_before_expansion() -> None:
    dims = "\n".join(f"  d{i}: 10" for i in range(8))
    text = YAML_ARRAYS.replace("DIMS", dims).replace("NAMES", ", ".join(f"d{i}" for i in range(8)))
    with pytest.raises(ModelError) as info:
        parse_model(text, "m.yaml")
    expected = ("m.yaml:14:3", _variables("100,000,000", "the model's arrays"))
    assert (str(info.value.loc), info.value.message) == expected
    text = YAML_ARRAYS.replace("DIMS", "  d: 1000000000").replace("NAMES", "d")
    with pytest.raises(ModelError) as info:
        parse_model(text, "m.yaml")
    expected = ("m.yaml:5:6", _variables("1,000,000,000", "dimension 'd'"))
    assert (str(info.value.loc), info.value.message) == expected


def test_raising_the_variable_limit_expands_the_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    text = YAML_ARRAYS.replace("DIMS", "  d: 3\n  e: 4").replace("NAMES", "d, e")
    monkeypatch.setenv(MAX_VARIABLES[0], "11")
    with pytest.raises(ModelError, match="would expand to 12 variables, more than the limit of 11"):
        parse_model(text, "m.yaml")
    monkeypatch.setenv(MAX_VARIABLES[0], "12")
    assert len(parse_model(text, "m.yaml").auxiliaries) == 12


def test_a_limit_set_to_nonsense_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_VALUES[0], "lots")
    with pytest.raises(QuidproError, match="QUIDPRO_MAX_VALUES must be a positive whole number"):
        _model("2 * s").run()


def test_a_model_file_past_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(BASE.replace("EXPR", "2 * s"))
    monkeypatch.setenv(MAX_FILE_CHARS[0], "100")
    with pytest.raises(ModelError) as info:
        read_model(path)
    assert info.value.message == (
        "the model file is longer than the limit of 100 characters; "
        "raise the limit with QUIDPRO_MAX_FILE_CHARS=N"
    )
    monkeypatch.setenv(MAX_FILE_CHARS[0], str(len(path.read_text())))
    assert read_model(path).name == "t"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_endless_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_FILE_CHARS[0], "1000")
    with pytest.raises(ModelError, match="longer than the limit of 1,000 characters"):
        read_model("/dev/zero")
