"""The checked, frozen model: what a model file means, independent of its syntax.

:mod:`.parse` turns model text into a checked :class:`Model`: :mod:`.from_yaml`
builds format v1 from located YAML nodes, :mod:`.from_xmile` (with
:mod:`.xmile_scope` and :mod:`.xmile_parts`) builds XMILE from located XML, and
:mod:`.check` finds unknown names and algebraic loops.
"""

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
