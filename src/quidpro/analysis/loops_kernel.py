"""Link and loop scores as extra equations of the model's own step function.

Loops That Matter (Schoenberg, Davidsen & Eberlein 2020) needs, for a link x → z
with z = f(x, y, ...), the *partial change* of z: f evaluated with x at its current
value and every other input at its previous value, minus z's previous value. Rather
than re-evaluating equations in Python, :func:`augment` writes those partial changes
as auxiliaries of an augmented model (``previous()`` supplies the held values) and
lets the ordinary compiler turn the whole thing into one kernel, so scores are
computed for every ensemble member at the speed of a plain run.

Link scores (all over the step [t - dt, t], labelled t):

- x → z through an equation: ``|Δx(z) / Δz| · sign(Δx(z) / Δx)``, 0 when Δz or Δx is 0;
  an equation with a single changing input scores ``sign(Δz / Δx)``;
- flow f → stock S (the correction of Schoenberg, Hayward & Eberlein 2023): the
  change in the flow over the change in the stock's net flow,
  ``±|Δf / Δ(inflows - outflows)|``, + for an inflow, - for an outflow, so that a
  stock's scores do not depend on how its flows are split, and a loop that is the
  only one acting on its stocks scores exactly ±1 whatever dt;
- into a kept call (``previous``, ``delay_fixed``, ``trend``, ...): ``sign(Δz / Δx)``,
  the response taken as immediate (perfect mixing, Schoenberg & Eberlein 2020).

A loop's score is the product of its link scores, one auxiliary per loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import networkx as nx

from quidpro.analysis.loops_expand import PREFIX, Expansion, inputs
from quidpro.lang.ast import Binary, Call, Expr, Name, Num, Unary
from quidpro.model.spec import Model, Variable

ZERO = Num(0.0)
ONE = Num(1.0)


def _b(op: str, a: Expr, b: Expr) -> Expr:
    return Binary(op, a, b)


def _if(c: Expr, a: Expr, b: Expr) -> Expr:
    return Call("if", (c, a, b))


def _sign(e: Expr) -> Expr:
    return _if(_b(">", e, ZERO), ONE, _if(_b("<", e, ZERO), Num(-1.0), ZERO))


def substitute(e: Expr, table: Mapping[str, Expr]) -> Expr:
    """``e`` with every Name in ``table`` replaced."""
    if isinstance(e, Name):
        return table.get(e.id, e)
    if isinstance(e, Unary):
        return Unary(e.op, substitute(e.operand, table), e.loc)
    if isinstance(e, Binary):
        return Binary(e.op, substitute(e.left, table), substitute(e.right, table), e.loc)
    if isinstance(e, Call):
        return Call(e.func, tuple(substitute(a, table) for a in e.args), e.loc)
    return e


@dataclass
class Augmented:
    """The model with score equations, and the names to record."""

    model: Model
    link_names: dict[tuple[str, str], str] = field(default_factory=dict)
    loop_names: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, ex: Expansion, g: nx.DiGraph) -> None:
        self.ex = ex
        self.m = ex.model
        self.g = g
        self.extra: dict[str, Variable] = {}
        self.count = 0

    def add(self, tag: str, expr: Expr) -> Name:
        self.count += 1
        name = f"{PREFIX}{tag}{self.count}"
        self.extra[name] = Variable(name, "aux", expr)
        return Name(name)

    def prev(self, name: str) -> Name:
        key = f"{PREFIX}prev__{name}"
        if key not in self.extra:
            self.extra[key] = Variable(key, "aux", Call("previous", (Name(name),)))
        return Name(key)

    def delta(self, name: str) -> Name:
        key = f"{PREFIX}d__{name}"
        if key not in self.extra:
            self.extra[key] = Variable(key, "aux", _b("-", Name(name), self.prev(name)))
        return Name(key)

    def net(self, stock: str) -> Name:
        key = f"{PREFIX}net__{stock}"
        if key not in self.extra:
            s = self.m.stocks[stock]
            terms: Expr = ZERO
            for f in s.inflows:
                terms = _b("+", terms, Name(f))
            for f in s.outflows:
                terms = _b("-", terms, Name(f))
            self.extra[key] = Variable(key, "aux", terms)
        return Name(key)

    def link(self, src: str, dst: str) -> Expr:
        kind = self.g.edges[src, dst]["kind"]
        dx = self.delta(src)
        if kind in ("inflow", "outflow"):
            dnet = self.delta(self.net(dst).id)
            ratio = Call("abs", (_b("/", dx, dnet),))
            signed = ratio if kind == "inflow" else Unary("-", ratio)
            return _if(_b("==", dnet, ZERO), ZERO, signed)
        dz = self.delta(dst)
        live = inputs(self.m, dst)
        inactive = _b("or", _b("==", dz, ZERO), _b("==", dx, ZERO))
        if dst in self.ex.opaque or len(live) == 1:
            return _if(inactive, ZERO, _sign(_b("*", dz, dx)))
        held = {y: self.prev(y) for y in live if y != src}
        eq = self.m.variables[dst]
        body = substitute(eq.equation, held)
        if eq.non_negative:
            body = Call("max", (body, ZERO))
        partial = _b("-", self.add("p", body), self.prev(dst))
        magnitude = Call("abs", (_b("/", partial, dz),))
        return _if(inactive, ZERO, _b("*", magnitude, _sign(_b("*", partial, dx))))


def augment(
    ex: Expansion,
    g: nx.DiGraph,
    loops: Sequence[Sequence[str]],
    links: Iterable[tuple[str, str]] = (),
) -> Augmented:
    """The expanded model plus one auxiliary per link score needed and per loop score.

    ``loops`` are node cycles of ``g``; ``links`` are further links whose scores should
    be recorded (the bounded search reads them).
    """
    b = _Builder(ex, g)
    out = Augmented(ex.model)
    wanted: list[tuple[str, str]] = []
    for nodes in loops:
        wanted.extend(zip(nodes, (*nodes[1:], nodes[0]), strict=True))
    wanted.extend(links)
    for a, z in wanted:
        if (a, z) not in out.link_names:
            out.link_names[(a, z)] = b.add("ls", b.link(a, z)).id
    for nodes in loops:
        product: Expr = ONE
        for a, z in zip(nodes, (*nodes[1:], nodes[0]), strict=True):
            product = _b("*", product, Name(out.link_names[(a, z)]))
        out.loop_names.append(b.add("loop", product).id)
    m = ex.model
    out.model = replace(m, auxiliaries={**m.auxiliaries, **b.extra})
    return out


__all__ = ["Augmented", "augment", "substitute"]
