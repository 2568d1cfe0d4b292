"""The ``ensemble``, ``compare`` and ``sensitivity`` commands: JSON contract and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quidpro.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "store" / "runs.duckdb"
    monkeypatch.setenv("QUIDPRO_STORE", str(path))
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_ensemble_json_contract(tmp_path: Path) -> None:
    out = tmp_path / "e.json"
    code, stdout, stderr = invoke(
        "ensemble",
        "logistic",
        "--runs",
        "64",
        "--seed",
        "3",
        "--query",
        "population > 900 at 2024-01-01",
        "--query",
        "density < 0.5 at 30",
        "--quantiles",
        "0.05,0.5,0.95",
        "--json",
        str(out),
        "--backend",
        "numpy",
    )
    assert code == 0, stderr
    doc = json.loads(out.read_text())
    assert list(doc) == ["runs", "seed", "variables", "queries"]
    assert doc["runs"] == 64
    assert doc["seed"] == 3
    assert set(doc["variables"]) == {"population", "births", "density"}
    pop = doc["variables"]["population"]
    assert list(pop) == ["time", "dates", "quantiles"]  # dates: the model has time.origin
    assert pop["dates"][0] == "2020-01-01"
    assert len(pop["dates"]) == len(pop["time"])
    assert list(pop["quantiles"]) == ["0.05", "0.5", "0.95"]
    assert len(pop["time"]) == 401
    assert all(len(v) == 401 for v in pop["quantiles"].values())
    assert pop["time"][0] == 0.0
    assert pop["time"][-1] == 100.0
    assert all(
        a <= b for a, b in zip(pop["quantiles"]["0.05"], pop["quantiles"]["0.95"], strict=False)
    )
    assert [q["query"] for q in doc["queries"]] == [
        "population > 900 at 2024-01-01",
        "density < 0.5 at 30",
    ]
    for q in doc["queries"]:
        assert list(q) == ["query", "probability", "ci"]
        assert q["ci"][0] <= q["probability"] <= q["ci"][1]
    assert "population" in stdout


def test_ensemble_vars_and_plot(tmp_path: Path, store: Path) -> None:
    out, png = tmp_path / "e.json", tmp_path / "fan.png"
    code, _, stderr = invoke(
        "ensemble", "logistic", "-n", "32", "--seed", "1", "--vars", "population",
        "--json", str(out), "--plot", str(png), "--sampler", "lhs", "-q",
    )  # fmt: skip
    assert code == 0, stderr
    assert set(json.loads(out.read_text())["variables"]) == {"population"}
    assert png.stat().st_size > 10_000
    assert store.exists()


def test_same_seed_same_json_across_batch_sizes(tmp_path: Path) -> None:
    docs = []
    for b in ("5", "1000"):
        out = tmp_path / f"e{b}.json"
        code, _, stderr = invoke(
            "ensemble", "logistic", "-n", "40", "--seed", "8", "--batch-size", b,
            "--json", str(out), "-q", "--no-store", "--query", "population > 500 at 40",
        )  # fmt: skip
        assert code == 0, stderr
        docs.append(out.read_text())
    assert docs[0] == docs[1]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--query", "population > 5"], 2, "EXPRESSION at TIME"),
        (["--vars", "nope"], 2, "nope"),
        (["--scenario", "nope"], 2, "unknown scenario"),
        (["--set", "nope=1"], 2, "not a constant"),
        (["--quantiles", "0.5,2"], 2, "between 0 and 1"),
        (["--json", "x.txt"], 2, ".json"),
        (["--sampler", "bad"], 2, ""),
        (["--runs", "0"], 2, "at least 1"),
        (["--batch-size", "0"], 2, "at least 1"),
    ],
)
def test_ensemble_usage_errors(args: list[str], code: int, message: str) -> None:
    got, _, stderr = invoke("ensemble", "logistic", "-n", "4", "-q", *args)
    assert got == code
    assert message in stderr


def test_missing_model_is_exit_1() -> None:
    code, _, stderr = invoke("ensemble", "no_such_model.yaml", "-n", "4")
    assert code == 1
    assert stderr.startswith("no_such_model.yaml:0:0:")


def test_compare_json_and_plot(tmp_path: Path) -> None:
    out, png = tmp_path / "c.json", tmp_path / "c.png"
    code, stdout, stderr = invoke(
        "compare", "logistic", "--scenarios", "baseline,fast", "-n", "50", "--seed", "2",
        "--at", "12,2024-01-01", "--query", "population > 500 at 30", "--json", str(out),
        "--plot", str(png), "--backend", "numpy",
    )  # fmt: skip
    assert code == 0, stderr
    doc = json.loads(out.read_text())
    assert set(doc["scenarios"]) == {"baseline", "fast"}
    tab = doc["scenarios"]["fast"]["table"]["population"]
    assert list(tab) == ["12", "2024-01-01"]
    assert tab["12"]["0.05"] <= tab["12"]["0.5"] <= tab["12"]["0.95"]
    base = doc["scenarios"]["baseline"]["queries"][0]["probability"]
    fast = doc["scenarios"]["fast"]["queries"][0]["probability"]
    assert fast > base
    assert png.exists()
    assert "fast" in stdout


def test_compare_single_run_is_the_default_run(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    code, _, stderr = invoke(
        "compare", "logistic", "--scenarios", "baseline,crowded", "-n", "1", "--at", "100",
        "--json", str(out), "-q",
    )  # fmt: skip
    assert code == 0, stderr
    doc = json.loads(out.read_text())
    import quidpro

    df = quidpro.load("logistic").run(scenario="crowded")
    cell = doc["scenarios"]["crowded"]["table"]["population"]["100"]
    assert cell["0.5"] == pytest.approx(df["population"].iloc[-1], rel=1e-12)
    assert cell["0.05"] == cell["0.95"]


def test_compare_json_to_stdout() -> None:
    code, stdout, stderr = invoke(
        "compare", "logistic", "--scenarios", "baseline,fast", "-n", "1", "--at", "50",
        "--json", "-", "--no-store",
    )  # fmt: skip
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert doc["at"] == ["50"]
    assert doc["scenarios"]["fast"]["table"]["population"]["50"]["0.5"] > 900
