"""``quidpro ensemble MODEL``: quantiles over time and query probabilities of an ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from quidpro.cli.common import command, console, err_console, load_model
from quidpro.cli.format import (
    date_axis,
    fmt,
    listing,
    query_table,
    report_failed,
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
    ScenarioOpt,
    SeedOpt,
    SetOpt,
    StoreOpt,
    check_output,
    drawn_from,
    parse_names,
    parse_quantiles,
    parse_sets,
    resolve_posterior,
    resolve_seed,
    running,
)
from quidpro.cli.record import record
from quidpro.errors import ConfigError
from quidpro.io.strict_json import finite_or_none, json_text

if TYPE_CHECKING:
    from quidpro.api import LoadedModel
    from quidpro.ensemble import Result

MOST_ROWS = 25  # of the quantile table; --json has every variable


def ensemble(
    *,  # Typer passes every argument and option by name
    model: ModelArg,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Number of members.")] = 1000,
    seed: SeedOpt = None,
    scenario: ScenarioOpt = None,
    sampler: SamplerOpt = Sampler.random,
    set_: SetOpt = None,
    query: QueryOpt = None,
    quantiles: Annotated[
        str, typer.Option(help="Quantiles to report, comma-separated.")
    ] = "0.05,0.25,0.5,0.75,0.95",
    vars_: Annotated[
        str | None,
        typer.Option("--vars", help="Variables to summarise, comma-separated (default: all)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the summary as JSON to FILE.json.")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Fan chart of the variables, FILE.png.")] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Members drawn and summarised per batch (default 4,096).")
    ] = None,
    max_memory: Annotated[
        int,
        typer.Option(
            help="MiB for every member's values (exact quantiles); beyond it quantiles "
            "stream through histograms with a stated error bound (docs/ensembles.md)."
        ),
    ] = 256,
    backend: BackendOpt = Backend.auto,
    dask: DaskOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    quiet: QuietOpt = False,
    posterior: PosteriorOpt = None,
    prior: PriorOpt = False,
) -> None:
    """Run an ensemble of MODEL: quantiles over time and the probability of each query.

    Every constant that has a distribution and is not a lever is sampled: from the
    model's posterior when it names one (--prior: from the distributions; --posterior
    FILE: from another posterior). Same --seed, same numbers,
    whatever the batch size or where batches run.

    For example:

      quidpro ensemble nk_russia --runs 1000 --seed 1 --plot fan.png

      quidpro ensemble nk_russia -n 200 --seed 1 --query "shells_shipped > 5e6 at 2025-01-01"
    """
    from quidpro.ensemble import ensemble as run_ensemble
    from quidpro.ensemble import summary

    check_output(json_out, ".json", "--json")
    check_output(plot, ".png", "--plot")
    if max_memory < 1:
        raise ConfigError(f"--max-memory must be at least 1 (MiB), got {max_memory}")
    qs = parse_quantiles(quantiles)
    m = load_model(model)
    sets = parse_sets(set_, m.spec)
    seed = resolve_seed(seed)
    table = resolve_posterior(m, posterior, prior)
    label = f"{m.name}: {runs:,} runs"
    with running(m, table, backend, dask, total=runs, label=label, quiet=quiet) as run:
        result = run_ensemble(
            m,
            runs,
            seed,
            sampler=sampler.value,
            scenario=scenario,
            sets=sets,
            variables=parse_names(vars_),
            queries=query or [],
            batch_size=batch_size,
            max_bytes=max_memory * 2**20,
            per_member=False,
            **run,
        )
    doc = summary(result, qs)
    _add_dates(m, doc)
    if result.n_failed:  # only then, so that a clean ensemble's document keeps its keys
        doc["n_failed"] = result.n_failed
    bound = quantile_error(result, qs)
    _warn(m, result, runs, bound, quiet)
    _write(m, doc, json_out, plot, scenario)
    if not quiet:
        _print_tables(m, doc, qs, scenario, sets)
        console.print(f"drawn from the {drawn_from(table)}", markup=False)
        wrote(json_out, plot)
    settings = {
        "sampler": sampler.value,
        "sets": sets,
        "queries": query or [],
        "quantiles": qs,
        "vars": parse_names(vars_),
        "backend": result.plan.backend,
        "batch_size": result.plan.batch_size,
        "dask": dask,
    }
    _record(m, result, doc, settings, bound, store=store, no_store=no_store)


def _add_dates(m: LoadedModel, doc: dict[str, Any]) -> None:
    """ISO dates beside model time in each variable of the document (with an origin)."""
    if m.spec.time.origin is None:
        return
    for name, s in doc["variables"].items():
        dates = [d.date().isoformat() for d in m.dates(s["time"])]
        doc["variables"][name] = {"time": s["time"], "dates": dates, **s}


def quantile_error(result: Result, qs: list[float]) -> dict[str, Any]:
    """The worst error bound of the reported quantiles (zero when they are exact).

    ``value`` is the largest bound relative to the spread of its variable's values
    (the 5-95% range of the estimates over time, or their largest magnitude);
    ``rank`` the largest rank bound (zero on an atom, whose value is exact).
    """
    if result.plan.exact or not result.plan.variables:
        return {"exact": True, "rank": 0.0, "value": 0.0, "pilot": result.plan.pilot}
    import numpy as np

    est, vb, rb = result.streamed(qs)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.nanmax(np.abs(est), axis=(0, 1))  # per variable
        rel = np.where(spread > 0, np.nanmax(vb, axis=(0, 1)) / spread, 0.0)
        rank = rb
    return {
        "exact": False,
        "rank": float(np.nanmax(rank)) if rank.size else 0.0,
        "value": float(np.nanmax(rel)) if rel.size else 0.0,
        "pilot": result.plan.pilot,
        "edges": result.plan.n_edges,
    }


def _warn(m: LoadedModel, result: Result, runs: int, bound: dict[str, Any], quiet: bool) -> None:
    report_failed(result.n_failed, runs)
    time = m.spec.time
    saved = time.n_steps // time.save_stride + 1
    if len(result.times) < saved:
        err_console.print(
            f"note: quantiles streamed at {len(result.times)} of the {saved} saved times, "
            "evenly spaced, the first and last included (a raised --max-memory gives exact "
            "quantiles at every time)",
            style="dim",
        )
    if not bound["exact"] and not quiet:
        err_console.print(
            f"note: quantiles streamed through histograms fixed by the first "
            f"{bound['pilot']:,} runs (more than --max-memory holds); the exact sample "
            f"quantile is within {100 * bound['rank']:.2g}% in rank of each reported one "
            "(docs/ensembles.md)",
            style="dim",
        )


def _write(
    m: LoadedModel,
    doc: dict[str, Any],
    json_out: Path | None,
    plot: Path | None,
    scenario: str | None,
) -> None:
    """The --json document and the --plot fan chart, where asked for."""
    if json_out is not None:
        json_out.write_text(json_text(doc))
    if plot is not None:
        from quidpro.report.fan import fan_chart

        shown = list(doc["variables"])[:9]
        title = f"{m.spec.title or m.name} — {doc['runs']:,} runs"
        title += f", {scenario}" if scenario else ""
        series = {scenario or "baseline": doc["variables"]}
        fan_chart(series, shown, plot, title=title, dates=date_axis(m))


def _record(
    m: LoadedModel,
    result: Result,
    doc: dict[str, Any],
    settings: dict[str, Any],
    bound: dict[str, Any],
    *,
    store: Path | None,
    no_store: bool,
) -> None:
    """The ensemble in the run store: settings, queries, failures, quantiles, error bound."""
    from quidpro.io.results import quantile_frame

    record(
        store,
        no_store,
        m,
        "ensemble",
        scenario=result.plan.scenario,
        seed=doc["seed"],
        n_runs=doc["runs"],
        settings=settings,
        summary={
            "queries": finite_or_none(doc["queries"]),
            "failed": result.n_failed,
            "quantile_error": bound,
        },
        results=quantile_frame(doc["variables"], result.plan.scenario),
    )


def _print_tables(
    m: LoadedModel,
    doc: dict[str, Any],
    qs: list[float],
    scenario: str | None,
    sets: dict[str, float],
) -> None:
    from quidpro.ensemble.sampling import uncertain

    spec = m.spec
    sampled = [n for n in uncertain(spec) if n not in sets]
    console.print(
        f"{spec.title or spec.name} [{scenario or 'baseline'}]: {doc['runs']:,} runs, "
        f"seed {doc['seed']}; sampled: {listing(sampled) or 'nothing (no distributions)'}",
        markup=False,
    )
    variables = doc["variables"]
    if variables:
        order = [n for n in spec.stocks if n in variables]
        order += [n for n in variables if n not in spec.stocks]
        console.print(_quantile_table(variables, order[:MOST_ROWS], qs))
        if len(order) > MOST_ROWS:
            console.print(f"... and {len(order) - MOST_ROWS} more variables (see --json)")
    if doc["queries"]:
        console.print(query_table("queries", doc["queries"]))


def _quantile_table(variables: dict[str, Any], names: list[str], qs: list[float]) -> Table:
    """Each variable's quantiles at the last saved time."""
    from quidpro.ensemble import quantile_key

    t_end = next(iter(variables.values()))["time"][-1]
    table = Table(title=f"quantiles at the end (time {t_end:g})", title_justify="left")
    table.add_column("variable")
    for q in qs:
        table.add_column(f"{q:g}", justify="right")
    for name in names:
        qd = variables[name]["quantiles"]
        table.add_row(name, *[fmt(qd[quantile_key(q)][-1]) for q in qs])
    return table


def register(app: typer.Typer) -> None:
    """Add ``ensemble`` to the ``quidpro`` command."""
    flags = {"n_runs": "--runs", "batch_size": "--batch-size", "max_bytes": "--max-memory"}
    app.command("ensemble")(command(ensemble, flags=flags))
