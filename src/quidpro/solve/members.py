"""What the compiled backends share: members' constants in, output and status out.

The ``jit`` and ``vm`` kernels differ only in the function that runs the members;
the table of constants per member, the status arrays, the run-major output and the
:class:`~quidpro.solve.status.RunStatus` they return are made here once.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

from quidpro.solve.status import RunStatus


def member_table(consts: list[Any], n_runs: int) -> np.ndarray:
    """``consts`` (floats or per-member arrays) as a (member, constant) float64 table."""
    table = np.empty((n_runs, max(len(consts), 1)))
    for i, v in enumerate(consts):
        table[:, i] = v
    return table


# What numba's CPU-target set-up imports for features no quidpro kernel uses: scipy.linalg
# (~0.27 s) only to decide whether np.correlate/np.convolve may call BLAS, and cffi
# (~0.05 s, with its C parser) to type cffi functions.
UNUSED_BY_KERNELS = ("scipy.linalg", "cffi")


def numba_target_ready() -> bool:
    """Whether this process has set up numba's CPU target (what a first kernel pays)."""
    return "numba.np.arraymath" in sys.modules


def init_numba_target() -> None:
    """Set up numba's CPU target once a process, without what no quidpro kernel uses.

    numba sets up its CPU target (every lowering and typing registry it has) on the
    first compile or cache load of a process: most of a fresh ``quidpro run``'s first
    run. In a single-threaded process that has not loaded them, the modules of
    :data:`UNUSED_BY_KERNELS` are made unimportable for the set-up, so numba sets
    up as it does where they are not installed: its own loop serves np.correlate and
    np.convolve, and cffi functions are not compiled. np.dot and np.linalg still
    import scipy when code using them is compiled.
    """
    if numba_target_ready():
        return
    from numba.core.registry import cpu_target

    blocked = []
    if threading.active_count() == 1:
        blocked = [name for name in UNUSED_BY_KERNELS if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # import fails
    try:
        cpu_target.target_context.refresh()
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


class MemberKernel:
    """A compiled kernel: :meth:`run` fills ``out[time, var, run]`` like the NumPy kernel.

    Subclasses implement :meth:`launch`, which runs the members of a constant table
    into a run-major ``out[run, time, var]`` and the per-member status arrays.
    """

    record: tuple[str, ...]

    def launch(self, cc: np.ndarray, args: tuple[Any, ...]) -> int:
        """Run the members of ``cc``; return the register of the first static.

        ``args`` is ``(t0, dt, n_steps, stride, out, status, values)``; the register
        returned is the offset of the variable numbers in ``status``.
        """
        raise NotImplementedError

    def run(  # noqa: PLR0917  # the kernel interface every backend shares
        self,
        consts: list[Any],
        t0: float,
        dt: float,
        n_steps: int,
        stride: int,
        out: np.ndarray,
        *,
        member_offset: int = 0,  # noqa: ARG002  # unused: models with random draws run on NumPy
    ) -> RunStatus:
        """Fill ``out[time, var, run]``; the status of every member.

        Members write run-major blocks (``out`` should be a view of a (run, time, var)
        array, as :meth:`allocate` makes): each core then writes memory of its own.
        """
        n_runs = out.shape[2]
        status = np.zeros((n_runs, 3), dtype=np.int64)
        values = np.zeros(n_runs)
        run_major = np.moveaxis(out, 2, 0)
        args = (float(t0), float(dt), n_steps, stride, run_major, status, values)
        init_numba_target()
        offset = self.launch(member_table(consts, n_runs), args)
        return RunStatus.from_codes(status, offset, values)

    @staticmethod
    def allocate(n_save: int, n_rec: int, n_runs: int) -> np.ndarray:
        """An output array indexed [time, var, run] whose memory is run-major."""
        return np.moveaxis(np.empty((n_runs, n_save, n_rec)), 0, 2)
