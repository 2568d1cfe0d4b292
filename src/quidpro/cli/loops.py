"""``quidpro loops``: which feedback loops drive the behaviour, and when (Loops That Matter)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from quidpro.cli.common import command, console
from quidpro.cli.format import report_failed
from quidpro.cli.options import (
    PosteriorOpt,
    PriorOpt,
    check_output,
    drawn_from,
    parse_sets,
    resolve_posterior,
    seed_option,
)
from quidpro.errors import ConfigError

HELP = """Loop dominance of MODEL with Loops That Matter: every feedback loop, its
polarity, its share of the model's behaviour over time, and the dominant loops.

Examples:

  quidpro loops nk_russia

  quidpro loops nk_russia --plot loops.png --json loops.json

  quidpro loops nk_russia --runs 1000 --seed 1 --plot loops.png

  quidpro loops nk_russia --runs 1000 --seed 1 --prior

  quidpro loops my_model.xmile --set growth_rate=0.2

--plot FILE.png also writes the causal-loop diagram of the loops that matter to
FILE_cld.png. With --runs N the uncertain constants are sampled as `quidpro ensemble`
samples them (from the model's posterior when it names one; --prior: from the
distributions; --posterior FILE: from another posterior) and each loop gets the share
of members in which it dominates at each time (p_dominant).
"""


def contract_json(analysis: Any, dates: Any = None) -> dict[str, Any]:
    """The DESIGN.md document of ``quidpro loops --json``.

    Keys: time, loops (id, polarity, variables, relative_score[, p_dominant][, name and
    claim, for a loop the model file names]) and
    dominant_periods; with ``--runs N`` also ``basis`` ("posterior" or "prior", where
    the members came from). A model without feedback loops has ``"loops": []``.
    """
    times = [float(t) for t in analysis.times]
    as_time = times if dates is None else [d.date().isoformat() for d in dates]
    lookup = dict(zip(times, as_time, strict=True))
    loops = []
    for lp in analysis.loops:
        entry: dict[str, Any] = {
            "id": lp.id,
            "polarity": lp.polarity,
            "variables": list(lp.variables),
            "relative_score": [float(v) for v in lp.relative_score],
        }
        if lp.p_dominant is not None:
            entry["p_dominant"] = [float(v) for v in lp.p_dominant]
        if lp.name is not None:  # a loop the model file names (its loops: section)
            entry["name"] = lp.name
            if lp.claim is not None:
                entry["claim"] = lp.claim
        loops.append(entry)
    periods = [
        {"start": lookup[p.start], "end": lookup[p.end], "loops": list(p.loops)}
        for p in analysis.dominant_periods
    ]
    doc: dict[str, Any] = {"time": as_time, "loops": loops, "dominant_periods": periods}
    if analysis.basis is not None:
        doc["basis"] = analysis.basis
    return doc


@command
def loops_cmd(
    model: Annotated[str, typer.Argument(help="A model file or a built-in name.", metavar="MODEL")],
    *,
    scenario: Annotated[
        str | None, typer.Option("--scenario", "-s", help="A scenario of the model.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Set a constant: NAME=VALUE (repeatable)."),
    ] = None,
    runs: Annotated[
        int, typer.Option(help="Ensemble members (uncertain constants sampled); 1 = one run.")
    ] = 1,
    seed: Annotated[int | None, seed_option("Seed of the ensemble.")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the loop scores as JSON to FILE.json.")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Relative scores over time to FILE.png (and the diagram to FILE_cld.png)."
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="Loops in the table.")] = 15,
    posterior: PosteriorOpt = None,
    prior: PriorOpt = False,
) -> None:
    """Loop dominance analysis (Loops That Matter)."""
    import quidpro
    from quidpro.analysis.loops import analyse_loops

    check_output(json_out, ".json", "--json")
    check_output(plot, ".png", "--plot")
    if runs < 1:
        raise ConfigError(f"--runs must be at least 1, got {runs}")
    if top < 1:
        raise ConfigError(f"--top must be at least 1, got {top}")
    m = quidpro.load(model)
    table = resolve_posterior(m, posterior, prior)
    analysis = _with_progress(
        lambda advance: analyse_loops(
            m,
            scenario=scenario,
            sets=parse_sets(set_),
            runs=runs,
            seed=seed,
            progress=advance,
            posterior=table,
        ),
        runs,
        m.name,
    )
    dates = m.dates(analysis.times) if m.spec.time.origin is not None else None
    if json_out is not None:
        json_out.write_text(json.dumps(contract_json(analysis, dates), indent=1))
    written = [json_out]
    if not analysis.loops:
        _no_loops(analysis, plot)
    else:
        if plot is not None:
            written += _plots(analysis, plot)
        _table(analysis, dates, top)
    _basis(analysis, table, runs, posterior is not None or prior)
    report_failed(analysis.failed, runs)
    for path in written:
        if path is not None:
            console.print(f"wrote {path}")


def _plots(analysis: Any, plot: Path) -> list[Path]:
    """Relative scores to ``plot`` and the causal-loop diagram beside it."""
    from quidpro.report.cld import draw_cld
    from quidpro.report.loop_plots import plot_loops

    plot_loops(analysis, plot)
    cld = plot.with_name(plot.stem + "_cld.png")
    draw_cld(analysis, cld)
    return [plot, cld]


def _no_loops(analysis: Any, plot: Path | None) -> None:
    s = analysis.searched
    if s["loops"] == 0:
        what = "no feedback loops"
    else:  # loops exist but none is ever active or reaches min_share
        what = (
            f"no feedback loops that matter ({s['loops']} found: {s['inactive']} never "
            f"active, {s['below_min_share']} below {s['min_share']:.0%} of the behaviour)"
        )
    console.print(f"{analysis.model.name}: {what}; no loop dominates its behaviour.")
    if plot is not None:
        console.print(f"no plot written to {plot}: there is no loop to draw")


def _basis(analysis: Any, table: Any, runs: int, asked: bool) -> None:
    """Say where the ensemble's members came from (or that one run has none)."""
    if analysis.basis is not None:
        console.print(
            f"{runs:,} members drawn from the {drawn_from(table)}, seed {analysis.seed}",
            markup=False,
        )
    elif asked:
        console.print("one run at the model's values: --posterior/--prior apply with --runs N")


def _with_progress(fn: Any, runs: int, name: str) -> Any:
    if runs <= 1:
        return fn(None)
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"{name}: loop scores", total=runs)
        return fn(lambda done: bar.update(task, completed=done))


def _when(t: float, analysis: Any, dates: Any) -> str:
    if dates is None:
        return f"{t:g}"
    k = int(abs(analysis.times - t).argmin())
    return str(dates[k].date())


def _dominant_share(analysis: Any, spans: list[Any]) -> float:
    t = analysis.times
    inside = sum(int(((t >= p.start) & (t <= p.end)).sum()) for p in spans)
    return inside / max(len(t), 1)


def _table(analysis: Any, dates: Any, top: int) -> None:
    from quidpro.report.loop_plots import ranked

    s = analysis.searched
    console.print(
        f"{analysis.model.name}: {s['loops']} feedback loops ({s['method']}); "
        f"{len(analysis.loops)} reach {s['min_share']:.0%} of the behaviour, "
        f"{s['inactive']} never active, {s['below_min_share']} below {s['min_share']:.0%}"
        + (f"; {s['note']}" if "note" in s else "")
    )
    table = Table(show_lines=False)
    for col in (
        "loop",
        "pol.",
        "variables",
        "mean",
        "peak",
        "dominant (share of time: first..last)",
    ):
        table.add_column(col, overflow="fold")
    if analysis.runs > 1:
        table.add_column("p_dominant (max)")
    for lp in ranked(analysis)[:top]:
        spans = [p for p in analysis.dominant_periods if lp.id in p.loops]
        share = _dominant_share(analysis, spans)
        dom = (
            f"{share:.0%}: {_when(spans[0].start, analysis, dates)}.."
            f"{_when(spans[-1].end, analysis, dates)}"
            if spans
            else "-"
        )
        label = lp.label + (f" [{lp.claim}]" if lp.claim else "")
        row = [
            label,
            lp.polarity,
            " → ".join(lp.variables),
            f"{lp.mean_relative:+.2f}",
            f"{lp.peak_relative:+.2f}",
            dom,
        ]
        if analysis.runs > 1:
            row.append(f"{float(lp.p_dominant.max()):.2f}" if lp.p_dominant is not None else "-")
        table.add_row(*row)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``quidpro loops`` to the command line."""
    app.command("loops", help=HELP)(loops_cmd)


__all__ = ["contract_json", "register"]
