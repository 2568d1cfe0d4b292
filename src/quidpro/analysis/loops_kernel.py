"""Partial changes as extra equations of the model's own step function, and link scores.

Loops That Matter (Schoenberg, Davidsen & Eberlein 2020) needs, for a link x → z
with z = f(x, y, ...), the *partial change* of z: f evaluated with x at its current
value and every other input at its previous value, minus z's previous value. Rather
than re-evaluating equations in Python, :func:`augment` writes each such f as an
auxiliary of an augmented model (``previous()`` supplies the held inputs), so that
the ordinary compiler turns the whole thing into one kernel and the partials are
computed for every ensemble member at the speed of a plain run. The rest of a link
score is arithmetic on recorded series, done once per link over the whole
``(time, member)`` array by :func:`scores`:

- x → z through an equation: ``|Δx(z) / Δz| · sign(Δx(z) / Δx)``, 0 when Δz or Δx is 0;
  an equation with a single changing input scores ``sign(Δz / Δx)``;
- flow f → stock S (the correction of Schoenberg, Hayward & Eberlein 2023): the
  change in the flow over the change in the stock's net flow,
  ``±|Δf / Δ(inflows - outflows)|``, + for an inflow, - for an outflow, so that a
  stock's scores do not depend on how its flows are split, and a loop that is the
  only one acting on its stocks scores exactly ±1 whatever dt;
- into a kept call (``previous``, ``delay_fixed``, ``trend``, ...): ``sign(Δz / Δx)``,
  the response taken as immediate (perfect mixing, Schoenberg & Eberlein 2020).

Every score is over the step [t - dt, t] and labelled t; at the start it is 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np

from quidpro.analysis.loops_expand import PREFIX, Expansion, inputs
from quidpro.lang.ast import Binary, Call, Expr, Name, Num, Unary
from quidpro.model.spec import Model, Variable

ZERO = Num(0.0)


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


@dataclass(frozen=True)
class Recipe:
    """How to score one link from recorded series."""

    source: str
    target: str
    kind: str  # "partial" | "sign" | "inflow" | "outflow"
    partial: str | None = None  # the auxiliary holding f(x now, others held)
    net: str | None = None  # the stock's net-flow auxiliary (flow -> stock links)


@dataclass
class Augmented:
    """The model with the partial-change equations, and what to record."""

    model: Model
    recipes: dict[tuple[str, str], Recipe] = field(default_factory=dict)

    @property
    def record(self) -> tuple[str, ...]:
        """Every series the link scores read, once each."""
        names: dict[str, None] = {}
        for r in self.recipes.values():
            for n in (r.source, r.target, r.partial, r.net):
                if n is not None:
                    names[n] = None
        return tuple(names)


class _Builder:
    def __init__(self, ex: Expansion, g: nx.DiGraph) -> None:
        self.ex = ex
        self.m = ex.model
        self.g = g
        self.variables = self.m.variables
        self.extra: dict[str, Variable] = {}
        self.count = 0

    def add(self, tag: str, expr: Expr) -> str:
        self.count += 1
        name = f"{PREFIX}{tag}{self.count}"
        self.extra[name] = Variable(name, "aux", expr)
        return name

    def prev(self, name: str) -> Name:
        key = f"{PREFIX}prev__{name}"
        if key not in self.extra:
            self.extra[key] = Variable(key, "aux", Call("previous", (Name(name),)))
        return Name(key)

    def net(self, stock: str) -> str:
        key = f"{PREFIX}net__{stock}"
        if key not in self.extra:
            s = self.m.stocks[stock]
            terms: Expr = ZERO
            for f in s.inflows:
                terms = Binary("+", terms, Name(f))
            for f in s.outflows:
                terms = Binary("-", terms, Name(f))
            self.extra[key] = Variable(key, "aux", terms)
        return key

    def recipe(self, src: str, dst: str) -> Recipe:
        kind = self.g.edges[src, dst]["kind"]
        if kind in ("inflow", "outflow"):
            return Recipe(src, dst, kind, net=self.net(dst))
        live = inputs(self.m, dst)
        if dst in self.ex.opaque or len(live) == 1:
            return Recipe(src, dst, "sign")
        held = {y: self.prev(y) for y in live if y != src}
        eq = self.variables[dst]
        body = substitute(eq.equation, held)
        if eq.non_negative:
            body = Call("max", (body, ZERO))
        return Recipe(src, dst, "partial", partial=self.add("p", body))


def augment(ex: Expansion, g: nx.DiGraph, links: Iterable[tuple[str, str]]) -> Augmented:
    """The expanded model plus the partial-change auxiliaries the ``links`` need."""
    b = _Builder(ex, g)
    out = Augmented(ex.model)
    for a, z in links:
        if (a, z) not in out.recipes:
            out.recipes[(a, z)] = b.recipe(a, z)
    m = ex.model
    out.model = replace(m, auxiliaries={**m.auxiliaries, **b.extra})
    return out


def _delta(x: np.ndarray) -> np.ndarray:
    """x(t) - x(t - dt) along axis 0, 0 at the start."""
    d = np.empty_like(x)
    d[0] = 0.0
    np.subtract(x[1:], x[:-1], out=d[1:])
    return d


def scores(
    aug: Augmented, series: Mapping[str, np.ndarray], links: Iterable[tuple[str, str]]
) -> np.ndarray:
    """Link scores ``(link, time, ...)`` from series recorded at every step."""
    deltas: dict[str, np.ndarray] = {}

    def delta(name: str) -> np.ndarray:
        if name not in deltas:
            deltas[name] = _delta(series[name])
        return deltas[name]

    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for link in links:
            r = aug.recipes[link]
            dx = delta(r.source)
            if r.kind in ("inflow", "outflow"):
                assert r.net is not None
                dnet = delta(r.net)
                ratio = np.abs(dx / np.where(dnet == 0, 1.0, dnet))
                ls = np.where(dnet == 0, 0.0, ratio if r.kind == "inflow" else -ratio)
            else:
                dz = delta(r.target)
                inactive = (dz == 0) | (dx == 0)
                if r.kind == "sign":
                    ls = np.where(inactive, 0.0, np.sign(dz * dx))
                else:
                    assert r.partial is not None
                    z = series[r.target]
                    pz = np.zeros_like(z)
                    pz[1:] = series[r.partial][1:] - z[:-1]
                    mag = np.abs(pz / np.where(dz == 0, 1.0, dz))
                    ls = np.where(inactive, 0.0, mag * np.sign(pz * dx))
            out.append(np.nan_to_num(ls, nan=0.0))
    return np.stack(out) if out else np.zeros((0, *next(iter(series.values())).shape))


__all__ = ["Augmented", "Recipe", "augment", "scores", "substitute"]
