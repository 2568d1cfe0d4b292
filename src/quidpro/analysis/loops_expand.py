"""Make a model's hidden structure visible to the loop analysis.

Loops That Matter scores links between named variables, but stateful builtins hide
stocks inside one equation (``smooth``, ``delay3``, ...). :func:`expand` rewrites a
model so that every such stock is an explicit stock with explicit flows, exactly as
:mod:`quidpro.solve.lower` would lower it (smoothing stages, material delay stages),
and every other call with a memory or a clock (``previous``, ``delay_fixed``,
``trend``, ``init``, random draws, ``step``/``ramp``/``pulse``) becomes an auxiliary of
its own. The rewritten model runs to the same numbers; its extra names start with
``_ltm_`` and :attr:`Expansion.owner` folds each of them back into the variable
whose equation it came from, so that reported loops name only the model's variables
(the macro treatment of Schoenberg & Eberlein 2020: a path through a macro is scored
as the expanded path, loops inside the macro are not reported).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num, Unary, names
from quidpro.lang.builtins import BUILTINS
from quidpro.model.spec import Model, Stock, Variable

PREFIX = "_ltm_"
TIME = f"{PREFIX}time"
# Calls kept whole (their own auxiliary): memories, clocks and random draws. Their
# links are scored as if the response were immediate (the "perfect mixing"
# approximation of Schoenberg & Eberlein 2020 for discrete elements).
_SMOOTHS = {"smooth": 1, "smooth3": 3, "smoothn": 0}
_DELAYS = {"delay1": 1, "delay3": 3, "delayn": 0}


@dataclass
class Expansion:
    """The expanded model and where each added name came from."""

    model: Model
    owner: dict[str, str] = field(default_factory=dict)  # added name -> user variable
    opaque: set[str] = field(default_factory=set)  # auxiliaries holding a stateful call

    def visible(self, name: str) -> str:
        """The model variable a (possibly added) name belongs to."""
        return self.owner.get(name, name)

    @cached_property
    def stock_order(self) -> dict[str, int]:
        """Position of each stock of the expanded model, in file order."""
        return {name: k for k, name in enumerate(self.model.stocks)}


class _Expander:
    def __init__(self, model: Model) -> None:
        self.m = model
        self.stocks: dict[str, Stock] = {}
        self.flows: dict[str, Variable] = {}
        self.auxes: dict[str, Variable] = {}
        self.out = Expansion(model)
        self.count = 0
        self.uses_time = False

    def new(self, owner: str, tag: str) -> str:
        self.count += 1
        name = f"{PREFIX}{tag}{self.count}"
        self.out.owner[name] = self.out.owner.get(owner, owner)
        return name

    def aux(self, owner: str, tag: str, expr: Expr, opaque: bool = False) -> Name:
        name = self.new(owner, tag)
        self.auxes[name] = Variable(name, "aux", expr)
        if opaque:
            self.out.opaque.add(name)
        return Name(name)

    def expr(self, e: Expr, owner: str) -> Expr:  # noqa: PLR0911 - one return per node kind
        if isinstance(e, Name):
            if e.id == "time":
                self.uses_time = True
                return Name(TIME, e.loc)
            return e
        if isinstance(e, Num | Index):
            return e
        if isinstance(e, Unary):
            return Unary(e.op, self.expr(e.operand, owner), e.loc)
        if isinstance(e, Binary):
            return Binary(e.op, self.expr(e.left, owner), self.expr(e.right, owner), e.loc)
        args = tuple(self.expr(a, owner) for a in e.args)
        b = BUILTINS.get(e.func)
        if b is None or b.kind == "pure":
            return Call(e.func, args, e.loc)
        if e.func in _SMOOTHS or e.func in _DELAYS:
            return self.chain(e.func, args, owner)
        # A memory, clock or random draw: one auxiliary holding the call (the original
        # arguments, so that `time` inside keeps its meaning for the clock functions).
        raw = tuple(self._untime(a) for a in args)
        return self.aux(owner, "h", Call(e.func, raw, e.loc), opaque=b.kind == "stateful")

    def _untime(self, e: Expr) -> Expr:
        if isinstance(e, Name) and e.id == TIME:
            return Name("time", e.loc)
        if isinstance(e, Unary):
            return Unary(e.op, self._untime(e.operand), e.loc)
        if isinstance(e, Binary):
            return Binary(e.op, self._untime(e.left), self._untime(e.right), e.loc)
        if isinstance(e, Call):
            return Call(e.func, tuple(self._untime(a) for a in e.args), e.loc)
        return e

    def chain(self, func: str, args: tuple[Expr, ...], owner: str) -> Expr:
        """Stages of a smooth or a material delay as explicit stocks (as lower.py does)."""
        n = _SMOOTHS.get(func) or _DELAYS.get(func) or 0
        init: Expr | None = None
        if func in ("smoothn", "delayn"):
            order = args[2]
            n = int(order.value) if isinstance(order, Num) else 1
            init = args[3] if len(args) > 3 else None
        else:
            init = args[2] if len(args) > 2 else None
        x, tau = args[0], args[1]
        start = init if init is not None else x
        stage_tau: Expr = tau if n == 1 else Binary("/", tau, Num(float(n)))
        material = func in _DELAYS
        prev = x
        for _ in range(n):
            s = self.new(owner, "s")
            if material:
                inflow = self.new(owner, "fin")
                outflow = self.new(owner, "fout")
                self.flows[inflow] = Variable(inflow, "flow", prev)
                self.flows[outflow] = Variable(outflow, "flow", Binary("/", Name(s), stage_tau))
                init_expr: Expr = Binary("*", start, stage_tau)
                self.stocks[s] = Stock(s, init_expr, (inflow,), (outflow,))
                prev = Name(outflow)
            else:
                flow = self.new(owner, "f")
                self.flows[flow] = Variable(
                    flow, "flow", Binary("/", Binary("-", prev, Name(s)), stage_tau)
                )
                self.stocks[s] = Stock(s, start, (flow,), ())
                prev = Name(s)
        return prev


def expand(model: Model) -> Expansion:
    """The model with its hidden stocks made explicit (see the module docstring)."""
    ex = _Expander(model)
    flows = {n: replace(v, equation=ex.expr(v.equation, n)) for n, v in model.flows.items()}
    auxes = {n: replace(v, equation=ex.expr(v.equation, n)) for n, v in model.auxiliaries.items()}
    if ex.uses_time:
        ex.auxes[TIME] = Variable(TIME, "aux", Name("time"))
        ex.out.owner[TIME] = "time"
    stocks = dict(model.stocks)
    stocks.update(ex.stocks)
    expanded = replace(
        model,
        stocks=stocks,
        flows={**flows, **ex.flows},
        auxiliaries={**auxes, **ex.auxes},
        dynamic_initials=True,
    )
    ex.out.model = expanded
    return ex.out


_LIVE: dict[int, tuple[Model, frozenset[str]]] = {}


def inputs(model: Model, name: str) -> list[str]:
    """The stocks and variables an equation reads (constants and lookups excluded), sorted."""
    cached = _LIVE.get(id(model))
    if cached is None or cached[0] is not model:
        cached = (model, frozenset({*model.stocks, *model.flows, *model.auxiliaries}))
        _LIVE.clear()  # one model at a time: the cache never grows
        _LIVE[id(model)] = cached
    live = cached[1]
    eq = (model.flows.get(name) or model.auxiliaries[name]).equation
    return sorted(n for n in names(eq) if n in live)


__all__ = ["PREFIX", "TIME", "Expansion", "expand", "inputs"]
