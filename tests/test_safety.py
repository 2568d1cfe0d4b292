"""A model file is data: it can never run Python code or exhaust the machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quidpro.api import LoadedModel
from quidpro.errors import ModelError, ParseError, QuidproError, UndefinedNameError
from quidpro.io.load import parse_model
from quidpro.lang.expr import parse_expression

HEAD = "quidpro: 1\nname: s\ntime: {start: 0, stop: 2, dt: 1}\n"


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
        "!!python/module:os",
        "!!python/object:builtins.object {{}}",
        "!custom 1",
        "!!binary aGVsbG8=",
        "!!set {{a, b}}",
    ],
)
@pytest.mark.parametrize("where", ["auxiliaries:\n  a: {v}\n", "title: {v}\n", "{v}\n"])
def test_yaml_tags_are_rejected_and_never_run(tmp_path: Path, value: str, where: str) -> None:
    marker = tmp_path / "marker"
    text = HEAD + where.format(v=value.format(marker=marker))
    if where == "{v}\n":
        text = value.format(marker=marker) + "\n"
    with pytest.raises(ParseError) as info:
        parse_model(text, "evil.yaml")
    assert "is not allowed in a model file (only plain data)" in info.value.message
    assert info.value.message.startswith("YAML tag ")
    assert not marker.exists()


def test_aliases_of_collections_cannot_recurse_or_explode() -> None:
    with pytest.raises(ParseError) as info:
        parse_model(HEAD + "title: &r [*r]\n", "evil.yaml")
    assert str(info.value).splitlines()[0] == (
        "evil.yaml:4:8: an alias (*name) of a list or mapping is not allowed in a model "
        "file; write the values out"
    )
    laughs = 'title: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    prev = "a"
    for name in "bcdefgh":
        laughs += f"doc: &{name} [{', '.join(['*' + prev] * 9)}]\n"
        prev = name
    with pytest.raises(ParseError, match="an alias"):
        parse_model(HEAD + laughs, "evil.yaml")


def test_aliases_of_plain_values_are_fine() -> None:
    m = LoadedModel(parse_model(HEAD + "auxiliaries:\n  a: &x 2 * 3\n  b: *x\n", "ok.yaml"))
    df = m.run(backend="numpy")
    assert df["a"].tolist() == df["b"].tolist() == [6, 6, 6]


@pytest.mark.parametrize(
    ("expr", "kind", "message"),
    [
        ("__import__('os').system('ls')", ParseError, 'syntax error: unexpected character "\'"'),
        ("__import__(1)", UndefinedNameError, "unknown function '__import__'"),
        ("eval(1)", UndefinedNameError, "unknown function 'eval'"),
        ("exec(1)", UndefinedNameError, "unknown function 'exec'"),
        ("open(1)", UndefinedNameError, "unknown function 'open'"),
        ("np.exp(1)", ParseError, "syntax error: unexpected character '.'"),
        ("a.__class__", ParseError, "syntax error: unexpected character '.'"),
        ("x; import os", ParseError, "syntax error: unexpected character ';'"),
        ("lambda: 1", ParseError, "syntax error: unexpected character ':'"),
        ("[1, 2][0]", ParseError, "syntax error: unexpected '['"),
        ("__builtins__", UndefinedNameError, "undefined name '__builtins__' in 'a'"),
        ("np", UndefinedNameError, "undefined name 'np' in 'a'"),
        ("1 if 1 else 2", ParseError, "syntax error: unexpected 'if'"),
        ("x = 1", ParseError, "syntax error: unexpected character '='"),
        ("x ** 2", ParseError, "syntax error: unexpected '*'"),
        ("`ls`", ParseError, "syntax error: unexpected character '`'"),
    ],
)
def test_python_in_an_expression_is_refused(expr: str, kind: type, message: str) -> None:
    text = HEAD + "constants:\n  x: 1\nauxiliaries:\n  a: '" + expr.replace("'", "''") + "'\n"
    with pytest.raises(ModelError) as info:
        LoadedModel(parse_model(text, "evil.yaml")).run(backend="numpy")
    assert isinstance(info.value, kind)
    assert info.value.message.startswith(message)


def test_model_names_never_reach_the_generated_code() -> None:
    # Names that are Python builtins, NumPy or the kernel's own identifiers are just names.
    body = """constants:
  np: 2
  t: 3
  c0: 4
  run: 0.5
stocks:
  s0: {initial: np, inflows: [rhs]}
flows:
  rhs: run * s0 + t
auxiliaries:
  e0: c0 + np + t
  out: e0 * 2
  _step: s0 - 1
  K0: out + exec
  exec: 1
  tk: time
  zz_marker: tk * 0
"""
    m = LoadedModel(parse_model(HEAD + body, "names.yaml"))
    df = m.run(backend="numpy")
    # A dunder name is in the namespace quidpro keeps for generated names: refused.
    with pytest.raises(ModelError, match="namespace quidpro keeps for generated names"):
        parse_model(HEAD + body.replace("exec", "__import__"), "names.yaml")
    assert df["e0"].tolist() == [9, 9, 9]
    assert df["K0"].tolist() == [19, 19, 19]
    assert df["s0"].tolist() == [2, 6, 12]
    assert df["tk"].tolist() == [0, 1, 2]
    source = m.compiled.kernel("euler", tuple(m.compiled.system.visible)).source
    assert "__import__" not in source
    assert "zz_marker" not in source
    assert "names.yaml" not in source


@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True))
def test_any_identifier_is_only_a_name(name: str) -> None:
    try:
        tree = parse_expression(f"{name} + 1")
    except ParseError:  # and, or, not
        assert name in ("and", "or", "not")
        return
    assert tree.left.id == name  # type: ignore[union-attr]


def test_numbers_are_parsed_not_evaluated() -> None:
    assert parse_expression("1e999").value == float("inf")  # type: ignore[union-attr]
    assert parse_expression("0x10" if False else "10").value == 10  # type: ignore[union-attr]
    with pytest.raises(ParseError):
        parse_expression("0x10")
    with pytest.raises(ParseError):
        parse_expression("1_000")


VALID = """quidpro: 1
name: fuzz
time: {start: 0, stop: 4, dt: 0.5, method: rk4}
constants:
  k: {value: 0.3, range: [0.1, 0.5]}
  cap: 50
stocks:
  p: {initial: 5, inflows: [growth], outflows: [loss], non_negative: true}
flows:
  growth: k * p * (1 - p / cap)
  loss: effect(p / cap) * smooth(p, 2)
auxiliaries:
  late: "delay_fixed(p, 1, 0) + step(1, 2)"
lookups:
  effect: {points: [[0, 0], [1, 1]]}
scenarios:
  fast: {set: {k: 0.5}}
"""


@given(
    st.lists(
        st.tuples(
            st.integers(0, len(VALID) - 1),
            st.integers(0, 3),
            st.text(alphabet="abk_:-[]{}(),.*/^+ \n'\"&!#|>0123456789e", max_size=4),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_damaged_model_file_fails_cleanly(edits: list[tuple[int, int, str]]) -> None:
    text = VALID
    for pos, cut, insert in edits:
        pos = min(pos, len(text))
        text = text[:pos] + insert + text[pos + cut :]
    try:
        LoadedModel(parse_model(text, "fuzz.yaml")).run(backend="numpy")
    except QuidproError as exc:
        error: QuidproError | None = exc
    else:
        error = None
    if isinstance(error, ModelError):
        assert str(error).startswith("fuzz.yaml:")
        assert error.loc.line >= 1
