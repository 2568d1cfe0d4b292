"""The checked, frozen model: what a model file means, independent of its syntax."""

from quidpro.model.spec import (
    Claim,
    Constant,
    Distribution,
    Lookup,
    Model,
    Scenario,
    Source,
    Stock,
    TimeSpec,
    Variable,
)

__all__ = [
    "Claim",
    "Constant",
    "Distribution",
    "Lookup",
    "Model",
    "Scenario",
    "Source",
    "Stock",
    "TimeSpec",
    "Variable",
]
