"""A run store's results files that trust nothing: corrupt, missing, crafted, written over."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.test_hostile_store import _record, _runs

from quidpro.io.store import Store, StoreError

A_TABLE = pd.DataFrame({"t": [0.0, 1.0, 2.0], "v": [1.5, 2.5, 3.5]})
B_TABLE = pd.DataFrame({"t": [0.0, 1.0], "w": [-1.0, -2.0]})


def _store(tmp_path: Path, name: str = "runs.duckdb") -> tuple[Store, str, str]:
    """A store of two runs with different results tables: A, then B."""
    s = Store(tmp_path / name)
    a = s.add(_record(0), A_TABLE)
    b = s.add(_record(1), B_TABLE)
    return s, a, b


def _clean(err: str) -> None:
    assert "Traceback" not in err
    assert "internal error" not in err


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(
    "content",
    [b"garbage" * 100, b"", b"PAR1" + b"\x00" * 50 + b"PAR1"],
    ids=["garbage", "empty", "fake-magic"],
)
def test_a_corrupt_results_file_is_a_clean_error(
    tmp_path: Path, content: bytes, suffix: str
) -> None:
    s, a, _ = _store(tmp_path)
    results = s.results_dir / f"{a}.parquet"
    results.write_bytes(content)
    out = tmp_path / f"x{suffix}"
    code, _, err = _runs(s.path, "export", a, "-o", str(out))
    assert code == 1
    _clean(err)
    assert err.startswith(f"{results}: results of run {a} are not a readable Parquet file (")
    assert not out.exists()
    with pytest.raises(StoreError, match="not a readable Parquet file"):
        s.results(a)


def test_crafted_pandas_metadata_is_a_clean_error(tmp_path: Path) -> None:
    s, a, _ = _store(tmp_path)
    results = s.results_dir / f"{a}.parquet"
    table = pa.table({"x": [1.0, 2.0]}).replace_schema_metadata({b"pandas": b"[]"})
    pq.write_table(table, results)
    code, _, err = _runs(s.path, "export", a, "-o", str(tmp_path / "x.csv"))
    assert code == 1
    _clean(err)
    assert err.startswith(f"{results}: results of run {a} are not a readable Parquet file")


def test_a_directory_for_results_is_refused_not_read_as_empty(tmp_path: Path) -> None:
    s, a, _ = _store(tmp_path)
    results = s.results_dir / f"{a}.parquet"
    results.unlink()
    results.mkdir()
    out = tmp_path / "x.csv"
    code, out_text, err = _runs(s.path, "export", a, "-o", str(out))
    assert code == 1
    _clean(err)
    assert "wrote" not in out_text
    assert err.strip() == f"{results}: is a directory, not a results file (run {a})"
    assert not out.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_for_results_is_refused_without_hanging(tmp_path: Path) -> None:
    s, a, _ = _store(tmp_path)
    results = s.results_dir / f"{a}.parquet"
    results.unlink()
    os.mkfifo(results)
    code, _, err = _runs(s.path, "export", a, "-o", str(tmp_path / "x.csv"))
    assert code == 1
    _clean(err)
    assert err.strip() == f"{results}: is not a regular file, not a results file (run {a})"


def test_a_deleted_results_file_says_so(tmp_path: Path) -> None:
    s, a, _ = _store(tmp_path)
    results = s.results_dir / f"{a}.parquet"
    results.unlink()
    code, _, err = _runs(s.path, "export", a, "-o", str(tmp_path / "x.parquet"))
    assert code == 1
    _clean(err)
    assert err.strip() == f"{results}: results of run {a} are missing (deleted?)"


def _b_is_unchanged(s: Store, b: str, before: bytes) -> None:
    assert (s.results_dir / f"{b}.parquet").read_bytes() == before
    pd.testing.assert_frame_equal(s.results(b), B_TABLE)


@pytest.mark.parametrize("how", ["plain", "dotdot", "symlink", "hardlink", "json"])
def test_export_never_writes_over_another_runs_results(tmp_path: Path, how: str) -> None:
    s, a, b = _store(tmp_path)
    target = s.results_dir / f"{b}.parquet"
    before = target.read_bytes()
    if how == "plain":
        out = target
    elif how == "dotdot":
        out = s.results_dir / ".." / s.results_dir.name / target.name
    elif how == "symlink":
        (tmp_path / "elsewhere").symlink_to(s.results_dir)
        out = tmp_path / "elsewhere" / target.name
    elif how == "hardlink":
        out = tmp_path / "linked.parquet"
        os.link(target, out)
    else:
        out = s.results_dir / f"{b}.json"
    code, out_text, err = _runs(s.path, "export", a, "-o", str(out))
    assert code == 2
    _clean(err)
    assert "wrote" not in out_text
    assert err.startswith(f"quidpro: error: --out {out} is a file of the run store {s.path}")
    _b_is_unchanged(s, b, before)
    if how == "json":
        assert not out.exists()
    # and B still exports its own table
    code, _, err = _runs(s.path, "export", b, "-o", str(tmp_path / "b.parquet"))
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "b.parquet"), B_TABLE)


def test_the_default_output_inside_the_results_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s, a, _ = _store(tmp_path)
    results = s.results_dir / f"{a}.parquet"
    before = results.read_bytes()
    monkeypatch.chdir(s.results_dir)  # the default ID.parquet is the results file itself
    code, _, err = _runs(s.path, "export", a)
    assert code == 2
    _clean(err)
    assert err.startswith(f"quidpro: error: --out {a}.parquet is a file of the run store")
    assert results.read_bytes() == before


@pytest.mark.parametrize(
    "how", ["itself", "dotdot", "hardlink-store", "hardlink-lock", "symlink-lock"]
)
def test_export_never_writes_over_the_store_or_its_lock(tmp_path: Path, how: str) -> None:
    s, a, b = _store(tmp_path, "runs.json")  # a name export would otherwise accept
    lock = s.path.with_name(s.path.name + ".lock")
    out = tmp_path / "x.json"
    if how == "itself":
        out = s.path
    elif how == "dotdot":
        out = tmp_path / "sub" / ".." / s.path.name
        (tmp_path / "sub").mkdir()
    elif how == "hardlink-store":
        os.link(s.path, out)
    elif how == "hardlink-lock":
        os.link(lock, out)
    else:
        out.symlink_to(lock)
    before = s.path.read_bytes(), lock.read_bytes()
    code, _, err = _runs(s.path, "export", a, "-o", str(out))
    assert code == 2
    _clean(err)
    assert err.startswith(f"quidpro: error: --out {out} is a file of the run store {s.path}")
    assert (s.path.read_bytes(), lock.read_bytes()) == before
    assert [r["id"] for r in s.list()] == [b, a]


def test_owns_the_lock_and_wal_by_any_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s, _, _ = _store(tmp_path)
    monkeypatch.chdir(tmp_path)
    for ext in (".lock", ".wal"):
        assert s.owns(s.path.with_name(s.path.name + ext))
        assert s.owns(Path(s.path.name + ext))  # relative to the working folder
    assert Store(Path("runs.duckdb")).owns(s.results_dir / "x.parquet")  # a relative store


def test_owns_only_the_stores_files(tmp_path: Path) -> None:
    s, a, _ = _store(tmp_path)
    assert s.owns(s.path)
    assert s.owns(s.results_dir)
    assert s.owns(s.results_dir / "anything.csv")
    assert s.owns(s.path.with_name(s.path.name + ".tmp") / "x.parquet")
    for name in ("runs.duckdb.results.csv", "runs.duckdb.csv", "results", f"{a}.parquet"):
        assert not s.owns(tmp_path / name)


def test_a_good_export_still_writes_and_reads_back(tmp_path: Path) -> None:
    s, a, _ = _store(tmp_path)
    for suffix in (".csv", ".parquet", ".json"):
        out = tmp_path / f"out{suffix}"
        code, out_text, err = _runs(s.path, "export", a, "-o", str(out))
        assert code == 0, err
        assert f"wrote {out}" in out_text
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), A_TABLE)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out.csv"), A_TABLE, check_dtype=False)
    assert json.loads((tmp_path / "out.json").read_text())["id"] == a


def test_a_deleted_results_folder_says_so(tmp_path: Path) -> None:
    s, a, _ = _store(tmp_path)
    results = s.results_dir / f"{a}.parquet"
    for f in s.results_dir.iterdir():
        f.unlink()
    s.results_dir.rmdir()
    code, _, err = _runs(s.path, "export", a, "-o", str(tmp_path / "x.csv"))
    assert code == 1
    _clean(err)
    assert err.strip() == f"{results}: results of run {a} are missing (deleted?)"


def test_an_output_symlink_loop_is_a_clean_error(tmp_path: Path) -> None:
    s, a, _ = _store(tmp_path)
    out = tmp_path / "loop.csv"
    out.symlink_to(out)
    assert not s.owns(out)
    code, _, err = _runs(s.path, "export", a, "-o", str(out))
    assert code == 1
    _clean(err)
    assert "loop.csv" in err
