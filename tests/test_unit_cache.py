"""The unit check's cache: the same file gives the stored warnings, any edit checks again."""

from __future__ import annotations

from pathlib import Path

import pytest

import quidpro
from quidpro.model import unit_cache
from quidpro.model.unit_cache import cache_folder, cached_unit_errors

GOOD = """quidpro: 1
name: m
time: {start: 0, stop: 4, dt: 1, units: year}
constants:
  price: {value: 3, units: USD/year}
  extra: {value: 2, units: USD/year}
stocks:
  cash: {initial: 0, inflows: [income], units: USD}
flows:
  income: {equation: price + extra, units: USD/year}
"""
BAD = GOOD.replace("extra: {value: 2, units: USD/year}", "extra: {value: 2, units: km}")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QUIDPRO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def problems(path: Path) -> list[tuple[str, str, str | None]]:
    m = quidpro.load(path)
    return [
        (str(p.loc), p.message, p.loc.source_line) for p in cached_unit_errors(m.spec, m.source)
    ]


def test_a_cached_pass_still_fails_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(GOOD)
    assert problems(path) == []
    assert problems(path) == []  # (now from the cache)
    path.write_text(BAD)
    found = problems(path)
    assert [(loc, msg) for loc, msg, _ in found] == [
        (f"{path}:10:28", "unit error: 'income' adds USD/year (price) and km (extra)")
    ]


def test_a_second_check_of_the_same_text_reads_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(BAD)
    first = problems(path)
    assert first
    assert len(list(cache_folder().glob("*.json"))) == 1

    def no_check(*_: object) -> None:
        raise AssertionError("the unit check ran again")

    monkeypatch.setattr(unit_cache, "unit_errors", no_check)
    assert problems(path) == first  # message, place and the line shown under it


def test_the_same_text_at_another_path_is_checked_for_its_own_path(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(BAD)
    b.write_text(BAD)
    assert problems(a)[0][0].startswith(str(a))
    assert problems(b)[0][0].startswith(str(b))


def test_a_damaged_cache_file_is_checked_again(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(BAD)
    first = problems(path)
    for damage in ("not json", '[{"message": 1}]', '[{"message": "x", "file": "f", '
                   '"line": "1", "col": 1, "source_line": null}]'):  # fmt: skip
        for f in cache_folder().glob("*.json"):
            f.write_text(damage)
        assert problems(path) == first


def test_an_unwritable_cache_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("QUIDPRO_CACHE", str(blocker))  # units/ cannot be made under a file
    path = tmp_path / "m.yaml"
    path.write_text(BAD)
    assert len(problems(path)) == 1


def test_a_model_not_read_from_a_file_is_checked_each_time(cache: Path) -> None:
    from quidpro.api import LoadedModel
    from quidpro.io.load import parse_model

    m = LoadedModel(parse_model(BAD, "model.yaml"))
    assert m.source is None
    assert len(cached_unit_errors(m.spec, m.source)) == 1
    assert not cache.exists()
