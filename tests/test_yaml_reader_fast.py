"""The YAML reader parses with libyaml (PyYAML's C extension) where it is built: every
model reads into the same located tree as with PyYAML's own parser, and a refused file
gets PyYAML's own message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from quidpro.errors import ModelError
from quidpro.lang import yaml_reader
from quidpro.lang.located import Node

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted(
    p
    for p in [*ROOT.glob("src/quidpro/models/*.yaml"), *ROOT.glob("tests/**/*.yaml")]
    if p.name != "bad_syntax.yaml"
)
# What the fast parser could get wrong: characters beyond ASCII before a position,
# multi-line plain, quoted and block scalars (whose text as written is kept), anchors.
TRICKY = """\
title: "Nord-Süd — ein Modell"   # non-ASCII before later marks
note: ünïcödé plain text
  that folds onto two lines
quoted: "a + b *
  c"
single: 'it''s'
block: |
  stock * rate
    + inflow
folded: >
  one
  two
anchored: &a 1.5
alias: *a
date: 2024-06-19
flags: {on: yes, n: 1e3, "x": ~}
list: [1, -2.5, .inf, "s"]
"""
needs_libyaml = pytest.mark.skipif(
    not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml"
)


def tree(n: Node) -> Any:
    """Everything a Node carries, nested: values, locations, the text as written."""
    v = n.value
    if isinstance(v, dict):
        v = {k: tree(x) for k, x in v.items()}
    elif isinstance(v, list):
        v = [tree(x) for x in v]
    return (v, n.loc, n.key_loc, n.source)


def read_with(text: str, loader: Any) -> Any:
    root = yaml.compose(text, Loader=loader)
    assert root is not None
    return tree(yaml_reader._Reader(text, "f.yaml").node(root))


def test_models_are_found() -> None:
    assert {"nk_russia.yaml", "decay.yaml"} <= {p.name for p in MODELS}


@needs_libyaml
def test_the_fast_parser_is_used() -> None:
    assert yaml_reader._FAST_LOADER is yaml.CSafeLoader


@needs_libyaml
@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_every_model_reads_the_same_with_either_parser(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert read_with(text, yaml.CSafeLoader) == read_with(text, yaml.SafeLoader)


@needs_libyaml
def test_tricky_text_reads_the_same_with_either_parser() -> None:
    fast = read_with(TRICKY, yaml.CSafeLoader)
    assert fast == read_with(TRICKY, yaml.SafeLoader)
    assert fast[0]["note"][1].line == 2  # the locations are really there
    assert fast[0]["quoted"][3] is not None  # and the multi-line text as written
    assert tree(yaml_reader.read_yaml(TRICKY, "f.yaml")) == fast


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n b: 2\n",  # bad indentation
        "a: [1, 2\n",  # an unclosed list
        "a: 'open\n",  # an unclosed quote
        "a: 1\na: 2\n",  # a duplicate key (the reader's own error)
        "a: &x [1]\nb: *x\n",  # an alias of a list
        "a: !!python/object:os.system x\n",  # a tag
        "[" * 100 + "]" * 100,  # too deep
    ],
)
def test_a_refused_file_has_the_message_of_pyyaml_s_own_parser(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ModelError) as fast:
        yaml_reader.read_yaml(text, "f.yaml")
    monkeypatch.setattr(yaml_reader, "_FAST_LOADER", yaml.SafeLoader)
    with pytest.raises(ModelError) as slow:
        yaml_reader.read_yaml(text, "f.yaml")
    assert str(fast.value) == str(slow.value)
    assert fast.value.loc == slow.value.loc
