"""Write a :class:`~quidpro.model.spec.Model` as a standard XMILE 1.0 file.

Written for the peers to read as well as quidpro (PySD 3.14, simlin): constants
become auxiliaries with a number; a lookup is drawn inside the auxiliary that calls
it (a graphical function with an input equation, which every XMILE tool reads;
simlin cannot call a standalone one), through a helper auxiliary where the call
is part of a larger equation; arrays become XMILE arrays with an equation per
element. ``DT`` (which PySD 3.14 does not know) is written as an auxiliary with
the number of the time step, ``quidpro_dt``. ``STEP`` and ``PULSE``, which the
peers switch differently off the ``dt`` grid, are spelled out with ``IF``
(:mod:`quidpro.io.peer_forms`).
Docs, units, claim ids, sources and ranges are kept as ``<doc>`` text. A format v1
non-negative stock reduces its outflows (and the flows report the reduced value),
while XMILE floors the stock; the writer spells the reduction out in the flow's
equation, so every XMILE tool computes the same numbers. Scenarios,
distributions and named loops (``loops:``) are not part of XMILE and are listed in the
model's documentation (reading the file back does not restore them).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from quidpro.io.peer_forms import peer_forms
from quidpro.lang.ast import Binary, Call, Expr, Name, Num, Unary, walk
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


def _map_calls(e: Expr, fn: Callable[[Call], Expr]) -> Expr:
    """``e`` with every call replaced by ``fn(call)``, innermost first."""
    if isinstance(e, Call):
        return fn(Call(e.func, tuple(_map_calls(a, fn) for a in e.args), e.loc))
    if isinstance(e, Binary):
        return Binary(e.op, _map_calls(e.left, fn), _map_calls(e.right, fn), e.loc)
    if isinstance(e, Unary):
        return Unary(e.op, _map_calls(e.operand, fn), e.loc)
    return e


def _uses(e: Expr, name: str) -> bool:
    return any(isinstance(n, Name) and n.id == name for n in walk(e))


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
        from quidpro.io.yaml_writer import identifier

        self.names = {*model.constants, *model.stocks, *model.variables, *model.lookups}
        # Elements of no declared array (a Vensim file's subscripts, defined element by
        # element) as plain names: written "x[a]", a reader would look for an array x.
        self.flat = {
            n: identifier(n, self.names)
            for n in sorted(self.names)
            if (e := _ELEMENT.match(n)) and e.group(1) not in model.arrays
        }
        self.dt_name = self._fresh("quidpro_dt")
        # Lookups drawn inside auxiliaries: owner -> (lookup, input); helpers beside them.
        self.inline: dict[str, tuple[str, Expr]] = {}
        self.helpers: dict[str, tuple[str, Expr]] = {}
        self.equations = self._inline_lookups()
        self.uses_dt = any(_uses(self.peer(e), "dt") for e in self._every_expression())

    def _fresh(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.names:
            n += 1
            candidate = f"{name}_{n}"
        self.names.add(candidate)
        return candidate

    def _every_expression(self) -> list[Expr]:
        m = self.m
        out = [c.expr for c in m.constants.values() if c.expr is not None]
        out += [s.initial for s in m.stocks.values()]
        out += list(self.equations.values())
        return out + [x for _, x in (*self.inline.values(), *self.helpers.values())]

    def _inline_lookups(self) -> dict[str, Expr]:
        """Each flow's and auxiliary's equation, with its lookup calls moved into gfs."""
        out: dict[str, Expr] = {}
        for v in self.m.variables.values():
            e = self.limited.get(v.name, v.equation)
            if _ELEMENT.match(v.name) or not self.m.lookups:  # arrays keep calls by name
                out[v.name] = e
                continue
            if isinstance(e, Call) and e.func in self.m.lookups and len(e.args) == 1:
                arg = _map_calls(e.args[0], functools.partial(self._helper, v.name))
                self.inline[v.name] = (e.func, arg)
                out[v.name] = arg
                continue
            out[v.name] = _map_calls(e, functools.partial(self._helper, v.name))
        return out

    def _helper(self, owner: str, call: Call) -> Expr:
        if call.func not in self.m.lookups or len(call.args) != 1:
            return call
        name = self._fresh(f"{owner}_{call.func}")
        self.helpers[name] = (call.func, call.args[0])
        return Name(name)

    def w(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def name(self, name: str) -> str:
        return self.flat.get(name, name).replace(".", "__")

    def peer(self, e: Expr) -> Expr:
        """``e`` with the time functions the peers read differently spelled out."""
        return peer_forms(e, self.m.time)

    def eqn(self, e: Expr) -> str:
        e = self.peer(e)
        names = {**self.flat, "dt": self.dt_name} if self.uses_dt else self.flat
        return escape(format_xmile(_dots(_map_names(e, names))))

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
            exprs.append((sub, self.equations[x.name]))
        self.element_eqns(4, base, exprs)
        if v.name in self.inline:
            self.gf(4, self.m.lookups[self.inline[v.name][0]], None)
        if v.non_negative:
            self.w(4, "<non_negative/>")
        claims = f"Claims: {', '.join(v.claims)}" if v.claims else None
        assumption = f"Assumption: {v.assumption}" if v.assumption else None
        self.common(4, v.units, _doc(v.doc, claims, assumption))
        self.w(3, f"</{tag}>")

    def gf(self, depth: int, lk: Lookup, name: str | None) -> None:
        """A graphical function: standalone (``name``) or inside its auxiliary."""
        kind = (
            "discrete" if lk.discrete else ("extrapolate" if lk.extrapolate == "linear" else None)
        )
        attrs = (f" name={quoteattr(self.name(name))}" if name else "") + (
            f" type={quoteattr(kind)}" if kind else ""
        )
        self.w(depth, f"<gf{attrs}>")
        self.w(depth + 1, f"<xpts>{','.join(format_number(x) for x in lk.xs)}</xpts>")
        self.w(depth + 1, f"<ypts>{','.join(format_number(y) for y in lk.ys)}</ypts>")
        if name:
            self.common(depth + 1, lk.units, lk.doc)
        self.w(depth, "</gf>")

    def helper(self, name: str, lookup: str, arg: Expr) -> None:
        lk = self.m.lookups[lookup]
        self.w(3, f"<aux name={quoteattr(self.name(name))}>")
        self.w(4, f"<eqn>{self.eqn(arg)}</eqn>")
        self.gf(4, lk, None)
        self.common(4, lk.units, f"The lookup {lookup} of {format_xmile(arg)}.")
        self.w(3, "</aux>")

    def called_by_name(self) -> set[str]:
        """The lookups still called like functions (from constants, initials, arrays)."""
        exprs = self._every_expression()
        called = {n.func for e in exprs for n in walk(e) if isinstance(n, Call)}
        used = called | {lk for lk, _ in (*self.inline.values(), *self.helpers.values())}
        return (called & set(self.m.lookups)) | (set(self.m.lookups) - used)

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
        for name, (lookup, arg) in self.helpers.items():
            self.helper(name, lookup, arg)
        standalone = self.called_by_name()
        for lk in m.lookups.values():
            if lk.name in standalone:
                self.gf(3, lk, lk.name)
        if self.uses_dt:
            self.w(3, f"<aux name={quoteattr(self.dt_name)}>")
            self.w(4, f"<eqn>{format_number(t.dt)}</eqn>")
            self.w(4, "<doc>The time step (sim_specs dt) written as a number: PySD 3.14 does")
            self.w(4, "not read XMILE's DT. Change it with the dt of sim_specs.</doc>")
            self.w(3, "</aux>")
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
        for lp in m.loops.values():  # the loops: section (XMILE has no named loops)
            about = ", ".join(x for x in (lp.claim and f"claim {lp.claim}", lp.polarity) if x)
            path = " -> ".join(lp.variables)
            parts.append(f"Loop {lp.name}: {path}" + (f" ({about})" if about else ""))
        for src in m.sources.values():
            title = src.fields.get("title", "")
            parts.append(f"Source {src.id}: {title}")
        return _doc(*parts)


def _map_names(e: Expr, names: dict[str, str]) -> Expr:
    from quidpro.io.yaml_writer import rename

    return rename(e, lambda n: names.get(n, n))


def _dots(e: Expr) -> Expr:
    """Module paths (``m.x``) become plain names (``m__x``) in a flat file."""
    from quidpro.io.yaml_writer import rename

    return rename(e, lambda n: n.replace(".", "__"))


# Characters XML 1.0 cannot hold at all, even escaped (control characters but tab and
# the line ends): a model's documentation may carry them from a Vensim or YAML file.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def model_to_xmile(model: Model) -> str:
    """The model as XMILE 1.0 text (characters XML cannot hold are left out)."""
    return _NOT_XML.sub("", _Writer(model).document())
