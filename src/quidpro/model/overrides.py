"""The constant values a run uses instead of the file's: a scenario's, then explicit ones."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from quidpro.errors import ConfigError
from quidpro.lang.suggest import did_you_mean
from quidpro.model.spec import Model

BASELINE = "baseline"
"""The scenario name that means "the model as written" (as do None and "")."""


def is_baseline(scenario: str | None) -> bool:
    """Whether ``scenario`` names the model as written rather than one of its scenarios."""
    return scenario in (None, "", BASELINE)


def set_by_scenario(model: Model, scenario: str | None) -> set[str]:
    """The constants ``scenario`` sets; none for the baseline or a name it does not have."""
    if scenario is None or is_baseline(scenario) or scenario not in model.scenarios:
        return set()
    return set(model.scenarios[scenario].set)


def constant_overrides(
    model: Model, scenario: str | None = None, settings: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Constant values for a scenario plus explicit settings (settings win).

    Args:
        model: The checked model.
        scenario: One of the model's scenarios, or None, "" or "baseline" for none.
        settings: Constant name → value (a float or one value per ensemble member).

    Returns:
        Constant name → value, the scenario's first, then ``settings``.

    Raises:
        ConfigError: ``scenario`` is not a scenario of the model, or a key of
            ``settings`` is not one of its constants.
    """
    out: dict[str, Any] = {}
    if scenario is not None and not is_baseline(scenario):
        if scenario not in model.scenarios:
            known = ", ".join([BASELINE, *model.scenarios])
            raise ConfigError(
                f"unknown scenario {scenario!r}{did_you_mean(scenario, model.scenarios)}; "
                f"this model has: {known}"
            )
        out.update(model.scenarios[scenario].set)
    for name, value in (settings or {}).items():
        if name not in model.constants:
            raise ConfigError(
                f"cannot set {name!r}: it is not a constant of "
                f"{model.name}{did_you_mean(name, model.constants)}"
            )
        out[name] = value
    return out


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def setting_value(model: Model | None, name: str, value: object, flag: str = "--set") -> float:
    """The value of one explicit setting, as a command line or a request gives it.

    A finite number (the file's own rule for constants), or text holding one; for a
    time constant of a model with ``time.origin``, also an ISO date
    (``ceasefire_time=2025-07-01``). ``flag`` names the setting's source in errors.

    Raises:
        ConfigError: anything else (``nan``, ``inf``, ``1e400``, ``true``, ``1_000``,
            a date for a constant that is not a time).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{flag} {name}: {value!r} is not a number")
    if isinstance(value, str):
        text = value.strip()
        if _DATE.match(text):
            return _time_of_date(name, text, model, flag)
        if not _NUMBER.match(text):
            finite = text.lower().lstrip("+-") not in ("nan", "inf", "infinity")
            what = "is not a number" if finite else "is not a finite number"
            raise ConfigError(f"{flag} {name}: {value!r} {what}")
        value = text
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{flag} {name}={value}: the value must be a finite number")
    return number


def _time_of_date(name: str, value: str, model: Model | None, flag: str) -> float:
    """The model time of the date ``value`` for the time constant ``name``."""
    from quidpro.model.calendar import to_time

    if model is None or model.time.origin is None:
        what = f"model {model.name!r} has no time.origin" if model else "this command"
        raise ConfigError(
            f"{flag} {name}={value}: {what} cannot set a constant by date; give a number"
        )
    c = model.constants.get(name)
    t = model.time
    assert t.origin is not None
    if c is not None and c.units and t.units and _unit(c.units) != _unit(t.units):
        raise ConfigError(
            f"{flag} {name}={value}: {name!r} is in {c.units}, not in the model's time "
            f"units ({t.units}); only a time constant can be set by date"
        )
    return to_time(value, t.origin, t.units, t.start)


def _unit(text: str) -> str:
    return text.strip().rstrip("s")
