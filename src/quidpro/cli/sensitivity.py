"""``quidpro sensitivity``: which uncertain constants drive an output (SALib)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from quidpro.cli.common import console, parse_sets
from quidpro.cli.ensemble import (
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
    _check_suffix,
    _executor,
    _load,
    _progress,
    _record,
    _seed,
    resolve_posterior,
)


class SaMethod(StrEnum):
    sobol = "sobol"
    morris = "morris"


def sensitivity_cmd(
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
    """Global sensitivity of OUTPUT at a time to every constant with a distribution or
    range (bounds: the range, else the distribution's 1%–99% quantiles), with SALib."""
    from quidpro.analysis.sensitivity import design, problem, sensitivity

    _check_suffix(json_out, ".json", "--json")
    _check_suffix(plot, ".png", "--plot")
    m = _load(model)
    sets = parse_sets(set_, m.spec)
    seed = _seed(seed)
    fixed = set(sets)
    if scenario not in (None, "", "baseline") and scenario in m.spec.scenarios:
        fixed |= set(m.spec.scenarios[scenario].set)
    table = resolve_posterior(m, posterior, prior)
    n_total = len(design(problem(m.spec, fixed, table), method.value, samples, seed))
    with (
        _executor(m, dask) as executor,
        _progress(n_total, f"{m.name}: {method.value}", quiet) as advance,
    ):
        doc = sensitivity(
            m,
            method.value,
            output,
            at,
            samples,
            seed,
            scenario=scenario,
            sets=sets,
            backend=backend.value,
            executor=executor,
            progress=advance,
            posterior=table,
        )
    if json_out is not None:
        json_out.write_text(json.dumps(contract_json(doc), indent=1))
    if plot is not None:
        from quidpro.report.fan import sensitivity_bars

        sensitivity_bars(doc, plot)
    if not quiet:
        _sensitivity_table(doc)
        for path in (json_out, plot):
            if path is not None:
                console.print(f"wrote {path}")
    _record(
        store,
        no_store,
        m,
        "sensitivity",
        scenario=scenario,
        seed=seed,
        n_runs=doc["runs"],
        settings={"method": method.value, "output": output, "at": at, "samples": samples},
        summary=doc,
        results=_sensitivity_frame(doc),
    )


# DESIGN.md fixes the --json document: these keys and no others (the run store keeps
# the seed, sample size and Morris's mu_star_conf).
CONTRACT_KEYS = {
    "sobol": ("method", "output", "at", "S1", "ST", "S1_conf", "ST_conf"),
    "morris": ("method", "output", "at", "mu_star", "sigma"),
}


def contract_json(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``--json`` document of DESIGN.md, from the full analysis."""
    return {k: doc[k] for k in CONTRACT_KEYS[doc["method"]]}


def _sensitivity_frame(doc: dict[str, Any]) -> Any:
    import pandas as pd

    keys = [k for k in ("S1", "ST", "S1_conf", "ST_conf", "mu_star", "sigma") if k in doc]
    first = doc[keys[0]]
    columns: dict[str, list[Any]] = {"constant": list(first)}
    columns.update({k: list(doc[k].values()) for k in keys})
    return pd.DataFrame(columns)


def _sensitivity_table(doc: dict[str, Any]) -> None:
    main = "ST" if doc["method"] == "sobol" else "mu_star"
    title = (
        f"{doc['method']} sensitivity of {doc['output']} at {doc['at']} "
        f"({doc['runs']:,} runs, seed {doc['seed']})"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("constant")
    if doc["method"] == "sobol":
        for col in ("S1", "±", "ST", "± "):
            table.add_column(col, justify="right")
    else:
        for col in ("mu*", "±", "sigma"):
            table.add_column(col, justify="right")
    ranked = sorted(doc[main], key=lambda k: -doc[main][k])
    for n in ranked[:25]:
        if doc["method"] == "sobol":
            cells = [doc["S1"][n], doc["S1_conf"][n], doc["ST"][n], doc["ST_conf"][n]]
        else:
            cells = [doc["mu_star"][n], doc["mu_star_conf"][n], doc["sigma"][n]]
        table.add_row(n, *[f"{c:.3g}" for c in cells])
    console.print(table)
    if len(ranked) > 25:
        console.print(f"... and {len(ranked) - 25} less influential constants (see --json)")
    # Negative Sobol estimates (issue 8): explained where they are shown.
    from quidpro.analysis.sensitivity import negative_note

    note = negative_note(doc)
    if note is not None:
        console.print(note)
