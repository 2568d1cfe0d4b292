"""``quidpro compare MODEL --scenarios a,b``: scenarios side by side, common random numbers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from quidpro.cli.common import command, load_model
from quidpro.cli.format import (
    date_axis,
    fmt,
    number_column,
    print_table,
    report_failed,
    text_column,
    wrote,
)
from quidpro.cli.options import (
    Backend,
    BackendOpt,
    DaskOpt,
    ModelArg,
    NoStoreOpt,
    PosteriorOpt,
    PriorOpt,
    QueryOpt,
    QuietOpt,
    Sampler,
    SamplerOpt,
    SeedOpt,
    StoreOpt,
    check_suffix,
    parse_names,
    resolve_posterior,
    resolve_seed,
    running,
)
from quidpro.cli.record import record
from quidpro.errors import ConfigError
from quidpro.io.strict_json import finite_or_none, json_text

if TYPE_CHECKING:
    from quidpro.api import LoadedModel

STDOUT = "-"  # --json - writes the document to standard output


def compare(
    *,  # Typer passes every argument and option by name
    model: ModelArg,
    scenarios: Annotated[
        str, typer.Option(help="Scenarios, comma-separated; 'baseline' is the default run.")
    ],
    runs: Annotated[
        int, typer.Option("--runs", "-n", help="Members per scenario (1: no sampling).")
    ] = 200,
    seed: SeedOpt = None,
    sampler: SamplerOpt = Sampler.random,
    vars_: Annotated[
        str | None, typer.Option("--vars", help="Variables, comma-separated (default: stocks).")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(help="Times or ISO dates for the table, comma-separated (default: 4)."),
    ] = None,
    query: QueryOpt = None,
    plot: Annotated[Path | None, typer.Option(help="Bands per scenario, FILE.png.")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the comparison as JSON (- for stdout).")
    ] = None,
    backend: BackendOpt = Backend.auto,
    dask: DaskOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    quiet: QuietOpt = False,
    posterior: PosteriorOpt = None,
    prior: PriorOpt = False,
) -> None:
    """Compare scenarios of MODEL side by side, each an ensemble of the same members.

    A table at chosen times (median and 5–95% range across the ensemble), the
    probability of each query per scenario, and a plot of ensemble bands. Every
    scenario uses the same sampled members (common random numbers).

    For example:

      quidpro compare nk_russia --scenarios baseline,ceasefire_2025 --runs 200 --seed 1

      quidpro compare nk_russia --scenarios baseline,ceasefire_2025 -n 1 --json -
    """
    from quidpro.ensemble.compare import compare as compare_scenarios
    from quidpro.ensemble.compare import default_times, document

    to_stdout = json_out is not None and str(json_out) == STDOUT
    if not to_stdout:
        check_suffix(json_out, ".json", "--json")
    check_suffix(plot, ".png", "--plot")
    m = load_model(model)
    names = _scenario_names(scenarios)
    variables = parse_names(vars_) or list(m.spec.stocks) or list(m.compiled.system.visible)
    times = parse_names(at) or default_times(m.spec)
    seed = resolve_seed(seed)
    table = resolve_posterior(m, posterior, prior)
    label = f"{m.name}: {len(names)} scenarios"
    with running(m, table, backend, dask, total=runs * len(names), label=label, quiet=quiet) as run:
        results = compare_scenarios(
            m,
            names,
            runs,
            seed,
            variables=variables,
            at=times,
            queries=query or [],
            sampler=sampler.value,
            **run,
        )
    doc, bands = document(results, runs, seed, times)
    for name, (res, _) in results.items():
        n_failed = int(res.failed.sum())
        report_failed(n_failed, runs, f" of {name}")
        if n_failed:  # only then, so that a clean comparison's document keeps its keys
            doc["scenarios"][name]["n_failed"] = n_failed
    _write_json(doc, json_out)
    if plot is not None:
        _bands(m, bands, names, variables, plot, runs=runs)
    if not quiet and not to_stdout:
        print_table(value_table(doc, variables, times, names), keep=2)
        if doc["scenarios"][names[0]]["queries"]:
            print_table(query_table(doc, names), keep=1)
        wrote(plot)
    settings = {"scenarios": names, "vars": variables, "at": times, "queries": query or []}
    _record(m, doc, bands, settings, store=store, no_store=no_store)


def _record(
    m: LoadedModel,
    doc: dict[str, Any],
    bands: dict[str, Any],
    settings: dict[str, Any],
    *,
    store: Path | None,
    no_store: bool,
) -> None:
    """The comparison in the run store: its document and every scenario's bands."""
    from quidpro.io.results import scenarios_frame

    record(
        store,
        no_store,
        m,
        "compare",
        scenario=",".join(settings["scenarios"]),
        seed=doc["seed"],
        n_runs=doc["runs"],
        settings=settings,
        summary=finite_or_none(doc),
        results=scenarios_frame(bands),
    )


def _scenario_names(text: str) -> list[str]:
    names = parse_names(text)
    if not names:
        raise ConfigError("--scenarios needs at least one scenario name")
    return names


def _write_json(doc: dict[str, Any], json_out: Path | None) -> None:
    """The --json document: to the file, or to standard output for ``-``."""
    if json_out is None:
        return
    text = json_text(doc, indent=1)
    if str(json_out) == STDOUT:
        typer.echo(text)
    else:
        json_out.write_text(text)


def _bands(
    m: LoadedModel,
    bands: dict[str, Any],
    names: list[str],
    variables: list[str],
    plot: Path,
    *,
    runs: int,
) -> None:
    from quidpro.report.fan import fan_chart

    title = f"{m.spec.title or m.name}: {', '.join(names)}" + (
        f" ({runs:,} runs each)" if runs > 1 else ""
    )
    fan_chart(bands, variables[:9], plot, title=title, dates=date_axis(m))


def value_table(
    doc: dict[str, Any], variables: list[str], times: list[str], names: list[str]
) -> Table:
    """Each variable at each time, one column per scenario.

    A cell is the median and 5–95% range, or just the value when each scenario is a
    single run.
    """
    runs = doc["runs"]
    what = "median [5%–95%]" if runs > 1 else "value"
    table = Table(title=f"{what}, {runs:,} runs per scenario", title_justify="left")
    text_column(table, "variable")
    number_column(table, "at", justify="left")
    for n in names:
        number_column(table, n)
    for var in variables:
        for t in times:
            cells = []
            for n in names:
                q = doc["scenarios"][n]["table"][var][t]
                cell = fmt(q["0.5"])
                if runs > 1:
                    cell += f" [{fmt(q['0.05'])}–{fmt(q['0.95'])}]"
                cells.append(cell)
            table.add_row(var, t, *cells)
    return table


def query_table(doc: dict[str, Any], names: list[str]) -> Table:
    """Each query's probability per scenario, with its 95% interval."""
    table = Table(title="query probabilities (95% CI)", title_justify="left")
    text_column(table, "query")
    for n in names:
        number_column(table, n)
    for i, q in enumerate(doc["scenarios"][names[0]]["queries"]):
        cells = []
        for n in names:
            r = doc["scenarios"][n]["queries"][i]
            if not math.isfinite(r["probability"]):  # no member of the scenario ran to the end
                cells.append("n/a (every run non-finite)")
                continue
            cells.append(f"{r['probability']:.3f} ({r['ci'][0]:.2f}–{r['ci'][1]:.2f})")
        table.add_row(q["query"], *cells)
    return table


def register(app: typer.Typer) -> None:
    """Add ``compare`` to the ``quidpro`` command."""
    app.command("compare")(command(compare, flags={"n_runs": "--runs"}))
