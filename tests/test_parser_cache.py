"""Lark's parser tables are kept in quidpro's cache folder, and a bad cache never matters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quidpro.cache import parser_cache
from quidpro.lang import expr

TEXT = "max(a + 2 * b, c) / f - d ^ 2 * (e > 1)"


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("QUIDPRO_CACHE", str(tmp_path))
    expr._parser.cache_clear()
    yield tmp_path / "parsers" / "expr.lark"
    expr._parser.cache_clear()


def parsed() -> str:
    expr._parser.cache_clear()
    return repr(expr.parse_expression(TEXT))


def test_tables_are_written_to_the_cache_and_read_back(fresh: Path) -> None:
    first = parsed()
    assert fresh.is_file()
    assert fresh.stat().st_size > 1000
    assert parsed() == first


def test_a_damaged_cache_file_is_rebuilt(fresh: Path) -> None:
    first = parsed()
    fresh.write_bytes(b"not a lark cache\n\x00\x01")
    assert parsed() == first
    assert fresh.read_bytes() != b"not a lark cache\n\x00\x01"  # rewritten


def test_without_a_cache_folder_the_parser_is_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("QUIDPRO_CACHE", str(blocker))  # no folder can be made under a file
    assert parser_cache("expr") is False
    assert "Binary" in parsed()
