"""Read an XMILE model (``.xmile``, ``.stmx``; XMILE 1.0 and the pre-OASIS dialect).

Covered: the base simulator level — sim_specs (start, stop, dt with
``reciprocal``, Euler or RK4, time units), stocks, flows, auxiliaries,
graphical functions, non-negative stocks and flows (also through the behavior
section), every deterministic builtin of XMILE 1.0 §3.5 (:mod:`quidpro.lang.xmile_builtins`),
the random ones with a seed (:mod:`quidpro.solve.noise`), ``SELF``, one- and
more-dimensional arrays (expanded to scalars, see :mod:`quidpro.model.arrays`) and
modules (flattened: the variable ``x`` of module ``m`` becomes ``m.x``).

Names are case-insensitive and ``_`` equals a space; a model name keeps the
spelling of its definition with spaces as underscores (``Teacup_Temperature``).
Conveyors, queues, ovens and macros are refused with their name and line.
Auxiliaries whose equation is a plain number become constants (settable by
scenarios and settings); stocks may be initialised from auxiliaries (``dynamic_initials``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import PurePath

from quidpro.errors import (
    DuplicateNameError,
    Loc,
    ModelError,
    ParseError,
    UndefinedNameError,
    UnsupportedError,
)
from quidpro.lang.ast import Call, Expr, Name, Num
from quidpro.lang.xmile_expr import is_number_list, parse_xmile_expression, unquote
from quidpro.lang.xml_tree import XNode, parse_xml
from quidpro.model.arrays import element_name
from quidpro.model.limits import check_variables
from quidpro.model.spec import Constant, Lookup, Model, Stock, TimeSpec, Variable
from quidpro.model.xmile_parts import (
    behavior,
    flag,
    graphical_function,
    plain_number,
    time_spec,
)
from quidpro.model.xmile_scope import (
    Definition,
    XmileScope,
    canon,
    expanded_size,
    read_dimensions,
)


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
    r = XmileScope(file)
    r.nn_stock, r.nn_flow = behavior(root)
    read_dimensions(root, r)
    main = _main_model(root, r)
    check_variables(expanded_size(main, r), "the model's modules and arrays", main.loc)
    r.flatten(main, "", "", {})
    _aux_flows_are_flows(r)
    return _build(r, root, time, file)


def _refuse_unreadable(root: XNode) -> None:
    if root.tag.split(":")[-1] != "xmile":
        raise ParseError(f"not an XMILE file: the root element is <{root.tag}>", root.loc)
    for el in root.iter():
        if el.tag == "macro":
            name = el.attrib.get("name", "?")
            raise UnsupportedError(f"XMILE macro {name!r} is not supported", el.loc)


def _main_model(root: XNode, r: XmileScope) -> XNode:
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


def _aux_flows_are_flows(r: XmileScope) -> None:
    """An auxiliary used as a stock's inflow or outflow is a flow."""
    for d in list(r.defs.values()):
        if d.kind == "stock":
            for tag in ("inflow", "outflow"):
                for el in d.el.findall(tag):
                    f = r.find(unquote(el.text), d.scope)
                    if f is not None and f.kind == "aux":
                        f.kind = "flow"


def _dims_of(r: XmileScope, d: Definition) -> tuple[str, ...]:
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
    defined: dict[str, tuple[str, Loc]] = field(default_factory=dict)  # name -> its base

    def claim(self, name: str, base: str, loc: Loc) -> None:
        """Take the scalar ``name`` of the definition ``base``.

        A name taken already (``x[a]`` beside an arrayed ``x``) is a located error,
        never a silent replacement.
        """
        if name in self.defined:
            first, where = self.defined[name]
            what = f", as an element of the array {first!r}" if first != name else ""
            raise DuplicateNameError(
                f"{name!r} is defined twice (first at line {where.line}{what})", loc
            )
        self.defined[name] = (base, loc)


def _build(r: XmileScope, root: XNode, time: TimeSpec, file: str) -> Model:
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


def _equations(r: XmileScope, d: Definition) -> list[tuple[dict[str, str], Expr, bool]]:
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


def _parse(r: XmileScope, el: XNode, d: Definition, owner: str) -> tuple[Expr, bool]:
    eqn = el.find("eqn")
    if eqn is None or not eqn.text.strip():
        raise ParseError(f"{owner!r} has no <eqn>", el.loc)
    raw = parse_xmile_expression(eqn.text, eqn.where)
    expr = r.resolve(raw, d.scope, owner)
    plain = plain_number(expr)
    if plain is not None:
        return Num(plain, expr.loc), True
    return expr, False


def _build_def(r: XmileScope, d: Definition, tables: _Tables) -> None:
    units, doc = _text(d.el, "units"), _text(d.el, "doc")
    loc = d.el.loc
    kind = "aux" if d.alias is not None else d.kind
    lookup = r.lookup_of.get(d.name)
    for binding, raw_expr, is_number in _equations(r, d):
        name = element_name(d.name, tuple(binding[x] for x in d.dims)) if d.dims else d.name
        tables.claim(name, d.name, loc)
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


def _flow_names(r: XmileScope, d: Definition, tag: str, binding: dict[str, str]) -> tuple[str, ...]:
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
