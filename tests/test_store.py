"""The run store: records, atomic writes under kill -9, two writers at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import quidpro
from quidpro.cli.main import app
from quidpro.io.store import RunRecord, Store

WRITER = """
import sys, numpy as np, pandas as pd
from quidpro.io.store import RunRecord, Store
store = Store(sys.argv[1])
n = int(sys.argv[2])
df = pd.DataFrame({"x": np.arange(int(sys.argv[3]), dtype=float)})
i = 0
while n < 0 or i < n:
    store.add(RunRecord("test", "m", "hash", None, i, 1, {"i": i}, {"sum": float(i)}), df)
    i += 1
    if i == 1 and len(sys.argv) > 4:
        open(sys.argv[4], "w").close()  # tell the test a first run is committed
"""
CLI = "from quidpro.cli.main import main; main()"


def _env() -> dict[str, str]:
    return {**os.environ, "QUIDPRO_STORE": "/nonexistent/should-not-be-used.duckdb"}


def _record(i: int = 0) -> RunRecord:
    return RunRecord("ensemble", "logistic", "abc", "fast", 7, 10, {"sampler": "lhs"}, {"p": i})


def test_add_list_get_results(tmp_path: Path) -> None:
    s = Store(tmp_path / "runs.duckdb")
    assert s.list() == []
    df = pd.DataFrame({"t": [0.0, 1.0], "v": [1.5, 2.5]})
    run_id = s.add(_record(), df)
    rows = s.list()
    assert [r["id"] for r in rows] == [run_id]
    row = s.get(run_id[:12])
    assert row["kind"] == "ensemble"
    assert row["scenario"] == "fast"
    assert row["seed"] == 7
    assert row["settings"] == {"sampler": "lhs"}
    assert {"numpy", "python", "duckdb"} <= set(row["versions"])
    pd.testing.assert_frame_equal(s.results(run_id), df)
    assert not list(s.results_dir.glob(".*.tmp"))


def test_results_given_as_columns_read_back_as_the_frame_would(tmp_path: Path) -> None:
    # quidpro run stores its columns by name (no pandas); they read back as its frame would
    s = Store(tmp_path / "runs.duckdb")
    values = np.arange(12.0).reshape(4, 3) / 7  # a strided column of floats, as a run's
    columns = {"time": values[:, 0], "x[a]": values[:, 1], "n": np.arange(4)}
    from_columns = s.results(s.add(_record(), columns))
    from_frame = s.results(s.add(_record(), pd.DataFrame(columns)))
    pd.testing.assert_frame_equal(from_columns, from_frame)
    assert from_columns["x[a]"].tolist() == values[:, 1].tolist()


def test_env_var_sets_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUIDPRO_STORE", str(tmp_path / "x.duckdb"))
    assert Store().path == tmp_path / "x.duckdb"


def test_runs_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "runs.duckdb"
    monkeypatch.setenv("QUIDPRO_STORE", str(path))
    runner = CliRunner()
    r = runner.invoke(app, ["ensemble", "logistic", "-n", "16", "--seed", "4", "-q"])
    assert r.exit_code == 0, r.stderr
    run_id = Store(path).list()[0]["id"]
    r = runner.invoke(app, ["runs", "list"])
    assert r.exit_code == 0
    assert run_id in r.stdout
    r = runner.invoke(app, ["runs", "show", run_id])
    assert r.exit_code == 0
    shown = json.loads(r.stdout)
    assert shown["seed"] == 4
    assert shown["n_runs"] == 16
    assert shown["kind"] == "ensemble"
    assert len(shown["model_hash"]) == 64
    out = tmp_path / "export.csv"
    r = runner.invoke(app, ["runs", "export", run_id, "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    df = pd.read_csv(out)
    assert list(df.columns) == ["scenario", "variable", "time", "quantile", "value"]
    assert set(df["variable"]) == {"population", "births", "density"}
    r = runner.invoke(app, ["runs", "show", "nope"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["ensemble", "logistic", "-n", "4", "-q", "--no-store"])
    assert len(Store(path).list()) == 1


def test_quidpro_run_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    runner = CliRunner()
    r = runner.invoke(app, ["run", "logistic", "-q", "--store", str(path), "-s", "fast"])
    assert r.exit_code == 0, r.stderr
    (row,) = Store(path).list()
    assert row["kind"] == "run"
    assert row["scenario"] == "fast"
    assert row["n_runs"] == 1
    table = Store(path).results(row["id"])
    assert list(table.columns) == ["time", "population", "births", "density"]
    ran = quidpro.load("logistic").run(scenario="fast").reset_index()
    pd.testing.assert_frame_equal(table, ran)  # the run's own table, as run() gives it
    r = runner.invoke(app, ["run", "logistic", "-q", "--store", str(path), "--no-store"])
    assert len(Store(path).list()) == 1


def test_killed_ensemble_leaves_no_half_written_run(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    Store(path).add(_record(), pd.DataFrame({"x": [1.0]}))
    args = [sys.executable, "-c", CLI, "ensemble", "logistic", "-n", "2000000"]
    args += ["--batch-size", "5000", "--vars", "population", "--backend", "numpy"]
    args += ["--store", str(path), "-q", "--seed", "1"]
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        proc = subprocess.Popen(args, env=_env(), stderr=err)
        time.sleep(3.0)
    assert proc.poll() is None, log.read_text()  # still running: killed mid-ensemble
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    s = Store(path)
    assert len(s.list()) == 1  # the earlier run, nothing from the killed one
    s.add(_record(1), pd.DataFrame({"x": [2.0]}))
    assert len(s.list()) == 2


def test_store_survives_kill_during_writes(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    rng = np.random.default_rng(0)
    for k in range(2):
        ready = tmp_path / f"ready{k}"
        args = [sys.executable, "-c", WRITER, str(path), "-1", "200000", str(ready)]
        proc = subprocess.Popen(args)
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2 + 0.6 * rng.random())  # then kill at a random point of later writes
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    s = Store(path)
    rows = s.list(limit=10_000)
    assert rows, "the writer never committed a run"
    for r in rows:  # every listed run is complete
        assert len(s.results(r["id"])) == 200_000
    s.add(_record(), pd.DataFrame({"x": [1.0]}))
    assert len(s.list(limit=10_000)) == len(rows) + 1


def test_two_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), "12", "1000"]) for _ in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    s = Store(path)
    rows = s.list(limit=100)
    assert len(rows) == 24
    assert len({r["id"] for r in rows}) == 24
    for r in rows:
        assert len(s.results(r["id"])) == 1000


def _blocked(tmp_path: Path) -> Path:
    """A path that cannot be created: its parent is a file."""
    wall = tmp_path / "wall"
    wall.write_text("a file, not a folder")
    return wall / "runs.duckdb"


def test_a_default_store_that_cannot_be_written_costs_a_warning_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUIDPRO_STORE", str(_blocked(tmp_path)))
    out = tmp_path / "run.csv"
    r = CliRunner().invoke(app, ["run", "logistic", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.stderr
    assert "warning: the run was not recorded in the run store" in r.stderr
    assert "Traceback" not in r.stderr
    assert pd.read_csv(out).shape == (401, 5)  # time, three variables, date


def test_a_named_store_that_cannot_be_written_is_an_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["run", "logistic", "-q", "--store", str(_blocked(tmp_path))])
    assert r.exit_code == 2
    assert "cannot write the run store" in r.stderr
    assert "Traceback" not in r.stderr


def test_an_output_file_that_cannot_be_written_is_one_line_exit_1(tmp_path: Path) -> None:
    target = _blocked(tmp_path).with_name("run.csv")
    r = CliRunner().invoke(app, ["run", "logistic", "-q", "--no-store", "--out", str(target)])
    assert r.exit_code == 1
    assert r.stderr.startswith("quidpro: error: ")
    assert "Traceback" not in r.stderr
