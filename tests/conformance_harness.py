"""The comparison rules of the suites' ``check_xmile.py``, shared by both conformance tests.

``tests/test_conformance.py`` (XMILE) and ``tests/test_vensim_conformance.py``
(Vensim, and PySD on the same models) judge a run by these rules, unchanged from
``tests/data/conformance/check_xmile.py``: names compared ignoring case, quotes and
runs of spaces/underscores; only columns present in both, at least one; the expected
time points matched by linear interpolation of the produced series; a value passes
within 1e-3 absolute or relative; a Vensim ``.tab`` constant given only in its first
row is carried forward; a sample's Stella output preferred to ``output.csv``.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

TOLERANCE = 1e-3  # absolute or relative, as check_xmile.py


def norm(name: str) -> str:
    """A column name as the suite compares it."""
    return re.sub(r"[\s_]+", " ", name.strip().strip('"').lower())


def _num(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        return math.nan


def output_file(suite: Path, model: str) -> Path:
    """The expected output of ``model``, chosen as ``check_xmile.py`` chooses it."""
    names = ["output.csv", "output.tab"]
    if "samples/" in model:
        names = ["output_stella1006.csv", "output_stella.csv", *names]
    folder = (suite / model).parent
    return next(folder / n for n in names if (folder / n).exists())


def expected(suite: Path, model: str) -> tuple[list[float], dict[str, list[float]]]:
    """(times, columns) of the model's expected output, as ``check_xmile.py`` reads it."""
    path = output_file(suite, model)
    raw = path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    delimiter = "\t" if path.suffix == ".tab" else ","
    rows = [
        r
        for r in csv.reader(raw.splitlines(), delimiter=delimiter)
        if r and any(c.strip() for c in r)
    ]
    head = rows[0]
    if norm(head[0]) == "time":
        times = [_num(r[0]) for r in rows[1:]]
        cols = {
            norm(h): [_num(r[i]) if i < len(r) else math.nan for r in rows[1:]]
            for i, h in enumerate(head)
            if i
        }
    else:  # transposed: names in the first column, times in the first row
        times = [_num(c) for c in head[1:]]
        cols = {norm(r[0]): [_num(c) for c in r[1:]] for r in rows[1:]}
    keep = [i for i, t in enumerate(times) if not math.isnan(t)]
    out = {}
    for k, v in cols.items():
        vals = [v[i] if i < len(v) else math.nan for i in keep]
        if len(vals) > 1 and all(math.isnan(x) for x in vals[1:]) and not math.isnan(vals[0]):
            vals = [vals[0]] * len(vals)
        out[k] = vals
    return [times[i] for i in keep], out


def check_run(suite: Path, model: str, df: pd.DataFrame) -> int:
    """Assert that a run (time as the index) matches the expected output; columns compared."""
    times = df.index.to_numpy(dtype=float)
    cols = {norm(str(c)): df[c].to_numpy(dtype=float) for c in df.columns}
    ets, ecols = expected(suite, model)
    common = [c for c in ecols if c in cols and c != "time"]
    assert common, "no variable in common with the expected output"
    bad = []
    for c in common:
        e = np.asarray(ecols[c])
        got = np.interp(ets, times, cols[c])
        ok = np.isnan(e) | (np.abs(got - e) <= np.maximum(TOLERANCE, TOLERANCE * np.abs(e)))
        if not ok.all():
            i = int(np.argmin(ok))
            bad.append(f"{c}@{ets[i]}: {got[i]} vs {e[i]}")
    assert not bad, "; ".join(bad[:5])
    return len(common)
