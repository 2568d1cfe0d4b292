"""Vensim conformance: the SDXorg test-models subset vendored in tests/data/conformance-vensim.

The comparison rules are those of the suite's ``check_xmile.py``, unchanged
(``conformance_harness``, shared with the XMILE suite): names
compared ignoring case, quotes and runs of spaces/underscores; only columns present
in both, at least one; the expected time points matched by linear interpolation of
the produced series; a value passes within 1e-3 absolute or relative; a ``.tab``
constant given only in its first row is carried forward. Every model of
``models.txt`` is run; those quidpro does not pass are strict xfails with a reason,
so a model that starts passing is noticed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import quidpro
from conformance_harness import check_run
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


def compare(model: str) -> int:
    """Run ``model`` and compare it with its expected output; the number of columns compared."""
    warns = WARNS.get(model)
    if warns is not None:
        with pytest.warns(warns):
            loaded = quidpro.load(SUITE / model)
    else:
        loaded = quidpro.load(SUITE / model)
    return check_run(SUITE, model, loaded.run(backend="numpy"))


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
    assert len(MODELS) - len(XFAIL) >= 85  # PySD 3.14.3: 85 in process, 84 in peer-results.tsv


def pysd_compare(model: str, scratch: Path) -> int:
    """The same comparison for PySD's run of ``model`` (read from a copy: PySD writes a .py).

    PySD runs with NumPy's default error handling, not the tests' strict one
    (conftest.py): a NaN cast in its rounding is PySD's own business, and under
    ``np.seterr(all="raise")`` it would fail models it passes on its own.
    """
    import shutil
    import warnings

    import numpy as np
    import pysd

    copy = scratch / model.replace("/", "__")
    shutil.copytree((SUITE / model).parent, copy)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        df = pysd.read_vensim(str(copy / Path(model).name)).run(progress=False)
    return check_run(SUITE, model, df)


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
