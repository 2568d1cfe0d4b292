"""Hostile model files (issue 13): each gives one exact, located error, never a traceback.

Every row is a small YAML model with one field made hostile; the expected outcome is the
error's ``file:line:col`` and its message, exactly.
"""

from __future__ import annotations

import pytest

from quidpro.api import LoadedModel
from quidpro.errors import ModelError, QuidproError
from quidpro.io.load import parse_model
from quidpro.lang.xmile_expr import parse_xmile_expression
from quidpro.model.limits import MAX_STEPS

BASE = """quidpro: 1
name: t
time: {start: 0, stop: 10, dt: 1}
constants:
  k: 0.1
stocks:
  s: {initial: 1, inflows: [f]}
flows:
  f: k * s
"""
LIMIT = "use a larger dt, or raise the limit with QUIDPRO_MAX_STEPS=N"


def error_of(old: str, new: str) -> QuidproError:
    """The error of BASE with ``old`` replaced by ``new``."""
    assert old in BASE
    with pytest.raises(QuidproError) as info:
        parse_model(BASE.replace(old, new), "m.yaml")
    return info.value


CASES = [
    ("f: k * s", "f: .nan", "m.yaml:9:6", "flow 'f' must be a finite number, got nan"),
    ("f: k * s", "f: -.inf", "m.yaml:9:6", "flow 'f' must be a finite number, got -inf"),
    (
        "initial: 1",
        "initial: .nan",
        "m.yaml:7:16",
        "initial value of 's' must be a finite number, got nan",
    ),
    ("k: 0.1", "k: .inf", "m.yaml:5:6", "constant 'k' must be a finite number, got inf"),
    ("stop: 10", "stop: .inf", "m.yaml:3:24", "time.stop must be a finite number, got inf"),
    ("dt: 1", "dt: .nan", "m.yaml:3:32", "time.dt must be a finite number, got nan"),
    ("start: 0", "start: .nan", "m.yaml:3:15", "time.start must be a finite number, got nan"),
    (
        "stop: 10, dt: 1}",
        "stop: 10, dt: 1, save_every: .inf}",
        "m.yaml:3:47",
        "time.save_every must be a finite number, got inf",
    ),
    (
        "stop: 10, dt: 1",
        "stop: 1.0e308, dt: 1.0e-308",
        "m.yaml:3:7",
        "the run would take inf time steps ((stop - start) / dt), more than the limit "
        f"of 10,000,000; {LIMIT}",
    ),
    (
        "stop: 10",
        "stop: 1.0e12",
        "m.yaml:3:7",
        "the run would take 1e+12 time steps ((stop - start) / dt), more than the limit "
        f"of 10,000,000; {LIMIT}",
    ),
    (
        "dt: 1}",
        "dt: 1, origin: 2022-02-30}",
        "m.yaml:3:43",
        "'2022-02-30' is not a valid date (day is out of range for month)",
    ),
    (
        "k: 0.1",
        "k: 2022-02-30",
        "m.yaml:5:6",
        "'2022-02-30' is not a valid date (day is out of range for month)",
    ),
    (
        "quidpro: 1",
        "quidpro: true",
        "m.yaml:1:10",
        "unsupported format version True; this quidpro reads version 1",
    ),
    (
        "k: 0.1",
        "k: 0.1\ndoc: " + "[" * 250 + "]" * 250,
        "m.yaml:6:69",
        "lists and mappings are nested more than 64 deep here; a model file never needs that",
    ),
]


@pytest.mark.parametrize(("old", "new", "where", "message"), CASES)
def test_hostile_field_is_a_located_error(old: str, new: str, where: str, message: str) -> None:
    err = error_of(old, new)
    assert isinstance(err, ModelError)
    assert (str(err.loc), err.message) == (where, message)


def test_a_key_is_the_name_as_written_not_a_yaml_boolean() -> None:
    # YAML 1.1 reads `on` as True; a constant named `on` must stay `on`.
    model = parse_model(BASE.replace("k: 0.1", "on: 0.1").replace("k * s", "on * s"), "m.yaml")
    assert "on" in model.constants


def test_the_step_limit_is_raised_by_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MAX_STEPS[0], "20000000")
    model = parse_model(BASE.replace("stop: 10,", "stop: 15000000,"), "m.yaml")
    assert model.time.n_steps == 15_000_000
    monkeypatch.setenv(MAX_STEPS[0], "-3")
    with pytest.raises(QuidproError, match="QUIDPRO_MAX_STEPS must be a positive whole number"):
        parse_model(BASE, "m.yaml")


def _flow(expression: str) -> str:
    return BASE.replace("f: k * s", f"f: {expression}")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("^".join(["1"] * 200), "the expression is nested more than 64 levels deep"),
        ("(" * 100 + "k" + ")" * 100, "the expression is nested"),
        ("if(k > 0, " * 1000 + "k" + ", 0)" * 1000, "the expression is nested"),
        ("+".join(["k"] * 60_000), "the expression is 119,999 characters long, more than"),
        (
            "max(" + ", ".join(["k"] * 10_000) + ")",
            "max() takes at most 999 arguments, got 10000: max(a, b, ...)",
        ),
    ],
)
def test_hostile_expression_is_a_located_error(expression: str, message: str) -> None:
    with pytest.raises(QuidproError) as info:
        LoadedModel(parse_model(_flow(expression), "m.yaml"))
    err = info.value
    assert isinstance(err, ModelError)
    assert str(err.loc) == "m.yaml:9:6"
    assert err.message.startswith(message)


def test_an_xmile_expression_has_the_same_bounds() -> None:
    with pytest.raises(QuidproError, match="nested more than 64 levels deep"):
        parse_xmile_expression("^".join(["1"] * 200))
    with pytest.raises(QuidproError, match=r"nested too deeply|nested more than"):
        parse_xmile_expression("IF a THEN " * 1000 + "1" + " ELSE 0" * 1000)


@pytest.mark.parametrize(
    ("time", "message"),
    [
        (
            "{start: 0, stop: 100000, dt: 1, units: year, origin: 9999-01-01}",
            "a run of 100000 year from 9999-01-01 would end after 2262-04-11, the last "
            "calendar date quidpro can show; use an earlier time.origin or a shorter run",
        ),
        (
            "{start: 0, stop: 300, dt: 1, units: year, origin: 2000-01-01}",
            "a run of 300 year from 2000-01-01 would end after 2262-04-11, the last "
            "calendar date quidpro can show; use an earlier time.origin or a shorter run",
        ),
    ],
)
def test_a_calendar_beyond_the_dates_quidpro_can_show_is_refused(time: str, message: str) -> None:
    err = error_of("{start: 0, stop: 10, dt: 1}", time)
    assert isinstance(err, ModelError)
    assert (str(err.loc), err.message) == ("m.yaml:3:7", message)


def test_a_calendar_up_to_the_last_date_runs() -> None:
    text = BASE.replace("dt: 1}", "dt: 1, units: year, origin: 2200-01-01}")
    df = LoadedModel(parse_model(text, "m.yaml")).run()
    assert df.attrs["dates"][-1].year == 2210
