"""``quidpro sensitivity MODEL``: which uncertain constants drive an output (SALib)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from quidpro.cli.common import command, console, load_model
from quidpro.cli.format import wrote
from quidpro.cli.options import (
    Backend,
    BackendOpt,
    DaskOpt,
    ModelArg,
    NoStoreOpt,
    PosteriorOpt,
    PriorOpt,
    QuietOpt,
    ScenarioOpt,
    SeedOpt,
    SetOpt,
    StoreOpt,
    check_suffix,
    parse_sets,
    resolve_posterior,
    resolve_seed,
    running,
)
from quidpro.cli.record import record

MOST_ROWS = 25  # of the indices table; --json has every constant


class SaMethod(StrEnum):
    """The analyses SALib runs for ``quidpro sensitivity``."""

    sobol = "sobol"
    morris = "morris"


def sensitivity(
    *,  # Typer passes every argument and option by name
    model: ModelArg,
    output: Annotated[str, typer.Option(help="The variable (or expression) to explain.")],
    at: Annotated[str, typer.Option(help="The time or ISO date at which to read it.")],
    method: Annotated[SaMethod, typer.Option(help="sobol (S1, ST) or morris (mu*, sigma).")] = (
        SaMethod.sobol
    ),
    samples: Annotated[
        int, typer.Option(help="SALib's base N: Sobol runs N·(k+2), Morris N·(k+1).")
    ] = 512,
    seed: SeedOpt = None,
    scenario: ScenarioOpt = None,
    set_: SetOpt = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the indices as JSON to FILE.json.")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Ranked bar chart, FILE.png.")] = None,
    backend: BackendOpt = Backend.auto,
    dask: DaskOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    quiet: QuietOpt = False,
    posterior: PosteriorOpt = None,
    prior: PriorOpt = False,
) -> None:
    """Global sensitivity of OUTPUT at a time to the uncertain constants (SALib).

    Every constant with a distribution or range varies between bounds: the range, else
    the distribution's 1%–99% quantiles.

    For example:

      quidpro sensitivity nk_russia --output shells_shipped --at 2025-01-01 --seed 1

      quidpro sensitivity nk_russia --output shells_shipped --at 2025-01-01 --method morris
    """
    from quidpro.analysis.sensitivity import design_size, json_document
    from quidpro.analysis.sensitivity import sensitivity as analyse
    from quidpro.io.results import indices_frame

    check_suffix(json_out, ".json", "--json")
    check_suffix(plot, ".png", "--plot")
    m = load_model(model)
    sets = parse_sets(set_, m.spec)
    seed = resolve_seed(seed)
    table = resolve_posterior(m, posterior, prior)
    n_total = design_size(m.spec, method.value, samples, seed, scenario=scenario, sets=sets)
    label = f"{m.name}: {method.value}"
    with running(m, table, backend, dask, total=n_total, label=label, quiet=quiet) as run:
        doc = analyse(
            m,
            method.value,
            output,
            at,
            samples,
            seed,
            scenario=scenario,
            sets=sets,
            **run,
        )
    if json_out is not None:
        json_out.write_text(json.dumps(json_document(doc), indent=1))
    if plot is not None:
        from quidpro.report.fan import sensitivity_bars

        sensitivity_bars(doc, plot)
    if not quiet:
        _print_indices(doc)
        wrote(json_out, plot)
    record(
        store,
        no_store,
        m,
        "sensitivity",
        scenario=scenario,
        seed=seed,
        n_runs=doc["runs"],
        settings={"method": method.value, "output": output, "at": at, "samples": samples},
        summary=doc,
        results=indices_frame(doc),
    )


def _print_indices(doc: dict[str, Any]) -> None:
    console.print(indices_table(doc))
    n_more = len(doc["S1" if doc["method"] == "sobol" else "mu_star"]) - MOST_ROWS
    if n_more > 0:
        console.print(f"... and {n_more} less influential constants (see --json)")
    # Negative Sobol estimates (issue 8): explained where they are shown.
    from quidpro.analysis.sensitivity import negative_note

    note = negative_note(doc)
    if note is not None:
        console.print(note)


def indices_table(doc: dict[str, Any]) -> Table:
    """The most influential constants first, each index with its confidence half-width.

    Sobol' gives S1 and ST, Morris mu* and sigma.
    """
    sobol = doc["method"] == "sobol"
    main = "ST" if sobol else "mu_star"
    title = (
        f"{doc['method']} sensitivity of {doc['output']} at {doc['at']} "
        f"({doc['runs']:,} runs, seed {doc['seed']})"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("constant")
    for col in ("S1", "±", "ST", "± ") if sobol else ("mu*", "±", "sigma"):
        table.add_column(col, justify="right")
    keys = ("S1", "S1_conf", "ST", "ST_conf") if sobol else ("mu_star", "mu_star_conf", "sigma")
    ranked = sorted(doc[main], key=lambda k: -doc[main][k])
    for n in ranked[:MOST_ROWS]:
        table.add_row(n, *[f"{doc[k][n]:.3g}" for k in keys])
    return table


def register(app: typer.Typer) -> None:
    """Add ``sensitivity`` to the ``quidpro`` command."""
    app.command("sensitivity")(command(sensitivity, flags={"samples": "--samples"}))
