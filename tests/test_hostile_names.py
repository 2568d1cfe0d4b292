"""Names the compiler owns (issue 13): no model name can enter the generated namespace."""

from __future__ import annotations

import pytest

from quidpro.errors import ModelError
from quidpro.io.load import parse_model
from quidpro.model.check import GENERATED

YAML = """quidpro: 1
name: t
time: {start: 0, stop: 4, dt: 1}
stocks:
  s: {initial: 1, inflows: [f]}
flows:
  f: 0.1 * s
auxiliaries:
  a: smooth(s, 2)
  NAME: 1000
"""

XMILE = """<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header><name>t</name></header>
  <sim_specs><start>0</start><stop>4</stop><dt>1</dt></sim_specs>
  <model><variables>
    <aux name="NAME"><eqn>1</eqn></aux>
  </variables></model>
</xmile>
"""


@pytest.mark.parametrize("name", ["_a__smooth1", "_f__raw", "_a__fixed1", "___x"])
def test_a_generated_name_in_yaml_is_refused(name: str) -> None:
    with pytest.raises(ModelError) as info:
        parse_model(YAML.replace("NAME", name), "m.yaml")
    assert info.value.message == (
        f"{name!r} is in the namespace quidpro keeps for generated names "
        "(a leading '_' with a '__' after it); choose another name"
    )
    assert (info.value.loc.file, info.value.loc.line) == ("m.yaml", 10)


def test_xmile_names_cannot_reach_the_generated_namespace() -> None:
    # XMILE names are normalised (underscore runs collapse, leading ones drop), so the
    # spelling of a generated name becomes an ordinary one.
    model = parse_model(XMILE.replace("NAME", "_a__smooth1"), "m.xmile")
    assert list(model.constants) == ["a_smooth1"]
    assert GENERATED.match("a_smooth1") is None


@pytest.mark.parametrize("name", ["_private", "a__b", "x_"])
def test_names_outside_the_namespace_are_fine(name: str) -> None:
    model = parse_model(YAML.replace("NAME", name), "m.yaml")
    assert name in model.auxiliaries
