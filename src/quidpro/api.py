"""The Python entry point: ``quidpro.load(path_or_name).run(scenario=..., set={...})``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quidpro.errors import ConfigError
from quidpro.io.load import read_model
from quidpro.model.calendar import to_dates
from quidpro.model.check import _hint
from quidpro.model.spec import Model
from quidpro.solve.simulate import Compiled, Trajectories, raise_failure, simulate


class LoadedModel:
    """A checked, compiled model ready to run."""

    def __init__(self, spec: Model) -> None:
        self.spec = spec
        self.compiled = Compiled(spec)
        self._dates: dict[bytes, pd.DatetimeIndex] = {}

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def scenarios(self) -> list[str]:
        return list(self.spec.scenarios)

    def overrides(
        self, scenario: str | None = None, set: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Constant values for a scenario plus explicit settings (settings win)."""
        out: dict[str, Any] = {}
        if scenario not in (None, "", "baseline"):
            assert scenario is not None
            if scenario not in self.spec.scenarios:
                known = ", ".join(["baseline", *self.spec.scenarios])
                raise ConfigError(
                    f"unknown scenario {scenario!r}"
                    f"{_hint(scenario, {*self.spec.scenarios})}; "
                    f"this model has: {known}"
                )
            out.update(self.spec.scenarios[scenario].set)
        for name, value in (set or {}).items():
            if name not in self.spec.constants:
                raise ConfigError(
                    f"cannot set {name!r}: it is not a constant of "
                    f"{self.spec.name}{_hint(name, {*self.spec.constants})}"
                )
            out[name] = value
        return out

    def simulate(
        self,
        scenario: str | None = None,
        set: Mapping[str, Any] | None = None,
        n_runs: int = 1,
        method: str | None = None,
        dt: float | None = None,
        record: Sequence[str] | None = None,
        save_every: float | None = None,
        backend: str = "auto",
        member_offset: int = 0,
    ) -> Trajectories:
        """Arrays for one or many runs (``values[time, variable, run]``).

        ``backend``: "numpy" (vectorised over members, no compile time), "jit" (numba:
        machine code per member, parallel over cores) or "auto" (NumPy for a few runs;
        numba, when installed, for many members or a model run repeatedly).
        """
        return simulate(
            self.compiled,
            self.overrides(scenario, set),
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
        method: str | None = None,
        dt: float | None = None,
        save_every: float | None = None,
        backend: str = "auto",
    ) -> pd.DataFrame:
        """One run as a DataFrame indexed by time, a column per stock, flow and auxiliary.

        Where the model has ``time.origin``, ``df.attrs["dates"]`` holds the calendar date
        of each row and :meth:`dates` returns them as an index.
        """
        traj = self.simulate(
            scenario, set, method=method, dt=dt, save_every=save_every, backend=backend
        )
        raise_failure(self.compiled, traj)
        df = pd.DataFrame(
            traj.values[:, :, 0], index=pd.Index(traj.times, name="time"), columns=list(traj.names)
        )
        if self.spec.time.origin is not None:
            df.attrs["dates"] = self.dates(traj.times)
        return df

    def dates(self, times: Any) -> pd.DatetimeIndex:
        """The calendar date of each model time (the model needs ``time.origin``)."""
        t = self.spec.time
        if t.origin is None:
            raise ConfigError(f"model {self.name!r} has no time.origin, so no calendar dates")
        key = np.asarray(times, dtype=float).tobytes()
        if key not in self._dates:  # runs repeat the same axis: compute its dates once
            if len(self._dates) > 8:
                self._dates.clear()
            self._dates[key] = to_dates(times, t.origin, t.units, t.start)
        return self._dates[key]


def load(path_or_name: str | Path) -> LoadedModel:
    """Read, check and compile a model file or a built-in model by name."""
    return LoadedModel(read_model(path_or_name))
