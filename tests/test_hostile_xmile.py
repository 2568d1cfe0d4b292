"""Hostile XMILE files (issue 13): each gives one exact, located error, never a traceback.

Every case is a small XMILE file with one part made hostile (a clock, a nesting, an
expansion, a name); the expected outcome is the error's ``file:line:col`` and message.
"""

from __future__ import annotations

import pytest

from quidpro.api import LoadedModel
from quidpro.errors import DuplicateNameError, ModelError, ParseError, QuidproError
from quidpro.io.load import parse_model

SPECS = "<start>0</start><stop>4</stop><dt>1</dt>"
AUX = '<aux name="a"><eqn>1</eqn></aux>'


def xmile(specs: str = SPECS, variables: str = AUX, models: str = "", dims: str = "") -> str:
    """A small XMILE 1.0 file; line 4 holds the clock and dimensions, line 6 the variables."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header><name>t</name></header>
  <sim_specs>{specs}</sim_specs>{dims}
  <model><variables>
    {variables}
  </variables></model>{models}
</xmile>
"""


def _aux(eqn: str, extra: str = "") -> str:
    return f'<aux name="a"><eqn>{eqn}</eqn>{extra}</aux>'


def nested_modules(levels: int, width: int) -> str:
    """Models l0..l{levels-1}: each holds ``width`` modules of the next; the last one aux."""
    out = []
    for i in range(levels):
        last = i + 1 == levels
        inner = (
            '<aux name="v"><eqn>1</eqn></aux>'
            if last
            else "".join(f'<module name="m{j}" model="l{i + 1}"/>' for j in range(width))
        )
        out.append(f'<model name="l{i}"><variables>{inner}</variables></model>')
    return "".join(out)


EIGHT_DIMS = (
    "<dimensions>" + "".join(f'<dim name="d{i}" size="10"/>' for i in range(8)) + "</dimensions>"
)
EIGHT_DIM_AUX = (
    '<aux name="a"><dimensions>'
    + "".join(f'<dim name="d{i}"/>' for i in range(8))
    + "</dimensions><eqn>1</eqn></aux>"
)
VARIABLE_LIMIT = "more than the limit of 100,000; raise the limit with QUIDPRO_MAX_VARIABLES=N"
DEEP = "the expression is nested too deeply; split it into auxiliaries"

CASES = [
    (
        "dt nan",
        xmile(specs="<start>0</start><stop>4</stop><dt>nan</dt>"),
        "m.xmile:4:51",
        "<dt> must be a finite positive number, got nan",
    ),
    *(
        (
            f"reciprocal dt {value}",
            xmile(specs=f'<start>0</start><stop>4</stop><dt reciprocal="true">{value}</dt>'),
            f"m.xmile:4:{67 + (value == '-1') + 2 * (value == 'inf')}",
            '<dt reciprocal="true"> (steps per time unit) must be a finite positive number, '
            f"got {value}",
        )
        for value in ("inf", "0", "-1")
    ),
    ("100 parentheses", xmile(variables=_aux("(" * 100 + "1" + ")" * 100)), "m.xmile:6:225", DEEP),
    (
        "1,000 IFs",
        xmile(variables=_aux("IF 1 THEN " * 1000 + "1" + " ELSE 0" * 1000)),
        "m.xmile:6:24",
        DEEP,
    ),
    (
        "doc 1,000 deep",
        xmile(variables=_aux("1", "<doc>" * 1000 + "x" + "</doc>" * 1000)),
        "m.xmile:6:336",
        "XML elements are nested more than 64 deep here; an XMILE file never needs that",
    ),
    (
        "modules of 10^7 variables",
        xmile(variables='<module name="m" model="l0"/>', models=nested_modules(8, 10)),
        "m.xmile:5:3",
        f"the model's modules and arrays would expand to 21,111,111 variables, {VARIABLE_LIMIT}",
    ),
    (
        "eight dimensions of ten",
        xmile(dims=EIGHT_DIMS, variables=EIGHT_DIM_AUX),
        "m.xmile:5:3",
        f"the model's modules and arrays would expand to 100,000,000 variables, {VARIABLE_LIMIT}",
    ),
    (
        "a dimension of 10^9",
        xmile(dims='<dimensions><dim name="d" size="1e9"/></dimensions>'),
        "m.xmile:4:78",
        f"dimension 'd' would expand to 1,000,000,000 variables, {VARIABLE_LIMIT}",
    ),
    (
        "a 1.2 MB expression",
        xmile(variables=_aux("+".join(["1"] * 600_000))),
        "m.xmile:6:24",
        "the expression is 1,199,999 characters long, more than the limit of 100,000; "
        "split it into auxiliaries",
    ),
    (
        "200 powers",
        xmile(variables=_aux("^".join(["1"] * 200))),
        "m.xmile:6:423",
        "the expression is nested more than 64 levels deep; split it into auxiliaries",
    ),
    (
        "x[a] beside an arrayed x",
        xmile(
            dims='<dimensions><dim name="d"><elem name="a"/><elem name="b"/></dim></dimensions>',
            variables='<aux name="x"><dimensions><dim name="d"/></dimensions><eqn>1</eqn></aux>'
            '<aux name="x[a]"><eqn>5</eqn></aux>',
        ),
        "m.xmile:6:77",
        "'x[a]' is defined twice (first at line 6, as an element of the array 'x')",
    ),
]


@pytest.mark.parametrize(
    ("text", "where", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_hostile_xmile_is_a_located_error(text: str, where: str, message: str) -> None:
    with pytest.raises(QuidproError) as info:
        LoadedModel(parse_model(text, "m.xmile"))
    err = info.value
    assert isinstance(err, ModelError | ParseError)
    assert (str(err.loc), err.message) == (where, message)


def test_a_name_defined_twice_is_a_duplicate_error() -> None:
    text = xmile(variables=AUX + AUX.replace('"a"', '"b"') + '<aux name="b"><eqn>2</eqn></aux>')
    with pytest.raises(DuplicateNameError, match="'b' is defined twice"):
        parse_model(text, "m.xmile")


def test_modules_and_arrays_within_the_limit_expand() -> None:
    # 10 modules of 10 modules of one aux: 100 leaves and 110 module nodes counted.
    text = xmile(variables='<module name="m" model="l0"/>', models=nested_modules(3, 10))
    model = parse_model(text, "m.xmile")
    assert len(model.constants) + len(model.auxiliaries) == 100
    assert "m.m3.m7.v" in model.constants
    dims = '<dimensions><dim name="d" size="3"/><dim name="e" size="4"/></dimensions>'
    aux = '<aux name="a"><dimensions><dim name="d"/><dim name="e"/></dimensions><eqn>1</eqn></aux>'
    assert len(parse_model(xmile(dims=dims, variables=aux), "m.xmile").constants) == 12


def test_xml_nested_to_the_limit_is_read() -> None:
    # <xmile><model><variables><aux><doc>...: 4 levels above the 60 docs.
    text = xmile(variables=_aux("1", "<doc>" * 60 + "x" + "</doc>" * 60))
    assert "a" in parse_model(text, "m.xmile").constants
