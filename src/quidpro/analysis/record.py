"""Does an ensemble agree with the record? Each fitted ledger row against its 90% band.

For every row of a ledger the model's ``observations:`` can score (values and bounds,
never events), the ensemble's 5%, 50% and 95% quantiles of the model's reading of it.
A value is *covered* when it lies inside the band; a lower bound ("more than X") is
respected when the band's top reaches it (the ensemble allows it), an upper bound ("up
to X") when the band's bottom stays at or below it. The band's *sharpness* is its width
relative to the median (``q95 / q05`` for lognormal observations), so a band that
covers everything by being enormous is visible as such.

This replaces the history filter of the old figures script: instead of keeping prior
members that pass hand-written checks, the posterior is fitted by ``quidpro calibrate``
and this check says whether its ensemble agrees with the record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from quidpro.analysis.likelihood import Targets, predictions, targets
from quidpro.ensemble.runner import CompiledLike, compiled_of
from quidpro.evidence.ledger import Ledger
from quidpro.model.overrides import constant_overrides
from quidpro.solve.simulate import simulate


@dataclass(frozen=True)
class RecordCheck:
    """One ledger row against the ensemble's band."""

    id: str
    indicator: str
    date: str
    kind: str
    term: str  # "value" | "lower" | "upper"
    observed: float
    q05: float
    q50: float
    q95: float

    @property
    def covered(self) -> bool:
        """Whether the row agrees with the band (see the module docstring)."""
        if self.term == "lower":
            return self.q95 >= self.observed
        if self.term == "upper":
            return self.q05 <= self.observed
        return self.q05 <= self.observed <= self.q95

    @property
    def ratio(self) -> float:
        """Band width as ``q95 / q05`` (inf when the band reaches zero)."""
        return float("inf") if self.q05 <= 0 else self.q95 / self.q05


def ensemble_predictions(
    model: CompiledLike,
    tg: Targets,
    values: Mapping[str, np.ndarray],
    n: int,
    *,
    batch: int = 500,
    backend: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """The model's reading of every target for every member, shape (target, member)."""
    compiled = compiled_of(model)
    record = list(tg.variables)
    out = np.empty((len(tg.items), n))
    for lo in range(0, n, batch):
        hi = min(n, lo + batch)
        sets = {k: np.asarray(v[lo:hi]) for k, v in values.items()}
        traj = simulate(
            compiled,
            constant_overrides(compiled.model, None, sets),
            hi - lo,
            record=record,
            backend=backend,
            member_offset=lo,
        )
        series = {r: traj.series(r) for r in record}
        out[:, lo:hi] = predictions(tg, traj.times, series)
        if progress is not None:
            progress(hi - lo)
    return out


def check_record(
    model: CompiledLike,
    ledger: Ledger,
    values: Mapping[str, np.ndarray],
    n: int,
    *,
    backend: str = "auto",
    level: float = 0.9,
    predictive: bool = False,
    seed: int = 0,
) -> list[RecordCheck]:
    """Every scorable row of ``ledger`` against the central ``level`` band of ``values``.

    ``q05`` and ``q95`` of each check hold that band's edges (90% by default). With
    ``predictive``, the band is the posterior *predictive* one: each member's reading is
    perturbed by the observation's own error (the likelihood's, confidence factor
    included; drawn with ``seed``), which is what an observed value is compared with.
    """
    tg = targets(compiled_of(model).model, ledger)
    pred = ensemble_predictions(model, tg, values, n, backend=backend)
    if predictive:
        z = np.random.default_rng(seed).standard_normal(pred.shape)
        for i, t in enumerate(tg.items):
            if t.observation.error == "lognormal":
                pred[i] = np.maximum(pred[i], 0.0) * np.exp(t.sd * z[i])
            else:
                pred[i] = pred[i] + t.sd * z[i]
    tail = (1.0 - level) / 2.0
    q = np.quantile(pred, [tail, 0.5, 1.0 - tail], axis=1)
    return [
        RecordCheck(
            t.row.id,
            t.row.indicator,
            t.row.when,
            t.row.kind,
            t.term,
            t.value,
            float(q[0, i]),
            float(q[1, i]),
            float(q[2, i]),
        )
        for i, t in enumerate(tg.items)
    ]
