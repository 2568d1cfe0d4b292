"""The Python entry point: ``quidpro.load(path_or_name).run(scenario=..., set={...})``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from quidpro.errors import ConfigError
from quidpro.io.load import read_model_text
from quidpro.model.overrides import constant_overrides
from quidpro.model.spec import Model
from quidpro.solve.simulate import Compiled, Trajectories, raise_failure, simulate

if TYPE_CHECKING:  # pandas loads with the first run's frame, not with load()
    import pandas as pd


class LoadedModel:
    """A checked, compiled model ready to run.

    Args:
        spec: The checked model (from :func:`load` or :func:`quidpro.io.load.parse_model`).
        source: The text ``spec`` was read from, when known (:func:`load` keeps it): what
            the unit check's cache is keyed by.
    """

    def __init__(self, spec: Model, source: str | None = None) -> None:
        self.spec = spec
        self.source = source
        self.compiled = Compiled(spec)
        self._dates: dict[bytes, pd.DatetimeIndex] = {}
        self._columns: dict[tuple[str, ...], pd.Index] = {}

    @property
    def name(self) -> str:
        """The model's name (its ``name:`` key, or the XMILE header's)."""
        return self.spec.name

    @property
    def scenarios(self) -> list[str]:
        """The names of the model's scenarios (not counting the baseline)."""
        return list(self.spec.scenarios)

    def overrides(
        self,
        scenario: str | None = None,
        set: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Constant values for a scenario plus explicit settings (settings win).

        Raises:
            ConfigError: An unknown scenario or a name that is not a constant.
        """
        return constant_overrides(self.spec, scenario, set)

    def simulate(
        self,
        scenario: str | None = None,
        set: Mapping[str, Any] | None = None,
        *,
        n_runs: int = 1,
        method: str | None = None,
        dt: float | None = None,
        record: Sequence[str] | None = None,
        save_every: float | None = None,
        backend: str = "auto",
        member_offset: int = 0,
    ) -> Trajectories:
        """Arrays for one or many runs (``values[time, variable, run]``).

        Args:
            scenario: A scenario of the model, or None for the baseline.
            set: Constant values (a float, or one value per run), applied after the scenario.
            n_runs: How many members to integrate at once.
            method: ``"euler"`` or ``"rk4"``; the model's own by default.
            dt: The time step; the model's own by default.
            record: The variables to keep; every stock, flow and auxiliary by default.
            save_every: The time between saved steps; every step by default.
            backend: ``"numpy"`` (vectorised over members, no compile time), ``"jit"``
                (numba: this model as machine code, parallel over cores; compiled once,
                cached on disk), ``"vm"`` (numba's interpreter of the model's
                instructions: no per-model compile, any size) or ``"auto"`` (NumPy
                until the time it spends would pay for the cheapest of the others).
            member_offset: The ensemble index of the first member (random builtins
                draw by member index).

        Returns:
            The trajectories; a run that went non-finite is listed in ``failures``.
        """
        return simulate(
            self.compiled,
            overrides=self.overrides(scenario, set),
            n_runs=n_runs,
            method=method,
            dt=dt,
            record=record,
            save_every=save_every,
            backend=backend,
            member_offset=member_offset,
        )

    def run(
        self,
        scenario: str | None = None,
        set: Mapping[str, Any] | None = None,
        *,
        method: str | None = None,
        dt: float | None = None,
        save_every: float | None = None,
        backend: str = "auto",
    ) -> pd.DataFrame:
        """One run as a DataFrame indexed by time, a column per stock, flow and auxiliary.

        Where the model has ``time.origin``, ``df.attrs["dates"]`` holds the calendar date
        of each row and :meth:`dates` returns them as an index.

        Raises:
            SimulationError: A value became non-finite (naming the variable and time).
        """
        return self.frame(
            self.run_arrays(
                scenario, set, method=method, dt=dt, save_every=save_every, backend=backend
            )
        )

    def run_arrays(
        self,
        scenario: str | None = None,
        set: Mapping[str, Any] | None = None,
        *,
        method: str | None = None,
        dt: float | None = None,
        save_every: float | None = None,
        backend: str = "auto",
    ) -> Trajectories:
        """One run as arrays (``values[time, variable, 0]``): :meth:`run` without pandas.

        Raises:
            SimulationError: A value became non-finite (naming the variable and time).
        """
        traj = self.simulate(
            scenario, set, method=method, dt=dt, save_every=save_every, backend=backend
        )
        raise_failure(self.compiled, traj)
        return traj

    def frame(self, traj: Trajectories) -> pd.DataFrame:
        """The DataFrame of :meth:`run` for a run's arrays (from :meth:`run_arrays`)."""
        import pandas as pd

        df = pd.DataFrame(
            traj.values[:, :, 0],  # this run's own array, used as it is (no copy)
            index=pd.Index(traj.times, name="time"),
            columns=self._column_index(traj.names),
            copy=False,
        )
        if self.spec.time.origin is not None:
            df.attrs["dates"] = self.dates(traj.times)
        return df

    def _column_index(self, names: tuple[str, ...]) -> pd.Index:
        """The columns of a run's DataFrame, built once per recorded set of names.

        pandas' string inference costs more than the kernel's run; each frame gets a
        shallow copy of its own, so renaming one frame's columns never reaches another.
        """
        import pandas as pd

        if names not in self._columns:
            if len(self._columns) > 8:
                self._columns.clear()
            self._columns[names] = pd.Index(list(names))
        return self._columns[names].copy()

    def dates(self, times: Any) -> pd.DatetimeIndex:
        """The calendar dates of model times (the model needs ``time.origin``).

        Raises:
            ConfigError: The model has no ``time.origin``.
        """
        t = self.spec.time
        if t.origin is None:
            raise ConfigError(f"model {self.name!r} has no time.origin, so no calendar dates")
        key = np.asarray(times, dtype=float).tobytes()
        if key not in self._dates:  # runs repeat the same axis: compute its dates once
            if len(self._dates) > 8:
                self._dates.clear()
            from quidpro.model.calendar import to_dates

            self._dates[key] = to_dates(times, t.origin, t.units, t.start)
        return self._dates[key]


def load(path_or_name: str | Path) -> LoadedModel:
    """Read, check and compile a model file or a built-in model by name.

    Args:
        path_or_name: A YAML or XMILE file, or the name of a built-in model such as
            ``"nk_russia"``.

    Raises:
        ModelError: The file is missing or not a valid model (with file and line).
    """
    return LoadedModel(*read_model_text(path_or_name))
