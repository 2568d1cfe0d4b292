"""Limits on the work a model file may ask for, checked before anything is allocated.

A small file can ask for a huge run (``stop: 1.0e12``) or a huge buffer
(``smoothn(x, 1, 1000000)``); quidpro refuses such a request with an error that names
the limit and how to raise it, instead of exhausting memory or running for hours.
Each limit is read from an environment variable when it is set (docs/hardening.md).
"""

from __future__ import annotations

import math
import os

from quidpro.errors import ConfigError, Loc, ModelError

#: Characters of one model file (50 MB of text).
MAX_FILE_CHARS = ("QUIDPRO_MAX_FILE_CHARS", 50_000_000)
#: Time steps of one run (``(stop - start) / dt``).
MAX_STEPS = ("QUIDPRO_MAX_STEPS", 10_000_000)
#: Scalar elements a Vensim file's subscripts may expand to (a range, a variable's
#: elements, the terms of one SUM, and all the model's elements together).
MAX_ELEMENTS = ("QUIDPRO_MAX_ELEMENTS", 100_000)
#: Values one simulation keeps in memory: saved points x recorded variables x members
#: (8 bytes each: 800 MB by default).
MAX_VALUES = ("QUIDPRO_MAX_VALUES", 100_000_000)
#: Steps a ``delay_fixed`` remembers (its ring buffer, ``delay / dt``).
MAX_DELAY_STEPS = ("QUIDPRO_MAX_DELAY_STEPS", 1_000_000)
#: Stages of one ``smoothn`` or ``delayn`` (each is a hidden stock).
MAX_ORDER = ("QUIDPRO_MAX_ORDER", 1_000)
#: Variables of a model once its arrays and modules are expanded to scalars.
MAX_VARIABLES = ("QUIDPRO_MAX_VARIABLES", 100_000)


def limit(setting: tuple[str, int]) -> int:
    """The value of a limit: its environment variable when set, else its default.

    Raises:
        ConfigError: The environment variable is not a positive whole number.
    """
    env, default = setting
    raw = os.environ.get(env)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f"{env} must be a positive whole number, got {raw!r}")
    return value


def finite(value: float, what: str, loc: Loc) -> float:
    """``value`` itself, or a located error when it is NaN or infinite."""
    if not math.isfinite(value):
        raise ModelError(f"{what} must be a finite number, got {value!r}", loc)
    return value


def check_steps(start: float, stop: float, dt: float, loc: Loc) -> None:
    """Refuse a clock whose run would take more steps than the limit allows."""
    steps = (stop - start) / dt
    cap = limit(MAX_STEPS)
    if not steps <= cap:  # also catches an overflow to inf
        raise ModelError(
            f"the run would take {steps:.3g} time steps ((stop - start) / dt), more than "
            f"the limit of {cap:,}; use a larger dt, or raise the limit with "
            f"{MAX_STEPS[0]}=N",
            loc,
        )


def check_elements(count: int, what: str, loc: Loc) -> None:
    """Refuse ``count`` array elements (of ``what``) beyond the limit, before building them."""
    cap = limit(MAX_ELEMENTS)
    if count > cap:
        raise ModelError(
            f"{what} would have {count:,} elements, more than the limit of {cap:,}; "
            f"raise it with {MAX_ELEMENTS[0]}=N",
            loc,
        )


def _raise_hint(setting: tuple[str, int]) -> str:
    return f"raise the limit with {setting[0]}=N"


def check_values(n_save: int, n_variables: int, n_members: int, loc: Loc) -> None:
    """Refuse a simulation whose saved values would not fit the limit in memory.

    Args:
        n_save: Saved time points.
        n_variables: Recorded variables.
        n_members: Ensemble members run at once.
        loc: Where the model's clock is defined.
    """
    total = n_save * n_variables * n_members  # Python ints: no overflow
    cap = limit(MAX_VALUES)
    if total > cap:
        raise ModelError(
            f"the run would keep {total:,} values ({n_save:,} saved points x {n_variables:,} "
            f"variables x {n_members:,} members, {total * 8 / 2**30:.3g} GiB), more than the "
            f"limit of {cap:,}; save fewer points (a larger save_every), record fewer "
            f"variables or run fewer members at once, or {_raise_hint(MAX_VALUES)}",
            loc,
        )


def check_delay_steps(steps: float, owner: str, dt: float, loc: Loc) -> None:
    """Refuse a ``delay_fixed`` whose ring buffer (``delay / dt`` steps) exceeds the limit.

    A NaN or infinite delay is refused the same way; a delay under one step is left to
    the kernel's own error.
    """
    cap = limit(MAX_DELAY_STEPS)
    if math.isnan(steps) or steps >= cap + 0.5:  # the kernels round the lag
        raise ModelError(
            f"the delay of {owner!r} is {steps:.3g} time steps (its delay / dt, dt = {dt:g}); "
            f"its ring buffer holds at most {cap:,} steps: use a shorter delay or a larger "
            f"dt, or {_raise_hint(MAX_DELAY_STEPS)}",
            loc,
        )


def check_order(func: str, order: float, loc: Loc) -> None:
    """Refuse a ``smoothn``/``delayn`` of more stages than the limit."""
    cap = limit(MAX_ORDER)
    if order > cap:
        shown = f"{int(order):,}" if order < 1e15 else f"{order:.3g}"
        raise ModelError(
            f"{func}() asks for {shown} stages, more than the limit of {cap:,}; "
            f"use fewer stages, or {_raise_hint(MAX_ORDER)}",
            loc,
        )


def check_variables(count: int, what: str, loc: Loc) -> None:
    """Refuse an expansion (``what``) into more scalar variables than the limit allows.

    Called before the expansion is built, with the count it would produce.
    """
    cap = limit(MAX_VARIABLES)
    if count > cap:
        raise ModelError(
            f"{what} would expand to {count:,} variables, more than the limit of {cap:,}; "
            f"{_raise_hint(MAX_VARIABLES)}",
            loc,
        )
