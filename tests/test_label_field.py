"""The ``label`` field of format v1: a short plain-language label per variable.

Read by the YAML reader (one line, at most 60 characters, else an error at its line),
kept by the writer, and used for titles by the page, the brief and ``run --plot``;
without one a label is made from the name.
"""

from __future__ import annotations

import pytest

import quidpro
from quidpro.errors import QuidproError
from quidpro.io.yaml_writer import model_to_yaml
from quidpro.model.parse import parse_model
from quidpro.report.labels import label_of
from quidpro.web.page_data import default_variables

TEXT = """\
quidpro: 1
name: labelled
time: {start: 0, stop: 4, dt: 1}
constants:
  growth_rate: {value: 0.1, label: "Yearly growth", units: 1/year}
  summit_time: {value: 2, units: year}
stocks:
  nk_stock:
    initial: 1
    inflows: [gain]
    label: "The stock"
flows:
  gain: {equation: "growth_rate * nk_stock", label: "Growth of the stock"}
auxiliaries:
  double: {equation: "2 * nk_stock"}
"""


def test_labels_are_read_and_used() -> None:
    spec = parse_model(TEXT, "labelled.yaml")
    assert spec.constants["growth_rate"].label == "Yearly growth"
    assert spec.stocks["nk_stock"].label == "The stock"
    assert spec.flows["gain"].label == "Growth of the stock"
    assert spec.auxiliaries["double"].label is None
    assert label_of(spec, "gain") == "Growth of the stock"
    assert label_of(spec, "double") == "Double"  # made from the name
    assert label_of(spec, "summit_time") == "Summit"  # a dated constant: its event
    assert label_of(None, "nk_stock") == "NK stock"


def test_the_writer_keeps_labels() -> None:
    spec = parse_model(TEXT, "labelled.yaml")
    again = parse_model(model_to_yaml(spec), "again.yaml")
    for name in ("growth_rate", "nk_stock", "gain"):
        assert label_of(again, name) == label_of(spec, name)


@pytest.mark.parametrize(
    ("label", "line"),
    [('"two\\nlines"', 5), ('"' + "x" * 61 + '"', 5), ('"  "', 5)],
)
def test_a_bad_label_is_an_error_at_its_line(label: str, line: int) -> None:
    text = TEXT.replace('label: "Yearly growth"', f"label: {label}")
    with pytest.raises(QuidproError, match="label of 'growth_rate' must be one line") as exc:
        parse_model(text, "bad.yaml")
    assert f"bad.yaml:{line}:" in str(exc.value)


def test_flagship_labels_its_sliders_charts_and_levers() -> None:
    from quidpro.report.labels import date_levers, dated_events
    from quidpro.web.levers import slider_candidates

    m = quidpro.load("nk_russia")
    spec = m.spec
    items = {**spec.constants, **spec.stocks}
    named = [*default_variables(m), *spec.stocks, *date_levers(spec)]
    named += [e["name"] for e in dated_events(spec)]
    for n in named:
        assert items[n].label, n
    labelled = [n for n in slider_candidates(spec) if spec.constants[n].label]
    assert len(labelled) >= 8
    assert all(len(items[n].label or "") <= 60 for n in named)
