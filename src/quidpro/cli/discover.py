"""``quidpro discover``: which assumptions make a condition come true (PRIM)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from quidpro.cli.common import command, console
from quidpro.cli.format import report_failed
from quidpro.cli.options import check_output, parse_sets, seed_option
from quidpro.errors import ConfigError

HELP = """Scenario discovery: the ranges of MODEL's uncertain constants (those with a
distribution; never scenario levers) in which a condition holds, found by PRIM.

Examples:

  quidpro discover nk_russia --where "partnership_intensity < 0.3 at 2027-01-01"

  quidpro discover nk_russia --where "shell_deliveries < 50000 at 2027-01-01" \\
      --runs 4000 --json collapse.json --plot collapse.png

The box reports each restricted constant's range, its coverage (the share of all the
members where the condition holds that fall inside the box) and density (the share
of the box's members where it holds); --json adds PRIM's peeling trajectory.
"""


@command
def discover_cmd(
    model: Annotated[str, typer.Argument(help="A model file or a built-in name.", metavar="MODEL")],
    where: Annotated[
        str,
        typer.Option(
            help='The condition, "EXPR at DATE" (a comparison), e.g. "x < 1 at 2027-01-01".'
        ),
    ],
    *,
    runs: Annotated[int, typer.Option(help="Ensemble members.")] = 2000,
    density: Annotated[
        float,
        typer.Option(help="Report the largest box along the peeling whose density reaches this."),
    ] = 0.9,
    seed: Annotated[int, seed_option("Seed of the sample.")] = 0,
    scenario: Annotated[
        str | None, typer.Option("--scenario", "-s", help="A scenario held for every member.")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Hold a constant: NAME=VALUE (repeatable).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write FILE.json.")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Peeling trajectory and the box, FILE.png.")
    ] = None,
) -> None:
    """Scenario discovery with PRIM."""
    import quidpro
    from quidpro.analysis.discover import as_json, discover

    check_output(json_out, ".json", "--json")
    check_output(plot, ".png", "--plot")
    if not 0 < density <= 1:  # NaN fails too
        raise ConfigError(f"--density must be above 0 and at most 1, got {density:g}")
    m = quidpro.load(model)
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"{m.name}: ensemble", total=runs)
        d = discover(
            m,
            where,
            runs=runs,
            seed=seed,
            scenario=scenario,
            sets=parse_sets(set_),
            min_density=density,
            progress=lambda k: bar.advance(task, k),
        )
    report_failed(d.failed, runs)
    console.print(
        f"{where}: holds in {d.share:.1%} of {runs - d.failed} members; "
        f"box coverage {d.coverage:.0%}, density {d.density:.0%}, mass {d.mass:.0%}"
    )
    table = Table()
    for col in ("constant", "box", "sampled range"):
        table.add_column(col)
    for name, (lo, hi) in d.box.items():
        s_lo, s_hi = d.ranges[name]
        table.add_row(name, f"{lo:.4g} .. {hi:.4g}", f"{s_lo:.4g} .. {s_hi:.4g}")
    console.print(table if d.box else "no box: the condition holds everywhere or nowhere")
    if json_out is not None:
        json_out.write_text(json.dumps(as_json(d), indent=1))
        console.print(f"wrote {json_out}")
    if plot is not None:
        from quidpro.report.discover_plot import plot_discovery

        plot_discovery(d, plot)
        console.print(f"wrote {plot}")


def register(app: typer.Typer) -> None:
    """Add ``quidpro discover`` to the command line."""
    app.command("discover", help=HELP)(discover_cmd)


__all__ = ["register"]
