"""Evaluate one expression over arrays, with the kernel's own semantics.

Used for constant expressions, queries (``containers_shipped > 20000``) and
anything else outside the time loop. The expression is compiled through the
same :class:`~quidpro.solve.codegen.Emitter` as the kernel.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import CodeType
from typing import Any

import numpy as np

from quidpro.lang.ast import Expr, names
from quidpro.model.spec import Lookup
from quidpro.solve import runtime
from quidpro.solve.codegen import Emitter


def evaluate(
    expr: Expr,
    env: Mapping[str, Any],
    lookups: Mapping[str, Lookup] | None = None,
    t: float = 0.0,
    dt: float = 1.0,
) -> Any:
    """The value of ``expr`` given values for its names (floats or arrays)."""
    used = sorted(n for n in names(expr) if n in env)
    ident = {n: f"v{i}" for i, n in enumerate(used)}
    ident.update({"time": "t", "dt": "dt", "pi": "np.pi", "inf": "np.inf"})
    lk = {name: f"_lk{i}" for i, name in enumerate(lookups or {})}
    code, _ = Emitter(ident, lk).emit(expr)
    ns: dict[str, Any] = {
        "np": np,
        "_step": runtime.sd_step,
        "_ramp": runtime.sd_ramp,
        "_pulse": runtime.sd_pulse,
        "t": t,
        "tk": t,
        "dt": dt,
    }
    for name, item in (lookups or {}).items():
        ns[lk[name]] = runtime.LookupFn(item.xs, item.ys, item.extrapolate, item.discrete)
    for n in used:
        ns[ident[n]] = env[n]
    with np.errstate(all="ignore"):
        return eval(_compiled(code), ns)  # generated source only


@functools.lru_cache(maxsize=4096)
def _compiled(code: str) -> CodeType:
    """Python's compile of an expression, once (constant expressions run every run)."""
    return compile(code, "<quidpro expression>", "eval")
