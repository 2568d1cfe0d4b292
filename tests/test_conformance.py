"""XMILE conformance: the SDXorg test-models subset vendored in tests/data/conformance.

The rules are those of ``check_xmile.py`` (names compared ignoring case, quotes and
runs of spaces/underscores; columns present in both; expected times matched by
linear interpolation; a value passes within 1e-3 absolute or relative). One table
entry per model; a note where a model needs something different, with the reason.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import quidpro
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


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().strip('"').lower())


def _num(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        return math.nan


def expected(model: str) -> tuple[list[float], dict[str, list[float]]]:
    folder = SUITE / model
    names = ["output.csv", "output.tab"]
    if model.startswith("samples/"):
        names = ["output_stella1006.csv", "output_stella.csv", *names]
    path = next(folder.parent / n for n in names if (folder.parent / n).exists())
    raw = path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    rows = [
        r
        for r in csv.reader(raw.splitlines(), delimiter="\t" if path.suffix == ".tab" else ",")
        if r and any(c.strip() for c in r)
    ]
    head = rows[0]
    if _norm(head[0]) == "time":
        times = [_num(r[0]) for r in rows[1:]]
        cols = {
            _norm(h): [_num(r[i]) if i < len(r) else math.nan for r in rows[1:]]
            for i, h in enumerate(head)
            if i
        }
    else:
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


def run(model: str, note: Note) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    path = SUITE / model
    if note.warns is not None:
        with pytest.warns(note.warns):
            m = quidpro.load(path)
    else:
        m = quidpro.load(path)
    df = m.run(method=note.method)
    return df.index.to_numpy(), {_norm(c): df[c].to_numpy() for c in df.columns}


@pytest.mark.parametrize("model", MODELS)
def test_conformance(model: str) -> None:
    note = NOTES.get(model, Note())
    times, cols = run(model, note)
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
