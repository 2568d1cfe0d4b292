"""The public API of ``import quidpro`` is pinned (after httpx's tests/test_exported_members.py)."""

from __future__ import annotations

import inspect
import re
import types
from pathlib import Path

import pytest

import quidpro
import quidpro.analysis.sensitivity
import quidpro.ensemble
import quidpro.ensemble.compare
import quidpro.errors
import quidpro.solve.simulate

EXPECTED = [
    "ConfigError",
    "CycleError",
    "DuplicateNameError",
    "EnsembleResult",
    "LoadedModel",
    "Loc",
    "ModelError",
    "ParseError",
    "QuidproError",
    "SimulationError",
    "Trajectories",
    "UndefinedNameError",
    "UnitError",
    "UnsupportedError",
    "__version__",
    "compare_scenarios",
    "ensemble_summary",
    "load",
    "run_ensemble",
    "sensitivity",
]


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then everything else."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


def test_all_is_the_pinned_list_and_sorted() -> None:
    assert quidpro.__all__ == EXPECTED
    assert quidpro.__all__ == sorted(quidpro.__all__, key=_isort_key)


def test_every_public_member_is_in_all() -> None:
    # most members are imported on first use (PEP 562): dir() lists them, reading one
    # imports it; submodules become attributes of the package when imported, and are
    # not members
    for name in quidpro.__all__:
        assert getattr(quidpro, name) is not None
    for names in (dir(quidpro), vars(quidpro)):
        public = {
            name
            for name in names
            if not name.startswith("_") and not isinstance(getattr(quidpro, name), types.ModuleType)
        }
        assert public | {"__version__"} == set(quidpro.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'lod'"):
        quidpro.lod  # noqa: B018


def test_members_are_the_library_objects_themselves() -> None:
    assert quidpro.run_ensemble is quidpro.ensemble.ensemble
    assert quidpro.ensemble_summary is quidpro.ensemble.summary
    assert quidpro.compare_scenarios is quidpro.ensemble.compare.compare
    assert quidpro.sensitivity is quidpro.analysis.sensitivity.sensitivity
    assert quidpro.Trajectories is quidpro.solve.simulate.Trajectories
    for name in quidpro.__all__:
        member = getattr(quidpro, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert member.__module__.startswith("quidpro."), name
            assert inspect.getdoc(member), f"{name} has no docstring"


def test_the_package_name_is_not_shadowed_by_a_function() -> None:
    # quidpro.ensemble is the package (run_ensemble is its function): import paths work
    assert isinstance(quidpro.ensemble, types.ModuleType)
    assert isinstance(quidpro.analysis.sensitivity, types.ModuleType)


def test_every_error_class_is_exported() -> None:
    errors = {
        name
        for name, value in vars(quidpro.errors).items()
        if inspect.isclass(value) and issubclass(value, quidpro.QuidproError)
    }
    assert errors <= set(quidpro.__all__)
    assert issubclass(quidpro.ModelError, quidpro.QuidproError)


def test_the_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    assert quidpro.__version__ == version("quidpro")
    assert quidpro.__version__.count(".") >= 1


def test_pyproject_holds_the_only_version_literal() -> None:
    src = Path(__file__).resolve().parents[1] / "src" / "quidpro"
    literal = re.compile(r"""__version__\s*=\s*["']\d+\.\d+""")
    assert [p.name for p in src.rglob("*.py") if literal.search(p.read_text())] == []
