"""A located document: the plain data of a model file, each value with its position.

Both readers (YAML and XMILE) produce this shape before the model is built, so
that every later error can point at the line and column it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quidpro.errors import Loc, ParseError


@dataclass(slots=True)
class Node:
    """A value from a model file: a scalar, a list of nodes or a mapping of nodes."""

    value: Any
    loc: Loc
    key_loc: Loc | None = field(default=None)
    # A scalar written over several lines: its text as written (line breaks and
    # indentation kept) and where that text starts, so expression errors can point
    # at the right line and column of the file.
    source: tuple[str, Loc] | None = field(default=None)

    @property
    def is_map(self) -> bool:
        """Whether the node is a mapping."""
        return isinstance(self.value, dict)

    def items(self) -> list[tuple[str, Node]]:
        """The entries of a mapping; an error if this is not one."""
        if not isinstance(self.value, dict):
            raise ParseError(f"expected a mapping, got {describe(self)}", self.loc)
        return list(self.value.items())

    def get(self, key: str) -> Node | None:
        """The value under ``key`` of a mapping; None if absent or not a mapping."""
        if isinstance(self.value, dict):
            found: Node | None = self.value.get(key)
            return found
        return None

    def seq(self) -> list[Node]:
        """The items of a list; an error if this is not one."""
        if not isinstance(self.value, list):
            raise ParseError(f"expected a list, got {describe(self)}", self.loc)
        return list(self.value)

    def plain(self) -> Any:
        """The value with positions dropped (for docs and free-form fields)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def describe(node: Node) -> str:
    """What kind of value a node holds, in words for an error message ("a list")."""
    v = node.value
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if v is None:
        return "nothing"
    return f"{type(v).__name__} {v!r}"
