"""The workbench behind the page: the allowed models, runs, ensembles and page data.

Safety: a request names a model by its *name*; the names map to files fixed when the
server starts (the built-in models and the files given on the command line), so no
text from a request ever reaches the file system. Ensembles are capped in size and
stopped at a deadline (checked between batches) with a clear error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from quidpro.cache import cache_root
from quidpro.errors import ConfigError, QuidproError
from quidpro.report.labels import first_sentence
from quidpro.web import levers

if TYPE_CHECKING:
    from quidpro.api import LoadedModel
    from quidpro.ensemble.posterior import PosteriorTable

from quidpro.web.schemas import MAX_RUNS  # members of one ensemble request

MAX_CELLS = 4 * 10**9  # members × saved steps × recorded variables of one request
ENSEMBLE_TIMEOUT = 60.0  # seconds of work for one ensemble request
N_SLIDERS = 8
RANKING_TRAJECTORIES = 8  # Morris trajectories of the cached slider ranking


class NotFound(QuidproError):
    """A model name the server was not started with."""


class TooBig(QuidproError):
    """A request beyond the server's caps."""


class TimedOut(QuidproError):
    """Work that ran past its deadline."""


@dataclass
class Entry:
    """One model the server may run: its name, file and (loaded on first use) model."""

    name: str
    path: Path
    _model: LoadedModel | None = None
    _ranking: list[tuple[str, float]] | None = None
    _dates: tuple[tuple[int, float, float], list[str]] | None = None
    jit_ready: bool = False
    _posterior: PosteriorTable | None = None
    _posterior_read: bool = False
    _page: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    ranking_lock: threading.Lock = field(default_factory=threading.Lock)

    def posterior(self) -> PosteriorTable | None:
        """The posterior the model file names (read once), or None: draw from the prior."""
        with self.lock:
            if not self._posterior_read:
                from quidpro.ensemble.posterior import model_posterior

                self._posterior = model_posterior(self.model_unlocked().spec)
                self._posterior_read = True
            return self._posterior

    def model_unlocked(self) -> LoadedModel:
        """The model (the caller holds :attr:`lock`)."""
        if self._model is None:
            import quidpro

            self._model = quidpro.load(self.path)
        return self._model

    def model(self) -> LoadedModel:
        """The model, read, checked and compiled on first use."""
        with self.lock:
            return self.model_unlocked()


class Workbench:
    """The models a server offers and what the page asks of them.

    Args:
        models: model files or built-in names given at start; built-in models are
            always offered. A file's name (its stem) is how requests refer to it.
        cache_dir: where the slider ranking of each model is kept between starts
            (default: ``$QUIDPRO_CACHE`` or the user cache folder; None for memory only).
        backend: kernel for single runs ("auto" picks numba when installed).
    """

    def __init__(
        self,
        models: Sequence[str | Path] = (),
        cache_dir: Path | str | None = "default",
        backend: str = "auto",
    ) -> None:
        from quidpro.io.load import builtin_models, resolve

        self.entries: dict[str, Entry] = {
            n: Entry(n, p) for n, p in sorted(builtin_models().items())
        }
        given: dict[str, Path] = {}  # a given file may replace a built-in, not another file
        for item in models:
            path = resolve(item).resolve()
            name = Path(item).stem if Path(item).suffix else str(item)
            if name in given and given[name] != path:
                raise ConfigError(
                    f"{given[name]} and {path} would both be served as {name!r}; rename one of them"
                )
            given[name] = path
            self.entries[name] = Entry(name, path)
        if cache_dir == "default":
            cache_dir = _default_cache()
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.backend = _single_run_backend(backend)

    # ------------------------------------------------------------ lookup

    def names(self) -> list[str]:
        """The names requests may use."""
        return list(self.entries)

    def entry(self, name: str) -> Entry:
        """The entry of a model name.

        Raises:
            NotFound: A name the server was not started with.
        """
        if name not in self.entries:
            known = ", ".join(self.entries)
            raise NotFound(f"no model named {name!r} on this server; it offers: {known}")
        return self.entries[name]

    def model(self, name: str) -> LoadedModel:
        """The loaded model of a name (see :meth:`entry`)."""
        return self.entry(name).model()

    def catalogue(self) -> list[dict[str, Any]]:
        """``GET /api/models``: name, title, scenarios and the page of each model."""
        out = []
        for name, e in self.entries.items():
            spec = e.model().spec
            out.append(
                {
                    "name": name,
                    "title": spec.title or name,
                    "doc": first_sentence(spec.doc, 300),
                    "scenarios": ["baseline", *spec.scenarios],
                    "page": f"/model/{name}",
                }
            )
        return out

    def page(self, name: str) -> dict[str, Any]:
        """The page data of a model (:func:`quidpro.web.page_data.page_data`), cached.

        It depends only on the model file.
        """
        from quidpro.web.page_data import page_data

        e = self.entry(name)
        if e._page is None:
            e._page = page_data(e.model(), name, self.ranking(name), N_SLIDERS)
        return e._page

    # ------------------------------------------------------------ runs

    def settings(self, m: LoadedModel, sets: Mapping[str, Any] | None) -> dict[str, float]:
        """Constant settings from a request: numbers, or ISO dates for time constants."""
        from quidpro.model.overrides import setting_value

        spec = m.spec
        out: dict[str, float] = {}
        for name, value in (sets or {}).items():
            if name not in spec.constants:
                raise ConfigError(f"cannot set {name!r}: it is not a constant of {spec.name}")
            out[name] = setting_value(spec, name, value, flag="set")
        return out

    def run(
        self,
        name: str,
        scenario: str | None = None,
        sets: Mapping[str, Any] | None = None,
        variables: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """``POST /api/run``: one run as ``{"time", "dates"?, "variables"}``."""
        from quidpro.solve.simulate import raise_failure

        m = self.model(name)
        wanted = _check_names(m, variables)
        # Every variable is recorded, whatever was asked for: one compiled kernel per
        # model (a numba kernel is compiled per set of recorded variables).
        e = self.entry(name)
        backend = self.backend if self.backend != "jit" or e.jit_ready else "numpy"
        traj = m.simulate(scenario, self.settings(m, sets), n_runs=1, backend=backend)
        raise_failure(m.compiled, traj)
        doc: dict[str, Any] = {"time": [float(t) for t in traj.times]}
        if m.spec.time.origin is not None:
            doc["dates"] = self.dates(name, traj.times)
        index = {n: j for j, n in enumerate(traj.names)}
        doc["variables"] = {n: _finite(traj.values[:, index[n], 0]) for n in (wanted or traj.names)}
        return doc

    def dates(self, name: str, times: np.ndarray) -> list[str]:
        """ISO dates of the saved times (cached: the same times every run)."""
        e = self.entry(name)
        key = (len(times), float(times[0]), float(times[-1]))
        if e._dates is None or e._dates[0] != key:
            m = e.model()
            e._dates = (key, [d.strftime("%Y-%m-%d") for d in m.dates(times)])
        return e._dates[1]

    def ensemble(
        self,
        name: str,
        runs: int,
        seed: int,
        *,
        scenario: str | None = None,
        sets: Mapping[str, Any] | None = None,
        variables: Sequence[str] | None = None,
        queries: Sequence[str] = (),
        timeout: float = ENSEMBLE_TIMEOUT,
    ) -> dict[str, Any]:
        """``POST /api/ensemble``: the ``quidpro ensemble --json`` document."""
        from quidpro.web.ensembles import run_ensemble

        m = self.model(name)
        e = self.entry(name)
        if not 1 <= runs <= MAX_RUNS:
            raise TooBig(f"runs must be between 1 and {MAX_RUNS:,} on this server, got {runs:,}")
        record = _check_names(m, variables)
        n_vars = len(record) if record is not None else len(m.compiled.system.visible)
        cells = runs * (m.spec.time.n_steps + 1) * max(n_vars, 1)
        if cells > MAX_CELLS:
            raise TooBig(
                f"{runs:,} runs of {n_vars} variables is more than this server computes in "
                "one request; ask for fewer runs or name the variables with 'vars'"
            )
        deadline = time.monotonic() + timeout

        def check_deadline(_: int) -> None:
            if time.monotonic() > deadline:
                raise TimedOut(
                    f"the ensemble ran past the server's limit of {timeout:g} s; "
                    "ask for fewer runs or variables"
                )

        # The kernel that records every variable, compiled once by warm(): a request
        # never compiles (NumPy until it is ready, same numbers).
        backend = "jit" if self.backend == "jit" and e.jit_ready else "numpy"
        return run_ensemble(
            m.compiled,
            runs,
            seed,
            backend=backend,
            posterior=e.posterior(),
            scenario=scenario,
            sets=self.settings(m, sets),
            variables=record,
            queries=list(queries),
            progress=check_deadline,
        )

    def warm(self, name: str) -> None:
        """Compute the model's slider ranking and compile its numba kernel.

        The compile takes a minute on first use, then comes from numba's disk cache;
        re-runs use NumPy until it is done.
        """
        e = self.entry(name)
        self.page(name)  # the slider ranking and the diagram's layout
        if self.backend == "jit" and not e.jit_ready:
            e.model().simulate(n_runs=1, backend="jit")
            e.jit_ready = True

    def warm_in_background(self) -> threading.Thread:
        """:meth:`warm` every model in a daemon thread (errors surface on use)."""

        def go() -> None:
            for name in self.names():
                with contextlib.suppress(QuidproError):  # it says so when asked to run
                    self.warm(name)

        thread = threading.Thread(target=go, name="quidpro-warm", daemon=True)
        thread.start()
        return thread

    # ------------------------------------------------------------ sliders

    def ranking(self, name: str) -> list[tuple[str, float]]:
        """Slider candidates by importance (Morris over every stock at three times).

        Computed once per model file and kept in the cache folder.
        """
        e = self.entry(name)
        with e.ranking_lock:
            return self._ranking_locked(name, e)

    def _ranking_locked(self, name: str, e: Entry) -> list[tuple[str, float]]:
        if e._ranking is not None:
            return e._ranking
        m = e.model()
        key = hashlib.sha256(e.path.read_bytes()).hexdigest()[:16]
        cached = self._read_cache(name, key)
        if cached is None:
            cached = _compute_ranking(m)
            self._write_cache(name, key, cached)
        e._ranking = cached
        return cached

    def _cache_file(self, name: str, key: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / "web" / f"{name}-{key}-ranking.json"

    def _read_cache(self, name: str, key: str) -> list[tuple[str, float]] | None:
        path = self._cache_file(name, key)
        if path is None or not path.exists():
            return None
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
            return [(str(n), float(s)) for n, s in rows]
        except (OSError, ValueError, TypeError):
            return None  # a damaged cache is recomputed

    def _write_cache(self, name: str, key: str, ranking: list[tuple[str, float]]) -> None:
        path = self._cache_file(name, key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(ranking), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # the ranking is only a cache


def _compute_ranking(m: LoadedModel) -> list[tuple[str, float]]:
    """Morris elementary effects of the slider candidates on every stock."""
    from SALib.sample import morris as morris_sample

    from quidpro.ensemble.runner import make_plan, run_plan
    from quidpro.ensemble.sampling import bounds

    spec = m.spec
    names = levers.slider_candidates(spec)
    if not names:
        return []
    prob = {"num_vars": len(names), "names": names, "bounds": [bounds(spec, n) for n in names]}
    x = np.asarray(morris_sample.sample(prob, RANKING_TRAJECTORIES, num_levels=4, seed=0))
    outputs = list(spec.stocks) or list(spec.variables)
    t = spec.time
    times = [t.start + (t.stop - t.start) * f for f in (1 / 3, 2 / 3, 1.0)]
    plan = make_plan(m, len(x), 0, variables=outputs, backend="numpy")
    keep = [int(np.argmin(np.abs(plan.times - tt))) for tt in times]
    members = {n: x[:, j] for j, n in enumerate(names)}
    result = run_plan(m, plan, members)
    y = result.values[np.searchsorted(result.times, plan.times[keep])]  # (3, vars, runs)
    y = np.nan_to_num(y.reshape(-1, len(x)).T)  # (runs, 3·vars)
    return levers.rank_sliders(spec, x, names, y)


def _check_names(m: LoadedModel, variables: Sequence[str] | None) -> list[str] | None:
    if variables is None:
        return None
    known = set(m.compiled.system.visible)
    bad = [v for v in variables if v not in known]
    if bad:
        raise ConfigError(f"unknown variable {bad[0]!r} of model {m.name!r}")
    return list(dict.fromkeys(variables))


def _finite(a: np.ndarray) -> list[float | None]:
    """Floats for JSON; a non-finite value (which JSON cannot hold) becomes null."""
    values: list[float | None] = a.tolist()
    if not np.isfinite(a).all():
        values = [x if x is not None and math.isfinite(x) else None for x in values]
    return values


def _default_cache() -> Path:
    return cache_root()


def _single_run_backend(backend: str) -> str:
    """The backend of the page's re-runs.

    Numba when it is installed (microseconds a run once compiled); NumPy otherwise.
    """
    if backend == "auto":
        backend = os.environ.get("QUIDPRO_BACKEND", "auto")
    if backend != "auto":
        return backend
    try:
        import numba  # noqa: F401
    except ImportError:
        return "numpy"
    return "jit"
