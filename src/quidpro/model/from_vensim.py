"""Build a :class:`Model` from a Vensim ``.mdl`` file (read by :mod:`quidpro.lang.vensim_reader`).

Names are compared as Vensim does (case-insensitive, ``_`` equal to a space) and
shown with underscores (``Teacup_Temperature``); subscripted variables are
expanded to one scalar per element (``Stock_A[Entry_1,Column_2]``). ``INTEG``
makes a stock; its rate is split into the flows it adds and subtracts when it is
a plain sum of variables, and becomes one flow ``<stock>_rate`` otherwise.
Macros are expanded at each call (``caller.MACRO1.variable``). Vensim's control
variables set the run's clock; one that changes during the run is kept as an
auxiliary too, so its values are reported, but the clock uses its initial value.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field

from quidpro.errors import Loc, ModelError, UndefinedNameError, UnsupportedError
from quidpro.lang.ast import Binary, Call, Expr, Index, Name, Num, Unary, children, walk
from quidpro.lang.suggest import did_you_mean
from quidpro.lang.vensim_builtins import UNSUPPORTED, check_arity, map_call
from quidpro.lang.vensim_reader import Equation, LookupDef, MacroDef, VensimFile, read_mdl
from quidpro.lang.vensim_text import units_and_range
from quidpro.model.limits import check_elements, check_order
from quidpro.model.spec import Constant, Lookup, Model, Stock, TimeSpec, Variable
from quidpro.model.vensim_arrays import Binding, Dims, build_dims, canon, display
from quidpro.model.vensim_parts import SPECIAL, clock_value, fresh, model_name, split_rate
from quidpro.model.vensim_values import explicit_inits, value_of, with_initials

CONTROL = ("initial time", "final time", "time step", "saveper")
WHOLE_EQUATION = {
    "INTEG": "name = INTEG(rate, initial)",
    "ACTIVE INITIAL": "name = ACTIVE INITIAL(equation, initial)",
    "WITH LOOKUP": "name = WITH LOOKUP(input, table)",
    "TABBED ARRAY": "name[dims] = TABBED ARRAY(numbers)",
}
REDUCE = {"SUM": "+", "PROD": "*", "VMIN": "min", "VMAX": "max"}
_ORDER_ARG = {"delayn": 2, "smoothn": 2}


@dataclass
class _Item:
    """One scalar the model will hold: a stock, a variable or a constant."""

    name: str
    kind: str  # "stock" | "aux"
    expr: Expr  # the equation, or a stock's rate
    loc: Loc
    initial: Expr | None = None  # a stock's initial value
    units: str | None = None
    doc: str | None = None


@dataclass
class _Base:
    """A Vensim variable: its equations and the elements they define."""

    name: str  # display
    equations: list[Equation] = field(default_factory=list)
    arrayed: bool = False


@dataclass
class _Builder:
    file: str
    vf: VensimFile
    dims: Dims
    bases: dict[str, _Base] = field(default_factory=dict)
    lookups: dict[str, Lookup] = field(default_factory=dict)  # canon -> lookup
    macros: dict[str, MacroDef] = field(default_factory=dict)
    items: dict[str, _Item] = field(default_factory=dict)
    defined: set[str] = field(default_factory=set)  # element names with an equation
    active_initial: dict[str, Expr] = field(default_factory=dict)
    dynamic: set[str] = field(default_factory=set)  # control variables that change in a run
    macro_count: int = 0
    start: float = 0.0

    # -- names ------------------------------------------------------------------
    def element_name(self, base: _Base, elems: tuple[str, ...]) -> str:
        return f"{base.name}[{','.join(elems)}]" if base.arrayed else base.name

    def resolve(self, e: Expr, binding: Binding, owner: str, scope: dict[str, Expr]) -> Expr:
        """``e`` with Vensim names made model names and every subscript an element."""
        if isinstance(e, Num):
            return e
        if isinstance(e, Unary):
            return Unary(e.op, self.resolve(e.operand, binding, owner, scope), e.loc)
        if isinstance(e, Binary):
            left = self.resolve(e.left, binding, owner, scope)
            return Binary(e.op, left, self.resolve(e.right, binding, owner, scope), e.loc)
        if isinstance(e, Name):
            return self.name(e, binding, owner, scope)
        if isinstance(e, Index):
            key = canon(e.id)
            base = self.bases.get(key)
            if base is None:
                raise self.undefined(e.id, owner, e.loc)
            if not base.arrayed:
                raise ModelError(f"{e.id!r} is not subscripted, it takes no subscript", e.loc)
            elems = tuple(self.dims.element(s, binding, e.loc, owner) for s in e.subscripts)
            name = self.element_name(base, elems)
            if name not in self.defined:
                raise UndefinedNameError(f"{name!r} has no equation (used by {owner!r})", e.loc)
            return Name(name, e.loc)
        assert isinstance(e, Call)
        return self.call(e, binding, owner, scope)

    def name(self, e: Name, binding: Binding, owner: str, scope: dict[str, Expr]) -> Expr:
        key = canon(e.id)
        if key in scope:
            return scope[key]
        if key in SPECIAL:
            if key in self.dynamic:  # its changing value, as reported
                return Name(self.bases[key].name, e.loc)
            return Name(SPECIAL[key], e.loc)
        base = self.bases.get(key)
        if base is not None:
            if base.arrayed:
                raise ModelError(
                    f"{e.id!r} is subscripted: name its element, like {e.id}[...]", e.loc
                )
            return Name(base.name, e.loc)
        if key in self.dims.ranges:  # a range as a value: the current element's number
            elem = self.dims.current(key, binding)
            if elem is None:
                raise ModelError(f"range {e.id!r} used as a value in {owner!r} is not bound", e.loc)
            return Num(float(self.dims.position[elem]), e.loc)
        if key in self.lookups:
            raise ModelError(f"lookup {e.id!r} must be called with an input: {e.id}(x)", e.loc)
        if key == "saveper":
            return Name("dt", e.loc)
        raise self.undefined(e.id, owner, e.loc)

    def undefined(self, raw: str, owner: str, loc: Loc) -> UndefinedNameError:
        hint = did_you_mean(display(raw), [b.name for b in self.bases.values()])
        return UndefinedNameError(f"undefined name {raw!r} in {owner!r}{hint}", loc)

    # -- calls ------------------------------------------------------------------
    def call(self, e: Call, binding: Binding, owner: str, scope: dict[str, Expr]) -> Expr:
        func = e.func
        if func in UNSUPPORTED:
            raise UnsupportedError(f"Vensim function {func} {UNSUPPORTED[func]}", e.loc)
        if func in WHOLE_EQUATION:
            raise ModelError(f"{func} must be the whole equation: {WHOLE_EQUATION[func]}", e.loc)
        if func in REDUCE:
            return self.reduce(e, binding, owner, scope)
        if func == "ELMCOUNT":
            return self.elmcount(e)
        if func == "INVERT MATRIX":
            return self.invert_matrix(e, binding, owner, scope)
        args = tuple(self.resolve(a, binding, owner, scope) for a in e.args)
        key = canon(func)
        if key in self.lookups and key not in scope:
            if len(args) != 1:
                raise ModelError(f"lookup {func!r} takes 1 input, got {len(args)}", e.loc)
            return Call(self.lookups[key].name, args, e.loc)
        if key in self.macros:
            return self.expand_macro(self.macros[key], args, owner, e.loc)
        return self.builtin(func, args, owner, e.loc)

    def builtin(self, func: str, args: tuple[Expr, ...], owner: str, loc: Loc) -> Expr:
        """A builtin call whose arguments are resolved."""
        if func == "DELAY N":  # expanded once the order is known (see _delay_n)
            check_arity(func, args, 4, 4, loc)
            return Call(func, args, loc)
        if func == "SAMPLE IF TRUE":  # the input while the condition holds, else held
            check_arity(func, args, 3, 3, loc)
            held = Call("previous", (Name(owner, loc), args[2]), loc)
            return Call("if", (args[0], args[1], held), loc)
        return map_call(func, args, loc)

    def elmcount(self, e: Call) -> Expr:
        """ELMCOUNT(range): the number of its elements."""
        arg = e.args[0] if len(e.args) == 1 else None
        if not isinstance(arg, Name) or not self.dims.is_dim(arg.id):
            raise ModelError("ELMCOUNT takes the name of a subscript range", e.loc)
        return Num(float(len(self.dims.ranges[canon(arg.id)])), e.loc)

    def reduce(self, e: Call, binding: Binding, owner: str, scope: dict[str, Expr]) -> Expr:
        if len(e.args) != 1:
            raise ModelError(f"{e.func} takes 1 argument (an array with a '!' subscript)", e.loc)
        marked: list[str] = []
        for n in walk(e.args[0]):
            if isinstance(n, Index):
                for s in n.subscripts:
                    if s.endswith("!") and canon(s[:-1]) not in marked:
                        if not self.dims.is_dim(s[:-1]):
                            raise self.dims.unknown(s[:-1], n.loc)
                        marked.append(canon(s[:-1]))
        if not marked:
            raise ModelError(f"{e.func} needs a range marked with '!', like x[dim!]", e.loc)
        terms: list[Expr] = []
        ranges = [self.dims.ranges[k] for k in marked]
        check_elements(math.prod(map(len, ranges)), f"the {e.func} in {owner!r}", e.loc)
        for combo in itertools.product(*ranges):
            inner = {**binding, **{k + "!": v for k, v in zip(marked, combo, strict=True)}}
            terms.append(self.resolve(e.args[0], inner, owner, scope))
        op = REDUCE[e.func]
        if op in ("min", "max"):
            return terms[0] if len(terms) == 1 else Call(op, tuple(terms), e.loc)
        total = terms[0]
        for t in terms[1:]:
            total = Binary(op, total, t, e.loc)
        return total

    def invert_matrix(self, e: Call, binding: Binding, owner: str, scope: dict[str, Expr]) -> Expr:
        """One element of the inverse of a constant matrix (its last two subscripts)."""
        m = e.args[0] if len(e.args) == 2 else None
        if not isinstance(m, Index) or len(m.subscripts) < 2:
            raise ModelError(
                "INVERT MATRIX takes a matrix x[..., rows, columns] and its size", e.loc
            )
        rows, cols = (canon(s) for s in m.subscripts[-2:])
        if rows not in self.dims.ranges or cols not in self.dims.ranges:
            raise ModelError("INVERT MATRIX: the last two subscripts must be ranges", e.loc)
        r_elems, c_elems = self.dims.ranges[rows], self.dims.ranges[cols]
        i = self.dims.current(rows, binding)
        j = self.dims.current(cols, binding)
        if i is None or j is None or len(r_elems) != len(c_elems):
            raise ModelError("INVERT MATRIX must define a square matrix element by element", e.loc)
        cells: list[Expr] = []
        for r in r_elems:
            for c in c_elems:
                cells.append(self.resolve(m, {**binding, rows: r, cols: c}, owner, scope))
        where = (Num(float(r_elems.index(i)), e.loc), Num(float(c_elems.index(j)), e.loc))
        # Numbers once every constant is known: see _post_fold.
        return Call("INVERT MATRIX", (*cells, *where), e.loc)

    def expand_macro(self, mac: MacroDef, args: tuple[Expr, ...], owner: str, loc: Loc) -> Expr:
        if len(args) != len(mac.params):
            raise ModelError(
                f"macro {mac.name!r} takes {len(mac.params)} argument(s), got {len(args)}", loc
            )
        self.macro_count += 1
        prefix = f"{owner}.{display(mac.name)}{self.macro_count}"
        scope: dict[str, Expr] = {}
        for p, a in zip(mac.params, args, strict=True):
            pname = f"{prefix}.{display(p)}"
            self.items[pname] = _Item(pname, "aux", a, loc)
            scope[canon(p)] = Name(pname, loc)
        for eq in mac.equations:
            scope[canon(eq.name)] = Name(f"{prefix}.{display(eq.name)}", eq.loc)
        output = scope.get(canon(mac.name))
        if output is None:
            raise ModelError(f"macro {mac.name!r} has no equation named {mac.name!r}", mac.loc)
        for eq in mac.equations:
            if eq.subs or eq.expr is None:
                raise UnsupportedError(
                    "subscripts and lookups inside macros are not supported", eq.loc
                )
            target = scope[canon(eq.name)]
            assert isinstance(target, Name)
            self.define(target.id, eq, eq.expr, {}, scope)
        return output

    # -- constants at the start ---------------------------------------------------
    def fold(self, e: Expr, depth: int = 0) -> float | None:
        """The value of ``e`` at the start of the run, if it needs no stock (else None)."""
        if depth > 50:
            return None
        if isinstance(e, Num):
            return e.value
        if isinstance(e, Name):
            return self.fold_name(e, depth)
        values = [self.fold(a, depth + 1) for a in children(e)]
        numbers = [v for v in values if v is not None]
        if len(numbers) != len(values):
            return None
        return value_of(e, numbers, self.start)

    def fold_name(self, e: Name, depth: int) -> float | None:
        """The start value of a name: the clock, or an auxiliary folded in turn."""
        if e.id in ("time", "start_time"):
            return self.start
        control = {"dt": "time step", "stop_time": "final time"}.get(e.id)
        name = self.bases[control].name if control in self.bases else e.id
        item = self.items.get(name)
        if item is None or item.kind != "aux":
            return None
        return self.fold(item.expr, depth + 1)

    # -- definitions --------------------------------------------------------------
    def define(
        self, name: str, eq: Equation, raw: Expr, binding: Binding, scope: dict[str, Expr]
    ) -> None:
        units, _ = units_and_range(eq.record.units)
        doc = eq.record.comment
        if isinstance(raw, Call) and raw.func == "INTEG":
            if len(raw.args) != 2:
                raise ModelError("INTEG takes 2 arguments (rate, initial value)", raw.loc)
            rate = self.resolve(raw.args[0], binding, name, scope)
            init = self.resolve(raw.args[1], binding, name, scope)
            self.items[name] = _Item(name, "stock", rate, eq.loc, init, units, doc)
            return
        if isinstance(raw, Call) and raw.func == "ACTIVE INITIAL":
            if len(raw.args) != 2:
                raise ModelError("ACTIVE INITIAL takes 2 arguments (equation, initial)", raw.loc)
            self.active_initial[name] = self.resolve(raw.args[1], binding, name, scope)
            raw = raw.args[0]
        expr = self.resolve(raw, binding, name, scope)
        if eq.lookup is not None:
            lk = f"{name}_lookup"
            self.lookups.setdefault(canon(lk), Lookup(lk, eq.lookup.xs, eq.lookup.ys, loc=eq.loc))
            expr = Call(lk, (expr,), eq.loc)
        self.items[name] = _Item(name, "aux", expr, eq.loc, None, units, doc)


def _delay_n(b: _Builder, args: list[Expr], owner: str, loc: Loc) -> Expr:
    """Vensim's DELAY N(x, tau, init, n): n material stages, as Vensim (and PySD) run it.

    Stage k leaves at the delay time of k steps ago and the output is read with the
    delay time of the step before, so a change of delay time moves through the chain.
    """
    x, tau, init, order = args
    n_value = b.fold(order)
    if n_value is None or not math.isfinite(n_value) or round(n_value) < 1:
        raise ModelError("DELAY N: the order must be a whole number known at the start", loc)
    check_order("DELAY N", n_value, loc)  # before a stock is made for any stage
    n = round(n_value)
    b.macro_count += 1
    prefix = f"{owner}.DELAY_N{b.macro_count}"
    taus = [f"{prefix}.tau{k}" for k in range(max(n, 2))]
    b.items[taus[0]] = _Item(taus[0], "aux", tau, loc)
    for k in range(1, len(taus)):
        lagged = Call("previous", (Name(taus[k - 1], loc), Name(taus[k - 1], loc)), loc)
        b.items[taus[k]] = _Item(taus[k], "aux", lagged, loc)
    stages = [f"{prefix}.stage{k}" for k in range(n)]
    inflow: Expr = x
    for k, stage in enumerate(stages):
        outflow = Binary("/", Name(stage, loc), Name(taus[k], loc), loc)
        rate = Binary("*", Num(float(n), loc), Binary("-", inflow, outflow, loc), loc)
        start = Binary("*", init, Name(taus[0], loc), loc)
        b.items[stage] = _Item(stage, "stock", rate, loc, start)
        inflow = outflow
    return Binary("/", Name(stages[-1], loc), Name(taus[1], loc), loc)


def _inverse_element(b: _Builder, args: list[Expr], loc: Loc) -> Expr:
    import numpy as np

    *cells, row, col = args
    values = [b.fold(c) for c in cells]
    if any(v is None for v in values):
        raise UnsupportedError("INVERT MATRIX is supported for constant matrices only", loc)
    n = round(len(values) ** 0.5)
    try:
        inv = np.linalg.inv(np.array(values, dtype=float).reshape(n, n))
    except np.linalg.LinAlgError:
        raise ModelError("INVERT MATRIX: the matrix is singular", loc) from None
    assert isinstance(row, Num)
    assert isinstance(col, Num)
    return Num(float(inv[int(row.value), int(col.value)]), loc)


def _collect(vf: VensimFile, b: _Builder) -> None:
    for lk in vf.lookups:
        if lk.subs:
            raise UnsupportedError(f"subscripted lookup {lk.name!r} is not supported", lk.loc)
        _add_lookup(b, lk)
    for mac in vf.macros:
        b.macros[canon(mac.name)] = mac
    for eq in vf.equations:
        key = canon(eq.name)
        if key in b.lookups:
            raise ModelError(f"{eq.name!r} is defined as a lookup and as an equation", eq.loc)
        base = b.bases.setdefault(key, _Base(display(eq.name)))
        if base.equations and bool(base.arrayed) != bool(eq.subs):
            raise ModelError(f"{eq.name!r} is defined with and without subscripts", eq.loc)
        base.arrayed = bool(eq.subs)
        base.equations.append(eq)


def _add_lookup(b: _Builder, lk: LookupDef) -> None:
    key = canon(lk.name)
    if key in b.lookups:
        raise ModelError(f"lookup {lk.name!r} is defined twice", lk.loc)
    units, _ = units_and_range(lk.record.units)
    b.lookups[key] = Lookup(
        display(lk.name), lk.table.xs, lk.table.ys, units=units, doc=lk.record.comment, loc=lk.loc
    )


def _elements(b: _Builder) -> list[tuple[str, _Base, Equation, dict[str, str], float | None]]:
    """Every scalar to define: (name, base, equation, binding, number from a list)."""
    out: list[tuple[str, _Base, Equation, dict[str, str], float | None]] = []
    seen: dict[str, Loc] = {}
    for base in b.bases.values():
        for eq in base.equations:
            combos = b.dims.combos(eq.name, eq.subs, eq.excepts, eq.loc) if eq.subs else [((), {})]
            numbers = eq.numbers
            if numbers is not None and len(numbers) not in (1, len(combos)):
                raise ModelError(
                    f"{eq.name!r} lists {len(numbers)} values for {len(combos)} elements", eq.loc
                )
            check_elements(len(out) + len(combos), "the model", eq.loc)
            for i, (elems, binding) in enumerate(combos):
                name = b.element_name(base, elems)
                if name in seen:
                    raise ModelError(
                        f"{name!r} is defined twice (first at line {seen[name].line})", eq.loc
                    )
                seen[name] = eq.loc
                value = None if numbers is None else numbers[i if len(numbers) > 1 else 0]
                out.append((name, base, eq, binding, value))
    return out


class DynamicControlWarning(UserWarning):
    """A Vensim control variable changes during the run; the clock keeps its initial value."""


def _dynamic_controls(b: _Builder) -> set[str]:
    """Control variables whose equation reads Time or a variable that is not a number."""
    out = set()
    for key in CONTROL:
        base = b.bases.get(key)
        if base is None:
            continue
        for eq in base.equations:
            for n in walk(eq.expr) if eq.expr is not None else ():
                if not isinstance(n, Name):
                    continue
                ref = canon(n.id)
                other = b.bases.get(ref)
                plain = other is not None and all(
                    isinstance(x.expr, Num) or x.numbers is not None for x in other.equations
                )
                if ref == "time" or (other is not None and ref not in CONTROL and not plain):
                    out.add(key)
    return out


def _time_spec(b: _Builder, file: str) -> TimeSpec:
    values: dict[str, float] = {}
    units = None
    for key in ("initial time", "final time", "time step", "saveper"):
        base = b.bases.get(key)
        if base is None:
            if key == "saveper":
                continue
            raise ModelError(
                f"the model has no {key.upper()} (a Vensim control variable)", Loc(file, 1, 1)
            )
        item = b.items[base.name]
        v = b.fold(item.expr)
        if v is None:
            raise ModelError(f"{key.upper()} must be a number at the start", item.loc)
        values[key] = v
        if key in b.dynamic:
            warnings.warn_explicit(
                f"{key.upper()} changes during the run; quidpro's clock uses its "
                f"initial value {v:g} (the column {item.name!r} reports the changing value)",
                DynamicControlWarning,
                item.loc.file,
                item.loc.line,
            )
        if key == "initial time":
            b.start = v
        if key == "time step":
            units = item.units
    dt = values["time step"]
    if dt <= 0:
        raise ModelError("TIME STEP must be positive", b.items[b.bases["time step"].name].loc)
    save = values.get("saveper")
    if save is not None and save <= 0:
        raise ModelError("SAVEPER must be positive", b.items[b.bases["saveper"].name].loc)
    return TimeSpec(
        start=values["initial time"],
        stop=values["final time"],
        dt=dt,
        units=units,
        save_every=save if save is not None and save > dt else None,
        # TimeSpec refuses a clock no run can follow; the error points at FINAL TIME.
        loc=b.items[b.bases["final time"].name].loc,
    )


def build_vensim(vf: VensimFile, file: str) -> Model:
    """The model a parsed ``.mdl`` file describes."""
    b = _Builder(file, vf, build_dims(vf.ranges))
    _collect(vf, b)
    elements = _elements(b)
    b.defined = {name for name, *_ in elements}
    b.dynamic = _dynamic_controls(b)
    for name, _base, eq, binding, value in elements:
        if value is not None:
            b.define(name, eq, Num(value, eq.loc), binding, {})
        else:
            assert eq.expr is not None
            b.define(name, eq, eq.expr, binding, {})
    time = _time_spec(b, file)
    for item in list(b.items.values()):
        item.expr = _fold_orders(b, item.expr, item.name)
    return _assemble(b, time, file)


def _fold_orders(b: _Builder, e: Expr, owner: str) -> Expr:
    """DELAY N and SMOOTH N with their order as a number: its value at the start."""
    if isinstance(e, Unary):
        return Unary(e.op, _fold_orders(b, e.operand, owner), e.loc)
    if isinstance(e, Binary):
        left = _fold_orders(b, e.left, owner)
        return Binary(e.op, left, _fold_orders(b, e.right, owner), e.loc)
    if isinstance(e, Call):
        args = [_fold_orders(b, a, owner) for a in e.args]
        if e.func == "INVERT MATRIX":
            return _inverse_element(b, args, e.loc)
        if e.func == "DELAY N":
            return _delay_n(b, args, owner, e.loc)
        i = _ORDER_ARG.get(e.func)
        if i is not None and not isinstance(args[i], Num):
            order = b.fold(args[i])
            if order is None or not math.isfinite(order):
                raise ModelError(
                    f"{e.func}(): the order must be a number known at the start of the run",
                    e.loc,
                )
            args[i] = Num(float(round(order)), args[i].loc)
        return Call(e.func, tuple(args), e.loc)
    return e


def _assemble(b: _Builder, time: TimeSpec, file: str) -> Model:
    stocks: dict[str, Stock] = {}
    flow_names: set[str] = set()
    synthetic: dict[str, _Item] = {}
    dynamic_control = {b.bases[k].name for k in b.dynamic}
    for item in b.items.values():
        if item.kind != "stock":
            continue
        assert item.initial is not None
        terms = split_rate(item.expr)
        names = [t.id for _, t in terms if isinstance(t, Name)]
        plain = (
            len(names) == len(terms)
            and len(set(names)) == len(names)
            and all(n in b.items and b.items[n].kind == "aux" for n in names)
        )
        if isinstance(item.expr, Num) and item.expr.value == 0:
            ins: tuple[str, ...] = ()
            outs: tuple[str, ...] = ()
        elif plain:
            ins = tuple(t.id for s, t in terms if s > 0 and isinstance(t, Name))
            outs = tuple(t.id for s, t in terms if s < 0 and isinstance(t, Name))
            flow_names.update(names)
        else:
            rate = fresh(f"{item.name}_rate", b.items, synthetic)
            synthetic[rate] = _Item(rate, "aux", item.expr, item.loc, units=None)
            flow_names.add(rate)
            ins, outs = (rate,), ()
        initial = with_initials(item.initial, b.active_initial)
        stocks[item.name] = Stock(
            item.name, initial, ins, outs, False, item.units, item.doc, item.loc
        )
    constants: dict[str, Constant] = {}
    flows: dict[str, Variable] = {}
    auxes: dict[str, Variable] = {}
    control_names = {b.bases[k].name for k in CONTROL if k in b.bases}
    for item in [*b.items.values(), *synthetic.values()]:
        if item.kind == "stock":
            continue
        if item.name in control_names and item.name not in dynamic_control:
            # Reported as Vensim does, but read from the clock so --dt and the like show.
            clock = clock_value(canon(item.name), time, item.loc)
            auxes[item.name] = Variable(item.name, "aux", clock, item.units, item.doc, loc=item.loc)
            continue
        expr = explicit_inits(item.expr, b.active_initial) if b.active_initial else item.expr
        if item.name in flow_names:
            flows[item.name] = Variable(item.name, "flow", expr, item.units, item.doc, loc=item.loc)
        elif isinstance(expr, Num):
            constants[item.name] = Constant(
                item.name, expr.value, None, item.units, item.doc, loc=item.loc
            )
        else:
            auxes[item.name] = Variable(item.name, "aux", expr, item.units, item.doc, loc=item.loc)
    dimensions = {b.dims.names[k]: v for k, v in b.dims.ranges.items() if k in b.dims.names}
    return Model(
        name=model_name(file),
        time=time,
        constants=constants,
        stocks=stocks,
        flows=flows,
        auxiliaries=auxes,
        lookups={lk.name: lk for lk in b.lookups.values()},
        file=file,
        dynamic_initials=True,
        non_negative_mode="clamp",
        dimensions=dimensions,
        report_constants=True,
    )


def read_vensim(text: str, file: str = "<string>") -> Model:
    """Parse a Vensim ``.mdl`` file's text into a ``Model`` (checked later by the caller)."""
    return build_vensim(read_mdl(text, file), file)


__all__ = ["build_vensim", "read_vensim"]
