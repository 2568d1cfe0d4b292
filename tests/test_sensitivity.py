"""Sensitivity analysis: the Ishigami function as a format-v1 model.

Ishigami & Homma (1990): y = sin(x1) + a·sin²(x2) + b·x3⁴·sin(x1), xi ~ U(-π, π),
a = 7, b = 0.1. Analytic first-order indices S1 ≈ (0.314, 0.442, 0.0) and total
indices ST ≈ (0.558, 0.442, 0.244); tolerance as in SALib's own regression tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from quidpro.analysis.sensitivity import problem, sensitivity
from quidpro.api import LoadedModel
from quidpro.cli.main import app
from quidpro.ensemble.sampling import bounds
from quidpro.errors import ConfigError
from quidpro.io.load import parse_model

PI = "3.141592653589793"
ISHIGAMI = f"""quidpro: 1
name: ishigami
doc: The Ishigami function (Ishigami & Homma 1990), a sensitivity-analysis benchmark.
time: {{start: 0, stop: 1, dt: 1}}
constants:
  x1: {{value: 0, distribution: {{kind: uniform, low: -{PI}, high: {PI}}}}}
  x2: {{value: 0, distribution: {{kind: uniform, low: -{PI}, high: {PI}}}}}
  x3: {{value: 0, distribution: {{kind: uniform, low: -{PI}, high: {PI}}}}}
  a: 7
  b: 0.1
stocks:
  s: {{initial: 0, inflows: [f]}}
flows:
  f: 0
auxiliaries:
  y: sin(x1) + a * sin(x2)^2 + b * x3^4 * sin(x1)
"""


@pytest.fixture(scope="module")
def ishigami() -> LoadedModel:
    return LoadedModel(parse_model(ISHIGAMI, "ishigami.yaml"))


def test_sobol_ishigami_analytic(ishigami: LoadedModel) -> None:
    doc = sensitivity(ishigami, "sobol", "y", "1", 1024, seed=101, backend="numpy")
    assert doc["runs"] == 1024 * 5
    s1 = [doc["S1"][n] for n in ("x1", "x2", "x3")]
    st = [doc["ST"][n] for n in ("x1", "x2", "x3")]
    np.testing.assert_allclose(s1, [0.314, 0.442, 0.0], atol=5e-2, rtol=1e-1)
    np.testing.assert_allclose(st, [0.558, 0.442, 0.244], atol=5e-2, rtol=1e-1)
    assert all(doc["S1_conf"][n] > 0 for n in ("x1", "x2", "x3"))


def test_sobol_seeded_regression(ishigami: LoadedModel) -> None:
    doc = sensitivity(ishigami, "sobol", "y", "1", 64, seed=7, backend="numpy")
    again = sensitivity(ishigami, "sobol", "y", "1", 64, seed=7, backend="numpy")
    assert doc == again
    expected_s1 = EXPECTED_SOBOL_S1
    np.testing.assert_allclose(
        [doc["S1"][n] for n in ("x1", "x2", "x3")], expected_s1, rtol=1e-5, atol=1e-12
    )


def test_morris_ranks_and_regression(ishigami: LoadedModel) -> None:
    doc = sensitivity(ishigami, "morris", "y", "1", 50, seed=3, backend="numpy")
    assert doc["runs"] == 50 * 4
    assert set(doc) >= {"method", "output", "at", "mu_star", "sigma"}
    np.testing.assert_allclose(
        [doc["mu_star"][n] for n in ("x1", "x2", "x3")], EXPECTED_MORRIS_MU, rtol=1e-5
    )


def test_bounds_from_range_or_distribution(write_model) -> None:
    m = parse_model(
        """quidpro: 1
name: b
time: {start: 0, stop: 1, dt: 1}
constants:
  r: {value: 1, range: [0.5, 2], distribution: {kind: normal, mean: 1, sd: 1}}
  n: {value: 1, distribution: {kind: normal, mean: 1, sd: 1}}
  fixed: 3
  pinned: {value: 12, range: [12, 12]}
auxiliaries:
  y: r + n + fixed
""",
        "b.yaml",
    )
    assert bounds(m, "r") == (0.5, 2.0)
    lo, hi = bounds(m, "n")
    assert lo == pytest.approx(1 - 2.3263479, abs=1e-6)
    assert hi == pytest.approx(1 + 2.3263479, abs=1e-6)
    assert problem(m)["names"] == ["r", "n"]  # a zero-width range does not vary
    with pytest.raises(ConfigError, match="no constant"):
        problem(m, {"r", "n"})


def test_sensitivity_cli_json_and_plot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIDPRO_STORE", str(tmp_path / "runs.duckdb"))
    model = tmp_path / "ishigami.yaml"
    model.write_text(ISHIGAMI)
    out, png = tmp_path / "s.json", tmp_path / "s.png"
    r = CliRunner().invoke(
        app,
        ["sensitivity", str(model), "--method", "sobol", "--output", "y", "--at", "1",
         "--samples", "128", "--seed", "1", "--json", str(out), "--plot", str(png),
         "--backend", "numpy"],
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    doc = json.loads(out.read_text())
    assert list(doc) == ["method", "output", "at", "S1", "ST", "S1_conf", "ST_conf"]  # DESIGN.md
    assert doc["method"] == "sobol"
    assert doc["output"] == "y"
    assert doc["at"] == 1.0
    for key in ("S1", "ST", "S1_conf", "ST_conf"):
        assert set(doc[key]) == {"x1", "x2", "x3"}
    assert png.stat().st_size > 5_000
    r = CliRunner().invoke(
        app,
        ["sensitivity", str(model), "--method", "morris", "--output", "y", "--at", "1",
         "--samples", "10", "--seed", "1", "--json", str(out), "--no-store", "-q"],
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    doc = json.loads(out.read_text())
    assert list(doc) == ["method", "output", "at", "mu_star", "sigma"]
    assert doc["method"] == "morris"
    assert set(doc["mu_star"]) == {"x1", "x2", "x3"}


EXPECTED_SOBOL_S1 = [0.2022226397510196, 0.43052702170399293, -0.11053249540940673]
EXPECTED_MORRIS_MU = [7.151776675939803, 7.640906366280278, 6.110629107306952]


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_the_design_size_is_salibs_and_a_huge_one_is_refused_before_sampling(
    ishigami: LoadedModel, method: str
) -> None:
    from quidpro.analysis.sensitivity import design, design_runs

    prob = problem(ishigami.spec)
    assert design_runs(prob, method, 16) == len(design(prob, method, 16, seed=3))
    with pytest.raises(ConfigError, match="QUIDPRO_MAX_VALUES"):
        design(prob, method, 10**23, seed=3)
