"""Lower a :class:`Model` to a flat system of states, memories and ordered equations.

Stateful builtins become hidden stocks (``smooth``, ``delay1``, ...) or memories,
values read from earlier steps (``delay_fixed``, ``previous``), so that every
ensemble member carries its own state and the result is exact under any method.
A non-negative stock's outflows are rewritten through a limiter, so that the
limited value is what every reader of the flow sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from quidpro.errors import NOWHERE, CycleError, Loc, ModelError
from quidpro.lang.ast import Binary, Call, Expr, Name, Num, Unary, names, walk
from quidpro.lang.builtins import BUILTINS
from quidpro.model.graph import Digraph
from quidpro.model.limits import check_order
from quidpro.model.spec import Model

ZERO = Num(0.0)
# Calls whose value changes with time even when their arguments do not.
_PER_STEP = {"step", "ramp", "pulse", *(n for n, b in BUILTINS.items() if b.kind == "random")}


@dataclass(frozen=True)
class Equation:
    """A variable computed every step (or once, if static) from ``expr``."""

    name: str
    expr: Expr
    owner: str  # the user variable it belongs to (errors name this one)
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class State:
    """A stock (user or hidden): its initial value and its derivative."""

    name: str
    initial: Expr
    derivative: Expr
    owner: str
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Memory:
    """A value read from ``lag`` steps ago: ``init`` until that many steps have passed."""

    name: str
    source: str  # the equation whose past values are read
    lag: Expr  # in steps, an expression of constants (rounded)
    init: Expr
    owner: str
    loc: Loc = NOWHERE


@dataclass
class System:
    """A lowered model: constants, states, memories and ordered equations."""

    model: Model
    constants: list[str]
    states: list[State] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)
    equations: list[Equation] = field(default_factory=list)  # ordered, per step
    static: list[Equation] = field(default_factory=list)  # ordered, once per run
    init_order: list[str] = field(default_factory=list)  # states and equations at t0

    @property
    def visible(self) -> list[str]:
        """The user variables a run reports, in model order."""
        m = self.model
        shown = [*m.stocks, *m.flows, *m.auxiliaries]
        return [*shown, *m.constants] if m.report_constants else shown


def _bin(op: str, a: Expr, b: Expr) -> Expr:
    return Binary(op, a, b)


def _sum(items: list[Expr]) -> Expr:
    if not items:
        return ZERO
    out = items[0]
    for it in items[1:]:
        out = _bin("+", out, it)
    return out


class _Lowerer:
    def __init__(self, model: Model) -> None:
        self.m = model
        self.sys = System(model, list(model.constants))
        self.eqs: dict[str, Equation] = {}
        self.counter: dict[str, int] = {}
        self.random_sites = 0

    def hidden(self, owner: str, tag: str) -> str:
        n = self.counter.get(owner, 0) + 1
        self.counter[owner] = n
        return f"_{owner}__{tag}{n}"

    def aux(self, name: str, expr: Expr, owner: str, loc: Loc) -> Name:
        self.eqs[name] = Equation(name, expr, owner, loc)
        return Name(name, loc)

    def as_name(self, expr: Expr, owner: str, tag: str, loc: Loc) -> Expr:
        """A Name for ``expr``: a number stays a number, other expressions get an aux."""
        if isinstance(expr, Num | Name):
            return expr
        return self.aux(self.hidden(owner, tag), expr, owner, loc)

    def expr(self, e: Expr, owner: str) -> Expr:  # noqa: PLR0911  # one return per node kind
        """Lower ``e``: stateful calls become hidden states or memories."""
        if isinstance(e, Unary):
            return Unary(e.op, self.expr(e.operand, owner), e.loc)
        if isinstance(e, Binary):  # along the left spine without recursion (long sums)
            spine: list[Binary] = []
            node: Expr = e
            while isinstance(node, Binary):
                spine.append(node)
                node = node.left
            out = self.expr(node, owner)
            for link in reversed(spine):
                out = Binary(link.op, out, self.expr(link.right, owner), link.loc)
            return out
        if isinstance(e, Call):
            args = tuple(self.expr(a, owner) for a in e.args)
            if e.func == "safediv":
                return _safediv(args, e.loc)
            b = BUILTINS.get(e.func)
            if b is not None and b.kind == "stateful":
                return self.stateful(e.func, args, owner, e.loc)
            if b is not None and b.kind == "random":  # add the seed (default 0) and a site id
                seed = args[b.min_args] if len(args) > b.min_args else ZERO
                self.random_sites += 1
                site = Num(float(self.random_sites))
                return Call(e.func, (*args[: b.min_args], seed, site), e.loc)
            return Call(e.func, args, e.loc)
        return e

    def stage_chain(
        self, x: Expr, tau: Expr, n: int, init: Expr | None, *, owner: str, loc: Loc, material: bool
    ) -> Expr:
        """N first-order stages: smoothing (information) or delay (material) chains."""
        x = self.as_name(x, owner, "in", loc)
        tau = self.as_name(tau, owner, "tau", loc)
        start = init if init is not None else x
        stage_tau: Expr = tau if n == 1 else _bin("/", tau, Num(float(n)))
        prev: Expr = x
        out: Expr = x
        for _ in range(n):
            s = self.hidden(owner, "delay" if material else "smooth")
            if material:
                outflow: Expr = _bin("/", Name(s), stage_tau)
                deriv = _bin("-", prev, outflow)
                initial = _bin("*", start, stage_tau)
                out = outflow
            else:
                deriv = _bin("/", _bin("-", prev, Name(s)), stage_tau)
                initial = start
                out = Name(s)
            self.sys.states.append(State(s, initial, deriv, owner, loc))
            prev = self.as_name(out, owner, "out", loc) if material else out
            out = prev
        return out

    def stateful(self, func: str, args: tuple[Expr, ...], owner: str, loc: Loc) -> Expr:
        """Lower a call of a stateful builtin to hidden states or memories."""
        family = _STATEFUL_FAMILIES.get(func)
        if family is None:  # pragma: no cover
            raise ModelError(f"{func}() is not implemented", loc)
        return family(self, func, args, owner, loc)

    def fixed_chain(self, func: str, args: tuple[Expr, ...], owner: str, loc: Loc) -> Expr:
        """``smooth``, ``smooth3``, ``delay1``, ``delay3``: chains of 1 or 3 stages."""
        init = args[2] if len(args) > 2 else None
        stages = 3 if func in ("smooth3", "delay3") else 1
        material = func in ("delay1", "delay3")
        return self.stage_chain(
            args[0], args[1], stages, init, owner=owner, loc=loc, material=material
        )

    def order_n_chain(self, func: str, args: tuple[Expr, ...], owner: str, loc: Loc) -> Expr:
        """``smoothn``, ``delayn``: chains of a literal whole number of stages."""
        init = args[3] if len(args) > 3 else None
        order = args[2]
        if not isinstance(order, Num) or not (order.value >= 1 and order.value.is_integer()):
            raise ModelError(f"{func}() needs a whole number of stages as a literal, like 3", loc)
        check_order(func, order.value, loc)  # before a stock is made for any stage
        return self.stage_chain(
            args[0],
            args[1],
            int(order.value),
            init,
            owner=owner,
            loc=loc,
            material=func == "delayn",
        )

    def trend(self, _func: str, args: tuple[Expr, ...], owner: str, loc: Loc) -> Expr:
        """XMILE TREND: fractional growth rate of x against its exponential average."""
        init = args[2] if len(args) > 2 else None
        x = self.as_name(args[0], owner, "in", loc)
        tau = self.as_name(args[1], owner, "tau", loc)
        g0 = init if init is not None else ZERO
        s = self.hidden(owner, "avg")
        first = _bin("/", x, _bin("+", Num(1.0), _bin("*", g0, tau)))
        self.sys.states.append(State(s, first, _bin("/", _bin("-", x, Name(s)), tau), owner, loc))
        return _bin("/", _bin("-", x, Name(s)), _bin("*", Name(s), tau))

    def forcst(self, _func: str, args: tuple[Expr, ...], owner: str, loc: Loc) -> Expr:
        """XMILE FORCST: ``x * (1 + trend * horizon)``."""
        trend = self.trend("trend", (args[0], args[1], *(args[3:4])), owner, loc)
        return _bin("*", args[0], _bin("+", Num(1.0), _bin("*", trend, args[2])))

    def initial(self, _func: str, args: tuple[Expr, ...], owner: str, loc: Loc) -> Expr:
        """``init(x)``: a hidden stock that keeps x's value at t0."""
        x = self.as_name(args[0], owner, "in", loc)
        s = self.hidden(owner, "init")
        self.sys.states.append(State(s, x, ZERO, owner, loc))
        return Name(s)

    def previous(self, _func: str, args: tuple[Expr, ...], owner: str, loc: Loc) -> Expr:
        """``previous(x[, init])``: x one step ago (a literal stays itself)."""
        src = self.as_name(args[0], owner, "in", loc)
        if not isinstance(src, Name):  # a literal: previous(3) is 3
            return src
        out = self.hidden(owner, "prev")
        self.sys.memories.append(
            Memory(out, src.id, Num(1.0), args[1] if len(args) > 1 else src, owner, loc)
        )
        return Name(out, loc)

    def delay_fixed(self, _func: str, args: tuple[Expr, ...], owner: str, loc: Loc) -> Expr:
        """``delay_fixed(x, tau, init)``: x ``tau / dt`` steps ago (a literal stays itself)."""
        src = self.as_name(args[0], owner, "in", loc)
        if not isinstance(src, Name):
            return src
        out = self.hidden(owner, "fixed")
        lag = _bin("/", args[1], Name("dt"))
        self.sys.memories.append(Memory(out, src.id, lag, args[2], owner, loc))
        return Name(out, loc)

    def depends_on(self, name: str, targets: set[str]) -> bool:
        """Whether equation ``name`` uses any of ``targets``, directly or through others."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            n = todo.pop()
            if n in targets:
                return True
            if n not in seen and n in self.eqs:
                seen.add(n)
                todo.extend(names(self.eqs[n].expr))
        return False

    def limit_outflows(self) -> None:
        """Rewrite outflows of non-negative stocks so a step never overdraws the stock."""
        limited: dict[str, str] = {}
        if self.m.non_negative_mode == "clamp":
            return
        for s in self.m.stocks.values():
            if not s.non_negative or not s.outflows:
                continue
            # Inflows count towards what may leave, except those that depend on this
            # stock's own outflows (two non-negative stocks trading both ways): counting
            # them would make the limits an algebraic loop.
            outs = set(s.outflows)
            counted: list[Expr] = [Name(f) for f in s.inflows if not self.depends_on(f, outs)]
            avail: Expr = _bin("+", _bin("/", Name(s.name), Name("dt")), _sum(counted))
            taken: list[Expr] = []
            for f in s.outflows:
                if f in limited:
                    raise ModelError(
                        f"flow {f!r} drains two non-negative stocks "
                        f"({limited[f]!r} and {s.name!r}); split it in two",
                        self.m.flows[f].loc,
                    )
                limited[f] = s.name
                raw = f"_{f}__raw"
                old = self.eqs.pop(f)
                self.eqs[raw] = Equation(raw, old.expr, f, old.loc)
                room = Call("max", (_bin("-", avail, _sum(taken)), ZERO))
                expr = Call(
                    "if", (_bin(">", Name(raw), ZERO), Call("min", (Name(raw), room)), Name(raw))
                )
                self.eqs[f] = Equation(f, expr, f, old.loc)
                taken.append(Name(f))


# Each stateful builtin's family: the _Lowerer method that lowers its calls.
_STATEFUL_FAMILIES: dict[str, Callable[[_Lowerer, str, tuple[Expr, ...], str, Loc], Expr]] = {
    "smooth": _Lowerer.fixed_chain,
    "smooth3": _Lowerer.fixed_chain,
    "delay1": _Lowerer.fixed_chain,
    "delay3": _Lowerer.fixed_chain,
    "smoothn": _Lowerer.order_n_chain,
    "delayn": _Lowerer.order_n_chain,
    "trend": _Lowerer.trend,
    "forcst": _Lowerer.forcst,
    "init": _Lowerer.initial,
    "previous": _Lowerer.previous,
    "delay_fixed": _Lowerer.delay_fixed,
}


def _order(eqs: dict[str, Equation], known: set[str], phase: str) -> list[str]:
    g = Digraph()
    position = {n: i for i, n in enumerate(eqs)}
    for name, eq in eqs.items():
        g.add_node(name)
        for dep in names(eq.expr):
            if dep in eqs:
                g.add_edge(dep, name)
            elif dep not in known:
                raise ModelError(f"internal: {dep!r} unknown while ordering", eq.loc)
    order = g.ordered(key=position.__getitem__)
    if order is None:
        cycle = [a for a, _ in g.find_cycle()]
        owners: list[str] = []
        for c in cycle:
            o = eqs[c].owner
            if o not in owners:
                owners.append(o)
        loc = eqs[cycle[0]].loc
        for c in cycle:
            if eqs[c].name == eqs[c].owner:
                loc = eqs[c].loc
                break
        what = "algebraic loop" if phase == "step" else "initial values depend on each other"
        raise CycleError(
            f"{what}: {' -> '.join([*owners, owners[0]])} (break it with a stock, "
            "a smooth() or a delay)",
            loc,
        )
    return order


def lower(model: Model) -> System:
    """Flatten ``model``: hidden states for stateful builtins, equations in order."""
    lw = _Lowerer(model)
    for v in model.variables.values():
        expr = lw.expr(v.equation, v.name)
        if v.non_negative:
            expr = Call("max", (expr, ZERO))
        lw.eqs[v.name] = Equation(v.name, expr, v.name, v.loc)
    lw.limit_outflows()
    sys = lw.sys
    stock_states = []
    for s in model.stocks.values():
        deriv = _bin("-", _sum([Name(f) for f in s.inflows]), _sum([Name(f) for f in s.outflows]))
        if s.non_negative:  # never below zero, negative inflows included
            deriv = Call("max", (deriv, _bin("/", Unary("-", Name(s.name)), Name("dt"))))
        stock_states.append(State(s.name, lw.expr(s.initial, s.name), deriv, s.name, s.loc))
    sys.states = stock_states + sys.states
    # Initial expressions of hidden states may themselves need lowering (rare: nested).
    state_names = {s.name for s in sys.states}
    memory_names = {m.name for m in sys.memories}
    base = {*model.constants, "time", "dt", "start_time", "stop_time", "pi", "inf"}
    # Static equations: depend on constants and other statics only.
    static: set[str] = set()
    timeless = base - {"time"}
    changed = True
    while changed:
        changed = False
        for n, eq in lw.eqs.items():
            if n in static:
                continue
            deps = names(eq.expr)
            calls = {c.func for c in _calls(eq.expr)}
            # Membership, not a union set per equation (quadratic in large models).
            if all(d in static or d in timeless for d in deps) and not calls & _PER_STEP:
                static.add(n)
                changed = True
    step_eqs = {n: e for n, e in lw.eqs.items() if n not in static}
    static_eqs = {n: e for n, e in lw.eqs.items() if n in static}
    sys.static = [static_eqs[n] for n in _order(static_eqs, base, "step")]
    known = base | state_names | memory_names | static
    sys.equations = [step_eqs[n] for n in _order(step_eqs, known, "step")]
    # Initial phase: states from their initial expressions, equations at t0.
    init_nodes: dict[str, Equation] = {
        **{s.name: Equation(s.name, s.initial, s.owner, s.loc) for s in sys.states},
        **{m.name: Equation(m.name, m.init, m.owner, m.loc) for m in sys.memories},
        **step_eqs,
    }
    sys.init_order = _order(init_nodes, base | static, "init")
    return sys


def _safediv(args: tuple[Expr, ...], loc: Loc) -> Expr:
    """``safediv(a, b[, otherwise])``: ``a / b``, or ``otherwise`` (default 0) where b is 0."""
    a, b = args[0], args[1]
    otherwise = args[2] if len(args) > 2 else ZERO
    return Call("if", (Binary("==", b, ZERO, loc), otherwise, Binary("/", a, b, loc)), loc)


def _calls(e: Expr) -> list[Call]:
    return [n for n in walk(e) if isinstance(n, Call)]


__all__ = ["Equation", "Memory", "State", "System", "lower"]
