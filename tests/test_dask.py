"""Batches on a Dask cluster give the same numbers as a local run for the same seed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import quidpro
from quidpro.api import LoadedModel
from quidpro.ensemble import ensemble, summary

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=":0",  # a free port: other test runs may hold 8787
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return quidpro.load("logistic")


def test_dask_equals_local(address: str, model: LoadedModel) -> None:
    from quidpro.ensemble.distributed import DaskExecutor

    text = Path(model.spec.file).read_text()
    kw = {"queries": ["population > 800 at 40"], "backend": "numpy", "sampler": "lhs"}
    local = summary(ensemble(model, 300, seed=21, batch_size=300, **kw))
    remote = ensemble(
        model,
        300,
        seed=21,
        batch_size=37,
        executor=DaskExecutor(address, text, model.spec.file),
        **kw,
    )
    assert summary(remote) == local


def test_dask_sensitivity_equals_local(address: str, model: LoadedModel) -> None:
    from quidpro.analysis.sensitivity import sensitivity
    from quidpro.ensemble.distributed import DaskExecutor

    ex = DaskExecutor(address, Path(model.spec.file).read_text(), model.spec.file)
    local = sensitivity(model, "sobol", "population", "30", 32, seed=5, backend="numpy")
    remote = sensitivity(
        model, "sobol", "population", "30", 32, seed=5, backend="numpy", executor=ex
    )
    assert remote == local


def test_cli_dask_address(address: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from quidpro.cli.main import app

    outs = []
    for extra in ([], ["--dask", address]):
        out = tmp_path / f"e{len(extra)}.json"
        r = CliRunner().invoke(
            app,
            ["ensemble", "logistic", "-n", "50", "--seed", "3", "--batch-size", "16",
             "--backend", "numpy", "--json", str(out), "--no-store", "-q", *extra],
        )  # fmt: skip
        assert r.exit_code == 0, r.stderr
        outs.append(out.read_text())
    assert outs[0] == outs[1]


@pytest.mark.slow
def test_cli_dask_local_cluster(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from quidpro.cli.main import app

    out = tmp_path / "e.json"
    r = CliRunner().invoke(
        app,
        ["ensemble", "logistic", "-n", "50", "--seed", "3", "--backend", "numpy",
         "--json", str(out), "--no-store", "-q", "--dask", "local"],
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert summary(ensemble(quidpro.load("logistic"), 50, seed=3, backend="numpy")) == (
        _without_dates(__import__("json").loads(out.read_text()))
    )


def _without_dates(doc: dict) -> dict:
    """The command adds ISO dates beside model time; the library summary has none."""
    for v in doc["variables"].values():
        v.pop("dates", None)
    return doc


@pytest.mark.parametrize("address", ["", "x y", "tcp://host:notaport"])
def test_a_malformed_scheduler_address_is_a_usage_error(address: str) -> None:
    from typer.testing import CliRunner

    from quidpro.cli.main import app

    r = CliRunner().invoke(app, ["ensemble", "logistic", "-n", "5", "-q", "--dask", address])
    assert r.exit_code == 2, r.stderr
    assert "is not a Dask scheduler address" in r.stderr
