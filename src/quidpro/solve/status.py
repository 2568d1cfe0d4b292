"""The status of every ensemble member after a run, as every backend reports it.

The kernels check every static, state and equation value at every step, so a
non-finite value is found wherever it arises, recorded or not; the first one in
evaluation order at the earliest step is the member's root cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

OK, NON_FINITE, SHORT_LAG = 0, 1, 2


@dataclass
class RunStatus:
    """Per member: ``code`` (OK, NON_FINITE or SHORT_LAG); for NON_FINITE, ``where`` is
    the variable's index in evaluation order (statics, states, equations), ``step``
    the step and ``value`` the value; for SHORT_LAG, ``where`` is the memory's index.
    """

    code: np.ndarray
    where: np.ndarray
    step: np.ndarray
    value: np.ndarray

    @classmethod
    def ok(cls, n_runs: int) -> RunStatus:
        """Every member fine."""
        zeros = np.zeros(n_runs, dtype=np.int64)
        return cls(zeros, zeros.copy(), zeros.copy(), np.zeros(n_runs))

    @classmethod
    def short(cls, n_runs: int, memory: int) -> RunStatus:
        """Every member stopped at the start: memory ``memory`` has a lag under one step."""
        out = cls.ok(n_runs)
        out.code[:] = SHORT_LAG
        out.where[:] = memory
        return out

    @classmethod
    def from_codes(cls, status: np.ndarray, offset: int, values: np.ndarray) -> RunStatus:
        """From a kernel's ``status[member] = (code, register, step)``, registers of
        variables numbered from ``offset``.
        """
        code = status[:, 0].copy()
        where = status[:, 1] - np.where(code == NON_FINITE, offset, 0)
        return cls(code, where, status[:, 2].copy(), values)

    def short_lag(self) -> int | None:
        """The memory whose lag is under one step in some member, if any."""
        bad = np.nonzero(self.code == SHORT_LAG)[0]
        return int(self.where[bad[0]]) if len(bad) else None

    def failed(self) -> np.ndarray:
        """The members with a non-finite value."""
        return np.nonzero(self.code == NON_FINITE)[0]


class Scanner:
    """The NumPy kernel's side of the check: called with a step's values (floats or
    arrays over members) when their sum is not finite, it marks each member's first
    non-finite value that is not marked yet.
    """

    def __init__(self, n_runs: int) -> None:
        self.status = RunStatus.ok(n_runs)

    def note(self, step: int, values: Sequence[Any], offset: int) -> None:
        """Mark members failing at ``step``; ``values[i]`` is variable ``offset + i``."""
        st = self.status
        n = len(st.code)
        with np.errstate(all="ignore"):
            for i, v in enumerate(values):
                arr = np.broadcast_to(np.asarray(v, dtype=float), (n,))
                bad = ~np.isfinite(arr) & (st.code == OK)
                if bad.any():
                    st.code[bad] = NON_FINITE
                    st.where[bad] = offset + i
                    st.step[bad] = step
                    st.value[bad] = arr[bad]
