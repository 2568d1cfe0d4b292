"""``quidpro evidence``: a model's evidence ledger as a table, and the model against it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from quidpro.cli.common import command, console
from quidpro.cli.format import number_column, print_table, text_column
from quidpro.cli.options import EvidenceOpt, ModelArg, load_evidence, seed_option
from quidpro.errors import ConfigError
from quidpro.report.numbers import fmt_number

EVIDENCE_DIGITS = 6  # a recorded value is shown as recorded, up to six digits


def register(app: typer.Typer) -> None:
    """Add ``evidence`` to the ``quidpro`` command."""
    app.command(
        "evidence",
        help=evidence_cmd.__doc__,
        epilog=(
            "Examples:\n\n"
            "  quidpro evidence nk_russia\n\n"
            "  quidpro evidence nk_russia --plot evidence.png --prior\n\n"
            "  quidpro evidence my.yaml --evidence obs.csv --indicator population"
        ),
    )(command(evidence_cmd))


def evidence_cmd(
    *,  # Typer passes every argument and option by name
    model: ModelArg,
    evidence: EvidenceOpt = None,
    plot: Annotated[
        Path | None, typer.Option(help="The model against the evidence, FILE.png.")
    ] = None,
    indicator: Annotated[
        str | None, typer.Option(help="Only these indicators, comma-separated.")
    ] = None,
    posterior: Annotated[
        Path | None, typer.Option(help="Draw the band from this posterior file.")
    ] = None,
    prior: Annotated[
        bool, typer.Option("--prior", help="Plot the baseline run, not the posterior band.")
    ] = False,
    runs: Annotated[int, typer.Option(help="Posterior members for the band.")] = 200,
    seed: Annotated[int, seed_option("Random seed of the band.")] = 0,
) -> None:
    """List MODEL's evidence and, with --plot, draw the model against it.

    The ledger is the one shipped with a built-in model, or --evidence: each row with
    its date, kind, value and confidence, and whether calibration fits it (and why
    not). The plot shows the baseline run, or the posterior band when the model names
    a posterior.
    """
    import quidpro
    from quidpro.analysis.likelihood import targets
    from quidpro.cli.options import resolve_posterior
    from quidpro.evidence.ledger import Ledger

    if plot is not None and plot.suffix.lower() != ".png":
        raise ConfigError(f"--plot must end in .png, got {plot.name!r}")
    m = quidpro.load(model)
    ledger = load_evidence(m, evidence)
    if indicator:
        wanted = {i.strip() for i in indicator.split(",") if i.strip()}
        unknown = wanted - set(ledger.indicators())
        if unknown:
            raise ConfigError(f"--indicator: not in the evidence: {', '.join(sorted(unknown))}")
        ledger = Ledger(ledger.file, tuple(r for r in ledger if r.indicator in wanted))
    tg = targets(m.spec, ledger)
    why = {r.id: reason for r, reason in tg.skipped}
    table = Table(
        title=escape(f"evidence: {ledger.file} ({len(ledger)} rows)"), title_justify="left"
    )
    for col in ("id", "date", "indicator", "kind", "value", "unit", "conf.", "fitted", "source"):
        if col in ("id", "date", "value"):
            number_column(table, col, justify="right" if col == "value" else "left")
        else:
            text_column(table, col)
    for r in ledger:
        value = "" if r.value is None else fmt_number(r.value, EVIDENCE_DIGITS)
        fitted = "yes" if r.id not in why else f"no: {why[r.id]}"
        source = r.fields.get("source_publisher") or r.fields.get("source_title") or ""
        cells = (r.id, r.when, r.indicator, r.kind, value, r.fields.get("unit", ""))
        table.add_row(*(escape(c) for c in (*cells, r.confidence or "", fitted, source)))
    print_table(table, keep=1)
    console.print(
        f"{len(tg)} rows fitted by {m.name}'s observations "
        f"({', '.join(m.spec.observations) or 'none'})",
        markup=False,
    )
    if plot is not None:
        from quidpro.report.evidence_plot import plot_evidence

        table_post = resolve_posterior(m, posterior, prior)
        try:
            shown = plot_evidence(
                m.compiled, ledger, plot, posterior=table_post, runs=runs, seed=seed
            )
        except ValueError as exc:
            raise ConfigError(f"--plot: {exc}") from None
        console.print(f"wrote {plot} ({', '.join(shown)})")
