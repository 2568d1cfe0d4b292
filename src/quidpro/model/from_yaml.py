"""Build a :class:`~quidpro.model.spec.Model` from a located document (format v1).

Shape errors (a missing key, a list where a mapping belongs, an unknown key) are
found here; meaning errors (unknown names, loops) in :mod:`quidpro.model.check`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, TypeVar

from quidpro.errors import DuplicateNameError, Loc, ModelError, ParseError
from quidpro.lang.ast import Expr, Num
from quidpro.lang.expr import parse_expression
from quidpro.lang.located import Node, describe
from quidpro.lang.suggest import did_you_mean
from quidpro.model.arrays import expand_document, split_arrays
from quidpro.model.limits import finite
from quidpro.model.loops_spec import parse_loops
from quidpro.model.observations import build_calibration, build_observations
from quidpro.model.spec import (
    DISTRIBUTIONS,
    METHODS,
    Claim,
    Constant,
    Distribution,
    Lookup,
    Model,
    Scenario,
    Source,
    Stock,
    TimeSpec,
    Variable,
)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECTIONS = ("constants", "stocks", "flows", "auxiliaries", "lookups")
MAX_LABEL = 60  # characters of a variable's ``label``

TOP_KEYS = (
    "quidpro",
    "name",
    "title",
    "doc",
    "time",
    "dimensions",
    *SECTIONS,
    "scenarios",
    "sources",
    "claims",
    "loops",
    "observations",
    "calibration",
)
T = TypeVar("T")


_COMMA_HINT = (
    ' (a comma inside {...} ends the value: quote an expression with commas, like "step(1, 5)")'
)


def _check_keys(node: Node, allowed: tuple[str, ...], what: str) -> None:
    for key, child in node.items():
        if key not in allowed:
            comma = "" if IDENTIFIER.match(key) else _COMMA_HINT
            raise ParseError(
                f"unknown key {key!r} in {what}{did_you_mean(key, allowed)}; "
                f"allowed: {', '.join(allowed)}{comma}",
                child.key_loc or child.loc,
            )


# YAML 1.1 (PyYAML) reads 1e-3 and 1e3 as text: a float needs a dot and a signed exponent.
_NUMBER_TEXT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _number(node: Node, what: str) -> float:
    v = node.value
    if isinstance(v, str) and _NUMBER_TEXT.match(v.strip()):
        return float(v)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ParseError(f"{what} must be a number, got {describe(node)}", node.loc)
    return finite(float(v), what, node.loc)


def _units_loc(node: Node, key: str = "units") -> Loc | None:
    """Where the ``units`` (or ``input_units``) value of a mapping is written."""
    child = node.get(key)
    return child.loc if child is not None else None


def _text(node: Node | None) -> str | None:
    if node is None or node.value is None:
        return None
    return str(node.value)


def _expr(node: Node, what: str) -> Expr:
    v = node.value
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise ParseError(
            f"{what} must be a number or an expression, got {describe(node)}", node.loc
        )
    if isinstance(v, float):  # YAML's .nan and .inf: no expression can mean them
        finite(v, what, node.loc)
    if node.source is not None:  # written over several lines: parse it as written
        return parse_expression(*node.source)
    return parse_expression(v, node.loc)


def _name(key: str, node: Node) -> str:
    if not IDENTIFIER.match(key):
        raise ParseError(
            f"{key!r} is not a valid name: use letters, digits and underscores, "
            "not starting with a digit",
            node.key_loc or node.loc,
        )
    return key


def _time(node: Node | None, file: str) -> TimeSpec:
    if node is None:
        raise ParseError("the model has no 'time' section (start, stop, dt)", Loc(file, 1, 1))
    _check_keys(
        node,
        ("start", "stop", "dt", "units", "method", "origin", "save_every", "hold_inputs"),
        "time",
    )
    get = node.get
    start, stop, step = _span(node)
    method = _method(m) if (m := get("method")) is not None else "euler"
    origin = _date(o) if (o := get("origin")) is not None else None
    save_every = None
    if (s := get("save_every")) is not None:
        save_every = _number(s, "time.save_every")
        if save_every < step:
            raise ModelError(
                f"time.save_every ({save_every:g}) must be at least dt ({step:g})", s.loc
            )
    hold = False
    if (h := get("hold_inputs")) is not None:
        if not isinstance(h.value, bool):
            raise ParseError(f"time.hold_inputs must be true or false, got {describe(h)}", h.loc)
        hold = h.value
    return TimeSpec(
        start,
        stop,
        step,
        _text(get("units")),
        method,
        origin,
        save_every,
        hold,
        node.loc,
        _units_loc(node),
    )


def _span(node: Node) -> tuple[float, float, float]:
    """time.start, time.stop and time.dt, checked against each other."""
    start_n, stop_n, dt_n = node.get("start"), node.get("stop"), node.get("dt")
    start = _number(start_n, "time.start") if start_n is not None else 0.0
    if stop_n is None:
        raise ParseError("time needs 'stop'", node.loc)
    stop = _number(stop_n, "time.stop")
    step = _number(dt_n, "time.dt") if dt_n is not None else 1.0
    if stop <= start:
        raise ModelError(f"time.stop ({stop:g}) must be after time.start ({start:g})", stop_n.loc)
    if step <= 0:
        assert dt_n is not None
        raise ModelError(f"time.dt must be positive, got {step:g}", dt_n.loc)
    if step > stop - start:
        assert dt_n is not None
        raise ModelError(
            f"time.dt ({step:g}) is longer than the whole run ({stop - start:g})", dt_n.loc
        )
    return start, stop, step


def _method(m: Node) -> str:
    method = str(m.value).lower()
    if method not in METHODS:
        raise ParseError(
            f"unknown method {m.value!r}{did_you_mean(method, METHODS)}; "
            f"use one of {', '.join(METHODS)}",
            m.loc,
        )
    return method


def _date(node: Node) -> dt.date:
    v = node.value
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ParseError(
            f"time.origin must be a date like 2022-02-24, got {v!r}", node.loc
        ) from None


def _distribution(node: Node, name: str) -> Distribution:
    kind_n = node.get("kind")
    if kind_n is None:
        raise ParseError(
            f"distribution of {name!r} needs 'kind' ({', '.join(DISTRIBUTIONS)})", node.loc
        )
    kind = str(kind_n.value)
    if kind not in DISTRIBUTIONS:
        raise ParseError(
            f"unknown distribution {kind!r}{did_you_mean(kind, tuple(DISTRIBUTIONS))}", kind_n.loc
        )
    needed = DISTRIBUTIONS[kind]
    _check_keys(node, ("kind", *needed), f"a {kind} distribution")
    params = {}
    for p in needed:
        pn = node.get(p)
        if pn is None:
            raise ParseError(f"{kind} distribution of {name!r} needs {', '.join(needed)}", node.loc)
        params[p] = _number(pn, f"{kind}.{p}")
    bad = _distribution_problem(kind, params)
    if bad:
        raise ModelError(f"{kind} distribution of {name!r}: {bad}", node.loc)
    return Distribution(kind, params, node.loc)


def _distribution_problem(kind: str, q: dict[str, float]) -> str | None:
    if kind == "uniform" and q["low"] >= q["high"]:
        return "low must be below high"
    if kind == "normal" and q["sd"] <= 0:
        return "sd must be positive"
    if kind == "triangular" and not (q["low"] <= q["mode"] <= q["high"] and q["low"] < q["high"]):
        return "needs low <= mode <= high with low < high"
    if kind == "lognormal" and q["sigma"] <= 0:
        return "sigma must be positive"
    return None


def _constant(name: str, node: Node) -> Constant:
    loc = node.key_loc or node.loc
    if not node.is_map:
        expr = _expr(node, f"constant {name!r}")
        value = expr.value if isinstance(expr, Num) else float("nan")
        return Constant(name, value, None if isinstance(expr, Num) else expr, loc=loc)
    _check_keys(
        node,
        (
            "value",
            "units",
            "label",
            "doc",
            "range",
            "distribution",
            "source",
            "assumption",
            "lever",
        ),
        f"constant {name!r}",
    )
    lever = node.get("lever")
    if lever is not None and not isinstance(lever.value, bool):
        raise ParseError(
            f"lever of {name!r} must be true or false, got {describe(lever)}", lever.loc
        )
    vn = node.get("value")
    if vn is None:
        raise ParseError(f"constant {name!r} needs a 'value'", node.loc)
    expr = _expr(vn, f"value of {name!r}")
    rng = None
    if (rn := node.get("range")) is not None:
        items = rn.seq()
        if len(items) != 2:
            raise ParseError(f"range of {name!r} must be [low, high]", rn.loc)
        lo, hi = (_number(i, "range bound") for i in items)
        if lo > hi:
            raise ModelError(f"range of {name!r}: low {lo:g} is above high {hi:g}", rn.loc)
        rng = (lo, hi)
    dist = _distribution(dn, name) if (dn := node.get("distribution")) is not None else None
    return Constant(
        name,
        expr.value if isinstance(expr, Num) else float("nan"),
        None if isinstance(expr, Num) else expr,
        _text(node.get("units")),
        _text(node.get("doc")),
        rng,
        dist,
        _text(node.get("source")),
        _text(node.get("assumption")),
        loc,
        units_loc=_units_loc(node),
        lever=bool(lever.value) if lever is not None else False,
        label=_label(node, name),
    )


def _names_list(node: Node | None) -> tuple[str, ...]:
    """A name or a list of names (``inflows: births`` or ``inflows: [births]``)."""
    if node is None or node.value is None:
        return ()
    if isinstance(node.value, str):
        return (node.value,)
    return tuple(str(i.value) for i in node.seq())


def _stock(name: str, node: Node) -> Stock:
    loc = node.key_loc or node.loc
    if not node.is_map:
        raise ParseError(
            f"stock {name!r} must be a mapping with 'initial', 'inflows', "
            f"'outflows', got {describe(node)}",
            node.loc,
        )
    _check_keys(
        node,
        ("initial", "inflows", "outflows", "non_negative", "units", "label", "doc"),
        f"stock {name!r}",
    )
    init = node.get("initial")
    if init is None:
        raise ParseError(f"stock {name!r} needs an 'initial' value", node.loc)
    nn = node.get("non_negative")
    if nn is not None and not isinstance(nn.value, bool):
        raise ParseError(f"non_negative of {name!r} must be true or false", nn.loc)
    return Stock(
        name,
        _expr(init, f"initial value of {name!r}"),
        _names_list(node.get("inflows")),
        _names_list(node.get("outflows")),
        bool(nn.value) if nn is not None else False,
        _text(node.get("units")),
        _text(node.get("doc")),
        loc,
        _units_loc(node),
        label=_label(node, name),
    )


def _label(node: Node, name: str) -> str | None:
    """A ``label``: short plain text on one line (titles of plots and of the page)."""
    ln = node.get("label")
    text = _text(ln)
    if ln is None or text is None:
        return None
    if not text.strip() or "\n" in text or len(text) > MAX_LABEL:
        raise ParseError(
            f"label of {name!r} must be one line of at most {MAX_LABEL} characters", ln.loc
        )
    return text.strip()


def _variable(kind: str) -> Callable[[str, Node], Variable]:
    label = "flow" if kind == "flow" else "auxiliary"

    def build(name: str, node: Node) -> Variable:
        loc = node.key_loc or node.loc
        if not node.is_map:
            return Variable(name, kind, _expr(node, f"{label} {name!r}"), loc=loc)
        _check_keys(
            node,
            ("equation", "units", "label", "doc", "claims", "assumption", "non_negative"),
            f"{label} {name!r}",
        )
        eq = node.get("equation")
        if eq is None:
            raise ParseError(f"{label} {name!r} needs an 'equation'", node.loc)
        nn = node.get("non_negative")
        return Variable(
            name,
            kind,
            _expr(eq, f"equation of {name!r}"),
            _text(node.get("units")),
            _text(node.get("doc")),
            _names_list(node.get("claims")),
            _text(node.get("assumption")),
            bool(nn.value) if nn is not None else False,
            loc,
            _units_loc(node),
            label=_label(node, name),
        )

    return build


def _lookup(name: str, node: Node) -> Lookup:
    loc = node.key_loc or node.loc
    if not node.is_map:
        raise ParseError(f"lookup {name!r} must be a mapping with 'points'", node.loc)
    _check_keys(node, ("points", "extrapolate", "units", "input_units", "doc"), f"lookup {name!r}")
    pn = node.get("points")
    if pn is None:
        raise ParseError(f"lookup {name!r} needs 'points': [[x, y], ...]", node.loc)
    xs: list[float] = []
    ys: list[float] = []
    for p in pn.seq():
        pair = p.seq()
        if len(pair) != 2:
            raise ParseError(f"a point of lookup {name!r} must be [x, y]", p.loc)
        x, y = (_number(i, "a lookup coordinate") for i in pair)
        if xs and x <= xs[-1]:
            raise ModelError(
                f"lookup {name!r}: x values must increase ({x:g} after {xs[-1]:g})", p.loc
            )
        xs.append(x)
        ys.append(y)
    if not xs:
        raise ModelError(f"lookup {name!r} has no points", pn.loc)
    extrap = "clamp"
    if (en := node.get("extrapolate")) is not None:
        extrap = str(en.value)
        if extrap not in ("clamp", "linear"):
            raise ParseError(
                f"extrapolate of {name!r} must be clamp or linear, got {extrap!r}", en.loc
            )
    return Lookup(
        name,
        tuple(xs),
        tuple(ys),
        extrap,
        False,
        _text(node.get("units")),
        _text(node.get("doc")),
        loc,
        _units_loc(node),
        _text(node.get("input_units")),
    )


def _scenario(name: str, node: Node) -> Scenario:
    _check_keys(node, ("doc", "set"), f"scenario {name!r}")
    values: dict[str, float] = {}
    if (sn := node.get("set")) is not None:
        for k, v in sn.items():
            values[k] = _number(v, f"value of {k!r} in scenario {name!r}")
    return Scenario(name, values, _text(node.get("doc")), node.key_loc or node.loc)


def _claim(cid: str, node: Node) -> Claim:
    _check_keys(node, ("text", "paragraph", "polarity", "kind", "links"), f"claim {cid!r}")
    para = node.get("paragraph")
    paragraphs: tuple[int, ...] = ()
    if para is not None:
        raw = para.value if isinstance(para.value, list) else [para]
        paragraphs = tuple(int(_number(p, "paragraph")) for p in raw)
    links = []
    if (ln := node.get("links")) is not None:
        for item in ln.seq():
            parts = str(item.value).split("->")
            if len(parts) != 2 or not all(IDENTIFIER.match(p.strip()) for p in parts):
                raise ParseError(
                    f"a link of claim {cid!r} must read 'cause -> effect', got {item.value!r}",
                    item.loc,
                )
            links.append((parts[0].strip(), parts[1].strip()))
    text = _text(node.get("text"))
    if not text:
        raise ParseError(f"claim {cid!r} needs a 'text' (a paraphrase)", node.loc)
    polarity = _text(node.get("polarity"))
    return Claim(
        cid,
        text,
        paragraphs,
        polarity,
        _text(node.get("kind")),
        tuple(links),
        node.key_loc or node.loc,
    )


def _section(
    root: Node, key: str, build: Callable[[str, Node], T], seen: dict[str, Loc]
) -> dict[str, T]:
    node = root.get(key)
    out: dict[str, T] = {}
    if node is None or node.value is None:
        return out
    for name, child in node.items():
        _name(name, child)
        here = child.key_loc or child.loc
        if name in seen:
            first = seen[name]
            raise DuplicateNameError(
                f"{name!r} is defined twice (first at line {first.line})", here
            )
        seen[name] = here
        out[name] = build(name, child)
    return out


def _sources(node: Node | None) -> dict[str, Source]:
    if node is None or node.value is None:
        return {}
    return {
        k: Source(k, v.plain() if v.is_map else {"title": v.value}, v.key_loc or v.loc)
        for k, v in node.items()
    }


def build_model(root: Node, file: str = "<string>") -> Model:
    """Turn a located document into a ``Model`` (shape checks only)."""
    if not root.is_map:
        # Not a model at all (say, /etc/shadow): name what it is, never quote its text.
        v = root.value
        kind = describe(root) if isinstance(v, list) or v is None else f"a {type(v).__name__}"
        bare = Loc(root.loc.file, root.loc.line, root.loc.col)
        raise ParseError(f"a model file must be a mapping, got {kind}", bare)
    if root.get("quidpro") is None and any(k not in TOP_KEYS for k, _ in root.items()):
        raise ParseError(  # not a model at all: never quote its keys (a password file?)
            "not a quidpro model: no 'quidpro: 1' line and keys a model does not have",
            Loc(file, 1, 1),
        )
    _check_keys(root, TOP_KEYS, "the model file")
    version = root.get("quidpro")
    if version is None:
        raise ParseError(
            "missing 'quidpro: 1' (the format version) at the top of the file",
            Loc(file, 1, 1, root.loc.source_line),
        )
    if isinstance(version.value, bool) or version.value != 1:  # True == 1 in Python
        raise ParseError(
            f"unsupported format version {version.value!r}; this quidpro reads version 1",
            version.loc,
        )
    name_n = root.get("name")
    if name_n is None:
        raise ParseError("the model needs a 'name'", Loc(file, 1, 1))
    name = _name(str(name_n.value), name_n)
    root, arrayed = split_arrays(root)  # arrays: docs/format-arrays.md
    seen: dict[str, Loc] = {}
    sections: dict[str, Any] = {
        "constants": _section(root, "constants", _constant, seen),
        "stocks": _section(root, "stocks", _stock, seen),
        "flows": _section(root, "flows", _variable("flow"), seen),
        "auxiliaries": _section(root, "auxiliaries", _variable("aux"), seen),
        "lookups": _section(root, "lookups", _lookup, seen),
    }
    if arrayed is not None:
        builders: dict[str, Callable[[str, Node], Any]] = {"constants": _constant}
        builders.update(stocks=_stock, flows=_variable("flow"), auxiliaries=_variable("aux"))
        sections = expand_document(arrayed, sections, builders, seen)
        sections.update(dimensions=arrayed.space.dimensions, arrays=arrayed.space.shapes)
    return Model(
        name=name,
        time=_time(root.get("time"), file),
        scenarios=_section(root, "scenarios", _scenario, {}),
        sources=_sources(root.get("sources")),
        claims=_section(root, "claims", _claim, {}),
        loops=parse_loops(root.get("loops")),
        observations=build_observations(root.get("observations")),
        calibration=build_calibration(root.get("calibration")),
        title=_text(root.get("title")),
        doc=_text(root.get("doc")),
        file=file,
        **sections,
    )
