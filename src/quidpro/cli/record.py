"""Recording what a command did in the run store (``quidpro runs`` reads it back)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from quidpro.cli.common import err_console, model_text
from quidpro.errors import ConfigError

if TYPE_CHECKING:
    from quidpro.api import LoadedModel
    from quidpro.io.store import Results, RunRecord


def record(
    store: Path | None,
    no_store: bool,
    m: LoadedModel,
    kind: str,
    *,
    scenario: str | None,
    seed: int | None,
    n_runs: int | None,
    settings: dict[str, Any],
    summary: dict[str, Any],
    results: Results | None = None,
    announce: bool = True,
) -> None:
    """Store one run of ``kind`` (unless ``no_store``); ``announce`` its id on stderr."""
    if no_store:
        return
    from quidpro.io.store import RunRecord, content_hash

    rec = RunRecord(
        kind, m.name, content_hash(model_text(m)), scenario, seed, n_runs, settings, summary
    )
    run_id = _save(store, rec, results)
    if run_id is not None and announce:
        err_console.print(f"stored as run {run_id}", style="dim")


def _save(store: Path | None, rec: RunRecord, results: Results | None) -> str | None:
    """Add ``rec`` to the run store; its id, or None when the default store failed.

    The results are already written and shown, so a default store that cannot be
    written costs a warning, not the command; a store the user named with --store must
    work.
    """
    import duckdb

    from quidpro.io.store import Store

    try:
        run_id: str = Store(store).add(rec, results)
    except (OSError, duckdb.Error) as exc:
        if store is not None:
            raise ConfigError(f"--store {store}: cannot write the run store ({exc})") from None
        err_console.print(
            f"quidpro: warning: the run was not recorded in the run store ({exc}); set "
            "QUIDPRO_STORE or --store to a writable file, or pass --no-store",
            markup=False,
        )
        return None
    return run_id
