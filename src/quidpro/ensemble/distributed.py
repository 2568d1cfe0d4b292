"""Send ensemble batches to a Dask distributed cluster.

Workers receive the model's *text* (not a path: a worker may be another machine with
quidpro installed elsewhere), the small :class:`~quidpro.ensemble.runner.Plan` and
their members' sampled values; each worker compiles a model once and caches it by
text. Results are gathered by member index, so they equal a local run for the same
seed. ``address`` is a scheduler address (``tcp://host:8786``) or ``"local"`` for a
``LocalCluster`` on this machine, started and closed around the run.

To use a real cluster: start ``dask scheduler`` on one machine and ``dask worker
tcp://SCHEDULER:8786 --nthreads 1`` on each worker (quidpro and numba installed in the
same versions everywhere), then pass ``--dask tcp://SCHEDULER:8786``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from functools import lru_cache
from typing import Any

import numpy as np

from quidpro.ensemble.runner import Batch, Plan, Task, run_batch
from quidpro.errors import ConfigError
from quidpro.model.parse import parse_model
from quidpro.solve.simulate import Compiled


@lru_cache(maxsize=8)
def _model(text: str, file: str) -> Compiled:
    """The compiled model of ``text``, once per worker process and text."""
    return Compiled(parse_model(text, file))


def remote_batch(
    text: str, file: str, plan: Plan, lo: int, samples: dict[str, np.ndarray]
) -> Batch:
    """Run one batch on a worker (the model is compiled once per worker and text)."""
    return run_batch(_model(text, file), plan, lo, samples)


class DaskExecutor:
    """Runs batches on a Dask cluster; yields them as they complete.

    Use it as a context manager to keep one connection (and, for ``"local"``, one
    cluster) across several ensembles; otherwise each :meth:`map` connects anew.
    """

    def __init__(self, address: str, text: str, file: str) -> None:
        self.address = address
        self.text = text
        self.file = file
        self._stack: ExitStack | None = None
        self._client: Any = None

    def __enter__(self) -> DaskExecutor:
        import importlib

        dd: Any = importlib.import_module("dask.distributed")  # untyped library
        stack = ExitStack()
        try:
            if self.address == "local":
                cluster = stack.enter_context(
                    dd.LocalCluster(threads_per_worker=1, dashboard_address=":0")
                )
                self._client = stack.enter_context(dd.Client(cluster))
            else:
                self._client = stack.enter_context(dd.Client(self.address))
        except (ValueError, TypeError) as exc:  # dask's parse of the address
            stack.close()
            raise ConfigError(
                f"{self.address!r} is not a Dask scheduler address ({exc}); "
                "give tcp://HOST:PORT, or 'local' for a cluster on this machine"
            ) from None
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack = None
        self._client = None

    def map(self, plan: Plan, tasks: Iterable[Task]) -> Iterator[Batch]:
        """Submit the batches (a bounded number in flight) and yield them as they finish."""
        if self._client is None:
            with self:
                yield from self._map(plan, tasks)
        else:
            yield from self._map(plan, tasks)

    def _map(self, plan: Plan, tasks: Iterable[Task]) -> Iterator[Batch]:
        import importlib

        dd: Any = importlib.import_module("dask.distributed")
        client = self._client
        plan_f = client.scatter(plan, broadcast=True)
        # a bounded number of batches in flight: samples are made as batches are sent
        limit = max(4, 2 * sum(client.nthreads().values()))
        pending = iter(tasks)

        def submit() -> Any:
            task = next(pending, None)
            if task is None:
                return None
            lo, samples = task
            return client.submit(
                remote_batch, self.text, self.file, plan_f, lo, samples, pure=False
            )

        first = [f for f in (submit() for _ in range(limit)) if f is not None]
        running = dd.as_completed(first)
        for fut in running:
            batch: Batch = fut.result()
            fut.release()
            nxt = submit()
            if nxt is not None:
                running.add(nxt)
            yield batch
