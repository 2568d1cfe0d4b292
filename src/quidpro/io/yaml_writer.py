"""Write a :class:`~quidpro.model.spec.Model` as a format v1 YAML file.

Names that are not identifiers (XMILE allows ``Flow w/ division`` and module
paths such as ``hares.births``) become identifiers (``Flow_w_division``,
``hares__births``); arrayed variables are written once, with ``dims`` and an
equation per element (see docs/format-arrays.md). What format v1 cannot say is
an :class:`~quidpro.errors.UnsupportedError`, never a silently different model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from quidpro.errors import UnsupportedError
from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num, Unary
from quidpro.lang.builtins import BUILTINS, RESERVED
from quidpro.lang.format import format_expr
from quidpro.model.spec import Constant, Lookup, Model, Stock, Variable

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ELEMENT = re.compile(r"^(.+)\[([^\[\]]+)\]$")


def identifier(name: str, taken: set[str]) -> str:
    """A format v1 identifier for ``name``, unique among ``taken`` (which it joins).

    Format v1 names are ASCII: accented letters lose their accents (``ö`` → ``o``),
    other characters become underscores.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    out = (
        name
        if _IDENT.match(name)
        else re.sub(r"[^A-Za-z0-9_]+", "_", ascii_name.replace(".", "__"))
    )
    out = out.strip("_") if not _IDENT.match(name) else out
    if not out or out[0].isdigit():
        out = f"v_{out}"
    if out in RESERVED or out in BUILTINS:
        out += "_"
    base, n = out, 1
    while out in taken:
        n += 1
        out = f"{base}_{n}"
    taken.add(out)
    return out


class Renamer:
    """Old name -> identifier, for every name, array base and element of a model."""

    def __init__(self, model: Model) -> None:
        taken: set[str] = set()
        self.arrays = model.arrays
        self.names: dict[str, str] = {}
        self.elements: dict[str, str] = {}
        for dim in model.dimensions:
            self.names[dim] = identifier(dim, taken)
        elem_taken: set[str] = set()
        for elems in model.dimensions.values():
            for e in elems:
                if e not in self.elements:
                    self.elements[e] = e if _IDENT.match(e) else identifier(e, elem_taken)
        for base in model.arrays:
            self.names[base] = identifier(base, taken)
        for table in (model.constants, model.stocks, model.flows, model.auxiliaries):
            for name in table:
                if self.split(name) is None:
                    self.names[name] = identifier(name, taken)
        for name in model.lookups:
            self.names[name] = identifier(name, taken)

    def split(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        """(base, elements) of an array element's name, or None."""
        m = _ELEMENT.match(name)
        if m is None or m.group(1) not in self.arrays:
            return None
        return m.group(1), tuple(m.group(2).split(","))

    def __call__(self, name: str) -> str:
        """The format v1 identifier of a model name (array elements as ``base[e1,e2]``)."""
        if name in self.names:
            return self.names[name]
        parts = self.split(name)
        if parts is not None:
            base, elems = parts
            return f"{self.names[base]}[{','.join(self.elements.get(e, e) for e in elems)}]"
        return name  # time, dt, builtins

    def expr(self, e: Expr) -> Expr:
        """``e`` with every name renamed."""
        return rename(e, self)


def rename(e: Expr, f: Callable[[str], str]) -> Expr:
    """``e`` with every variable and lookup name passed through ``f``."""
    if isinstance(e, Name):
        return Name(f(e.id), e.loc)
    if isinstance(e, Index):
        return Index(f(e.id), e.subscripts, e.loc)
    if isinstance(e, Unary):
        return Unary(e.op, rename(e.operand, f), e.loc)
    if isinstance(e, Binary):
        return Binary(e.op, rename(e.left, f), rename(e.right, f), e.loc)
    if isinstance(e, Call):
        return Call(f(e.func), tuple(rename(a, f) for a in e.args), e.loc)
    return e


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v != () and v is not False}


def _number(v: float) -> int | float:
    return int(v) if v == int(v) and abs(v) < 1e15 else v


class _Writer:
    def __init__(self, model: Model) -> None:
        self.m = model
        self.r = Renamer(model)

    def eq(self, e: Expr) -> str | int | float:
        text = format_expr(self.r.expr(e))
        try:
            return _number(float(text))
        except ValueError:
            return text

    def constant(self, c: Constant) -> Any:
        value = self.eq(c.expr) if c.expr is not None else _number(c.value)
        long = _compact(
            {
                "units": c.units,
                "label": c.label,
                "doc": c.doc,
                "range": list(c.range) if c.range else None,
                "distribution": {"kind": c.distribution.kind, **c.distribution.params}
                if c.distribution
                else None,
                "source": c.source,
                "assumption": c.assumption,
            }
        )
        return {"value": value, **long} if long else value

    def stock(self, s: Stock) -> dict[str, Any]:
        return _compact(
            {
                "initial": self.eq(s.initial),
                "inflows": [self.r(f) for f in s.inflows] or None,
                "outflows": [self.r(f) for f in s.outflows] or None,
                "non_negative": s.non_negative,
                "units": s.units,
                "label": s.label,
                "doc": s.doc,
            }
        )

    def variable(self, v: Variable) -> Any:
        long = _compact(
            {
                "units": v.units,
                "label": v.label,
                "doc": v.doc,
                "claims": list(v.claims) or None,
                "assumption": v.assumption,
                "non_negative": v.non_negative,
            }
        )
        return {"equation": self.eq(v.equation), **long} if long else self.eq(v.equation)

    def lookup(self, lk: Lookup) -> dict[str, Any]:
        if lk.discrete:
            raise UnsupportedError(
                f"lookup {lk.name!r} is discrete, which format v1 cannot express", lk.loc
            )
        return _compact(
            {
                "points": [[_number(x), _number(y)] for x, y in zip(lk.xs, lk.ys, strict=True)],
                "extrapolate": lk.extrapolate if lk.extrapolate != "clamp" else None,
                "units": lk.units,
                "doc": lk.doc,
            }
        )

    def section(self, table: Mapping[str, Any], write: Callable[[Any], Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        done: set[str] = set()
        for name, item in table.items():
            parts = self.r.split(name)
            if parts is None:
                out[self.r(name)] = write(item)
                continue
            base = parts[0]
            if base in done:
                continue
            done.add(base)
            out[self.r(base)] = self.arrayed(base, table, write)
        return out

    def arrayed(self, base: str, table: Mapping[str, Any], write: Callable[[Any], Any]) -> Any:
        """One arrayed entry: dims, and per element what differs."""
        dims = self.m.arrays[base]
        per: dict[str, Any] = {}
        for name, item in table.items():
            parts = self.r.split(name)
            if parts is None or parts[0] != base:
                continue
            key = ",".join(self.r.elements.get(e, e) for e in parts[1])
            w = write(item)
            per[key] = w
        first = next(iter(per.values()))
        field = {"value": None, "initial": None, "equation": None}
        out: dict[str, Any] = {"dims": [self.r(d) for d in dims]}
        if isinstance(first, dict):
            keys = [k for k in first if k in field]
            for k, v in first.items():
                if k not in field and k not in ("inflows", "outflows"):
                    out[k] = v
            key = keys[0] if keys else "equation"
            out[key] = _same({e: (w[key] if isinstance(w, dict) else w) for e, w in per.items()})
            if "inflows" in first or "outflows" in first:
                for k in ("inflows", "outflows"):
                    if k in first:
                        out[k] = [_base_of(f) for f in first[k]]
        else:
            key = "value" if table is self.m.constants else "equation"
            out[key] = _same(per)
        return out

    def document(self) -> dict[str, Any]:
        m = self.m
        t = m.time
        doc: dict[str, Any] = {"quidpro": 1, "name": m.name}
        if m.title:
            doc["title"] = m.title
        if m.doc:
            doc["doc"] = m.doc
        doc["time"] = _compact(
            {
                "start": _number(t.start),
                "stop": _number(t.stop),
                "dt": _number(t.dt),
                "units": t.units,
                "method": t.method if t.method != "euler" else None,
                "origin": t.origin,
                "save_every": t.save_every,
                "hold_inputs": True if t.hold_inputs else None,
            }
        )
        if m.dimensions:
            doc["dimensions"] = {
                self.r(d): [self.r.elements.get(e, e) for e in elems]
                for d, elems in m.dimensions.items()
            }
        for key, table, write in (
            ("constants", m.constants, self.constant),
            ("stocks", m.stocks, self.stock),
            ("flows", m.flows, self.variable),
            ("auxiliaries", m.auxiliaries, self.variable),
            ("lookups", m.lookups, self.lookup),
        ):
            if table:
                doc[key] = self.section(table, write)
        if m.scenarios:
            doc["scenarios"] = {
                s.name: _compact({"doc": s.doc, "set": {self.r(k): v for k, v in s.set.items()}})
                for s in m.scenarios.values()
            }
        if m.sources:
            doc["sources"] = {s.id: dict(s.fields) for s in m.sources.values()}
        if m.claims:
            doc["claims"] = {
                c.id: _compact(
                    {
                        "text": c.text,
                        "paragraph": list(c.paragraph) or None,
                        "polarity": c.polarity,
                        "kind": c.kind,
                        "links": [f"{a} -> {b}" for a, b in c.links] or None,
                    }
                )
                for c in m.claims.values()
            }
        if m.loops:
            doc["loops"] = {
                lp.name: _compact(
                    {
                        "claim": lp.claim,
                        "polarity": lp.polarity,
                        "variables": [self.r(v) for v in lp.variables],
                        "doc": lp.doc,
                    }
                )
                for lp in m.loops.values()
            }
        return doc


def _same(per: dict[str, Any]) -> Any:
    """One value for all elements when they agree, else the per-element mapping."""
    values = list(per.values())
    return values[0] if all(v == values[0] for v in values) else per


def _base_of(name: str) -> str:
    m = _ELEMENT.match(name)
    return m.group(1) if m else name


class _Dumper(yaml.SafeDumper):
    """Block mappings, lists of plain values on one line, multi-line text as ``|``."""


def _str(dumper: yaml.SafeDumper, s: str) -> yaml.Node:
    if "\n" in s:
        return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", s)


def _list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flat = all(
        not isinstance(i, dict | list) or (isinstance(i, list) and len(i) <= 2) for i in items
    )
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flat)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(list, _list)


def model_to_yaml(model: Model) -> str:
    """The model as format v1 YAML text; it runs as the model does.

    XMILE semantics format v1 does not have are written out: a stock initialised
    from other variables gets their initial expressions inlined, and a non-negative
    stock whose flows XMILE reports unreduced gets an explicit floor inflow.
    """
    model = _as_v1(model)
    data = _Writer(model).document()
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _as_v1(model: Model) -> Model:
    """The same model in format v1's terms (see :func:`model_to_yaml`)."""
    import dataclasses

    stocks = dict(model.stocks)
    flows = dict(model.flows)
    if model.dynamic_initials:
        for name, s in stocks.items():
            stocks[name] = dataclasses.replace(s, initial=_inline_initial(model, s.initial, s, ()))
    if model.non_negative_mode == "clamp":
        for name, s in list(stocks.items()):
            if not s.non_negative or not s.outflows:
                continue
            floor = f"{name}_floor"
            while floor in flows or floor in model.auxiliaries or floor in model.constants:
                floor += "_"
            net: Expr = Name(name)
            for f in s.inflows:
                net = Binary("+", net, Binary("*", Name(f), Name("dt")))
            for f in s.outflows:
                net = Binary("-", net, Binary("*", Name(f), Name("dt")))
            eq = Call("max", (Binary("/", Unary("-", net), Name("dt")), Num(0.0)))
            flows[floor] = Variable(
                floor,
                "flow",
                eq,
                s.units,
                f"Keeps {name} at or above zero while its outflows report their own "
                "value (XMILE non-negative stock).",
                loc=s.loc,
            )
            stocks[name] = dataclasses.replace(s, inflows=(*s.inflows, floor), non_negative=False)
    return dataclasses.replace(
        model, stocks=stocks, flows=flows, dynamic_initials=False, non_negative_mode="limit"
    )


# Stateful builtins at the start: the position of the argument that gives the value
# (its optional init), falling back to the first argument when it is absent.
_START_VALUE = {
    "init": 0,
    "previous": 1,
    "smooth": 2,
    "smooth3": 2,
    "delay1": 2,
    "delay3": 2,
    "smoothn": 3,
    "delayn": 3,
    "delay_fixed": 2,
}


def _inline_initial(model: Model, e: Expr, owner: Stock, seen: tuple[str, ...]) -> Expr:
    """``e`` with stocks and auxiliaries replaced by their values at the start."""
    if isinstance(e, Name):
        return _inline_name(model, e, owner, seen)
    if isinstance(e, Unary):
        return Unary(e.op, _inline_initial(model, e.operand, owner, seen), e.loc)
    if isinstance(e, Binary):
        return Binary(
            e.op,
            _inline_initial(model, e.left, owner, seen),
            _inline_initial(model, e.right, owner, seen),
            e.loc,
        )
    if isinstance(e, Call):
        return _inline_call(model, e, owner, seen)
    return e


def _inline_name(model: Model, e: Name, owner: Stock, seen: tuple[str, ...]) -> Expr:
    n = e.id
    if n in seen:
        raise UnsupportedError(f"initial values of {owner.name!r} depend on each other", owner.loc)
    if n == "time":
        return Name("start_time", e.loc)
    if n in model.stocks:
        return _inline_initial(model, model.stocks[n].initial, owner, (*seen, n))
    if n in model.variables:
        return _inline_initial(model, model.variables[n].equation, owner, (*seen, n))
    return e


def _inline_call(model: Model, e: Call, owner: Stock, seen: tuple[str, ...]) -> Expr:
    b = BUILTINS.get(e.func)
    args = e.args
    if b is not None and b.kind == "stateful":
        first = _START_VALUE.get(e.func)
        if first is None:
            raise UnsupportedError(
                f"the initial value of stock {owner.name!r} goes through {e.func}(), "
                "which format v1 cannot evaluate at the start; write it by hand",
                owner.loc,
            )
        init_at = first if len(args) > first else 0
        return _inline_initial(model, args[init_at], owner, seen)
    if b is not None and b.kind == "time":
        raise UnsupportedError(
            f"the initial value of stock {owner.name!r} uses {e.func}(), which format v1 "
            "does not allow in initial values",
            owner.loc,
        )
    return Call(e.func, tuple(_inline_initial(model, a, owner, seen) for a in args), e.loc)
