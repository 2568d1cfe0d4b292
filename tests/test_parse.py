"""The expression grammar, the YAML reader and the model builder: trees, positions, forms."""

from __future__ import annotations

import datetime

import pytest

from quidpro.errors import Loc, ModelError, ParseError, UndefinedNameError
from quidpro.io.load import parse_model
from quidpro.lang.ast import Binary, Call, Index, Name, Num, Unary, names, walk
from quidpro.lang.expr import parse_expression
from quidpro.lang.yaml_reader import read_yaml

a, b, c = Name("a"), Name("b"), Name("c")


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a + b * c", Binary("+", a, Binary("*", b, c))),
        ("(a + b) * c", Binary("*", Binary("+", a, b), c)),
        ("a - b - c", Binary("-", Binary("-", a, b), c)),
        ("a / b / c", Binary("/", Binary("/", a, b), c)),
        ("a ^ b ^ c", Binary("^", a, Binary("^", b, c))),
        ("-a ^ b", Unary("-", Binary("^", a, b))),
        ("a ^ -b", Binary("^", a, Unary("-", b))),
        ("-a * b", Binary("*", Unary("-", a), b)),
        ("a < b + c", Binary("<", a, Binary("+", b, c))),
        ("not a == b", Unary("not", Binary("==", a, b))),
        ("a or b and c", Binary("or", a, Binary("and", b, c))),
        ("not a and b", Binary("and", Unary("not", a), b)),
        ("a and b and c", Binary("and", Binary("and", a, b), c)),
        ("f()", Call("f", ())),
        ("f(a, b + 1)", Call("f", (a, Binary("+", b, Num(1.0))))),
        ("x[a, *]", Index("x", ("a", "*"))),
        ("1.", Num(1.0)),
        (".5", Num(0.5)),
        ("1e-3", Num(0.001)),
        ("2.5E+2", Num(250.0)),
        ("  a\n  +\tb  ", Binary("+", a, b)),
        (
            "android + order + notice",
            Binary("+", Binary("+", Name("android"), Name("order")), Name("notice")),
        ),
    ],
)
def test_trees(text: str, tree: object) -> None:
    assert parse_expression(text) == tree


def test_numbers_given_as_yaml_numbers() -> None:
    assert parse_expression(3) == Num(3.0)
    assert parse_expression(2.5) == Num(2.5)
    with pytest.raises(ParseError, match="expected an expression, got True"):
        parse_expression(True)


def test_every_node_knows_its_position() -> None:
    where = Loc("m.yaml", 7, 10, "  flow_a: birth_rate * pop + min(a, 2)")
    tree = parse_expression("birth_rate * pop + min(a, 2)", where)
    locs = {
        (n.id if isinstance(n, Name) else n.func if isinstance(n, Call) else None): n.loc
        for n in walk(tree)
        if isinstance(n, Name | Call)
    }
    assert str(locs["birth_rate"]) == "m.yaml:7:10"
    assert str(locs["pop"]) == "m.yaml:7:23"
    assert str(locs["min"]) == "m.yaml:7:29"
    assert str(locs["a"]) == "m.yaml:7:33"
    assert locs["a"].source_line == where.source_line


def test_positions_on_later_lines_of_an_expression() -> None:
    where = Loc("m.yaml", 3, 8, "  a: (x +")
    tree = parse_expression("(x +\n    yy)", where)
    assert isinstance(tree, Binary)
    assert str(tree.right.loc) == "m.yaml:4:5"
    assert tree.right.loc.source_line == "    yy)"


def test_names_collects_every_reference() -> None:
    tree = parse_expression("a + f(b, x[c]) * time - lk(dt)")
    assert names(tree) == {"a", "b", "x", "time", "dt"}


def test_yaml_reader_keeps_key_and_value_positions() -> None:
    root = read_yaml("quidpro: 1\nstocks:\n  pop:\n    initial: 10\n", "f.yaml")
    pop = root.get("stocks").get("pop")  # type: ignore[union-attr]
    assert str(pop.key_loc) == "f.yaml:3:3"
    initial = pop.get("initial")
    assert initial.value == 10
    assert str(initial.loc) == "f.yaml:4:14"
    assert str(initial.key_loc) == "f.yaml:4:5"


def test_yaml_reader_multi_line_scalars_keep_their_text_as_written() -> None:
    text = "a: |\n  x +\n    y\nb: x +\n  y\nc: one line\n"
    root = read_yaml(text, "f.yaml")
    a_node, b_node, c_node = (root.get(k) for k in "abc")
    assert a_node.source == ("  x +\n    y\n", Loc("f.yaml", 2, 1, "  x +"))  # type: ignore[union-attr]
    assert b_node.value == "x + y"  # type: ignore[union-attr]
    assert b_node.source == ("x +\n  y", Loc("f.yaml", 4, 4, "b: x +"))  # type: ignore[union-attr]
    assert c_node.source is None  # type: ignore[union-attr]


def test_yaml_duplicate_keys_are_errors() -> None:
    with pytest.raises(ModelError) as info:
        read_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert (
        str(info.value).splitlines()[0] == "f.yaml:3:1: duplicate key 'a' (first defined at line 1)"
    )


HEAD = "quidpro: 1\nname: m\n"

SHORT = (
    HEAD
    + """time: {stop: 4}
constants:
  k: 0.5
  cap: 2 * k
stocks:
  s: {initial: 1, inflows: grow}
flows:
  grow: k * s
auxiliaries:
  d: s / cap
lookups:
  e: {points: [[0, 0], [1, 1]]}
"""
)

LONG = (
    HEAD
    + """time:
  start: 0
  stop: 4
  dt: 1
  method: euler
constants:
  k: {value: 0.5}
  cap: {value: 2 * k}
stocks:
  s:
    initial: 1
    inflows: [grow]
    outflows: []
    non_negative: false
flows:
  grow: {equation: k * s}
auxiliaries:
  d: {equation: s / cap}
lookups:
  e: {points: [[0, 0], [1, 1]], extrapolate: clamp}
"""
)


def test_short_and_long_forms_mean_the_same() -> None:
    short, long = parse_model(SHORT, "a.yaml"), parse_model(LONG, "b.yaml")
    assert short.time == long.time
    assert short.stocks == long.stocks
    assert short.flows == long.flows
    assert short.auxiliaries == long.auxiliaries
    assert short.lookups == long.lookups
    assert short.constants["k"].value == 0.5
    assert short.constants["cap"].expr == parse_expression("2 * k")


def test_defaults() -> None:
    m = parse_model(SHORT, "a.yaml")
    assert (m.time.start, m.time.stop, m.time.dt, m.time.method) == (0, 4, 1, "euler")
    assert m.time.units is None
    assert m.time.origin is None
    assert m.lookups["e"].extrapolate == "clamp"
    assert m.stocks["s"].non_negative is False
    assert m.title is None


def test_every_documented_key_is_read() -> None:
    text = (
        HEAD
        + """title: A title
doc: Some words.
time: {start: 1, stop: 5, dt: 0.5, units: month, method: RK4, origin: 2022-02-24, save_every: 1}
constants:
  k:
    value: 0.2
    units: 1/month
    doc: a rate
    range: [0.1, 0.3]
    distribution: {kind: triangular, low: 0.1, mode: 0.2, high: 0.3}
    source: src1, p. 4
    assumption: steady
  u: {value: 1, distribution: {kind: uniform, low: 0, high: 2}}
  n: {value: 1, distribution: {kind: normal, mean: 1, sd: 0.1}}
  g: {value: 1, distribution: {kind: lognormal, mu: 0, sigma: 0.5}}
stocks:
  s: {initial: 1, inflows: [f], non_negative: true, units: people, doc: the stock}
flows:
  f: {equation: k * s, units: people/month, doc: growth, claims: [C1], assumption: none}
auxiliaries:
  a: {equation: s * 2, units: people, doc: double, non_negative: true}
lookups:
  l: {points: [[0, 1], [2, 3]], extrapolate: linear, units: x, doc: a table}
scenarios:
  fast: {doc: Faster, set: {k: 0.3}}
sources:
  src1: {title: A report, url: "https://example.org", date: 2024-11-01}
  src2: Just a title
claims:
  C1:
    text: Growth feeds on itself
    paragraph: [3, 4]
    polarity: positive
    kind: causal
    links: ["s -> f"]
"""
    )
    m = parse_model(text, "all.yaml")
    assert m.title == "A title"
    assert m.doc == "Some words."
    t = m.time
    assert (t.start, t.stop, t.dt, t.units, t.method, t.save_every) == (
        1,
        5,
        0.5,
        "month",
        "rk4",
        1,
    )
    assert t.origin == datetime.date(2022, 2, 24)
    k = m.constants["k"]
    assert (k.value, k.units, k.doc, k.range, k.source, k.assumption) == (
        0.2,
        "1/month",
        "a rate",
        (0.1, 0.3),
        "src1, p. 4",
        "steady",
    )
    assert k.distribution is not None
    assert (k.distribution.kind, dict(k.distribution.params)) == (
        "triangular",
        {"low": 0.1, "mode": 0.2, "high": 0.3},
    )
    assert dict(m.constants["g"].distribution.params) == {"mu": 0, "sigma": 0.5}  # type: ignore[union-attr]
    assert m.stocks["s"].non_negative
    assert m.flows["f"].claims == ("C1",)
    assert m.auxiliaries["a"].non_negative
    assert m.lookups["l"].extrapolate == "linear"
    assert dict(m.scenarios["fast"].set) == {"k": 0.3}
    assert m.sources["src2"].fields == {"title": "Just a title"}
    assert m.sources["src1"].fields["url"] == "https://example.org"
    claim = m.claims["C1"]
    assert (claim.paragraph, claim.polarity, claim.kind, claim.links) == (
        (3, 4),
        "positive",
        "causal",
        (("s", "f"),),
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "flows:\n  f: {equation: 1, claims: [C9]}\n",
            "'f' names claim 'C9', which the claims section does not define",
        ),
        (
            "constants:\n  k: {value: 1, source: nope}\nsources:\n  src: {title: t}\n",
            "constant 'k': its source 'nope' cites no entry of the sources section",
        ),
        (
            'flows:\n  f: 1\nclaims:\n  C1: {text: t, links: ["zz -> f"]}\n',
            "claim C1 links zz -> f, but 'zz' is not in the model",
        ),
        (
            'flows:\n  f: 1\nauxiliaries:\n  a: 2\nclaims:\n  C1: {text: t, links: ["a -> f"]}\n',
            "claim C1 links a -> f, but 'f' does not depend on 'a' directly",
        ),
        (
            'claims:\n  C1: {text: t, links: ["a to f"]}\n',
            "a link of claim 'C1' must read 'cause -> effect', got 'a to f'",
        ),
        ("claims:\n  C1: {paragraph: 3}\n", "claim 'C1' needs a 'text' (a paraphrase)"),
    ],
)
def test_provenance_is_checked(extra: str, message: str) -> None:
    with pytest.raises(ModelError) as info:
        parse_model(HEAD + "time: {stop: 1}\n" + extra, "p.yaml")
    assert info.value.message == message
    if "not define" in message or "not in the model" in message:
        assert isinstance(info.value, UndefinedNameError)


def test_the_examples_of_the_format_reference_are_valid() -> None:
    import re
    from pathlib import Path

    from quidpro.api import LoadedModel

    doc = (Path(__file__).parent.parent / "docs" / "format.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)
    whole = [b for b in blocks if b.startswith("quidpro: 1")]
    assert whole
    for text in whole:
        df = LoadedModel(parse_model(text, "doc.yaml")).run(scenario="fast", backend="numpy")
        assert list(df.columns) == ["population", "births", "density"]
    # Each section example, inside a minimal model, is read without error.
    for text in blocks:
        if text.startswith(("constants:", "lookups:", "flows:")):
            root = read_yaml(text, "doc.yaml")
            assert root.is_map


def test_numbers_that_yaml_reads_as_text() -> None:
    # PyYAML (YAML 1.1) reads 1e-3 and 1e3 as strings; they are numbers everywhere.
    text = (
        HEAD
        + """time: {stop: 1e1, dt: 1e-1, save_every: 5e-1}
constants:
  k: {value: 2e-1, range: [1e-3, 1e0], distribution: {kind: uniform, low: 1e-3, high: 1e0}}
  m: 1e3
lookups:
  l: {points: [[0, 1e-3], [1e1, 2E+0]]}
scenarios:
  s: {set: {k: 3e-1}}
"""
    )
    model = parse_model(text, "n.yaml")
    assert (model.time.stop, model.time.dt, model.time.save_every) == (10, 0.1, 0.5)
    assert model.constants["k"].value == 0.2
    assert model.constants["k"].range == (0.001, 1.0)
    assert model.constants["m"].value == 1000
    assert model.lookups["l"].ys == (0.001, 2.0)
    assert dict(model.scenarios["s"].set) == {"k": 0.3}
    with pytest.raises(ParseError, match=r"time\.stop must be a number, got str 'ten'"):
        parse_model(HEAD + "time: {stop: ten}\n", "n.yaml")
