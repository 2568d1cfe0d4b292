"""Loop dominance analysis with Loops That Matter, over one run or an ensemble.

:func:`analyse_loops` finds the model's feedback loops (every elementary loop, or a
bounded strongest-path search where there are more than ``budget``), compiles an
augmented model whose extra auxiliaries are the link and loop scores (see
:mod:`quidpro.analysis.loops_kernel`), runs it, and reduces the loop scores:

- relative loop score: a loop's score over the sum of the absolute scores of the
  loops in its cycle partition (the strongly connected part of the model it lies
  in), in [-1, 1];
- dominant loops at a time: the smallest set of a partition's loops whose absolute
  relative scores add up to at least one half; dominant periods are the runs of
  saved times with the same dominant set;
- with ``runs > 1``, members drawn from the uncertain constants' distributions, and
  ``p_dominant``: the share of members in which each loop is dominant at each time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quidpro.analysis.loops_expand import Expansion, expand
from quidpro.analysis.loops_graph import (
    assign_ids,
    enumerate_cycles,
    fold,
    is_internal,
    link_graph,
    partitions,
    strongest_loops,
)
from quidpro.analysis.loops_kernel import augment
from quidpro.api import LoadedModel
from quidpro.errors import ConfigError, ModelError
from quidpro.model.spec import Model

BUDGET = 2000  # elementary loops enumerated before the bounded search takes over
SEARCH_TIMES = 40  # saved times at which the bounded search looks for strong loops
BATCH = 2000  # ensemble members per kernel call


@dataclass
class LoopReport:
    """One feedback loop and its scores over time (the base run)."""

    id: str
    polarity: str
    variables: tuple[str, ...]
    partition: int
    relative_score: np.ndarray  # (time,)
    score: np.ndarray  # (time,) raw loop score
    name: str | None = None
    claim: str | None = None
    p_dominant: np.ndarray | None = None  # (time,), with runs > 1
    mean_relative: float = 0.0
    peak_relative: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}" if self.name else self.id


@dataclass
class Period:
    start: float
    end: float
    loops: tuple[str, ...]


@dataclass
class LoopAnalysis:
    model: Model
    times: np.ndarray
    loops: list[LoopReport]
    dominant_periods: list[Period]
    searched: dict[str, Any] = field(default_factory=dict)
    runs: int = 1
    seed: int | None = None

    def loop(self, key: str) -> LoopReport:
        """A loop by id (``R1``) or by its name from the model's ``loops:`` section."""
        for lp in self.loops:
            if key in (lp.id, lp.name):
                return lp
        known = ", ".join(lp.label for lp in self.loops)
        raise ConfigError(f"no loop {key!r}; the loops are: {known}")


def relative_scores(scores: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Scores ``(loop, ...)`` over the absolute sum of their partition's, 0 where all are 0."""
    rel = np.zeros_like(scores)
    for p in np.unique(parts):
        sel = parts == p
        denom = np.abs(scores[sel]).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel[sel] = np.where(denom > 0, scores[sel] / denom, 0.0)
    return rel


def dominant_mask(rel: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Boolean ``(loop, ...)``: the smallest set per partition explaining >= half."""
    mask = np.zeros(rel.shape, dtype=bool)
    for p in np.unique(parts):
        idx = np.flatnonzero(parts == p)
        mag = np.abs(rel[idx])
        order = np.argsort(-mag, axis=0, kind="stable")
        sorted_mag = np.take_along_axis(mag, order, axis=0)
        before = np.cumsum(sorted_mag, axis=0) - sorted_mag  # explained before this loop
        take = (before < 0.5 - 1e-12) & (sorted_mag > 0)
        chosen = np.zeros(mag.shape, dtype=bool)
        np.put_along_axis(chosen, order, take, axis=0)
        mask[idx] = chosen
    return mask


def periods(times: np.ndarray, mask: np.ndarray, ids: list[str]) -> list[Period]:
    """Runs of consecutive saved times with the same (non-empty) dominant set."""
    out: list[Period] = []
    current: tuple[str, ...] = ()
    start = 0
    for k in range(len(times) + 1):
        here = tuple(i for i, m in zip(ids, mask[:, k], strict=True) if m) if k < len(times) else ()
        if here != current:
            if current:
                out.append(Period(float(times[start]), float(times[k - 1]), current))
            current, start = here, k
    return out


class _Setup:
    """The expanded model, its loops and the compiled score kernel."""

    def __init__(self, spec: Model, budget: int, base_overrides: Mapping[str, Any]) -> None:
        self.ex: Expansion = expand(spec)
        self.g = link_graph(self.ex)
        self.part = partitions(self.g)
        cycles, cut = enumerate_cycles(self.g, budget)
        self.searched: dict[str, Any] = {"budget": budget}
        if cut:
            cycles = self._bounded(budget, base_overrides)
            self.searched.update(
                method="strongest path (Eberlein & Schoenberg 2020)",
                note=f"more than {budget} elementary loops: kept the strongest found at "
                f"{SEARCH_TIMES} times of the base run",
            )
        else:
            self.searched.update(method="every elementary loop (Johnson 1975)")
        internal = [c for c in cycles if is_internal(self.ex, c)]
        self.cycles = [c for c in cycles if not is_internal(self.ex, c)]
        self.searched.update(loops=len(self.cycles), internal_dropped=len(internal), cut=cut)
        aug = augment(self.ex, self.g, self.cycles)
        self.loop_names = aug.loop_names
        self.model = LoadedModel(aug.model)

    def _bounded(self, budget: int, overrides: Mapping[str, Any]) -> list[tuple[str, ...]]:
        aug = augment(self.ex, self.g, [], list(self.g.edges))
        probe = LoadedModel(aug.model)
        names = list(aug.link_names.values())
        traj = probe.simulate(set=dict(overrides), record=names, backend="numpy")
        scores = {
            link: traj.values[:, k, 0]
            for k, link in enumerate(aug.link_names)
            if link[0] != link[1]
        }
        n = len(traj.times)
        times = np.unique(np.linspace(1, n - 1, min(SEARCH_TIMES, max(n - 1, 1))).astype(int))
        return strongest_loops(self.g, self.ex.model.stocks, scores, times, budget)


def analyse_loops(
    model: LoadedModel | Model,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
    runs: int = 1,
    seed: int | None = None,
    budget: int = BUDGET,
    backend: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> LoopAnalysis:
    """Loops That Matter on ``model``: see the module docstring.

    Args:
        model: a loaded model or a model spec.
        scenario: a scenario of the model (its constant settings).
        sets: constant values that override the scenario's.
        runs: ensemble members; above 1, uncertain constants are sampled and each loop
            gets ``p_dominant``.
        seed: the ensemble's seed (required for reproducible members).
        budget: elementary loops to enumerate before switching to the bounded search.
        backend: the kernel backend ("auto", "numpy", "jit").
        progress: called with the number of members finished after each batch.
    """
    base = model if isinstance(model, LoadedModel) else LoadedModel(model)
    spec = base.spec
    if runs < 1:
        raise ConfigError(f"runs must be at least 1, got {runs}")
    overrides = base.overrides(scenario, sets)
    setup = _Setup(spec, budget, overrides)
    kernel = setup.model
    record = tuple(setup.loop_names)
    parts = np.array([setup.part[c[0]] for c in setup.cycles], dtype=int)
    times = _times(kernel, overrides, record, backend)
    scores = times[1]
    times_arr = times[0]
    rel = relative_scores(scores, parts)
    p_dom = None
    if runs > 1:
        p_dom = _ensemble(kernel, spec, overrides, record, parts, runs, seed, backend, progress)
    polarity = [
        _polarity(scores[k], None if p_dom is None else p_dom[1][k]) for k in range(len(record))
    ]
    keep = [k for k, pol in enumerate(polarity) if pol is not None]
    entries = [
        (setup.cycles[k], str(polarity[k]), int(parts[k]), fold(setup.ex, setup.cycles[k]))
        for k in keep
    ]
    ids = assign_ids(entries)
    by_nodes = {lp.nodes: lp for lp in ids}
    reports: list[LoopReport] = []
    for k in keep:
        lp = by_nodes[setup.cycles[k]]
        r = rel[k]
        peak = int(np.argmax(np.abs(r))) if len(r) else 0
        reports.append(
            LoopReport(
                lp.id,
                lp.polarity,
                lp.variables,
                lp.partition,
                r,
                scores[k],
                p_dominant=None if p_dom is None else p_dom[0][k],
                mean_relative=float(np.mean(r)) if len(r) else 0.0,
                peak_relative=float(r[peak]) if len(r) else 0.0,
            )
        )
    order = {lp.id: i for i, lp in enumerate(ids)}
    reports.sort(key=lambda lp: order[lp.id])
    _name_loops(spec, reports)
    inactive = [fold(setup.ex, setup.cycles[k]) for k in range(len(record)) if k not in keep]
    setup.searched.update(inactive=len(inactive), inactive_loops=[list(v) for v in inactive])
    kept_rel = np.array([lp.relative_score for lp in reports]).reshape(len(reports), len(times_arr))
    kept_parts = np.array([lp.partition for lp in reports], dtype=int)
    mask = dominant_mask(kept_rel, kept_parts)
    dom = periods(times_arr, mask, [lp.id for lp in reports])
    return LoopAnalysis(spec, times_arr, reports, dom, setup.searched, runs, seed)


def _times(
    kernel: LoadedModel, overrides: Mapping[str, Any], record: tuple[str, ...], backend: str
) -> tuple[np.ndarray, np.ndarray]:
    if not record:
        t = kernel.spec.time
        n = t.n_steps // t.save_stride + 1
        return t.start + np.arange(n) * t.save_stride * t.dt, np.zeros((0, n))
    traj = kernel.simulate(set=dict(overrides), record=record, backend=backend)
    return traj.times, np.nan_to_num(traj.values[:, :, 0].T)


def _ensemble(
    kernel: LoadedModel,
    spec: Model,
    overrides: Mapping[str, Any],
    record: tuple[str, ...],
    parts: np.ndarray,
    runs: int,
    seed: int | None,
    backend: str,
    progress: Callable[[int], None] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per loop: share of members where it dominates ``(loop, time)``, and the members'
    summed scores (for polarity)."""
    from quidpro.ensemble.sampling import draw, new_seed

    seed = new_seed() if seed is None else seed
    levers = {n for n, c in spec.constants.items() if getattr(c, "lever", False)}
    sample = draw(spec, runs, seed, fixed={*overrides, *levers})
    counts: np.ndarray | None = None
    sums: np.ndarray | None = None
    done = 0
    for lo in range(0, runs, BATCH):
        hi = min(runs, lo + BATCH)
        values: dict[str, Any] = dict(overrides)
        values.update(sample.rows(lo, hi))
        traj = kernel.simulate(
            set=values, n_runs=hi - lo, record=record, backend=backend, member_offset=lo
        )
        s = np.nan_to_num(np.moveaxis(traj.values, 1, 0))  # (loop, time, run)
        rel = relative_scores(s, parts)
        mask = dominant_mask(rel, parts)
        c, total = mask.sum(axis=2), rel.sum(axis=(1, 2))
        counts = c if counts is None else counts + c
        sums = total if sums is None else sums + total
        done = hi
        if progress is not None:
            progress(done)
    assert counts is not None
    assert sums is not None
    return counts / runs, sums


def _polarity(scores: np.ndarray, ensemble_sum: np.ndarray | float | None) -> str | None:
    """R or B from the sign the loop's score takes (most of the time); None if inactive."""
    total = float(np.sum(np.sign(scores)))
    if total == 0 and ensemble_sum is not None:
        total = float(np.sign(ensemble_sum))
    if total == 0:
        return None
    return "R" if total > 0 else "B"


def _name_loops(spec: Model, reports: list[LoopReport]) -> None:
    """Attach the names of the model's ``loops:`` section (shortest loop through all)."""
    for entry in spec.loops.values():
        unknown = [v for v in entry.variables if v not in spec.variables and v not in spec.stocks]
        if unknown:
            raise ModelError(
                f"loop {entry.name!r} names {', '.join(map(repr, unknown))}, which "
                f"{'is' if len(unknown) == 1 else 'are'} not a stock, flow or auxiliary",
                entry.loc,
            )
        matches = [lp for lp in reports if set(entry.variables) <= set(lp.variables)]
        if not matches:
            raise ModelError(
                f"no active feedback loop passes through all of {', '.join(entry.variables)} "
                f"(loop {entry.name!r})",
                entry.loc,
            )
        best = min(matches, key=lambda lp: (len(lp.variables), lp.id))
        best.name, best.claim = entry.name, entry.claim


def link_scores(
    model: LoadedModel | Model,
    links: list[tuple[str, str]] | None = None,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """Link scores of one run, per link ``(source, target)``; every link when None.

    Names are the model's own; links through a builtin's hidden stocks are not offered.
    """
    base = model if isinstance(model, LoadedModel) else LoadedModel(model)
    ex = expand(base.spec)
    g = link_graph(ex)
    wanted = list(g.edges) if links is None else links
    bad = [f"{a} -> {b}" for a, b in wanted if not g.has_edge(a, b)]
    if bad:
        raise ConfigError(f"not a link of {base.name}: {', '.join(bad)}")
    aug = augment(ex, g, [], wanted)
    traj = LoadedModel(aug.model).simulate(
        set=base.overrides(scenario, sets), record=list(aug.link_names.values()), backend="numpy"
    )
    return traj.times, {
        link: traj.values[:, k, 0] for k, link in enumerate(aug.link_names) if link in wanted
    }


__all__ = [
    "LoopAnalysis",
    "LoopReport",
    "Period",
    "analyse_loops",
    "dominant_mask",
    "link_scores",
    "periods",
    "relative_scores",
]
