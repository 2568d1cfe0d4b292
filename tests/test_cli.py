"""The ``quidpro`` command: outputs, options, exit codes and error messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import quidpro
from quidpro.cli.main import app

MODELS = Path(__file__).parent / "models"
DECAY = str(MODELS / "decay.yaml")
QUIDPRO = Path(sys.executable).parent / "quidpro"
runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, list(args))


def test_run_writes_a_csv_with_every_variable_that_round_trips_exactly(tmp_path: Path) -> None:
    out = tmp_path / "run.csv"
    r = cli("run", DECAY, "--out", str(out), "-q")
    assert r.exit_code == 0, r.output
    assert out.read_text().splitlines()[0] == "time,y,decay,half_left"
    back = pd.read_csv(out)
    df = quidpro.load(DECAY).run(backend="numpy")
    assert len(back) == 41
    np.testing.assert_array_equal(back["time"], df.index.to_numpy())
    for name in ("y", "decay", "half_left"):
        np.testing.assert_array_equal(back[name], df[name])
    assert back["y"].iloc[0] == 100


def test_run_writes_parquet(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "run.parquet"
    r = cli("run", DECAY, "--out", str(out), "-q")
    assert r.exit_code == 0, r.output
    back = pd.read_parquet(out)
    assert list(back.columns) == ["time", "y", "decay", "half_left"]
    df = quidpro.load(DECAY).run(backend="numpy")
    np.testing.assert_array_equal(back["y"], df["y"])


def test_run_plots_a_png(tmp_path: Path) -> None:
    png = tmp_path / "run.png"
    r = cli("run", DECAY, "--plot", str(png))
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {png}" in r.stdout.replace("\n", "")


def _csv(tmp_path: Path, *args: str) -> pd.DataFrame:
    out = tmp_path / "x.csv"
    r = cli("run", DECAY, "--out", str(out), "-q", *args)
    assert r.exit_code == 0, r.output
    return pd.read_csv(out, index_col="time")


def test_scenario_set_method_and_dt(tmp_path: Path) -> None:
    m = quidpro.load(DECAY)
    slow = _csv(tmp_path, "--scenario", "slow")
    np.testing.assert_array_equal(slow["y"], m.run(scenario="slow", backend="numpy")["y"])
    assert slow["y"].iloc[-1] > _csv(tmp_path)["y"].iloc[-1]
    same = _csv(tmp_path, "--set", "k=0.1")
    np.testing.assert_array_equal(same["y"], slow["y"])
    both = _csv(tmp_path, "--scenario", "slow", "--set", "k=0.2", "--set", "y0=50")
    np.testing.assert_array_equal(both["y"], m.run(set={"k": 0.2, "y0": 50}, backend="numpy")["y"])
    rk4 = _csv(tmp_path, "--method", "rk4")
    np.testing.assert_allclose(rk4["y"], 100 * np.exp(-0.3 * rk4.index), rtol=1e-6)
    fine = _csv(tmp_path, "--dt", "0.125")
    assert len(fine) == 81
    assert fine.index[1] == 0.125


def test_dt_that_does_not_divide_the_run_ends_at_the_last_step_before_stop(
    tmp_path: Path,
) -> None:
    df = _csv(tmp_path, "--dt", "0.3")
    assert len(df) == 34  # 0, 0.3, ..., 9.9
    assert df.index[-1] == pytest.approx(9.9)
    np.testing.assert_array_equal(df.index, np.arange(34) * 0.3)


def test_save_every(tmp_path: Path) -> None:
    df = _csv(tmp_path, "--save-every", "1")
    assert df.index.tolist() == [float(t) for t in range(11)]
    full = _csv(tmp_path)
    np.testing.assert_array_equal(df["y"], full["y"].to_numpy()[::4])


def test_summary_table(tmp_path: Path) -> None:
    r = cli("run", DECAY)
    assert r.exit_code == 0
    text = " ".join(r.stdout.split())
    assert "First-order decay" in text
    assert "baseline, euler, dt=0.25" in text
    assert "decay" in r.stdout
    assert "100" in r.stdout


def test_check_writes_nothing(tmp_path: Path) -> None:
    before = set(tmp_path.iterdir())
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        r = cli("check", DECAY)
    finally:
        os.chdir(cwd)
    assert r.exit_code == 0, r.output
    assert " ".join(r.stdout.split()) == (
        "decay: ok — 1 stocks, 1 flows, 1 auxiliaries, 2 constants, 0 lookups, 1 scenarios"
    )
    assert r.stderr == ""
    assert set(tmp_path.iterdir()) == before


def test_check_finds_runtime_errors() -> None:
    r = cli("check", str(MODELS / "blows_up.yaml"))
    assert r.exit_code == 1
    assert r.stderr == f"{MODELS / 'blows_up.yaml'}:12:3: 'log_margin' became nan at time 1\n"


def test_models_lists_the_built_ins() -> None:
    r = cli("models")
    assert r.exit_code == 0
    assert "logistic" in r.stdout
    assert "Logistic growth" in r.stdout


def test_help_texts() -> None:
    r = cli("--help")
    assert r.exit_code == 0
    for word in ("run", "check", "models", "MODEL is a model file"):
        assert word in r.stdout
    r = cli("run", "--help")
    assert r.exit_code == 0
    for flag in ("--scenario", "--set", "--method", "--dt", "--out", "--plot", "--save-every"):
        assert flag in r.stdout
    assert cli("check", "--help").exit_code == 0
    assert cli("models", "--help").exit_code == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["run", DECAY, "--scenario", "fast"],
            2,
            "quidpro: error: unknown scenario 'fast'; this model has: baseline, slow\n",
        ),
        (["run", DECAY, "--set", "k=abc"], 2, "quidpro: error: --set k: 'abc' is not a number\n"),
        (["run", DECAY, "--set", "k"], 2, "quidpro: error: --set takes NAME=VALUE, got 'k'\n"),
        (
            ["run", DECAY, "--set", "kk=1"],
            2,
            "quidpro: error: cannot set 'kk': it is not a constant of decay (did you mean 'k'?)\n",
        ),
        (["run", DECAY, "--dt", "0"], 2, "quidpro: error: --dt must be positive, got 0\n"),
        (
            ["run", DECAY, "--out", "x.txt"],
            2,
            "quidpro: error: --out must end in .csv or .parquet, got 'x.txt'\n",
        ),
        (
            ["run", DECAY, "--plot", "x.jpg"],
            2,
            "quidpro: error: --plot must end in .png, got 'x.jpg'\n",
        ),
        (
            ["run", "no_such_model.yaml"],
            1,
            "no_such_model.yaml:0:0: no such model file or built-in model\n",
        ),
        (
            ["check", str(MODELS / "bad_syntax.yaml")],
            1,
            f"{MODELS / 'bad_syntax.yaml'}:9:15: syntax error: unexpected '*', expected '(' or "
            "'+' or '-' or a name or a number\n      out: k * s +* 2\n                  ^\n",
        ),
    ],
)
def test_errors_exit_codes_and_messages(args: list[str], code: int, message: str) -> None:
    r = cli(*args)
    assert r.exit_code == code
    assert r.stderr == message
    assert r.stdout == ""


@pytest.mark.parametrize(
    "args", [["run", DECAY, "--bogus"], ["run", DECAY, "--method", "rk5"], ["run"], ["frobnicate"]]
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    r = cli(*args)
    assert r.exit_code == 2
    assert "Usage: quidpro" in r.stderr
    assert "Traceback" not in r.output


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "model.yaml"
    bad.write_text((MODELS / "blows_up.yaml").read_text())
    p = subprocess.run(
        [str(QUIDPRO), "run", "model.yaml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert p.returncode == 1
    assert p.stderr == "model.yaml:12:3: 'log_margin' became nan at time 1\n"
    assert p.stdout == ""
    p = subprocess.run(
        [str(QUIDPRO), "run", "model.yaml", "--bogus"], cwd=tmp_path, capture_output=True, text=True
    )
    assert p.returncode == 2
    assert "No such option: --bogus" in p.stderr
    assert "Traceback" not in p.stderr


def test_the_installed_command_writes_csv(tmp_path: Path) -> None:
    p = subprocess.run(
        [str(QUIDPRO), "run", "logistic", "--out", "out.csv", "--dt", "1", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    back = pd.read_csv(tmp_path / "out.csv")
    assert list(back.columns) == ["time", "population", "births", "density", "date"]
    assert back["date"].iloc[0] == "2020-01-01"
    df = quidpro.load("logistic").run(dt=1, backend="numpy")
    np.testing.assert_array_equal(back["population"], df["population"])


def test_check_names_the_scenario_that_fails(tmp_path: Path) -> None:
    text = (MODELS / "decay.yaml").read_text()
    text = text.replace(
        "  half_left: y / y0 < 0.5\n", "  half_left: y / y0 < 0.5\n  root: sqrt(k)\n"
    )
    text += "  broken: {doc: A negative rate, set: {k: -0.1}}\n"
    bad = tmp_path / "model.yaml"
    bad.write_text(text)
    r = cli("check", str(bad))
    assert r.exit_code == 1
    assert r.stderr == f"{bad}:21:3: 'root' became nan at time 0 in scenario 'broken'\n"
    r = cli("run", str(bad), "--scenario", "broken")
    assert r.exit_code == 1
    assert r.stderr == f"{bad}:21:3: 'root' became nan at time 0\n"
