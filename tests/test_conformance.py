"""XMILE conformance: the SDXorg test-models subset vendored in tests/data/conformance.

The rules are those of ``check_xmile.py`` (names compared ignoring case, quotes and
runs of spaces/underscores; columns present in both; expected times matched by
linear interpolation; a value passes within 1e-3 absolute or relative), applied by
``conformance_harness``, as for the Vensim suite. One table
entry per model; a note where a model needs something different, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import quidpro
from conformance_harness import check_run
from quidpro.lang.xml_tree import XmileRepairWarning
from vendored import CONFORMANCE as SUITE
from vendored import CONFORMANCE_MODELS as MODELS


@dataclass(frozen=True)
class Note:
    method: str | None = None  # run with this method instead of the file's
    warns: type[Warning] | None = None  # a warning the model must raise
    why: str = ""


NOTES = {
    "tests/non_negative_flows/test_non_negative_flows.xmile": Note(
        warns=XmileRepairWarning,
        why="the file leaves <flow name='if_else3'> unclosed; it is read with a warning",
    ),
}


def run(model: str, note: Note) -> pd.DataFrame:
    path = SUITE / model
    if note.warns is not None:
        with pytest.warns(note.warns):
            m = quidpro.load(path)
    else:
        m = quidpro.load(path)
    return m.run(method=note.method)


@pytest.mark.parametrize("model", MODELS)
def test_conformance(model: str) -> None:
    assert check_run(SUITE, model, run(model, NOTES.get(model, Note()))) >= 1


def test_zeroled_rk4_holds_time_at_step_start_for_vensim() -> None:
    """The file (from Vensim) asks for RK4; Vensim holds exogenous inputs, TIME included,
    constant over a step, so stockmixed' = 0.1223 - 0.5 - t_k - 0.3 sums like Euler's."""
    m = quidpro.load(SUITE / "tests/zeroled_decimals/test_zeroled_decimals.xmile")
    assert m.spec.time.method == "rk4"
    assert m.spec.time.hold_inputs
    t = m.run().index.to_numpy()
    exact = (0.1223 - 0.5 - 0.3) * t - t * (t - 1) / 2
    np.testing.assert_allclose(m.run()["stockmixed"].to_numpy(), exact, rtol=1e-12, atol=1e-12)


def test_rk4_advances_time_within_a_step_for_other_vendors(tmp_path: Path) -> None:
    """Without a Vensim header, RK4 evaluates TIME at its stage times: the exact integral."""
    text = (SUITE / "tests/zeroled_decimals/test_zeroled_decimals.xmile").read_text()
    plain = tmp_path / "plain.xmile"
    plain.write_text(text.replace("Ventana Systems, Inc.", "Someone").replace(">Vensim<", ">x<"))
    t = quidpro.load(plain).run().index.to_numpy()
    exact = (0.1223 - 0.5 - 0.3) * t - t**2 / 2
    np.testing.assert_allclose(quidpro.load(plain).run()["stockmixed"], exact, rtol=1e-12)


def test_every_model_is_listed() -> None:
    assert len(MODELS) == 33
    assert set(NOTES) <= set(MODELS)
