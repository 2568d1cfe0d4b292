"""The ``quidpro`` command line.

Exit codes: 0 success; 1 a model or data error (``file:line:col: message`` on
stderr, no traceback); 2 a usage error (unknown flag, scenario or constant).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from quidpro.cli.common import command, console, parse_sets
from quidpro.errors import ConfigError, SimulationError

app = typer.Typer(
    name="quidpro",
    help=(
        "Run, check and analyse system-dynamics models of geopolitical analyses.\n\n"
        "MODEL is a model file (YAML format v1, or XMILE) or the name of a built-in "
        "model (see `quidpro models`).\n\n"
        "Examples:\n\n"
        "  quidpro run nk_russia --plot run.png\n\n"
        "  quidpro run nk_russia --scenario ceasefire_2025 --out run.csv\n\n"
        "  quidpro run my_model.yaml --set growth_rate=0.2 --method rk4\n\n"
        "  quidpro check my_model.yaml"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Method(StrEnum):
    euler = "euler"
    rk4 = "rk4"


ModelArg = Annotated[
    str, typer.Argument(help="A model file (.yaml, .xmile) or a built-in name.", metavar="MODEL")
]


@app.command()
@command
def run(
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
    store: Annotated[
        Path | None, typer.Option(help="Run store file (default: $QUIDPRO_STORE or user data).")
    ] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the run.")] = False,
) -> None:
    """Simulate MODEL once and summarise it; optionally write results and a plot."""
    import quidpro
    from quidpro.io.results import write_table

    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--out must end in .csv or .parquet, got {out.name!r}")
    if plot is not None and plot.suffix.lower() != ".png":
        raise ConfigError(f"--plot must end in .png, got {plot.name!r}")
    m = quidpro.load(model)
    df = m.run(
        scenario=scenario,
        set=parse_sets(set_),
        method=method.value if method else None,
        dt=dt,
        save_every=save_every,
    )
    if out is not None:
        write_table(df, out)
    if plot is not None:
        from quidpro.report.plots import plot_run

        shown = _plot_vars(vars_, list(df.columns)) or list(m.spec.stocks)[:16]
        title = (m.spec.title or m.name) + (f" — {scenario}" if scenario else "")
        plot_run(
            df,
            shown or list(df.columns)[:16],
            plot,
            title,
            m.spec.time.units or "time",
            spec=m.spec,
        )
    if not quiet:
        _summary(m, df, scenario)
        for path in (out, plot):
            if path is not None:
                console.print(f"wrote {path}")
    if not no_store:
        from quidpro.cli.ensemble import record_run

        settings = {"sets": parse_sets(set_), "method": method, "dt": dt, "save_every": save_every}
        record_run(store, m, scenario, settings, df)


def _plot_vars(text: str | None, columns: list[str]) -> list[str]:
    """The --vars list, each name checked against the run's columns."""
    if text is None:
        return []
    names = [v.strip() for v in text.split(",") if v.strip()]
    for v in names:
        if v not in columns:
            raise ConfigError(f"--vars: {v!r} is not a variable of this model")
    return names


def _summary(m: object, df: object, scenario: str | None) -> None:
    """Stocks first, then flows and auxiliaries: start, range and end of each."""
    import pandas as pd

    from quidpro.api import LoadedModel

    assert isinstance(m, LoadedModel)
    assert isinstance(df, pd.DataFrame)
    spec = m.spec
    t = spec.time
    first, last = f"{t.start:g}", f"{df.index[-1]:g}"
    if "dates" in df.attrs:
        first, last = (f"{d:%Y-%m-%d}" for d in (df.attrs["dates"][0], df.attrs["dates"][-1]))
    title = f"{spec.title or spec.name}  [{scenario or 'baseline'}, {t.method}, dt={t.dt:g}]"
    table = Table(title=escape(title), title_justify="left")  # "[baseline, ...]" is text
    table.add_column("variable", no_wrap=True)
    table.add_column(first, justify="right", no_wrap=True, min_width=9)
    table.add_column("min", justify="right", no_wrap=True, min_width=9)
    table.add_column("max", justify="right", no_wrap=True, min_width=9)
    table.add_column(last, justify="right", no_wrap=True, min_width=9)
    table.add_column("units", style="dim", overflow="ellipsis", no_wrap=True, max_width=18)
    groups = [list(spec.stocks), list(spec.flows), list(spec.auxiliaries)]
    shown = [n for group in groups for n in group if n in df.columns]
    shown += [c for c in df.columns if c not in shown]  # array elements, if any
    for name in shown[:30]:
        col = df[name].to_numpy()
        units = getattr(spec.stocks.get(name) or spec.variables.get(name), "units", None)
        end_of_group = len(shown) > 8 and any(g and name == g[-1] for g in groups)
        table.add_row(
            escape(name),  # an array element "x[a]" is a name, not markup
            _fmt(col[0]),
            _fmt(np.min(col)),
            _fmt(np.max(col)),
            _fmt(col[-1]),
            units or "",
            end_section=end_of_group,
        )
    console.print(table)
    if len(shown) > 30:
        console.print(f"... and {len(shown) - 30} more variables (use --out to see all)")


def _fmt(x: float) -> str:
    from quidpro.report.numbers import fmt_number  # the one number policy

    return fmt_number(x)


@app.command()
@command
def check(model: ModelArg) -> None:
    """Check MODEL without writing anything: syntax, names, loops, units of time, and a
    trial run of every scenario (a non-finite value is an error)."""
    import quidpro

    m = quidpro.load(model)
    for scenario in [None, *m.scenarios]:
        try:
            m.run(scenario=scenario)
        except SimulationError as exc:
            if scenario is None:
                raise
            raise SimulationError(
                f"{exc.message} in scenario {scenario!r}", exc.variable, exc.time, exc.loc
            ) from None
    spec = m.spec
    console.print(
        f"{spec.name}: ok — {len(spec.stocks)} stocks, {len(spec.flows)} flows, "
        f"{len(spec.auxiliaries)} auxiliaries, {len(spec.constants)} constants, "
        f"{len(spec.lookups)} lookups, {len(spec.scenarios)} scenarios"
    )


@app.command()
@command
def models() -> None:
    """List the built-in models."""
    from quidpro.io.load import builtin_models, read_model

    table = Table(title="built-in models", title_justify="left")
    table.add_column("name")
    table.add_column("title")
    table.add_column("scenarios", style="dim")
    for name, path in sorted(builtin_models().items()):
        spec = read_model(path)
        table.add_row(name, spec.title or "", ", ".join(spec.scenarios))
    console.print(table)


@app.command()
@command
def describe(
    model: ModelArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write the description to FILE.md instead of the terminal."
        ),
    ] = None,
) -> None:
    """Describe MODEL for a reader: stocks, flows, auxiliaries, constants with units and
    sources, scenarios, and the claims table with the model links behind each claim."""
    import quidpro
    from quidpro.report.describe import describe as describe_model

    text = describe_model(quidpro.load(model).spec)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
        return
    from rich.markdown import Markdown

    if console.is_terminal:
        console.print(Markdown(text))
    else:
        print(text)  # noqa: T201 - plain Markdown when piped


from quidpro.cli import ensemble as _ensemble  # noqa: E402
from quidpro.cli import store as _store  # noqa: E402

_ensemble.register(app)
_store.register(app)

from quidpro.cli import convert as _convert  # noqa: E402

_convert.register(app)

from quidpro.cli import brief as _brief  # noqa: E402
from quidpro.cli import serve as _serve  # noqa: E402

_brief.register(app)
_serve.register(app)


def main() -> None:
    app()
