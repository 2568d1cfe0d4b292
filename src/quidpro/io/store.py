"""The run store: an embedded DuckDB file listing runs, results in Parquet beside it.

Each run's results are in ``<store>.results/<id>.parquet``.

Location: ``--store PATH``, else ``$QUIDPRO_STORE``, else
``platformdirs.user_data_dir("quidpro")/runs.duckdb``.

Atomicity: the Parquet file is written to a temporary name and moved into place with
``os.replace``; only then is the row inserted, in one transaction. A process killed at
any point leaves either no row (at worst an orphan results file, which nothing lists)
or a complete run. DuckDB allows one writing process at a time, so every connection is
opened under an exclusive ``fcntl.flock`` on ``<store>.lock``, retried until
:data:`LOCK_TIMEOUT` seconds pass, and closed straight after use.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import platform
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from quidpro.errors import ConfigError

LOCK_TIMEOUT = 60.0
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


class Store:
    """A run store at ``path`` (created on first write)."""

    def __init__(self, path: str | Path | None = None) -> None:
        """Open (lazily) the store at ``path``, else at :func:`default_path`."""
        self.path = Path(path) if path is not None else default_path()
        self.results_dir = self.path.with_name(self.path.name + ".results")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        with open(lock, "a+") as fh:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
    def connect(self) -> Iterator[Any]:
        """A DuckDB connection held under the store's lock."""
        import duckdb

        with self._locked():
            con = duckdb.connect(str(self.path))
            try:
                con.execute(_SCHEMA)
                yield con
            finally:
                con.close()

    def add(self, record: RunRecord, results: pd.DataFrame | None = None) -> str:
        """Store a run: results file first (atomically), then the row. Returns its id."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        run_id = now.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        rel = None
        if results is not None:
            self.results_dir.mkdir(parents=True, exist_ok=True)
            final = self.results_dir / f"{run_id}.parquet"
            tmp = self.results_dir / f".{run_id}.parquet.tmp"
            table = results.copy(deep=False)
            table.attrs = {}  # e.g. run dates: Parquet metadata holds only JSON
            table.to_parquet(tmp, index=False)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            rel = final.name
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
            rel,
        )
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            con.execute(f"INSERT INTO runs VALUES ({', '.join('?' * len(row))})", row)
            con.execute("COMMIT")
        return run_id

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest runs first."""
        if not self.path.exists():
            return []
        with self.connect() as con:
            rows = con.execute(
                f"SELECT {', '.join(COLUMNS)} FROM runs ORDER BY created DESC LIMIT ?", [limit]
            ).fetchall()
        return [dict(zip(COLUMNS, r, strict=True)) for r in rows]

    def get(self, run_id: str) -> dict[str, Any]:
        """One run by id or a unique prefix of it."""
        if not self.path.exists():
            raise ConfigError(f"no run store at {self.path}")
        with self.connect() as con:
            rows = con.execute(
                f"SELECT {', '.join(COLUMNS)} FROM runs WHERE id LIKE ? ORDER BY id",
                [run_id + "%"],
            ).fetchall()
        if not rows:
            raise ConfigError(f"no run {run_id!r} in {self.path}")
        if len(rows) > 1:
            raise ConfigError(f"{run_id!r} matches {len(rows)} runs; give more of the id")
        out = dict(zip(COLUMNS, rows[0], strict=True))
        for key in ("settings", "versions", "summary"):
            out[key] = json.loads(out[key]) if out[key] else {}
        return out

    def results(self, run_id: str) -> pd.DataFrame:
        """The stored results table of a run."""
        row = self.get(run_id)
        if not row["results"]:
            raise ConfigError(f"run {row['id']} has no stored results table")
        return pd.read_parquet(self.results_dir / row["results"])


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)
