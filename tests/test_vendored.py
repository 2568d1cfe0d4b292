"""A clone tests everything: the tests read only what the repository holds."""

from __future__ import annotations

import re
from pathlib import Path

from vendored import CONFORMANCE, CONFORMANCE_MODELS, DATA

TESTS = Path(__file__).resolve().parent
# What reaching outside the checkout looks like: a path built to ../shared or /work/shared.
OUTSIDE = re.compile(r"""["']shared["']|/work/shared|\.\./shared/(?!seed/nk-russia)""")


def test_no_test_reaches_outside_the_repository() -> None:
    for path in sorted(TESTS.glob("*.py")):
        hits = [
            f"{path.name}:{i}: {line.strip()}"
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if OUTSIDE.search(line) and path.name != Path(__file__).name
        ]
        assert not hits, hits


def test_every_conformance_model_and_its_expected_output_is_vendored() -> None:
    assert len(CONFORMANCE_MODELS) >= 30
    for model in CONFORMANCE_MODELS:
        folder = (CONFORMANCE / model).parent
        assert (CONFORMANCE / model).is_file(), model
        assert any(p.name.startswith("output") for p in folder.iterdir()), model
    assert "Permission is hereby granted" in (CONFORMANCE / "LICENSE").read_text()


def test_the_article_hashes_are_vendored_but_not_the_article() -> None:
    assert (DATA / "article_shingles.txt").stat().st_size > 10_000
    root = TESTS.parent
    tracked = [root / "tests", root / "src", root / "docs", root / "scripts", root / "benchmarks"]
    stray = [p for folder in tracked for p in folder.rglob("*partnership-article*")]
    assert not stray, stray
