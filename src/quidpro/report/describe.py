"""A model described for a reader: ``quidpro describe MODEL``.

:func:`describe` is pure: it takes a checked model (a :class:`~quidpro.model.spec.Model`
or anything with a ``spec`` attribute holding one, such as the object
:func:`quidpro.load` returns) and returns Markdown text: the time axis, stocks,
flows, auxiliaries, constants with units, sources and ranges, lookups,
scenarios, sources and the claims table with the model links behind each
claim. It does no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from quidpro.lang.ast import Expr
from quidpro.lang.format import format_expr
from quidpro.model.spec import Claim, Constant, Model, Variable

__all__ = ["describe", "expression_text"]


EXACT_INTEGERS = 1e15  # below it a float that is a whole number prints as an integer


def _num(v: float) -> str:
    if not math.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < EXACT_INTEGERS:
        return str(int(v))
    return f"{v:.6g}"


def expression_text(expr: Expr) -> str:
    """The expression written back in quidpro's expression language (parses back equal)."""
    return format_expr(expr)


def _cell(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return text.replace("|", "\\|")


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _distribution(c: Constant) -> str:
    d = c.distribution
    if d is None:
        return ""
    params = ", ".join(f"{k}={_num(float(v))}" for k, v in d.params.items())
    return f"{d.kind}({params})"


def _range(c: Constant) -> str:
    return "" if c.range is None else f"[{_num(c.range[0])}, {_num(c.range[1])}]"


def _provenance(c: Constant) -> str:
    parts = []
    if c.source:
        parts.append(f"source: {c.source}")
    if c.assumption:
        parts.append(f"assumption: {c.assumption}")
    return "; ".join(parts)


def _variable_rows(variables: Mapping[str, Variable]) -> list[list[object]]:
    rows: list[list[object]] = []
    for v in variables.values():
        note = v.doc or ""
        if v.assumption:
            note = f"{note} (assumption: {v.assumption})".strip()
        rows.append(
            [f"`{v.name}`", v.units, f"`{expression_text(v.equation)}`", ", ".join(v.claims), note]
        )
    return rows


def _claim_users(model: Model) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {cid: [] for cid in model.claims}
    for v in model.variables.values():
        for cid in v.claims:
            users.setdefault(cid, []).append(v.name)
    return users


def _claim_row(claim: Claim, users: Sequence[str]) -> list[object]:
    links = "; ".join(f"{a} → {b}" for a, b in claim.links)
    return [
        claim.id,
        ", ".join(str(p) for p in claim.paragraph),
        claim.polarity,
        claim.kind,
        claim.text,
        links,
        ", ".join(users),
    ]


def _source_rows(model: Model) -> list[list[object]]:
    rows: list[list[object]] = []
    for s in model.sources.values():
        f: Mapping[str, Any] = s.fields
        rows.append(
            [
                s.id,
                f.get("kind"),
                f.get("title"),
                f.get("publisher"),
                f.get("date"),
                f.get("url") or f.get("section"),
            ]
        )
    return rows


def _unlinked(model: Model) -> list[str]:
    """Flows and auxiliaries that name no claim and state no assumption."""
    return [v.name for v in model.variables.values() if not v.claims and not v.assumption]


def describe(model: Any) -> str:
    """The model as Markdown for a reader (stocks, flows, constants, claims...).

    Args:
        model: A checked :class:`~quidpro.model.spec.Model`, or an object whose ``spec``
            attribute holds one (such as what :func:`quidpro.load` returns).

    Returns:
        Markdown text, one section per part of the model that it has.
    """
    spec: Model = getattr(model, "spec", model)
    out: list[str] = []
    for section in SECTIONS:
        lines = section(spec)
        if lines:  # sections the model has, a blank line between them
            out += [*([""] if out else []), *lines]
    return "\n".join(out) + "\n"


def _header(spec: Model) -> list[str]:
    t = spec.time
    out: list[str] = [f"# {spec.name}" + (f": {spec.title}" if spec.title else ""), ""]
    if spec.doc:
        out += [" ".join(spec.doc.split()), ""]
    when = f"from {t.origin.isoformat()}" if t.origin else ""
    return [
        *out,
        f"Time: {_num(t.start)} to {_num(t.stop)} {t.units or ''} {when}, "
        f"dt {_num(t.dt)}, method {t.method}.".replace("  ", " "),
        "",
        f"{len(spec.stocks)} stocks, {len(spec.flows)} flows, "
        f"{len(spec.auxiliaries)} auxiliaries, {len(spec.constants)} constants, "
        f"{len(spec.lookups)} lookups, {len(spec.scenarios)} scenarios, "
        f"{len(spec.sources)} sources, {len(spec.claims)} claims.",
    ]


def _stocks(spec: Model) -> list[str]:
    rows = [
        [
            f"`{s.name}`",
            s.units,
            f"`{expression_text(s.initial)}`",
            ", ".join(s.inflows),
            ", ".join(s.outflows),
            (s.doc or "") + (" (never negative)" if s.non_negative else ""),
        ]
        for s in spec.stocks.values()
    ]
    headers = ["stock", "units", "initial", "inflows", "outflows", "doc"]
    return ["## Stocks", "", *_table(headers, rows)]


def _flows(spec: Model) -> list[str]:
    headers = ["flow", "units", "equation", "claims", "doc"]
    return ["## Flows", "", *_table(headers, _variable_rows(spec.flows))]


def _auxiliaries(spec: Model) -> list[str]:
    headers = ["auxiliary", "units", "equation", "claims", "doc"]
    return ["## Auxiliaries", "", *_table(headers, _variable_rows(spec.auxiliaries))]


def _constants(spec: Model) -> list[str]:
    rows = [
        [
            f"`{c.name}`",
            _num(c.value) if c.expr is None else f"`{expression_text(c.expr)}`",
            c.units,
            _range(c),
            _distribution(c),
            _provenance(c),
            c.doc,
        ]
        for c in spec.constants.values()
    ]
    headers = ["constant", "value", "units", "range", "distribution", "provenance", "doc"]
    return ["## Constants", "", *_table(headers, rows)]


def _lookups(spec: Model) -> list[str]:
    if not spec.lookups:
        return []
    rows = [
        [
            f"`{lk.name}`",
            " ".join(f"({_num(x)}, {_num(y)})" for x, y in zip(lk.xs, lk.ys, strict=True)),
            lk.extrapolate,
            lk.doc,
        ]
        for lk in spec.lookups.values()
    ]
    return ["## Lookups", "", *_table(["lookup", "points", "extrapolate", "doc"], rows)]


def _scenarios(spec: Model) -> list[str]:
    if not spec.scenarios:
        return []
    rows = [
        [sc.name, ", ".join(f"{k} = {_num(v)}" for k, v in sc.set.items()), sc.doc]
        for sc in spec.scenarios.values()
    ]
    return ["## Scenarios", "", *_table(["scenario", "sets", "doc"], rows)]


def _claims(spec: Model) -> list[str]:
    if not spec.claims:
        return []
    users = _claim_users(spec)
    out = [
        "## Claims",
        "",
        "Each claim of the source analysis, the model links that implement it "
        "(cause → effect) and the variables that cite it.",
        "",
    ]
    out += _table(
        ["claim", "¶", "polarity", "kind", "paraphrase", "model links", "variables"],
        [_claim_row(c, users.get(c.id, [])) for c in spec.claims.values()],
    )
    missing = _unlinked(spec)
    if missing:
        names = ", ".join(f"`{n}`" for n in missing)
        out += ["", f"Flows and auxiliaries that cite no claim and state no assumption: {names}."]
    return out


def _sources(spec: Model) -> list[str]:
    if not spec.sources:
        return []
    headers = ["id", "kind", "title", "publisher", "date", "where"]
    return ["## Sources", "", *_table(headers, _source_rows(spec))]


SECTIONS: tuple[Callable[[Model], list[str]], ...] = (
    _header,
    _stocks,
    _flows,
    _auxiliaries,
    _constants,
    _lookups,
    _scenarios,
    _claims,
    _sources,
)
"""The parts of a description, in order; each is empty when the model has no such part."""
