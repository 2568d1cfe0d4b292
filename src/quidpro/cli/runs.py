"""``quidpro runs list | show ID | export ID``: the run store from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from quidpro.cli.common import command, console
from quidpro.cli.options import StoreOpt
from quidpro.errors import ConfigError
from quidpro.lang.display import plain

runs_app = typer.Typer(
    name="runs",
    help="The run store: every ensemble, comparison and sensitivity analysis recorded.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add the ``runs`` command group to ``quidpro``."""
    app.add_typer(runs_app, name="runs")


def _list_runs(
    store: StoreOpt = None,
    limit: Annotated[int, typer.Option(help="Show at most this many runs.")] = 50,
) -> None:
    """The stored runs, newest first."""
    from quidpro.io.store import Store

    s = Store(store)
    rows = s.list(limit)
    if not rows:
        console.print(f"no runs stored in {s.path}", markup=False)
        return
    table = Table(title=Text(f"runs in {s.path}"), title_justify="left")
    for col in ("id", "kind", "model", "scenario", "runs", "seed", "created (UTC)"):
        table.add_column(col, no_wrap=col in ("id", "kind", "created (UTC)"))
    for r in rows:
        cells = (
            r["id"],
            r["kind"],
            r["model"],
            r["scenario"] or "baseline",
            "" if r["n_runs"] is None else f"{r['n_runs']:,}",
            "" if r["seed"] is None else str(r["seed"]),
            r["created"].strftime("%Y-%m-%d %H:%M:%S"),
        )
        table.add_row(*(Text(plain(c)) for c in cells))  # stored text is never markup
    console.print(table)


list_runs = runs_app.command("list")(command(_list_runs, flags={"limit": "--limit"}))


@runs_app.command("show")
@command
def show(
    run_id: Annotated[str, typer.Argument(metavar="ID", help="A run id (or a unique prefix).")],
    store: StoreOpt = None,
) -> None:
    """Everything recorded about one run, as JSON."""
    from quidpro.io.store import Store

    row = Store(store).get(run_id)
    row["created"] = row["created"].isoformat()
    typer.echo(json.dumps(row, indent=1, default=str))


@runs_app.command("export")
@command
def export(
    run_id: Annotated[str, typer.Argument(metavar="ID", help="A run id (or a unique prefix).")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="FILE.parquet, FILE.csv or FILE.json (default: ID.parquet)."
        ),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Write a run's stored results table (or, to .json, its whole record)."""
    from quidpro.io.store import Store

    s = Store(store)
    row = s.get(run_id)
    out = out or Path(f"{row['id']}.parquet")
    if s.owns(out):  # e.g. another run's results file: never written over
        raise ConfigError(
            f"--out {out} is a file of the run store {s.path} (its database, lock or "
            "results): write the export elsewhere"
        )
    suffix = out.suffix.lower()
    if suffix == ".json":
        row["created"] = row["created"].isoformat()
        out.write_text(json.dumps(row, indent=1, default=str))
    elif suffix == ".parquet":
        s.results(row["id"]).to_parquet(out, index=False)
    elif suffix == ".csv":
        from quidpro.io.results import spreadsheet_safe

        table = spreadsheet_safe(s.results(row["id"]))
        table.to_csv(out, index=False, float_format="%.17g")
    else:
        raise ConfigError(f"--out must end in .parquet, .csv or .json, got {out.name!r}")
    console.print(f"wrote {out}", markup=False)
