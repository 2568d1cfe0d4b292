"""Calibration recovers known constants: observations generated from a small model
with r = 0.12 and cap = 1,200 (lognormal noise of 10%, a fixed seed), calibrated by
both methods, must hold the truth inside the 90% credible interval, and a posterior
ensemble's 90% band must cover the true trajectory."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from tests.calib_models import TRUE, write_syn

import quidpro
from quidpro.analysis.calibrate import (
    Problem,
    calibrate,
    default_params,
    split_rhat,
    stable_backend,
)
from quidpro.analysis.likelihood import targets
from quidpro.analysis.smc import ancestral_ess
from quidpro.ensemble import ensemble
from quidpro.ensemble.posterior import read_posterior, write_posterior
from quidpro.evidence.ledger import read_ledger


@pytest.fixture(scope="module")
def syn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_syn(tmp_path_factory.mktemp("syn"))


def _problem(syn: tuple[Path, Path]) -> Problem:
    m = quidpro.load(syn[0])
    tg = targets(m.spec, read_ledger(syn[1]))
    assert len(tg) == 8
    assert [r.id for r, _ in tg.skipped] == ["E1"]
    assert default_params(m) == ["r", "cap"]  # the lever switch_time is not calibrated
    return Problem(m, tg, default_params(m), backend="numpy")


@pytest.mark.parametrize(
    ("method", "sampler"), [("map", "emcee"), ("mcmc", "emcee"), ("mcmc", "smc")]
)
def test_recovers_the_true_constants(
    syn: tuple[Path, Path], method: str, sampler: str, tmp_path: Path
) -> None:
    res = calibrate(
        _problem(syn), method, draws=400, seed=5, max_steps=600, sampler=sampler, particles=800
    )
    doc = res.summary()
    assert set(doc) == {"method", "seed", "observations", "parameters", "diagnostics"}
    assert doc["observations"] == 8
    assert doc["method"] == method
    for name, truth in TRUE.items():
        p = doc["parameters"][name]
        assert p["ci90"][0] < truth < p["ci90"][1], (name, p)
        assert p["ci90"][0] <= p["median"] <= p["ci90"][1]
    # the growth rate is well identified: its interval is far narrower than the prior's
    lo, hi = doc["parameters"]["r"]["ci90"]
    assert hi - lo < 0.05
    if sampler == "smc":
        d = doc["diagnostics"]
        assert d["stages"] >= 2
        assert max(d["rhat"].values()) < 1.1
        assert d["unique_particles"] > 500
        # 800 particles after their moves are worth a good share of independent draws
        assert 100 < min(d["ess"].values()) <= 800
        assert 0.1 < d["acceptance"] < 0.9
    elif method == "mcmc":
        d = doc["diagnostics"]
        assert d["converged"]
        assert max(d["rhat"].values()) < 1.1
        assert min(d["ess"].values()) > 200
        assert 0.1 < d["acceptance"] < 0.9
    # the posterior ensemble covers the truth
    path = tmp_path / "post.parquet"
    write_posterior(res.table({"model": "syn"}), path)
    table = read_posterior(path, quidpro.load(syn[0]).spec)
    assert table.names == ("r", "cap")
    assert len(table) == 400
    assert table.meta["method"] == method
    m = quidpro.load(syn[0])
    truth = m.run(set=TRUE)["pop"]
    result = ensemble(m, 400, 11, variables=["pop"], posterior=table, backend="numpy")
    q = result.quantiles([0.05, 0.95])["pop"]
    for t in (6, 18, 30, 42):
        i = int(np.searchsorted(result.times, t))
        assert q[0.05][i] <= truth.loc[t] <= q[0.95][i], t
    prior = ensemble(m, 400, 11, variables=["pop"], backend="numpy").quantiles([0.05, 0.95])["pop"]
    i = int(np.searchsorted(result.times, 30))
    assert q[0.95][i] - q[0.05][i] < 0.25 * (prior[0.95][i] - prior[0.05][i])


def test_same_seed_same_posterior(syn: tuple[Path, Path]) -> None:
    a = calibrate(_problem(syn), "map", draws=50, seed=9)
    b = calibrate(_problem(syn), "map", draws=50, seed=9)
    c = calibrate(_problem(syn), "map", draws=50, seed=10)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, c.draws)


def test_split_rhat_flags_chains_that_disagree() -> None:
    rng = np.random.default_rng(0)
    mixed = rng.normal(size=(400, 8, 1))
    stuck = mixed + np.arange(8)[None, :, None]  # each chain around its own mean
    assert split_rhat(mixed)[0] == pytest.approx(1.0, abs=0.02)
    assert split_rhat(stuck)[0] > 2.0


def test_smc_ess_counts_independent_draws_and_sees_copies() -> None:
    rng = np.random.default_rng(1)
    independent = rng.normal(size=(4, 1000, 2))
    copies = np.repeat(rng.normal(size=(4, 100, 2)), 10, axis=1)  # each ancestor ten times
    ess = ancestral_ess(independent)
    assert np.all((ess > 2800) & (ess <= 4000))
    assert np.all(ancestral_ess(copies) < 700)  # about 400 distinct draws


def test_posterior_members_resample_rows_and_hold_the_rest(syn: tuple[Path, Path]) -> None:
    from quidpro.ensemble.posterior import PosteriorTable
    from quidpro.ensemble.sampling import draw

    spec = quidpro.load(syn[0]).spec
    table = PosteriorTable(("r",), np.array([[0.1], [0.2], [0.3]]))
    members = draw(spec, 200, 4, posterior=table)
    rows = members.rows(0, 200)
    assert set(rows) == {"r"}  # cap is not in the posterior: it keeps its value
    assert set(np.unique(rows["r"])) == {0.1, 0.2, 0.3}
    np.testing.assert_array_equal(members.rows(50, 120)["r"], rows["r"][50:120])
    again = draw(spec, 200, 4, posterior=table).rows(0, 200)["r"]
    np.testing.assert_array_equal(again, rows["r"])
    assert not np.array_equal(draw(spec, 200, 5, posterior=table).rows(0, 200)["r"], rows["r"])


def test_auto_backend_depends_on_the_work_alone(
    syn: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A calibration's kernel does not follow the time this process spent nor the disk
    cache (simulate's tiered ``auto`` does): the kernels agree only to rounding, which a
    search for the mode amplifies, so the numbers would differ from process to process."""
    monkeypatch.delenv("QUIDPRO_BACKEND", raising=False)
    c = quidpro.load(syn[0]).compiled
    record = ("pop",)
    small = stable_backend(c, "auto", 10, 20, record)
    assert small == "numpy"  # a tiny model and little work: no compile pays
    c.numpy_seconds = 1e6  # after which the tiered choice takes the fast path
    assert stable_backend(c, "auto", 10, 20, record) == small
    # nor does a loaded interpreter or a cached compile make a fast path free here
    monkeypatch.setattr("quidpro.solve.vm.VmKernel.loaded", staticmethod(lambda: True))
    monkeypatch.setattr("quidpro.solve.jit.JitKernel.cached", lambda self, many=False: True)
    assert stable_backend(c, "auto", 10, 20, record) == small
    big = stable_backend(c, "auto", 10**5, 10**5, record)
    has_numba = importlib.util.find_spec("numba") is not None
    assert big == ("jit" if has_numba else "numpy")
    assert stable_backend(c, "numpy", 10**5, 10**5, record) == "numpy"  # asked: as asked
    monkeypatch.setenv("QUIDPRO_BACKEND", "numpy")
    assert stable_backend(c, "auto", 10**5, 10**5, record) == "numpy"
