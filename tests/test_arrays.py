"""Arrays in format v1: dimensions, dims, per-element equations, reductions, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import quidpro
from quidpro.errors import ModelError, ParseError, UndefinedNameError
from quidpro.io.load import parse_model

MODEL = """\
quidpro: 1
name: arrays
time: {start: 0, stop: 10, dt: 1}
dimensions:
  actor: [ru, kp]
  slot: 3
constants:
  rate: {dims: [actor], value: {ru: 0.1, kp: 0.2}}
  base: {dims: [actor], value: 5, units: shells}
  weight: {dims: [slot], value: {"1": 1, "2": 2, "3": 3}}
stocks:
  stock:
    dims: [actor]
    initial: base[actor] * 2
    inflows: [gain]
    outflows: [drain]
flows:
  gain: {dims: [actor], equation: "rate[actor] * stock"}
  drain: {dims: [actor], equation: {ru: "0", kp: "0.5"}}
auxiliaries:
  total: sum(stock[*])
  avg: mean(stock[actor])
  lo: min(stock[*])
  hi: max(stock[*])
  ru_minus_kp: stock[ru] - stock[kp]
  weighted: sum(weight[*] * 2)
  shares: {dims: [actor], equation: "stock / total"}
scenarios:
  fast: {set: {"rate[kp]": 0.4}}
"""


@pytest.fixture
def model(tmp_path: Path) -> quidpro.LoadedModel:
    p = tmp_path / "arrays.yaml"
    p.write_text(MODEL)
    return quidpro.load(p)


def test_elements_are_scalars_named_base_elem(model: quidpro.LoadedModel) -> None:
    spec = model.spec
    assert list(spec.stocks) == ["stock[ru]", "stock[kp]"]
    assert spec.dimensions["slot"] == ("1", "2", "3")
    assert spec.arrays["stock"] == ("actor",)
    assert spec.constants["base[kp]"].units == "shells"


def test_apply_to_all_per_element_and_reductions(model: quidpro.LoadedModel) -> None:
    df = model.run()
    ru, kp = df["stock[ru]"].to_numpy(), df["stock[kp]"].to_numpy()
    assert ru[0] == kp[0] == 10
    np.testing.assert_allclose(ru, 10 * 1.1 ** np.arange(11))
    assert kp[1] == pytest.approx(10 * 1.2 - 0.5)
    np.testing.assert_allclose(df["total"], ru + kp)
    np.testing.assert_allclose(df["avg"], (ru + kp) / 2)
    np.testing.assert_allclose(df["lo"], np.minimum(ru, kp))
    np.testing.assert_allclose(df["hi"], np.maximum(ru, kp))
    np.testing.assert_allclose(df["ru_minus_kp"], ru - kp)
    np.testing.assert_allclose(df["shares[ru]"] + df["shares[kp]"], 1.0)
    assert df["weighted"].iloc[0] == 12


def test_elements_can_be_set_and_scenarios_use_them(model: quidpro.LoadedModel) -> None:
    fast = model.run(scenario="fast")
    assert fast["stock[kp]"].iloc[1] == pytest.approx(10 * 1.4 - 0.5)
    one = model.run(set={"rate[ru]": 0.0})
    assert one["stock[ru]"].iloc[-1] == 10


def test_ensemble_over_an_element(model: quidpro.LoadedModel) -> None:
    traj = model.simulate(n_runs=3, set={"rate[ru]": np.array([0.0, 0.1, 0.2])})
    end = traj.series("stock[ru]")[-1]
    np.testing.assert_allclose(end, 10 * np.array([1.0, 1.1, 1.2]) ** 10)


def test_files_without_arrays_are_unchanged(write_model) -> None:
    p = write_model(
        "quidpro: 1\nname: s\ntime: {stop: 2}\nconstants: {k: 2}\nauxiliaries: {y: k * 2}\n"
    )
    m = quidpro.load(p)
    assert m.spec.dimensions == {}
    assert m.spec.arrays == {}
    assert m.run()["y"].iloc[0] == 4


HEAD = "quidpro: 1\nname: a\ntime: {stop: 2}\ndimensions:\n  d: [x, y]\n"


@pytest.mark.parametrize(
    ("body", "error", "message", "where"),
    [
        (
            "auxiliaries:\n  v: {dims: [e], equation: 1}\n",
            UndefinedNameError,
            "undefined dimension 'e'",
            "7:",
        ),
        (
            "auxiliaries:\n  v: {dims: [d], equation: {x: 1}}\n",
            ParseError,
            "no entry for element 'y'",
            "7:",
        ),
        (
            "constants:\n  k: {dims: [d], value: 1}\nauxiliaries:\n  v: k[z]\n",
            UndefinedNameError,
            "'z' is not an element of dimension 'd'",
            "9:",
        ),
        (
            "constants:\n  k: {dims: [d], value: 1}\nauxiliaries:\n  v: k[*] + 1\n",
            ModelError,
            "stands for a whole dimension",
            "9:",
        ),
        (
            "constants:\n  k: {dims: [d], value: 1}\nauxiliaries:\n  v: k + 1\n",
            ModelError,
            "is an array over d",
            "9:",
        ),
        ("constants:\n  k: 1\nauxiliaries:\n  v: k[x]\n", ModelError, "not an array", "9:"),
        (
            "constants:\n  k: {dims: [d], value: 1}\nauxiliaries:\n  k: 2\n",
            ModelError,
            "defined twice",
            "9:",
        ),
        (
            "stocks:\n  s: {initial: 0, inflows: [f]}\nflows:\n  f: {dims: [d], equation: 1}\n",
            ModelError,
            "sum it in a scalar flow",
            "7:",
        ),
    ],
)
def test_array_errors_point_at_the_line(
    body: str, error: type[Exception], message: str, where: str
) -> None:
    with pytest.raises(error, match=message.replace("[", r"\[").replace("*", r"\*")) as exc:
        parse_model(HEAD + body, "a.yaml")
    assert str(exc.value).startswith(f"a.yaml:{where}")


def test_a_subscript_without_dimensions_is_an_error(write_model) -> None:
    p = write_model(
        "quidpro: 1\nname: s\ntime: {stop: 2}\nconstants: {k: 2}\nauxiliaries:\n  y: k[ru]\n"
    )
    with pytest.raises(ModelError, match="'k' is not an array") as exc:
        quidpro.load(p)
    assert exc.value.loc.line == 6
