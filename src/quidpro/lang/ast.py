"""The expression syntax tree shared by every reader (YAML, XMILE) and the compiler.

Nodes are frozen dataclasses. ``loc`` is excluded from equality so that two trees
parsed from different places compare equal when they say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from quidpro.errors import NOWHERE, Loc


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal."""

    value: float
    loc: Loc = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Name:
    """A reference to a variable, or to ``time`` / ``dt``."""

    id: str
    loc: Loc = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Unary:
    """A prefix operator applied to one operand."""

    op: str  # "-", "+", "not"
    operand: Expr
    loc: Loc = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Binary:
    """An infix operator between two operands."""

    op: str  # + - * / ^ < <= > >= == != and or
    left: Expr
    right: Expr
    loc: Loc = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Call:
    """A function, builtin or lookup call: ``func(args...)``."""

    func: str
    args: tuple[Expr, ...]
    loc: Loc = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Index:
    """An array element or slice: ``name[sub, ...]``; ``*`` means the whole dimension."""

    id: str
    subscripts: tuple[str, ...]
    loc: Loc = field(default=NOWHERE, compare=False, repr=False)


Expr = Num | Name | Unary | Binary | Call | Index


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``node``."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def names(node: Expr) -> set[str]:
    """The variable names an expression refers to (including ``time`` and ``dt``)."""
    out: set[str] = set()
    for n in walk(node):
        if isinstance(n, Name | Index):
            out.add(n.id)
    return out
