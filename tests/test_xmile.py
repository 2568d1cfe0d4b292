"""The XMILE reader: sim_specs, names, builtins, graphical functions, modules, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import quidpro
from quidpro.errors import ModelError, ParseError, UndefinedNameError, UnsupportedError
from quidpro.io.load import parse_model

OASIS = "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"
OLD = "http://www.systemdynamics.org/XMILE"


def xmile(variables: str, specs: str = "", ns: str = OASIS, extra: str = "") -> str:
    specs = specs or "<start>0</start><stop>10</stop><dt>1</dt>"
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<xmile version="1.0" xmlns="{ns}">\n'
        f"<header><name>t</name></header>\n<sim_specs>{specs}</sim_specs>\n{extra}"
        f"<model><variables>\n{variables}\n</variables></model>\n</xmile>\n"
    )


def run(text: str, tmp_path: Path, **kw: object):
    p = tmp_path / "m.xmile"
    p.write_text(text)
    return quidpro.load(p).run(**kw)  # type: ignore[arg-type]


def test_teacup_like_model_and_names(tmp_path: Path) -> None:
    df = run(
        xmile(
            '<stock name="Teacup Temperature"><eqn>180</eqn>'
            '<outflow>"Heat Loss to Room"</outflow></stock>\n'
            '<flow name="Heat_Loss to Room"><eqn>("teacup temperature" - '
            "Room_Temperature) / Characteristic_Time {a comment}</eqn></flow>\n"
            '<aux name="Room Temperature"><eqn>70</eqn></aux>\n'
            '<aux name="characteristic time"><eqn>10</eqn><units>minutes</units></aux>'
        ),
        tmp_path,
    )
    assert list(df.columns) == ["Teacup_Temperature", "Heat_Loss_to_Room"]
    assert df["Teacup_Temperature"].iloc[1] == pytest.approx(180 - 11)


def test_pre_oasis_namespace_and_reciprocal_dt(tmp_path: Path) -> None:
    text = xmile(
        '<stock name="s"><eqn>0</eqn><inflow>f</inflow></stock><flow name="f"><eqn>1</eqn></flow>',
        specs='<start>0</start><stop>2</stop><dt reciprocal="true">4</dt>',
        ns=OLD,
    )
    df = run(text, tmp_path)
    assert len(df) == 9
    assert df["s"].iloc[-1] == pytest.approx(2.0)


def test_plain_numbers_become_constants(tmp_path: Path) -> None:
    p = tmp_path / "m.xmile"
    p.write_text(xmile('<aux name="k"><eqn>-2</eqn></aux><aux name="y"><eqn>k * TIME</eqn></aux>'))
    m = quidpro.load(p)
    assert "k" in m.spec.constants
    assert m.spec.dynamic_initials
    assert m.run(set={"k": 3})["y"].iloc[-1] == 30


BUILTIN_CASES = [
    (
        "ABS(-3) + INT(2.7) + (7 MOD 3) + SQRT(4) + EXP(0) + LN(1) + LOG10(100)",
        3 + 2 + 1 + 2 + 1 + 0 + 2,
    ),
    ("MIN(3, 4) + MAX(3, 4) + PI - PI + SIN(0) + COS(0) + TAN(0)", 3 + 4 + 1),
    ("ARCSIN(0) + ARCCOS(1) + ARCTAN(0) + SAFEDIV(1, 0) + SAFEDIV(1, 0, 5)", 5),
    ("IF 1 = 1 AND NOT (2 <> 2) OR 0 THEN 1 ELSE 0", 1),
    ("STARTTIME + STOPTIME + DT", 0 + 10 + 1),
]


@pytest.mark.parametrize(("eqn", "value"), BUILTIN_CASES)
def test_pure_builtins(tmp_path: Path, eqn: str, value: float) -> None:
    df = run(
        xmile(f'<aux name="y"><eqn>{eqn.replace("<", "&lt;").replace(">", "&gt;")}</eqn></aux>'),
        tmp_path,
    )
    assert df["y"].iloc[0] == pytest.approx(value)


def test_time_and_stateful_builtins_match_quidpro(tmp_path: Path) -> None:
    """Each XMILE builtin gives what its quidpro counterpart gives."""
    pairs = {
        "STEP(2, 3)": "step(2, 3)",
        "RAMP(1, 2, 5)": "ramp(1, 2, 5)",
        "PULSE(5, 2, 3)": "pulse(5, 2, 3)",
        "SMTH1(TIME, 2)": "smooth(time, 2)",
        "SMTH3(TIME, 3, 1)": "smooth3(time, 3, 1)",
        "SMTHN(TIME, 3, 4)": "smoothn(time, 3, 4)",
        "DELAY1(TIME, 2)": "delay1(time, 2)",
        "DELAY3(TIME, 3)": "delay3(time, 3)",
        "DELAYN(TIME, 3, 2)": "delayn(time, 3, 2)",
        "DELAY(TIME, 2)": "delay_fixed(time, 2, time)",
        "DELAY(TIME, 2, 7)": "delay_fixed(time, 2, 7)",
        "TREND(TIME + 1, 2)": "trend(time + 1, 2)",
        "FORCST(TIME + 1, 2, 3)": "forcst(time + 1, 2, 3)",
        "INIT(TIME + 4)": "init(time + 4)",
        "PREVIOUS(TIME, 9)": "previous(time, 9)",
    }
    xs = "\n".join(f'<aux name="x{i}"><eqn>{k}</eqn></aux>' for i, k in enumerate(pairs))
    ys = "\n".join(f"  x{i}: {v}" for i, v in enumerate(pairs.values()))
    ours = run(xmile(xs), tmp_path)
    yaml = tmp_path / "m.yaml"
    yaml.write_text(
        f"quidpro: 1\nname: t\ntime: {{start: 0, stop: 10, dt: 1}}\nauxiliaries:\n{ys}\n"
    )
    ref = quidpro.load(yaml).run()
    for col in ref.columns:
        np.testing.assert_allclose(ours[col], ref[col], err_msg=col)


def test_graphical_functions(tmp_path: Path) -> None:
    df = run(
        xmile(
            '<gf name="table"><xscale min="0" max="10"/><ypts>0,10,0</ypts></gf>\n'
            '<aux name="a"><eqn>table(TIME)</eqn></aux>\n'
            '<aux name="b"><eqn>LOOKUP(table, 2.5)</eqn></aux>\n'
            '<aux name="c"><eqn>TIME</eqn><gf type="extrapolate"><xpts>0,1</xpts>'
            "<ypts>0,2</ypts></gf></aux>\n"
            '<aux name="d"><eqn>TIME</eqn><gf type="discrete">'
            "<xpts>0,5</xpts><ypts>1,2</ypts></gf></aux>"
        ),
        tmp_path,
    )
    assert df["a"].iloc[5] == 10
    assert df["a"].iloc[10] == 0
    assert df["b"].iloc[0] == 5
    assert df["c"].iloc[10] == 20  # extrapolated
    assert list(df["d"].iloc[[0, 4, 5, 9]]) == [1, 1, 2, 2]


def test_graphical_function_xpts_with_separator(tmp_path: Path) -> None:
    text = xmile(
        '<aux name="c"><eqn>TIME</eqn><gf><xpts sep=";">0;10</xpts>'
        '<ypts sep=";">0;1</ypts></gf></aux>'
    )
    assert run(text, tmp_path)["c"].iloc[5] == pytest.approx(0.5)


def test_non_negative_behavior_cascade(tmp_path: Path) -> None:
    body = (
        '<stock name="a"><eqn>3</eqn><outflow>f</outflow></stock>\n'
        '<stock name="b"><eqn>3</eqn><outflow>g</outflow>'
        "<non_negative>false</non_negative></stock>\n"
        '<flow name="f"><eqn>2</eqn></flow><flow name="g"><eqn>2</eqn></flow>\n'
        '<flow name="h"><eqn>-1</eqn><non_negative/></flow>'
    )
    behavior = "<behavior><stock><non_negative/></stock></behavior>\n"
    df = run(xmile(body, extra=behavior), tmp_path)
    assert df["a"].min() == 0  # floored
    assert df["b"].iloc[-1] == 3 - 20  # explicitly not non-negative
    assert df["f"].iloc[-1] == 2  # XMILE: the flow reports its own equation
    assert df["h"].iloc[0] == 0


def test_modules_are_flattened(tmp_path: Path) -> None:
    text = (
        f'<xmile version="1.0" xmlns="{OASIS}"><header/><sim_specs><stop>4</stop></sim_specs>'
        '<model><variables><aux name="rate"><eqn>2</eqn></aux>'
        '<module name="m"><connect to="r" from=".rate"/></module>'
        '<aux name="twice"><eqn>m.s * 2</eqn></aux></variables></model>'
        '<model name="m"><variables><stock name="s"><eqn>0</eqn><inflow>f</inflow></stock>'
        '<flow name="f"><eqn>r</eqn></flow><aux name="r"><eqn>1</eqn></aux></variables></model>'
        "</xmile>"
    )
    df = run(text, tmp_path)
    assert df["m.s"].iloc[-1] == 8
    assert df["twice"].iloc[-1] == 16


def test_xmile_arrays(tmp_path: Path) -> None:
    dims = (
        '<dimensions><dim name="d"><elem name="a"/><elem name="b"/></dim>'
        '<dim name="n" size="3"/></dimensions>\n'
    )
    body = (
        '<aux name="x"><dimensions><dim name="d"/></dimensions><eqn>1, 2</eqn></aux>\n'
        '<aux name="y"><dimensions><dim name="d"/></dimensions><eqn>x[d] * 10</eqn></aux>\n'
        '<aux name="z"><dimensions><dim name="n"/></dimensions><element subscript="1"><eqn>1</eqn>'
        '</element><element subscript="2"><eqn>5</eqn></element><element subscript="3">'
        "<eqn>3</eqn></element></aux>\n"
        '<aux name="s"><eqn>SUM(y[*]) + MEAN(z[*]) + MAX(z[*]) + MIN(x[*]) + y[b]</eqn></aux>'
    )
    df = run(xmile(body, extra=dims), tmp_path)
    assert df["y[b]"].iloc[0] == 20
    assert df["s"].iloc[0] == 30 + 3 + 5 + 1 + 20


@pytest.mark.parametrize(
    ("body", "error", "message", "line"),
    [
        (
            '<stock name="belt"><eqn>0</eqn><conveyor><len>2</len></conveyor></stock>',
            UnsupportedError,
            "conveyor",
            6,
        ),
        ('<stock name="q"><eqn>0</eqn><queue/></stock>', UnsupportedError, "queue", 6),
        (
            '<aux name="y"><eqn>NORMAL(0, 1, 1, 0, 5)</eqn></aux>',
            UnsupportedError,
            "NORMAL with bounds",
            6,
        ),
        ('<aux name="y"><eqn>FOO(1)</eqn></aux>', UndefinedNameError, "unknown function 'FOO'", 6),
        (
            '<aux name="y"><eqn>tme + 1</eqn></aux><aux name="time_x"><eqn>1</eqn></aux>',
            UndefinedNameError,
            "undefined name 'tme'",
            6,
        ),
        ('<aux name="y"><eqn>1 +</eqn></aux>', ParseError, "syntax error", 6),
        ('<aux name="y"><eqn></eqn></aux>', ParseError, "no <eqn>", 6),
        (
            '<aux name="y"><eqn>1</eqn></aux><aux name="Y"><eqn>2</eqn></aux>',
            ModelError,
            "defined twice",
            6,
        ),
    ],
)
def test_errors_name_the_element_and_line(
    body: str, error: type[Exception], message: str, line: int
) -> None:
    with pytest.raises(error) as exc:
        parse_model(xmile(body), "m.xmile")
    assert message in str(exc.value)
    assert exc.value.loc.line == line  # type: ignore[attr-defined]


def test_macros_are_refused() -> None:
    text = xmile(
        '<aux name="y"><eqn>1</eqn></aux>', extra='<macro name="twice"><eqn>2*x</eqn></macro>\n'
    )
    with pytest.raises(UnsupportedError, match="macro 'twice'") as exc:
        parse_model(text, "m.xmile")
    assert exc.value.loc.line == 5


def test_malformed_xml_names_its_line() -> None:
    with pytest.raises(ParseError, match="XML syntax error") as exc:
        parse_model("<xmile>\n<model>\n<variables>\n</model>\n", "bad.xmile")
    assert exc.value.loc.line == 4


def test_doctype_and_entities_are_refused() -> None:
    text = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<xmile/>'
    with pytest.raises(ParseError, match="DOCTYPE"):
        parse_model(text, "evil.xmile")


def test_unsupported_method_is_an_error() -> None:
    text = xmile('<aux name="y"><eqn>1</eqn></aux>').replace(
        "<sim_specs>", '<sim_specs method="Gear">'
    )
    with pytest.raises(UnsupportedError, match="Gear"):
        parse_model(text, "m.xmile")


def test_cli_runs_xmile(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from quidpro.cli.main import app

    p = tmp_path / "m.xmile"
    p.write_text(xmile('<aux name="y"><eqn>FOO(1)</eqn></aux>'))
    result = CliRunner().invoke(app, ["run", str(p)])
    assert result.exit_code == 1
    assert f"{p}:6:" in result.output


def test_self_refers_to_the_variable(tmp_path: Path) -> None:
    df = run(xmile('<aux name="count"><eqn>PREVIOUS(SELF, 0) + 1</eqn></aux>'), tmp_path)
    assert list(df["count"].iloc[:4]) == [1, 2, 3, 4]


def test_a_connection_to_nothing_is_an_error() -> None:
    text = (
        f'<xmile xmlns="{OASIS}"><sim_specs><stop>4</stop></sim_specs>\n'
        '<model><variables><aux name="rate"><eqn>2</eqn></aux>\n'
        '<module name="m"><connect to="rte" from=".rate"/></module></variables></model>\n'
        '<model name="m"><variables><aux name="r"><eqn>1</eqn></aux></variables></model></xmile>'
    )
    with pytest.raises(UndefinedNameError, match="connects to 'rte'") as exc:
        parse_model(text, "m.xmile")
    assert exc.value.loc.line == 3
