"""Dimensional analysis of a model's equations, over the units its variables declare.

The units are pint units in a registry of this module's own (``_DEFINITIONS``):
the clock's units (second to year, with a month of a twelfth of a year), a few SI
units and ``percent``. Every other word a model writes (``people``, ``shells``,
``USD``) is a unit of its own, a new base dimension, unless it is a near miss of a
known unit (``monht``), which is an error with a suggestion. pint's own registry is
not used: it reads ``a`` as a year, ``t`` as a tonne and ``mines`` with prefixes,
so a modeller's words would silently become physical units.

Rules (docs/format.md, "Units"):

* Units must agree exactly, not only in dimension: quidpro never converts, so a
  ``people/month`` flow into a stock counted per ``year`` is an error.
* A name without declared units, a number literal and ``inf`` have unknown units.
  An expression with an unknown part is not checked where that part would decide
  (``0.1 * stock`` is unknown; ``price + 1`` is the units of ``price``).
* ``time``, ``dt``, ``start_time`` and ``stop_time`` are in ``time.units``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pint

from quidpro.errors import Loc, UnitError
from quidpro.lang.ast import Binary, Call, Expr, Name, Num, Unary
from quidpro.lang.format import format_expr
from quidpro.lang.suggest import closest
from quidpro.model.spec import Constant, Model, Stock, Variable

Registry = Any  # a pint UnitRegistry
Unit = Any  # a pint Unit (pint's classes are generated per registry, so no static type)

_DEFINITIONS = """\
second = [time] = _ = s = sec
minute = 60 * second = _ = min
hour = 60 * minute = _ = hr
day = 24 * hour
week = 7 * day
year = 365.25 * day = _ = yr
month = year / 12
quarter = year / 4
meter = [length] = m = metre
kilometer = 1000 * meter = km = kilometre
gram = [mass] = g
kilogram = 1000 * gram = kg
tonne = 1000 * kilogram
liter = 0.001 * meter ** 3 = _ = litre
percent = 0.01 = _ = pct
"""
# Words meaning "no units" (Vensim writes Dmnl); they read as 1.
_DIMENSIONLESS = {"dmnl", "dimensionless", "unitless", "fraction", "none", "1"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ALLOWED = re.compile(r"^[\w\s*/^().+-]*$")
_NEAR_MISS = 0.8  # a word this alike a known unit is taken for a misspelling of it
_TIME_NAMES = ("time", "dt", "start_time", "stop_time")


def _registry() -> Registry:
    ureg: Registry = pint.UnitRegistry(None)
    for line in _DEFINITIONS.splitlines():
        ureg.define(line)
    return ureg


def _known_names(ureg: Registry) -> set[str]:
    return {str(n) for n in ureg._units} - {"dimensionless"}


def _prepare(text: str) -> str:
    """Unit text as pint reads it: ``%`` is percent, Vensim's ``Dmnl`` is 1, ranges dropped."""
    text = re.sub(r"\s*\[[^\]]*\]\s*$", "", text.strip())  # Vensim: "Dmnl [0, 1]"
    text = text.replace("%", " percent ").replace("$", " USD ")
    return _WORD.sub(lambda m: "1" if m.group(0).lower() in _DIMENSIONLESS else m.group(0), text)


def _plural_of(word: str, other: str) -> bool:
    return word in (other + "s", other + "es") or other in (word + "s", word + "es")


@dataclass
class _Vocabulary:
    """The unit words of one model: pint's registry, with the model's own words added."""

    ureg: Registry = field(default_factory=_registry)
    misspelt: dict[str, str] = field(default_factory=dict)  # word -> the unit it misses
    aliases: dict[str, str] = field(default_factory=dict)  # "Months" -> "months"

    def add_words(self, texts: list[str]) -> None:
        counts = Counter(w for t in texts for w in _WORD.findall(_prepare(t)))
        known = _known_names(self.ureg)
        for w in counts:  # Stella and Vensim capitalise: "Months" is months
            if w != w.lower() and not self._parses(w) and self._parses(w.lower()):
                self.aliases[w] = w.lower()
        own = sorted(w for w in counts if w not in self.aliases and not self._parses(w))
        for word in own:
            peers = {w for w in own if counts[w] > counts[word] and not _plural_of(word, w)} | known
            near = closest(word, peers, cutoff=_NEAR_MISS)
            if near is not None and not _plural_of(word, near):
                self.misspelt[word] = near
            elif word.endswith("s") and word[:-1] in own and word[:-1] not in self.misspelt:
                continue  # "shells" is "shell" when both are written (pint reads plurals)
            else:
                self.ureg.define(f"{word} = [{word}]")

    def _parses(self, word: str) -> bool:
        try:
            self.ureg.parse_units(word)
        except (pint.UndefinedUnitError, pint.DefinitionSyntaxError, AttributeError):
            return False
        return True

    def parse(self, text: str) -> Unit:
        """The unit of ``text``; raises ValueError with the reason."""
        prepared = _prepare(text)
        if not _ALLOWED.match(prepared):
            raise ValueError(f"cannot read the units {text!r}: use names, *, / and ^")
        for word in _WORD.findall(prepared):
            if word in self.misspelt:
                near = self.misspelt[word]
                fixed = re.sub(rf"\b{re.escape(word)}\b", near, text)
                raise ValueError(f"unknown unit {word!r} in {text!r} (did you mean {fixed!r}?)")
        prepared = _WORD.sub(lambda m: self.aliases.get(m.group(0), m.group(0)), prepared)
        try:
            q = self.ureg.parse_expression(prepared.replace("^", "**") or "1")
        except Exception as exc:
            raise ValueError(f"cannot read the units {text!r}: {exc}") from None
        if not hasattr(q, "units") or not math.isclose(float(q.magnitude), 1.0):
            raise ValueError(f"cannot read the units {text!r}: a unit has no number in front")
        return q.units


def _is_one(u: Unit) -> bool:
    return bool(u.dimensionless) and not u._units


def show(u: Unit) -> str:
    """A unit as a modeller writes it: ``USD/shell``, ``1/month``, ``dimensionless``."""
    if _is_one(u):
        return "dimensionless"
    return format(u, "~C").replace("**", "^")


class _Checker:
    """Infers the units of each expression and collects the disagreements."""

    def __init__(self, model: Model, vocab: _Vocabulary) -> None:
        self.model = model
        self.vocab = vocab
        self.problems: list[UnitError] = []
        self.declared: dict[str, Unit | None] = {}
        self.time: Unit | None = None
        self.owner = ""

    # -- declared units ----------------------------------------------------------
    def declare(self, text: str | None, where: Loc) -> Unit | None:
        if text is None or not text.strip():
            return None
        try:
            return self.vocab.parse(text)
        except ValueError as exc:
            self.problem(str(exc), where)
            return None

    def problem(self, message: str, where: Loc) -> None:
        self.problems.append(UnitError(f"unit error: {message}", where))

    def same(self, a: Unit, b: Unit) -> bool:
        if a.dimensionality != b.dimensionality:
            return False
        factor = float(self.vocab.ureg.Quantity(1.0, a).to(b).magnitude)
        return math.isclose(factor, 1.0, rel_tol=1e-12)

    def agree(
        self, units: list[Unit | None], exprs: list[Expr], verb: str, where: Loc
    ) -> Unit | None:
        """The one units of several operands; a problem (and unknown) if they differ."""
        known = [(u, e) for u, e in zip(units, exprs, strict=True) if u is not None]
        for u, e in known[1:]:
            if not self.same(known[0][0], u):
                first = known[0][1]
                self.problem(
                    f"{self.owner!r} {verb} {show(known[0][0])} ({format_expr(first)}) "
                    f"and {show(u)} ({format_expr(e)})",
                    where,
                )
                return None
        return known[0][0] if known else None

    def expect(self, u: Unit | None, want: Unit | None, what: str, e: Expr) -> None:
        if u is not None and want is not None and not self.same(u, want):
            must = "be dimensionless" if _is_one(want) else f"be in {show(want)}"
            self.problem(
                f"{what} in {self.owner!r} must {must}, got {show(u)} ({format_expr(e)})",
                e.loc,
            )

    # -- inference ---------------------------------------------------------------
    def infer(self, e: Expr) -> Unit | None:
        """The units of ``e``, or None when they are unknown."""
        if isinstance(e, Name):
            return self.name(e)
        if isinstance(e, Unary):
            u = self.infer(e.operand)
            return self.vocab.ureg.dimensionless if e.op == "not" else u
        if isinstance(e, Binary):
            return self.binary(e)
        if isinstance(e, Call):
            return self.call(e)
        return None  # a number literal, or an array slice (arrays are expanded before)

    def name(self, e: Name) -> Unit | None:
        if e.id in _TIME_NAMES:
            return self.time
        if e.id == "pi":
            return self.vocab.ureg.dimensionless
        return self.declared.get(e.id)

    def binary(self, e: Binary) -> Unit | None:
        left, right = self.infer(e.left), self.infer(e.right)
        if e.op in ("+", "-"):
            verb = "adds" if e.op == "+" else "subtracts"
            return self.agree([left, right], [e.left, e.right], verb, e.loc)
        if e.op in ("<", "<=", ">", ">=", "==", "!="):
            self.agree([left, right], [e.left, e.right], "compares", e.loc)
            return self.vocab.ureg.dimensionless
        if e.op in ("and", "or"):
            return self.vocab.ureg.dimensionless
        return self.product(e, left, right)

    def product(self, e: Binary, left: Unit | None, right: Unit | None) -> Unit | None:
        if left is None or right is None:
            return None
        if e.op == "*":
            return left * right
        if e.op == "/":
            return left / right
        return self.power(e, left, right)

    def power(self, e: Binary, base: Unit, exponent: Unit) -> Unit | None:
        one = self.vocab.ureg.dimensionless
        self.expect(exponent, one, "an exponent", e.right)
        if isinstance(e.right, Num):
            return base**e.right.value
        return one if self.same(base, one) else None

    def call(self, e: Call) -> Unit | None:
        args = [self.infer(a) for a in e.args]
        lookup = self.model.lookups.get(e.func)
        if lookup is not None:
            want = self.declare(lookup.input_units, lookup.units_loc or lookup.loc)
            self.expect(args[0], want, f"the input of lookup {e.func!r}", e.args[0])
            return self.declare(lookup.units, lookup.units_loc or lookup.loc)
        rule = _RULES.get(e.func)
        return rule(self, e, args) if rule is not None else None


def _dimensionless(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:
    one = c.vocab.ureg.dimensionless
    c.expect(args[0], one, f"the argument of {e.func}()", e.args[0])
    return one


def _same(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:
    return c.agree(args, list(e.args), f"passes unlike units to {e.func}():", e.loc)


def _first(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:  # noqa: ARG001
    return args[0]


def _if(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:
    return c.agree(args[1:], list(e.args[1:]), "passes unlike units to if():", e.loc)


def _sqrt(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:  # noqa: ARG001
    return args[0] ** 0.5 if args[0] is not None else None


def _time_args(*positions: int) -> Callable[[_Checker, Call, list[Unit | None]], None]:
    def check(c: _Checker, e: Call, args: list[Unit | None]) -> None:
        for i in positions:
            if i < len(args):
                c.expect(args[i], c.time, f"argument {i + 1} of {e.func}() (a time)", e.args[i])

    return check


def _stateful(times: tuple[int, ...], init: int | None, counts: tuple[int, ...] = ()) -> _Rule:
    """A delay or smooth: its times in time units, its initial value in the input's units."""
    time_check = _time_args(*times)

    def rule(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:
        time_check(c, e, args)
        for i in counts:
            c.expect(args[i], c.vocab.ureg.dimensionless, f"the order of {e.func}()", e.args[i])
        if init is not None and init < len(args):
            pair = [e.args[0], e.args[init]]
            c.agree([args[0], args[init]], pair, f"passes unlike units to {e.func}():", e.loc)
        return args[0]

    return rule


def _step(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:
    _time_args(1)(c, e, args)
    return args[0]


def _ramp(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:
    _time_args(1, 2)(c, e, args)
    return args[0] * c.time if args[0] is not None and c.time is not None else None


def _pulse(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:
    _time_args(1, 2)(c, e, args)  # moves `magnitude` within one step: magnitude per time
    return args[0] / c.time if args[0] is not None and c.time is not None else None


def _trend(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:
    _time_args(1)(c, e, args)  # a fractional rate of change: per time unit
    return 1 / c.time if c.time is not None else None


def _random(c: _Checker, e: Call, args: list[Unit | None]) -> Unit | None:
    n = 1 if e.func in ("exprnd", "poisson") else 2
    return c.agree(args[:n], list(e.args[:n]), f"passes unlike units to {e.func}():", e.loc)


_Rule = Callable[[_Checker, Call, list[Unit | None]], Unit | None]
_RULES: dict[str, _Rule] = {
    **dict.fromkeys(
        ("exp", "ln", "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan"), _dimensionless
    ),
    **dict.fromkeys(("min", "max", "mod", "clip"), _same),
    **dict.fromkeys(("abs", "floor", "ceil", "int", "init"), _first),
    "if": _if,
    "sqrt": _sqrt,
    "step": _step,
    "ramp": _ramp,
    "pulse": _pulse,
    "trend": _trend,
    "previous": _stateful((), 1),
    **dict.fromkeys(("smooth", "smooth3", "delay1", "delay3", "delay_fixed"), _stateful((1,), 2)),
    **dict.fromkeys(("smoothn", "delayn"), _stateful((1,), 3, (2,))),
    "forcst": _stateful((1, 2), 3),
    **dict.fromkeys(("normal", "uniform", "lognormal", "exprnd", "poisson"), _random),
}


def _unit_texts(model: Model) -> Iterator[str]:
    if model.time.units:
        yield model.time.units
    for table in (model.constants, model.stocks, model.flows, model.auxiliaries):
        for item in table.values():
            if item.units:
                yield item.units
    for lk in model.lookups.values():
        yield from (t for t in (lk.units, lk.input_units) if t)


def unit_errors(model: Model) -> list[UnitError]:
    """Every disagreement of units in ``model``, in the order of the file.

    Args:
        model: A built and checked model.

    Returns:
        One :class:`~quidpro.errors.UnitError` per problem (``unit error: ...`` at
        the line of the expression or of the ``units`` field); empty when the
        declared units agree wherever they can be checked.
    """
    vocab = _Vocabulary()
    vocab.add_words(list(_unit_texts(model)))
    c = _Checker(model, vocab)
    t = model.time
    c.time = c.declare(t.units, t.units_loc or t.loc)
    items: list[Constant | Stock | Variable] = [
        *model.constants.values(),
        *model.stocks.values(),
        *model.variables.values(),
    ]
    for item in items:
        c.declared[item.name] = c.declare(item.units, item.units_loc or item.loc)
    for owner, expr in _equations(model):
        c.owner = owner
        got = c.infer(expr)
        want = c.declared.get(owner)
        if got is not None and want is not None and not c.same(got, want):
            item_loc = model.loc_of(owner)
            what = "initial value" if owner in model.stocks else "equation"
            c.problem(
                f"{owner!r} is declared {show(want)}, but its {what} "
                f"{format_expr(expr)} is in {show(got)}",
                item_loc,
            )
    _check_flows(c, model)
    return sorted(c.problems, key=lambda p: (p.loc.line, p.loc.col))


def _equations(model: Model) -> Iterator[tuple[str, Expr]]:
    for k in model.constants.values():
        if k.expr is not None:
            yield k.name, k.expr
    for s in model.stocks.values():
        yield s.name, s.initial
    for v in model.variables.values():
        yield v.name, v.equation


def _check_flows(c: _Checker, model: Model) -> None:
    """A flow's units must be its stock's per time unit."""
    if c.time is None:
        return
    for s in model.stocks.values():
        stock_units = c.declared.get(s.name)
        if stock_units is None:
            continue
        want = stock_units / c.time
        for role, flows in (("into", s.inflows), ("out of", s.outflows)):
            for f in flows:
                got = c.declared.get(f)
                if got is not None and not c.same(got, want):
                    v = model.flows[f]
                    c.problem(
                        f"flow {f!r} is in {show(got)}, but it flows {role} stock {s.name!r} "
                        f"({show(stock_units)}), which needs {show(want)}",
                        v.units_loc or v.loc,
                    )
