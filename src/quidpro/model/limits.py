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

#: Time steps of one run (``(stop - start) / dt``).
MAX_STEPS = ("QUIDPRO_MAX_STEPS", 10_000_000)
#: Scalar elements a Vensim file's subscripts may expand to (a range, a variable's
#: elements, the terms of one SUM, and all the model's elements together).
MAX_ELEMENTS = ("QUIDPRO_MAX_ELEMENTS", 100_000)


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
