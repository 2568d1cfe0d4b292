"""``quidpro claims``: a model's claims as probabilities over its plausible worlds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from quidpro.cli.common import command, console
from quidpro.cli.format import number_column, print_table, text_column
from quidpro.cli.options import check_output, seed_option
from quidpro.lang.display import plain
from quidpro.report.numbers import fmt_interval, fmt_percent

# Members at most: every member's claim outcomes are kept, and 10^8 took all of 24 GB;
# 200,000 already gives a 95% interval narrower than half a percentage point.
MAX_RUNS = 200_000

HELP = """Each headline claim (H1-H4) and observable claim (C...) as a probability.

Every member of an ensemble (drawn from the model's posterior when it names one,
else from the constants' distributions: the output says which) runs the baseline
and the scenarios a claim compares; the probability is the share of members in
which the claim holds, with a 95% Wilson interval. "Moved most by" names the next
observation whose value best predicts the claim across members, with the
probability among members above and below its median.

Examples:

  quidpro claims nk_russia

  quidpro claims nk_russia --runs 4000 --seed 7 --json claims.json

  quidpro claims nk_russia --prior
"""


def register(app: typer.Typer) -> None:
    """Add ``claims`` to the ``quidpro`` command."""
    app.command("claims", help=HELP)(command(claims_cmd, flags={"n": "--runs"}))


def claims_cmd(
    model: Annotated[str, typer.Argument(help="A built-in model name or file.", metavar="MODEL")],
    *,
    runs: Annotated[int, typer.Option(help="Members of the ensemble.")] = 1000,
    seed: Annotated[int, seed_option("Random seed (same seed, same numbers).")] = 0,
    posterior: Annotated[
        Path | None,
        typer.Option(help="Draw members from this posterior file (.parquet, one row per draw)."),
    ] = None,
    prior: Annotated[
        bool, typer.Option("--prior", help="Draw from the distributions, not the posterior.")
    ] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON document to FILE.json.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table or progress bar.")] = False,
) -> None:
    """Each claim of MODEL as a probability over its posterior (or prior) ensemble."""
    import quidpro
    from quidpro.analysis.claims import evaluate, runs_needed
    from quidpro.analysis.flagship_claims import claim_set
    from quidpro.cli.format import progress
    from quidpro.errors import ConfigError

    if posterior is not None and prior:
        raise ConfigError("--posterior and --prior exclude each other")
    if not 2 <= runs <= MAX_RUNS:
        raise ConfigError(f"--runs must be 2 to {MAX_RUNS:,}, got {runs}")
    check_output(json_out, ".json", "--json")
    m = quidpro.load(model)
    claims = claim_set(m)
    total = runs_needed(claims, runs)
    with progress(total, f"{m.name}: {runs:,} members", quiet) as advance:
        report = evaluate(
            m, claims, n=runs, seed=seed, posterior=posterior, prior=prior, progress=advance
        )
    doc = report.to_json()
    if json_out is not None:
        json_out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if quiet:
        return
    where = f"posterior {report.posterior}" if report.source == "posterior" else "prior"
    table = Table(
        title=f"{m.name}: claims over {report.members_ok:,} members ({where}, seed {seed})"
    )
    for col in ("claim", "P(holds)", "95% CI", "moved most by", "P if high / low"):
        if col.startswith("P") or col == "95% CI":
            number_column(table, col)
        else:
            text_column(table, col)
    for c in doc["claims"]:
        ev = c["evidence"][0] if c["evidence"] else None
        lo, hi = c["ci"]
        moved = f"{ev['indicator']} {ev['date']} (r = {ev['correlation']:+.2f})" if ev else "-"
        split = f"{_pct(ev['p_if_high'])} / {_pct(ev['p_if_low'])}" if ev else "-"
        table.add_row(
            f"{c['id']}: {plain(c['text'])}",
            _pct(c["probability"]),
            fmt_interval(lo, hi, percent=True),
            plain(moved),
            split,
        )
    print_table(table, keep=1)
    if report.source == "prior":
        console.print(
            "These are prior probabilities: members are not conditioned on the record. "
            "Use a posterior (--posterior FILE) for findings."
        )
    if json_out is not None:
        console.print(f"wrote {json_out}")


def _pct(x: float | None) -> str:
    """A probability by the one number policy (never 0% or 100% for one merely close)."""
    return fmt_percent(x)
