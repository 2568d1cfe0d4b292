"""Arrays by expansion: every element of a subscripted variable becomes a scalar.

A variable ``stock`` over the dimension ``actor = [ru, kp]`` becomes the two
scalars ``stock[ru]`` and ``stock[kp]`` before the model is checked, so the rest
of the engine (checks, lowering, the kernel) never sees an array. Expressions are
rewritten element by element:

- ``x[actor]`` inside an equation over ``actor`` is the current element;
- ``x[ru]`` is that element; ``x[*]`` and an unbound ``x[actor]`` stand for the
  whole dimension and are only allowed inside ``sum mean prod min max size``;
- a bare ``x`` of an arrayed variable inside an equation over its dimensions is
  the current element (apply-to-all).

Results keep the element names as columns: ``stock[ru]``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from quidpro.errors import DuplicateNameError, Loc, ModelError, ParseError, UndefinedNameError
from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num, Unary, walk
from quidpro.lang.located import Node
from quidpro.lang.suggest import did_you_mean
from quidpro.model.limits import check_variables

REDUCTIONS = ("sum", "mean", "prod", "size", "min", "max", "stddev")


def element_name(base: str, elems: tuple[str, ...]) -> str:
    """The scalar name of one element: ``base[e1,e2]``."""
    return f"{base}[{','.join(elems)}]"


@dataclass
class ArraySpace:
    """The model's dimensions and which variables are arrayed over which of them."""

    dimensions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    shapes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def bindings(self, dims: tuple[str, ...]) -> list[dict[str, str]]:
        """Every element of the dimensions ``dims``, as dim -> element maps."""
        combos = itertools.product(*(self.dimensions[d] for d in dims))
        return [dict(zip(dims, c, strict=True)) for c in combos]

    def names_of(self, base: str) -> list[str]:
        """The scalar names of every element of the array ``base``."""
        dims = self.shapes[base]
        return [element_name(base, tuple(b[d] for d in dims)) for b in self.bindings(dims)]

    # -- element lookup -------------------------------------------------------
    def _element(
        self, base: str, dim: str, sub: str, binding: Mapping[str, str], loc: Loc
    ) -> str | None:
        """The element ``sub`` names in ``dim`` (None: the whole dimension, unbound)."""
        elems = self.dimensions[dim]
        if sub == "*":
            sub = dim
        if sub in self.dimensions:
            if sub not in binding:
                return None
            e = binding[sub]
            if e in elems:
                return e
            other = self.dimensions[sub]
            if len(other) == len(elems):  # a mapped dimension of the same size
                return elems[other.index(e)]
            raise ModelError(
                f"{base}[{sub}]: dimension {sub!r} does not match {dim!r} of {base!r}", loc
            )
        if sub in elems:
            return sub
        if "." in sub and sub.split(".", 1)[0] == dim and sub.split(".", 1)[1] in elems:
            return sub.split(".", 1)[1]
        if sub.isdigit() and 1 <= int(sub) <= len(elems) and sub not in elems:
            return elems[int(sub) - 1]
        raise UndefinedNameError(
            f"{base}[{sub}]: {sub!r} is not an element of dimension {dim!r} ({', '.join(elems)})",
            loc,
        )

    def free_dims(self, expr: Expr, binding: Mapping[str, str]) -> list[str]:
        """Dimensions ``expr`` ranges over that ``binding`` does not fix, in order."""
        out: list[str] = []
        for n in walk(expr):
            if isinstance(n, Call) and n.func in REDUCTIONS and self._is_reduction(n, binding):
                continue  # an inner reduction binds its own dimensions
            if isinstance(n, Index) and n.id in self.shapes:
                for dim, sub in zip(self.shapes[n.id], n.subscripts, strict=False):
                    d = dim if sub == "*" else sub
                    if d in self.dimensions and d not in binding and d not in out:
                        out.append(d)
            elif isinstance(n, Name) and n.id in self.shapes:
                for d in self.shapes[n.id]:
                    if d not in binding and d not in out:
                        out.append(d)
        return out

    def _is_reduction(self, call: Call, binding: Mapping[str, str]) -> bool:
        if call.func in ("min", "max"):
            return len(call.args) == 1 or any(self.free_dims(a, binding) for a in call.args)
        return True

    # -- rewriting ------------------------------------------------------------
    def expand(self, expr: Expr, binding: Mapping[str, str], owner: str) -> Expr:
        """``expr`` for one element (``binding``), with every array reference scalar."""
        if isinstance(expr, Index):
            return self._scalar_index(expr, binding, owner)
        if isinstance(expr, Name):
            return self._scalar_name(expr, binding)
        if isinstance(expr, Unary):
            return Unary(expr.op, self.expand(expr.operand, binding, owner), expr.loc)
        if isinstance(expr, Binary):
            return Binary(
                expr.op,
                self.expand(expr.left, binding, owner),
                self.expand(expr.right, binding, owner),
                expr.loc,
            )
        if isinstance(expr, Call):
            return self._expand_call(expr, binding, owner)
        return expr

    def _expand_call(self, expr: Call, binding: Mapping[str, str], owner: str) -> Expr:
        if expr.func in REDUCTIONS and self._is_reduction(expr, binding):
            return self._reduce(expr, binding, owner)
        args = tuple(self.expand(a, binding, owner) for a in expr.args)
        return Call(expr.func, args, expr.loc)

    def _scalar_index(self, expr: Index, binding: Mapping[str, str], owner: str) -> Name:
        """``a[sub, ...]`` for one element: the scalar it names."""
        if expr.id not in self.shapes:
            raise ModelError(f"{expr.id!r} is not an array, it takes no subscript", expr.loc)
        dims = self.shapes[expr.id]
        if len(expr.subscripts) != len(dims):
            raise ModelError(
                f"{expr.id!r} has {len(dims)} dimension(s) ({', '.join(dims)}), "
                f"got {len(expr.subscripts)} subscript(s)",
                expr.loc,
            )
        elems = []
        for dim, sub in zip(dims, expr.subscripts, strict=True):
            e = self._element(expr.id, dim, sub, binding, expr.loc)
            if e is None:
                raise ModelError(
                    f"{expr.id}[{sub}] in {owner!r} stands for a whole dimension; use it "
                    f"inside sum(), mean(), min() or max(), or in an equation over {dim!r}",
                    expr.loc,
                )
            elems.append(e)
        return Name(element_name(expr.id, tuple(elems)), expr.loc)

    def _scalar_name(self, expr: Name, binding: Mapping[str, str]) -> Name:
        """A bare name: an array's element for ``binding`` (the array over its own dims)."""
        if expr.id not in self.shapes:
            return expr
        dims = self.shapes[expr.id]
        missing = [d for d in dims if d not in binding]
        if missing:
            raise ModelError(
                f"{expr.id!r} is an array over {', '.join(dims)}: give a subscript, "
                f"like {expr.id}[{dims[0]}], or sum it: sum({expr.id}[*])",
                expr.loc,
            )
        return Name(element_name(expr.id, tuple(binding[d] for d in dims)), expr.loc)

    def _items(self, arg: Expr, binding: Mapping[str, str], owner: str) -> list[Expr]:
        arg, wild = self._whole(arg)
        try:
            free = self.free_dims(arg, binding)
            if not free:
                return [self.expand(arg, binding, owner)]
            return [self.expand(arg, {**binding, **b}, owner) for b in self.bindings(tuple(free))]
        finally:
            for w in wild:
                del self.dimensions[w]

    def _whole(self, arg: Expr) -> tuple[Expr, list[str]]:
        """``arg`` with each ``x[*]`` over ``dim`` as ``x[dim*]``, a copy no equation binds.

        Inside a reduction ``*`` is the whole dimension, even in an equation over that
        dimension (``share[actor] = w[actor] / sum(w[*])``).
        """
        wild: list[str] = []

        def star(e: Expr) -> Expr:
            if isinstance(e, Index) and e.id in self.shapes and "*" in e.subscripts:
                subs = []
                for dim, sub in zip(self.shapes[e.id], e.subscripts, strict=False):
                    whole = f"{dim}*" if sub == "*" else sub
                    if sub == "*" and whole not in self.dimensions:
                        self.dimensions[whole] = self.dimensions[dim]
                        wild.append(whole)
                    subs.append(whole)
                return Index(e.id, tuple(subs), e.loc)
            if isinstance(e, Unary):
                return Unary(e.op, star(e.operand), e.loc)
            if isinstance(e, Binary):
                return Binary(e.op, star(e.left), star(e.right), e.loc)
            if isinstance(e, Call) and not (e.func in REDUCTIONS and e is not arg):
                return Call(e.func, tuple(star(a) for a in e.args), e.loc)
            return e

        return star(arg), wild

    def _reduce(self, call: Call, binding: Mapping[str, str], owner: str) -> Expr:
        items = [x for a in call.args for x in self._items(a, binding, owner)]
        loc = call.loc
        if not items:
            raise ModelError(f"{call.func}() needs an argument", loc)
        if call.func in ("min", "max"):
            return items[0] if len(items) == 1 else Call(call.func, tuple(items), loc)
        if call.func == "size":
            return Num(float(len(items)), loc)
        op = "*" if call.func == "prod" else "+"
        total = items[0]
        for it in items[1:]:
            total = Binary(op, total, it, loc)
        if call.func in ("sum", "prod"):
            return total
        n = Num(float(len(items)), loc)
        mean = Binary("/", total, n, loc)
        if call.func == "mean":
            return mean
        sq: Expr = Num(0.0, loc)
        for it in items:
            d = Binary("-", it, mean, loc)
            sq = Binary("+", sq, Binary("*", d, d, loc), loc)
        return Call("sqrt", (Binary("/", sq, n, loc),), loc)


def uses_arrays(expr: Expr) -> bool:
    """Whether ``expr`` has a subscript or an array reduction."""
    return any(
        isinstance(n, Index) or (isinstance(n, Call) and n.func in ("sum", "mean", "prod", "size"))
        for n in walk(expr)
    )


# -- format v1: the `dimensions:` section and `dims:` entries ---------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ELEMENT = re.compile(r"^[A-Za-z0-9_]+$")
# The field of each section that may hold one equation per element.
EQUATION_FIELD = {
    "constants": "value",
    "stocks": "initial",
    "flows": "equation",
    "auxiliaries": "equation",
}


@dataclass
class ArrayedDocument:
    """The arrayed entries taken out of a format v1 document, to expand after the rest."""

    space: ArraySpace
    entries: dict[str, list[tuple[str, Node]]]  # section -> [(base name, node)]
    order: dict[str, list[str]]  # section -> every key in file order


def split_arrays(root: Node) -> tuple[Node, ArrayedDocument | None]:
    """``root`` without its arrayed entries, and those entries (None: no arrays)."""
    dims_node = root.get("dimensions")
    if dims_node is None or dims_node.value is None:
        return root, None
    space = ArraySpace()
    for dim, node in dims_node.items():
        space.dimensions[dim] = _dimension(dim, node)
    doc = ArrayedDocument(space, {}, {})
    top = dict(root.value)
    for section in EQUATION_FIELD:
        found = root.get(section)
        if found is None or not found.is_map:
            continue
        node = found
        keep: dict[str, Node] = {}
        doc.order[section] = []
        for name, child in node.items():
            doc.order[section].append(name)
            if child.is_map and child.get("dims") is not None:
                _arrayed_entry(space, name, child)
                doc.entries.setdefault(section, []).append((name, child))
            else:
                keep[name] = child
        top[section] = Node(keep, node.loc, node.key_loc)
    top.pop("dimensions")
    return Node(top, root.loc, root.key_loc), doc


def _dimension(dim: str, node: Node) -> tuple[str, ...]:
    """The elements of one entry of ``dimensions:``: a size or a list of names."""
    if not _IDENT.match(dim):
        raise ParseError(f"{dim!r} is not a valid dimension name", node.key_loc or node.loc)
    if isinstance(node.value, int) and not isinstance(node.value, bool):
        if node.value < 1:
            raise ParseError(f"dimension {dim!r} needs a size of at least 1", node.loc)
        check_variables(node.value, f"dimension {dim!r}", node.loc)
        return tuple(str(i) for i in range(1, node.value + 1))
    elems = tuple(str(e.value) for e in node.seq())
    for e, en in zip(elems, node.seq(), strict=True):
        if not _ELEMENT.match(e):
            raise ParseError(
                f"element {e!r} of {dim!r} must be letters, digits and underscores", en.loc
            )
    if len(set(elems)) != len(elems) or not elems:
        raise ParseError(f"dimension {dim!r} needs distinct element names", node.loc)
    return elems


def _arrayed_entry(space: ArraySpace, name: str, node: Node) -> None:
    if not _IDENT.match(name):
        raise ParseError(f"{name!r} is not a valid name", node.key_loc or node.loc)
    dn = node.get("dims")
    assert dn is not None
    dims = tuple(str(d.value) for d in (dn.seq() if isinstance(dn.value, list) else [dn]))
    for d, where in zip(dims, dn.seq() if isinstance(dn.value, list) else [dn], strict=True):
        if d not in space.dimensions:
            raise UndefinedNameError(
                f"{name!r} uses undefined dimension {d!r}{did_you_mean(d, space.dimensions)}",
                where.loc,
            )
    space.shapes[name] = dims


def expand_document(
    doc: ArrayedDocument,
    sections: dict[str, Any],
    builders: Mapping[str, Callable[[str, Node], Any]],
    seen: dict[str, Loc],
) -> dict[str, Any]:
    """Build every element of the arrayed entries and rewrite all expressions to scalars."""
    space = doc.space
    _check_expansion(doc, sections)
    built: dict[str, dict[str, tuple[Any, dict[str, str]]]] = {}
    for section, entries in doc.entries.items():
        for base, node in entries:
            here = node.key_loc or node.loc
            if base in seen:
                first, second = sorted((seen[base], here), key=lambda loc: loc.line)
                raise DuplicateNameError(
                    f"{base!r} is defined twice (first at line {first.line})", second
                )
            seen[base] = here
            field = EQUATION_FIELD[section]
            for binding in space.bindings(space.shapes[base]):
                elems = tuple(binding[d] for d in space.shapes[base])
                name = element_name(base, elems)
                item = builders[section](name, _element_node(node, field, elems, base))
                built.setdefault(section, {})[base + "\0" + name] = (item, binding)
    out: dict[str, Any] = {}
    for section, table in sections.items():
        if section not in EQUATION_FIELD:
            out[section] = table
            continue
        new: dict[str, Any] = {}
        arrayed = built.get(section, {})
        for key in doc.order.get(section, list(table)):
            if key in table:
                new[key] = _rewrite(space, table[key], {})
                continue
            for k, (item, binding) in arrayed.items():
                if k.split("\0", 1)[0] == key:
                    new[item.name] = _rewrite(space, item, binding)
        out[section] = new
    return out


def _check_expansion(doc: ArrayedDocument, sections: Mapping[str, Any]) -> None:
    """Refuse arrays that would expand to more variables than the limit, before any is."""
    total = sum(len(table) for name, table in sections.items() if name in EQUATION_FIELD)
    where: Loc | None = None
    for entries in doc.entries.values():
        for base, node in entries:
            total += math.prod(len(doc.space.dimensions[d]) for d in doc.space.shapes[base])
            where = where or node.key_loc or node.loc
    if where is not None:
        check_variables(total, "the model's arrays", where)


def _element_node(node: Node, field: str, elems: tuple[str, ...], base: str) -> Node:
    """The node of one element: without ``dims``, with that element's equation."""
    values = {k: v for k, v in node.value.items() if k != "dims"}
    eq = values.get(field)
    if eq is not None and eq.is_map:
        key = ",".join(elems)
        one = eq.get(key)
        if one is None:
            raise ParseError(
                f"{field} of {base!r} has no entry for element {key!r} "
                f"(it has {', '.join(eq.value)})",
                eq.loc,
            )
        values[field] = one
    return Node(values, node.loc, node.key_loc)


def _rewrite(space: ArraySpace, item: Any, binding: dict[str, str]) -> Any:
    """A built constant, stock or variable with its expressions made scalar."""
    name = item.name
    if hasattr(item, "equation"):
        return dataclasses.replace(item, equation=space.expand(item.equation, binding, name))
    if hasattr(item, "initial"):
        return dataclasses.replace(
            item,
            initial=space.expand(item.initial, binding, name),
            inflows=_flow_elements(space, item.inflows, binding, item),
            outflows=_flow_elements(space, item.outflows, binding, item),
        )
    if getattr(item, "expr", None) is not None:
        return dataclasses.replace(item, expr=space.expand(item.expr, binding, name))
    return item


def _flow_elements(
    space: ArraySpace, flows: tuple[str, ...], binding: dict[str, str], stock: Any
) -> tuple[str, ...]:
    out = []
    for f in flows:
        dims = space.shapes.get(f)
        if not dims:
            out.append(f)
            continue
        missing = [d for d in dims if d not in binding]
        if missing:
            raise ModelError(
                f"flow {f!r} is an array over {', '.join(dims)} but stock {stock.name!r} "
                "is not; sum it in a scalar flow instead",
                stock.loc,
            )
        out.append(element_name(f, tuple(binding[d] for d in dims)))
    return tuple(out)
