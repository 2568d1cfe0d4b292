"""The run store: an embedded DuckDB file listing runs, results in Parquet beside it.

Each run's results are in ``<store>.results/<id>.parquet``.

Location: ``--store PATH``, else ``$QUIDPRO_STORE``, else
``platformdirs.user_data_dir("quidpro")/runs.duckdb``.

Atomicity: the Parquet file is written to a temporary name and moved into place with
``os.replace``; only then is the row inserted, in one transaction. A process killed at
any point leaves either no row (at worst an orphan results file, which nothing lists)
or a complete run. DuckDB allows one writing process at a time, so every connection is
opened under an ``fcntl.flock`` on ``<store>.lock`` (exclusive to write, shared to
read), retried until :data:`LOCK_TIMEOUT` seconds pass, and closed straight after use.

Trust: the store file may have been crafted by someone else, so it is trusted for
nothing (docs/hardening.md). DuckDB is opened with external access (files, network)
and extension autoloading/autoinstalling off and the configuration locked; before any
read the file must be a DuckDB database whose ``runs`` is a table (not a view) with
exactly the expected columns, else a :class:`StoreError` names the file. Every query
takes its values as parameters. A results file must be a regular file (not a
directory, FIFO or device) holding Parquet, else a :class:`StoreError` names it, and
``quidpro runs export`` never writes into the store (:meth:`Store.owns`). Writing
collects, under the lock, ``.tmp`` files and results files no row names (left by a
process killed mid-write). A store you cannot write is still listed, read-only.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import platform
import re
import stat
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quidpro.errors import ConfigError, QuidproError

if TYPE_CHECKING:  # a run's results may be plain columns: see Store.add
    import numpy as np
    import pandas as pd

    Results = pd.DataFrame | Mapping[str, np.ndarray]

LOCK_TIMEOUT = 60.0
#: The most rows ``list`` returns at once.
MAX_LIST = 1_000_000
#: DuckDB settings for a file that is trusted for nothing.
_SAFE_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "lock_configuration": True,
}
#: A run id: UTC date and time, then six hex digits (see :meth:`Store.add`).
_RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")
_ID_PREFIX = re.compile(r"[0-9a-f-]{1,22}")
_DUCKDB_MAGIC = b"DUCK"  # at byte 8 of every DuckDB database file
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    created TIMESTAMP NOT NULL,
    model VARCHAR NOT NULL,
    model_hash VARCHAR NOT NULL,
    scenario VARCHAR,
    seed BIGINT,
    n_runs BIGINT,
    settings VARCHAR,
    versions VARCHAR,
    summary VARCHAR,
    results VARCHAR
)
"""
_TYPES = {"created": "TIMESTAMP", "seed": "BIGINT", "n_runs": "BIGINT"}
COLUMNS = (
    "id",
    "kind",
    "created",
    "model",
    "model_hash",
    "scenario",
    "seed",
    "n_runs",
    "settings",
    "versions",
    "summary",
    "results",
)


def default_path() -> Path:
    """``$QUIDPRO_STORE`` or the user data folder's ``quidpro/runs.duckdb``."""
    env = os.environ.get("QUIDPRO_STORE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("quidpro")) / "runs.duckdb"


def content_hash(text: str) -> str:
    """SHA-256 of a model file's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def versions() -> dict[str, str]:
    """Versions of the libraries that shape the numbers."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("quidpro", "numpy", "scipy", "SALib", "duckdb", "numba", "dask"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


@dataclass(frozen=True)
class RunRecord:
    """One stored run, ensemble or analysis (``settings``/``summary`` are JSON-able)."""

    kind: str
    model: str
    model_hash: str
    scenario: str | None
    seed: int | None
    n_runs: int | None
    settings: Mapping[str, Any]
    summary: Mapping[str, Any]


class StoreError(QuidproError):
    """A store or results file that is not what quidpro made (corrupt, crafted, missing)."""


class Store:
    """A run store at ``path`` (created on first write)."""

    def __init__(self, path: str | Path | None = None) -> None:
        """Open (lazily) the store at ``path``, else at :func:`default_path`."""
        self.path = Path(path) if path is not None else default_path()
        self.results_dir = self.path.with_name(self.path.name + ".results")

    @contextmanager
    def _locked(self, write: bool) -> Iterator[None]:
        lock = self.path.with_name(self.path.name + ".lock")
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fh = open(lock, "a+" if write else "r")  # noqa: SIM115 - closed below
        except OSError:
            if write:
                raise
            yield  # a store you cannot write (or never written): read without the lock
            return
        with fh:
            deadline = time.monotonic() + LOCK_TIMEOUT
            mode = fcntl.LOCK_EX if write else fcntl.LOCK_SH
            while True:
                try:
                    fcntl.flock(fh, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise ConfigError(
                            f"the run store {self.path} is locked by another process"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def connect(self, write: bool = True) -> Iterator[Any]:
        """A DuckDB connection held under the store's lock, its schema verified.

        Raises:
            StoreError: The file is not a DuckDB database, or its ``runs`` is not the
                table quidpro makes.
        """
        import duckdb

        with self._locked(write):
            self._check_header()
            try:
                con = duckdb.connect(str(self.path), read_only=not write, config=_SAFE_CONFIG)
            except duckdb.Error as exc:
                raise self._error(f"cannot be opened ({_first_line(exc)})") from None
            try:
                self._verify(con)
                if write:
                    con.execute(_SCHEMA)
                    self._collect(con)
                yield con
            except duckdb.Error as exc:
                raise self._error(f"cannot be read ({_first_line(exc)})") from None
            finally:
                con.close()

    def _error(self, what: str) -> StoreError:
        return StoreError(f"the run store {self.path} {what}")

    def _check_header(self) -> None:
        """Refuse a file that is not a DuckDB database before DuckDB reads it."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            head = fh.read(12)
        if head[8:12] != _DUCKDB_MAGIC:
            what = "is empty" if not head else "is not a DuckDB database (or is truncated)"
            raise self._error(what)

    def _verify(self, con: Any) -> None:
        """Raise unless the database is empty or its ``runs`` is the table quidpro makes."""
        objects = con.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables"
        ).fetchall()
        if not objects:
            return
        runs = [o for o in objects if o[0] == "main" and o[1] == "runs"]
        if not runs or runs[0][2] != "BASE TABLE":
            raise self._error("has no table 'runs' (a view or another database?)")
        cols = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = 'runs' ORDER BY ordinal_position"
        ).fetchall()
        expected = [(c, _TYPES.get(c, "VARCHAR")) for c in COLUMNS]
        if [tuple(c) for c in cols] != expected:
            raise self._error("has a 'runs' table with other columns than quidpro's")

    def _collect(self, con: Any) -> None:
        """Delete ``.tmp`` files and results files that no row names (under the lock)."""
        if not self.results_dir.is_dir():
            return
        named = {r[0] for r in con.execute("SELECT results FROM runs").fetchall()}
        for f in self.results_dir.iterdir():
            stale_tmp = f.name.startswith(".") and f.name.endswith(".parquet.tmp")
            orphan = (
                f.suffix == ".parquet" and _RUN_ID.fullmatch(f.stem) is not None
            ) and f.name not in named
            if (stale_tmp or orphan) and f.is_file():
                f.unlink(missing_ok=True)

    def add(self, record: RunRecord, results: Results | None = None) -> str:
        """Store a run: results file first (atomically), then the row. Returns its id.

        ``results`` is a table, or its columns by name (what ``quidpro run`` passes, so
        that storing a run needs pyarrow but not pandas); :meth:`results` reads either
        back as the same DataFrame.
        """
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        run_id = now.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        row = (
            run_id,
            record.kind,
            now,
            record.model,
            record.model_hash,
            record.scenario,
            record.seed,
            record.n_runs,
            json.dumps(dict(record.settings), default=str),
            json.dumps(versions()),
            json.dumps(dict(record.summary), default=_jsonable),
            None if results is None else f"{run_id}.parquet",
        )
        # The results file is written under the lock too, so that the collection of
        # orphans by another writer can never remove a file about to be committed.
        with self.connect() as con:
            if results is not None:
                self._write_results(run_id, results)
            con.execute("BEGIN TRANSACTION")
            con.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(row))})", row)
            con.execute("COMMIT")
        return run_id

    def _write_results(self, run_id: str, results: Results) -> None:
        self.results_dir.mkdir(parents=True, exist_ok=True)
        final = self.results_dir / f"{run_id}.parquet"
        tmp = self.results_dir / f".{run_id}.parquet.tmp"
        if isinstance(results, Mapping):
            import pyarrow.parquet as pq

            pq.write_table(_arrow_table(results), tmp)
        else:
            table = results.copy(deep=False)
            table.attrs = {}  # e.g. run dates: Parquet metadata holds only JSON
            table.to_parquet(tmp, index=False)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest runs first, at most ``limit`` (1 to :data:`MAX_LIST`) of them."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
            raise ConfigError(f"limit must be a whole number from 1 to {MAX_LIST:,}, got {limit}")
        if not self.path.exists():
            return []
        with self.connect(write=False) as con:
            if not self._has_runs(con):
                return []
            rows = con.execute(
                f"SELECT {', '.join(COLUMNS)} FROM main.runs ORDER BY created DESC LIMIT ?",
                [limit],
            ).fetchall()
        return [dict(zip(COLUMNS, r, strict=True)) for r in rows]

    @staticmethod
    def _has_runs(con: Any) -> bool:
        return bool(
            con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_name = 'runs'"
            ).fetchone()[0]
        )

    def get(self, run_id: str) -> dict[str, Any]:
        """One run by id or a unique prefix of it (digits, ``a-f`` and ``-`` only)."""
        if _ID_PREFIX.fullmatch(run_id) is None:
            raise ConfigError(
                f"{run_id!r} is not a run id (such as 20260101-120000-1a2b3c) or a prefix of one"
            )
        if not self.path.exists():
            raise ConfigError(f"no run store at {self.path}")
        with self.connect(write=False) as con:
            rows = (
                con.execute(
                    f"SELECT {', '.join(COLUMNS)} FROM main.runs "
                    "WHERE starts_with(id, ?) ORDER BY id",
                    [run_id],
                ).fetchall()
                if self._has_runs(con)
                else []
            )
        if not rows:
            raise ConfigError(f"no run {run_id!r} in {self.path}")
        if len(rows) > 1:
            raise ConfigError(f"{run_id!r} matches {len(rows)} runs; give more of the id")
        out = dict(zip(COLUMNS, rows[0], strict=True))
        for key in ("settings", "versions", "summary"):
            try:
                out[key] = json.loads(out[key]) if out[key] else {}
            except json.JSONDecodeError:
                raise self._error(f"holds a run {out['id']!r} whose {key} is not JSON") from None
        return out

    def results(self, run_id: str) -> pd.DataFrame:
        """The stored results table of a run."""
        row = self.get(run_id)
        name = row["results"]
        if not name:
            raise ConfigError(f"run {row['id']} has no stored results table")
        if name != f"{row['id']}.parquet":  # a crafted row must not name another file
            raise self._error(f"names the results file {name!r} for run {row['id']!r}")
        return _read_results(self.results_dir / name, row["id"])

    def owns(self, path: str | Path) -> bool:
        """Whether writing ``path`` would write over a file of this store.

        That is the database, its lock, WAL and DuckDB temporary files, or anything in
        the results folder (a run's results, by any spelling of the path: ``..``,
        symbolic links, or a hard link to a results file).
        """
        out = Path(path)
        try:
            target, db = out.resolve(), self.path.resolve()
        except (OSError, RuntimeError):  # a symbolic-link loop: nothing can write there
            return False
        files = [db, *(db.with_name(db.name + ext) for ext in (".lock", ".wal"))]
        folders = [db.with_name(db.name + ext) for ext in (".results", ".tmp")]
        if target in files or any(d == target or d in target.parents for d in folders):
            return True
        # The same file by another name: a hard link, or a case-insensitive file system.
        if any(_same(out.parent, d) for d in folders):
            return True
        try:
            linked = out.stat().st_nlink > 1
        except OSError:
            return False  # not there yet: only its folder could be the store's
        mine = list(files)
        if linked:  # no results folder (or none you may list): then none of its files
            with suppress(OSError):
                mine += self.results_dir.iterdir()
        return any(_same(out, f) for f in mine)


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _read_results(path: Path, run_id: str) -> pd.DataFrame:
    """The results table in ``path``, or a :class:`StoreError` naming it.

    The file is opened once (non-blocking, so that a FIFO cannot hang the read) and
    checked to be a regular file before Parquet reads it: a directory would otherwise
    be read as an empty Parquet dataset.
    """
    import pandas as pd
    import pyarrow as pa

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise StoreError(f"{path}: results of run {run_id} are missing (deleted?)") from None
    except OSError as exc:
        raise StoreError(
            f"{path}: results of run {run_id} cannot be opened ({exc.strerror or exc})"
        ) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise StoreError(f"{path}: is {what}, not a results file (run {run_id})")
    with os.fdopen(fd, "rb") as fh:
        try:
            return pd.read_parquet(fh)
        # Parquet and Arrow errors for the bytes; the others for crafted pandas metadata.
        except (pa.ArrowException, OSError, ValueError, TypeError, KeyError, IndexError) as exc:
            why = re.sub(r"^Could not open Parquet input source '[^']*': ", "", _first_line(exc))
            raise StoreError(
                f"{path}: results of run {run_id} are not a readable Parquet file ({why})"
            ) from None


def _arrow_table(columns: Mapping[str, np.ndarray]) -> Any:
    """A pyarrow table of NumPy columns, without pandas.

    Float columns are handed over as buffers: ``pyarrow.array`` imports pandas to ask
    whether its argument is a pandas object, and a run's columns are all floats.
    """
    import numpy as np
    import pyarrow as pa

    arrays = []
    for values in columns.values():
        col = np.ascontiguousarray(values)
        if col.dtype == np.float64 and col.ndim == 1:
            arrays.append(pa.Array.from_buffers(pa.float64(), len(col), [None, pa.py_buffer(col)]))
        else:
            arrays.append(pa.array(col))
    return pa.Table.from_arrays(arrays, names=list(columns))


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)
