"""Back-tests: the DESIGN JSON, scores against scoringrules and the baselines by
hand, bounds, and no look-ahead (changing or adding rows after a cutoff changes no
forecast)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from tests.calib_models import write_ledger, write_syn
from typer.testing import CliRunner

import quidpro
from quidpro.analysis.backtest import backtest
from quidpro.cli.main import app
from quidpro.evidence.ledger import read_ledger

CUT = dt.date(2021, 12, 1)
KEYS = ["id", "indicator", "date", "kind", "observed", "q05", "q50", "q95", "covered"]
KEYS += ["crps", "crps_persistence", "crps_trend"]


@pytest.fixture(scope="module")
def syn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_syn(tmp_path_factory.mktemp("bt"))


def _run(model: Path, ledger: Path, cutoffs: list[dt.date] = [CUT]) -> dict:  # noqa: B006
    m = quidpro.load(model)
    return backtest(
        m, read_ledger(ledger), cutoffs, runs=300, seed=3, method="map", draws=200, backend="numpy"
    )


def test_backtest_document_and_scores(syn: tuple[Path, Path]) -> None:
    import scoringrules as sr

    doc = _run(*syn)
    assert list(doc) == ["cutoffs"]
    (c,) = doc["cutoffs"]
    assert c["cutoff"] == "2021-12-01"
    for key in ("coverage90", "crpss_trend", "crpss_persistence"):
        assert key in c
    assert c["calibrated_on"] == 3  # P06, P12, P18 are known before December 2021
    ids = [r["id"] for r in c["observations"]]
    assert ids == ["P24", "P30", "P36", "P42", "B1"]
    values = c["observations"][:4]
    for r in c["observations"]:
        assert set(KEYS) <= set(r)
        assert r["q05"] <= r["q50"] <= r["q95"]
    # persistence holds the last value seen (P18), trend extends P12 -> P18
    rows = {r.id: r for r in read_ledger(syn[1])}
    p12, p18 = rows["P12"].value, rows["P18"].value
    assert p12 is not None
    assert p18 is not None
    for r, months in zip(values, (6, 12, 18, 24), strict=True):
        assert r["crps_persistence"] == pytest.approx(abs(r["observed"] - p18))
        trend = p18 + (p18 - p12) / 6 * months
        assert r["crps_trend"] == pytest.approx(abs(r["observed"] - trend), rel=1e-6)
        assert r["covered"] == (r["q05"] <= r["observed"] <= r["q95"])
        assert 0 < r["crps"] < abs(r["observed"] - r["q50"]) + (r["q95"] - r["q05"])
    # the bound (more than 50 in June 2022) is respected, without a CRPS
    bound = c["observations"][4]
    assert bound["covered"] is True
    assert bound["crps"] is None
    crpss = 1 - sum(r["crps"] for r in values) / sum(r["crps_trend"] for r in values)
    assert c["crpss_trend"] == pytest.approx(crpss)
    assert c["coverage90"] == pytest.approx(np.mean([r["covered"] for r in values]))
    # the CRPS is scoringrules' of the predictive ensemble: a point ensemble gives |y - x|
    assert float(sr.crps_ensemble(1.0, np.array([3.0, 3.0]))) == pytest.approx(2.0)


def test_no_look_ahead(syn: tuple[Path, Path], tmp_path: Path) -> None:
    model, ledger = syn
    with ledger.open() as f:
        rows = list(csv.reader(f))[1:]
    changed = []
    for r in rows:
        if r[0] in ("P30", "P42"):  # both after the cutoff: change their values
            r = [r[0], r[1], r[2], str(float(r[3]) * 3), *r[4:]]
        changed.append(r)
    changed.append(["LATE", "2023-03-01", "population", "9999", "count", "low", "s"])
    other = write_ledger(tmp_path / "changed.csv", changed)
    a = _run(model, ledger)["cutoffs"][0]["observations"]
    b = {r["id"]: r for r in _run(model, other)["cutoffs"][0]["observations"]}
    assert "LATE" in b
    for r in a:
        for key in ("q05", "q50", "q95"):
            assert b[r["id"]][key] == r[key], (r["id"], key)
    # a row before the cutoff does change the forecast
    before = [r if r[0] != "P18" else [*r[:3], str(float(r[3]) * 2), *r[4:]] for r in rows]
    c = _run(model, write_ledger(tmp_path / "before.csv", before))["cutoffs"][0]["observations"]
    assert c[0]["q50"] != a[0]["q50"]


def test_backtest_cli(syn: tuple[Path, Path], tmp_path: Path) -> None:
    model, ledger = syn
    out, png = tmp_path / "bt.json", tmp_path / "bt.png"
    r = CliRunner().invoke(
        app,
        ["backtest", str(model), "--evidence", str(ledger), "--cutoff", "2021-12-01",
         "--cutoff", "2022-12-01", "--method", "map", "--runs", "200", "--draws", "100",
         "--json", str(out), "--plot", str(png)],
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    doc = json.loads(out.read_text())
    assert [c["cutoff"] for c in doc["cutoffs"]] == ["2021-12-01", "2022-12-01"]
    assert png.stat().st_size > 10_000
    assert "coverage90" in r.stdout
    r = CliRunner().invoke(
        app, ["backtest", str(model), "--evidence", str(ledger), "--cutoff", "x"]
    )
    assert r.exit_code == 2
    assert "--cutoff takes a date" in r.stderr
