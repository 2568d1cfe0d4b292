"""Time functions spelled so every XMILE tool computes them as quidpro does.

XMILE 1.0 leaves open what ``STEP`` and ``PULSE`` do when their time is off the
``dt`` grid, and the peers choose differently from quidpro: PySD and simlin switch
``STEP(h, t0)`` on from ``TIME + DT/2 > t0`` (half a step early), and PySD's
``PULSE`` is on only while ``TIME`` lies in ``[t0, t0 + DT/2)``, so a pulse off the
grid never fires. The writer therefore spells both out with ``IF``, ``TIME`` and
arithmetic, which every tool evaluates alike:

- ``step(h, t0)`` -> ``IF TIME >= t0 THEN h ELSE 0``, exactly
  :func:`quidpro.solve.runtime.sd_step` at any time, so under every method;
- ``pulse(m, t0[, interval])`` -> the comparisons of
  :func:`quidpro.solve.runtime.sd_pulse`, in the same floating-point operations.
  quidpro's pulse reads the start of the step, not the Runge-Kutta stage time,
  so this form is exact only where ``TIME`` is the step's start at every stage
  (Euler, or inputs held over a step); elsewhere ``PULSE`` is kept.

``ramp`` needs nothing: it is continuous in time and every tool computes
``slope * (MIN(TIME, t1) - t0)`` from ``t0`` on.
"""

from __future__ import annotations

from quidpro.lang.ast import Binary, Call, Expr, Name, Num, Unary
from quidpro.model.spec import TimeSpec

_PULSE_EPS = 1e-6  # the tolerance of sd_pulse, as a fraction of dt


def _and(*terms: Expr) -> Expr:
    out = terms[0]
    for t in terms[1:]:
        out = Binary("and", out, t)
    return out


def _step(height: Expr, t0: Expr) -> Expr:
    return Call("if", (Binary(">=", Name("time"), t0), height, Num(0.0)))


def _pulse(magnitude: Expr, t0: Expr, interval: Expr | None) -> Expr:
    """``sd_pulse`` written out: ``magnitude / dt`` during the step that starts at t0.

    Every condition is a plain comparison inside an ``IF`` that yields a number
    (PySD cannot read an ``IF`` whose value is a condition).
    """
    dt = Name("dt")
    eps = Binary("*", dt, Num(_PULSE_EPS))
    since = Binary("-", Name("time"), t0)
    after = Binary(">", since, Unary("-", eps))
    late = Binary("-", dt, eps)
    rate = Binary("/", magnitude, dt)
    once = Call("if", (_and(after, Binary("<", since, late)), rate, Num(0.0)))
    if interval is None or (isinstance(interval, Num) and interval.value <= 0):
        return once
    phase = Binary("-", Call("mod", (Binary("+", since, eps), interval)), eps)
    on = _and(after, Binary(">", phase, Unary("-", eps)), Binary("<", phase, late))
    every = Call("if", (on, rate, Num(0.0)))
    if isinstance(interval, Num):
        return every
    return Call("if", (Binary(">", interval, Num(0.0)), every, once))


def _rewrite(e: Expr, pulse: bool) -> Expr:
    if isinstance(e, Binary):
        return Binary(e.op, _rewrite(e.left, pulse), _rewrite(e.right, pulse), e.loc)
    if isinstance(e, Unary):
        return Unary(e.op, _rewrite(e.operand, pulse), e.loc)
    if not isinstance(e, Call):
        return e
    args = tuple(_rewrite(a, pulse) for a in e.args)
    if e.func == "step" and len(args) == 2:
        return _step(*args)
    if e.func == "pulse" and pulse and len(args) in (2, 3):
        return _pulse(args[0], args[1], args[2] if len(args) == 3 else None)
    return Call(e.func, args, e.loc)


def peer_forms(e: Expr, time: TimeSpec) -> Expr:
    """``e`` with ``step`` (and, where exact, ``pulse``) written as ``IF`` forms.

    Args:
        e: An equation of the model.
        time: The model's clock: the pulse form is exact only when every stage of
            a step reads the step's start time (Euler, or ``hold_inputs``).

    Returns:
        The same computation in forms every XMILE tool evaluates as quidpro does.
    """
    return _rewrite(e, pulse=time.method == "euler" or time.hold_inputs)
