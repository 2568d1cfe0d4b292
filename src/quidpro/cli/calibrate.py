"""``quidpro calibrate``: a posterior for a model's constants from its evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from quidpro.cli.common import command, console
from quidpro.cli.format import stage_progress
from quidpro.cli.options import (
    CalMethod,
    EvidenceOpt,
    ModelArg,
    load_evidence,
    memory_guard,
    parse_cutoff,
    parse_sets,
    seed_option,
)
from quidpro.errors import ConfigError
from quidpro.lang.display import plain

#: Library parameters and the flags that set them (their names in error messages).
FLAGS = {
    "draws": "--draws",
    "max_steps": "--max-steps",
    "walkers": "--walkers",
    "particles": "--particles",
    "seed": "--seed",
}


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to the ``quidpro`` command."""
    app.command(
        "calibrate",
        help=calibrate_cmd.__doc__,
        epilog=(
            "Examples:\n\n"
            "  quidpro calibrate nk_russia --method mcmc --seed 1 --out post.parquet\n\n"
            "  quidpro calibrate nk_russia --until 2024-01-01 --method map --json fit.json\n\n"
            "  quidpro calibrate my.yaml --evidence obs.csv --params growth,capacity"
        ),
    )(command(calibrate_cmd, flags=FLAGS))


def calibrate_cmd(
    *,  # Typer passes every argument and option by name
    model: ModelArg,
    evidence: EvidenceOpt = None,
    until: Annotated[
        str | None, typer.Option(help="Use only evidence known before this date (YYYY-MM-DD).")
    ] = None,
    params: Annotated[
        str | None,
        typer.Option(
            help="Constants to calibrate, comma-separated (default: every constant with a "
            "distribution that is not a lever)."
        ),
    ] = None,
    method: Annotated[
        CalMethod, typer.Option(help="map (mode + Laplace) or mcmc (emcee ensemble sampler).")
    ] = CalMethod.mcmc,
    draws: Annotated[int, typer.Option(help="Posterior draws to keep, at least 1.")] = 1000,
    seed: Annotated[int, seed_option("Random seed: the same seed, the same posterior.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Write the posterior: FILE.parquet, one row per draw.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the summary as JSON to FILE.json.")
    ] = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", "-s", help="Calibrate under a scenario.")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Fix a constant: NAME=VALUE (repeatable).")
    ] = None,
    max_steps: Annotated[
        int,
        typer.Option(
            help="At most this many emcee steps, at least 200 (its first convergence check)."
        ),
    ] = 5000,
    walkers: Annotated[
        int | None,
        typer.Option(
            help="emcee walkers for k calibrated constants: at least max(4, 2k), an odd "
            "number rounded up to even (default: max(32, 2k + 2))."
        ),
    ] = None,
    sampler: Annotated[
        str,
        typer.Option(
            help="The mcmc sampler: smc (tempered SMC, the faster on the flagship) or emcee."
        ),
    ] = "smc",
    particles: Annotated[
        int | None,
        typer.Option(
            help="SMC particles for k calibrated constants: at least 4 x max(3, k + 1), "
            "rounded up to a multiple of 4, the populations (default: max(1000, --draws))."
        ),
    ] = None,
    backend: Annotated[str, typer.Option(help="Kernel: auto, numpy or jit.")] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No tables or progress.")] = False,
) -> None:
    """Calibrate MODEL on its evidence: a posterior for its constants.

    The priors are the constants' distributions, the likelihood comes from the model's
    observations: section. Prints each constant's mode, median and 90% credible
    interval, and the sampler's diagnostics.
    """
    import quidpro
    from quidpro.analysis.calibrate import (
        Problem,
        calibrate,
        check_params,
        default_params,
        scorable,
    )
    from quidpro.analysis.likelihood import targets
    from quidpro.ensemble.posterior import write_posterior
    from quidpro.evidence.ledger import builtin_ledger

    if out is not None and out.suffix.lower() != ".parquet":
        raise ConfigError(f"--out must end in .parquet, got {out.name!r}")
    if json_out is not None and json_out.suffix.lower() != ".json":
        raise ConfigError(f"--json must end in .json, got {json_out.name!r}")
    m = quidpro.load(model)
    if evidence is None and builtin_ledger(m.spec.file) is None:
        raise ConfigError(f"--evidence FILE.csv is needed: {m.name} ships no evidence ledger")
    ledger = load_evidence(m, evidence)
    scorable(m, ledger)  # a file without a row the model can score: exit 1, named
    if until is not None:
        ledger = ledger.before(parse_cutoff(until, ledger.dated))
    sets = parse_sets(set_, m.spec)
    fixed = set(sets) | set(m.overrides(scenario, None))
    names = (
        check_params(m, [p.strip() for p in params.split(",") if p.strip()])
        if params
        else default_params(m, sorted(fixed))
    )
    if not names:
        raise ConfigError(f"nothing to calibrate: {m.name} has no constant with a distribution")
    tg = targets(m.spec, ledger)
    if not tg.items:  # rows to score, none before --until
        raise ConfigError(
            f"no evidence row the model can score before --until {until}: the rows of "
            f"{ledger.file} it can score are all known only from then on"
        )
    problem = Problem(m, tg, names, scenario=scenario, sets=sets, backend=backend)
    with stage_progress(quiet) as progress, memory_guard("--draws, --particles or --walkers"):
        result = calibrate(
            problem,
            method.value,
            draws,
            seed,
            progress,
            max_steps=max_steps,
            walkers=walkers,
            sampler=sampler,
            particles=particles,
        )
    doc = result.summary()
    meta = {"model": m.name, "evidence": ledger.file, "until": until}
    if out is not None:
        write_posterior(result.table(meta), out)
    if json_out is not None:
        json_out.write_text(json.dumps(doc, indent=1))
    if not quiet:
        _tables(m, problem, doc, tg)
        for path in (out, json_out):
            if path is not None:
                console.print(f"wrote {path}")


def _tables(m: Any, problem: Any, doc: dict[str, Any], tg: Any) -> None:
    from quidpro.cli.format import fmt as _fmt
    from quidpro.cli.format import number_column, print_table, text_column

    d = doc["diagnostics"]
    console.print(
        f"{m.spec.title or m.name}: {doc['method']} on {doc['observations']} observations "
        f"({len(tg.skipped)} rows not fitted), seed {doc['seed']}",
        markup=False,
    )
    table = Table(title="posterior of the calibrated constants", title_justify="left")
    text_column(table, "constant")
    for col in ("prior 5%", "prior 95%", "map", "median", "5%", "95%"):
        number_column(table, col)
    rhat = d.get("rhat", {})
    ess = d.get("ess", {})
    if rhat:
        number_column(table, "R-hat")
    if ess:
        number_column(table, "ESS")
    for name, f in zip(problem.names, problem.priors, strict=True):
        p = doc["parameters"][name]
        cells = [_fmt(f.ppf(0.05)), _fmt(f.ppf(0.95)), _fmt(p["map"]), _fmt(p["median"])]
        cells += [_fmt(p["ci90"][0]), _fmt(p["ci90"][1])]
        if rhat:
            cells.append(f"{rhat[name]:.3f}")
        if ess:
            cells.append(f"{ess[name]:,.0f}")
        table.add_row(plain(name), *cells)
    print_table(table, keep=1)
    line = (
        f"{d['evaluations']:,} model runs in {d['seconds']:.1f} s "
        f"({d['evaluations_per_second']:,.0f} runs/s in the kernel, {d['backend']})"
    )
    if "stages" in d:
        line += (
            f"; SMC: {d['particles']:,} particles, {d['stages']} stages, {d['moves']} moves, "
            f"acceptance {d['acceptance']:.2f}, {d['unique_particles']:,} unique at the end, "
            f"log evidence {d['log_evidence']:.2f}, max R-hat across populations "
            f"{max(rhat.values()):.3f}, min ESS {min(ess.values()):,.0f}"
        )
    elif "acceptance" in d:
        line += (
            f"; {d['walkers']} walkers x {d['steps']} steps, acceptance {d['acceptance']:.2f}, "
            f"max R-hat {max(rhat.values()):.3f}, min ESS {min(d['ess'].values()):,.0f}"
            + ("" if d["converged"] else " - NOT CONVERGED (raise --max-steps)")
        )
    console.print(line, markup=False)
