"""The model specification: immutable records built from a model file and checked.

A ``Model`` is plain data. It knows nothing of files or arrays; the compiler in
:mod:`quidpro.solve` turns it into a step function.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from quidpro.errors import NOWHERE, Loc, ModelError
from quidpro.lang.ast import Expr
from quidpro.model.limits import check_steps, finite
from quidpro.model.observations import Calibration, Observation

METHODS = ("euler", "rk4")
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "triangular": ("low", "mode", "high"),
    "lognormal": ("mu", "sigma"),
}


@dataclass(frozen=True)
class TimeSpec:
    """The clock of a run: start, stop, step, units, method and calendar origin."""

    start: float = 0.0
    stop: float = 100.0
    dt: float = 1.0
    units: str | None = None
    method: str = "euler"
    origin: datetime.date | None = None
    save_every: float | None = None
    # Hold time and the time functions (step, ramp, pulse) at the start of each
    # Runge-Kutta step, as Vensim does; set for XMILE files from Vensim.
    hold_inputs: bool = False
    loc: Loc = field(default=NOWHERE, compare=False)
    units_loc: Loc | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        """Refuse a clock no run can follow: non-finite, backwards or too many steps.

        Every reader (YAML, XMILE, Vensim) and every override (``dataclasses.replace``)
        passes through here, so no run starts from a clock that would fail later.
        """
        for what, value in (("start", self.start), ("stop", self.stop), ("dt", self.dt)):
            finite(value, f"time.{what}", self.loc)
        if self.save_every is not None:
            finite(self.save_every, "time.save_every", self.loc)
        if self.dt <= 0:
            raise ModelError(f"time.dt must be positive, got {self.dt:g}", self.loc)
        if self.stop <= self.start:
            raise ModelError(
                f"time.stop ({self.stop:g}) must be after time.start ({self.start:g})", self.loc
            )
        check_steps(self.start, self.stop, self.dt, self.loc)
        if self.origin is not None:
            from quidpro.model.calendar import check_span  # pandas only when dated

            check_span(self.origin, self.units, self.start, self.stop, self.loc)

    @property
    def n_steps(self) -> int:
        """Steps from start while time <= stop (with a little slack for rounding)."""
        return int((self.stop - self.start) / self.dt + 1e-9)

    @property
    def save_stride(self) -> int:
        """Steps between saved steps (``save_every / dt``, at least 1).

        A ``save_every`` longer than the run saves its start only, as a stride of one
        step more than the run (so that no time computed from it overflows).
        """
        if self.save_every is None:
            return 1
        steps = self.save_every / self.dt  # finite save_every and dt may still give inf
        return max(1, round(min(steps, self.n_steps + 1)))


@dataclass(frozen=True)
class Distribution:
    """The uncertainty of a constant: a kind (see ``DISTRIBUTIONS``) and its parameters."""

    kind: str
    params: Mapping[str, float]
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Constant:
    """A named value fixed for a run (settable by scenarios and ensembles)."""

    name: str
    value: float
    expr: Expr | None = None  # set when the value is an expression of other constants
    units: str | None = None
    doc: str | None = None
    range: tuple[float, float] | None = None
    distribution: Distribution | None = None
    source: str | None = None
    assumption: str | None = None
    loc: Loc = field(default=NOWHERE, compare=False)
    # A scenario lever (a date or a switch): never sampled by ensembles, sensitivity
    # analysis or calibration, whatever its range or distribution.
    lever: bool = False
    units_loc: Loc | None = field(default=None, compare=False)  # where ``units`` is written
    label: str | None = None  # a short plain-language label for plots and the page


@dataclass(frozen=True)
class Stock:
    """A level that integrates its inflows minus its outflows from an initial value."""

    name: str
    initial: Expr
    inflows: tuple[str, ...] = ()
    outflows: tuple[str, ...] = ()
    non_negative: bool = False
    units: str | None = None
    doc: str | None = None
    loc: Loc = field(default=NOWHERE, compare=False)
    units_loc: Loc | None = field(default=None, compare=False)
    label: str | None = None  # a short plain-language label for plots and the page


@dataclass(frozen=True)
class Variable:
    """A flow or an auxiliary: a name defined by an equation each step."""

    name: str
    kind: str  # "flow" | "aux"
    equation: Expr
    units: str | None = None
    doc: str | None = None
    claims: tuple[str, ...] = ()
    assumption: str | None = None
    non_negative: bool = False  # a flow that never goes below zero (XMILE)
    loc: Loc = field(default=NOWHERE, compare=False)
    units_loc: Loc | None = field(default=None, compare=False)
    label: str | None = None  # a short plain-language label for plots and the page


@dataclass(frozen=True)
class Lookup:
    """A graphical function: y by piecewise-linear interpolation of the points (xs, ys)."""

    name: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    extrapolate: str = "clamp"  # "clamp" | "linear"
    discrete: bool = False
    units: str | None = None  # of the output (y)
    doc: str | None = None
    loc: Loc = field(default=NOWHERE, compare=False)
    units_loc: Loc | None = field(default=None, compare=False)
    input_units: str | None = None  # of the argument (x)


@dataclass(frozen=True)
class Scenario:
    """A named set of constant values that replace the file's."""

    name: str
    set: Mapping[str, float]
    doc: str | None = None
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Source:
    """A source the model cites (the article, an evidence file), its fields as written."""

    id: str
    fields: Mapping[str, object]
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Claim:
    """A claim of the article the model makes executable, and the links that encode it."""

    id: str
    text: str
    paragraph: tuple[int, ...] = ()
    polarity: str | None = None
    kind: str | None = None
    links: tuple[tuple[str, str], ...] = ()
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Model:
    """A whole model. Dicts keep the file's order."""

    name: str
    time: TimeSpec
    constants: Mapping[str, Constant]
    stocks: Mapping[str, Stock]
    flows: Mapping[str, Variable]
    auxiliaries: Mapping[str, Variable]
    lookups: Mapping[str, Lookup]
    scenarios: Mapping[str, Scenario] = field(default_factory=dict)
    sources: Mapping[str, Source] = field(default_factory=dict)
    claims: Mapping[str, Claim] = field(default_factory=dict)
    title: str | None = None
    doc: str | None = None
    file: str = "<string>"
    # XMILE models may initialise stocks from auxiliaries and other stocks.
    dynamic_initials: bool = False
    # Arrays, already expanded to scalars named ``base[elem,...]`` (model/arrays.py):
    # dimension -> its elements, and arrayed base name -> its dimensions.
    dimensions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    arrays: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # How a non-negative stock stays at or above zero: "limit" reduces its outflows
    # and the flows report the reduced value (format v1); "clamp" floors the stock
    # and the flows report their own equation (XMILE, as Stella and PySD do).
    non_negative_mode: str = "limit"
    # Report constants as result columns too (Vensim does, and its tests compare them).
    report_constants: bool = False
    # Named feedback loops (the ``loops:`` section, model/loops_spec.py).
    loops: Mapping[str, Any] = field(default_factory=dict)
    # How the model sees the indicators of evidence files, and the posterior its
    # ensembles draw from (model/observations.py).
    observations: Mapping[str, Observation] = field(default_factory=dict)
    calibration: Calibration | None = None

    @property
    def variables(self) -> dict[str, Variable]:
        """Flows and auxiliaries together."""
        return {**self.flows, **self.auxiliaries}

    def loc_of(self, name: str) -> Loc:
        """Where ``name`` is defined in the model file (NOWHERE if it is not a definition)."""
        for table in (self.stocks, self.flows, self.auxiliaries, self.constants, self.lookups):
            if name in table:
                loc: Loc = table[name].loc
                return loc
        return NOWHERE
