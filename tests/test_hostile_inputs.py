"""Hostile values on the paths a user types: --set, --dt, --save-every, discover, loops.

Each case was a silent wrong answer or a misleading exit 0 before: a non-finite
setting ran, a save step below dt was ignored, members that went non-finite vanished
from ``discover`` without a word, and a ``loops`` run that went non-finite printed a
table.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import quidpro
from quidpro.cli.main import app
from quidpro.errors import ConfigError
from quidpro.model.overrides import setting_value
from quidpro.web.app import create_app
from quidpro.web.workbench import Workbench

# x' = k x^3 from x(0) = 1 reaches infinity at t = 1 / (2k): members with k > 0.25
# fail before the stop at t = 2; at t = 0.5, x = 1 / sqrt(1 - k).
BLOW = """\
quidpro: 1
name: blow
time: {start: 0, stop: 2, dt: 0.01}
constants:
  k: {value: 0.1, distribution: {kind: uniform, low: -1, high: 1}}
stocks:
  x: {initial: 1, inflows: [f]}
flows:
  f: k * x ^ 3
"""
DECAY = """\
quidpro: 1
name: decay
time: {start: 0, stop: 10, dt: 0.5}
constants:
  k: {value: 0.1, distribution: {kind: uniform, low: 0.05, high: 0.2}}
stocks:
  s: {initial: 100, outflows: [loss]}
flows:
  loss: k * s
"""


def _cli(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, list(args))
    assert "Traceback" not in r.output + r.stderr
    assert "internal error" not in r.stderr
    return r.exit_code, r.stdout + r.stderr


def _model(tmp_path: Path, text: str, name: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("nan", "is not a finite number"),
        ("-inf", "is not a finite number"),
        ("1e400", "must be a finite number"),
        ("1_000", "is not a number"),
        ("0x10", "is not a number"),
        ("abc", "is not a number"),
        (True, "is not a number"),
        (None, "is not a number"),
        (math.nan, "must be a finite number"),
    ],
)
def test_a_setting_must_be_a_finite_number(value: object, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        setting_value(None, "k", value)


def test_a_setting_reads_numbers_and_dates_of_time_constants() -> None:
    spec = quidpro.load("nk_russia").spec
    assert setting_value(spec, "ceasefire_time", " 12.5 ") == 12.5
    assert setting_value(spec, "ceasefire_time", 7) == 7.0
    assert setting_value(spec, "ceasefire_time", "2020-01-01") == pytest.approx(12.0)
    with pytest.raises(ConfigError, match="cannot set a constant by date"):
        setting_value(None, "k", "2020-01-01")


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "1_000"])
def test_run_refuses_a_non_finite_set(tmp_path: Path, value: str) -> None:
    code, out = _cli("run", _model(tmp_path, DECAY, "decay"), "--no-store", "--set", f"k={value}")
    assert code == 2
    assert "--set k" in out


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--dt", "1000"], "--dt (1000) is longer than the whole run (10)"),
        (["--save-every", "0"], "--save-every (0) must be at least dt (0.5)"),
        (["--save-every", "-1"], "--save-every (-1) must be at least dt (0.5)"),
        (["--save-every", "0.1"], "--save-every (0.1) must be at least dt (0.5)"),
        (["--dt", "2", "--save-every", "1"], "--save-every (1) must be at least dt (2)"),
    ],
)
def test_run_checks_the_clock_flags_as_the_file_would(
    tmp_path: Path, flags: list[str], says: str
) -> None:
    code, out = _cli("run", _model(tmp_path, DECAY, "decay"), "--no-store", *flags)
    assert code == 2
    assert says in out


def test_run_saves_every_given_step(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    code, _ = _cli(
        "run",
        _model(tmp_path, DECAY, "decay"),
        "--no-store",
        "--save-every",
        "2",
        "--out",
        str(out),
    )
    assert code == 0
    times = [float(line.split(",")[0]) for line in out.read_text().splitlines()[1:]]
    assert times == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]


def test_the_api_reads_settings_as_the_command_line_does(tmp_path: Path) -> None:
    path = Path(_model(tmp_path, DECAY, "decay"))
    with TestClient(create_app(Workbench([path], cache_dir=None, backend="numpy"))) as client:
        for value in ("nan", "1e400", "2020-01-01"):
            r = client.post("/api/run", json={"model": "decay", "set": {"k": value}})
            assert r.status_code == 400, value
            assert "set k" in r.json()["error"]
        r = client.post("/api/run", json={"model": "decay", "set": {"k": True}})
        assert r.status_code == 422  # JSON's true is not the number 1
        r = client.post("/api/ensemble", json={"model": "decay", "runs": True, "seed": 1})
        assert r.status_code == 422
        r = client.post("/api/run", json={"model": "decay", "set": {"k": "0.2"}})
        assert r.status_code == 200
        r = client.post("/api/run", json={"model": "decay", "set": {"k": 1}})
        assert r.status_code == 200


def test_discover_names_the_failure_when_every_member_fails(tmp_path: Path) -> None:
    text = BLOW.replace("low: -1, high: 1", "low: 0.5, high: 1")
    path = _model(tmp_path, text, "blow")
    code, out = _cli("discover", path, "--where", "x > 1.05 at 0.5", "--runs", "50")
    assert code == 1
    assert f"{path}:9:3" in out
    assert "every one of the 50 members went non-finite" in out
    assert "'f' became inf" in out


def test_discover_counts_and_reports_members_that_fail(tmp_path: Path) -> None:
    doc = tmp_path / "d.json"
    args = ["--where", "x > 1.05 at 0.5", "--runs", "400", "--seed", "3", "--json", str(doc)]
    code, out = _cli("discover", _model(tmp_path, BLOW, "blow"), *args)
    assert code == 0
    found = json.loads(doc.read_text())
    k = quidpro.load(_model(tmp_path, BLOW, "blow")).spec  # the sample, drawn again
    from quidpro.ensemble import draw

    ks = draw(k, 400, 3).rows(0, 400)["k"]
    fails = ks > 0.25  # blow-up before t = 2 (Euler crosses it a few steps later at most)
    assert abs(found["failed"] - int(fails.sum())) <= 4
    assert f"{found['failed']} of 400 runs went non-finite" in " ".join(out.split())
    # among the survivors, x(0.5) > 1.05 where k > 1 - 1 / 1.05^2 = 0.093
    survivors = ks[~fails]
    assert found["share"] == pytest.approx(float((survivors > 0.093).mean()), abs=0.02)


@pytest.mark.parametrize("density", ["0", "-1", "1.5", "nan"])
def test_discover_refuses_a_density_outside_0_to_1(tmp_path: Path, density: str) -> None:
    args = ["--where", "s < 50 at 5", "--density", density]
    code, out = _cli("discover", _model(tmp_path, DECAY, "decay"), *args)
    assert code == 2
    assert "--density must be above 0 and at most 1" in out


@pytest.mark.parametrize("command", ["discover", "loops"])
def test_a_missing_output_folder_is_refused_before_the_work(tmp_path: Path, command: str) -> None:
    where = ["--where", "s < 50 at 5"] if command == "discover" else []
    missing = tmp_path / "nowhere" / "out.json"
    code, out = _cli(command, _model(tmp_path, DECAY, "decay"), *where, "--json", str(missing))
    assert code == 2
    assert "does not exist" in out


def test_loops_of_a_run_that_goes_non_finite_is_an_error(tmp_path: Path) -> None:
    path = _model(tmp_path, BLOW.replace("value: 0.1", "value: 1"), "blow")
    code, out = _cli("loops", path)
    assert code == 1
    assert f"{path}:9:3: 'f' became inf at time" in " ".join(out.split())


def test_loops_names_the_variable_a_bad_setting_breaks(tmp_path: Path) -> None:
    code, out = _cli("loops", "logistic", "--set", "capacity=0")
    assert code == 1
    assert "'births' became" in out


@pytest.mark.parametrize("top", ["0", "-1"])
def test_loops_top_must_be_positive(top: str) -> None:
    code, out = _cli("loops", "logistic", "--top", top)
    assert code == 2
    assert f"--top must be at least 1, got {top}" in out


def test_ensemble_reads_na_for_a_query_no_member_answers(tmp_path: Path) -> None:
    text = BLOW.replace("low: -1, high: 1", "low: 0.5, high: 1")
    args = ["--runs", "20", "--no-store", "--query", "x > 1 at 0.5"]
    code, out = _cli("ensemble", _model(tmp_path, text, "blow"), *args)
    assert code == 0
    assert "n/a (every run non-finite)" in out
    assert "20 of 20 runs went non-finite" in " ".join(out.split())


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--max-memory", "-5"], "--max-memory must be at least 1 (MiB), got -5"),
        (["--json", "nowhere/e.json"], "does not exist"),
    ],
)
def test_ensemble_refuses_bad_flags_before_the_work(
    tmp_path: Path, flags: list[str], says: str
) -> None:
    code, out = _cli("ensemble", _model(tmp_path, DECAY, "decay"), "--no-store", *flags)
    assert code == 2
    assert says in out


def test_a_loop_may_not_be_named_like_a_loop_id(tmp_path: Path) -> None:
    text = DECAY + "loops:\n  B1:\n    variables: [s, loss]\n"
    path = _model(tmp_path, text, "decay")
    code, out = _cli("loops", path)
    assert code == 1
    assert f"{path}:11:3: loop name 'B1' has the form of a loop id" in out


def test_loops_json_carries_a_named_loops_name_and_claim(tmp_path: Path) -> None:
    text = DECAY + "loops:\n  drain:\n    claim: C1\n    variables: [s, loss]\n"
    doc = tmp_path / "l.json"
    code, _ = _cli("loops", _model(tmp_path, text, "decay"), "--json", str(doc))
    assert code == 0
    (loop,) = json.loads(doc.read_text())["loops"]
    assert (loop["id"], loop["name"], loop["claim"]) == ("B1", "drain", "C1")


@pytest.mark.parametrize("command", ["convert", "describe"])
def test_an_output_may_not_be_the_model_file(tmp_path: Path, command: str) -> None:
    suffix = ".yaml" if command == "convert" else ".md"
    path = tmp_path / f"decay{suffix}"
    path.write_text(DECAY)
    code, out = _cli(command, str(path), "-o", str(path))
    assert code == 2
    assert "is the model file itself" in out or "-o must end in .md" in out
    assert path.read_text() == DECAY  # not written over


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--runs", "100000000"], "--runs must be 2 to 200,000, got 100000000"),
        (["--json", "-"], "--json must end in .json"),
    ],
)
def test_claims_refuses_what_it_cannot_deliver(flags: list[str], says: str) -> None:
    code, out = _cli("claims", "nk_russia", "-q", *flags)
    assert code == 2
    assert says in out


def test_serve_refuses_two_files_of_one_name(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    first = Path(_model(tmp_path, DECAY, "decay"))
    second = Path(_model(tmp_path / "a", DECAY, "decay"))
    with pytest.raises(ConfigError, match="would both be served as 'decay'"):
        Workbench([first, second], cache_dir=None, backend="numpy")
    assert "decay" in Workbench([first, first], cache_dir=None, backend="numpy").names()
