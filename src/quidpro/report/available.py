"""The analyses the page and the brief show, as JSON documents: loops, evidence, back-test.

Each function calls the library's own API (:func:`quidpro.analysis.loops.analyse_loops`,
:mod:`quidpro.evidence.ledger`, :func:`quidpro.analysis.backtest.backtest`,
:mod:`quidpro.ensemble.posterior`) and returns a document of floats and strings, or
``None`` when the model has no such thing (no feedback loop, no evidence file shipped,
no stored back-test, no posterior): the page then says so.

The back-test calibrates the model once per cutoff, which takes minutes; the page reads
a stored result shipped beside the model file (``NAME.backtest.json``), written by
:func:`write_backtest` (``scripts/store_backtest.py``) with the fixed
:data:`BACKTEST_SETTINGS`, and a slow test checks that a fresh run equals it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from quidpro.analysis.loops import LoopAnalysis, analyse_loops
from quidpro.ensemble.posterior import PosteriorTable, model_posterior
from quidpro.evidence.ledger import Ledger, builtin_ledger, read_ledger
from quidpro.lang.ast import names as expr_names
from quidpro.model.spec import Model
from quidpro.solve.simulate import Compiled

N_LOOPS = 8  # loops that matter: the strongest by mean absolute relative score
EVIDENCE_RUNS = 200  # posterior members behind the evidence tab's model bands
EVIDENCE_SEED = 1

# The stored back-test's settings (docs/web.md, "Evidence"): the cutoffs of
# docs/calibration.md, a Laplace posterior around the MAP (minutes, not an hour), on
# numba's kernel: the kernels agree only to rounding, which the search for the mode
# amplifies, so the stored numbers are those of one named kernel.
BACKTEST_SETTINGS: dict[str, Any] = {
    "cutoffs": ["2023-06-30", "2023-12-31", "2024-03-01"],
    "runs": 1000,
    "seed": 1,
    "method": "map",
    "draws": 1000,
    "backend": "jit",
}


class LoadedModel(Protocol):
    """What the reports need of a loaded model (:class:`quidpro.LoadedModel` is one)."""

    spec: Model
    compiled: Compiled

    @property
    def name(self) -> str:
        """The model's name."""
        ...

    def dates(self, times: Any) -> pd.DatetimeIndex:
        """Calendar dates of model times."""
        ...

    def overrides(
        self, scenario: str | None = None, set: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Constant values of a scenario plus explicit settings."""
        ...


# ---------------------------------------------------------------- loops


def loop_analysis(m: LoadedModel, backend: str = "auto") -> dict[str, Any] | None:
    """The baseline run's loop dominance as a ``loops --json`` document, or None.

    The contract's keys (``time``, ``loops`` with ``id``, ``polarity``, ``variables``,
    ``relative_score``; ``dominant_periods``) plus, for the page: ``dates`` where the
    model has a calendar, and per loop its ``name`` and ``claim`` (from the model's
    ``loops:`` section), ``mean_relative``, ``peak_relative`` and its ``links`` with the
    claims and evidence behind each. Loops are ordered by mean absolute relative
    score; ``matter`` lists the first :data:`N_LOOPS` ids.
    """
    if not has_feedback(m.spec):
        return None
    return loops_document(m, analyse_loops(m, backend=backend))


def has_feedback(spec: Model) -> bool:
    """Whether the model has a feedback loop: a cycle through a stock's flows.

    (Asked first: ``analyse_loops`` expects at least one link that can score.)
    """
    import networkx as nx

    g = nx.DiGraph()
    for name, var in spec.variables.items():
        g.add_edges_from((n, name) for n in expr_names(var.equation))
    for name, stock in spec.stocks.items():
        g.add_edges_from((f, name) for f in (*stock.inflows, *stock.outflows))
    return not nx.is_directed_acyclic_graph(g)


def loops_document(m: LoadedModel, analysis: LoopAnalysis) -> dict[str, Any] | None:
    """:func:`loop_analysis`'s document of an analysis (None without loops)."""
    if not analysis.loops:
        return None
    spec = m.spec
    by_link = claims_by_link(spec)
    ordered = sorted(analysis.loops, key=lambda lp: -float(abs(lp.relative_score).mean()))
    loops = []
    for lp in ordered:
        cycle = [*lp.variables, lp.variables[0]]
        links = [
            {
                "source": a,
                "target": b,
                "polarity": _sign(lp.signs[i] if i < len(lp.signs) else 0),
                "claims": by_link.get((a, b), []),
                "evidence": link_evidence(spec, a, b),
            }
            for i, (a, b) in enumerate(itertools.pairwise(cycle))
        ]
        loops.append(
            {
                "id": lp.id,
                "polarity": lp.polarity,
                "variables": list(lp.variables),
                "relative_score": [float(v) for v in lp.relative_score],
                "name": lp.name,
                "claim": lp.claim,
                "mean_relative": float(lp.mean_relative),
                "peak_relative": float(lp.peak_relative),
                "partition": int(lp.partition),
                "links": links,
            }
        )
    doc: dict[str, Any] = {
        "time": [float(t) for t in analysis.times],
        "loops": loops,
        "dominant_periods": [
            {"start": float(p.start), "end": float(p.end), "loops": list(p.loops)}
            for p in analysis.dominant_periods
        ],
        "matter": loops_that_matter(loops),
    }
    if spec.time.origin is not None:
        doc["dates"] = [d.strftime("%Y-%m-%d") for d in m.dates(analysis.times)]
    return doc


def loops_that_matter(loops: list[dict[str, Any]], n: int = N_LOOPS) -> list[str]:
    """The ids of up to ``n`` loops that compete for dominance, strongest first.

    A loop alone in its part of the model (its cycle partition) has a relative score of
    ±1 throughout: it dominates its part trivially and says nothing about which
    feedback drives the behaviour, so loops that share a part come first, then loops the
    model names (``loops:``), then the rest; in each group, in the order given (by mean
    absolute relative score).
    """
    per_part: dict[int, int] = {}
    for lp in loops:
        per_part[lp["partition"]] = per_part.get(lp["partition"], 0) + 1

    def group(lp: dict[str, Any]) -> int:
        return 0 if per_part[lp["partition"]] > 1 else 1 if lp["name"] else 2

    return [lp["id"] for lp in sorted(loops, key=group)[:n]]


def _sign(s: int) -> str:
    return "+" if s > 0 else "-" if s < 0 else "0"


def claims_by_link(spec: Model) -> dict[tuple[str, str], list[str]]:
    """Each claimed link ``(a, b)`` and the ids of the claims that draw it."""
    out: dict[tuple[str, str], list[str]] = {}
    for cid, c in spec.claims.items():
        for link in c.links:
            out.setdefault((link[0], link[1]), []).append(cid)
    return out


def link_evidence(spec: Model, source: str, target: str) -> list[str]:
    """Source ids behind a link: those named by the constants at its ends or in its equation.

    A constant's ``source`` text names evidence and article ids; the constants of a link
    are its two ends (when they are constants) and those the target's equation reads.
    """
    used = {source, target}
    var = spec.variables.get(target)
    if var is not None:
        used |= expr_names(var.equation)
    ids: dict[str, None] = {}
    for n in sorted(used):
        c = spec.constants.get(n)
        if c is not None:
            for sid in source_ids(spec, c.source):
                ids[sid] = None
    return list(ids)


def source_ids(spec: Model, text: str | None) -> list[str]:
    """The ids of ``spec.sources`` a ``source`` text names, in order."""
    known = set(spec.sources)
    found = re.findall(r"[A-Za-z][A-Za-z0-9_]*", text or "")
    return list(dict.fromkeys(t for t in found if t in known))


# ---------------------------------------------------------------- posterior


def posterior_info(m: LoadedModel) -> dict[str, Any] | None:
    """``{"file", "draws", "constants"}`` of the model's posterior, or None (the prior)."""
    table = model_posterior(m.spec)
    if table is None:
        return None
    cal = m.spec.calibration
    path = cal.posterior_path(m.spec.file) if cal is not None else None
    return {
        "file": Path(str(path)).name if path is not None else "",
        "draws": len(table),
        "constants": list(table.names),
    }


# ---------------------------------------------------------------- evidence


def model_ledger(m: LoadedModel) -> Ledger | None:
    """The evidence file shipped with the model (``NAME.evidence.csv``), or None."""
    if not Path(m.spec.file).is_file():
        return None
    found = builtin_ledger(str(m.spec.file))
    return None if found is None else read_ledger(found)


def evidence_document(
    m: LoadedModel, runs: int = EVIDENCE_RUNS, seed: int = EVIDENCE_SEED
) -> dict[str, Any] | None:
    """The model's ledger against the model, or None when it ships no evidence file.

    ``rows``: every row (id, date, indicator, kind, value, unit, confidence, source,
    and ``fitted``: "yes" or why not) with, for the rows the model's ``observations:``
    read, the model's 5%, 50% and 95% at the row's date (``variable`` names the model
    variable when the observation reads one directly). ``indicators``: per observed
    indicator, the model's band over the run. Members come from the posterior when the
    model has one (``basis``), else the bands are the baseline run.
    """
    from quidpro.analysis.likelihood import targets

    ledger = model_ledger(m)
    if ledger is None:
        return None
    spec = m.spec
    tg = targets(spec, ledger)
    why = {r.id: reason for r, reason in tg.skipped}
    table = model_posterior(spec)
    observed = [i for i in ledger.indicators() if i in spec.observations]
    times, series, at_rows = _bands(m, tg, observed, table, runs, seed)
    rows = []
    for r in ledger:
        obs = spec.observations.get(r.indicator)
        entry: dict[str, Any] = {
            "id": r.id,
            "date": r.date.text if r.date is not None else None,
            "time": r.time,
            "indicator": r.indicator,
            "kind": r.kind,
            "value": r.value,
            "unit": r.fields.get("unit", ""),
            "confidence": r.confidence,
            "fitted": "yes" if r.id not in why else f"no: {why[r.id]}",
            "source": r.fields.get("source_title", ""),
            "publisher": r.fields.get("source_publisher", ""),
            "url": r.fields.get("source_url", ""),
            "variable": _direct_variable(spec, obs.expression) if obs is not None else None,
            "model": None,
        }
        if r.id in at_rows:
            lo, mid, hi = at_rows[r.id]
            entry["model"] = {"q05": lo, "q50": mid, "q95": hi}
        rows.append(entry)
    dates = None
    if spec.time.origin is not None:
        dates = [d.strftime("%Y-%m-%d") for d in m.dates(times)]
    return {
        "file": Path(ledger.file).name,
        "basis": "posterior" if table is not None else "baseline run",
        "runs": runs if table is not None else 1,
        "seed": seed,
        "fitted": len(tg),
        "rows": rows,
        "time": [float(t) for t in times],
        "dates": dates,
        "indicators": {
            ind: {
                "doc": spec.observations[ind].doc or "",
                "variable": _direct_variable(spec, spec.observations[ind].expression),
                "q05": [float(v) for v in q[0]],
                "q50": [float(v) for v in q[1]],
                "q95": [float(v) for v in q[2]],
            }
            for ind, q in series.items()
        },
    }


def _bands(  # noqa: PLR0917 - the ensemble's settings, in the order of evidence_document
    m: LoadedModel,
    tg: Any,
    indicators: list[str],
    table: PosteriorTable | None,
    runs: int,
    seed: int,
) -> tuple[Any, dict[str, Any], dict[str, tuple[float, float, float]]]:
    """Saved times, each indicator's 5/50/95% band ``(3, time)`` and each target's.

    One ensemble (the posterior's members, or the baseline run without a posterior),
    read as the likelihood reads it.
    """
    import numpy as np

    from quidpro.analysis.likelihood import indicator_series, predictions
    from quidpro.ensemble.sampling import draw
    from quidpro.model.overrides import constant_overrides
    from quidpro.solve.simulate import simulate

    spec = m.spec
    visible = {*spec.stocks, *spec.flows, *spec.auxiliaries}
    record = tuple(
        dict.fromkeys(
            n
            for i in indicators
            for n in sorted(expr_names(spec.observations[i].expression))
            if n in visible
        )
    )
    if table is None:
        traj = simulate(m.compiled, {}, 1, record=record or None)
    else:
        members = draw(spec, runs, seed, posterior=table).rows(0, runs)
        traj = simulate(
            m.compiled, constant_overrides(spec, None, members), runs, record=record or None
        )
    values = {n: traj.values[:, j, :] for j, n in enumerate(traj.names)}
    qs = [0.05, 0.5, 0.95]
    bands = {}
    with np.errstate(all="ignore"):
        for i in indicators:
            y = indicator_series(spec.observations[i], traj.times, values, spec)
            bands[i] = np.nanquantile(y, qs, axis=1)
        at: dict[str, tuple[float, float, float]] = {}
        if tg.items:
            pred = predictions(tg, traj.times, values)
            for t, row in zip(tg.items, pred, strict=True):
                lo, mid, hi = (float(v) for v in np.nanquantile(row, qs))
                at[t.row.id] = (lo, mid, hi)
    return traj.times, bands, at


def _direct_variable(spec: Model, expr: Any) -> str | None:
    """The variable an observation reads, when its expression is just that name."""
    from quidpro.lang.ast import Name

    if isinstance(expr, Name) and (expr.id in spec.variables or expr.id in spec.stocks):
        return str(expr.id)
    return None


# ---------------------------------------------------------------- back-test


def backtest_file(spec: Model) -> Path | None:
    """Where a model's stored back-test lives: ``NAME.backtest.json`` beside its file."""
    p = Path(spec.file)
    if not p.is_file():
        return None
    return p.with_name(p.stem + ".backtest.json")


def fingerprint(m: LoadedModel) -> dict[str, str]:
    """SHA-256 prefixes of the model file and its evidence file (a stored result's inputs)."""
    out = {}
    if Path(m.spec.file).is_file():
        out["model"] = _sha(Path(m.spec.file))
        found = builtin_ledger(str(m.spec.file))
        if found is not None:
            out["evidence"] = _sha(found)
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def compute_backtest(m: LoadedModel, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A fresh ``backtest --json`` document with :data:`BACKTEST_SETTINGS`, and its inputs.

    The document gains ``settings`` and ``inputs`` (:func:`fingerprint`).

    Raises:
        ConfigError: The model ships no evidence file.
    """
    from quidpro.analysis.backtest import backtest
    from quidpro.errors import ConfigError

    s = dict(BACKTEST_SETTINGS if settings is None else settings)
    ledger = model_ledger(m)
    if ledger is None:
        raise ConfigError(f"model {m.name!r} ships no evidence file to back-test against")
    cutoffs = [dt.date.fromisoformat(c) for c in s["cutoffs"]]
    doc = backtest(
        m,
        ledger,
        cutoffs,
        runs=s["runs"],
        seed=s["seed"],
        method=s["method"],
        draws=s["draws"],
        backend=s.get("backend", "auto"),
    )
    return {**doc, "settings": s, "inputs": fingerprint(m)}


def write_backtest(m: LoadedModel, path: Path | None = None) -> Path:
    """Run :func:`compute_backtest` and store it (default: :func:`backtest_file`)."""
    from quidpro.errors import ConfigError

    target = path or backtest_file(m.spec)
    if target is None:
        raise ConfigError(f"model {m.name!r} has no file to store a back-test beside")
    doc = compute_backtest(m)
    target.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return target


def stored_backtest(m: LoadedModel) -> dict[str, Any] | None:
    """The stored back-test of the model, or None when there is none.

    ``stale`` is True when the model or evidence file changed since it was written.
    """
    path = backtest_file(m.spec)
    if path is None or not path.is_file():
        return None
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    doc["file"] = path.name
    doc["stale"] = doc.get("inputs") != fingerprint(m)
    return doc


# ---------------------------------------------------------------- claims


def claims_document(m: LoadedModel, runs: int, seed: int) -> dict[str, Any] | None:
    """The ``claims --json`` document (H1-H4 with probabilities), or None without claims.

    Members come from the model's posterior when it has one (as ``quidpro claims``).
    """
    from quidpro.analysis.claims import evaluate
    from quidpro.analysis.flagship_claims import claim_set
    from quidpro.errors import QuidproError

    try:
        claims = claim_set(m)
    except QuidproError:  # a model with no claim tests
        return None
    doc: dict[str, Any] = evaluate(m, claims, n=runs, seed=seed).to_json()
    return doc
