"""``calendar_day``: the day :func:`to_dates` gives, computed without pandas.

``quidpro run`` heads its table with the first and last dates of a dated run; it
computes them without pandas, so they must be the days pandas' arithmetic gives,
including where a float lands a hair before midnight (a third of a month, a tenth
of a week).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from quidpro.errors import ConfigError
from quidpro.model.calendar import calendar_day, to_dates

ORIGINS = [dt.date(2019, 1, 1), dt.date(2020, 1, 31), dt.date(2021, 3, 30), dt.date(2020, 2, 29)]


@pytest.mark.parametrize("units", ["day", "week", "months", "quarter", "year"])
@pytest.mark.parametrize("origin", ORIGINS)
def test_the_day_is_the_day_of_to_dates(origin: dt.date, units: str) -> None:
    rng = np.random.default_rng(1)
    start = 2019.0
    steps = np.concatenate([np.arange(300) / 3, np.arange(300) * 0.1, np.arange(300) / 7])
    times = start + np.concatenate([rng.uniform(0, 150, 200), steps])
    expected = [d.date() for d in to_dates(times, origin, units, start)]
    assert [calendar_day(t, origin, units, start) for t in times] == expected


def test_a_month_end_origin_clips_to_the_months_last_day() -> None:
    assert calendar_day(1.0, dt.date(2020, 1, 31), "month") == dt.date(2020, 2, 29)
    assert calendar_day(13.0, dt.date(2020, 1, 31), "month") == dt.date(2021, 2, 28)


def test_units_without_a_calendar_are_refused_as_to_dates_refuses_them() -> None:
    with pytest.raises(ConfigError, match="calendar dates need time units"):
        calendar_day(1.0, dt.date(2020, 1, 1), "hour")


@pytest.mark.parametrize(
    ("date", "message"),
    [("", "not a date"), ("nat", "not a date"), ("9999-12-31", "out of the calendar's range")],
)
def test_a_date_that_is_none_or_past_the_calendar_is_refused(date: str, message: str) -> None:
    from quidpro.model.calendar import to_time

    with pytest.raises(ConfigError, match=message):
        to_time(date, dt.date(2019, 1, 1), "month")
