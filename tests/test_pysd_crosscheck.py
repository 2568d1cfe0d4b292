"""Cross-check with PySD: export quidpro models to XMILE, run both, compare every variable.

PySD is a test peer (the ``peer`` extra, also in ``dev``). PySD reads the exported
text unchanged: the writer spells no ``DT`` (which PySD 3.14 does not know) and
brackets ``-a^b``, which PySD reads as ``(-a)^b``.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import quidpro
from quidpro.io.load import builtin_models, read_model
from quidpro.io.xmile_writer import model_to_xmile
from vendored import CONFORMANCE as SUITE
from vendored import CONFORMANCE_MODELS as SUITE_MODELS

# The dev extra installs PySD, so a missing peer is an error, not a skip. Its own
# imports raise deprecation warnings (chardet), which are not ours to fix.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pysd

RTOL = 1e-6  # Euler in both: the same arithmetic, up to rounding

ARRAYS_YAML = """\
quidpro: 1
name: arrays_demo
time: {start: 0, stop: 20, dt: 0.5}
dimensions:
  actor: [ru, kp, cn]
constants:
  growth: {dims: [actor], value: {ru: 0.02, kp: 0.05, cn: 0.01}}
  capacity: 500
stocks:
  stock: {dims: [actor], initial: {ru: 100, kp: 20, cn: 60}, inflows: [gain], outflows: [loss]}
flows:
  gain: {dims: [actor], equation: "growth[actor] * stock[actor] * (1 - total / capacity)"}
  loss: {dims: [actor], equation: "0.01 * stock[actor]"}
auxiliaries:
  total: sum(stock[*])
  biggest: max(stock[*])
  ru_share: stock[ru] / total
"""


def _pysd_run(xmile_text: str, folder: Path) -> dict[str, np.ndarray]:
    path = folder / "model_pysd.xmile"
    path.write_text(xmile_text)  # unchanged: what `quidpro convert` writes
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        model = pysd.read_xmile(str(path))
        df = model.run(progress=False)
    return {_key(c): df[c].to_numpy() for c in df.columns}


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "_", name.strip().strip('"').lower())


def _compare(model_path: Path | str, tmp_path: Path) -> int:
    spec = read_model(model_path)
    ours = quidpro.load(model_path).run()
    theirs = _pysd_run(model_to_xmile(spec), tmp_path)
    compared = 0
    for col in ours.columns:
        key = _key(col.replace(".", "__"))
        assert key in theirs, f"PySD has no column for {col!r}"
        np.testing.assert_allclose(
            ours[col].to_numpy(), theirs[key], rtol=RTOL, atol=1e-9, err_msg=col
        )
        compared += 1
    return compared


@pytest.mark.parametrize("name", sorted(builtin_models()))
def test_builtin_model_agrees_with_pysd(name: str, tmp_path: Path) -> None:
    assert _compare(builtin_models()[name], tmp_path) > 0


def test_arrays_agree_with_pysd(tmp_path: Path) -> None:
    path = tmp_path / "arrays.yaml"
    path.write_text(ARRAYS_YAML)
    assert _compare(path, tmp_path) == 3 * 3 + 3


@pytest.mark.parametrize("sample", ["samples/teacup/teacup.xmile", "samples/SIR/SIR.xmile"])
def test_xmile_samples_agree_with_pysd(sample: str, tmp_path: Path) -> None:
    assert _compare(SUITE / sample, tmp_path) > 0


@pytest.mark.slow
@pytest.mark.parametrize("model", [m for m in SUITE_MODELS if "modules" not in m])
def test_conformance_models_agree_with_pysd(model: str, tmp_path: Path) -> None:
    """Both tools on the suite's own files (Euler: PySD integrates nothing else)."""
    path = tmp_path / Path(model).name
    path.write_text((SUITE / model).read_text(encoding="utf-8-sig"))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        theirs = pysd.read_xmile(str(path)).run(progress=False)
        ours = quidpro.load(SUITE / model).run(method="euler")
    cols = {_key(c): c for c in theirs.columns}
    compared = 0
    for col in ours.columns:
        if _key(col) in cols:
            np.testing.assert_allclose(
                ours[col].to_numpy(),
                theirs[cols[_key(col)]].to_numpy(dtype=float),
                rtol=RTOL,
                atol=1e-9,
                err_msg=col,
            )
            compared += 1
    assert compared > 0
