"""The Vensim fuzzer, briefly (``make fuzz`` runs it at length), and every crash it found."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from tests.fuzz.mutate import REGRESSIONS, outcome
from tests.fuzz.vensim import SKETCH, mutate_vensim, vensim_seeds

REGRESSION_FILES = sorted(REGRESSIONS.glob("*.mdl"))


def test_the_seeds_are_the_whole_vensim_suite_cut_at_the_sketch() -> None:
    pool = vensim_seeds()
    assert len(pool) == 88
    assert all(name.lower().endswith(".mdl") for name, _ in pool)
    assert all(text.count(SKETCH) <= 1 for _, text in pool)
    assert sum(outcome(name, text) == "ok" for name, text in pool[:10]) >= 8  # seeds run


def test_a_brief_vensim_mutation_fuzz_gives_only_clean_outcomes() -> None:
    rng = random.Random(2026)
    pool = vensim_seeds()
    results = []
    for _ in range(40):
        name, text = rng.choice(pool)
        result = outcome(name, mutate_vensim(text, rng))
        assert result in ("ok", "error"), result
        results.append(result)
    assert "error" in results  # the mutations do reach the reader's errors


@pytest.mark.parametrize("path", REGRESSION_FILES, ids=lambda p: p.name)
def test_every_vensim_crash_ever_found_stays_fixed(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", "replace")
    assert outcome(path.name, text) in ("ok", "error")
