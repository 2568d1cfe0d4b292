"""The names of an XMILE file: its definitions, modules flattened, references resolved.

Names are case-insensitive and ``_`` equals a space (:func:`canon`); a name keeps the
spelling of its definition with spaces as underscores (:func:`display`). A module's
variable ``x`` in module ``m`` becomes ``m.x``; a module input is an alias of the
variable connected to it. Used by :mod:`quidpro.model.from_xmile`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from quidpro.errors import (
    DuplicateNameError,
    Loc,
    ModelError,
    ParseError,
    UndefinedNameError,
    UnsupportedError,
)
from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Unary
from quidpro.lang.suggest import did_you_mean
from quidpro.lang.xmile_builtins import map_call
from quidpro.lang.xml_tree import XNode
from quidpro.model.arrays import ArraySpace
from quidpro.model.limits import check_variables
from quidpro.model.xmile_parts import number

SPECIAL_NAMES = {
    "time": "time",
    "dt": "dt",
    "starttime": "start_time",
    "stoptime": "stop_time",
    "pi": "pi",
    "inf": "inf",
}
_SPACES = re.compile(r"(\\n|[\s_])+")
UNSUPPORTED_STOCKS = ("conveyor", "queue", "oven")


def display(name: str) -> str:
    r"""A name as the model shows it: runs of spaces, underscores and ``\n`` become ``_``."""
    return _SPACES.sub("_", name.strip()).strip("_") or "_"


def canon(name: str) -> str:
    """The key names are compared by: case-insensitive, ``_`` equal to a space."""
    return display(name).lower()


def _path_key(raw: str) -> str:
    return ".".join(canon(p) for p in raw.split("."))


@dataclass
class Definition:
    """One definition of the file: its kind, full name, element and module scope."""

    kind: str  # stock | flow | aux | gf
    name: str  # full display name, module prefix included
    el: XNode
    scope: str  # the canonical prefix of its model ("" or "hares.")
    alias: tuple[str, str, Loc] | None = None  # a module input: (from, parent scope, loc)
    dims: tuple[str, ...] = ()


@dataclass
class XmileScope:
    """Every definition of the file by canonical key, modules flattened, names resolved."""

    file: str
    defs: dict[str, Definition] = field(default_factory=dict)  # full canonical key -> def
    models: dict[str, XNode] = field(default_factory=dict)
    space: ArraySpace = field(default_factory=ArraySpace)
    dim_keys: dict[str, str] = field(default_factory=dict)  # canon dim -> display
    elem_keys: dict[str, str] = field(default_factory=dict)  # canon element -> display
    lookup_of: dict[str, str] = field(default_factory=dict)  # def name -> lookup name
    nn_stock: bool = False
    nn_flow: bool = False

    # -- structure --------------------------------------------------------------
    def flatten(
        self,
        model: XNode,
        prefix: str,
        scope: str,
        inputs: dict[str, tuple[str, str, Loc]],
        depth: int = 0,
    ) -> None:
        """Add the definitions of ``model`` under ``prefix``, its modules' recursively.

        Args:
            model: A ``<model>`` element.
            prefix: The display prefix of its names (``""`` or ``"hares."``).
            scope: The canonical prefix of its keys.
            inputs: Module inputs: canonical name → (source name, parent scope, where).
            depth: How deep in modules this is (a module including itself stops at 20).
        """
        if depth > 20:
            raise ModelError(
                "modules nested more than 20 deep (a module includes itself?)", model.loc
            )
        variables = model.find("variables")
        if variables is None:
            return
        for el in variables.children:
            tag = el.tag
            if ":" in tag or tag in ("group", "doc"):
                continue  # vendor extensions and display groups
            if tag == "macro":
                raise UnsupportedError("XMILE macros are not supported", el.loc)
            if tag not in ("stock", "flow", "aux", "gf", "module"):
                raise UnsupportedError(
                    f"<{tag}> in <variables> is not supported by quidpro", el.loc
                )
            raw = el.attrib.get("name")
            if raw is None:
                raise ParseError(f"<{tag}> needs a name attribute", el.loc)
            key = scope + canon(raw)
            if key in self.defs:
                first = self.defs[key].el.loc
                raise DuplicateNameError(
                    f"{raw!r} is defined twice (first at line {first.line})", el.loc
                )
            if tag == "module":
                self.module(el, raw, prefix, scope, depth)
                continue
            if tag == "stock":
                for bad in UNSUPPORTED_STOCKS:
                    if el.find(bad) is not None:
                        raise UnsupportedError(
                            f"stock {raw!r} is a {bad}; conveyors, queues and ovens are "
                            "not supported (use an ordinary stock with a DELAY outflow)",
                            el.loc,
                        )
            d = Definition(tag, prefix + display(raw), el, scope, inputs.get(canon(raw)))
            self.defs[key] = d

    def module(self, el: XNode, raw: str, prefix: str, scope: str, depth: int) -> None:
        """Flatten the ``<module>`` element ``el`` (named ``raw``) and its connections."""
        sub_name = el.attrib.get("model") or raw
        sub = self.models.get(canon(sub_name))
        if sub is None:
            raise UndefinedNameError(
                f"module {raw!r} uses model {sub_name!r}, which the file does not define", el.loc
            )
        inputs: dict[str, tuple[str, str, Loc]] = {}
        for c in el.findall("connect"):
            to, frm = c.attrib.get("to"), c.attrib.get("from")
            if to is None or frm is None:
                raise ParseError("<connect> needs 'to' and 'from' attributes", c.loc)
            to_key = _path_key(to)
            mine = canon(raw) + "."
            if to_key.startswith(mine):
                to_key = to_key[len(mine) :]
            if to_key.startswith("."):
                raise UnsupportedError(
                    f"module {raw!r}: connections out of a module (to={to!r}) are not "
                    "supported; refer to the module's variable as module.variable instead",
                    c.loc,
                )
            inputs[to_key] = (frm, scope, c.loc)
        self.defs[scope + canon(raw)] = Definition("module", prefix + display(raw), el, scope)
        inner = scope + canon(raw) + "."
        self.flatten(sub, prefix + display(raw) + ".", inner, inputs, depth + 1)
        for key, (_, _, where) in inputs.items():
            if inner + key not in self.defs:
                raise UndefinedNameError(
                    f"module {raw!r} connects to {key!r}, which its model does not define",
                    where,
                )

    # -- names ------------------------------------------------------------------
    def find(self, raw: str, scope: str) -> Definition | None:
        """The definition ``raw`` names from ``scope`` (then from the main model)."""
        key = _path_key(raw.lstrip("."))
        if raw.startswith("."):
            return self.defs.get(key)
        return self.defs.get(scope + key) or (self.defs.get(key) if scope else None)

    def resolve(self, e: Expr, scope: str, owner: str) -> Expr:
        """``e`` with XMILE names and calls replaced by the quidpro ones they mean."""
        if isinstance(e, Name):
            return self.resolve_name(e, scope, owner)
        if isinstance(e, Index):
            d = self.find(e.id, scope)
            if d is None:
                raise self.undefined(e.id, scope, owner, e.loc)
            return Index(d.name, tuple(self.subscript(s) for s in e.subscripts), e.loc)
        if isinstance(e, Unary):
            return Unary(e.op, self.resolve(e.operand, scope, owner), e.loc)
        if isinstance(e, Call):
            return self.resolve_call(e, scope, owner)
        if isinstance(e, Binary):
            left, right = self.resolve(e.left, scope, owner), self.resolve(e.right, scope, owner)
            return Binary(e.op, left, right, e.loc)
        return e

    def resolve_name(self, e: Name, scope: str, owner: str) -> Name:
        """A variable's name, a special name (TIME, DT, ...) or SELF, resolved."""
        d = self.find(e.id, scope)
        if d is None:
            special = SPECIAL_NAMES.get(canon(e.id))
            if special is not None:
                return Name(special, e.loc)
            if canon(e.id) == "self":  # the variable being defined (XMILE 1.0 §3.5.6)
                return Name(owner, e.loc)
            raise self.undefined(e.id, scope, owner, e.loc)
        if d.kind in ("gf", "module"):
            what = "a graphical function" if d.kind == "gf" else "a module"
            raise ModelError(
                f"{e.id!r} is {what}"
                + (f"; call it with an argument: {e.id}(x)" if d.kind == "gf" else ""),
                e.loc,
            )
        return Name(d.name, e.loc)

    def resolve_call(self, e: Call, scope: str, owner: str) -> Expr:
        """A call of a graphical function (directly or through LOOKUP) or of a builtin."""
        if e.func == "lookup":
            head = e.args[0] if e.args else None
            g = self.find(head.id, scope) if isinstance(head, Name) else None
            if len(e.args) != 2 or g is None or g.name not in self.lookup_of:
                raise ModelError(
                    "LOOKUP(graphical_function, x) takes a graphical function and a value",
                    e.loc,
                )
            x = self.resolve(e.args[1], scope, owner)
            return Call(self.lookup_of[g.name], (x,), e.loc)
        args = tuple(self.resolve(a, scope, owner) for a in e.args)
        d = self.find(e.func, scope)
        if d is not None and d.name in self.lookup_of:
            if len(args) != 1:
                raise ModelError(
                    f"graphical function {e.func!r} takes 1 argument, got {len(args)}", e.loc
                )
            return Call(self.lookup_of[d.name], args, e.loc)
        return map_call(e.func, args, e.loc)

    def undefined(self, raw: str, scope: str, owner: str, loc: Loc) -> UndefinedNameError:
        """The error for an unknown name in ``owner``'s equation, with a suggestion."""
        options = [d.name for k, d in self.defs.items() if k.startswith(scope)]
        hint = did_you_mean(display(raw), options)
        return UndefinedNameError(f"undefined name {raw!r} in {owner!r}{hint}", loc)

    def subscript(self, s: str) -> str:
        """A subscript (dimension, element or ``dim.elem``) as the model spells it."""
        if s == "*":
            return s
        if "." in s:
            dim, _, elem = s.partition(".")
            return f"{self.dim_keys.get(canon(dim), dim)}.{self.elem_keys.get(canon(elem), elem)}"
        key = canon(s)
        return self.dim_keys.get(key) or self.elem_keys.get(key) or s

    def ref(self, raw: str, scope: str, loc: Loc, owner: str) -> str:
        """The full name of the definition ``raw`` refers to; an error if there is none."""
        d = self.find(raw, scope)
        if d is None:
            raise self.undefined(raw, scope, owner, loc)
        return d.name


def expanded_size(model: XNode, r: XmileScope) -> int:
    """How many scalar variables ``model`` becomes, its modules and arrays expanded.

    Counted on the XML alone, before anything is expanded, so that a small file of
    nested modules or wide arrays is refused (:func:`~quidpro.model.limits.check_variables`)
    instead of filling memory. A module that includes itself counts once here; the
    flattening reports it.
    """
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(m: XNode) -> int:
        key = id(m)
        if key in sizes or key in busy:
            return sizes.get(key, 0)
        busy.add(key)
        total = 0
        variables = m.find("variables")
        for el in variables.children if variables is not None else []:
            if el.tag == "module":
                sub = r.models.get(canon(el.attrib.get("model") or el.attrib.get("name", "")))
                total += 1 + (size(sub) if sub is not None else 0)
            elif el.tag in ("stock", "flow", "aux"):
                total += _elements(el, r)
        busy.discard(key)
        sizes[key] = total
        return total

    return size(model)


def _elements(el: XNode, r: XmileScope) -> int:
    """The elements of one variable: the product of its dimensions' sizes (1 if scalar)."""
    count = 1
    dims = el.find("dimensions")
    for dim in dims.findall("dim") if dims is not None else []:
        name = r.dim_keys.get(canon(dim.attrib.get("name", "")))
        count *= len(r.space.dimensions[name]) if name is not None else 1
    return count


def read_dimensions(root: XNode, r: XmileScope) -> None:
    """Add the file's ``<dimensions>`` to the scope: names, elements, their spellings."""
    dims = root.find("dimensions")
    if dims is None:
        return
    for d in dims.findall("dim"):
        raw = d.attrib.get("name")
        if raw is None:
            raise ParseError("<dim> needs a name", d.loc)
        elems = [display(e.attrib.get("name", "")) for e in d.findall("elem")]
        if not elems:
            size = number(d.attrib.get("size"), "size", d.loc)
            if size is None or not (size >= 1 and size.is_integer()):
                raise ParseError(f"dimension {raw!r} needs <elem> names or a size", d.loc)
            check_variables(int(size), f"dimension {raw!r}", d.loc)
            elems = [str(i) for i in range(1, int(size) + 1)]
        name = display(raw)
        r.space.dimensions[name] = tuple(elems)
        r.dim_keys[canon(raw)] = name
        for e in elems:
            r.elem_keys.setdefault(canon(e), e)
