"""The constant values a run uses instead of the file's: a scenario's, then explicit ones."""

from __future__ import annotations

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
