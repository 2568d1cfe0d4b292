"""``quidpro ensemble``, ``compare`` and ``sensitivity``: uncertainty from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from quidpro.cli.common import command, console, err_console, parse_sets
from quidpro.errors import ConfigError


class Sampler(StrEnum):
    random = "random"
    lhs = "lhs"
    sobol = "sobol"


class Backend(StrEnum):
    auto = "auto"
    numpy = "numpy"
    jit = "jit"


ModelArg = Annotated[
    str, typer.Argument(help="A model file (.yaml, .xmile) or a built-in name.", metavar="MODEL")
]
SeedOpt = Annotated[
    int | None, typer.Option(help="Random seed (default: a fresh one, reported and stored).")
]
ScenarioOpt = Annotated[
    str | None, typer.Option("--scenario", "-s", help="A scenario of the model.")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Fix a constant: NAME=VALUE (repeatable; it is not sampled)."),
]
QueryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--query", help='A comparison at a time, e.g. "x > 100 at 2025-06-01" (repeatable).'
    ),
]
SamplerOpt = Annotated[Sampler, typer.Option(help="random, lhs (Latin hypercube) or sobol.")]
BackendOpt = Annotated[Backend, typer.Option(help="Kernel: auto, numpy or jit (numba).")]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        help="Run batches on a Dask cluster: a scheduler address (tcp://host:8786) or 'local'."
    ),
]
StoreOpt = Annotated[
    Path | None,
    typer.Option(help="Run store file (default: $QUIDPRO_STORE or the user data folder)."),
]
NoStoreOpt = Annotated[bool, typer.Option("--no-store", help="Do not record in the run store.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No tables or progress bar.")]


def register(app: typer.Typer) -> None:
    """Add ``ensemble``, ``compare`` and ``sensitivity`` to the ``quidpro`` command."""
    app.command("ensemble")(command(ensemble_cmd))
    app.command("compare")(command(compare_cmd))
    from quidpro.cli.sensitivity import sensitivity_cmd

    app.command("sensitivity")(command(sensitivity_cmd))


# ---------------------------------------------------------------- shared helpers


def _load(model: str) -> Any:
    import quidpro

    return quidpro.load(model)


def _model_text(m: Any) -> str:
    return Path(m.spec.file).read_text(encoding="utf-8-sig")


@contextmanager
def _executor(m: Any, dask: str | None) -> Iterator[Any]:
    """None (run here) or a connected Dask executor, closed on exit."""
    if dask is None:
        yield None
        return
    from quidpro.ensemble.distributed import DaskExecutor

    with DaskExecutor(dask, _model_text(m), m.spec.file) as ex:
        yield ex


@contextmanager
def _progress(total: int, label: str, quiet: bool) -> Iterator[Callable[[int], None]]:
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=quiet,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _seed(seed: int | None) -> int:
    from quidpro.ensemble import new_seed

    return new_seed() if seed is None else seed


def _quantiles(text: str) -> list[float]:
    try:
        qs = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--quantiles takes numbers like 0.05,0.5,0.95, got {text!r}") from None
    if not qs or any(not 0.0 <= q <= 1.0 for q in qs):
        raise ConfigError(f"--quantiles must be between 0 and 1, got {text!r}")
    return sorted(set(qs))


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [v.strip() for v in text.split(",") if v.strip()]


def _check_suffix(path: Path | None, suffix: str, flag: str) -> None:
    if path is not None and path.suffix.lower() != suffix:
        raise ConfigError(f"{flag} must end in {suffix}, got {path.name!r}")


def _dates(m: Any) -> Callable[[Any], Any] | None:
    return m.dates if m.spec.time.origin is not None else None


def _record(
    store: Path | None,
    no_store: bool,
    m: Any,
    kind: str,
    *,
    scenario: str | None,
    seed: int | None,
    n_runs: int | None,
    settings: dict[str, Any],
    summary: dict[str, Any],
    results: Any = None,
) -> None:
    if no_store:
        return
    from quidpro.io.store import RunRecord, content_hash

    rec = RunRecord(
        kind, m.name, content_hash(_model_text(m)), scenario, seed, n_runs, settings, summary
    )
    run_id = _save(store, rec, results)
    if run_id is not None:
        err_console.print(f"stored as run {run_id}", style="dim")


def _save(store: Path | None, rec: Any, results: Any) -> str | None:
    """Add ``rec`` to the run store. The results are already written and shown, so a
    default store that cannot be written costs a warning, not the command; a store the
    user named with --store must work."""
    import duckdb

    from quidpro.io.store import Store

    try:
        run_id: str = Store(store).add(rec, results)
    except (OSError, duckdb.Error) as exc:
        if store is not None:
            raise ConfigError(f"--store {store}: cannot write the run store ({exc})") from None
        err_console.print(
            f"quidpro: warning: the run was not recorded in the run store ({exc}); set "
            "QUIDPRO_STORE or --store to a writable file, or pass --no-store",
            markup=False,
        )
        return None
    return run_id


def record_run(store: Path | None, m: Any, scenario: str | None, settings: Any, df: Any) -> None:
    """Record one ``quidpro run`` (its whole table) in the run store."""
    from quidpro.io.store import RunRecord, content_hash

    end = {c: float(df[c].iloc[-1]) for c in list(df.columns)[:50]}
    rec = RunRecord(
        "run", m.name, content_hash(_model_text(m)), scenario, None, 1, settings, {"end": end}
    )
    _save(store, rec, df.reset_index())


def _long_table(variables: dict[str, Any], scenario: str | None = None) -> Any:
    import pandas as pd

    rows = []
    for name, s in variables.items():
        for q, series in s["quantiles"].items():
            for t, v in zip(s["time"], series, strict=True):
                rows.append((scenario or "baseline", name, t, float(q), v))
    return pd.DataFrame(rows, columns=["scenario", "variable", "time", "quantile", "value"])


def _listing(names: list[str], most: int = 6) -> str:
    if len(names) <= most:
        return ", ".join(names)
    return f"{len(names)} constants ({', '.join(names[:most])}, ...)"


def _fmt(x: float) -> str:
    from quidpro.report.numbers import fmt_number  # the one number policy

    return fmt_number(x)


def _report_failed(n_failed: int, n: int, what: str = "") -> None:
    if n_failed:
        err_console.print(
            f"warning: {n_failed} of {n} runs{what} went non-finite; they are left out of "
            "the quantiles and probabilities",
            style="yellow",
        )


def _query_table(title: str, queries: list[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("query")
    table.add_column("probability", justify="right")
    table.add_column("95% CI", justify="right")
    for q in queries:
        lo, hi = q["ci"]
        table.add_row(escape(q["query"]), f"{q['probability']:.3f}", f"{lo:.3f} – {hi:.3f}")
    return table


# ---------------------------------------------------------------- ensemble


def ensemble_cmd(
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
        int | None, typer.Option(help="Members per batch (default: up to 8,192, within ~128 MiB).")
    ] = None,
    max_memory: Annotated[
        int, typer.Option(help="MiB for the gathered values; beyond it saved steps thin out.")
    ] = 1024,
    backend: BackendOpt = Backend.auto,
    dask: DaskOpt = None,
    store: StoreOpt = None,
    no_store: NoStoreOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run an ensemble of MODEL, sampling every constant that has a distribution;
    report quantiles over time and the probability of each query.

    Same --seed, same numbers, whatever the batch size or where batches run.
    """
    from quidpro.ensemble import ensemble, summary
    from quidpro.ensemble.sampling import uncertain

    _check_suffix(json_out, ".json", "--json")
    _check_suffix(plot, ".png", "--plot")
    qs = _quantiles(quantiles)
    m = _load(model)
    sets = parse_sets(set_)
    seed = _seed(seed)
    with (
        _executor(m, dask) as executor,
        _progress(runs, f"{m.name}: {runs:,} runs", quiet) as advance,
    ):
        result = ensemble(
            m,
            runs,
            seed,
            sampler=sampler.value,
            scenario=scenario,
            sets=sets,
            variables=_names(vars_),
            queries=query or [],
            batch_size=batch_size,
            backend=backend.value,
            executor=executor,
            progress=advance,
            max_bytes=max_memory * 2**20,
        )
    doc = summary(result, qs)
    n_failed = int(result.failed.sum())
    _report_failed(n_failed, runs)
    if len(result.times) < len(result.plan.times):
        err_console.print(
            f"note: quantiles kept at {len(result.times)} of {len(result.plan.times)} saved "
            "times to fit --max-memory (use --vars to keep more)",
            style="dim",
        )
    if json_out is not None:
        json_out.write_text(json.dumps(doc))
    if plot is not None:
        from quidpro.report.fan import fan_chart

        shown = list(doc["variables"])[:9]
        title = f"{m.spec.title or m.name} — {runs:,} runs" + (f", {scenario}" if scenario else "")
        fan_chart({scenario or "baseline": doc["variables"]}, shown, plot, title, _dates(m))
    if not quiet:
        sampled = [n for n in uncertain(m.spec) if n not in sets]
        _ensemble_tables(m, doc, qs, scenario, sampled)
        for path in (json_out, plot):
            if path is not None:
                console.print(f"wrote {path}")
    settings = {
        "sampler": sampler.value,
        "sets": sets,
        "queries": query or [],
        "quantiles": qs,
        "vars": _names(vars_),
        "backend": result.plan.backend,
        "batch_size": result.plan.batch_size,
        "dask": dask,
    }
    _record(
        store,
        no_store,
        m,
        "ensemble",
        scenario=scenario,
        seed=seed,
        n_runs=runs,
        settings=settings,
        summary={"queries": doc["queries"], "failed": n_failed},
        results=_long_table(doc["variables"], scenario),
    )


def _ensemble_tables(
    m: Any, doc: dict[str, Any], qs: list[float], scenario: str | None, sampled: list[str]
) -> None:
    from quidpro.ensemble import quantile_key

    spec = m.spec
    console.print(
        f"{spec.title or spec.name} [{scenario or 'baseline'}]: {doc['runs']:,} runs, "
        f"seed {doc['seed']}; sampled: {_listing(sampled) or 'nothing (no distributions)'}",
        markup=False,
    )
    variables = doc["variables"]
    if variables:
        first = next(iter(variables.values()))
        t_end = first["time"][-1]
        table = Table(title=f"quantiles at the end (time {t_end:g})", title_justify="left")
        table.add_column("variable")
        for q in qs:
            table.add_column(f"{q:g}", justify="right")
        order = [n for n in spec.stocks if n in variables] + [
            n for n in variables if n not in spec.stocks
        ]
        for name in order[:25]:
            qd = variables[name]["quantiles"]
            table.add_row(name, *[_fmt(qd[quantile_key(q)][-1]) for q in qs])
        console.print(table)
        if len(order) > 25:
            console.print(f"... and {len(order) - 25} more variables (see --json)")
    if doc["queries"]:
        console.print(_query_table("queries", doc["queries"]))


# ---------------------------------------------------------------- compare


def compare_cmd(
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
) -> None:
    """Compare scenarios of MODEL side by side: a table at chosen times (median and
    5–95% range across the ensemble), the probability of each query per scenario, and a
    plot of ensemble bands. Every scenario uses the same sampled members."""
    from quidpro.ensemble import summary
    from quidpro.ensemble.compare import compare, default_times

    if json_out is not None and str(json_out) != "-":
        _check_suffix(json_out, ".json", "--json")
    _check_suffix(plot, ".png", "--plot")
    m = _load(model)
    names = [s.strip() for s in scenarios.split(",") if s.strip()]
    if not names:
        raise ConfigError("--scenarios needs at least one scenario name")
    variables = _names(vars_) or list(m.spec.stocks) or list(m.compiled.system.visible)
    times = _names(at) or default_times(m.spec)
    seed = _seed(seed)
    with (
        _executor(m, dask) as executor,
        _progress(runs * len(names), f"{m.name}: {len(names)} scenarios", quiet) as advance,
    ):
        results = compare(
            m,
            names,
            runs,
            seed,
            variables=variables,
            at=times,
            queries=query or [],
            sampler=sampler.value,
            backend=backend.value,
            executor=executor,
            progress=advance,
        )
    doc: dict[str, Any] = {"runs": runs, "seed": seed, "at": times, "scenarios": {}}
    series: dict[str, Any] = {}
    for name, (res, table) in results.items():
        s = summary(res, (0.05, 0.25, 0.5, 0.75, 0.95))
        series[name] = s["variables"]
        doc["scenarios"][name] = {"table": table, "queries": s["queries"]}
        _report_failed(int(res.failed.sum()), runs, f" of {name}")
    if json_out is not None:
        text = json.dumps(doc, indent=1)
        if str(json_out) == "-":
            typer.echo(text)
        else:
            json_out.write_text(text)
    if plot is not None:
        from quidpro.report.fan import fan_chart

        title = f"{m.spec.title or m.name}: {', '.join(names)}" + (
            f" ({runs:,} runs each)" if runs > 1 else ""
        )
        fan_chart(series, variables[:9], plot, title, _dates(m))
    if not quiet and str(json_out) != "-":
        _compare_tables(doc, variables, times, names, runs)
        if plot is not None:
            console.print(f"wrote {plot}")
    _record(
        store,
        no_store,
        m,
        "compare",
        scenario=",".join(names),
        seed=seed,
        n_runs=runs,
        settings={"scenarios": names, "vars": variables, "at": times, "queries": query or []},
        summary=doc,
        results=_compare_frame(series),
    )


def _compare_frame(series: dict[str, Any]) -> Any:
    import pandas as pd

    return pd.concat([_long_table(v, s) for s, v in series.items()], ignore_index=True)


def _compare_tables(
    doc: dict[str, Any], variables: list[str], times: list[str], names: list[str], runs: int
) -> None:
    what = "median [5%–95%]" if runs > 1 else "value"
    table = Table(title=f"{what}, {runs:,} runs per scenario", title_justify="left")
    table.add_column("variable")
    table.add_column("at")
    for n in names:
        table.add_column(n, justify="right")
    for var in variables:
        for t in times:
            cells = []
            for n in names:
                q = doc["scenarios"][n]["table"][var][t]
                cell = _fmt(q["0.5"])
                if runs > 1:
                    cell += escape(f" [{_fmt(q['0.05'])}–{_fmt(q['0.95'])}]")
                cells.append(cell)
            table.add_row(escape(var), escape(t), *cells)
    console.print(table)
    queries = doc["scenarios"][names[0]]["queries"]
    if queries:
        qt = Table(title="query probabilities (95% CI)", title_justify="left")
        qt.add_column("query")
        for n in names:
            qt.add_column(n, justify="right")
        for i, q in enumerate(queries):
            cells = []
            for n in names:
                r = doc["scenarios"][n]["queries"][i]
                cells.append(f"{r['probability']:.3f} ({r['ci'][0]:.2f}–{r['ci'][1]:.2f})")
            qt.add_row(escape(q["query"]), *cells)
        console.print(qt)
