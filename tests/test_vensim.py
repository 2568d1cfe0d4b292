"""The Vensim .mdl reader: equations, units and docs, builtins against closed forms, errors."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from quidpro.api import LoadedModel
from quidpro.cli.main import app
from quidpro.errors import ModelError, ParseError, UndefinedNameError, UnsupportedError
from quidpro.io.load import parse_model

CONTROL = """
INITIAL TIME = 0 ~ Month ~ |
FINAL TIME = 10 ~ Month ~ |
TIME STEP = 0.25 ~ Month [0,?] ~ |
SAVEPER = TIME STEP ~ Month ~ |
"""


def mdl(body: str) -> LoadedModel:
    return LoadedModel(parse_model("{UTF-8}\n" + body + CONTROL, "m.mdl"))


def run(body: str):
    return mdl(body).run(backend="numpy")


def test_stock_flow_units_and_comments_reach_the_model() -> None:
    m = mdl(
        "Teacup Temperature = INTEG(-Heat Loss, 180) ~ Degrees [32,212] ~ The tea. |\n"
        "Heat Loss = (Teacup Temperature - Room) / Tau ~ Degrees/Month ~ Cooling. |\n"
        "Room = 70 ~ Degrees ~ |\nTau = 10 ~ Month ~ |\n"
    )
    spec = m.spec
    stock = spec.stocks["Teacup_Temperature"]
    assert stock.outflows == ("Heat_Loss",)
    assert stock.units == "Degrees"
    assert stock.doc == "The tea."
    assert spec.flows["Heat_Loss"].units == "Degrees/Month"
    assert spec.constants["Tau"].value == 10
    assert (spec.time.start, spec.time.stop, spec.time.dt, spec.time.units) == (
        0,
        10,
        0.25,
        "Month",
    )
    df = m.run(backend="numpy")
    # Euler: T_k = 70 + 110 (1 - dt/tau)^k
    k = np.arange(len(df))
    assert np.allclose(df["Teacup_Temperature"], 70 + 110 * (1 - 0.25 / 10) ** k, rtol=1e-12)
    assert float(df["Tau"].iloc[0]) == 10  # constants are columns too, as in Vensim


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("MODULO(-10, 3)", -1.0),  # the sign of the dividend
        ("MODULO(7, 3)", 1.0),
        ("INTEGER(-9.5)", -9.0),  # toward zero
        ("QUANTUM(7.5, 2)", 6.0),
        ("QUANTUM(-7.5, 2)", -6.0),
        ("QUANTUM(7.5, -1)", 7.5),
        ("XIDZ(3, 0, 4)", 4.0),
        ("XIDZ(3, 2, 4)", 1.5),
        ("ZIDZ(3, 0)", 0.0),
        ("POWER(-2.3, 3)", -(2.3**3)),
        ("LOG(8, 2)", 3.0),
        ("SINH(0.5)", math.sinh(0.5)),
        ("COSH(0.5)", math.cosh(0.5)),
        ("TANH(0.5)", math.tanh(0.5)),
        ("ARCTAN(1)", math.pi / 4),
        ("-2^2", -4.0),
        ("2^3^2", 512.0),
        ("IF THEN ELSE(1 = 1 :AND: :NOT: 0, 5, 6)", 5.0),
        ("IF THEN ELSE(1 <> 1 :OR: 0, 5, 6)", 6.0),
        ("MIN(3, 4) + MAX(3, 4)", 7.0),
        ("GAME(2)", 2.0),
        ("ELMCOUNT(d)", 3.0),
        ("SUM(v[d!])", 6.0),
        ("PROD(v[d!])", 6.0),
        ("VMAX(v[d!]) - VMIN(v[d!])", 2.0),
    ],
)
def test_functions_against_closed_forms(expr: str, expected: float) -> None:
    df = run(f"d: a, b, c ~~|\nv[d] = 1, 2, 3 ~~|\nx = {expr} ~~|\n")
    assert float(df["x"].iloc[0]) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_time_functions_against_closed_forms() -> None:
    df = run(
        "s = STEP(2, 3) ~~|\nr = RAMP(1.5, 2, 6) ~~|\np = PULSE(2, 1) ~~|\n"
        "tr = PULSE TRAIN(1, 0.5, 3, 8) ~~|\n"
        "held = SAMPLE IF TRUE(Time >= 4 :AND: Time <= 5, Time, -1) ~~|\n"
    )
    t = df.index.to_numpy()
    assert np.allclose(df["s"], np.where(t >= 3, 2.0, 0.0))
    assert np.allclose(df["r"], 1.5 * (np.minimum(t, 6) - np.minimum(t, 2)))
    assert np.allclose(df["p"], np.where((t >= 2) & (t < 3), 1.0, 0.0))
    on = (t >= 1) & (t < 8) & (np.mod(t - 1, 3) < 0.5)
    assert np.allclose(df["tr"], np.where(on, 1.0, 0.0))
    assert np.allclose(df["held"], np.where(t < 4, -1.0, np.minimum(t, 5.0)))


def test_smooth_delay_and_initial_against_closed_forms() -> None:
    df = run(
        "x = 10 ~~|\nsm = SMOOTHI(x, 2, 0) ~~|\nd1 = DELAY1I(x, 2, 0) ~~|\n"
        "fixed = DELAY FIXED(Time, 1, -1) ~~|\nfirst = INITIAL(Time + 3) ~~|\n"
        "sn = SMOOTH N(x, 2, 0, 1) ~~|\n"
    )
    k = np.arange(len(df))
    expected = 10 * (1 - (1 - 0.25 / 2) ** k)  # Euler on s' = (x - s) / 2
    assert np.allclose(df["sm"], expected)
    assert np.allclose(df["d1"], expected)  # a first-order delay of a constant
    assert np.allclose(df["sn"], expected)
    t = df.index.to_numpy()
    assert np.allclose(df["fixed"], np.where(t < 1, -1.0, t - 1))
    assert np.allclose(df["first"], 3.0)


def test_lookups_inline_separate_and_with_lookup() -> None:
    df = run(
        "table([(0,0)-(10,10)], (0,0), (10,5)) ~~|\n"
        "old(0, 10, 0, 5) ~~|\n"
        "a = table(Time) ~~|\nb = old(Time) ~~|\n"
        "c = WITH LOOKUP(Time, ([(0,0)-(4,4)], (0,1), (4,3))) ~~|\n"
    )
    t = df.index.to_numpy()
    assert np.allclose(df["a"], t / 2)
    assert np.allclose(df["b"], t / 2)
    assert np.allclose(df["c"], np.interp(t, [0, 4], [1, 3]))  # held beyond the last point


def test_subscripts_mappings_except_and_number_lists() -> None:
    df = run(
        "d: (e1-e3) ~~|\nsub: e2, e3 ~~|\nother: x, y -> sub ~~|\n"
        "base[d] = 1, 2, 3 ~~|\nmat[d, sub] = 1, 2; 3, 4; 5, 6 ~~|\n"
        "ex[d] :EXCEPT: [e1] = base[d] * 10 ~~|\nex[e1] = -1 ~~|\n"
        "mapped[sub] = from[other] ~~|\nfrom[other] = 7, 8 ~~|\n"
        "pos[d] = d ~~|\n"
    )
    assert [float(df[f"ex[{e}]"].iloc[0]) for e in ("e1", "e2", "e3")] == [-1, 20, 30]
    assert float(df["mat[e3,e2]"].iloc[0]) == 5
    assert [float(df[f"mapped[{e}]"].iloc[0]) for e in ("e2", "e3")] == [7, 8]
    assert [float(df[f"pos[{e}]"].iloc[0]) for e in ("e1", "e2", "e3")] == [1, 2, 3]


def test_macros_are_expanded_per_call() -> None:
    df = run(
        ":MACRO: ACC(rate, start)\nACC = INTEG(rate, start) ~~|\n:END OF MACRO:\n"
        "one = ACC(2, 1) ~~|\ntwo = ACC(-1, 0) ~~|\n"
    )
    t = df.index.to_numpy()
    assert np.allclose(df["one"], 1 + 2 * t)
    assert np.allclose(df["two"], -t)


def test_groups_supplementary_reality_checks_and_sketch_are_accepted() -> None:
    df = run(
        "********************************************************\n\t.Group\n"
        "********************************************************~\n\t\tA group.\n\t|\n"
        "a = 1 ~ ~ ~ :SUPPLEMENTARY |\n"
        "check :THE CONDITION: a = 1 :IMPLIES: a > 0 ~~|\n"
    )
    assert float(df["a"].iloc[0]) == 1


def _error(body: str) -> ModelError:
    with pytest.raises(ModelError) as info:
        mdl(body)
    return info.value


def test_syntax_error_has_file_line_column_and_caret() -> None:
    err = _error("a = 1 ~~|\nb = (a + ~~|\n")
    assert isinstance(err, ParseError)
    assert str(err).startswith("m.mdl:3:")
    assert "^" in str(err)


def test_unknown_function_is_named_with_a_hint() -> None:
    err = _error("a = SMOOTHE(1, 2) ~~|\n")
    assert isinstance(err, UndefinedNameError)
    assert "unknown function SMOOTHE (did you mean SMOOTH" in err.message
    assert (err.loc.line, err.loc.col) == (2, 5)


def test_data_variables_and_external_files_are_refused_by_name() -> None:
    err = _error("imported := GET XLS DATA('a.xls', 'b', '1', 'B2') ~~|\n")
    assert isinstance(err, UnsupportedError)
    assert "'imported' is a data variable" in err.message
    err = _error("a = GET DIRECT CONSTANTS('a.csv', ',', 'B2') ~~|\n")
    assert isinstance(err, UnsupportedError)
    assert "GET DIRECT CONSTANTS reads an external file" in err.message


def test_undefined_names_and_elements_are_located() -> None:
    err = _error("a = b + 1 ~~|\nbee = 2 ~~|\n")
    assert "undefined name 'b' in 'a'" in err.message
    err = _error("d: x, y ~~|\nv[d] = 1, 2 ~~|\nw = v[z] ~~|\n")
    assert "'z' is not a subscript range or element" in err.message
    assert err.loc.line == 4
    err = _error("d: x, y ~~|\nv[d] = 1, 2, 3 ~~|\n")
    assert "lists 3 values for 2 elements" in err.message


def test_cli_runs_checks_and_converts_mdl_with_any_case_of_extension(tmp_path: Path) -> None:
    model = tmp_path / "teacup.MDL"
    model.write_text("Temp = INTEG(-Loss, 180) ~~|\nLoss = (Temp - 70) / 10 ~~|\n" + CONTROL)
    runner = CliRunner()
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["run", str(model), "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert "Temp" in out.read_text().splitlines()[0]
    r = runner.invoke(app, ["check", str(model)])
    assert r.exit_code == 0, r.output
    yaml_out = tmp_path / "teacup.yaml"
    r = runner.invoke(app, ["convert", str(model), "-o", str(yaml_out)])
    assert r.exit_code == 0, r.output
    assert "Temp" in yaml_out.read_text()
    bad = tmp_path / "bad.mdl"
    bad.write_text("a = (1 ~~|\n" + CONTROL)
    r = runner.invoke(app, ["check", str(bad)])
    assert r.exit_code == 1
    assert "bad.mdl:1:" in r.output


def test_active_initial_is_the_initial_value_where_initial_values_are_computed() -> None:
    df = run("a = ACTIVE INITIAL(s * 2, 5) ~~|\ns = INTEG(0, a) ~~|\nm = SMOOTH(a, 1) ~~|\n")
    assert np.allclose(df["s"], 5.0)  # s starts from a's initial value, not from s * 2
    assert np.allclose(df["a"], 10.0)  # during the run a is its equation
    assert float(df["m"].iloc[0]) == 5.0  # the smooth starts from it too


def test_delay_n_of_a_constant_delay_is_the_n_stage_chain() -> None:
    df = run("x = STEP(1, 1) ~~|\nd = DELAY N(x, 2, 0, 3) ~~|\ne = DELAY3(x, 2) ~~|\n")
    assert np.allclose(df["d"], df["e"], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ("1e9", "asks for 1,000,000,000 stages, more than the limit"),  # was minutes of build
        ("1/0", "the order must be"),  # was an OverflowError
        ("0/0", "the order must be"),
    ],
)
@pytest.mark.parametrize("call", ["DELAY N(x, 2, 0, {})", "SMOOTH N(x, 2, 0, {})"])
def test_an_order_too_large_or_not_finite_is_refused_at_once(
    call: str, order: str, message: str
) -> None:
    err = _error(f"x = STEP(1, 1) ~~|\nd = {call.format(order)} ~~|\n")
    assert message in err.message


def test_hostile_equations_are_refused_with_their_position() -> None:
    deep = "ABS(" * 100 + "1" + ")" * 100
    err = _error(f"a = {deep} ~~|\n")
    assert "nested more than 64 levels" in err.message
    assert err.loc.line == 2
    err = _error("a = " + "+".join(["1"] * 60_000) + " ~~|\n")
    assert "more than the limit of 100,000" in err.message


def test_a_clock_no_run_can_follow_is_refused_at_final_time() -> None:
    body = "a = 1 ~~|\nINITIAL TIME = 5 ~~|\nFINAL TIME = 1 ~~|\nTIME STEP = 1 ~~|\n"
    with pytest.raises(ModelError) as info:
        parse_model(body, "m.mdl")
    assert "must be after time.start" in info.value.message
    assert info.value.loc.line == 3


def test_a_number_list_with_something_else_in_it_is_refused_at_the_item() -> None:
    # Found by the fuzzer: one regular expression over the whole list backtracked
    # exponentially when a long list failed at its end (tests/fuzz/regressions/hang-2-*).
    err = _error("d: (e1-e40) ~~|\nv[d] = " + ", ".join(map(str, range(39))) + ", TIME STEP ~~|\n")
    assert isinstance(err, ParseError)
    assert err.message == "a list of numbers holds numbers only, not 'TIME STEP'"
    assert (err.loc.line, err.loc.col) == (3, 8 + len(", ".join(map(str, range(39)))) + 2)
    df = run("d: (e1-e3) ~~|\nv[d] = 1.5e1, -2., .25; ~~|\n")
    assert [float(df[f"v[{e}]"].iloc[0]) for e in ("e1", "e2", "e3")] == [15, -2, 0.25]


def test_an_equivalence_with_nothing_after_it_is_refused_at_the_arrow() -> None:
    # Found by the fuzzer (tests/fuzz/regressions/crash-4-2312.mdl): an IndexError.
    err = _error("d: x, y ~~|\ne <-> ~~|\n")
    assert isinstance(err, ParseError)
    assert err.message == "'e' <-> needs the range it equals"
    assert (err.loc.line, err.loc.col) == (3, 3)


def test_subscripts_that_expand_past_the_limit_are_refused_before_building(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    err = _error("d: (a1-a100000000) ~~|\nx[d] = 1 ~~|\n")
    assert err.message == (
        "subscript range 'd' would have 100,000,000 elements, more than the limit of "
        "100,000; raise it with QUIDPRO_MAX_ELEMENTS=N"
    )
    assert err.loc.line == 2
    monkeypatch.setenv("QUIDPRO_MAX_ELEMENTS", "50")
    ranges = "a: (a1-a10) ~~|\nb: (b1-b10) ~~|\nx[a] = 1 ~~|\nz[b] = 2 ~~|\n"
    err = _error(ranges + "m[a, b] = 1 ~~|\n")
    assert err.message.startswith("m[a, b] would have 100 elements, more than the limit of 50")
    err = _error(ranges + "y = SUM(x[a!] * z[b!]) ~~|\n")
    assert err.message.startswith("the SUM in 'y' would have 100 elements")
    err = _error(ranges + "w[a] = x[a] ~~|\nv[b] = z[b] ~~|\nu[a] = 3 ~~|\n")
    assert re.fullmatch(
        r"the model would have 5\d elements, more than the limit of 50; .*", err.message
    )
    monkeypatch.setenv("QUIDPRO_MAX_ELEMENTS", "130")
    assert float(run(ranges + "m[a, b] = 1 ~~|\n")["m[a10,b10]"].iloc[0]) == 1


def test_numbers_that_overflow_and_a_saveper_of_zero_are_refused_where_written() -> None:
    # Found by the fuzzer (tests/fuzz/regressions/crash-6-2882.mdl): -1e400 reached
    # the kernel as -inf, a NameError there.
    err = _error("s = INTEG(1, -1e400) ~~|\n")
    assert err.message == "the number 1e400 is too large for a double (at most about 1.8e308)"
    assert (err.loc.line, err.loc.col) == (2, 15)
    err = _error("l((0,0),(1e999,1)) ~~|\na = l(1) ~~|\n")
    assert "the number 1e999 is too large" in err.message
    err = _error("d: x, y ~~|\nv[d] = 1, 1e400 ~~|\n")
    assert (err.loc.line, err.loc.col) == (3, 10)
    with pytest.raises(ModelError, match="SAVEPER must be positive"):
        parse_model(
            "a = 1 ~~|\nINITIAL TIME = 0 ~~|\nFINAL TIME = 1 ~~|\n"
            "TIME STEP = 1 ~~|\nSAVEPER = 0 ~~|\n",
            "m.mdl",
        )
    with pytest.raises(ModelError, match="FINAL TIME must be a number at the start"):
        parse_model(
            "INITIAL TIME = 0 ~~|\nFINAL TIME = EXP(1000) ~~|\nTIME STEP = 1 ~~|\n", "m.mdl"
        )
