"""XMILE that the peers read: ``quidpro convert`` output run unchanged by PySD and simlin.

What each peer needs from the writer: no ``DT`` inside equations (PySD 3.14 does not
know it; a number auxiliary ``quidpro_dt`` stands in), ``STEP`` and ``PULSE`` as ``IF``
forms (the peers switch them differently off the ``dt`` grid), graphical functions drawn
inside the auxiliary that uses them (simlin cannot call a standalone one), and
``<non_negative/>`` on the non-negative stocks. Every variable is compared within
1e-6 (Euler in all three: the same arithmetic up to rounding).
"""

from __future__ import annotations

import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import quidpro
from quidpro.io.load import read_model
from quidpro.io.xmile_writer import NAMESPACE, model_to_xmile

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pysd

RTOL = 1e-6
NS = {"x": NAMESPACE}

# A lookup called inside larger equations (a helper auxiliary carries each call),
# one that is a whole equation, a nested call, and dt in an equation.
LOOKUPS_YAML = """\
quidpro: 1
name: lookups_demo
time: {start: 0, stop: 12, dt: 0.25, units: month}
constants:
  capacity: {value: 100, units: people}
stocks:
  pop: {initial: 10, inflows: [births], outflows: [deaths], non_negative: true, units: people}
flows:
  births: {equation: "0.3 * pop * crowding(pop / capacity)", units: people/month}
  deaths: {equation: "pop * (0.05 + 0.1 * crowding(crowding(pop / capacity)))", units: people/month}
auxiliaries:
  effect: crowding(pop / capacity)
  per_step: pop / dt
  wobble: "2 * shape(time) - shape(time / 2)"
lookups:
  crowding: {points: [[0, 1], [0.5, 0.8], [1, 0]], units: dimensionless}
  shape: {points: [[0, 0], [6, 1], [12, 0.5]], extrapolate: linear}
"""


# step and pulse off the dt grid (2.1, 1.3 with dt 0.25), on it, repeating (by a
# number and by a constant), and a ramp: the peers' own STEP switches half a step
# early and PySD's PULSE misses an off-grid start, so the writer spells both out.
TIME_FUNCTIONS_YAML = """\
quidpro: 1
name: time_functions
time: {start: 0, stop: 12, dt: 0.25}
constants:
  t_on: 2.1
  every: 1.3
stocks:
  s: {initial: 0, inflows: [f]}
flows:
  f: {equation: "pulse(5, 2.1) + pulse(3, t_on, every) + pulse(2, 1, 2)"}
auxiliaries:
  a: "step(1, t_on) + step(2, 3.0) + step(4, 37.82)"
  r: "ramp(2, 1.1, 3.3) + ramp(1, t_on)"
  p1: "pulse(5, 2.1)"
  p2: "pulse(3, t_on, every)"
  p3: "pulse(2, 1, 2)"
  p4: "pulse(2, 1, 0)"
"""


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "_", name.strip().strip('"').lower())


def _compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> int:
    cols = {_key(c): c for c in theirs.columns}
    for col in ours.columns:
        key = _key(col)
        assert key in cols, f"the peer has no column for {col!r}"
        np.testing.assert_allclose(
            ours[col].to_numpy(),
            theirs[cols[key]].to_numpy(dtype=float),
            rtol=RTOL,
            atol=1e-9,
            err_msg=col,
        )
    return len(ours.columns)


def _export(model: str | Path, tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    path = tmp_path / "export.xmile"
    path.write_text(model_to_xmile(read_model(model)))
    return quidpro.load(model).run(), path


def _pysd(path: Path) -> pd.DataFrame:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        df: pd.DataFrame = pysd.read_xmile(str(path)).run(progress=False)
    return df


def _simlin(path: Path) -> pd.DataFrame:
    simlin = pytest.importorskip("simlin")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df: pd.DataFrame = simlin.load(path).run(analyze_loops=False).results
    return df


@pytest.fixture
def time_functions(tmp_path: Path) -> Path:
    path = tmp_path / "time_functions.yaml"
    path.write_text(TIME_FUNCTIONS_YAML)
    return path


@pytest.fixture
def lookups_model(tmp_path: Path) -> Path:
    path = tmp_path / "lookups.yaml"
    path.write_text(LOOKUPS_YAML)
    return path


def test_the_flagship_export_is_what_the_peers_read() -> None:
    spec = read_model("nk_russia")
    root = ET.fromstring(model_to_xmile(spec))
    variables = root.find("x:model/x:variables", NS)
    assert variables is not None
    eqns = [e.text or "" for e in variables.iter(f"{{{NAMESPACE}}}eqn")]
    assert not [e for e in eqns if re.search(r"\bDT\b", e)]
    called = [e for e in eqns for lk in spec.lookups if re.search(rf"\b{lk}\s*\(", e)]
    assert called == [], "a lookup is still called like a function"
    assert variables.findall("x:gf", NS) == []  # every gf sits inside its auxiliary
    assert len(variables.findall("x:aux/x:gf", NS)) >= len(spec.lookups)
    non_negative = {
        s.get("name")
        for s in variables.findall("x:stock", NS)
        if s.find("x:non_negative", NS) is not None
    }
    assert non_negative == {s.name for s in spec.stocks.values() if s.non_negative}


def test_helpers_carry_lookups_inside_larger_equations(lookups_model: Path) -> None:
    text = model_to_xmile(read_model(lookups_model))
    assert '<aux name="births_crowding">' in text
    assert '<aux name="deaths_crowding">' in text  # the inner call of the nested pair
    assert '<aux name="deaths_crowding_2">' in text
    assert '<aux name="quidpro_dt">' in text
    assert not re.search(r"<eqn>[^<]*\bDT\b", text)


def test_the_export_reads_back_into_quidpro_unchanged(lookups_model: Path, tmp_path: Path) -> None:
    ours, path = _export(lookups_model, tmp_path)
    back = quidpro.load(path).run()
    for col in ours.columns:
        np.testing.assert_allclose(ours[col], back[col], rtol=1e-12, atol=1e-12, err_msg=col)


def test_lookups_and_dt_agree_with_pysd(lookups_model: Path, tmp_path: Path) -> None:
    ours, path = _export(lookups_model, tmp_path)
    assert _compare(ours, _pysd(path)) == 6


def test_lookups_and_dt_agree_with_simlin(lookups_model: Path, tmp_path: Path) -> None:
    ours, path = _export(lookups_model, tmp_path)
    assert _compare(ours, _simlin(path)) == 6


def test_the_flagship_agrees_with_simlin(tmp_path: Path) -> None:
    ours, path = _export("nk_russia", tmp_path)
    assert _compare(ours, _simlin(path)) == len(ours.columns) > 90


def test_step_and_pulse_are_written_as_if_forms(time_functions: Path) -> None:
    text = model_to_xmile(read_model(time_functions))
    assert not re.search(r"\b(STEP|PULSE)\(", text)
    assert "(IF TIME &gt;= t_on THEN 1 ELSE 0)" in text
    assert "(IF TIME - 2.1 &gt; -(quidpro_dt * 1e-06) AND" in text


def test_rk4_keeps_pulse_whose_if_form_would_read_stage_times(
    time_functions: Path, tmp_path: Path
) -> None:
    rk4 = tmp_path / "rk4.yaml"
    rk4.write_text(time_functions.read_text().replace("dt: 0.25}", "dt: 0.25, method: rk4}"))
    text = model_to_xmile(read_model(rk4))
    assert "PULSE(5, 2.1)" in text
    assert "STEP(" not in text  # exact at every stage time
    ours, path = _export(rk4, tmp_path)
    back = quidpro.load(path).run()
    for col in ours.columns:
        np.testing.assert_allclose(ours[col], back[col], rtol=1e-12, atol=1e-12, err_msg=col)


@pytest.mark.parametrize("peer", [_pysd, _simlin, lambda p: quidpro.load(p).run()])
def test_time_functions_agree_off_the_grid(
    peer: Callable[[Path], pd.DataFrame], time_functions: Path, tmp_path: Path
) -> None:
    ours, path = _export(time_functions, tmp_path)
    assert _compare(ours, peer(path)) == 8
