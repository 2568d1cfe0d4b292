"""The library's errors: parameters (not flags) named, model defects as ModelError (exit 1)."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

import quidpro
from quidpro.analysis.sensitivity import problem
from quidpro.ensemble import ensemble, make_plan, summary
from quidpro.errors import ConfigError, ModelError
from quidpro.io.load import parse_model
from quidpro.model.overrides import constant_overrides
from quidpro.solve.simulate import Compiled

SRC = Path(__file__).resolve().parents[1] / "src" / "quidpro"
# The library below the shells; solve/ is checked by the solve branch (its --dt message).
LIBRARY = ("lang", "model", "ensemble", "analysis", "io", "api.py", "errors.py", "__init__.py")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")

DECAY = """quidpro: 1
name: decay
time: {start: 0, stop: 4, dt: 0.5}
constants:
  k: {value: 0.1, range: [0.05, 0.2], distribution: {kind: uniform, low: 0.05, high: 0.2}}
  x0: {value: 100, range: [90, 110]}
stocks:
  x: {initial: x0, outflows: [loss]}
flows:
  loss: k * x
scenarios:
  slow: {set: {k: 0.05}}
"""


def _raised_texts(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal inside a ``raise`` statement of ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for sub in ast.walk(node.exc):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    out.append((sub.lineno, sub.value))
    return out


def test_library_errors_name_parameters_not_flags() -> None:
    found = []
    for part in LIBRARY:
        for path in sorted((SRC / part).rglob("*.py")) if (SRC / part).is_dir() else [SRC / part]:
            found += [f"{path.name}:{n}: {t!r}" for n, t in _raised_texts(path) if FLAG.search(t)]
    assert found == []


def test_the_flag_scan_sees_raised_messages(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('def f(n):\n    raise ValueError(f"--runs must be at least 1, got {n}")\n')
    assert [t for _, t in _raised_texts(bad) if FLAG.search(t)] == [
        "--runs must be at least 1, got "
    ]


@pytest.fixture(scope="module")
def decay() -> quidpro.LoadedModel:
    return quidpro.LoadedModel(parse_model(DECAY, "decay.yaml"))


def test_bad_counts_name_the_parameter(decay: quidpro.LoadedModel) -> None:
    with pytest.raises(ConfigError, match=r"^n_runs must be at least 1, got 0$"):
        make_plan(decay, 0, seed=1)
    with pytest.raises(ConfigError, match=r"^batch_size must be at least 1, got 0$"):
        make_plan(decay, 5, seed=1, batch_size=0)
    with pytest.raises(ConfigError, match=r"^samples must be at least 2, got 1$"):
        quidpro.sensitivity(decay, "sobol", "x", "4", 1, seed=1)


def test_a_backwards_range_is_a_model_error_at_its_line(decay: quidpro.LoadedModel) -> None:
    spec = decay.spec
    k = spec.constants["k"]
    broken = dataclasses.replace(
        spec, constants={**spec.constants, "k": dataclasses.replace(k, range=(0.3, 0.1))}
    )
    with pytest.raises(ModelError, match="the range of 'k' runs backwards") as info:
        problem(broken)
    assert (info.value.loc.file, info.value.loc.line) == ("decay.yaml", 5)
    assert not isinstance(info.value, ConfigError)


def test_nothing_to_vary_is_a_model_defect_but_fixing_everything_a_config_error() -> None:
    flat = parse_model(DECAY.replace(", range: [90, 110]", "").split("stocks:")[0], "f.yaml")
    plain = parse_model(
        "quidpro: 1\nname: p\ntime: {start: 0, stop: 1}\nconstants: {c: 1}\n", "p.yaml"
    )
    with pytest.raises(ModelError, match="has no constant with a distribution or range"):
        problem(plain)
    with pytest.raises(ConfigError, match="leave free"):
        problem(flat, {"k"})


def test_non_finite_runs_in_sensitivity_are_a_model_error(tmp_path: Path) -> None:
    text = DECAY.replace("loss: k * x", "loss: x * sqrt(k - 0.12)")  # NaN where k < 0.12
    model = quidpro.LoadedModel(parse_model(text, "div.yaml"))
    with pytest.raises(ModelError, match="went non-finite"):
        quidpro.sensitivity(model, "morris", "x", "4", 4, seed=2, backend="numpy")


def test_ensembles_take_the_compiled_model_itself(decay: quidpro.LoadedModel) -> None:
    compiled = Compiled(decay.spec)
    kw = {"variables": ["x"], "queries": ["x > 70 at 4"], "backend": "numpy"}
    via_holder = summary(ensemble(decay, 64, seed=3, **kw))
    via_compiled = summary(ensemble(compiled, 64, seed=3, **kw))
    assert via_holder == via_compiled
    a = quidpro.sensitivity(compiled, "sobol", "x", "4", 8, seed=1, backend="numpy")
    b = quidpro.sensitivity(decay, "sobol", "x", "4", 8, seed=1, backend="numpy")
    assert a == b
    assert np.isfinite(a["S1"]["k"])


def test_overrides_scenario_then_settings(decay: quidpro.LoadedModel) -> None:
    assert constant_overrides(decay.spec, "slow", {"x0": 50}) == {"k": 0.05, "x0": 50}
    assert constant_overrides(decay.spec, "slow", {"k": 0.2}) == {"k": 0.2}
    assert constant_overrides(decay.spec, "baseline") == {}
    with pytest.raises(ConfigError, match=r"unknown scenario 'slwo' \(did you mean 'slow'\?\)"):
        constant_overrides(decay.spec, "slwo")
    with pytest.raises(ConfigError, match=r"cannot set 'kk'.*\(did you mean 'k'\?\)"):
        constant_overrides(decay.spec, None, {"kk": 1})


def test_an_unknown_distribution_is_a_model_error_at_its_line() -> None:
    from quidpro.ensemble.sampling import frozen
    from quidpro.errors import Loc
    from quidpro.model.spec import Distribution

    where = Loc("m.yaml", 7, 3)
    with pytest.raises(ModelError, match="unknown distribution kind 'cauchy'") as info:
        frozen(Distribution("cauchy", {}, where))
    assert info.value.loc == where


def test_did_you_mean_is_one_helper_for_every_hint() -> None:
    from quidpro.lang.suggest import closest, did_you_mean

    names = ["birth_rate", "death_rate", "population"]
    assert closest("birth_rte", names) == "birth_rate"
    assert closest("birth_rte", reversed(names)) == "birth_rate"  # order does not matter
    assert closest("zzz", names) is None
    assert did_you_mean("popluation", names) == " (did you mean 'population'?)"
    assert did_you_mean("zzz", names) == ""
    assert did_you_mean("smoth", ["smooth", "step"], display=str.upper) == (
        " (did you mean 'SMOOTH'?)"
    )
    # ties go to the greater string whatever the order given (difflib ranks (score, word))
    assert closest("abc", ["abx", "aby"]) == closest("abc", ["aby", "abx"]) == "aby"
