"""What a reader can move on the page: sliders and date levers of a model.

Date levers and dated events are defined in :mod:`quidpro.report.labels` (the page
shows a date picker and a "never" box for a lever). A *slider* is an uncertain constant
(a distribution or a range of non-zero width) that is not a date lever;
:func:`rank_sliders` orders them by how much they move the model's stocks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from quidpro.ensemble.sampling import bounds, varied
from quidpro.model.spec import Model
from quidpro.report.labels import date_levers, first_sentence, label_of


def slider_candidates(model: Model) -> list[str]:
    """Constants a slider may move: uncertain, of non-zero width, not a date lever."""
    levers = set(date_levers(model))
    out = []
    for name in varied(model):
        c = model.constants[name]
        if name in levers or c.expr is not None:
            continue
        lo, hi = bounds(model, name)
        if hi > lo:
            out.append(name)
    return out


def slider(model: Model, name: str, score: float | None = None) -> dict[str, Any]:
    """The page's description of one slider (range, step, units, label, doc)."""
    c = model.constants[name]
    lo, hi = bounds(model, name)
    lo, hi = min(lo, c.value), max(hi, c.value)
    return {
        "name": name,
        "label": label_of(model, name),
        "doc": first_sentence(c.doc),
        "units": c.units or "",
        "value": float(c.value),
        "min": float(lo),
        "max": float(hi),
        "step": _step(lo, hi),
        "source": c.source or "",
        "assumption": c.assumption or "",
        "score": score,
    }


def _step(lo: float, hi: float) -> float:
    """A slider step: near a round number, dividing the range exactly.

    About 100–200 positions, so that the slider's ends are the range's ends.
    """
    width = hi - lo
    if width <= 0:
        return 1.0
    raw = width / 150.0
    p = 10.0 ** math.floor(math.log10(raw))
    nice = next(m * p for m in (1.0, 2.0, 5.0, 10.0) if raw <= m * p)
    return float(width / max(1, round(width / nice)))


def rank_sliders(
    model: Model, values: np.ndarray, names: Sequence[str], outputs: np.ndarray
) -> list[tuple[str, float]]:
    """Order ``names`` by Morris's mu* (mean absolute elementary effect) over many outputs.

    ``values`` (runs, k) is a Morris design over ``names`` (SALib's: trajectories of
    ``k + 1`` rows, each step moving one factor); ``outputs`` (runs, m) the outputs of
    each run. Each output's effects are divided by that output's spread, so that stocks
    in millions and in fractions count alike; the score is the mean over outputs.
    Computed here for all outputs at once: SALib's ``morris.analyze`` takes one output
    per call and bootstraps a confidence interval the ranking does not use.
    """
    k = len(names)
    lo = np.array([bounds(model, n)[0] for n in names])
    hi = np.array([bounds(model, n)[1] for n in names])
    unit = (values - lo) / np.where(hi > lo, hi - lo, 1.0)  # the design in [0, 1]
    spread = outputs.std(axis=0)
    y = outputs[:, spread > 0] / spread[spread > 0]
    n_traj = len(values) // (k + 1)
    total = np.zeros(k)
    count = np.zeros(k)
    for t in range(n_traj):
        rows = slice(t * (k + 1), (t + 1) * (k + 1))
        dx = np.diff(unit[rows], axis=0)  # (k, k): one non-zero entry per step
        dy = np.diff(y[rows], axis=0)  # (k, m)
        moved = np.argmax(np.abs(dx), axis=1)
        step = dx[np.arange(k), moved]
        ok = step != 0
        effects = np.abs(dy[ok] / step[ok, None]).mean(axis=1) if y.shape[1] else 0.0
        np.add.at(total, moved[ok], effects)
        np.add.at(count, moved[ok], 1)
    scores = np.divide(total, count, out=np.zeros(k), where=count > 0)
    order = np.argsort(-scores, kind="stable")
    return [(names[i], float(scores[i])) for i in order]
