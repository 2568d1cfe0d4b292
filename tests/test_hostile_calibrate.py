"""Hostile flags and evidence for ``calibrate`` and ``backtest``: every seed the other
commands take (0 to 2^63-1), out-of-range --particles, --walkers, --max-steps and
--runs as usage errors (exit 2) naming the flag and its range, and evidence files
without a row to score as file errors (exit 1) naming the file; never a traceback."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from tests.calib_models import HEADER, write_ledger, write_syn
from typer.testing import CliRunner

from quidpro.analysis.calibrate import legacy_random_state
from quidpro.cli.main import app

runner = CliRunner()
BIG = str(2**32)  # RandomState's first refused seed
MAX = str(2**63 - 1)


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the command line; a bug (an exception escaping the command) fails the test."""
    r = runner.invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.stdout + r.stderr
    assert "internal error" not in r.stderr
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def syn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_syn(tmp_path_factory.mktemp("hostile_syn"))


def _calibrate(syn: tuple[Path, Path], *flags: str) -> tuple[int, str, str]:
    model, ledger = syn
    return invoke("calibrate", str(model), "--evidence", str(ledger), "-q", *flags)


def _backtest(syn: tuple[Path, Path], *flags: str) -> tuple[int, str, str]:
    model, ledger = syn
    args = ["backtest", str(model), "--evidence", str(ledger), "-q", "--runs", "50"]
    return invoke(*args, "--draws", "20", *flags)


def _fit(syn: tuple[Path, Path], tmp_path: Path, *flags: str) -> dict:
    out = tmp_path / "fit.json"
    code, _, stderr = _calibrate(syn, "--draws", "20", "--json", str(out), *flags)
    assert code == 0, stderr
    return json.loads(out.read_text())


# ---------------------------------------------------------------- 1. seeds >= 2^32


def test_map_takes_every_documented_seed(syn: tuple[Path, Path], tmp_path: Path) -> None:
    big = _fit(syn, tmp_path, "--method", "map", "--seed", BIG)
    assert big["seed"] == 2**32
    again = _fit(syn, tmp_path, "--method", "map", "--seed", BIG)
    assert again["parameters"] == big["parameters"]  # the same seed, the same posterior
    # 2^32 is its own seed, not 0 again
    zero = _fit(syn, tmp_path, "--method", "map", "--seed", "0")
    assert zero["parameters"] != big["parameters"]
    assert _fit(syn, tmp_path, "--method", "map", "--seed", MAX)["seed"] == 2**63 - 1


@pytest.mark.parametrize(
    "flags",
    [
        ("--method", "mcmc", "--particles", "40"),
        ("--method", "mcmc", "--sampler", "emcee", "--walkers", "4", "--max-steps", "200"),
    ],
)
def test_mcmc_takes_a_seed_above_2_32(
    syn: tuple[Path, Path], tmp_path: Path, flags: tuple[str, ...]
) -> None:
    doc = _fit(syn, tmp_path, "--seed", BIG, *flags)
    assert doc["seed"] == 2**32
    assert set(doc["parameters"]) == {"r", "cap"}


def test_backtest_takes_a_seed_above_2_32(syn: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "bt.json"
    code, _, stderr = _backtest(
        syn, "--cutoff", "2021-12-01", "--method", "map", "--seed", BIG, "--json", str(out)
    )
    assert code == 0, stderr
    assert json.loads(out.read_text())["cutoffs"][0]["observations"]


def test_seeds_below_2_32_keep_their_stream() -> None:
    """Calibrations of the seeds RandomState always took are unchanged."""
    for seed in (0, 5, 2**32 - 1):
        expected = np.random.RandomState(seed).random_sample(4)
        np.testing.assert_array_equal(legacy_random_state(seed).random_sample(4), expected)
    a, b = legacy_random_state(2**32), legacy_random_state(0)
    assert not np.array_equal(a.random_sample(4), b.random_sample(4))


# ---------------------------------------------------------------- 2. --particles


@pytest.mark.parametrize("value", ["-5", "0", "1", "11"])
def test_too_few_particles_is_a_usage_error(syn: tuple[Path, Path], value: str) -> None:
    code, _, stderr = _calibrate(syn, "--draws", "20", "--particles", value)
    assert code == 2
    assert "--particles must be at least 12 for 2 calibrated constants" in stderr
    assert f"got {value}" in stderr


def test_the_fewest_particles_run_cleanly(syn: tuple[Path, Path], tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        doc = _fit(syn, tmp_path, "--particles", "12")
    d = doc["diagnostics"]
    assert d["particles"] == 12
    assert d["stages"] >= 2  # a population of 3 is tempered, not weighted once
    # one constant: the populations need 3 particles each (k + 1 = 2 is not enough)
    code, _, stderr = _calibrate(syn, "--params", "r", "--draws", "20", "--particles", "8")
    assert code == 2
    assert "--particles must be at least 12 for 1 calibrated constant " in stderr


def test_backtest_checks_particles_even_where_it_does_not_calibrate(
    syn: tuple[Path, Path],
) -> None:
    # nothing is known before 2019: the forecast is the prior's, --particles unused
    code, _, stderr = _backtest(syn, "--cutoff", "2019-01-01", "--particles", "0")
    assert code == 2
    assert "--particles must be at least 12" in stderr
    code, _, stderr = _backtest(syn, "--cutoff", "2019-01-01", "--draws", "0")
    assert code == 2
    assert "--draws must be at least 1, got 0" in stderr


# ---------------------------------------------------------------- 3. --walkers


@pytest.mark.parametrize("value", ["0", "1", "3"])
def test_too_few_walkers_is_a_usage_error(syn: tuple[Path, Path], value: str) -> None:
    code, _, stderr = _calibrate(
        syn, "--sampler", "emcee", "--draws", "20", "--walkers", value, "--max-steps", "200"
    )
    assert code == 2
    assert "--walkers must be at least 4 for 2 calibrated constants" in stderr
    assert "twice as many walkers as constants" in stderr
    assert f"got {value}" in stderr


def test_walkers_scale_with_the_constants(syn: tuple[Path, Path], write_model) -> None:
    model, ledger = syn
    three = write_model(
        model.read_text()
        .replace(
            "  switch_time:",
            "  k0: {value: 10, distribution: {kind: uniform, low: 5, high: 15}}\n  switch_time:",
        )
        .replace("stocks:\n  pop: {initial: 10,", "stocks:\n  pop: {initial: k0,"),
        "three.yaml",
    )
    code, _, stderr = invoke(
        "calibrate", str(three), "--evidence", str(ledger), "-q", "--sampler", "emcee",
        "--walkers", "5", "--max-steps", "200", "--draws", "20",
    )  # fmt: skip
    assert code == 2
    assert "--walkers must be at least 6 for 3 calibrated constants" in stderr


# ---------------------------------------------------------------- 4. --max-steps, --runs


@pytest.mark.parametrize("value", ["0", "-1", "199"])
def test_too_few_max_steps_is_a_usage_error(syn: tuple[Path, Path], value: str) -> None:
    code, _, stderr = _calibrate(syn, "--sampler", "emcee", "--draws", "20", "--max-steps", value)
    assert code == 2
    assert "--max-steps must be at least 200" in stderr
    assert f"got {value}" in stderr
    code, _, stderr = _backtest(syn, "--cutoff", "2021-12-01", "--max-steps", value)
    assert code == 2
    assert "--max-steps must be at least 200" in stderr


@pytest.mark.parametrize("value", ["0", "-3"])
def test_backtest_runs_out_of_range(syn: tuple[Path, Path], value: str) -> None:
    code, _, stderr = _backtest(syn, "--cutoff", "2021-12-01", "--method", "map", "--runs", value)
    assert code == 2
    assert f"--runs must be 1 to 2**32 - 1, got {value}" in stderr


# ---------------------------------------------------------------- 5. evidence to score


@pytest.mark.parametrize("column", ["date", "time"])
def test_a_header_only_evidence_file_is_named(
    syn: tuple[Path, Path], tmp_path: Path, column: str
) -> None:
    model, _ = syn
    empty = write_ledger(tmp_path / "empty.csv", [], [c if c != "date" else column for c in HEADER])
    for args in (
        ["calibrate", str(model), "--method", "map"],
        ["backtest", str(model), "--cutoff", "2021-12-01", "--method", "map"],
        ["backtest", str(model), "--cutoff", "10", "--method", "map"],
    ):
        code, _, stderr = invoke(*args, "--evidence", str(empty), "-q")
        assert code == 1, args
        assert f"{empty}:0: the evidence file has no rows" in stderr
        assert "has times" not in stderr


def test_evidence_without_a_row_to_score_is_named(syn: tuple[Path, Path], tmp_path: Path) -> None:
    model, _ = syn
    other = write_ledger(
        tmp_path / "other.csv",
        [["A", "2021-01-01", "elsewhere", "5", "count", "high", "s"],
         ["B", "2021-03-01", "switch", "", "event", "high", "s"]],
    )  # fmt: skip
    for args in (
        ["calibrate", str(model), "--method", "map"],
        ["backtest", str(model), "--cutoff", "2021-12-01", "--method", "map"],
    ):
        code, _, stderr = invoke(*args, "--evidence", str(other), "-q")
        assert code == 1, args
        assert f"{other}:0: no evidence row the model can score" in stderr
        assert "indicator not in the model's observations (1 row)" in stderr
        assert "reads population, growth_per_year" in stderr


def test_until_before_every_row_names_the_file(syn: tuple[Path, Path]) -> None:
    _, ledger = syn
    code, _, stderr = _calibrate(syn, "--method", "map", "--until", "2019-01-01")
    assert code == 2
    assert "no evidence row the model can score before --until 2019-01-01" in stderr
    assert str(ledger) in stderr


def test_a_size_beyond_the_memory_is_a_usage_error(syn: tuple[Path, Path]) -> None:
    code, _, stderr = _calibrate(syn, "--method", "map", "--draws", str(10**15))
    assert code == 2
    assert "not enough memory for these settings" in stderr
    assert "lower --draws" in stderr
    code, _, stderr = _backtest(
        syn, "--cutoff", "2021-12-01", "--method", "map", "--draws", str(10**15)
    )
    assert code == 2
    assert "lower --runs, --draws or --particles" in stderr
