"""``quidpro run MODEL``: one simulation, summarised, optionally written and plotted."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from rich.table import Table

from quidpro.cli.common import command, console, err_console, load_model
from quidpro.cli.format import fmt
from quidpro.cli.options import Method, ModelArg, NoStoreOpt, StoreOpt, check_suffix, parse_sets
from quidpro.cli.record import record
from quidpro.errors import ConfigError, UnitError
from quidpro.model.check import unit_errors

if TYPE_CHECKING:
    import pandas as pd

    from quidpro.api import LoadedModel

MOST_ROWS = 30  # the summary table's rows; --out has every variable
RULED_PAST = 8  # rows beyond which a rule separates stocks, flows and auxiliaries


def run(
    *,  # Typer passes every argument and option by name
    model: ModelArg,
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", "-s", help="A scenario of the model (its constant settings)."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Set a constant: NAME=VALUE (repeatable; wins over the scenario)."
        ),
    ] = None,
    method: Annotated[
        Method | None, typer.Option(help="Integration method (default: the model's).")
    ] = None,
    dt: Annotated[float | None, typer.Option(help="Time step (default: the model's).")] = None,
    save_every: Annotated[
        float | None, typer.Option(help="Save every X time units instead of every dt.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the results: FILE.csv or FILE.parquet.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Plot to FILE.png (the stocks, or the --vars).")
    ] = None,
    vars_: Annotated[
        str | None,
        typer.Option("--vars", help="Variables to plot, comma-separated (default: the stocks)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary table.")] = False,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
) -> None:
    """Simulate MODEL once and summarise it; optionally write results and a plot.

    For example:

      quidpro run nk_russia --plot run.png

      quidpro run nk_russia --scenario ceasefire_2025 --out run.csv

      quidpro run my_model.yaml --set growth_rate=0.2 --method rk4 --dt 0.25
    """
    from quidpro.io.results import end_values, write_table

    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--out must end in .csv or .parquet, got {out.name!r}")
    check_suffix(plot, ".png", "--plot")
    m = load_model(model)
    warn_units(m)
    sets = parse_sets(set_, m.spec)
    df = m.run(
        scenario=scenario,
        set=sets,
        method=method.value if method else None,
        dt=dt,
        save_every=save_every,
    )
    if out is not None:
        write_table(df, out)
    if plot is not None:
        _plot(m, df, scenario, plot, vars_)
    if not quiet:
        console.print(summary_table(m, df, scenario))
        if len(df.columns) > MOST_ROWS:
            console.print(
                f"... and {len(df.columns) - MOST_ROWS} more variables (use --out to see all)"
            )
        for path in (out, plot):
            if path is not None:
                console.print(f"wrote {path}")
    record(
        store,
        no_store,
        m,
        "run",
        scenario=scenario,
        seed=None,
        n_runs=1,
        settings={"sets": sets, "method": method, "dt": dt, "save_every": save_every},
        summary={"end": end_values(df)},
        results=df.reset_index(),
        announce=False,
    )


def warn_units(m: LoadedModel) -> None:
    """Unit errors do not stop a run (units never change the numbers): warn at each line."""
    for problem in unit_errors(m.spec):
        warning = UnitError(f"warning: {problem.message}", problem.loc)
        err_console.print(str(warning), markup=False)


def _plot(
    m: LoadedModel, df: pd.DataFrame, scenario: str | None, plot: Path, vars_: str | None
) -> None:
    from quidpro.report.plots import plot_run

    shown = [v.strip() for v in (vars_ or "").split(",") if v.strip()]
    for v in shown:
        if v not in df.columns:
            raise ConfigError(f"--vars: {v!r} is not a variable of this model")
    shown = shown or list(m.spec.stocks)[:16] or list(df.columns)[:16]
    title = (m.spec.title or m.name) + (f" — {scenario}" if scenario else "")
    plot_run(df, shown, plot, title, m.spec.time.units or "time", spec=m.spec)


def summary_table(m: LoadedModel, df: pd.DataFrame, scenario: str | None) -> Table:
    """Stocks first, then flows and auxiliaries: start, range, end and units of each."""
    spec = m.spec
    t = spec.time
    first, last = f"{t.start:g}", f"{df.index[-1]:g}"
    if "dates" in df.attrs:
        first, last = (f"{d:%Y-%m-%d}" for d in (df.attrs["dates"][0], df.attrs["dates"][-1]))
    title = f"{spec.title or spec.name}  [{scenario or 'baseline'}, {t.method}, dt={t.dt:g}]"
    table = Table(title=title, title_justify="left")  # never markup: see cli.common
    table.add_column("variable", no_wrap=True)
    for heading in (first, "min", "max", last):
        table.add_column(heading, justify="right", no_wrap=True, min_width=9)
    table.add_column("units", style="dim", overflow="ellipsis", no_wrap=True, max_width=18)
    groups = [list(spec.stocks), list(spec.flows), list(spec.auxiliaries)]
    shown = [n for group in groups for n in group if n in df.columns]
    shown += [c for c in df.columns if c not in shown]  # array elements, if any
    for name in shown[:MOST_ROWS]:
        col = df[name].to_numpy()
        units = getattr(spec.stocks.get(name) or spec.variables.get(name), "units", None)
        end_of_group = len(shown) > RULED_PAST and any(g and name == g[-1] for g in groups)
        table.add_row(
            name,  # an array element "x[a]" is a name, not markup (see cli.common)
            *(fmt(x) for x in (col[0], np.min(col), np.max(col), col[-1])),
            units or "",
            end_section=end_of_group,
        )
    return table


def register(app: typer.Typer) -> None:
    """Add ``run`` to the ``quidpro`` command."""
    app.command("run")(command(run, flags={"dt": "--dt", "save_every": "--save-every"}))
