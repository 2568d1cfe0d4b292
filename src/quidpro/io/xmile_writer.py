"""Write a :class:`~quidpro.model.spec.Model` as a standard XMILE 1.0 file.

Constants become auxiliaries with a number, lookups standalone graphical
functions (called by name), arrays XMILE arrays with an equation per element.
Docs, units, claim ids, sources and ranges are kept as ``<doc>`` text. A format v1
non-negative stock reduces its outflows (and the flows report the reduced value),
while XMILE floors the stock; the writer spells the reduction out in the flow's
equation, so every XMILE tool computes the same numbers. Scenarios and
distributions are not part of XMILE and are listed in the model's documentation.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from quidpro.lang.ast import Binary, Call, Expr, Name, Num
from quidpro.lang.format import format_number, format_xmile
from quidpro.model.spec import Constant, Lookup, Model, Stock, Variable
from quidpro.version import __version__

NAMESPACE = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"
# quidpro's extension attributes (XMILE allows vendor namespaces; other tools ignore them).
QUIDPRO_NAMESPACE = "https://quidpro.dev/ns/xmile/1"
_ELEMENT = re.compile(r"^(.+)\[([^\[\]]+)\]$")


def _limited_flows(model: Model) -> dict[str, Expr]:
    """Flow equations with format v1's outflow reduction written out."""
    out: dict[str, Expr] = {}
    if model.non_negative_mode != "limit":
        return out
    for s in model.stocks.values():
        if not s.non_negative or not s.outflows:
            continue
        avail: Expr = Binary("/", Name(s.name), Name("dt"))
        for f in s.inflows:
            avail = Binary("+", avail, Name(f))
        taken: Expr = Num(0.0)
        for f in s.outflows:
            raw = out.get(f, model.flows[f].equation)
            left = avail if _is_zero(taken) else Binary("-", avail, taken)
            room = Call("max", (left, Num(0.0)))
            out[f] = Call("if", (Binary(">", raw, Num(0.0)), Call("min", (raw, room)), raw))
            taken = Binary("+", taken, Name(f)) if not _is_zero(taken) else Name(f)
    return out


def _is_zero(e: Expr) -> bool:
    return isinstance(e, Num) and e.value == 0.0


def _doc(*parts: str | None) -> str | None:
    text = "\n".join(p for p in parts if p)
    return text or None


class _Writer:
    def __init__(self, model: Model) -> None:
        self.m = model
        self.lines: list[str] = []
        self.limited = _limited_flows(model)

    def w(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def name(self, name: str) -> str:
        return name.replace(".", "__")

    def eqn(self, e: Expr) -> str:
        return escape(format_xmile(_dots(e)))

    def common(self, depth: int, units: str | None, doc: str | None) -> None:
        if units:
            self.w(depth, f"<units>{escape(units)}</units>")
        if doc:
            self.w(depth, f"<doc>{escape(doc)}</doc>")

    def dims(self, depth: int, base: str) -> None:
        self.w(depth, "<dimensions>")
        for d in self.m.arrays[base]:
            self.w(depth + 1, f"<dim name={quoteattr(d)}/>")
        self.w(depth, "</dimensions>")

    # -- one entry per variable, or per arrayed base ---------------------------
    def entries(self, table: dict[str, object]) -> list[tuple[str, list[tuple[str, object]]]]:
        groups: dict[str, list[tuple[str, object]]] = {}
        for name, item in table.items():
            m = _ELEMENT.match(name)
            base = m.group(1) if m and m.group(1) in self.m.arrays else None
            if base is None:
                groups[name] = [("", item)]
            else:
                groups.setdefault(base, []).append((m.group(2) if m else "", item))
        return list(groups.items())

    def element_eqns(self, depth: int, base: str, items: list[tuple[str, Expr]]) -> None:
        if not items[0][0]:
            self.w(depth, f"<eqn>{self.eqn(items[0][1])}</eqn>")
            return
        self.dims(depth, base)
        texts = {self.eqn(e) for _, e in items}
        if len(texts) == 1:  # the same for every element: apply-to-all
            self.w(depth, f"<eqn>{texts.pop()}</eqn>")
            return
        if all(isinstance(e, Num) for _, e in items):  # a list, one number per element
            numbers = ", ".join(format_number(e.value) for _, e in items if isinstance(e, Num))
            self.w(depth, f"<eqn>{numbers}</eqn>")
            return
        for sub, e in items:
            self.w(depth, f"<element subscript={quoteattr(', '.join(sub.split(',')))}>")
            self.w(depth + 1, f"<eqn>{self.eqn(e)}</eqn>")
            self.w(depth, "</element>")

    def constant(self, base: str, items: list[tuple[str, object]]) -> None:
        c = items[0][1]
        assert isinstance(c, Constant)
        self.w(3, f"<aux name={quoteattr(self.name(base))}>")
        exprs = [(s, x.expr if x.expr is not None else Num(x.value)) for s, x in items]  # type: ignore[attr-defined]
        self.element_eqns(4, base, exprs)
        dist = c.distribution
        self.common(
            4,
            c.units,
            _doc(
                c.doc,
                f"Source: {c.source}" if c.source else None,
                f"Assumption: {c.assumption}" if c.assumption else None,
                f"Range: {c.range[0]:g} to {c.range[1]:g}" if c.range else None,
                f"Distribution: {dist.kind} "
                + ", ".join(f"{k}={v:g}" for k, v in dist.params.items())
                if dist
                else None,
            ),
        )
        self.w(3, "</aux>")

    def stock(self, base: str, items: list[tuple[str, object]]) -> None:
        s = items[0][1]
        assert isinstance(s, Stock)
        self.w(3, f"<stock name={quoteattr(self.name(base))}>")
        self.element_eqns(4, base, [(sub, x.initial) for sub, x in items])  # type: ignore[attr-defined]
        for tag, flows in (("inflow", s.inflows), ("outflow", s.outflows)):
            for f in flows:
                m = _ELEMENT.match(f)
                fb = m.group(1) if m and m.group(1) in self.m.arrays else f
                self.w(4, f"<{tag}>{escape(format_xmile(Name(self.name(fb))))}</{tag}>")
        if s.non_negative:
            self.w(4, "<non_negative/>")
        self.common(4, s.units, s.doc)
        self.w(3, "</stock>")

    def variable(self, base: str, items: list[tuple[str, object]]) -> None:
        v = items[0][1]
        assert isinstance(v, Variable)
        tag = "flow" if v.kind == "flow" else "aux"
        self.w(3, f"<{tag} name={quoteattr(self.name(base))}>")
        exprs: list[tuple[str, Expr]] = []
        for sub, x in items:
            assert isinstance(x, Variable)
            exprs.append((sub, self.limited.get(x.name, x.equation)))
        self.element_eqns(4, base, exprs)
        if v.non_negative:
            self.w(4, "<non_negative/>")
        claims = f"Claims: {', '.join(v.claims)}" if v.claims else None
        assumption = f"Assumption: {v.assumption}" if v.assumption else None
        self.common(4, v.units, _doc(v.doc, claims, assumption))
        self.w(3, f"</{tag}>")

    def lookup(self, lk: Lookup) -> None:
        kind = (
            "discrete" if lk.discrete else ("extrapolate" if lk.extrapolate == "linear" else None)
        )
        attr = f" type={quoteattr(kind)}" if kind else ""
        self.w(3, f"<gf name={quoteattr(self.name(lk.name))}{attr}>")
        self.w(4, f"<xpts>{','.join(format_number(x) for x in lk.xs)}</xpts>")
        self.w(4, f"<ypts>{','.join(format_number(y) for y in lk.ys)}</ypts>")
        self.common(4, lk.units, lk.doc)
        self.w(3, "</gf>")

    def document(self) -> str:
        m, t = self.m, self.m.time
        self.w(0, '<?xml version="1.0" encoding="utf-8"?>')
        extension = f' xmlns:quidpro="{QUIDPRO_NAMESPACE}"' if t.hold_inputs else ""
        self.w(0, f'<xmile version="1.0" xmlns="{NAMESPACE}"{extension}>')
        self.w(1, "<header>")
        self.w(2, f"<name>{escape(m.name)}</name>")
        self.w(2, "<vendor>quidpro</vendor>")
        self.w(2, f'<product version="{__version__}" lang="en">quidpro</product>')
        self.w(1, "</header>")
        units = f" time_units={quoteattr(t.units)}" if t.units else ""
        method = "RK4" if t.method == "rk4" else "Euler"
        hold = ' quidpro:hold_inputs="true"' if t.hold_inputs else ""
        self.w(1, f'<sim_specs method="{method}"{units}{hold}>')
        self.w(2, f"<start>{format_number(t.start)}</start>")
        self.w(2, f"<stop>{format_number(t.stop)}</stop>")
        self.w(2, f"<dt>{format_number(t.dt)}</dt>")
        if t.save_every:
            self.w(2, f"<save_step>{format_number(t.save_every)}</save_step>")
        self.w(1, "</sim_specs>")
        if m.dimensions:
            self.w(1, "<dimensions>")
            for d, elems in m.dimensions.items():
                self.w(2, f"<dim name={quoteattr(d)}>")
                for e in elems:
                    self.w(3, f"<elem name={quoteattr(e)}/>")
                self.w(2, "</dim>")
            self.w(1, "</dimensions>")
        self.w(1, "<model>")
        doc = self.model_doc()
        if doc:
            self.w(2, f"<doc>{escape(doc)}</doc>")
        self.w(2, "<variables>")
        for base, items in self.entries(dict(m.constants)):
            self.constant(base, items)
        for base, items in self.entries(dict(m.stocks)):
            self.stock(base, items)
        for base, items in self.entries({**m.flows, **m.auxiliaries}):
            self.variable(base, items)
        for lk in m.lookups.values():
            self.lookup(lk)
        self.w(2, "</variables>")
        self.w(1, "</model>")
        self.w(0, "</xmile>")
        return "\n".join(self.lines) + "\n"

    def model_doc(self) -> str | None:
        m = self.m
        parts = [m.title, m.doc]
        if m.time.origin:
            parts.append(f"Time origin: {m.time.origin.isoformat()}")
        for s in m.scenarios.values():
            sets = ", ".join(f"{k}={v:g}" for k, v in s.set.items())
            parts.append(f"Scenario {s.name}: {sets}" + (f" ({s.doc})" if s.doc else ""))
        for c in m.claims.values():
            parts.append(f"Claim {c.id}: {c.text}")
        for src in m.sources.values():
            title = src.fields.get("title", "")
            parts.append(f"Source {src.id}: {title}")
        return _doc(*parts)


def _dots(e: Expr) -> Expr:
    """Module paths (``m.x``) become plain names (``m__x``) in a flat file."""
    from quidpro.io.yaml_writer import rename

    return rename(e, lambda n: n.replace(".", "__"))


def model_to_xmile(model: Model) -> str:
    """The model as XMILE 1.0 text."""
    return _Writer(model).document()
