"""Vensim conformance: the SDXorg test-models subset vendored in tests/data/conformance-vensim.

The comparison rules are those of the suite's ``check_xmile.py``, unchanged: names
compared ignoring case, quotes and runs of spaces/underscores; only columns present
in both, at least one; the expected time points matched by linear interpolation of
the produced series; a value passes within 1e-3 absolute or relative; a ``.tab``
constant given only in its first row is carried forward. Every model of
``models.txt`` is run; those quidpro does not pass are strict xfails with a reason,
so a model that starts passing is noticed.
"""

from __future__ import annotations

import csv
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

import quidpro
from quidpro.errors import UnsupportedError
from quidpro.model.from_vensim import DynamicControlWarning
from vendored import CONFORMANCE_VENSIM

SUITE = CONFORMANCE_VENSIM
MODELS = (SUITE / "models.txt").read_text().split()

# Models quidpro does not pass, and why (docs/conformance.md has the details).
XFAIL: dict[str, tuple[str, type[BaseException]]] = {
    "tests/allocate_available/test_allocate_available.mdl": (
        "ALLOCATE AVAILABLE is not implemented (refused with its position)",
        UnsupportedError,
    ),
    "tests/get_time_value/test_get_time_value.mdl": (
        "GET TIME VALUE needs Vensim's calendar (refused with its position; PySD fails too)",
        UnsupportedError,
    ),
    "tests/control_vars/test_control_vars.mdl": (
        "TIME STEP and FINAL TIME that change during the run: the clock uses their initial values",
        AssertionError,
    ),
}


# Models that must warn when read, and why.
WARNS: dict[str, type[Warning]] = {
    # FINAL TIME (and TIME STEP) read Time: the clock keeps their initial values.
    "tests/control_vars/test_control_vars.mdl": DynamicControlWarning,
    "tests/dynamic_final_time/test_dynamic_final_time.mdl": DynamicControlWarning,
}


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().strip('"').lower())


def _num(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        return math.nan


def expected(model: str) -> tuple[list[float], dict[str, list[float]]]:
    """(times, columns) of the model's output.csv or output.tab, as check_xmile.py reads it."""
    folder = (SUITE / model).parent
    path = next(folder / n for n in ("output.csv", "output.tab") if (folder / n).exists())
    raw = path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    delimiter = "\t" if path.suffix == ".tab" else ","
    rows = [r for r in csv.reader(raw.splitlines(), delimiter=delimiter) if r and any(r)]
    head = rows[0]
    if _norm(head[0]) == "time":
        times = [_num(r[0]) for r in rows[1:]]
        cols = {
            _norm(h): [_num(r[i]) if i < len(r) else math.nan for r in rows[1:]]
            for i, h in enumerate(head)
            if i
        }
    else:  # transposed: names in the first column, times in the first row
        times = [_num(c) for c in head[1:]]
        cols = {_norm(r[0]): [_num(c) for c in r[1:]] for r in rows[1:]}
    keep = [i for i, t in enumerate(times) if not math.isnan(t)]
    out = {}
    for k, v in cols.items():
        vals = [v[i] if i < len(v) else math.nan for i in keep]
        if len(vals) > 1 and all(math.isnan(x) for x in vals[1:]) and not math.isnan(vals[0]):
            vals = [vals[0]] * len(vals)
        out[k] = vals
    return [times[i] for i in keep], out


def compare(model: str) -> int:
    """Run ``model`` and compare it with its expected output; the number of columns compared."""
    warns = WARNS.get(model)
    if warns is not None:
        with pytest.warns(warns):
            loaded = quidpro.load(SUITE / model)
    else:
        loaded = quidpro.load(SUITE / model)
    df = loaded.run(backend="numpy")
    times = df.index.to_numpy()
    cols = {_norm(c): df[c].to_numpy() for c in df.columns}
    ets, ecols = expected(model)
    common = [c for c in ecols if c in cols and c != "time"]
    assert common, "no variable in common with the expected output"
    bad = []
    for c in common:
        e = np.asarray(ecols[c])
        got = np.interp(ets, times, cols[c])
        ok = np.isnan(e) | (np.abs(got - e) <= np.maximum(1e-3, 1e-3 * np.abs(e)))
        if not ok.all():
            i = int(np.argmin(ok))
            bad.append(f"{c}@{ets[i]}: {got[i]} vs {e[i]}")
    assert not bad, "; ".join(bad[:5])
    return len(common)


def _param(model: str) -> object:
    if model in XFAIL:
        why, raises = XFAIL[model]
        return pytest.param(model, marks=pytest.mark.xfail(reason=why, raises=raises, strict=True))
    return model


@pytest.mark.parametrize("model", [_param(m) for m in MODELS])
def test_vensim_conformance(model: str) -> None:
    assert compare(model) >= 1


def test_the_suite_is_vendored_whole_with_its_licence() -> None:
    assert len(MODELS) == 88
    assert "MIT" in (SUITE / "LICENSE").read_text()
    assert all((SUITE / m).exists() for m in MODELS)
    assert len(MODELS) - len(XFAIL) >= 85  # PySD 3.14.3 passes 84 (peer-results.tsv)


def pysd_compare(model: str, scratch: Path) -> int:
    """The same comparison for PySD's run of ``model`` (read from a copy: PySD writes a .py)."""
    import shutil
    import warnings

    import pysd

    copy = scratch / model.replace("/", "__")
    shutil.copytree((SUITE / model).parent, copy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = pysd.read_vensim(str(copy / Path(model).name)).run(progress=False)
    times = df.index.to_numpy(dtype=float)
    cols = {_norm(str(c)): df[c].to_numpy(dtype=float) for c in df.columns}
    ets, ecols = expected(model)
    common = [c for c in ecols if c in cols and c != "time"]
    assert common, "no variable in common with the expected output"
    for c in common:
        e = np.asarray(ecols[c])
        got = np.interp(ets, times, cols[c])
        assert (np.isnan(e) | (np.abs(got - e) <= np.maximum(1e-3, 1e-3 * np.abs(e)))).all(), c
    return len(common)


@pytest.mark.skipif(
    not os.environ.get("QUIDPRO_PYSD_SUITE"),
    reason="PySD on all 88 models takes minutes: set QUIDPRO_PYSD_SUITE=1",
)
def test_quidpro_passes_at_least_as_many_models_as_pysd(tmp_path: Path) -> None:
    """PySD (the dev extra) run on the same models by the same rules, in the same run."""
    pytest.importorskip("pysd")
    pysd_passed = set()
    for model in MODELS:
        try:
            pysd_compare(model, tmp_path)
        except Exception:  # any failure of the peer counts as a fail
            continue
        pysd_passed.add(model)
    ours = set(MODELS) - set(XFAIL)
    print(f"\nVensim suite: quidpro {len(ours)} of {len(MODELS)}, PySD {len(pysd_passed)}")
    print("PySD only:", sorted(pysd_passed - ours), "quidpro only:", sorted(ours - pysd_passed))
    assert len(ours) >= len(pysd_passed)
