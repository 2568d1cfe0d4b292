"""The fuzzers, briefly (``make fuzz`` runs them at length), and every crash they found."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fuzz.mutate import REGRESSIONS, mutate, outcome, seeds

import quidpro
from quidpro.ensemble.query import parse_probe
from quidpro.errors import ConfigError

REGRESSION_FILES = sorted(p for p in REGRESSIONS.glob("*") if p.suffix in (".yaml", ".xmile"))


def test_a_brief_mutation_fuzz_gives_only_clean_outcomes() -> None:
    rng = random.Random(2026)
    pool = seeds()
    for _ in range(40):
        name, text = rng.choice(pool)
        result = outcome(name, mutate(text, rng))
        assert result in ("ok", "error"), result


@pytest.mark.parametrize("path", REGRESSION_FILES, ids=lambda p: p.name)
def test_every_crash_ever_found_stays_fixed(path: Path) -> None:
    assert outcome(path.name, path.read_text(encoding="utf-8")) in ("ok", "error")


QUERY_ATOMS = st.sampled_from(
    [
        "population",
        "births",
        "density",
        "time",
        "1",
        "-1e308",
        "nan",
        "inf",
        "(",
        ")",
        ",",
        ">",
        "<=",
        "==",
        "and",
        "not",
        "+",
        "*",
        "^",
        "min(",
        "smooth(",
        "normal(",
        "abs(",
        "if(",
        "x",
        "[",
        "]",
        "at",
        " at 5",
        " at 2020-02-30",
        " at 9999-01-01",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(QUERY_ATOMS, max_size=12).map(" ".join))
def test_any_query_text_is_a_probe_or_a_usage_error(text: str) -> None:
    spec = quidpro.load("logistic").spec
    with contextlib.suppress(ConfigError):  # anything else fails the test
        parse_probe(spec, text, comparison=True)
