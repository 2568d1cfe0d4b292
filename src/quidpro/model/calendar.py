"""Model time ↔ calendar dates, for models with ``time.origin``.

Months and years are calendar months and years: time 1.5 in months from
2019-01-01 is 2019-02-15 (half of February). Other units are fixed lengths.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from quidpro.errors import ConfigError, Loc, ModelError

if TYPE_CHECKING:  # loaded by the conversions, not by a model's checks (check_span)
    import pandas as pd

_DAYS = {"day": 1.0, "days": 1.0, "week": 7.0, "weeks": 7.0}
_MONTHS = {
    "month": 1.0,
    "months": 1.0,
    "quarter": 3.0,
    "quarters": 3.0,
    "year": 12.0,
    "years": 12.0,
}


# pandas' datetime64[ns] range: dates of a run must fall inside it to be shown.
FIRST_DATE = dt.date(1677, 9, 22)
LAST_DATE = dt.date(2262, 4, 11)


def check_span(origin: dt.date, units: str | None, start: float, stop: float, loc: Loc) -> None:
    """Refuse a calendar run that would end (or start) outside the dates quidpro can show."""
    u = (units or "").strip().lower()
    days_per_unit = _DAYS.get(u) or 31.0 * _MONTHS.get(u, 0.0)
    if not days_per_unit:
        return  # not a calendar unit: to_dates says so if dates are asked for
    needed = (stop - start) * days_per_unit
    if origin < FIRST_DATE or needed > (LAST_DATE - origin).days:
        raise ModelError(
            f"a run of {stop - start:g} {units} from {origin.isoformat()} would end after "
            f"{LAST_DATE.isoformat()}, the last calendar date quidpro can show; use an "
            f"earlier time.origin or a shorter run",
            loc,
        )


def _unit(units: str | None) -> str:
    u = (units or "").strip().lower()
    if u not in _DAYS and u not in _MONTHS:
        raise ConfigError(
            f"calendar dates need time units of day, week, month, quarter or "
            f"year; this model's unit is {units!r}"
        )
    return u


def to_dates(
    times: Sequence[float] | np.ndarray, origin: dt.date, units: str | None, start: float = 0.0
) -> pd.DatetimeIndex:
    """Calendar dates of model times (``start`` falls on ``origin``)."""
    import pandas as pd

    u = _unit(units)
    base = pd.Timestamp(origin)
    out = []
    month_starts: dict[int, pd.Timestamp] = {}  # DateOffset is slow: once a month

    def month(n: int) -> pd.Timestamp:
        if n not in month_starts:
            month_starts[n] = base + pd.DateOffset(months=n)
        return month_starts[n]

    for t in np.asarray(times, dtype=float) - start:
        if u in _DAYS:
            out.append(base + pd.Timedelta(days=float(t) * _DAYS[u]))
            continue
        months = float(t) * _MONTHS[u]
        whole = int(np.floor(months))
        first, nxt = month(whole), month(whole + 1)
        out.append(first + (nxt - first) * (months - whole))
    return pd.DatetimeIndex(out, name="date")


def calendar_day(t: float, origin: dt.date, units: str | None, start: float = 0.0) -> dt.date:
    """The day of ``to_dates([t], ...)[0]``, computed without pandas (for ``quidpro run``).

    The same arithmetic as :func:`to_dates`, in whole nanoseconds (days and weeks) or
    seconds (months: pandas keeps dates at a second's resolution), truncated as pandas
    truncates, so that the day is the one :func:`to_dates` gives.
    """
    u = _unit(units)
    x = float(t) - start
    if u in _DAYS:
        ns = int(x * _DAYS[u] * 24 * 3600 * 1_000_000_000)  # pandas' Timedelta(days=...)
        return origin + dt.timedelta(days=ns // 86_400_000_000_000)
    months = x * _MONTHS[u]
    whole = math.floor(months)
    first, nxt = _add_months(origin, whole), _add_months(origin, whole + 1)
    seconds = int((nxt - first).days * 86_400 * (months - whole))  # Timedelta * float
    return first + dt.timedelta(days=seconds // 86_400)


def _add_months(origin: dt.date, n: int) -> dt.date:
    """``origin`` plus ``n`` calendar months, the day clipped to the month's last (DateOffset)."""
    y, m = divmod(origin.month - 1 + n, 12)
    year, month = origin.year + y, m + 1
    return dt.date(year, month, min(origin.day, calendar.monthrange(year, month)[1]))


def to_time(date: dt.date | str, origin: dt.date, units: str | None, start: float = 0.0) -> float:
    """The model time of a calendar date (the inverse of :func:`to_dates`)."""
    import pandas as pd

    u = _unit(units)
    try:
        d = pd.Timestamp(date)
    except ValueError:
        raise ConfigError(f"not a date: {date!r} (use YYYY-MM-DD)") from None
    if pd.isna(d):  # pandas reads "" and "nat" as no date
        raise ConfigError(f"not a date: {date!r} (use YYYY-MM-DD)")
    base = pd.Timestamp(origin)
    if u in _DAYS:
        return start + (d - base).days / _DAYS[u] + (d - base).seconds / 86400 / _DAYS[u]
    whole = (d.year - base.year) * 12 + (d.month - base.month)
    try:
        first = base + pd.DateOffset(months=whole)
        if first > d:
            whole -= 1
            first = base + pd.DateOffset(months=whole)
        nxt = base + pd.DateOffset(months=whole + 1)
    except (ValueError, OverflowError):  # a month past year 9999 or before pandas' dates
        raise ConfigError(f"the date {date!r} is out of the calendar's range") from None
    frac = (d - first) / (nxt - first)
    return start + (whole + frac) / _MONTHS[u]
