"""Analyses the page and the brief show when the library has them for a model.

Loop analysis (``quidpro.analysis.loops``), the claims library
(``quidpro.analysis.claims``) and the evidence ledger and back-test
(``quidpro.evidence``) are built on other branches. Each adapter here returns the
contract document of DESIGN.md, or ``None`` when the piece is not installed or the model
has no such data: the page then says "not available for this model yet".
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from quidpro.model.spec import Model
from quidpro.solve.simulate import Compiled


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


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def loop_analysis(m: LoadedModel) -> dict[str, Any] | None:
    """The ``loops --json`` document of the baseline run, or None."""
    mod = _module("quidpro.analysis.loops")
    if mod is None or not hasattr(mod, "analyse_loops"):
        return None
    result = mod.analyse_loops(m)
    for method in ("to_json", "document", "as_json"):
        if hasattr(result, method):
            doc: dict[str, Any] = getattr(result, method)()
            return doc
    return {
        "time": [float(t) for t in np.asarray(result.times)],
        "loops": [
            {
                "id": lp.id,
                "polarity": lp.polarity,
                "variables": list(lp.variables),
                "relative_score": [float(x) for x in np.asarray(lp.relative_score)],
            }
            for lp in result.loops
        ],
        "dominant_periods": [
            {"start": float(p.start), "end": float(p.end), "loops": list(p.loops)}
            for p in result.dominant_periods
        ],
    }


def claims_document(m: LoadedModel, runs: int, seed: int) -> dict[str, Any] | None:
    """The ``claims --json`` document (H1-H4 with probabilities), or None without claims."""
    from quidpro.analysis.claims import evaluate
    from quidpro.analysis.flagship_claims import claim_set
    from quidpro.errors import QuidproError

    try:
        claims = claim_set(m)
    except QuidproError:  # a model with no claim tests
        return None
    doc: dict[str, Any] = evaluate(m, claims, n=runs, seed=seed).to_json()
    return doc


def evidence_rows(m: LoadedModel) -> list[dict[str, Any]] | None:
    """The model's evidence ledger against the model, or None."""
    mod = _module("quidpro.evidence")
    if mod is None or not callable(getattr(mod, "ledger_for", None)):
        return None
    rows: list[dict[str, Any]] | None = mod.ledger_for(m)
    return rows


def backtest_scores(m: LoadedModel) -> dict[str, Any] | None:
    """A stored ``backtest --json`` document of the model, or None."""
    mod = _module("quidpro.evidence")
    if mod is None or not callable(getattr(mod, "stored_backtest", None)):
        return None
    doc: dict[str, Any] | None = mod.stored_backtest(m)
    return doc
