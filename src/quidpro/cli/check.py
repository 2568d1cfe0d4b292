"""``quidpro check MODEL`` and ``quidpro models``: is a model sound, which are built in."""

from __future__ import annotations

import typer
from rich.table import Table

from quidpro.cli.common import command, console, err_console, load_model
from quidpro.cli.options import ModelArg
from quidpro.errors import SimulationError
from quidpro.model.check import unit_errors


def check(model: ModelArg) -> None:
    """Check MODEL without writing anything, and trial-run every scenario.

    The checks: syntax, names, loops, units (sums of like units, a flow in its stock's
    units per time unit, function and lookup arguments, unit names), and a run of every
    scenario (a non-finite value is an error). Each unit error is printed at its line.

    For example:

      quidpro check my_model.yaml
    """
    m = load_model(model)
    problems = unit_errors(m.spec)
    for problem in problems:
        err_console.print(str(problem), markup=False)
    if problems:
        raise typer.Exit(1)
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


def register(app: typer.Typer) -> None:
    """Add ``check`` and ``models`` to the ``quidpro`` command."""
    app.command("check")(command(check))
    app.command("models")(command(models))
