"""Ensembles for ``/api/ensemble`` on the one numba kernel a served model compiles.

A numba kernel is compiled per tuple of recorded variables (about a minute for the
flagship), and a page asks for many different sets of variables. So every request
runs the kernel that records *every* variable, the one :meth:`Workbench.warm` compiles
for single runs, and keeps the requested ones: :class:`RecordAllExecutor` is an
:class:`~quidpro.ensemble.runner.Executor` that does this per batch, with batches
small enough that recording everything stays within :data:`BATCH_BYTES`.

Members come from the model's posterior when it names one (as ``quidpro ensemble``
does), else from the constants' distributions: the document says which (``basis``).
Members that went non-finite are left out of the quantiles and probabilities, and the
document counts them (``n_failed``, only when there are any); a probability over no
finite member is null, never NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from quidpro.ensemble import summary
from quidpro.ensemble.posterior import PosteriorTable
from quidpro.ensemble.query import parse_probe, read_probe
from quidpro.ensemble.runner import Batch, Plan, Task, make_plan, run_plan
from quidpro.ensemble.sampling import draw
from quidpro.io.strict_json import finite_or_none
from quidpro.model.overrides import constant_overrides
from quidpro.solve.simulate import Compiled, simulate

BATCH_BYTES = 96 * 2**20  # recorded floats of one batch (every variable, every saved step)


class RecordAllExecutor:
    """Runs a plan's batches recording every variable, then keeps the plan's.

    Args:
        compiled: The compiled model.
        backend: ``jit`` (its kernel for all variables already compiled) or ``numpy``.
    """

    def __init__(self, compiled: Compiled, backend: str) -> None:
        self.compiled = compiled
        self.backend = backend
        self.record = tuple(compiled.visible)  # what a single run records: one kernel
        self.column = {n: j for j, n in enumerate(self.record)}

    def map(self, plan: Plan, tasks: Iterable[Task]) -> Iterator[Batch]:
        """Run each task; yield its batch (the plan's variables at the kept steps)."""
        spec = self.compiled.model
        cols = np.array([self.column[n] for n in plan.variables], dtype=np.intp)
        save_every = (plan.times[1] - plan.times[0]) if len(plan.times) > 1 else None
        for lo, samples in tasks:
            b = len(next(iter(samples.values()))) if samples else _batch_len(plan, lo)
            traj = simulate(
                self.compiled,
                overrides=constant_overrides(spec, plan.scenario, {**samples, **plan.sets}),
                n_runs=b,
                method=plan.method,
                record=self.record,
                backend=self.backend,
                save_every=save_every,
                member_offset=lo,
            )
            values = traj.values[np.ix_(plan.keep, cols)]
            series = {name: traj.values[:, j, :] for j, name in enumerate(traj.names)}
            probes = np.empty((len(plan.probes), b))
            for i, p in enumerate(plan.probes):
                probes[i] = read_probe(p, traj.times, series, spec, b)
            yield Batch(lo, values, probes, traj.failed)


def _batch_len(plan: Plan, lo: int) -> int:
    return min(lo + plan.batch_size, plan.n_runs) - lo


def run_ensemble(
    compiled: Compiled,
    runs: int,
    seed: int,
    *,
    backend: str,
    posterior: PosteriorTable | None,
    scenario: str | None = None,
    sets: Mapping[str, float] | None = None,
    variables: Sequence[str] | None = None,
    queries: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The ``quidpro ensemble --json`` document of one request, plus ``basis``.

    The same members as :func:`quidpro.ensemble.ensemble` with the same seed and
    posterior (the draws do not depend on the kernel or the batch size).
    """
    spec = compiled.model
    probes = tuple(parse_probe(spec, q, comparison=True) for q in queries)
    n_save = spec.time.n_steps // spec.time.save_stride + 1
    per_member = n_save * len(compiled.visible) * 8
    batch = max(16, min(runs, BATCH_BYTES // max(per_member, 1)))
    # numpy plans compile nothing; the executor runs the all-variables kernel itself.
    plan = make_plan(
        compiled,
        runs,
        seed,
        scenario=scenario,
        sets=sets,
        variables=variables,
        probes=probes,
        backend="numpy",
        batch_size=batch,
    )
    plan = replace(plan, backend=backend)
    members = draw(
        spec,
        runs,
        seed,
        "random",
        scenario=scenario,
        fixed=(sets or {}).keys(),
        posterior=posterior,
    )
    result = run_plan(compiled, plan, members, RecordAllExecutor(compiled, backend), progress)
    doc = summary(result)
    doc["queries"] = finite_or_none(doc["queries"])  # quantiles are null already
    doc["basis"] = "posterior" if posterior is not None else "prior"
    doc["backend"] = backend
    if result.n_failed:  # only then: a clean ensemble's document keeps its keys
        doc["n_failed"] = result.n_failed
    return doc
