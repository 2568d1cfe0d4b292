"""Every model error: its exact message and its location (file:line:col)."""

from __future__ import annotations

import textwrap

import pytest

from quidpro.api import LoadedModel
from quidpro.errors import (
    ConfigError,
    CycleError,
    DuplicateNameError,
    ModelError,
    ParseError,
    QuidproError,
    SimulationError,
    UndefinedNameError,
)
from quidpro.io.load import parse_model, read_model

HEAD = "quidpro: 1\nname: t\ntime: {start: 0, stop: 10, dt: 1}\n"  # lines 1-3


def error_of(text: str) -> QuidproError:
    """The error that reading, compiling or running ``text`` raises."""
    with pytest.raises(QuidproError) as info:
        LoadedModel(parse_model(text, "model.yaml")).run(backend="numpy")
    return info.value


def located(err: QuidproError) -> tuple[str, str]:
    """(``file:line:col``, message) of a model or simulation error."""
    assert isinstance(err, ModelError | SimulationError)
    return str(err.loc), err.message


def test_syntax_error_shows_the_source_line_and_a_caret() -> None:
    err = error_of(HEAD + "auxiliaries:\n  a: 1 +* 2\n")
    assert isinstance(err, ParseError)
    assert str(err) == (
        "model.yaml:5:9: syntax error: unexpected '*', expected '(' or '+' or '-' or a name "
        "or a number\n      a: 1 +* 2\n            ^"
    )


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        (
            "  a: (1 + 2\n",
            "5:12",
            "syntax error: unexpected end of expression (a '(' is not closed)",
        ),
        ("  a: 1 $ 2\n", "5:8", "syntax error: unexpected character '$'"),
        ("  a: 1 2\n", "5:8", "syntax error: unexpected '2'"),
        ("  a: 1 +\n", "5:9", "syntax error: unexpected end of expression"),
        ("  a: min(1,, 2)\n", "5:12", "syntax error: unexpected ','"),
        ('  a: "k *   )"\n', "5:13", "syntax error: unexpected ')'"),
        ("  a: '  2 * * 3'\n", "5:13", "syntax error: unexpected '*'"),
        ("  a: {equation: 3 + + * 1}\n", "5:23", "syntax error: unexpected '*'"),
        ('  a: ""\n', "5:7", "empty expression"),
        ("  a: true\n", "5:6", "auxiliary 'a' must be a number or an expression, got bool True"),
        ("  a: [1, 2]\n", "5:6", "auxiliary 'a' must be a number or an expression, got a list"),
    ],
)
def test_expression_syntax_errors(body: str, where: str, message: str) -> None:
    err = error_of(HEAD + "auxiliaries:\n" + body)
    assert isinstance(err, ParseError)
    loc, msg = located(err)
    assert loc == f"model.yaml:{where}"
    assert msg.startswith(message)


@pytest.mark.parametrize(
    ("block", "where", "source_line"),
    [
        # A literal block: lines and indentation as written.
        ("  a: |\n    k * 2 +\n      bad * 3\n", "7:7", "      bad * 3"),
        # Folded block, plain and quoted scalars over several lines.
        ("  a: >\n    k * 2 +\n    bad * 3\n", "7:5", "    bad * 3"),
        ("  a: k * 2 +\n    bad * 3\n", "6:5", "    bad * 3"),
        ('  a: "k * 2 +\n    bad * 3"\n', "6:5", "    bad * 3"),
        ("  a: {equation: k * 2 +\n      bad * 3, units: x}\n", "6:7", "      bad * 3"),
        ("  a: 'k * 2 + bad'\n", "5:15", "  a: 'k * 2 + bad'"),
        ('  a:   "k *   bad"   # note\n', "5:15", '  a:   "k *   bad"   # note'),
    ],
)
def test_positions_inside_quoted_and_multi_line_expressions(
    block: str, where: str, source_line: str
) -> None:
    text = "quidpro: 1\nname: t\ntime: {start: 0, stop: 1, dt: 1}\nauxiliaries:\n" + block
    text += "constants:\n  k: 1\n"
    err = error_of(text)
    assert isinstance(err, UndefinedNameError)
    assert located(err) == (f"model.yaml:{where}", "undefined name 'bad' in 'a'")
    col = int(where.split(":")[1])
    assert str(err).splitlines()[1:] == [f"    {source_line}", "    " + " " * (col - 1) + "^"]


def test_syntax_error_on_a_later_line_of_a_block_expression() -> None:
    text = HEAD + "auxiliaries:\n  a: |\n    (2 +\n      3 * )\n"
    err = error_of(text)
    assert located(err) == (
        "model.yaml:7:11",
        "syntax error: unexpected ')', expected '(' or '+' or '-' or a name or a number",
    )
    err = error_of(HEAD + "auxiliaries:\n  a: |\n    (2 +\n      3\n\n")
    assert located(err) == (
        "model.yaml:7:8",
        "syntax error: unexpected end of expression (a '(' is not closed)",
    )


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        (
            "constants:\n  birth_rate: 1\nauxiliaries:\n  a: birth_rte * 2\n",
            "7:6",
            "undefined name 'birth_rte' in 'a' (did you mean 'birth_rate'?)",
        ),
        ("auxiliaries:\n  a: zzz + 1\n", "5:6", "undefined name 'zzz' in 'a'"),
        (
            "stocks:\n  s: {initial: 1, outflows: [f]}\nflows:\n  f: 0.1 * ss\n",
            "7:12",
            "undefined name 'ss' in 'f' (did you mean 's'?)",
        ),
        (
            "auxiliaries:\n  a: smoth(1, 2)\n",
            "5:6",
            "unknown function 'smoth' (did you mean 'smooth'?)",
        ),
        (
            "lookups:\n  effect: {points: [[0, 0], [1, 1]]}\nauxiliaries:\n  a: efect(1)\n",
            "7:6",
            "unknown function 'efect' (did you mean 'effect'?)",
        ),
        (
            "constants:\n  k: 1\nstocks:\n  s: {initial: kk}\n",
            "7:16",
            "undefined name 'kk' in 's' (did you mean 'k'?)",
        ),
    ],
)
def test_unknown_names_suggest_the_closest(body: str, where: str, message: str) -> None:
    err = error_of(HEAD + body)
    assert isinstance(err, UndefinedNameError)
    assert located(err) == (f"model.yaml:{where}", message)


def test_unknown_name_full_text() -> None:
    err = error_of(HEAD + "constants:\n  birth_rate: 1\nauxiliaries:\n  a: 2 * birth_rte\n")
    assert str(err) == (
        "model.yaml:7:10: undefined name 'birth_rte' in 'a' (did you mean 'birth_rate'?)\n"
        "      a: 2 * birth_rte\n"
        "             ^"
    )


@pytest.mark.parametrize(
    ("body", "where", "message", "kind"),
    [
        (
            "constants:\n  a: 1\nauxiliaries:\n  a: 2\n",
            "7:3",
            "'a' is defined twice (first at line 5)",
            DuplicateNameError,
        ),
        (
            "stocks:\n  s: {initial: 1}\nflows:\n  s: 2\n",
            "7:3",
            "'s' is defined twice (first at line 5)",
            DuplicateNameError,
        ),
        (
            "auxiliaries:\n  a: 1\n  a: 2\n",
            "6:3",
            "duplicate key 'a' (first defined at line 5)",
            DuplicateNameError,
        ),
        (
            "constants:\n  a: 1\nstocks:\n  s: {initial: 1, inflows: [a]}\n",
            "7:3",
            "inflow 'a' of stock 's' is not a flow: it is a constant",
            UndefinedNameError,
        ),
        (
            "stocks:\n  s: {initial: 1, outflows: [t]}\n  t: {initial: 1}\n",
            "5:3",
            "outflow 't' of stock 's' is not a flow: it is a stock",
            UndefinedNameError,
        ),
        (
            "stocks:\n  s: {initial: 1, outflows: [x]}\nauxiliaries:\n  x: 1\n",
            "5:3",
            "outflow 'x' of stock 's' is not a flow: it is an auxiliary",
            UndefinedNameError,
        ),
        (
            "stocks:\n  s: {initial: 1, inflows: [flw]}\nflows:\n  flow: 1\n",
            "5:3",
            "inflow 'flw' of stock 's' is not a flow: no flow has that name (did you mean 'flow'?)",
            UndefinedNameError,
        ),
    ],
)
def test_duplicates_and_flows_that_are_not_flows(
    body: str, where: str, message: str, kind: type
) -> None:
    err = error_of(HEAD + body)
    assert isinstance(err, kind)
    assert located(err) == (f"model.yaml:{where}", message)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("step(1)", "step() takes 2 arguments, got 1: step(height, t0)"),
        ("ramp(1)", "ramp() takes 2 to 3 arguments, got 1: ramp(slope, t0[, t1])"),
        (
            "pulse(1, 2, 3, 4)",
            "pulse() takes 2 to 3 arguments, got 4: pulse(magnitude, t0[, interval])",
        ),
        ("smooth(1)", "smooth() takes 2 to 3 arguments, got 1: smooth(x, tau[, init])"),
        ("delay3(1, 2, 3, 4)", "delay3() takes 2 to 3 arguments, got 4: delay3(x, tau[, init])"),
        ("delay_fixed(1, 2)", "delay_fixed() takes 3 arguments, got 2: delay_fixed(x, tau, init)"),
        ("min()", "min() takes at least 1 argument, got 0: min(a, b, ...)"),
        ("if(1, 2)", "if() takes 3 arguments, got 2: if(cond, a, b)"),
        ("clip(1, 2)", "clip() takes 3 arguments, got 2: clip(x, lo, hi)"),
        ("exp()", "exp() takes 1 argument, got 0: exp(x)"),
        ("effect(1, 2)", "lookup 'effect' takes 1 argument, got 2"),
        ("effect + 1", "lookup 'effect' must be called with an argument, like effect(x)"),
        ("k(2)", "'k' is a constant, not a function or a lookup: it cannot be called"),
        ("b(2)", "'b' is an auxiliary, not a function or a lookup: it cannot be called"),
    ],
)
def test_wrong_number_of_arguments(expr: str, message: str) -> None:
    text = HEAD + "lookups:\n  effect: {points: [[0, 0], [1, 1]]}\nauxiliaries:\n  a: " + expr
    err = error_of(text + "\n  b: 1\nconstants:\n  k: 1\n")
    assert located(err) == ("model.yaml:7:6", message)


def test_algebraic_loop_names_every_variable_in_it() -> None:
    body = "auxiliaries:\n  x: 1\n  a: b + x\n  b: c * 2\n  c: a - 1\n  d: a\n"
    err = error_of(HEAD + body)
    assert isinstance(err, CycleError)
    loc, msg = located(err)
    assert loc == "model.yaml:6:3"
    assert msg == (
        "algebraic loop: a -> c -> b -> a (break it with a stock, a smooth() or a delay)"
    )


def test_loop_between_flows() -> None:
    body = "stocks:\n  s: {initial: 1, inflows: [f]}\nflows:\n  f: g\n  g: f + s\n"
    err = error_of(HEAD + body)
    assert located(err) == (
        "model.yaml:7:3",
        "algebraic loop: f -> g -> f (break it with a stock, a smooth() or a delay)",
    )


def test_loop_in_initial_values() -> None:
    err = error_of(HEAD + "auxiliaries:\n  a: smooth(b, 2, b)\n  b: a\n")
    assert isinstance(err, CycleError)
    assert located(err) == (
        "model.yaml:5:3",
        "initial values depend on each other: a -> b -> a "
        "(break it with a stock, a smooth() or a delay)",
    )


def test_loops_broken_by_a_stock_smooth_or_delay_are_fine() -> None:
    body = """
stocks:
  s: {initial: 1, inflows: [f]}
flows:
  f: 0.1 * s
auxiliaries:
  a: smooth(a + 1, 2, 0)
  b: delay_fixed(b, 2, 0) + 1
  c: delay1(c + 1, 2, 0)
"""
    df = LoadedModel(parse_model(HEAD + body, "model.yaml")).run(backend="numpy")
    assert df["b"].tolist()[:5] == [1, 1, 2, 2, 3]


@pytest.mark.parametrize(
    ("time", "where", "message"),
    [
        ("{start: 5, stop: 5, dt: 1}", "3:24", "time.stop (5) must be after time.start (5)"),
        ("{start: 5, stop: 1, dt: 1}", "3:24", "time.stop (1) must be after time.start (5)"),
        ("{start: 0, stop: 5, dt: 0}", "3:31", "time.dt must be positive, got 0"),
        ("{start: 0, stop: 5, dt: -0.5}", "3:31", "time.dt must be positive, got -0.5"),
        ("{start: 0, stop: 5, dt: 10}", "3:31", "time.dt (10) is longer than the whole run (5)"),
        ("{start: 0, stop: x, dt: 1}", "3:24", "time.stop must be a number, got str 'x'"),
        ("{start: 0, dt: 1}", "3:7", "time needs 'stop'"),
        (
            "{stop: 5, dt: 1, method: rk5}",
            "3:32",
            "unknown method 'rk5' (did you mean 'rk4'?); use one of euler, rk4",
        ),
        (
            "{stop: 5, dt: 1, steps: 3}",
            "3:24",
            "unknown key 'steps' in time (did you mean 'stop'?); allowed: start, stop, dt, units, "
            "method, origin, save_every, hold_inputs",
        ),
        (
            "{stop: 5, dt: 1, origin: soon}",
            "3:32",
            "time.origin must be a date like 2022-02-24, got 'soon'",
        ),
        (
            "{stop: 5, dt: 0.5, save_every: 0.25}",
            "3:38",
            "time.save_every (0.25) must be at least dt (0.5)",
        ),
    ],
)
def test_time_section_errors(time: str, where: str, message: str) -> None:
    err = error_of(f"quidpro: 1\nname: t\ntime: {time}\n")
    assert located(err) == (f"model.yaml:{where}", message)


def test_time_errors_in_block_style_point_at_the_value() -> None:
    err = error_of("quidpro: 1\nname: t\ntime:\n  start: 0\n  stop: 5\n  dt: -1\n")
    assert str(err) == "model.yaml:6:7: time.dt must be positive, got -1\n      dt: -1\n          ^"


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        (
            "stocks:\n  u: {initial: a}\nauxiliaries:\n  a: 1\n",
            "5:16",
            "the initial value of 'u' must use only constants and other stocks, "
            "but it uses the auxiliary 'a'",
        ),
        (
            "stocks:\n  u: {initial: time}\n",
            "5:16",
            "the initial value of 'u' must use only constants and other stocks, but it uses time",
        ),
        (
            'stocks:\n  u: {initial: "step(1, 0)"}\n',
            "5:17",
            "the initial value of 'u' must use only constants and other stocks, "
            "but it calls step()",
        ),
        (
            "stocks:\n  s: {initial: 1}\nconstants:\n  c: s + 1\n",
            "7:6",
            "the value of 'c' must be constant, but it uses the stock 's'",
        ),
        (
            "constants:\n  c: 2 * time\n",
            "5:10",
            "the value of 'c' must be constant, but it uses time",
        ),
        (
            'constants:\n  c: {value: "smooth(1, 2)"}\n',
            "5:15",
            "the value of 'c' must be constant, but it calls smooth()",
        ),
        (
            "constants:\n  a: b + 1\n  b: a * 2\n",
            "5:3",
            "constants defined in a circle: a -> b -> a",
        ),
    ],
)
def test_constants_and_initial_values_must_be_constant(body: str, where: str, message: str) -> None:
    err = error_of(HEAD + body)
    assert located(err) == (f"model.yaml:{where}", message)


def test_initial_value_from_constant_expressions_is_fine() -> None:
    body = "constants:\n  a: 2\n  b: a * 3 + dt\nstocks:\n  s: {initial: b ^ 2 + exp(0)}\n"
    df = LoadedModel(parse_model(HEAD + body, "model.yaml")).run(backend="numpy")
    assert df["s"].iloc[0] == 50


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        (
            "auxilaries:\n  a: 1\n",
            "4:1",
            "unknown key 'auxilaries' in the model file (did you mean 'auxiliaries'?); allowed: "
            "quidpro, name, title, doc, time, ...",  # sections may be added (arrays)
        ),
        (
            "auxiliaries:\n  a: {equation: 1, unit: x}\n",
            "5:20",
            "unknown key 'unit' in auxiliary 'a' (did you mean 'units'?); allowed: equation, "
            "units, label, doc, claims, assumption, non_negative",
        ),
        (
            "stocks:\n  s: {initial: 1, inflow: [f]}\n",
            "5:19",
            "unknown key 'inflow' in stock 's' (did you mean 'inflows'?); allowed: initial, "
            "inflows, outflows, non_negative, units, label, doc",
        ),
        (
            "constants:\n  c: {value: 1, rnage: [0, 2]}\n",
            "5:17",
            "unknown key 'rnage' in constant 'c' (did you mean 'range'?); allowed: value, units, "
            "label, doc, range, distribution, source, assumption, lever",
        ),
        (
            "constants:\n  c: {value: 1, distribution: {kind: normal, mean: 1, sigma: 2}}\n",
            "5:55",
            "unknown key 'sigma' in a normal distribution; allowed: kind, mean, sd",
        ),
        (
            "lookups:\n  l: {points: [[0, 1]], extrapolation: linear}\n",
            "5:25",
            "unknown key 'extrapolation' in lookup 'l' (did you mean 'extrapolate'?); allowed: "
            "points, extrapolate, units, input_units, doc",
        ),
        (
            "constants:\n  c: 1\nscenarios:\n  s: {set: {c: 2}, sets: 1}\n",
            "7:20",
            "unknown key 'sets' in scenario 's' (did you mean 'set'?); allowed: doc, set",
        ),
    ],
)
def test_unknown_keys(body: str, where: str, message: str) -> None:
    err = error_of(HEAD + body)
    assert isinstance(err, ParseError)
    loc, msg = located(err)
    assert loc == f"model.yaml:{where}"
    if message.endswith("..."):
        assert msg.startswith(message[:-3])
        for key in ("constants", "stocks", "flows", "auxiliaries", "lookups", "scenarios"):
            assert key in msg.split("allowed: ")[1].split(", ")
    else:
        assert msg == message


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("name: t\n", "1:1", "missing 'quidpro: 1' (the format version) at the top of the file"),
        (
            "quidpro: 2\nname: t\n",
            "1:10",
            "unsupported format version 2; this quidpro reads version 1",
        ),
        ("quidpro: 1\ntime: {stop: 1}\n", "1:1", "the model needs a 'name'"),
        ("quidpro: 1\nname: t\n", "1:1", "the model has no 'time' section (start, stop, dt)"),
        (
            "quidpro: 1\nname: 1abc\n",
            "2:1",
            "'1abc' is not a valid name: use letters, digits and underscores, not starting with a "
            "digit",
        ),
        ("", "1:1", "the model file is empty"),
        ("- 1\n- 2\n", "1:1", "a model file must be a mapping, got a list"),
        (
            HEAD + "auxiliaries:\n  a b: 1\n",
            "5:3",
            "'a b' is not a valid name: use letters, digits and underscores, not starting with a "
            "digit",
        ),
        (HEAD + "auxiliaries:\n  time: 1\n", "5:3", "'time' is reserved; choose another name"),
        (
            HEAD + "constants:\n  step: 1\n",
            "5:3",
            "'step' is a built-in function; choose another name",
        ),
        (
            HEAD + "auxiliaries:\n  a: [1, 2\n",
            "6:1",
            "YAML syntax error: expected ',' or ']', but got '<stream end>'",
        ),
        (
            HEAD + "stocks:\n  s: 3\n",
            "5:6",
            "stock 's' must be a mapping with 'initial', 'inflows', 'outflows', got int 3",
        ),
        (HEAD + "stocks:\n  s: {inflows: []}\n", "5:6", "stock 's' needs an 'initial' value"),
        (
            HEAD + "stocks:\n  s: {initial: 1, non_negative: yes please}\n",
            "5:33",
            "non_negative of 's' must be true or false",
        ),
        (
            HEAD + "lookups:\n  l: {points: [[1, 0], [0, 1]]}\n",
            "5:24",
            "lookup 'l': x values must increase (0 after 1)",
        ),
        (
            HEAD + "lookups:\n  l: {points: [[1, 0, 2]]}\n",
            "5:16",
            "a point of lookup 'l' must be [x, y]",
        ),
        (
            HEAD + "lookups:\n  l: {points: [[0, 0]], extrapolate: wild}\n",
            "5:38",
            "extrapolate of 'l' must be clamp or linear, got 'wild'",
        ),
        (
            HEAD + "constants:\n  c: {value: 1, range: [2, 1]}\n",
            "5:24",
            "range of 'c': low 2 is above high 1",
        ),
        (
            HEAD + "constants:\n  c: {value: 1, distribution: {kind: uniform, low: 2, high: 1}}\n",
            "5:31",
            "uniform distribution of 'c': low must be below high",
        ),
        (
            HEAD + "constants:\n  c: {value: 1, distribution: {kind: beta}}\n",
            "5:38",
            "unknown distribution 'beta'",
        ),
        (
            HEAD + "constants:\n  c: {value: 1, distribution: {kind: normal, mean: 1}}\n",
            "5:31",
            "normal distribution of 'c' needs mean, sd",
        ),
        (
            HEAD + "constants:\n  c: 1\nscenarios:\n  s: {set: {d: 2}}\n",
            "7:3",
            "scenario 's' sets 'd', which is not a constant",
        ),
    ],
)
def test_shape_errors(text: str, where: str, message: str) -> None:
    err = error_of(text)
    assert located(err) == (f"model.yaml:{where}", message)


def test_yaml_python_tag_is_rejected() -> None:
    text = HEAD + "auxiliaries:\n  a: !!python/object/apply:os.system ['echo hacked']\n"
    err = error_of(text)
    assert isinstance(err, ParseError)
    assert located(err) == (
        "model.yaml:5:6",
        "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed in a model "
        "file (only plain data)",
    )


def test_non_finite_value_names_the_root_cause_not_what_it_spread_to() -> None:
    # 'b' comes first in the file, but it is computed from 'a', which fails first.
    body = """constants:
  k: 0.5
stocks:
  s: {initial: 10, outflows: [out]}
flows:
  out: k * s
auxiliaries:
  b: a * 2
  c: b + 1
  a: "k * ln(s - 9)"
"""
    err = error_of(HEAD + body)
    assert isinstance(err, SimulationError)
    assert (err.variable, err.time) == ("a", 1.0)
    assert str(err) == "model.yaml:13:3: 'a' became nan at time 1"


def test_non_finite_value_in_a_stock_at_the_earliest_time() -> None:
    body = """stocks:
  s: {initial: 1, inflows: [grow]}
flows:
  grow: s ^ 3 * 1e100
auxiliaries:
  a: s * 0
"""
    err = error_of(HEAD + body)
    assert isinstance(err, SimulationError)
    # s = 1e100 at time 1 is finite; grow = s^3 * 1e100 is the first to overflow.
    assert (err.variable, err.time) == ("grow", 1.0)
    assert str(err) == "model.yaml:7:3: 'grow' became inf at time 1"


def test_non_finite_value_reported_per_run_in_a_batch() -> None:
    body = "constants:\n  k: 1\nauxiliaries:\n  a: ln(k)\n  b: sqrt(k)\n"
    m = LoadedModel(parse_model(HEAD + body, "model.yaml"))
    import numpy as np

    traj = m.simulate(set={"k": np.array([1.0, 0.0, -1.0, 4.0])}, n_runs=4, backend="numpy")
    assert traj.failures == {1: ("a", 0.0), 2: ("a", 0.0)}
    assert np.isfinite(traj.values[:, :, [0, 3]]).all()


def test_delay_shorter_than_a_step() -> None:
    err = error_of(HEAD + "auxiliaries:\n  a: delay_fixed(time, 0.25, 0)\n")
    assert isinstance(err, SimulationError)
    assert str(err) == (
        "model.yaml:5:6: the delay of 'a' is shorter than one step (dt = 1); "
        "use a delay of at least dt"
    )


def test_missing_model_file() -> None:
    with pytest.raises(ModelError) as info:
        read_model("no/such/model.yaml")
    assert str(info.value) == "no/such/model.yaml:0:0: no such model file or built-in model"
    with pytest.raises(
        ModelError,
        match=r"^nosuch:0:0: no such model file or built-in model; built-in models: .*logistic",
    ):
        read_model("nosuch")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"scenario": "nope"}, "unknown scenario 'nope'; this model has: baseline, fast, crowded"),
        (
            {"scenario": "fsat"},
            "unknown scenario 'fsat' (did you mean 'fast'?); this model has: baseline, fast, "
            "crowded",
        ),
        (
            {"set": {"growth_rat": 1}},
            "cannot set 'growth_rat': it is not a constant of logistic (did you mean "
            "'growth_rate'?)",
        ),
        ({"method": "rk5"}, "unknown method 'rk5'; use one of euler, rk4"),
        ({"dt": 0}, "dt must be positive, got 0"),
    ],
)
def test_config_errors(kw: dict, message: str) -> None:
    m = LoadedModel(read_model("logistic"))
    with pytest.raises(ConfigError) as info:
        m.run(backend="numpy", **kw)
    assert str(info.value) == message


def test_errors_in_a_model_file_name_that_file(tmp_path) -> None:
    p = tmp_path / "deep" / "my model.yaml"
    p.parent.mkdir()
    p.write_text(textwrap.dedent(HEAD + "auxiliaries:\n  a: nope\n"))
    with pytest.raises(UndefinedNameError) as info:
        read_model(p)
    assert str(info.value.loc) == f"{p}:5:6"


def test_unquoted_commas_in_a_flow_mapping_get_a_hint() -> None:
    err = error_of(HEAD + "stocks:\n  u: {initial: step(1, 0)}\n")
    assert located(err) == (
        "model.yaml:5:24",
        "unknown key '0)' in stock 'u'; allowed: initial, inflows, outflows, non_negative, "
        "units, label, doc (a comma inside {...} ends the value: quote an expression with commas, "
        'like "step(1, 5)")',
    )


def test_long_sums_compile_and_too_deep_nesting_is_a_clean_error() -> None:
    terms = " + ".join(f"k * {i}" for i in range(600))
    df = LoadedModel(
        parse_model(HEAD + f"constants:\n  k: 1\nauxiliaries:\n  a: {terms}\n", "m.yaml")
    )
    assert df.run(backend="numpy")["a"].iloc[0] == sum(range(600))
    terms = " - ".join(["time"] * 5000)
    err = error_of(HEAD + f"auxiliaries:\n  a: {terms}\n")
    assert located(err) == (
        "model.yaml:5:3",
        "the equation of 'a' is nested too deeply to compile; split it into auxiliaries",
    )
    err = error_of(HEAD + "auxiliaries:\n  a: " + "(" * 400 + "1" + ")" * 400 + "\n")
    assert isinstance(err, ParseError)
    assert located(err) == (
        "model.yaml:5:6",
        "the expression is nested too deeply; split it into auxiliaries",
    )
