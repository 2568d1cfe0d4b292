"""Meaning checks on a built model: names, calls, flows, constants, provenance.

Each problem raises a :class:`~quidpro.errors.ModelError` at the line of the
offending name. Algebraic loops are found when the equations are ordered
(:mod:`quidpro.solve.lower`), which ``quidpro check`` also runs.
"""

from __future__ import annotations

import re

from quidpro.errors import CycleError, Loc, ModelError, UndefinedNameError, UnitError
from quidpro.lang.ast import Call, Expr, Index, Name, walk
from quidpro.lang.builtins import BUILTINS, RESERVED
from quidpro.lang.suggest import did_you_mean
from quidpro.model.graph import Digraph
from quidpro.model.observations import check_observations
from quidpro.model.spec import Model

TIME_NAMES = {"time", "dt", "start_time", "stop_time", "pi", "inf"}


def _kind_of(model: Model, name: str) -> str:
    for kind, table in (
        ("constant", model.constants),
        ("stock", model.stocks),
        ("flow", model.flows),
        ("auxiliary", model.auxiliaries),
        ("lookup", model.lookups),
    ):
        if name in table:
            return kind
    return "unknown"


def expressions(model: Model) -> list[tuple[str, str, Expr]]:
    """Every expression of the model as (owner, role, expression)."""
    out: list[tuple[str, str, Expr]] = []
    for c in model.constants.values():
        if c.expr is not None:
            out.append((c.name, "value", c.expr))
    for s in model.stocks.values():
        out.append((s.name, "initial", s.initial))
    for v in model.variables.values():
        out.append((v.name, "equation", v.equation))
    return out


def _check_expression(model: Model, owner: str, expr: Expr, known: set[str]) -> None:
    for node in walk(expr):
        if isinstance(node, Name | Index):
            if node.id in model.lookups:
                raise ModelError(
                    f"lookup {node.id!r} must be called with an argument, like {node.id}(x)",
                    node.loc,
                )
            if node.id not in known and node.id not in TIME_NAMES:
                raise UndefinedNameError(
                    f"undefined name {node.id!r} in {owner!r}"
                    f"{did_you_mean(node.id, known | TIME_NAMES)}",
                    node.loc,
                )
            if isinstance(node, Index):  # arrays are expanded before: x[...] is left only
                raise ModelError(  # on a name that is not an array (docs/format-arrays.md)
                    f"{node.id!r} is not an array, it takes no subscript", node.loc
                )
        elif isinstance(node, Call):
            n = len(node.args)
            if node.func in model.lookups:
                if n != 1:
                    raise ModelError(f"lookup {node.func!r} takes 1 argument, got {n}", node.loc)
                continue
            b = BUILTINS.get(node.func)
            if b is None and node.func in known:
                kind = _kind_of(model, node.func)
                raise ModelError(
                    f"{node.func!r} is a{'n' if kind[0] in 'aeiou' else ''} {kind}, "
                    "not a function or a lookup: it cannot be called",
                    node.loc,
                )
            if b is None:
                options = set(BUILTINS) | set(model.lookups)
                raise UndefinedNameError(
                    f"unknown function {node.func!r}{did_you_mean(node.func, options)}", node.loc
                )
            if n > b.max_args > 99:  # a variadic function (min, max): say its upper bound
                raise ModelError(
                    f"{b.name}() takes at most {b.max_args} arguments, got {n}: {b.signature}",
                    node.loc,
                )
            if not b.min_args <= n <= b.max_args:
                raise ModelError(
                    f"{b.name}() takes {b.arity_text()}, got {n}: {b.signature}", node.loc
                )


def _constant_only(
    model: Model, owner: str, what: str, expr: Expr, stocks_too: bool = False
) -> None:
    """Raise unless ``expr`` uses only constants (and, with ``stocks_too``, stocks)."""
    allowed = "use only constants and other stocks" if stocks_too else "be constant"
    for node in walk(expr):
        if (
            isinstance(node, Name)
            and node.id not in model.constants
            and node.id not in ("pi", "inf", "dt", "start_time", "stop_time")
            and not (stocks_too and node.id in model.stocks)
        ):
            raise ModelError(
                f"{what} of {owner!r} must {allowed}, but it uses "
                + (f"the {_kind_of(model, node.id)} {node.id!r}" if node.id != "time" else "time"),
                node.loc,
            )
        if isinstance(node, Call):
            b = BUILTINS.get(node.func)
            if b is not None and b.kind != "pure":
                raise ModelError(
                    f"{what} of {owner!r} must {allowed}, but it calls {node.func}()", node.loc
                )


def _check_flows(model: Model) -> None:
    for s in model.stocks.values():
        for role, names in (("inflow", s.inflows), ("outflow", s.outflows)):
            for f in names:
                if f not in model.flows:
                    kind = _kind_of(model, f)
                    why = (
                        f"it is a{'n' if kind[0] in 'aeiou' else ''} {kind}"
                        if kind != "unknown"
                        else f"no flow has that name{did_you_mean(f, set(model.flows))}"
                    )
                    raise UndefinedNameError(
                        f"{role} {f!r} of stock {s.name!r} is not a flow: {why}", s.loc
                    )


def _check_constant_cycles(model: Model) -> None:
    g = Digraph()
    for c in model.constants.values():
        g.add_node(c.name)
        if c.expr is not None:
            for node in walk(c.expr):
                if isinstance(node, Name) and node.id in model.constants:
                    g.add_edge(node.id, c.name)
    if g.ordered(key=str) is not None:
        return
    names = [a for a, _ in g.find_cycle()]
    raise CycleError(
        "constants defined in a circle: " + " -> ".join([*names, names[0]]),
        model.constants[names[0]].loc,
    )


def _check_provenance(model: Model) -> None:
    for v in model.variables.values():
        for cid in v.claims:
            if cid not in model.claims:
                raise UndefinedNameError(
                    f"{v.name!r} names claim {cid!r}, which the claims "
                    f"section does not define{did_you_mean(cid, set(model.claims))}",
                    v.loc,
                )
    if model.sources:
        for c in model.constants.values():
            if c.source and not set(re.findall(r"\w+", c.source)) & set(model.sources):
                ref = c.source.split()[0].rstrip(",;")
                raise UndefinedNameError(
                    f"constant {c.name!r}: its source {c.source!r} cites no entry of the "
                    f"sources section{did_you_mean(ref, set(model.sources))}",
                    c.loc,
                )
    for claim in model.claims.values():
        for cause, effect in claim.links:
            for end in (cause, effect):
                if _kind_of(model, end) == "unknown":
                    raise UndefinedNameError(
                        f"claim {claim.id} links {cause} -> {effect}, but {end!r} is not in "
                        f"the model{did_you_mean(end, known_names(model))}",
                        claim.loc,
                    )
            if not _is_link(model, cause, effect):
                raise ModelError(
                    f"claim {claim.id} links {cause} -> {effect}, but {effect!r} "
                    f"does not depend on {cause!r} directly",
                    claim.loc,
                )


def _is_link(model: Model, cause: str, effect: str) -> bool:
    if effect in model.stocks:
        s = model.stocks[effect]
        return cause in s.inflows or cause in s.outflows
    if effect in model.variables:
        return any(
            (isinstance(n, Name | Index) and n.id == cause)
            or (isinstance(n, Call) and n.func == cause)
            for n in walk(model.variables[effect].equation)
        )
    if effect in model.constants and model.constants[effect].expr is not None:
        expr = model.constants[effect].expr
        assert expr is not None
        return any(isinstance(n, Name) and n.id == cause for n in walk(expr))
    return False


def known_names(model: Model) -> set[str]:
    """Every constant, stock, flow and auxiliary of the model."""
    return {*model.constants, *model.stocks, *model.flows, *model.auxiliaries}


def unit_errors(model: Model) -> list[UnitError]:
    """The unit disagreements of a checked model (see :mod:`quidpro.model.units`).

    Kept apart from :func:`check_model`: ``quidpro check`` fails on them, while a run
    only warns, since units do not change the numbers.
    """
    from quidpro.model.units import unit_errors as find  # pint loads only when asked

    return find(model)


#: Names the compiler generates for hidden state (``_a__smooth1``, ``_f__raw``): a
#: leading underscore and a double underscore. No model name may take that form, so a
#: user's variable can never replace the hidden state of another.
GENERATED = re.compile(r"_\w*?__")


def check_model(model: Model) -> None:
    """Raise the first meaning error of ``model``; return quietly if there is none."""
    known = known_names(model)
    for table in (model.constants, model.stocks, model.flows, model.auxiliaries, model.lookups):
        for name, item in table.items():
            if name in RESERVED or name in BUILTINS:
                what = "a built-in function" if name in BUILTINS else "reserved"
                loc: Loc = item.loc
                raise ModelError(f"{name!r} is {what}; choose another name", loc)
            if GENERATED.match(name):
                raise ModelError(
                    f"{name!r} is in the namespace quidpro keeps for generated names "
                    "(a leading '_' with a '__' after it); choose another name",
                    item.loc,
                )
    for owner, _, expr in expressions(model):
        _check_expression(model, owner, expr, known)
    _check_flows(model)
    _check_constant_cycles(model)
    for c in model.constants.values():
        if c.expr is not None:
            _constant_only(model, c.name, "the value", c.expr)
    if not model.dynamic_initials:  # a stock may start from others: solve/lower.py orders them
        for s in model.stocks.values():
            _constant_only(model, s.name, "the initial value", s.initial, stocks_too=True)
    for sc in model.scenarios.values():
        for name in sc.set:
            if name not in model.constants:
                raise UndefinedNameError(
                    f"scenario {sc.name!r} sets {name!r}, which is not a constant"
                    f"{did_you_mean(name, set(model.constants))}",
                    sc.loc,
                )
    _check_provenance(model)
    check_observations(
        model.observations.values(),
        {*model.stocks, *model.flows, *model.auxiliaries},
        model.constants,
    )
