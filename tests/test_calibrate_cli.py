"""``quidpro calibrate``: the DESIGN JSON, the posterior file, --until, --params and
exit codes; ensembles that draw from a model's posterior, --prior and --posterior."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.calib_models import write_ledger, write_syn
from typer.testing import CliRunner

from quidpro.cli.main import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def syn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_syn(tmp_path_factory.mktemp("syn"))


def test_calibrate_json_and_posterior_file(syn: tuple[Path, Path], tmp_path: Path) -> None:
    model, ledger = syn
    out, doc_path = tmp_path / "post.parquet", tmp_path / "fit.json"
    code, stdout, stderr = invoke(
        "calibrate", str(model), "--evidence", str(ledger), "--method", "map",
        "--draws", "120", "--seed", "4", "--out", str(out), "--json", str(doc_path),
    )  # fmt: skip
    assert code == 0, stderr
    doc = json.loads(doc_path.read_text())
    assert list(doc) == ["method", "seed", "observations", "parameters", "diagnostics"]
    assert (doc["method"], doc["seed"], doc["observations"]) == ("map", 4, 8)
    assert list(doc["parameters"]) == ["r", "cap"]
    for p in doc["parameters"].values():
        assert list(p) == ["map", "median", "ci90"]
        assert len(p["ci90"]) == 2
    table = pd.read_parquet(out)
    assert list(table.columns) == ["r", "cap"]
    assert len(table) == 120
    assert "posterior of the calibrated constants" in stdout
    # --until keeps only rows known before the date; --params narrows the constants
    code, _, stderr = invoke(
        "calibrate", str(model), "--evidence", str(ledger), "--method", "map", "--draws", "20",
        "--until", "2021-07-01", "--params", "r", "--json", str(doc_path), "-q",
    )  # fmt: skip
    assert code == 0, stderr
    doc = json.loads(doc_path.read_text())
    assert doc["observations"] == 2
    assert list(doc["parameters"]) == ["r"]


def test_model_posterior_prior_and_posterior_flags(syn: tuple[Path, Path], tmp_path: Path) -> None:
    model, ledger = syn
    post = tmp_path / "post.parquet"
    code, _, stderr = invoke(
        "calibrate", str(model), "--evidence", str(ledger), "--method", "map", "--draws", "200",
        "--seed", "1", "--out", str(post), "-q",
    )  # fmt: skip
    assert code == 0, stderr
    named = tmp_path / "named.yaml"
    named.write_text(model.read_text() + "calibration: {posterior: post.parquet}\n")

    def p_big(*flags: str) -> float:
        js = tmp_path / "e.json"
        args = ["ensemble", str(named), "--runs", "300", "--seed", "2", "--vars", "pop"]
        code, _stdout, stderr = invoke(
            *args, "--query", "pop > 500 at 2023-07-01", "--json", str(js), "--no-store", *flags
        )
        assert code == 0, stderr
        return float(json.loads(js.read_text())["queries"][0]["probability"])

    posterior, prior = p_big(), p_big("--prior")
    assert p_big("--posterior", str(post)) == posterior
    # the truth (pop ≈ 620 in July 2023) is settled by the evidence, not by the prior
    assert posterior > 0.9
    assert prior < 0.75
    code, _, stderr = invoke(
        "ensemble", str(named), "--runs", "10", "--prior", "--posterior", str(post)
    )
    assert code == 2
    assert "exclude each other" in stderr
    missing = tmp_path / "missing.yaml"
    missing.write_text(model.read_text() + "calibration: {posterior: nowhere.parquet}\n")
    code, _, stderr = invoke("ensemble", str(missing), "--runs", "10", "--no-store")
    assert code == 1
    assert "missing.yaml:" in stderr
    assert "posterior file not found" in stderr


def test_calibrate_errors(syn: tuple[Path, Path], tmp_path: Path) -> None:
    model, ledger = syn
    bad = write_ledger(
        tmp_path / "bad.csv", [["A", "2021-13-01", "population", "5", "count", "high", "s"]]
    )
    code, _, stderr = invoke("calibrate", str(model), "--evidence", str(bad))
    assert code == 1
    assert f"{bad}:2: A: not a date" in stderr
    assert "Traceback" not in stderr
    code, _, stderr = invoke(
        "calibrate", str(model), "--evidence", str(ledger), "--params", "switch_time"
    )
    assert code == 2
    assert "lever" in stderr
    code, _, stderr = invoke("calibrate", str(model), "--evidence", str(ledger), "--params", "nope")
    assert code == 2
    assert "'nope' is not a constant" in stderr
    code, _, stderr = invoke(
        "calibrate", str(model), "--evidence", str(ledger), "--until", "2019-01-01"
    )
    assert code == 2
    assert "no evidence row the model can score" in stderr
    code, _, stderr = invoke("calibrate", str(model), "--evidence", str(ledger), "--until", "soon")
    assert code == 2
    assert "--until takes a date" in stderr
    code, _, stderr = invoke("calibrate", str(model))
    assert code == 2
    assert "--evidence" in stderr
