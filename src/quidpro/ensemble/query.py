"""Queries and probes: an expression of the model's variables read at one time.

A *probe* ``"EXPR at TIME"`` gives one number per ensemble member; a *query* is a
probe whose expression is a comparison (``containers_shipped > 20000 at 2025-06-01``)
and reports the share of members for which it holds, with a Wilson 95% interval.
TIME is model time or, where the model has ``time.origin``, an ISO date. Variables
are interpolated linearly between the two saved steps around TIME.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from quidpro.errors import ConfigError, ParseError
from quidpro.lang.ast import Binary, Call, Expr, Unary, names, walk
from quidpro.lang.builtins import BUILTINS
from quidpro.lang.expr import parse_expression
from quidpro.model.calendar import to_time
from quidpro.model.spec import Model
from quidpro.solve.evaluate import evaluate

_AT = re.compile(r"^(?P<expr>.+?)\s+at\s+(?P<time>\S+)\s*$", re.DOTALL)
_BOOLEAN_OPS = {"<", "<=", ">", ">=", "==", "!=", "and", "or"}
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Probe:
    """An expression read at one model time; ``text`` is what the user wrote."""

    text: str
    expr: Expr
    time: float
    variables: tuple[str, ...]


def resolve_time(model: Model, text: str) -> float:
    """Model time from a number or (for models with an origin) an ISO date."""
    t = model.time
    try:
        value = float(text)
    except ValueError:
        if t.origin is None:
            raise ConfigError(
                f"{text!r} is not a number, and model {model.name!r} has no time.origin "
                "for calendar dates"
            ) from None
        value = to_time(text, t.origin, t.units, t.start)
    if not t.start - 1e-9 <= value <= t.stop + 1e-9:
        raise ConfigError(
            f"time {text} (= {value:g}) is outside the run, {t.start:g} to {t.stop:g}"
        )
    return value


def parse_probe(model: Model, text: str, at: str | None = None, comparison: bool = False) -> Probe:
    """Read ``"EXPR at TIME"`` (or EXPR with ``at`` given separately) against ``model``."""
    if at is None:
        m = _AT.match(text.strip())
        if m is None:
            raise ConfigError(f"a query reads 'EXPRESSION at TIME', got {text!r}")
        body, at = m["expr"], m["time"]
    else:
        body = text
    try:
        expr = parse_expression(body)
    except ParseError as exc:
        raise ConfigError(f"in {text!r}: {exc.message}") from None
    if comparison and not _is_boolean(expr):
        raise ConfigError(
            f"a query must be a comparison such as 'x > 10 at 2025-01-01', got {text!r}"
        )
    _check_calls(model, text, expr)
    visible = {*model.stocks, *model.flows, *model.auxiliaries}
    used = names(expr)
    unknown = sorted(n for n in used if n not in visible and n not in ("time", "dt", "pi"))
    if unknown:
        raise ConfigError(
            f"in {text!r}: {', '.join(unknown)} is not a stock, flow or auxiliary of {model.name}"
        )
    variables = tuple(sorted(n for n in used if n in visible))
    return Probe(text, expr, resolve_time(model, at), variables)


def _check_calls(model: Model, text: str, expr: Expr) -> None:
    """Refuse calls a probe cannot evaluate: unknown, with memory or random, wrong arity.

    A probe reads saved values at one time, so a function that needs the run's history
    (``smooth``) or draws random numbers (``normal``) has no meaning there.
    """
    for node in walk(expr):
        if not isinstance(node, Call):
            continue
        n = len(node.args)
        if node.func in model.lookups:
            if n != 1:
                raise ConfigError(f"in {text!r}: lookup {node.func} takes 1 argument, got {n}")
            continue
        fn = BUILTINS.get(node.func)
        if fn is None:
            raise ConfigError(f"in {text!r}: {node.func}() is not a function or lookup")
        if fn.kind in ("stateful", "random"):
            what = "remembers the past" if fn.kind == "stateful" else "draws random numbers"
            raise ConfigError(
                f"in {text!r}: {node.func}() {what}, so a query cannot compute it from saved "
                "values; define it as an auxiliary of the model and query that"
            )
        if not fn.min_args <= n <= fn.max_args:
            raise ConfigError(f"in {text!r}: {node.func}() takes {fn.arity_text()}, got {n}")


def _is_boolean(expr: Expr) -> bool:
    if isinstance(expr, Binary):
        return expr.op in _BOOLEAN_OPS
    return isinstance(expr, Unary) and expr.op == "not"


def interpolate(times: np.ndarray, series: np.ndarray, t: float) -> np.ndarray:
    """Linear interpolation in time of ``series`` (shape (time, run)) → shape (run,)."""
    i = int(np.searchsorted(times, t, side="right")) - 1
    i = min(max(i, 0), len(times) - 1)
    if i == len(times) - 1 or abs(times[i] - t) < 1e-12:
        return np.asarray(series[i], dtype=float)
    w = (t - times[i]) / (times[i + 1] - times[i])
    return np.asarray((1.0 - w) * series[i] + w * series[i + 1], dtype=float)


def read_probe(
    probe: Probe,
    times: np.ndarray,
    series: Mapping[str, np.ndarray],
    model: Model,
    n_runs: int,
) -> np.ndarray:
    """The probe's value for every member, shape ``(n_runs,)``; ``series[name]`` is (time, run)."""
    env = {n: interpolate(times, series[n], probe.time) for n in probe.variables}
    value = evaluate(probe.expr, env, model.lookups, probe.time, model.time.dt)
    return np.broadcast_to(np.asarray(value, dtype=float), (n_runs,)).copy()


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


def probabilities(
    queries: Sequence[Probe], outcomes: np.ndarray, ok: np.ndarray
) -> list[dict[str, object]]:
    """Query results over the members that ran to the end: ``outcomes`` is (query, run)."""
    hits = [int(np.count_nonzero(row[ok])) for row in outcomes]
    return counted(queries, hits, int(ok.sum()))


def counted(queries: Sequence[Probe], hits: Sequence[int], n: int) -> list[dict[str, object]]:
    """Query results from their hit counts among ``n`` members (counted batch by batch)."""
    out: list[dict[str, object]] = []
    for q, k in zip(queries, hits, strict=True):
        lo, hi = wilson(int(k), n)
        out.append(
            {"query": q.text, "probability": int(k) / n if n else float("nan"), "ci": [lo, hi]}
        )
    return out
