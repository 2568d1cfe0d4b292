"""The ``observations:`` and ``calibration:`` sections of a model file (format v1).

``observations:`` says how the model sees each indicator of an evidence file::

    observations:
      containers_shipped_nk_to_ru:          # an indicator name of the evidence files
        expression: containers_shipped      # any expression of the model's variables
        error: {kind: lognormal, sd: 0.2}   # or {kind: normal, sd: 150}
        period: point                       # point (default) | year

``calibration: {posterior: FILE}`` names the posterior the model's ensembles draw
from (a path relative to the model file). Both are read from the located document,
so every error points at ``file:line:col``; the likelihood they define lives in
:mod:`quidpro.analysis.likelihood`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from quidpro.errors import NOWHERE, Loc, ModelError, ParseError, UndefinedNameError
from quidpro.lang.ast import Expr, Name, walk
from quidpro.lang.expr import parse_expression
from quidpro.lang.located import Node, describe

ERROR_KINDS = ("lognormal", "normal")
PERIODS = ("point", "year")
OBSERVATION_KEYS = ("expression", "error", "period", "doc")
# Names an observation may use besides the model's stocks, flows and auxiliaries.
_TIME_NAMES = {"time", "dt", "pi"}


@dataclass(frozen=True)
class Observation:
    """How the model sees one indicator: ``expression`` with an error model."""

    indicator: str
    expression: Expr
    text: str  # the expression as written
    error: str  # "lognormal" | "normal"
    sd: float  # on the log scale for lognormal, in the indicator's units for normal
    period: str = "point"  # "point" | "year"
    doc: str | None = None
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Calibration:
    """``calibration: {posterior: FILE}``; ``posterior`` is resolved against the model file."""

    posterior: str | None = None
    loc: Loc = field(default=NOWHERE, compare=False)

    def posterior_path(self, model_file: str) -> Path | None:
        """The posterior file as a path (relative paths are relative to the model file)."""
        if self.posterior is None:
            return None
        p = Path(self.posterior)
        return p if p.is_absolute() else Path(model_file).resolve().parent / p


def _positive(node: Node, what: str) -> float:
    v = node.value
    if isinstance(v, str):
        with contextlib.suppress(ValueError):
            v = float(v)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ParseError(f"{what} must be a number, got {describe(node)}", node.loc)
    if not v > 0:
        raise ModelError(f"{what} must be positive, got {v:g}", node.loc)
    return float(v)


def _observation(indicator: str, node: Node) -> Observation:
    where = f"observation {indicator!r}"
    if not node.is_map:
        raise ParseError(
            f"{where} must be a mapping with 'expression' and 'error', got {describe(node)}",
            node.loc,
        )
    for key, child in node.items():
        if key not in OBSERVATION_KEYS:
            raise ParseError(
                f"unknown key {key!r} in {where}; allowed: {', '.join(OBSERVATION_KEYS)}",
                child.key_loc or child.loc,
            )
    en = node.get("expression")
    if en is None or en.value is None:
        raise ParseError(f"{where} needs an 'expression' of the model's variables", node.loc)
    if isinstance(en.value, bool) or not isinstance(en.value, str | int | float):
        raise ParseError(f"the expression of {where} must be text, got {describe(en)}", en.loc)
    text = str(en.value)
    expr = parse_expression(*en.source) if en.source is not None else parse_expression(text, en.loc)
    err = node.get("error")
    if err is None or not err.is_map:
        raise ParseError(
            f"{where} needs 'error: {{kind: lognormal | normal, sd: X}}'",
            (err.loc if err is not None else node.loc),
        )
    for key, child in err.items():
        if key not in ("kind", "sd"):
            raise ParseError(
                f"unknown key {key!r} in the error of {where}; allowed: kind, sd",
                child.key_loc or child.loc,
            )
    kind_n, sd_n = err.get("kind"), err.get("sd")
    if kind_n is None or str(kind_n.value) not in ERROR_KINDS:
        raise ParseError(
            f"the error kind of {where} must be one of {', '.join(ERROR_KINDS)}"
            + (f", got {kind_n.value!r}" if kind_n is not None else ""),
            kind_n.loc if kind_n is not None else err.loc,
        )
    if sd_n is None:
        raise ParseError(f"the error of {where} needs 'sd'", err.loc)
    sd = _positive(sd_n, f"the error sd of {where}")
    period = "point"
    if (pn := node.get("period")) is not None:
        period = str(pn.value)
        if period not in PERIODS:
            raise ParseError(
                f"the period of {where} must be point or year, got {pn.value!r}", pn.loc
            )
    doc = node.get("doc")
    return Observation(
        indicator,
        expr,
        text,
        str(kind_n.value),
        sd,
        period,
        None if doc is None or doc.value is None else str(doc.value),
        node.key_loc or node.loc,
    )


def build_observations(node: Node | None) -> dict[str, Observation]:
    """The ``observations:`` section (shape checks; names are checked with the model)."""
    if node is None or node.value is None:
        return {}
    return {indicator: _observation(indicator, child) for indicator, child in node.items()}


def build_calibration(node: Node | None) -> Calibration | None:
    """The ``calibration:`` section: ``{posterior: FILE}``."""
    if node is None or node.value is None:
        return None
    if not node.is_map:
        raise ParseError(
            f"calibration must be a mapping like {{posterior: FILE}}, got {describe(node)}",
            node.loc,
        )
    for key, child in node.items():
        if key != "posterior":
            raise ParseError(
                f"unknown key {key!r} in calibration; allowed: posterior",
                child.key_loc or child.loc,
            )
    pn = node.get("posterior")
    if pn is None or not isinstance(pn.value, str) or not pn.value.strip():
        where = pn.loc if pn is not None else node.loc
        raise ParseError("calibration.posterior must be a file name", where)
    return Calibration(pn.value.strip(), pn.loc)


def check_observations(
    observations: Iterable[Observation], variables: Collection[str], constants: Collection[str]
) -> None:
    """Check that each observation reads only the model's variables and time.

    Args:
        observations: The model's observations.
        variables: Its stocks, flows and auxiliaries.
        constants: Its constants (named in the message when one is used).

    Raises:
        UndefinedNameError: At the name that is not a variable.
    """
    for obs in observations:
        for node in walk(obs.expression):
            if isinstance(node, Name) and node.id not in _TIME_NAMES and node.id not in variables:
                what = (
                    "a constant (observations read variables; add an auxiliary)"
                    if node.id in constants
                    else "not a stock, flow or auxiliary of the model"
                )
                raise UndefinedNameError(
                    f"observation {obs.indicator!r}: {node.id!r} is {what}",
                    node.loc if node.loc.line else obs.loc,
                )
