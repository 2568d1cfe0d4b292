"""Hostile inputs meet the outputs: ensembles whose members all go non-finite (brief,
``ensemble --json``, ``compare --json``, ``/api/ensemble``), evidence files that are
devices, too large, not UTF-8 or badly numbered, and a brief's output folder.

Every answer is a clear error (exit 1 for a bad file or model, 2 for usage) or a
document that says what failed; never a traceback, an internal error (exit 3) or a
``NaN`` token in JSON.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from quidpro.cli.main import app
from quidpro.evidence.ledger import MAX_EVIDENCE_BYTES, EvidenceError, parse_ledger, read_ledger
from quidpro.web.app import StrictJSONResponse, create_app
from quidpro.web.workbench import Workbench

runner = CliRunner()

# x' = k x^3 from x = 1 reaches infinity at t = 1 / (2k) <= 1: every member fails.
BLOW = """\
quidpro: 1
name: blow
time: {start: 0, stop: 10, dt: 0.1}
constants:
  k: {value: 1, distribution: {kind: uniform, low: 0.5, high: 1.5}}
stocks:
  x: {initial: 1, inflows: [f]}
flows:
  f: k * x ^ 3
"""
# From x = 0.3 the blow-up is at t = 5.6 / k: members with k above about 1.1 fail by
# the stop (about two in five), the others run to the end.
HALF = """\
quidpro: 1
name: half
time: {start: 0, stop: 5, dt: 0.1}
constants:
  k: {value: 0.6, distribution: {kind: uniform, low: 0.5, high: 1.5}}
stocks:
  x: {initial: 0.3, inflows: [f]}
flows:
  f: k * x ^ 3
"""
# A logistic model with observations, and its evidence.
OBS = """\
quidpro: 1
name: obs
time: {start: 0, stop: 60, dt: 0.25, units: month, origin: 2020-01-01}
constants:
  growth_rate: {value: 0.1, distribution: {kind: uniform, low: 0.05, high: 0.2}}
  capacity: {value: 1000, distribution: {kind: normal, mean: 1000, sd: 100}}
stocks:
  population: {initial: 10, inflows: [births]}
flows:
  births: growth_rate * population * (1 - population / capacity)
auxiliaries:
  pop_aux: population
observations:
  pop:
    expression: population
    error: {kind: lognormal, sd: 0.2}
"""
EVIDENCE = """\
id,date,indicator,value,kind,confidence
A1,2020-06-01,pop,16,count,high
A2,2021-01-01,pop,30,count,medium
A3,2022-01,pop,110,count,low
A4,2023,pop,500,count,high
A5,2023-06-01,pop,100,estimate_low,high
"""


@pytest.fixture(autouse=True)
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "store" / "runs.duckdb"
    monkeypatch.setenv("QUIDPRO_STORE", str(path))
    return path


@pytest.fixture
def models(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("blow", BLOW), ("half", HALF), ("obs", OBS)):
        out[name] = tmp_path / f"{name}.yaml"
        out[name].write_text(text)
    out["ev"] = tmp_path / "ev.csv"
    out["ev"].write_text(EVIDENCE)
    return out


def _no_constant(token: str) -> Any:
    raise AssertionError(f"{token} is not JSON")


def strict_json(text: str) -> Any:
    """``text`` as JSON, failing on NaN, Infinity and -Infinity tokens."""
    return json.loads(text, parse_constant=_no_constant)


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def clean_failure(r: Result, code: int) -> str:
    """The stderr of a command that failed cleanly with ``code``."""
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr, r.exception)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.stderr
    assert "internal error" not in r.stderr
    return r.stderr


# ---------------------------------------------------------------- the brief


def test_brief_of_a_model_whose_every_member_fails_is_a_clean_error(
    models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "bb.md"
    r = invoke("brief", str(models["blow"]), "-n", "30", "-o", str(out))
    err = clean_failure(r, 1)
    assert "every one of the 30 members of the baseline went non-finite" in err
    assert re.search(r"the first: 'f' became inf at time [0-9.]+", err), err
    assert f"{models['blow']}:9:" in err  # the flow's line in the model file
    assert not out.exists()


def test_brief_says_how_many_members_failed(models: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "half.md"
    r = invoke("brief", str(models["half"]), "-n", "40", "-o", str(out))
    assert r.exit_code == 0, (r.stderr, r.exception)
    text = out.read_text()
    found = re.search(r"left out of the judgments, the tables and the figures: baseline: (\d+) "
                      r"of 40 \(the first: 'f' became inf at time [0-9.]+, half\.yaml line 9\)",
                      text)  # fmt: skip
    assert found, text[:800]
    assert 0 < int(found[1]) < 40


def test_brief_of_a_model_with_no_failure_does_not_mention_failures(
    models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "obs.md"
    r = invoke("brief", str(models["obs"]), "-n", "20", "-o", str(out))
    assert r.exit_code == 0, (r.stderr, r.exception)
    assert "non-finite" not in out.read_text()


@pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("missing/x.md", "the folder {tmp}/missing does not exist"),
        ("afile/x.md", "{tmp}/afile is not a folder"),
        ("adir.md", "it is a folder"),
    ],
)
def test_brief_refuses_an_output_it_cannot_write_before_computing(
    models: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    problem: str,
) -> None:
    import quidpro.report.brief as brief

    (tmp_path / "afile").write_text("")
    (tmp_path / "adir.md").mkdir()

    def never(*_: Any, **__: Any) -> Any:
        raise AssertionError("the brief was computed")

    monkeypatch.setattr(brief, "analyse", never)
    out = tmp_path / where
    err = clean_failure(invoke("brief", str(models["obs"]), "-n", "20", "-o", str(out)), 1)
    assert f"cannot write the brief to {out}: {problem.format(tmp=tmp_path)}" in err
    assert not (tmp_path / "missing").exists()


# ---------------------------------------------------------------- ensemble, compare


def test_ensemble_json_of_failed_members_is_valid_json_with_the_count(
    models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "ens.json"
    r = invoke(
        "ensemble", str(models["blow"]), "--runs", "20", "--seed", "1", "--no-store", "-q",
        "--query", "x > 1 at 0.5", "--json", str(out), "--backend", "numpy",
    )  # fmt: skip
    assert r.exit_code == 0, (r.stderr, r.exception)
    assert "20 of 20 runs went non-finite" in r.stderr
    doc = strict_json(out.read_text())
    assert list(doc) == ["runs", "seed", "variables", "queries", "n_failed"]
    assert doc["n_failed"] == 20
    assert doc["queries"] == [{"query": "x > 1 at 0.5", "probability": None, "ci": [0.0, 1.0]}]
    assert all(v is None for q in doc["variables"]["x"]["quantiles"].values() for v in q)


def test_ensemble_json_of_a_clean_ensemble_keeps_the_contract_keys(
    models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "ens.json"
    r = invoke(
        "ensemble", str(models["obs"]), "--runs", "20", "--seed", "1", "--no-store", "-q",
        "--json", str(out), "--backend", "numpy",
    )  # fmt: skip
    assert r.exit_code == 0, (r.stderr, r.exception)
    assert list(strict_json(out.read_text())) == ["runs", "seed", "variables", "queries"]


def test_ensemble_with_a_store_records_failed_members(models: dict[str, Path], store: Path) -> None:
    r = invoke(
        "ensemble", str(models["blow"]), "--runs", "20", "--seed", "1", "-q",
        "--query", "x > 1 at 0.5", "--backend", "numpy",
    )  # fmt: skip
    assert r.exit_code == 0, (r.stderr, r.exception)
    run_id = re.search(r"stored as run (\S+)", r.stderr + r.stdout)
    assert run_id, r.stderr
    shown = invoke("runs", "show", run_id[1], "--store", str(store))
    assert shown.exit_code == 0, (shown.stderr, shown.exception)
    summary = strict_json(shown.stdout)["summary"]  # the record is strict JSON too
    assert summary["failed"] == 20
    assert summary["queries"][0]["probability"] is None


@pytest.mark.parametrize("to_stdout", [False, True])
def test_compare_json_of_failed_members_is_valid_json_with_the_count(
    models: dict[str, Path], tmp_path: Path, to_stdout: bool
) -> None:
    out = tmp_path / "c.json"
    r = invoke(
        "compare", str(models["blow"]), "--scenarios", "baseline", "--runs", "20", "--seed",
        "1", "--no-store", "-q", "--query", "x > 1 at 0.5", "--backend", "numpy",
        "--json", "-" if to_stdout else str(out),
    )  # fmt: skip
    assert r.exit_code == 0, (r.stderr, r.exception)
    doc = strict_json(r.stdout if to_stdout else out.read_text())
    base = doc["scenarios"]["baseline"]
    assert base["n_failed"] == 20
    assert base["queries"][0]["probability"] is None
    assert base["table"]["x"]["10"] == {"0.05": None, "0.5": None, "0.95": None}


def test_compare_tables_say_when_no_member_ran_to_the_end(models: dict[str, Path]) -> None:
    r = invoke(
        "compare", str(models["blow"]), "--scenarios", "baseline", "--runs", "20", "--seed",
        "1", "--no-store", "--query", "x > 1 at 0.5", "--backend", "numpy",
    )  # fmt: skip
    assert r.exit_code == 0, (r.stderr, r.exception)
    assert "every run non-finite" in r.stdout
    assert "nan" not in r.stdout.lower()


# ---------------------------------------------------------------- the web API


@pytest.fixture
def client(models: dict[str, Path]) -> Iterator[TestClient]:
    bench = Workbench([models["blow"], models["half"]], cache_dir=None, backend="numpy")
    with TestClient(create_app(bench), raise_server_exceptions=False) as c:
        yield c


def _server_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        rec.getMessage()
        for rec in caplog.records
        if rec.name.startswith("quidpro") and rec.levelno >= logging.ERROR
    ]


def test_api_ensemble_of_failed_members_answers_null_and_the_count(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"model": "blow", "runs": 20, "seed": 1, "queries": ["x > 1 at 0.5"]}
    with caplog.at_level(logging.INFO, logger="quidpro"):
        r = client.post("/api/ensemble", json=body)
        plain = client.post("/api/ensemble", json={"model": "blow", "runs": 20, "seed": 1})
    assert r.status_code == 200, r.text
    doc = strict_json(r.text)
    assert doc["n_failed"] == 20
    assert doc["queries"] == [{"query": "x > 1 at 0.5", "probability": None, "ci": [0.0, 1.0]}]
    assert all(v is None for q in doc["variables"]["x"]["quantiles"].values() for v in q)
    assert plain.status_code == 200, plain.text
    assert strict_json(plain.text)["n_failed"] == 20
    assert _server_errors(caplog) == []


def test_api_ensemble_of_some_failed_members(client: TestClient) -> None:
    body = {"model": "half", "runs": 50, "seed": 1, "queries": ["x > 0.35 at 2"]}
    r = client.post("/api/ensemble", json=body)
    assert r.status_code == 200, r.text
    doc = strict_json(r.text)
    assert 0 < doc["n_failed"] < 50
    assert 0.0 <= doc["queries"][0]["probability"] <= 1.0


def test_api_brief_of_failed_members_is_a_4xx_with_the_reason(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="quidpro"):
        r = client.get("/brief/blow.md?runs=50")
    assert r.status_code == 400
    error = strict_json(r.text)["error"]
    assert "every one of the 50 members of the baseline went non-finite" in error
    assert "IndexError" not in error
    assert "out of bounds" not in error
    assert _server_errors(caplog) == []


def test_api_answers_are_strict_json() -> None:
    body = StrictJSONResponse({"p": float("nan"), "q": [1.0, float("inf")], "s": "x"}).body
    assert strict_json(body.decode()) == {"p": None, "q": [1.0, None], "s": "x"}


# ---------------------------------------------------------------- evidence files


@pytest.mark.parametrize("command", ["evidence", "calibrate"])
def test_evidence_from_a_device_is_refused(models: dict[str, Path], command: str) -> None:
    r = invoke(command, str(models["obs"]), "--evidence", "/dev/zero")
    err = clean_failure(r, 1)
    assert err.startswith("/dev/zero:0: cannot read the evidence file: it is not a regular file")


def test_evidence_that_is_a_folder_or_missing_is_refused(
    models: dict[str, Path], tmp_path: Path
) -> None:
    err = clean_failure(invoke("evidence", str(models["obs"]), "--evidence", str(tmp_path)), 1)
    assert f"{tmp_path}:0: cannot read the evidence file: it is a folder" in err
    missing = tmp_path / "nope.csv"
    err = clean_failure(invoke("evidence", str(models["obs"]), "--evidence", str(missing)), 1)
    assert f"{missing}:0: cannot read the evidence file" in err


def test_evidence_larger_than_the_limit_is_refused(
    models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_EVIDENCE_BYTES[0], "100")
    big = tmp_path / "big.csv"
    big.write_text(EVIDENCE)  # about 200 bytes
    err = clean_failure(invoke("calibrate", str(models["obs"]), "--evidence", str(big)), 1)
    assert f"{big}:0: the evidence file is larger than the limit of 100 bytes" in err
    assert f"{MAX_EVIDENCE_BYTES[0]}=N" in err
    monkeypatch.setenv(MAX_EVIDENCE_BYTES[0], str(len(EVIDENCE.encode())))
    assert len(read_ledger(big)) == 5  # exactly at the limit is fine


def test_evidence_from_a_pipe_is_read(models: dict[str, Path], tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "ev.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w") as f:
            f.write(EVIDENCE)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    assert len(read_ledger(fifo)) == 5
    writer.join(timeout=10)


def test_non_utf8_evidence_names_the_line_of_the_bad_byte(
    models: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(b"id,date,indicator,value,kind\nA1,2020-06-01,p\xe9p,16,count\n")
    err = clean_failure(invoke("evidence", str(models["obs"]), "--evidence", str(bad)), 1)
    assert f"{bad}:2: not UTF-8 text: byte 0xe9" in err
    # a byte-order mark and CRLF line ends: still the third line
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(
        b"\xef\xbb\xbfid,date,indicator,value,kind\r\nA1,2020-06-01,pop,1,count\r\n"
        b"A2,2020-07-01,pop,\xff,count\r\n"
    )
    with pytest.raises(EvidenceError) as info:
        read_ledger(crlf)
    assert info.value.line == 3


def test_a_nul_byte_is_not_text(tmp_path: Path) -> None:
    bad = tmp_path / "nul.csv"
    bad.write_bytes(b"id,date,indicator,value,kind\nA1,2020-06-01,pop,1\x00,count\n")
    with pytest.raises(EvidenceError, match="not a text file") as info:
        read_ledger(bad)
    assert (info.value.file, info.value.line) == (str(bad), 2)


def test_a_utf8_file_with_bom_and_crlf_reads(tmp_path: Path) -> None:
    ok = tmp_path / "bom.csv"
    ok.write_bytes(b"\xef\xbb\xbf" + EVIDENCE.replace("\n", "\r\n").encode())
    ledger = read_ledger(ok)
    assert [r.line for r in ledger] == [2, 3, 4, 5, 6]
    assert ledger.rows[0].value == 16.0


@pytest.mark.parametrize("value", ["1_000", "1_0.5", "١٢", "１２", "nan", "inf", "1e999", "0x10"])
def test_evidence_numbers_are_written_as_in_a_model_file(
    models: dict[str, Path], tmp_path: Path, value: str
) -> None:
    bad = tmp_path / "num.csv"
    bad.write_text(f"id,date,indicator,value,kind\nA1,2020-06-01,pop,{value},count\n")
    err = clean_failure(invoke("evidence", str(models["obs"]), "--evidence", str(bad)), 1)
    assert f"{bad}:2: A1: value '{value}' is not a number" in err
    if "_" in value:
        assert "no underscores" in err


def test_evidence_times_with_underscores_are_refused() -> None:
    lines = ["id,time,indicator,value,kind\n", "A1,1_2,pop,1,count\n"]
    with pytest.raises(EvidenceError, match=r"time '1_2' is not a number") as info:
        parse_ledger(lines, "t.csv")
    assert str(info.value).startswith("t.csv:2: A1:")


@pytest.mark.parametrize(
    ("value", "number"),
    [("1,000", 1000.0), ("1e3", 1000.0), ("-2.5", -2.5), (".5", 0.5), ("+7", 7.0), ("3.", 3.0)],
)
def test_evidence_numbers_that_stay_valid(value: str, number: float) -> None:
    lines = ["id,date,indicator,value,kind\n", f'A1,2020,pop,"{value}",count\n']
    assert parse_ledger(lines, "n.csv").rows[0].value == number


def test_evidence_file_of_the_model_still_calibrates(models: dict[str, Path]) -> None:
    r = invoke("evidence", str(models["obs"]), "--evidence", str(models["ev"]))
    assert r.exit_code == 0, (r.stderr, r.exception)
    assert "5 rows fitted" in r.stdout
