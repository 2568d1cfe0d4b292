"""Strict numerics in tests: a NumPy warning is an error (the kernels silence their own)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

np.seterr(all="raise")

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile("ci", max_examples=150, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _run_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands record runs in a store: keep it out of the home folder."""
    monkeypatch.setenv("QUIDPRO_STORE", str(tmp_path_factory.mktemp("store") / "runs.duckdb"))


@pytest.fixture(autouse=True)
def _deterministic_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "auto" backend moves a model to numba after enough time on NumPy, which
    depends on the machine's speed; tests get NumPy unless they ask for a backend
    (tests/test_jit.py compares the two and tests the policy itself)."""
    monkeypatch.setenv("QUIDPRO_BACKEND", "numpy")


@pytest.fixture
def write_model(tmp_path: Path):
    """Write a YAML model text to a file and return its path."""

    def write(text: str, name: str = "model.yaml") -> Path:
        p = tmp_path / name
        p.write_text(text)
        return p

    return write
