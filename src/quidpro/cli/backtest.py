"""``quidpro backtest``: calibrate before each cutoff, forecast and score what came after."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from quidpro.cli.common import command, console
from quidpro.cli.format import number_column, print_table, stage_progress, text_column
from quidpro.cli.options import (
    CalMethod,
    EvidenceOpt,
    ModelArg,
    load_evidence,
    memory_guard,
    parse_cutoff,
    seed_option,
)
from quidpro.errors import ConfigError
from quidpro.lang.display import plain
from quidpro.report.numbers import fmt_column, fmt_number

#: Library parameters and the flags that set them (their names in error messages).
FLAGS = {
    "runs": "--runs",
    "draws": "--draws",
    "max_steps": "--max-steps",
    "particles": "--particles",
    "seed": "--seed",
}


def register(app: typer.Typer) -> None:
    """Add ``backtest`` to the ``quidpro`` command."""
    app.command(
        "backtest",
        help=backtest_cmd.__doc__,
        epilog=(
            "Examples:\n\n"
            "  quidpro backtest nk_russia --cutoff 2023-12-31 --cutoff 2024-03-01 "
            "--json bt.json --plot bt.png\n\n"
            "  quidpro backtest my.yaml --evidence obs.csv --cutoff 2021-01-01 --method map"
        ),
    )(command(backtest_cmd, flags=FLAGS))


def backtest_cmd(
    *,  # Typer passes every argument and option by name
    model: ModelArg,
    cutoff: Annotated[
        list[str],
        typer.Option(
            help="Calibrate on the evidence known before DATE, score the rest (repeatable)."
        ),
    ],
    evidence: EvidenceOpt = None,
    runs: Annotated[
        int, typer.Option("--runs", "-n", help="Forecast members per cutoff, at least 1.")
    ] = 1000,
    seed: Annotated[int, seed_option("Random seed (calibration and forecast).")] = 0,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the scores as JSON to FILE.json.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Forecasts against what was observed, FILE.png.")
    ] = None,
    method: Annotated[CalMethod, typer.Option(help="Calibration at each cutoff: map or mcmc.")] = (
        CalMethod.mcmc
    ),
    draws: Annotated[int, typer.Option(help="Posterior draws per cutoff, at least 1.")] = 1000,
    params: Annotated[
        str | None, typer.Option(help="Constants to calibrate, comma-separated (default: all).")
    ] = None,
    max_steps: Annotated[
        int, typer.Option(help="At most this many emcee steps per cutoff, at least 200.")
    ] = 5000,
    sampler: Annotated[str, typer.Option(help="The mcmc sampler: smc or emcee.")] = "smc",
    particles: Annotated[
        int | None,
        typer.Option(
            help="SMC particles per cutoff for k calibrated constants: at least "
            "4 x max(3, k + 1), rounded up to a multiple of 4 (default: max(1000, --draws))."
        ),
    ] = None,
    backend: Annotated[str, typer.Option(help="Kernel: auto, numpy or jit.")] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No tables or progress.")] = False,
) -> None:
    """Back-test MODEL: calibrate before each cutoff, forecast and score what came after.

    At each cutoff the model is calibrated on the rows known before it and forecasts
    the rows after it (no look-ahead); the forecasts are scored by CRPS and 90%
    coverage against persistence and trend baselines.
    """
    import quidpro
    from quidpro.analysis.backtest import backtest
    from quidpro.analysis.calibrate import check_params, scorable

    for path, suffix, flag in ((json_out, ".json", "--json"), (plot, ".png", "--plot")):
        if path is not None and path.suffix.lower() != suffix:
            raise ConfigError(f"{flag} must end in {suffix}, got {path.name!r}")
    m = quidpro.load(model)
    ledger = load_evidence(m, evidence)
    scorable(m, ledger)  # no rows, or none the model can score: exit 1, the file named
    cuts = [parse_cutoff(c, ledger.dated, "--cutoff") for c in cutoff]
    names = check_params(m, [p.strip() for p in params.split(",") if p.strip()]) if params else None
    with stage_progress(quiet) as progress, memory_guard("--runs, --draws or --particles"):
        doc = backtest(
            m,
            ledger,
            cuts,
            runs=runs,
            seed=seed,
            method=method.value,
            draws=draws,
            params=names,
            max_steps=max_steps,
            backend=backend,
            progress=progress,
            sampler=sampler,
            particles=particles,
        )
    if json_out is not None:
        json_out.write_text(json.dumps(doc, indent=1))
    if plot is not None:
        from quidpro.report.backtest_plot import plot_backtest

        units = {r.indicator: r.fields.get("unit", "") for r in ledger}
        plot_backtest(doc, m.spec, plot, units)
    if not quiet:
        for c in doc["cutoffs"]:
            _table(c)
        for path in (json_out, plot):
            if path is not None:
                console.print(f"wrote {path}")


def _num(x: Any) -> str:
    """A score or share by the one number policy (``n/a`` where none applies)."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    return fmt_number(x)


NUMBER_COLUMNS = ("observed", "q05", "q50", "q95")
SCORE_COLUMNS = (("crps", "crps"), ("persistence", "crps_persistence"), ("trend", "crps_trend"))


def _table(c: dict[str, Any]) -> None:
    """One cutoff's scored rows; every number whole at any width (:func:`print_table`)."""
    title = (
        f"cutoff {c['cutoff']}: calibrated on {c['calibrated_on']} observations, "
        f"{len(c['observations'])} scored"
    )
    rows = c["observations"]
    table = Table(title=plain(title), title_justify="left")
    number_column(table, "id", justify="left")
    text_column(table, "indicator")
    number_column(table, "date", justify="left")
    text_column(table, "kind")
    for col in (*NUMBER_COLUMNS, "covered"):
        number_column(table, col)
    for col, _ in SCORE_COLUMNS:
        number_column(table, col)
    # The observation and its forecast share one scale (zero is judged against it);
    # each score column has its own.
    scale = max((abs(r[k]) for r in rows for k in NUMBER_COLUMNS if _finite(r[k])), default=1.0)
    scores = {key: fmt_column([r[key] for r in rows]) for _, key in SCORE_COLUMNS}
    for i, r in enumerate(rows):
        cells = [r["id"], r["indicator"], r["date"], r["kind"]]
        cells += [fmt_number(r[k], scale=scale) for k in NUMBER_COLUMNS]
        cells += [_num(r["covered"]), *(scores[key][i] for _, key in SCORE_COLUMNS)]
        table.add_row(*(plain(str(x)) for x in cells))
    print_table(table, keep=1)
    console.print(
        f"coverage90 {_num(c['coverage90'])}, CRPSS vs trend {_num(c['crpss_trend'])}, "
        f"vs persistence {_num(c['crpss_persistence'])}, bounds respected "
        f"{_num(c['bounds_respected'])}",
        markup=False,
    )


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)
