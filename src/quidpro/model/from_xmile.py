"""Read an XMILE model (``.xmile``, ``.stmx``; XMILE 1.0 and the pre-OASIS dialect).

Covered: the base simulator level — sim_specs (start, stop, dt with
``reciprocal``, Euler or RK4, time units), stocks, flows, auxiliaries,
graphical functions, non-negative stocks and flows (also through the behavior
section), every deterministic builtin of XMILE 1.0 §3.5 (:mod:`quidpro.lang.xmile_builtins`), the
random ones with a seed (:mod:`quidpro.solve.noise`), ``SELF``, one- and
more-dimensional arrays (expanded to scalars, see :mod:`quidpro.model.arrays`) and
modules (flattened: the variable ``x`` of module ``m`` becomes ``m.x``).

Names are case-insensitive and ``_`` equals a space; a model name keeps the
spelling of its definition with spaces as underscores (``Teacup_Temperature``).
Conveyors, queues, ovens and macros are refused with their name and line.
Auxiliaries whose equation is a plain number become constants (settable with
``--set``); stocks may be initialised from auxiliaries (``dynamic_initials``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import PurePath

from quidpro.errors import Loc, ModelError, ParseError, UndefinedNameError, UnsupportedError
from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num, Unary
from quidpro.lang.suggest import did_you_mean
from quidpro.lang.xmile_builtins import map_call
from quidpro.lang.xmile_expr import is_number_list, parse_xmile_expression, unquote
from quidpro.lang.xml_tree import XNode, parse_xml
from quidpro.model.arrays import ArraySpace, element_name
from quidpro.model.spec import Constant, Lookup, Model, Stock, TimeSpec, Variable
from quidpro.model.xmile_parts import (
    behavior,
    flag,
    graphical_function,
    number,
    plain_number,
    time_spec,
)

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
class _Def:
    kind: str  # stock | flow | aux | gf
    name: str  # full display name, module prefix included
    el: XNode
    scope: str  # the canonical prefix of its model ("" or "hares.")
    alias: tuple[str, str, Loc] | None = None  # a module input: (from, parent scope, loc)
    dims: tuple[str, ...] = ()


@dataclass
class _Reader:
    file: str
    defs: dict[str, _Def] = field(default_factory=dict)  # full canonical key -> def
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
                raise ModelError(f"{raw!r} is defined twice (first at line {first.line})", el.loc)
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
            d = _Def(tag, prefix + display(raw), el, scope, inputs.get(canon(raw)))
            self.defs[key] = d

    def module(self, el: XNode, raw: str, prefix: str, scope: str, depth: int) -> None:
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
        self.defs[scope + canon(raw)] = _Def("module", prefix + display(raw), el, scope)
        inner = scope + canon(raw) + "."
        self.flatten(sub, prefix + display(raw) + ".", inner, inputs, depth + 1)
        for key, (_, _, where) in inputs.items():
            if inner + key not in self.defs:
                raise UndefinedNameError(
                    f"module {raw!r} connects to {key!r}, which its model does not define",
                    where,
                )

    # -- names ------------------------------------------------------------------
    def find(self, raw: str, scope: str) -> _Def | None:
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
        options = [d.name for k, d in self.defs.items() if k.startswith(scope)]
        hint = did_you_mean(display(raw), options)
        return UndefinedNameError(f"undefined name {raw!r} in {owner!r}{hint}", loc)

    def subscript(self, s: str) -> str:
        if s == "*":
            return s
        if "." in s:
            dim, _, elem = s.partition(".")
            return f"{self.dim_keys.get(canon(dim), dim)}.{self.elem_keys.get(canon(elem), elem)}"
        key = canon(s)
        return self.dim_keys.get(key) or self.elem_keys.get(key) or s

    def ref(self, raw: str, scope: str, loc: Loc, owner: str) -> str:
        d = self.find(raw, scope)
        if d is None:
            raise self.undefined(raw, scope, owner, loc)
        return d.name


def _dimensions(root: XNode, r: _Reader) -> None:
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
            if size is None or size < 1 or size != int(size):
                raise ParseError(f"dimension {raw!r} needs <elem> names or a size", d.loc)
            elems = [str(i) for i in range(1, int(size) + 1)]
        name = display(raw)
        r.space.dimensions[name] = tuple(elems)
        r.dim_keys[canon(raw)] = name
        for e in elems:
            r.elem_keys.setdefault(canon(e), e)


def _text(el: XNode, tag: str) -> str | None:
    t = el.child_text(tag)
    return t.strip() if t and t.strip() else None


def _model_name(root: XNode, file: str) -> str:
    header = root.find("header")
    raw = (header.child_text("name") if header is not None else None) or PurePath(file).stem
    name = re.sub(r"\W+", "_", raw.strip()).strip("_") or "model"
    return f"m_{name}" if name[0].isdigit() else name


def read_xmile(text: str, file: str = "<string>") -> Model:
    """Parse an XMILE document into a ``Model`` (checked later by the caller).

    Args:
        text: The whole XMILE file.
        file: Its name, for error locations and the model's default name.

    Raises:
        ModelError: The file is not XMILE quidpro can read (with its line).
    """
    root = parse_xml(text, file)
    _refuse_unreadable(root)
    time = time_spec(root)
    if _from_vensim(root):  # Vensim holds exogenous inputs over a Runge-Kutta step
        time = replace(time, hold_inputs=True)
    r = _Reader(file)
    r.nn_stock, r.nn_flow = behavior(root)
    _dimensions(root, r)
    r.flatten(_main_model(root, r), "", "", {})
    _aux_flows_are_flows(r)
    return _build(r, root, time, file)


def _refuse_unreadable(root: XNode) -> None:
    if root.tag.split(":")[-1] != "xmile":
        raise ParseError(f"not an XMILE file: the root element is <{root.tag}>", root.loc)
    for el in root.iter():
        if el.tag == "macro":
            name = el.attrib.get("name", "?")
            raise UnsupportedError(f"XMILE macro {name!r} is not supported", el.loc)


def _main_model(root: XNode, r: _Reader) -> XNode:
    """The model to run: the one without a name; the others are modules' models."""
    main: XNode | None = None
    for m in root.findall("model"):
        if m.attrib.get("name") is None and main is None:
            main = m
        else:
            r.models[canon(m.attrib.get("name", ""))] = m
    if main is None:
        if len(r.models) == 1:
            main = next(iter(r.models.values()))
        else:
            main = r.models.get("default") or r.models.get("main")
        if main is None:
            raise ParseError("the XMILE file has no main <model> (one without a name)", root.loc)
    return main


def _aux_flows_are_flows(r: _Reader) -> None:
    """An auxiliary used as a stock's inflow or outflow is a flow."""
    for d in list(r.defs.values()):
        if d.kind == "stock":
            for tag in ("inflow", "outflow"):
                for el in d.el.findall(tag):
                    f = r.find(unquote(el.text), d.scope)
                    if f is not None and f.kind == "aux":
                        f.kind = "flow"


def _dims_of(r: _Reader, d: _Def) -> tuple[str, ...]:
    el = d.el.find("dimensions")
    if el is None:
        return ()
    out = []
    for dim in el.findall("dim"):
        raw = dim.attrib.get("name", "")
        if canon(raw) not in r.dim_keys:
            raise UndefinedNameError(f"{d.name!r} uses undefined dimension {raw!r}", dim.loc)
        out.append(r.dim_keys[canon(raw)])
    return tuple(out)


@dataclass
class _Tables:
    """The model's definitions as they are built, by kind."""

    constants: dict[str, Constant] = field(default_factory=dict)
    stocks: dict[str, Stock] = field(default_factory=dict)
    flows: dict[str, Variable] = field(default_factory=dict)
    auxiliaries: dict[str, Variable] = field(default_factory=dict)


def _build(r: _Reader, root: XNode, time: TimeSpec, file: str) -> Model:
    tables = _Tables()
    lookups: dict[str, Lookup] = {}
    taken = {d.name for d in r.defs.values()}
    # Graphical functions first: standalone ones and those inside variables.
    for d in r.defs.values():
        d.dims = _dims_of(r, d) if d.kind != "module" else ()
        if d.dims and d.alias is None:
            r.space.shapes[d.name] = d.dims
        gf = d.el if d.kind == "gf" else d.el.find("gf")
        if gf is None or d.alias is not None:
            continue
        lk = d.name if d.kind == "gf" else f"{d.name}_lookup"
        while d.kind != "gf" and lk in taken:
            lk += "_"
        taken.add(lk)
        lookups[lk] = graphical_function(gf, lk, _text(d.el, "units"), _text(d.el, "doc"))
        r.lookup_of[d.name] = lk
    for d in r.defs.values():
        if d.kind in ("gf", "module"):
            continue
        _build_def(r, d, tables)
    header = root.find("header")
    title = None
    if header is not None:
        title = _text(header, "name")
    doc = None
    main_doc = root.find("model")
    if main_doc is not None:
        doc = _text(main_doc, "doc")
    return Model(
        name=_model_name(root, file),
        time=time,
        constants=tables.constants,
        stocks=tables.stocks,
        flows=tables.flows,
        auxiliaries=tables.auxiliaries,
        lookups=lookups,
        title=title,
        doc=doc,
        file=file,
        dynamic_initials=True,
        non_negative_mode="clamp",
        dimensions=dict(r.space.dimensions),
        arrays=dict(r.space.shapes),
    )


def _from_vensim(root: XNode) -> bool:
    header = root.find("header")
    if header is None:
        return False
    maker = f"{_text(header, 'vendor') or ''} {_text(header, 'product') or ''}".lower()
    return "vensim" in maker or "ventana" in maker


def _equations(r: _Reader, d: _Def) -> list[tuple[dict[str, str], Expr, bool]]:
    """(binding, resolved expression, is a plain number) for each element of ``d``."""
    owner = d.name
    if d.alias is not None:
        frm, parent, loc = d.alias
        return [({}, Name(r.ref(frm, parent, loc, owner), loc), False)]
    bindings = r.space.bindings(d.dims) if d.dims else [{}]
    per_element = d.el.findall("element")
    if per_element and d.dims:
        out = []
        by_elem: dict[tuple[str, ...], XNode] = {}
        for el in per_element:
            if el.find("gf") is not None:
                raise UnsupportedError(
                    f"{owner!r} has a graphical function per element, which quidpro does not "
                    "support; use one graphical function for the whole array",
                    el.loc,
                )
            subs = tuple(r.subscript(s.strip()) for s in el.attrib.get("subscript", "").split(","))
            by_elem[subs] = el
        for b in bindings:
            key = tuple(b[x] for x in d.dims)
            one = by_elem.get(key)
            if one is None:
                raise ModelError(f"{owner}[{', '.join(key)}] has no equation", d.el.loc)
            out.append((b, *_parse(r, one, d, owner)))
        return out
    eqn = d.el.find("eqn")
    if eqn is None or not eqn.text.strip():
        what = "an initial value" if d.kind == "stock" else "an equation"
        raise ParseError(f"{d.kind} {owner!r} has no <eqn> ({what} is needed)", d.el.loc)
    if d.dims and (numbers := is_number_list(eqn.text)) is not None:
        if len(numbers) != len(bindings):
            raise ModelError(
                f"{owner!r} lists {len(numbers)} values for {len(bindings)} elements", eqn.where
            )
        return [(b, Num(v, eqn.where), True) for b, v in zip(bindings, numbers, strict=True)]
    expr, plain = _parse(r, d.el, d, owner)
    return [(b, expr, plain) for b in bindings]


def _parse(r: _Reader, el: XNode, d: _Def, owner: str) -> tuple[Expr, bool]:
    eqn = el.find("eqn")
    if eqn is None or not eqn.text.strip():
        raise ParseError(f"{owner!r} has no <eqn>", el.loc)
    raw = parse_xmile_expression(eqn.text, eqn.where)
    expr = r.resolve(raw, d.scope, owner)
    plain = plain_number(expr)
    if plain is not None:
        return Num(plain, expr.loc), True
    return expr, False


def _build_def(r: _Reader, d: _Def, tables: _Tables) -> None:
    units, doc = _text(d.el, "units"), _text(d.el, "doc")
    loc = d.el.loc
    kind = "aux" if d.alias is not None else d.kind
    lookup = r.lookup_of.get(d.name)
    for binding, raw_expr, is_number in _equations(r, d):
        name = element_name(d.name, tuple(binding[x] for x in d.dims)) if d.dims else d.name
        expr = r.space.expand(raw_expr, binding, name)
        plain = is_number and lookup is None
        if lookup is not None:
            expr = Call(lookup, (expr,), expr.loc)
        if kind == "stock":
            nn = flag(d.el.find("non_negative"))
            tables.stocks[name] = Stock(
                name,
                expr,
                _flow_names(r, d, "inflow", binding),
                _flow_names(r, d, "outflow", binding),
                r.nn_stock if nn is None else nn,
                units,
                doc,
                loc,
            )
        elif kind == "flow":
            nn = flag(d.el.find("non_negative"))
            tables.flows[name] = Variable(
                name,
                "flow",
                expr,
                units,
                doc,
                non_negative=r.nn_flow if nn is None else nn,
                loc=loc,
            )
        elif plain and isinstance(expr, Num):
            tables.constants[name] = Constant(name, expr.value, None, units, doc, loc=loc)
        else:
            tables.auxiliaries[name] = Variable(name, "aux", expr, units, doc, loc=loc)


def _flow_names(r: _Reader, d: _Def, tag: str, binding: dict[str, str]) -> tuple[str, ...]:
    out = []
    for el in d.el.findall(tag):
        fd = r.find(unquote(el.text), d.scope)
        if fd is None or fd.kind != "flow":
            raise UndefinedNameError(
                f"{tag} {unquote(el.text)!r} of stock {d.name!r} is not a flow", el.where
            )
        dims = r.space.shapes.get(fd.name, ())
        if dims:
            missing = [x for x in dims if x not in binding]
            if missing:
                raise ModelError(f"arrayed {tag} {fd.name!r} of scalar stock {d.name!r}", el.where)
            out.append(element_name(fd.name, tuple(binding[x] for x in dims)))
        else:
            out.append(fd.name)
    return tuple(out)
