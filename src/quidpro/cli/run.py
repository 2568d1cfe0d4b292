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
from quidpro.io.results import end_values
from quidpro.model.calendar import calendar_day
from quidpro.model.unit_cache import cached_unit_errors

if TYPE_CHECKING:
    import pandas as pd

    from quidpro.api import LoadedModel
    from quidpro.solve.simulate import Trajectories

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
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--out must end in .csv or .parquet, got {out.name!r}")
    check_suffix(plot, ".png", "--plot")
    m = load_model(model)
    warn_units(m)
    sets = parse_sets(set_, m.spec)
    traj = m.run_arrays(
        scenario=scenario,
        set=sets,
        method=method.value if method else None,
        dt=dt,
        save_every=save_every,
    )
    # The table and the store take the arrays: pandas loads only for --out and --plot.
    if out is not None or plot is not None:
        df = m.frame(traj)
        if out is not None:
            from quidpro.io.results import write_table

            write_table(df, out)
        if plot is not None:
            _plot(m, df, scenario, plot, vars_)
    if not quiet:
        console.print(summary_table(m, traj, scenario))
        if len(traj.names) > MOST_ROWS:
            console.print(
                f"... and {len(traj.names) - MOST_ROWS} more variables (use --out to see all)"
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
        summary={"end": end_values(traj.names, traj.values[-1, :, 0])},
        results=None if no_store else columns(traj),
        announce=False,
    )


def columns(traj: Trajectories) -> dict[str, np.ndarray]:
    """A run's columns by name, time first: the table ``LoadedModel.run`` resets its index of."""
    values = traj.values[:, :, 0]
    return {"time": traj.times, **{name: values[:, i] for i, name in enumerate(traj.names)}}


def warn_units(m: LoadedModel) -> None:
    """Unit errors do not stop a run (units never change the numbers): warn at each line.

    The check's result is cached by the file's text (:mod:`quidpro.model.unit_cache`):
    a file run before needs no pint.
    """
    for problem in cached_unit_errors(m.spec, m.source):
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


def summary_table(m: LoadedModel, traj: Trajectories, scenario: str | None) -> Table:
    """Stocks first, then flows and auxiliaries: start, range, end and units of each.

    Made from the run's arrays (:meth:`LoadedModel.run_arrays`), so that a plain
    ``quidpro run`` never imports pandas.
    """
    spec = m.spec
    t = spec.time
    first, last = f"{t.start:g}", f"{traj.times[-1]:g}"
    if t.origin is not None:
        first, last = (
            f"{calendar_day(x, t.origin, t.units, t.start):%Y-%m-%d}"
            for x in (traj.times[0], traj.times[-1])
        )
    title = f"{spec.title or spec.name}  [{scenario or 'baseline'}, {t.method}, dt={t.dt:g}]"
    table = Table(title=title, title_justify="left")  # never markup: see cli.common
    table.add_column("variable", no_wrap=True)
    for heading in (first, "min", "max", last):
        table.add_column(heading, justify="right", no_wrap=True, min_width=9)
    table.add_column("units", style="dim", overflow="ellipsis", no_wrap=True, max_width=18)
    column = {name: i for i, name in enumerate(traj.names)}
    groups = [list(spec.stocks), list(spec.flows), list(spec.auxiliaries)]
    shown = [n for group in groups for n in group if n in column]
    shown += [c for c in traj.names if c not in shown]  # array elements, if any
    for name in shown[:MOST_ROWS]:
        col = traj.values[:, column[name], 0]
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
