"""The functions an expression may call, with their arity and kind.

``pure`` functions map values to values; ``time`` functions read the clock;
``stateful`` ones remember the past and are lowered to hidden stocks or buffers
by :mod:`quidpro.solve.lower`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Builtin:
    """One function an expression may call: its name, arity, kind and signature."""

    name: str
    min_args: int
    max_args: int
    kind: str  # "pure" | "time" | "stateful"
    signature: str

    def arity_text(self) -> str:
        """The arity in words, for error messages ("2 to 3 arguments")."""
        if self.min_args == self.max_args:
            return f"{self.min_args} argument{'s' if self.min_args != 1 else ''}"
        if self.max_args > 99:
            return f"at least {self.min_args} argument{'s' if self.min_args != 1 else ''}"
        return f"{self.min_args} to {self.max_args} arguments"


def _b(sig: str, lo: int, hi: int, kind: str = "pure") -> Builtin:
    return Builtin(sig.split("(", maxsplit=1)[0], lo, hi, kind, sig)


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in [
        _b("if(cond, a, b)", 3, 3),
        _b("min(a, b, ...)", 1, 999),
        _b("max(a, b, ...)", 1, 999),
        _b("abs(x)", 1, 1),
        _b("exp(x)", 1, 1),
        _b("ln(x)", 1, 1),
        _b("log10(x)", 1, 1),
        _b("sqrt(x)", 1, 1),
        _b("sin(x)", 1, 1),
        _b("cos(x)", 1, 1),
        _b("tan(x)", 1, 1),
        _b("arcsin(x)", 1, 1),
        _b("arccos(x)", 1, 1),
        _b("arctan(x)", 1, 1),
        _b("sinh(x)", 1, 1),
        _b("cosh(x)", 1, 1),
        _b("tanh(x)", 1, 1),
        _b("arcsinh(x)", 1, 1),
        _b("arccosh(x)", 1, 1),
        _b("arctanh(x)", 1, 1),
        _b("floor(x)", 1, 1),
        _b("ceil(x)", 1, 1),
        _b("int(x)", 1, 1),
        _b("trunc(x)", 1, 1),
        _b("mod(a, b)", 2, 2),
        _b("clip(x, lo, hi)", 3, 3),
        _b("safediv(a, b[, otherwise])", 2, 3),
        _b("step(height, t0)", 2, 2, "time"),
        _b("ramp(slope, t0[, t1])", 2, 3, "time"),
        _b("pulse(magnitude, t0[, interval])", 2, 3, "time"),
        _b("smooth(x, tau[, init])", 2, 3, "stateful"),
        _b("smooth3(x, tau[, init])", 2, 3, "stateful"),
        _b("smoothn(x, tau, n[, init])", 3, 4, "stateful"),
        _b("delay1(x, tau[, init])", 2, 3, "stateful"),
        _b("delay3(x, tau[, init])", 2, 3, "stateful"),
        _b("delayn(x, tau, n[, init])", 3, 4, "stateful"),
        _b("delay_fixed(x, tau, init)", 3, 3, "stateful"),
        _b("trend(x, tau[, init])", 2, 3, "stateful"),
        _b("forcst(x, tau, horizon[, init])", 3, 4, "stateful"),
        _b("init(x)", 1, 1, "stateful"),
        _b("previous(x[, init])", 1, 2, "stateful"),
        # Random draws: a new value each step, independent per ensemble member, the
        # same for the same seed (see quidpro.solve.noise).
        _b("normal(mean, sd[, seed])", 2, 3, "random"),
        _b("uniform(low, high[, seed])", 2, 3, "random"),
        _b("lognormal(mean, sd[, seed])", 2, 3, "random"),
        _b("exprnd(mean[, seed])", 1, 2, "random"),
        _b("poisson(mean[, seed])", 1, 2, "random"),
    ]
}

RESERVED = {"time", "dt", "start_time", "stop_time", "pi", "inf"}
