"""The parts of an XMILE file read on their own: sim_specs, behavior, graphical functions.

Used by :mod:`quidpro.model.from_xmile`; each turns located XML
(:class:`~quidpro.lang.xml_tree.XNode`) into quidpro's spec records or plain values.
"""

from __future__ import annotations

import itertools
import math

from quidpro.errors import Loc, ModelError, ParseError, UnsupportedError
from quidpro.lang.ast import Expr, Num, Unary
from quidpro.lang.xmile_expr import parse_xmile_expression
from quidpro.lang.xml_tree import XNode
from quidpro.model.spec import Lookup, TimeSpec


def number(text: str | None, what: str, loc: Loc) -> float | None:
    """The number in ``text`` (a literal or a signed one); None when the text is empty.

    Raises:
        ParseError: The text is not a number (``what`` names it in the message).
    """
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        expr = parse_xmile_expression(text, loc)
        value = plain_number(expr)
        if value is None:
            raise ParseError(f"{what} must be a number, got {text.strip()!r}", loc) from None
        return value


def plain_number(e: Expr) -> float | None:
    """The value of a number literal, signed or not; None for any other expression."""
    if isinstance(e, Num):
        return e.value
    if isinstance(e, Unary) and e.op in "+-" and isinstance(e.operand, Num):
        return -e.operand.value if e.op == "-" else e.operand.value
    return None


def time_spec(root: XNode) -> TimeSpec:
    """The clock from ``<sim_specs>``: start, stop, dt (or its reciprocal), method, units.

    Raises:
        ModelError: A missing or bad value, or an integration method quidpro lacks.
    """
    spec = root.find("sim_specs")
    if spec is None:
        raise ParseError("the XMILE file has no <sim_specs>", root.loc)
    start = number(spec.child_text("start"), "start", spec.loc) or 0.0
    stop_el = spec.find("stop")
    stop = number(stop_el.text if stop_el is not None else None, "stop", spec.loc)
    if stop is None:
        raise ParseError("<sim_specs> needs <stop>", spec.loc)
    dt_el = spec.find("dt")
    dt = 1.0
    if dt_el is not None:
        value = number(dt_el.text, "dt", dt_el.where)
        reciprocal = dt_el.attrib.get("reciprocal", "").lower() == "true"
        if value is None or not 0 < value < math.inf:  # NaN fails both
            what = '<dt reciprocal="true"> (steps per time unit)' if reciprocal else "<dt>"
            shown = "nothing" if value is None else f"{value:g}"
            raise ModelError(f"{what} must be a finite positive number, got {shown}", dt_el.where)
        dt = 1.0 / value if reciprocal else value
    if stop <= start:
        raise ModelError(f"stop ({stop:g}) must be after start ({start:g})", spec.loc)
    method = spec.attrib.get("method", "euler").lower()
    if method not in ("euler", "rk4"):
        raise UnsupportedError(
            f"integration method {spec.attrib['method']!r} is not supported; quidpro "
            "runs Euler and RK4",
            spec.loc,
        )
    save = number(spec.child_text("save_step"), "save_step", spec.loc)
    save_every = save if save is not None and save > dt * (1 + 1e-9) else None
    return TimeSpec(
        start,
        stop,
        min(dt, stop - start),
        spec.attrib.get("time_units"),
        method,
        save_every=save_every,
        hold_inputs=spec.attrib.get("quidpro:hold_inputs", "").lower() == "true",
        loc=spec.loc,
    )


def flag(el: XNode | None) -> bool | None:
    """A true/false element such as ``<non_negative/>``: None when absent."""
    if el is None:
        return None
    return el.text.strip().lower() not in ("false", "0")


def behavior(root: XNode) -> tuple[bool, bool]:
    """Whether stocks and flows are non-negative by default (the ``<behavior>`` section)."""
    b = root.find("behavior")
    if b is None:
        return False, False
    both = flag(b.find("non_negative")) or False
    stock = flow = both
    if (s := b.find("stock")) is not None and (v := flag(s.find("non_negative"))) is not None:
        stock = v
    if (f := b.find("flow")) is not None and (v := flag(f.find("non_negative"))) is not None:
        flow = v
    return stock, flow


def graphical_function(el: XNode, name: str, units: str | None, doc: str | None) -> Lookup:
    """The lookup named ``name`` from a ``<gf>`` element (points or an x scale).

    Raises:
        ModelError: Missing or unequal points, x values that decrease, an unknown type.
    """

    def points(tag: str) -> list[float] | None:
        p = el.find(tag)
        if p is None:
            return None
        sep = p.attrib.get("sep", ",")
        try:
            return [float(x) for x in p.text.replace("\n", sep).split(sep) if x.strip()]
        except ValueError:
            raise ParseError(
                f"<{tag}> of {name!r} must be numbers separated by {sep!r}", p.where
            ) from None

    ys = points("ypts")
    if not ys:
        raise ParseError(f"graphical function {name!r} needs <ypts>", el.loc)
    xs = points("xpts")
    if xs is None:
        xscale = el.find("xscale")
        if xscale is None:
            raise ParseError(f"graphical function {name!r} needs <xpts> or <xscale>", el.loc)
        lo = number(xscale.attrib.get("min"), "xscale min", xscale.loc) or 0.0
        hi = number(xscale.attrib.get("max"), "xscale max", xscale.loc) or 0.0
        n = len(ys)
        xs = [lo + (hi - lo) * i / (n - 1) for i in range(n)] if n > 1 else [lo]
    if len(xs) != len(ys):
        raise ParseError(
            f"graphical function {name!r} has {len(xs)} x values but {len(ys)} y values", el.loc
        )
    for a, b in itertools.pairwise(xs):
        if b < a:
            raise ModelError(f"graphical function {name!r}: x values must increase", el.loc)
    kind = el.attrib.get("type", "continuous").lower()
    if kind not in ("continuous", "extrapolate", "discrete"):
        raise UnsupportedError(f"graphical function type {kind!r} is not supported", el.loc)
    return Lookup(
        name,
        tuple(xs),
        tuple(ys),
        "linear" if kind == "extrapolate" else "clamp",
        kind == "discrete",
        units,
        doc,
        el.loc,
    )
