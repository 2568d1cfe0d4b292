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
- with ``runs > 1``, ensemble members drawn exactly as :func:`quidpro.ensemble.ensemble`
  draws them (from a posterior table when given, else from the uncertain constants'
  distributions; same seed, same members), and ``p_dominant``: the share of members
  in which each loop is dominant at each time.

A model without feedback loops gives a valid, empty analysis (no loops, no dominant
periods).
"""

from __future__ import annotations

import importlib.util
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import TYPE_CHECKING, Any

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
from quidpro.analysis.loops_kernel import augment, scores
from quidpro.analysis.loops_products import LoopProducts, flat_columns
from quidpro.ensemble.runner import CompiledLike, compiled_of
from quidpro.errors import ConfigError, ModelError, SimulationError
from quidpro.model.limits import MAX_VALUES, limit
from quidpro.model.overrides import constant_overrides
from quidpro.model.spec import Model
from quidpro.solve.simulate import Compiled, OutputArena, Trajectories, simulate

if TYPE_CHECKING:
    from quidpro.ensemble.posterior import PosteriorSample, PosteriorTable
    from quidpro.ensemble.sampling import MemberSample

BUDGET = 20000  # elementary loops enumerated before the bounded search takes over
SEARCH_TIMES = 40  # saved times at which the bounded search looks for strong loops
MIN_SHARE = 0.01  # loops below this relative score throughout are not reported
BATCH = 2000  # ensemble members per kernel call, at most
BATCH_BYTES = 768 * 2**20  # and at most this much memory per batch (NumPy's path)
# With numba the series are read once, member by member, so a larger batch buys nothing
# and only holds more memory: the series of a batch stay within this. 64 MiB (44 flagship
# members) measured 13% faster than 128 MiB and as fast as 32 MiB; 8 MiB, too few
# members for the two cores' groups, 50% slower (5,000 posterior members, 2026-12-03).
JIT_BATCH_BYTES = 64 * 2**20


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
    # Polarity (+1/-1, 0 if it never scored) of each link variables[i] -> variables[i + 1]
    # (and last -> first).
    signs: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        """The id, with the loop's name when the model names it."""
        return f"{self.id} {self.name}" if self.name else self.id


@dataclass
class Period:
    """Saved times ``start`` to ``end`` (inclusive) with the same dominant loops."""

    start: float
    end: float
    loops: tuple[str, ...]


@dataclass
class LoopAnalysis:
    """The result of :func:`analyse_loops`."""

    model: Model
    times: np.ndarray
    loops: list[LoopReport]
    dominant_periods: list[Period]
    searched: dict[str, Any] = field(default_factory=dict)
    runs: int = 1
    seed: int | None = None
    # Where the members of an ensemble (runs > 1) came from: "posterior" or "prior";
    # None for one run at the model's values.
    basis: str | None = None
    # Members whose loop run went non-finite (a model variable or a partial change):
    # left out of p_dominant, as quidpro ensemble leaves them out of its probabilities.
    failed: int = 0

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
    # Only loops that score at some time take part (most of a large model's do not).
    live = np.flatnonzero(np.any(flat_columns(scores) != 0, axis=1))
    sub, sub_parts = scores[live], parts[live]
    for p in np.unique(sub_parts):
        sel = sub_parts == p
        denom = np.abs(sub[sel]).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel[live[sel]] = np.where(denom > 0, sub[sel] / denom, 0.0)
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
    if not len(times):
        return []
    changed = np.any(mask[:, 1:] != mask[:, :-1], axis=0)
    starts = np.flatnonzero(np.r_[True, changed]).tolist()
    out: list[Period] = []
    for start, end in zip(starts, [*starts[1:], len(times)], strict=True):
        here = tuple(i for i, m in zip(ids, mask[:, start], strict=True) if m)
        if here:
            out.append(Period(float(times[start]), float(times[end - 1]), here))
    return out


@dataclass
class _Structure:
    """What depends on the model alone: expansion, graph, loops, the compiled kernel."""

    ex: Expansion
    g: Any  # networkx.DiGraph
    part: dict[str, int]
    cycles: list[tuple[str, ...]]  # every elementary loop, or the first ``budget``
    cut: bool
    aug: Any  # loops_kernel.Augmented
    model: Compiled
    loops: _Loops | None = None  # the loops' bookkeeping (when not cut)
    # Wall seconds of building it, by part (for benchmarks/bench_loops.py).
    timings: dict[str, float] = field(default_factory=dict)


class _Loops:
    """The reported loops of a structure and their bookkeeping."""

    def __init__(self, s: _Structure, cycles: list[tuple[str, ...]], links: list[Any]) -> None:
        folded = [fold(s.ex, c) for c in cycles]
        inside = [is_internal(s.ex, c, f) for c, f in zip(cycles, folded, strict=True)]
        self.internal = sum(inside)
        self.cycles = [c for c, i in zip(cycles, inside, strict=True) if not i]
        self.folded = [f for f, i in zip(folded, inside, strict=True) if not i]
        index = {lk: k for k, lk in enumerate(links)}
        self.members = [np.array([index[lk] for lk in _links(c)]) for c in self.cycles]
        self.parts = np.array([s.part[c[0]] for c in self.cycles], dtype=int)
        self.products = LoopProducts(self.members, self.parts)
        self.named: dict[int, Any] | None = None  # see _Setup.named


# Structures of recently analysed models, by (id of the spec, budget): a model's loops
# are enumerated and its augmented kernel compiled once, not at every call. Each entry
# keeps a weak reference to its spec, so a new spec at a recycled id is not confused
# with it.
_CACHE: dict[tuple[int, int], tuple[weakref.ref[Model], _Structure]] = {}
_CACHE_SIZE = 8


def _structure(spec: Model, budget: int) -> _Structure:
    key = (id(spec), budget)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is spec:
        return hit[1]
    clock = [perf_counter()]

    def lap() -> float:
        clock.append(perf_counter())
        return clock[-1] - clock[-2]

    ex = expand(spec)
    g = link_graph(ex)
    expanded = lap()
    cycles, cut = enumerate_cycles(g, budget)
    enumerated = lap()
    # Past the budget every link is scored, then the strongest paths are searched.
    on_loops = sorted({lk for c in cycles for lk in _links(c)})
    aug = augment(ex, g, list(g.edges) if cut else on_loops)
    compiled = Compiled(aug.model)
    s = _Structure(ex, g, partitions(g), cycles, cut, aug, compiled)
    s.timings = {"expansion": expanded, "enumeration": enumerated, "compile": lap()}
    if not cut:
        s.loops = _Loops(s, cycles, list(aug.recipes))
        s.timings["bookkeeping"] = lap()
    while len(_CACHE) >= _CACHE_SIZE:
        del _CACHE[next(iter(_CACHE))]
    _CACHE[key] = (weakref.ref(spec), s)
    return s


class _Setup:
    """The expanded model, its loops and the compiled link-score kernel."""

    def __init__(self, spec: Model, budget: int, base_overrides: Mapping[str, Any]) -> None:
        s = _structure(spec, budget)
        self.ex: Expansion = s.ex
        self.g = s.g
        self.part = s.part
        self.aug = s.aug
        self.links = list(self.aug.recipes)
        self.index = {lk: k for k, lk in enumerate(self.links)}
        self.record = self.aug.record
        self.model = s.model
        self.searched: dict[str, Any] = {"budget": budget}
        self.base: tuple[np.ndarray, np.ndarray] | None = None
        # Wall seconds of building the structure and of the bounded search's parts (for
        # benchmarks/bench_loops.py).
        self.timings: dict[str, float] = dict(s.timings)
        if s.cut:
            started = perf_counter()
            self.base = self.scored(self.base_series(base_overrides, "numpy"))
            probed = perf_counter()
            found = self._bounded(budget, self.base[1][:, :, 0])
            searched = perf_counter()
            loops = _Loops(s, found, self.links)
            self.timings.update(
                probe_run=probed - started,
                search=searched - probed,
                bookkeeping=perf_counter() - searched,
            )
            self.searched.update(
                method="strongest path (Eberlein & Schoenberg 2020)",
                note=f"more than {budget} elementary loops: kept those the strongest-path "
                f"search finds at {SEARCH_TIMES} times of the base run",
            )
        else:
            assert s.loops is not None
            loops = s.loops
            self.searched.update(method="every elementary loop (Johnson 1975)")
        self._loops = loops
        self.cycles = loops.cycles
        self.folded = loops.folded
        self.members = loops.members
        self.parts = loops.parts
        self.products = loops.products
        self.searched.update(loops=len(self.cycles), internal_dropped=loops.internal, cut=s.cut)

    def run(
        self, overrides: Mapping[str, Any], n: int, backend: str, offset: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Times and link scores ``(link, time, run)`` of ``n`` members."""
        if not self.record:
            t = self.model.model.time
            n_t = t.n_steps // t.save_stride + 1
            return t.start + np.arange(n_t) * t.save_stride * t.dt, np.zeros((0, n_t, n))
        return self.scored(self.series(overrides, n, backend, offset))

    def base_series(self, overrides: Mapping[str, Any], backend: str) -> Trajectories:
        """:meth:`series` of the one base run, which must stay finite.

        Raises:
            SimulationError: a variable of the model, or a partial change of one, went
                non-finite (named with the time and the model file's line).
        """
        traj = self.series(overrides, 1, backend, 0)
        if 0 in traj.failures:
            raise self._failure(*traj.failures[0], traj.status)
        return traj

    def _failure(self, name: str, t: float, status: Any) -> SimulationError:
        value = status.value[0] if status is not None else np.nan
        spec = self.ex.model
        partial = {r.partial: r for r in self.aug.recipes.values() if r.partial is not None}
        if name in partial:
            r = partial[name]
            message = (
                f"the partial change of {r.target!r} through {r.source!r} (its link score's "
                f"numerator) became {value} at time {t:g}"
            )
            return SimulationError(message, r.target, t, spec.loc_of(r.target))
        return SimulationError(f"{name!r} became {value} at time {t:g}", name, t, spec.loc_of(name))

    def scored(self, traj: Trajectories) -> tuple[np.ndarray, np.ndarray]:
        """Times and link scores ``(link, time, run)`` of :meth:`series`, at saved steps."""
        series = {name: traj.values[:, k, :] for k, name in enumerate(self.record)}
        ls = scores(self.aug, series, self.links)
        stride = self.model.model.time.save_stride
        return traj.times[::stride], ls[:, ::stride]

    def series(
        self,
        overrides: Mapping[str, Any],
        n: int,
        backend: str,
        offset: int,
        arena: OutputArena | None = None,
    ) -> Trajectories:
        """The series the link scores read, of ``n`` members, at every step.

        Every step is recorded (the scores read x(t) - x(t - dt)); the scores are
        thinned to the model's saved steps. ``arena``: see :func:`simulate`.
        """
        return simulate(
            self.model,
            dict(overrides),
            n,
            record=self.record,
            save_every=self.model.model.time.dt,
            backend=backend,
            member_offset=offset,
            arena=arena,
        )

    def link_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per link: kind, source, target, partial-or-net series (for :mod:`loops_jit`)."""
        kinds = {"partial": 0, "sign": 1, "inflow": 2, "outflow": 3}
        at = {name: k for k, name in enumerate(self.record)}
        rows = []
        for link in self.links:
            r = self.aug.recipes[link]
            other = r.partial if r.kind == "partial" else r.net
            rows.append((kinds[r.kind], at[r.source], at[r.target], at.get(other or "", 0)))
        out = np.array(rows, dtype=np.int64).reshape(len(rows), 4)
        return out[:, 0].copy(), out[:, 1].copy(), out[:, 2].copy(), out[:, 3].copy()

    def named(self, spec: Model) -> dict[int, Any]:
        """Cycle index of each loop the model's ``loops:`` section names (found once)."""
        if self._loops.named is None:
            self._loops.named = _named_cycles(spec, self)
        return self._loops.named

    def loop_scores(self, ls: np.ndarray) -> np.ndarray:
        """Loop scores ``(loop, ...)``: products of their link scores."""
        return self.products.scores(ls)

    def _bounded(self, budget: int, ls: np.ndarray) -> list[tuple[str, ...]]:
        scores = {lk: ls[k] for k, lk in enumerate(self.links) if lk[0] != lk[1]}
        n = ls.shape[1]
        times = np.unique(np.linspace(1, n - 1, min(SEARCH_TIMES, max(n - 1, 1))).astype(int))
        return strongest_loops(self.ex.model.stocks, scores, times, budget)


def _links(cycle: Sequence[str]) -> list[tuple[str, str]]:
    return list(zip(cycle, (*cycle[1:], cycle[0]), strict=True))


def analyse_loops(
    model: CompiledLike | Model,
    *,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
    runs: int = 1,
    seed: int | None = None,
    budget: int = BUDGET,
    min_share: float = MIN_SHARE,
    backend: str = "auto",
    progress: Callable[[int], None] | None = None,
    posterior: PosteriorTable | None = None,
) -> LoopAnalysis:
    """Loops That Matter on ``model``: see the module docstring.

    Args:
        model: a model spec, a compiled model or a :class:`quidpro.LoadedModel`.
        scenario: a scenario of the model (its constant settings).
        sets: constant values that override the scenario's.
        runs: ensemble members; above 1, uncertain constants are sampled and each loop
            gets ``p_dominant``. The base run (relative scores, dominant periods) is
            always the one run at the model's values.
        seed: the ensemble's seed (required for reproducible members).
        budget: elementary loops to enumerate before switching to the bounded search.
        min_share: loops whose relative score never reaches this share in the base run
            are left out of the report (they still count in every normalisation).
        backend: the kernel backend ("auto", "numpy", "jit").
        progress: called with the number of members finished after each batch.
        posterior: draw the members' calibrated constants from this table, as
            :func:`quidpro.ensemble.ensemble` does (:func:`members`).
    """
    spec = model if isinstance(model, Model) else compiled_of(model).model
    if runs < 1:
        raise ConfigError(f"runs must be at least 1, got {runs}")
    overrides = constant_overrides(spec, scenario, sets)
    setup = _Setup(spec, budget, overrides)
    base = _base_run(setup, overrides, backend)
    times_arr, parts, peak_abs = base.times, setup.parts, base.peak
    link_sign = np.sign(base.ls.sum(axis=1)) if base.ls.size else np.zeros(0)
    polarity = _polarities(base.signs)
    named = setup.named(spec)
    for k, entry in named.items():
        if polarity[k] is None:
            polarity[k] = entry.polarity
    keep = [
        k
        for k, pol in enumerate(polarity)
        if pol is not None and (peak_abs[k] >= min_share or k in named)
    ]
    p_dom = None
    failed = 0
    if runs > 1:
        seed = _seed(seed)
        sample = members(spec, runs, seed, scenario=scenario, sets=sets, posterior=posterior)
        p_dom, failed = _ensemble(
            setup, sample, overrides=overrides, keep=keep, backend=backend, progress=progress
        )
    entries = [(setup.cycles[k], str(polarity[k]), int(parts[k]), setup.folded[k]) for k in keep]
    ids = assign_ids(entries)
    by_nodes = {lp.nodes: lp for lp in ids}
    kept_scores, kept_rel = base.kept(keep)
    reports: list[LoopReport] = []
    for j, k in enumerate(keep):
        lp = by_nodes[setup.cycles[k]]
        r = kept_rel[j]
        peak = int(np.argmax(np.abs(r))) if len(r) else 0
        reports.append(
            LoopReport(
                lp.id,
                lp.polarity,
                lp.variables,
                lp.partition,
                r,
                kept_scores[j],
                name=named[k].name if k in named else None,
                claim=named[k].claim if k in named else None,
                p_dominant=None if p_dom is None else p_dom[j],
                signs=_folded_signs(setup, k, lp.variables, link_sign),
                mean_relative=float(np.mean(r)) if len(r) else 0.0,
                peak_relative=float(r[peak]) if len(r) else 0.0,
            )
        )
    order = {lp.id: i for i, lp in enumerate(ids)}
    reports.sort(key=lambda lp: order[lp.id])
    # The loops without a polarity (never scoring, not named), as folded tuples of
    # variables: 2,859 of the flagship's 2,964.
    active = np.array([p is not None for p in polarity], dtype=bool)
    inactive = [setup.folded[k] for k in np.flatnonzero(~active).tolist()]
    minor = int(np.count_nonzero(active & (peak_abs < min_share)))
    setup.searched.update(
        inactive=len(inactive),
        inactive_loops=inactive,
        below_min_share=minor,
        min_share=min_share,
    )
    n_t = len(times_arr)
    kept_rel = np.array([lp.relative_score for lp in reports]).reshape(len(reports), n_t)
    kept_parts = np.array([lp.partition for lp in reports], dtype=int)
    mask = dominant_mask(kept_rel, kept_parts)
    dom = periods(times_arr, mask, [lp.id for lp in reports])
    basis = None if runs == 1 else "prior" if posterior is None else "posterior"
    return LoopAnalysis(spec, times_arr, reports, dom, setup.searched, runs, seed, basis, failed)


def _seed(seed: int | None) -> int:
    from quidpro.ensemble.sampling import new_seed

    return new_seed() if seed is None else seed


def members(
    spec: Model,
    runs: int,
    seed: int,
    *,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
    posterior: PosteriorTable | None = None,
) -> MemberSample | PosteriorSample:
    """The members of a loop analysis over ``runs``: those of the ensemble of one seed.

    This is the call :func:`quidpro.ensemble.ensemble` makes (scenario and ``sets``
    fixed, a posterior's constants from its rows), so member ``i`` has the same values
    in both.
    """
    from quidpro.ensemble.sampling import draw

    fixed = (sets or {}).keys()
    return draw(spec, runs, seed, scenario=scenario, fixed=fixed, posterior=posterior)


def _ensemble(
    setup: _Setup,
    sample: MemberSample | PosteriorSample,
    *,
    overrides: Mapping[str, Any],
    keep: list[int],
    backend: str,
    progress: Callable[[int], None] | None,
) -> tuple[np.ndarray, int]:
    """Share of members in which each kept loop is dominant, ``(loop, time)``; failures.

    Relative scores are normalised over every loop; dominance is decided among the
    kept loops (those that reach ``min_share`` in the base run). Members whose run
    went non-finite anywhere are left out (and counted).
    """
    runs = sample.n
    t = setup.model.model.time
    n_t = t.n_steps // t.save_stride + 1
    if not keep:  # no loop to score: nothing to run
        return np.zeros((0, n_t)), 0
    steps = t.n_steps + 1
    jit = _jit() if setup.record else None
    if jit is None:
        per_member = 8 + 8 * (
            2 * len(setup.record) * steps + 3 * len(setup.links) * n_t + len(keep) * n_t
        )
    else:  # only the recorded series: the counts are made a step at a time
        per_member = 8 + 8 * len(setup.record) * steps
        arrays = setup.products.arrays(keep)
        links = setup.link_arrays()
    fit = limit(MAX_VALUES) // max(1, steps * len(setup.record))  # simulate's cap
    # NumPy's kernel has a fixed cost per call and its counts vectorise over members:
    # it wants large batches; compiled kernels do not.
    backend = setup.model.choose_backend(backend, runs, record=setup.record)
    room = BATCH_BYTES if jit is None or backend == "numpy" else JIT_BATCH_BYTES
    batch = int(max(1, min(BATCH, room // per_member, fit)))
    counts = np.zeros((len(keep), n_t))
    kept_parts = setup.parts[keep]
    arena = OutputArena()  # each batch's series are scored or counted before the next
    n_ok = 0
    for lo in range(0, runs, batch):
        hi = min(runs, lo + batch)
        values: dict[str, Any] = dict(overrides)
        values.update(sample.rows(lo, hi))
        traj = setup.series(values, hi - lo, backend, lo, arena)
        ok = ~traj.failed
        n_ok += int(ok.sum())
        if jit is None:
            rel = setup.products.relative_of(setup.scored(traj)[1], keep)
            counts += dominant_mask(rel, kept_parts)[:, :, ok].sum(axis=2)
        else:
            jit.dominance_counts(traj.values, t.save_stride, links, arrays, counts, ok)
        if progress is not None:
            progress(hi)
    return counts / max(n_ok, 1), runs - n_ok


_JIT: Any = None


def _jit() -> Any:
    """The numba loop's module (imported once), or None without numba."""
    global _JIT  # noqa: PLW0603  # a lazily imported module, once per process
    if _JIT is None and importlib.util.find_spec("numba") is not None:
        from quidpro.analysis import loops_jit

        _JIT = loops_jit
    return _JIT


def _jit_single() -> Any:
    """The numba summary of one run (:mod:`loops_jit_single`), or None without numba."""
    if _jit() is None:
        return None
    from quidpro.analysis import loops_jit_single

    return loops_jit_single


def _polarities(signs: np.ndarray) -> list[str | None]:
    """R or B per loop from the sign its score takes (most of the time); None if inactive.

    ``signs``: per loop, the sum over time of the sign of its score.
    """
    return [None if t == 0 else "R" if t > 0 else "B" for t in signs.tolist()]


@dataclass
class _BaseRun:
    """The base run as the report reads it (every loop's two numbers, the kept loops' series)."""

    times: np.ndarray
    ls: np.ndarray  # link scores (link, time)
    signs: np.ndarray  # per loop: the sum over time of the sign of its score
    peak: np.ndarray  # per loop: its largest absolute relative score
    # The scores and relative scores (kept loop, time) of the loops given.
    kept: Callable[[list[int]], tuple[np.ndarray, np.ndarray]]


def _base_run(setup: _Setup, overrides: Mapping[str, Any], backend: str) -> _BaseRun:
    """The run at the model's values, reduced by numba's one pass on the compiled backends.

    On NumPy's backend (or without numba) every loop's score and relative score are
    formed as arrays; both ways give the same floats (:mod:`loops_jit_single`).
    """
    chosen = (
        setup.model.choose_backend(backend, 1, record=setup.record) if setup.record else "numpy"
    )
    single = _jit_single() if setup.products.n_loops and chosen != "numpy" else None
    if setup.base is not None:
        times, ls = setup.base[0], setup.base[1][:, :, 0]
    elif not setup.record:  # no links: nothing runs
        times, by_run = setup.run(overrides, 1, chosen, 0)
        ls = by_run[:, :, 0]
    elif single is None:
        times, by_run = setup.scored(setup.base_series(overrides, chosen))
        ls = by_run[:, :, 0]
    else:
        traj = setup.base_series(overrides, chosen)
        stride = setup.model.model.time.save_stride
        times = traj.times[::stride]
        kind, src, tgt, aux = setup.link_arrays()
        ls = single.saved_link_scores(traj.values[:, :, 0], stride, kind, src, tgt, aux)
    if single is None:
        return _numpy_base(setup, times, ls)
    return _compiled_base(setup, single, times, np.ascontiguousarray(ls))


def _numpy_base(setup: _Setup, times: np.ndarray, ls: np.ndarray) -> _BaseRun:
    """:class:`_BaseRun` from every loop's score and relative score as arrays."""
    scores = setup.loop_scores(ls)
    rel = relative_scores(scores, setup.parts)
    signs = np.sign(scores).sum(axis=1) if scores.size else np.zeros(len(scores))
    peak = np.abs(rel).max(axis=1) if rel.size else np.zeros(len(scores))
    return _BaseRun(times, ls, signs, peak, lambda keep: (scores[keep], rel[keep]))


def _compiled_base(setup: _Setup, single: Any, times: np.ndarray, ls: np.ndarray) -> _BaseRun:
    """:class:`_BaseRun` from numba's pass, a block of columns at a time."""
    products = setup.products
    heads, tails, starts = products.full_trees()
    signs = np.zeros(products.n_loops)
    peak = np.zeros(products.n_loops)
    denom = np.empty((len(starts) - 1, ls.shape[1]))
    single.summary(ls, heads, tails, starts, signs, peak, denom)

    def kept(keep: list[int]) -> tuple[np.ndarray, np.ndarray]:
        scores = np.zeros((len(keep), ls.shape[1]))
        rel = np.zeros_like(scores)
        if keep:
            single.kept_series(ls, *products.kept_trees(keep), denom, scores, rel)
        return scores, rel

    return _BaseRun(times, ls, signs[products.row], peak[products.row], kept)


def _folded_signs(
    setup: _Setup, k: int, variables: tuple[str, ...], link_sign: np.ndarray
) -> tuple[int, ...]:
    """Signs of the folded links of cycle ``k``, one per pair of consecutive variables.

    Each is the product over the expanded links between the two; 0 where a link never
    scored in the base run.
    """
    nodes = setup.cycles[k]
    index = setup.index
    vis = [setup.ex.visible(n) for n in nodes]
    start = next(i for i in range(len(nodes)) if vis[i] == variables[0] and vis[i - 1] != vis[i])
    order = nodes[start:] + nodes[:start]
    out: dict[tuple[str, str], int] = {}
    carried = 1
    for a, b in _links(order):
        carried *= int(link_sign[index[(a, b)]])
        va, vb = setup.ex.visible(a), setup.ex.visible(b)
        if va != vb:
            out[(va, vb)] = carried
            carried = 1
    pairs = _links(variables) if len(variables) > 1 else [(variables[0], variables[0])]
    return tuple(out.get(p, carried) for p in pairs)


def _named_cycles(spec: Model, setup: _Setup) -> dict[int, Any]:
    """Cycle index of each loop the model's ``loops:`` section names.

    A name goes to the shortest loop through all of its variables.
    """
    out: dict[int, Any] = {}
    folded = setup.folded
    for entry in spec.loops.values():
        unknown = [v for v in entry.variables if v not in spec.variables and v not in spec.stocks]
        if unknown:
            raise ModelError(
                f"loop {entry.name!r} names {', '.join(map(repr, unknown))}, which "
                f"{'is' if len(unknown) == 1 else 'are'} not a stock, flow or auxiliary",
                entry.loc,
            )
        matches = [k for k, v in enumerate(folded) if set(entry.variables) <= set(v)]
        if not matches:
            raise ModelError(
                f"no feedback loop passes through all of {', '.join(entry.variables)} "
                f"(loop {entry.name!r})",
                entry.loc,
            )
        out[min(matches, key=lambda k: (len(folded[k]), folded[k]))] = entry
    return out


def link_scores(
    model: CompiledLike | Model,
    links: list[tuple[str, str]] | None = None,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]:
    """Link scores of one run, per link ``(source, target)``; every link when None.

    Names are the model's own; links through a builtin's hidden stocks are not offered.
    """
    spec = model if isinstance(model, Model) else compiled_of(model).model
    ex = expand(spec)
    g = link_graph(ex)
    wanted = list(g.edges) if links is None else links
    bad = [f"{a} -> {b}" for a, b in wanted if not g.has_edge(a, b)]
    if bad:
        raise ConfigError(f"not a link of {spec.name}: {', '.join(bad)}")
    aug = augment(ex, g, wanted)
    traj = simulate(
        Compiled(aug.model),
        constant_overrides(spec, scenario, sets),
        record=aug.record,
        save_every=spec.time.dt,
        backend="numpy",
    )
    series = {name: traj.values[:, k, :] for k, name in enumerate(aug.record)}
    ls = scores(aug, series, wanted)[:, :, 0]
    return traj.times, {link: ls[k] for k, link in enumerate(wanted)}


__all__ = [
    "LoopAnalysis",
    "LoopReport",
    "Period",
    "analyse_loops",
    "dominant_mask",
    "link_scores",
    "members",
    "periods",
    "relative_scores",
]
