"""A run store that trusts nothing (issue 13): crafted, corrupt or foreign store files."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from quidpro.cli.main import app
from quidpro.errors import ConfigError
from quidpro.io.store import COLUMNS, RunRecord, Store, StoreError


def _record(i: int = 0) -> RunRecord:
    return RunRecord("ensemble", "m", "h", None, i, 1, {}, {"i": i})


def _runs(store: Path, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["runs", *args, "--store", str(store)])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"", "is empty"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "is not a DuckDB database (or is truncated)"),
        (b"garbage" * 100, "is not a DuckDB database (or is truncated)"),
    ],
)
def test_a_file_that_is_not_a_store_is_a_clean_error(
    tmp_path: Path, content: bytes, what: str
) -> None:
    path = tmp_path / "runs.duckdb"
    path.write_bytes(content)
    for args in (("list",), ("show", "2026")):
        code, _, err = _runs(path, *args)
        assert code == 1
        assert err.strip() == f"the run store {path} {what}"


def test_a_real_sqlite_database_never_loads_an_extension(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE runs (id TEXT)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="is not a DuckDB database"):
        Store(path).list()


def test_a_truncated_store_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    Store(path).add(_record())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    code, _, err = _runs(path, "list")
    assert code == 1
    assert err.startswith(f"the run store {path} cannot be ")


def test_a_view_named_runs_is_refused_not_read(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    con = duckdb.connect(str(path))
    cols = ", ".join(f"'x' AS {c}" for c in COLUMNS)
    con.execute(f"CREATE VIEW runs AS SELECT {cols} FROM read_csv('/etc/passwd')")
    con.close()
    code, out, err = _runs(path, "list")
    assert code == 1
    assert "/bin/" not in out + err  # nothing of /etc/passwd
    assert err.strip() == f"the run store {path} has no table 'runs' (a view or another database?)"


def test_a_runs_table_with_other_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE runs (id VARCHAR, secret VARCHAR)")
    con.close()
    with pytest.raises(StoreError, match="has a 'runs' table with other columns than quidpro's"):
        Store(path).list()


def test_external_access_is_off_inside_the_store(tmp_path: Path) -> None:
    s = Store(tmp_path / "runs.duckdb")
    s.add(_record())
    with s.connect(write=False) as con, pytest.raises(duckdb.Error, match="disabled"):
        con.execute("SELECT * FROM read_csv('/etc/passwd')")
    with s.connect(write=False) as con, pytest.raises(duckdb.Error):
        con.execute("SET enable_external_access = true")


@pytest.mark.parametrize("limit", ["-1", "0", "99999999999999999999"])
def test_a_bad_limit_is_a_usage_error(tmp_path: Path, limit: str) -> None:
    path = tmp_path / "runs.duckdb"
    Store(path).add(_record())
    code, _, err = _runs(path, "list", "--limit", limit)
    assert code == 2
    assert "Traceback" not in err
    if limit != "99999999999999999999":  # click refuses that one itself, as too large
        assert (
            err.strip()
            == f"quidpro: error: --limit must be a whole number from 1 to 1,000,000, got {limit}"
        )


@pytest.mark.parametrize("query", ["%", "_", "2026%", "' OR 1=1 --"])
def test_show_never_matches_by_wildcards(tmp_path: Path, query: str) -> None:
    path = tmp_path / "runs.duckdb"
    s = Store(path)
    s.add(_record())
    with pytest.raises(ConfigError, match="is not a run id"):
        s.get(query)
    code, _, err = _runs(path, "show", query)
    assert code == 2
    assert "is not a run id" in err


def test_a_prefix_still_finds_its_run(tmp_path: Path) -> None:
    s = Store(tmp_path / "runs.duckdb")
    run_id = s.add(_record())
    assert s.get(run_id[:8])["id"] == run_id


def test_stale_tmp_and_orphan_results_are_collected_on_write(tmp_path: Path) -> None:
    s = Store(tmp_path / "runs.duckdb")
    df = pd.DataFrame({"x": [1.0]})
    kept = s.add(_record(), df)
    stale = s.results_dir / ".20250101-000000-abcdef.parquet.tmp"
    orphan = s.results_dir / "20250101-000000-abcdef.parquet"
    mine = s.results_dir / "notes.parquet"  # not a run's name: never touched
    for f in (stale, orphan, mine):
        f.write_bytes(b"x")
    s.add(_record(1))
    assert not stale.exists()
    assert not orphan.exists()
    assert mine.exists()
    assert (s.results_dir / f"{kept}.parquet").exists()


def test_a_crafted_row_cannot_name_another_results_file(tmp_path: Path) -> None:
    s = Store(tmp_path / "runs.duckdb")
    run_id = s.add(_record(), pd.DataFrame({"x": [1.0]}))
    with s.connect() as con:
        con.execute("UPDATE runs SET results = '../../etc/passwd'")
    with pytest.raises(StoreError, match="names the results file"):
        s.results(run_id)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write any file")
def test_a_store_you_cannot_write_is_listed_read_only(tmp_path: Path) -> None:
    path = tmp_path / "ro" / "runs.duckdb"
    s = Store(path)
    run_id = s.add(_record())
    (tmp_path / "ro" / "runs.duckdb.lock").unlink()
    path.chmod(0o444)
    (tmp_path / "ro").chmod(0o555)
    try:
        assert [r["id"] for r in s.list()] == [run_id]
        assert s.get(run_id)["id"] == run_id
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_markup_and_escapes_in_stored_text_print_as_text(tmp_path: Path) -> None:
    path = tmp_path / "runs.duckdb"
    rec = RunRecord("ensemble", "[/]m[bold]\x1b]0;owned\x07", "h", "[red]s", 1, 1, {}, {})
    Store(path).add(rec)
    code, out, err = _runs(path, "list")
    assert code == 0, err
    assert "[/]m[bold]\\x1b]0;owned\\x07" in out
    assert "[red]s" in out
    assert "\x1b" not in out
