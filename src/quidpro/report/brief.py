"""``quidpro brief``: a model's findings as a brief an analyst can paste (MD, HTML, PDF).

Order, as briefs are read: the bottom line up front; key judgments in ICD 203
estimative language with a confidence level (the mapping is printed); the headline
claims H1-H4 (from the claims library, so its numbers equal ``quidpro claims --json``
for the same runs and seed); the scenario table; a fan chart and the loop view; the
assumptions register; indicators and warnings; sources.

Key judgments read the model's own ensemble: for each output the model calls required
(or its first stocks), the chance that it is higher at the end of the run than at the
*reference date* — the latest date the model's evidence was observed (the middle of the
run when there is none). Indicators condition the same members on an observable a year
after the reference date: the value that, once seen, would move a judgment to another
term of the scale.

Members that go non-finite are left out of everything the brief computes, and the brief
says how many did in each scenario and where the first of them failed; a baseline whose
every member fails leaves nothing to judge, so :func:`analyse` raises a
:class:`~quidpro.errors.SimulationError` naming the first failure (the command exits 1).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from quidpro.ensemble.posterior import PosteriorTable, model_posterior
from quidpro.ensemble.query import Probe, parse_probe, wilson
from quidpro.errors import SimulationError
from quidpro.report import estimative
from quidpro.report.available import LoadedModel, claims_document, loop_analysis, posterior_info
from quidpro.report.doc import Bullets, Document, Figure, Heading, Para, Table
from quidpro.report.labels import date_levers, label_of
from quidpro.report.numbers import fmt_number, fmt_percent
from quidpro.report.plain_figure import save_figure

MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
N_OUTPUTS = 4
MAX_INDICATORS = 12
_PER_YEAR = {"month": 12.0, "quarter": 4.0, "year": 1.0, "week": 52.18, "day": 365.25}


def one_year(units: str | None) -> float:
    """A year in the model's time units (one time unit when the units are not calendar ones)."""
    u = (units or "").strip().lower().removesuffix("s")
    return _PER_YEAR.get(u, 1.0)


@dataclass
class Judgment:
    """One key judgment: a statement, its probability and interval, term, confidence."""

    variable: str
    text: str
    probability: float
    ci: tuple[float, float]
    term: str
    confidence: estimative.Confidence


@dataclass
class ScenarioResult:
    """One scenario's ensemble: its summary document and the members' probes."""

    name: str
    doc: str
    levers: list[str]
    summary: dict[str, Any]  # the ensemble --json document
    probes: np.ndarray  # (probe, member)
    ok: np.ndarray
    first_failure: SimulationError | None = None  # of the first member that went non-finite

    @property
    def n_failed(self) -> int:
        """How many members went non-finite (left out of everything the brief computes)."""
        return int(self.ok.size - np.count_nonzero(self.ok))


# ---------------------------------------------------------------- helpers


def _label(m: LoadedModel, name: str) -> str:
    return label_of(m.spec, name)


def outputs_of(m: LoadedModel) -> list[str]:
    """The stocks the model calls required outputs, else its first stocks."""
    spec = m.spec
    required = [n for n, s in spec.stocks.items() if "required output" in (s.doc or "").lower()]
    return (required or list(spec.stocks) or list(spec.variables))[:N_OUTPUTS]


def _units(m: LoadedModel, name: str) -> str:
    spec = m.spec
    obj = spec.stocks.get(name) or spec.variables.get(name)
    return getattr(obj, "units", None) or ""


def _date_text(m: LoadedModel, t: float) -> str:
    if m.spec.time.origin is None:
        return f"time {fmt_number(t)}"
    return str(m.dates([t])[0].strftime("%Y-%m-%d"))


def reference_time(m: LoadedModel) -> float:
    """The latest ``observed`` date among the model's evidence sources, as model time."""
    spec = m.spec
    t = spec.time
    mid = t.start + (t.stop - t.start) / 2
    if t.origin is None:
        return mid
    from quidpro.model.calendar import to_time

    latest = None
    for s in spec.sources.values():
        text = str(s.fields.get("observed") or "")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) and (latest is None or text > latest):
            latest = text
    if latest is None:
        return mid
    value = to_time(latest, t.origin, t.units, t.start)
    return min(max(value, t.start), t.stop)


def _run(
    m: LoadedModel,
    scenario: str | None,
    *,
    runs: int,
    seed: int,
    probes: Sequence[Probe],
    variables: Sequence[str],
    posterior: PosteriorTable | None,
) -> ScenarioResult:
    """One scenario's ensemble with the brief's probes."""
    from quidpro.ensemble import summary
    from quidpro.ensemble.runner import make_plan, run_plan
    from quidpro.ensemble.sampling import draw

    plan = make_plan(
        m, runs, seed, scenario=scenario, variables=variables, probes=probes, backend="auto"
    )
    members = draw(m.spec, runs, seed, "random", scenario=scenario, posterior=posterior)
    result = run_plan(m, plan, members)
    name = scenario or "baseline"
    doc = m.spec.scenarios[name].doc if name in m.spec.scenarios else "The model as written."
    levers = []
    if name in m.spec.scenarios:
        for k, v in m.spec.scenarios[name].set.items():
            shown = _date_text(m, v) if k.endswith("_time") else fmt_number(v)
            levers.append(f"{_label(m, k)}: {shown}")
    failed = np.flatnonzero(~np.asarray(result.ok, dtype=bool))
    first = _first_failure(m, scenario, members, int(failed[0])) if failed.size else None
    return ScenarioResult(name, doc or "", levers, summary(result), result.probes, result.ok, first)


def _first_failure(
    m: LoadedModel, scenario: str | None, members: Any, member: int
) -> SimulationError | None:
    """Why ``member`` went non-finite: its variable, time and line (one run of it again)."""
    from quidpro.solve.simulate import failure_of

    overrides = m.overrides(scenario, members.rows(member, member + 1))
    return failure_of(m.compiled, overrides, member)


def _all_failed(runs: int, s: ScenarioResult) -> SimulationError:
    """The error of a baseline whose every member went non-finite: nothing to judge."""
    first = s.first_failure
    what = f"every one of the {runs:,} members of the {s.name.replace('_', ' ')} went non-finite"
    why = f"; the first: {first.message}" if first is not None else ""
    message = (
        f"{what}{why}; a brief needs members that run to the end (check the model's "
        "equations and the ranges of its distributions)"
    )
    if first is None:  # pragma: no cover - a failed member always has a first failure
        return SimulationError(message, "", math.nan)
    return SimulationError(message, first.variable, first.time, first.loc)


# ---------------------------------------------------------------- the analysis


@dataclass
class BriefData:
    """Everything the brief reports, before it is written."""

    model: LoadedModel
    runs: int
    seed: int
    outputs: list[str]
    t_ref: float
    t_lead: float
    scenarios: list[ScenarioResult]
    judgments: list[Judgment]
    indicators: list[list[str]]
    claims: dict[str, Any] | None
    loops: dict[str, Any] | None
    posterior: dict[str, Any] | None = None  # posterior_info(), None: the prior


def analyse(
    m: LoadedModel, scenarios: Sequence[str] | None = None, runs: int = 1000, seed: int = 1
) -> BriefData:
    """Run what the brief reports.

    One ensemble per scenario (same seed: common random numbers), the judgments and
    indicators on the first, the claims and loops.
    """
    spec = m.spec
    t = spec.time
    posterior = model_posterior(spec)  # as quidpro ensemble and claims draw
    outs = outputs_of(m)
    t_ref = reference_time(m)
    year = one_year(t.units)
    t_lead = min(t_ref + year, t.stop)
    t_ref_back, t_stop_back = max(t_ref - year, t.start), max(t.stop - year, t.start)
    probes: list[Probe] = []
    for v in outs:
        for at in (t_ref, t.stop, t_lead, t_ref_back, t_stop_back):
            probes.append(parse_probe(spec, v, at=repr(at)))
    names = list(scenarios) if scenarios else ["baseline", *spec.scenarios]
    results: list[ScenarioResult] = []
    for s in names:
        results.append(
            _run(
                m,
                None if s == "baseline" else s,
                runs=runs,
                seed=seed,
                probes=probes,
                variables=outs,
                posterior=posterior,
            )
        )
        if len(results) == 1 and not np.any(results[0].ok):  # before the other scenarios
            raise _all_failed(runs, results[0])
    base = results[0]
    calibrated = posterior is not None
    judgments = []
    for i, v in enumerate(outs):
        holds = _holds(m, v, base.probes[PROBES * i : PROBES * (i + 1)])[base.ok]
        hits, n = int(holds.sum()), len(holds)
        p = hits / n if n else math.nan
        ci = wilson(hits, n) if n else (math.nan, math.nan)
        if _accumulates(m, v):
            text = (
                f"{_label(m, v)} will grow more in the year to {_date_text(m, t.stop)} than "
                f"in the year to {_date_text(m, t_ref)}"
            )
        else:
            text = (
                f"{_label(m, v)} will be higher on {_date_text(m, t.stop)} than on "
                f"{_date_text(m, t_ref)}"
            )
        judgments.append(
            Judgment(v, text, p, ci, estimative.term(p), estimative.confidence(ci, calibrated))
        )
    indicators = _indicators(m, base, outs, judgments, t_lead)
    claims = claims_document(m, runs=runs, seed=seed)
    loops = loop_analysis(m)
    return BriefData(
        m,
        runs,
        seed,
        outs,
        t_ref,
        t_lead,
        results,
        judgments,
        indicators,
        claims,
        loops,
        posterior_info(m),
    )


PROBES = 5  # per output: at the reference date, the end, the lead date, a year before each


def _accumulates(m: LoadedModel, name: str) -> bool:
    """Whether ``name`` is a cumulative count (a stock from zero with inflows only).

    Its growth is what can change, so the judgment compares a year's growth rather
    than levels.
    """
    from quidpro.lang.ast import Num

    stock = m.spec.stocks.get(name)
    if stock is None or not stock.inflows or stock.outflows:
        return False
    return isinstance(stock.initial, Num) and stock.initial.value == 0


def _holds(m: LoadedModel, name: str, p: np.ndarray) -> np.ndarray:
    """Per member, whether the judgment on ``name`` holds (``p``: its five probes)."""
    ref, end, _, ref_back, end_back = p
    if _accumulates(m, name):
        return np.asarray((end - end_back) > (ref - ref_back))
    return np.asarray(end > ref)


def _indicators(
    m: LoadedModel,
    base: ScenarioResult,
    outs: list[str],
    judgments: list[Judgment],
    t_lead: float,
) -> list[list[str]]:
    """Rows: observable, date, current value, threshold, judgment, term it moves to."""
    rows: list[list[str]] = []
    ok = base.ok
    if not np.any(ok):  # no finite member: nothing to condition on
        return rows
    for i, v in enumerate(outs):
        current = base.probes[PROBES * i][ok]
        lead = base.probes[PROBES * i + 2][ok]
        for j, jd in enumerate(judgments):
            holds = _holds(m, jd.variable, base.probes[PROBES * j : PROBES * (j + 1)])[ok]
            for q, side in ((0.8, "above"), (0.2, "below")):
                threshold = float(np.quantile(lead, q))
                sel = lead >= threshold if side == "above" else lead <= threshold
                if sel.sum() < 20:
                    continue
                p = float(holds[sel].mean())
                new = estimative.term(p)
                if new == jd.term:
                    continue
                rows.append(
                    [
                        f"{_label(m, v)} ({_units(m, v)})",
                        _date_text(m, t_lead),
                        fmt_number(float(np.median(current))),
                        f"{side} {fmt_number(threshold)}",
                        f"{_label(m, jd.variable)}: {jd.term} → {new} "
                        f"({fmt_percent(jd.probability)} → {fmt_percent(p)})",
                    ]
                )
    return rows[:MAX_INDICATORS]


# ---------------------------------------------------------------- the text


def compose(data: BriefData) -> Document:
    """The brief as a document (the same blocks become Markdown, HTML and PDF)."""
    m = data.model
    spec = m.spec
    doc = Document(f"Brief: {spec.title or spec.name}")
    post = data.posterior
    basis = (
        "the prior distributions of the model's constants (it has no calibrated posterior)"
        if post is None
        else f"the model's posterior ({post['file']}: {post['draws']:,} draws of "
        f"{len(post['constants'])} calibrated constants; the others at their values)"
    )
    doc.add(
        Para(
            f"Model {spec.name}; {data.runs:,} ensemble members, seed {data.seed}; "
            f"drawn from {basis}. Reference date {_date_text(m, data.t_ref)} (the "
            "latest evidence in the model file); horizon "
            f"{_date_text(m, spec.time.stop)}.",
            note=True,
        )
    )
    failures = _failures_text(data)
    if failures:
        doc.add(Para(failures, note=True))
    doc.add(Heading("Bottom line"))
    doc.add(Para(_bottom_line(data)))
    doc.add(Heading("Key judgments"))
    doc.add(
        Bullets(
            [
                f"It is **{j.term}** ({fmt_percent(j.probability)}; 95% interval "
                f"{fmt_percent(j.ci[0])}–{fmt_percent(j.ci[1])}) that {_lower(j.text)}. "
                f"Confidence: {j.confidence.level} ({j.confidence.reason})."
                for j in data.judgments
            ]
        )
    )
    doc.add(
        Para(
            "Estimative terms (ICD 203) and the probabilities they stand for: "
            + "; ".join(f"{w} ({r})" for w, _, r in estimative.mapping_rows())
            + ". Confidence rule: "
            + estimative.CONFIDENCE_RULE,
            note=True,
        )
    )
    doc.add(Heading("Headline claims H1–H4"))
    doc.add(*_claims_blocks(data))
    doc.add(Heading("Scenarios"))
    doc.add(_scenario_table(data))
    doc.add(
        Figure(
            _fan_png(data),
            "Median and 50%/90% bands of the required outputs, per scenario",
            "brief-fan.png",
        )
    )
    doc.add(Heading("Feedback loops"))
    if data.loops is None:
        doc.add(Para("This model has no feedback loop to score.", note=True))
    else:
        doc.add(
            Figure(
                _loops_png(data),
                "Relative loop scores over time of the loops that compete for dominance "
                "(Loops That Matter, baseline run)",
                "brief-loops.png",
            )
        )
        doc.add(_loops_table(data))
    doc.add(Heading("Assumptions register"))
    doc.add(_assumptions(m))
    doc.add(Heading("Indicators and warnings"))
    if data.indicators:
        doc.add(
            Para(
                "Observables to watch: if the value seen on the date crosses the threshold, "
                "the judgment moves as shown (the model's members that reach the "
                "threshold, conditioned on it)."
            )
        )
        doc.add(
            Table(
                [
                    "observable",
                    "date",
                    "model value at the reference date",
                    "threshold",
                    "judgment moves",
                ],
                data.indicators,
                [False, False, True, True, False],
            )
        )
    else:
        doc.add(
            Para("No single observable a year ahead moves any judgment to another term.", note=True)
        )
    doc.add(Heading("Sources"))
    doc.add(Bullets(_sources(m)))
    return doc


def _failures_text(data: BriefData) -> str:
    """Which scenarios lost members to non-finite values, and where the first one failed."""
    parts = []
    for s in data.scenarios:
        if s.n_failed == 0:
            continue
        where = ""
        if s.first_failure is not None:
            f = s.first_failure
            line = f", {Path(f.loc.file).name} line {f.loc.line}" if f.loc.line else ""
            where = f" (the first: {f.message}{line})"
        parts.append(f"{s.name.replace('_', ' ')}: {s.n_failed:,} of {data.runs:,}{where}")
    if not parts:
        return ""
    return (
        "Members that went non-finite are left out of the judgments, the tables and the "
        "figures: " + "; ".join(parts) + "."
    )


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _bottom_line(data: BriefData) -> str:
    parts = []
    if data.claims is not None:
        for c in data.claims.get("claims", []):
            if str(c.get("id", "")).startswith("H"):
                parts.append(
                    f"{c['id']} ({estimative.term(c['probability'])}, "
                    f"{fmt_percent(c['probability'])})"
                )
    strongest = max(data.judgments, key=lambda j: abs(j.probability - 0.5), default=None)
    lead = ""
    if strongest is not None:
        lead = (
            f"It is {strongest.term} ({fmt_percent(strongest.probability)}) that "
            f"{_lower(strongest.text)}."
        )
    if parts:
        lead += " Headline claims: " + "; ".join(parts) + "."
    return lead or "The model gives no judgment."


def _claims_blocks(data: BriefData) -> list[Heading | Para | Bullets | Table | Figure]:
    if data.claims is None:
        return [Para("Claim probabilities: not available for this model yet.", note=True)]
    rows = []
    for c in data.claims.get("claims", []):
        lo, hi = c.get("ci", (math.nan, math.nan))
        rows.append(
            [
                str(c["id"]),
                str(c.get("text", "")),
                estimative.term(c["probability"]),
                fmt_percent(c["probability"]),
                f"{fmt_percent(lo)}–{fmt_percent(hi)}",
                ", ".join(map(str, c.get("evidence", []) or [])),
            ]
        )
    return [
        Table(
            ["id", "claim", "term", "probability", "95% interval", "evidence"],
            rows,
            [False, False, False, True, True, False],
        )
    ]


def _scenario_table(data: BriefData) -> Table:
    m = data.model
    header = ["scenario", "levers"] + [
        f"{_label(m, v)} ({_units(m, v)}), {_date_text(m, m.spec.time.stop)}" for v in data.outputs
    ]
    rows = []
    for s in data.scenarios:
        cells = [s.name.replace("_", " "), "; ".join(s.levers) or "—"]
        for v in data.outputs:
            q = s.summary["variables"][v]["quantiles"]
            lo, mid, hi = q["0.05"][-1], q["0.5"][-1], q["0.95"][-1]
            scale = max(abs(lo or 0), abs(hi or 0)) or 1.0
            cells.append(
                f"{fmt_number(mid, 3, scale=scale)} "
                f"({fmt_number(lo, 3, scale=scale)}–{fmt_number(hi, 3, scale=scale)})"
            )
        rows.append(cells)
    table = Table(header, rows, [False, False] + [True] * len(data.outputs))
    return table


def _fan_png(data: BriefData) -> bytes:
    """Median and 50%/90% bands per scenario, one panel per output.

    Plain titles, units, dates, readable tick labels (the report's number policy).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    m = data.model
    shown = data.scenarios[:4]
    n = len(data.outputs)
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.6 * cols, 2.9 * rows + 0.5), squeeze=False, layout="constrained"
    )
    ticks = FuncFormatter(lambda v, _: fmt_number(v, 3))
    colours = ("#1f5f8b", "#d9822b", "#3c8d40", "#b0413e")
    for ax, v in zip(axes.flat, data.outputs, strict=False):
        for k, s in enumerate(shown):
            series = s.summary["variables"][v]
            x: Any = series["time"]
            if m.spec.time.origin is not None:
                x = m.dates(x)
            q = {key: np.asarray(vals, dtype=float) for key, vals in series["quantiles"].items()}
            c = colours[k % len(colours)]
            ax.fill_between(x, q["0.05"], q["0.95"], color=c, alpha=0.12, lw=0)
            ax.fill_between(x, q["0.25"], q["0.75"], color=c, alpha=0.25, lw=0)
            ax.plot(x, q["0.5"], color=c, lw=1.6, label=s.name.replace("_", " "))
        ax.set_title(_label(m, v), fontsize=9)
        ax.set_ylabel(_units(m, v), fontsize=8)
        ax.yaxis.set_major_formatter(ticks)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(
        f"{m.spec.title or m.name}: median, 50% and 90% bands, {data.runs:,} members per scenario",
        fontsize=9,
    )
    buf = io.BytesIO()
    save_figure(fig, buf, dpi=120, format="png")
    plt.close(fig)
    return buf.getvalue()


def _matter(data: BriefData) -> list[dict[str, Any]]:
    assert data.loops is not None
    by_id = {lp["id"]: lp for lp in data.loops["loops"]}
    return [by_id[i] for i in data.loops["matter"]]


def _loop_title(lp: dict[str, Any]) -> str:
    kind = "reinforcing" if lp["polarity"] == "R" else "balancing"
    name = f" {lp['name'].replace('_', ' ')}" if lp.get("name") else ""
    return f"{lp['id']}{name} ({kind})"


def _loops_table(data: BriefData) -> Table:
    rows = []
    m = data.model
    for lp in _matter(data):
        claims = lp.get("claim") or ", ".join(
            dict.fromkeys(c for link in lp["links"] for c in link["claims"])
        )
        rows.append(
            [
                _loop_title(lp),
                " → ".join(_label(m, v) for v in lp["variables"]),
                fmt_number(lp["mean_relative"], 2),
                claims or "—",
            ]
        )
    return Table(["loop", "variables", "mean relative score", "claims"], rows)


def _loops_png(data: BriefData) -> bytes:
    import matplotlib.pyplot as plt

    assert data.loops is not None
    m = data.model
    x: Any = data.loops["time"]
    if m.spec.time.origin is not None:
        x = m.dates(x)
    fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
    for lp in _matter(data):
        ax.plot(x, lp["relative_score"], lw=1.5, label=_loop_title(lp))
    ax.set_ylabel("relative loop score")
    ax.set_ylim(-1.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=4)
    buf = io.BytesIO()
    save_figure(fig, buf, dpi=120, format="png")
    plt.close(fig)
    return buf.getvalue()


def _assumptions(m: LoadedModel) -> Table:
    spec = m.spec
    levers = set(date_levers(spec)) if spec.time.origin is not None else set()
    rows = []
    for n, c in spec.constants.items():
        if c.assumption:
            value = f"{fmt_number(c.value)} {c.units or ''}".strip()
            if n in levers:  # a date, or "never" beyond the run
                value = "never" if c.value > spec.time.stop else _date_text(m, c.value)
            rows.append([n, value, c.assumption, c.source or ""])
    for n, v in spec.variables.items():
        if v.assumption:
            rows.append([n, "(equation)", v.assumption, ", ".join(v.claims)])
    return Table(
        ["name", "value", "assumption", "source or claims"], rows, [False, True, False, False]
    )


def _sources(m: LoadedModel) -> list[str]:
    out = []
    for sid, s in m.spec.sources.items():
        f = s.fields
        bits = [
            f"{sid}: “{f.get('title', '')}”",
            str(f.get("publisher", "")),
            str(f.get("date", "")),
        ]
        if f.get("url"):
            bits.append(str(f["url"]))
        out.append(", ".join(b for b in bits if b))
    return out


# ---------------------------------------------------------------- formats


def render_brief(
    m: LoadedModel,
    fmt: str,
    runs: int = 1000,
    seed: int = 1,
    scenarios: Sequence[str] | None = None,
) -> bytes:
    """The brief as bytes in ``fmt`` ("md", "html" or "pdf"); Markdown without figures."""
    from quidpro.report.doc import to_html, to_markdown, to_pdf

    doc = compose(analyse(m, scenarios, runs, seed))
    if fmt == "md":
        return to_markdown(doc)[0].encode("utf-8")
    html = to_html(doc)
    if fmt == "html":
        return html.encode("utf-8")
    return to_pdf(html)
