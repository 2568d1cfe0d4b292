"""The ``loops:`` section of a model file (format v1): names for feedback loops.

```yaml
loops:
  arms_for_resources:              # the loop's name (an identifier)
    claim: C9                      # optional: the claim it makes executable
    variables: [nk_munitions_output, shipments_to_russia, nk_revenue]
    polarity: R                    # optional: what the modeller expects (R or B)
    doc: "..."                     # optional
```

A named loop is the shortest feedback loop of the model that passes through all of
``variables`` (``quidpro loops`` says so when none does). Only the shape is checked
here; the names are checked against the model's loops by the analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from quidpro.errors import NOWHERE, Loc, ParseError
from quidpro.lang.located import Node, describe

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOP_ID = re.compile(r"^[RBU]\d+$")  # the ids quidpro loops gives (R1, B2, ...)
_KEYS = ("claim", "variables", "polarity", "doc")


@dataclass(frozen=True)
class LoopName:
    """One entry of the ``loops:`` section."""

    name: str
    variables: tuple[str, ...]
    claim: str | None = None
    polarity: str | None = None
    doc: str | None = None
    loc: Loc = field(default=NOWHERE, compare=False)


def parse_loops(node: Node | None) -> dict[str, LoopName]:
    """The named loops of a ``loops:`` mapping (shape errors at file:line:col)."""
    if node is None or node.value is None:
        return {}
    if not node.is_map:
        raise ParseError(f"'loops' must be a mapping of loop names, got {describe(node)}", node.loc)
    out: dict[str, LoopName] = {}
    for name, child in node.items():
        here = child.key_loc or child.loc
        if not _IDENT.match(name):
            raise ParseError(f"a loop name must be an identifier, got {name!r}", here)
        if _LOOP_ID.match(name):  # it would read as another loop's id in every report
            raise ParseError(
                f"loop name {name!r} has the form of a loop id (R1, B2, ...), which "
                "quidpro loops assigns; give it a descriptive name",
                here,
            )
        if not child.is_map:
            raise ParseError(
                f"loop {name!r} must be a mapping with 'variables', got {describe(child)}", here
            )
        for key, sub in child.items():
            if key not in _KEYS:
                raise ParseError(
                    f"unknown key {key!r} in loop {name!r}; allowed: {', '.join(_KEYS)}",
                    sub.key_loc or sub.loc,
                )
        var_node = child.get("variables")
        if var_node is None or not isinstance(var_node.value, list) or not var_node.value:
            raise ParseError(
                f"loop {name!r} needs 'variables': a list of the variables it passes through",
                here,
            )
        variables = tuple(str(v.value) for v in var_node.seq())
        polarity = _text(child.get("polarity"))
        if polarity not in (None, "R", "B"):
            raise ParseError(
                f"loop {name!r}: polarity must be R or B, got {polarity!r}",
                child.get("polarity").loc,  # type: ignore[union-attr]
            )
        out[name] = LoopName(
            name,
            variables,
            _text(child.get("claim")),
            polarity,
            _text(child.get("doc")),
            here,
        )
    return out


def _text(node: Node | None) -> str | None:
    if node is None or node.value is None:
        return None
    return str(node.value)


__all__ = ["LoopName", "parse_loops"]
