"""The JSON API of ``quidpro serve`` (DESIGN.md): answers equal the library's, caps and
deadlines hold, and bad or random input is a 4xx ``{"error": ...}``, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import quidpro
from quidpro.ensemble import ensemble, summary
from quidpro.ensemble.posterior import model_posterior
from quidpro.web.app import create_app
from quidpro.web.workbench import Workbench

LOGISTIC_FILE = """\
quidpro: 1
name: tiny
time: {start: 0, stop: 10, dt: 0.5}
constants:
  r: {value: 0.5, range: [0.1, 1.0], distribution: {kind: uniform, low: 0.1, high: 1.0}}
  k: {value: 100, range: [50, 150]}
stocks:
  x: {initial: 1, inflows: [growth]}
flows:
  growth: {equation: "r * x * (1 - x / k)"}
"""


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Workbench:
    folder = tmp_path_factory.mktemp("models")
    (folder / "tiny.yaml").write_text(LOGISTIC_FILE)
    return Workbench([folder / "tiny.yaml"], cache_dir=None, backend="numpy")


@pytest.fixture(scope="module")
def client(bench: Workbench) -> Iterator[TestClient]:
    with TestClient(create_app(bench), raise_server_exceptions=False) as c:
        yield c


def test_models_lists_builtins_and_given_files(client: TestClient) -> None:
    r = client.get("/api/models")
    assert r.status_code == 200
    names = {m["name"] for m in r.json()}
    assert {"nk_russia", "logistic", "tiny"} <= names
    tiny = next(m for m in r.json() if m["name"] == "tiny")
    assert tiny["scenarios"] == ["baseline"]
    assert tiny["page"] == "/model/tiny"


def test_run_equals_the_library_run(client: TestClient) -> None:
    r = client.post(
        "/api/run",
        json={"model": "nk_russia", "scenario": "ceasefire_2025", "set": {"ru_release_months": 8}},
    )
    assert r.status_code == 200
    doc = r.json()
    df = quidpro.load("nk_russia").run(
        scenario="ceasefire_2025", set={"ru_release_months": 8}, backend="numpy"
    )
    assert doc["time"] == pytest.approx(df.index.to_numpy())
    assert set(doc["variables"]) == set(df.columns)
    for name in ("containers_shipped", "partnership_intensity"):
        assert doc["variables"][name] == pytest.approx(df[name].to_numpy(), rel=1e-12)
    assert doc["dates"][0] == "2019-01-01"
    assert len(doc["dates"]) == len(doc["time"])


def test_run_takes_a_date_for_a_time_constant(client: TestClient) -> None:
    by_date = client.post(
        "/api/run",
        json={"model": "nk_russia", "vars": ["war_on"], "set": {"ceasefire_time": "2025-01-01"}},
    ).json()
    by_time = client.post(
        "/api/run", json={"model": "nk_russia", "vars": ["war_on"], "set": {"ceasefire_time": 72}}
    ).json()
    assert by_date["variables"] == by_time["variables"]
    assert list(by_date["variables"]) == ["war_on"]


def test_ensemble_is_the_ensemble_json_document(client: TestClient) -> None:
    body = {"model": "tiny", "runs": 300, "seed": 5, "vars": ["x"], "queries": ["x > 50 at 6"]}
    r = client.post("/api/ensemble", json=body)
    assert r.status_code == 200
    m = quidpro.load(client.app.state.bench.entry("tiny").path)  # type: ignore[attr-defined]
    expected = summary(
        ensemble(m, 300, 5, variables=["x"], queries=["x > 50 at 6"], backend="numpy")
    )
    doc = r.json()
    # The ensemble --json document, plus where the members came from and the kernel.
    assert doc.pop("basis") == "prior"  # tiny names no posterior
    assert doc.pop("backend") == "numpy"
    assert doc == json.loads(json.dumps(expected))


def test_flagship_ensemble_draws_from_its_posterior(client: TestClient) -> None:
    body = {"model": "nk_russia", "runs": 30, "seed": 2, "vars": ["containers_shipped"]}
    r = client.post("/api/ensemble", json=body)
    assert r.status_code == 200, r.text
    m = client.app.state.bench.model("nk_russia")  # type: ignore[attr-defined]
    expected = summary(
        ensemble(
            m,
            30,
            2,
            variables=["containers_shipped"],
            backend="numpy",
            posterior=model_posterior(m.spec),
        )
    )
    doc = r.json()
    assert doc.pop("basis") == "posterior"
    doc.pop("backend")
    assert doc == json.loads(json.dumps(expected))


def test_page_data_has_ranked_sliders_with_units_and_levers(client: TestClient) -> None:
    doc = client.get("/api/page/nk_russia").json()
    sliders = doc["sliders"]
    assert 4 <= len(sliders) <= 8
    scores = [s["score"] for s in sliders]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 0
    for s in sliders:
        assert s["min"] < s["max"]
        assert s["min"] <= s["value"] <= s["max"]
        assert s["units"]
        assert s["label"]
        assert s["doc"]
        assert (s["max"] - s["min"]) / s["step"] == pytest.approx(
            round((s["max"] - s["min"]) / s["step"])
        )
    levers = {d["name"]: d for d in doc["date_levers"]}
    assert {"ceasefire_time", "missile_tech_transfer_time"} <= set(levers)
    assert levers["ceasefire_time"]["never"] is True
    assert "ceasefire_time" not in {s["name"] for s in sliders}
    events = {e["name"]: e for e in doc["events"]}
    assert events["invasion_time"]["date"] == "2022-02-23"
    assert doc["posterior"]["file"] == "nk_russia.posterior.parquet"
    matter = doc["loops"]["matter"]
    assert matter
    assert set(doc["loop_graph"]["loops"]) == set(matter)
    nodes = {n["id"] for n in doc["loop_graph"]["nodes"]}
    assert all({e["source"], e["target"]} <= nodes for e in doc["loop_graph"]["edges"])
    assert doc["evidence"]["basis"] == "posterior"
    assert len(doc["evidence"]["rows"]) > 50
    edges = doc["graph"]["edges"]
    assert any(e["source"] == "war_on" and e["target"] == "war_intensity" for e in edges)


def test_the_ranking_puts_the_driving_constant_first(bench: Workbench) -> None:
    # In the logistic model x grows at rate r towards k; over 10 time units from x=1 the
    # rate r moves x far more than the capacity k does.
    ranking = dict(bench.ranking("tiny"))
    assert ranking["r"] > ranking["k"] > 0


def test_ranking_is_cached_on_disk(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(LOGISTIC_FILE)
    first = Workbench([tmp_path / "tiny.yaml"], cache_dir=tmp_path / "c", backend="numpy")
    ranking = first.ranking("tiny")
    files = list((tmp_path / "c" / "web").glob("tiny-*-ranking.json"))
    assert len(files) == 1
    files[0].write_text(json.dumps([["k", 9.0], ["r", 1.0]]))  # the cache is what is read
    again = Workbench([tmp_path / "tiny.yaml"], cache_dir=tmp_path / "c", backend="numpy")
    assert again.ranking("tiny") == [("k", 9.0), ("r", 1.0)] != ranking


BAD = [
    ("/api/run", {"model": "../../etc/passwd"}, 404),
    ("/api/run", {"model": "/etc/passwd"}, 404),
    ("/api/run", {"model": "nk_russia", "scenario": "nope"}, 400),
    ("/api/run", {"model": "nk_russia", "set": {"nope": 1}}, 400),
    ("/api/run", {"model": "nk_russia", "set": {"ceasefire_time": "2025-13-45"}}, 400),
    ("/api/run", {"model": "nk_russia", "vars": ["nope"]}, 400),
    ("/api/run", {"model": "nk_russia", "extra": 1}, 422),
    ("/api/run", {}, 422),
    ("/api/ensemble", {"model": "tiny", "runs": 0, "seed": 1}, 422),
    ("/api/ensemble", {"model": "tiny", "runs": 10**9, "seed": 1}, 422),
    ("/api/ensemble", {"model": "tiny", "runs": 10, "seed": -1}, 422),
    ("/api/ensemble", {"model": "tiny", "runs": 10, "seed": 1, "queries": ["x >"]}, 400),
    ("/api/ensemble", {"model": "tiny", "runs": 10, "seed": 1, "queries": ["x at 3"]}, 400),
]


@pytest.mark.parametrize(("path", "body", "status"), BAD)
def test_bad_requests_are_4xx_json(client: TestClient, path: str, body: Any, status: int) -> None:
    r = client.post(path, json=body)
    assert r.status_code == status, r.text
    assert isinstance(r.json()["error"], str)
    assert r.json()["error"]


def test_a_run_that_goes_non_finite_is_a_4xx_naming_the_variable(client: TestClient) -> None:
    r = client.post("/api/run", json={"model": "tiny", "set": {"k": 0}})
    assert r.status_code == 400
    assert "growth" in r.json()["error"] or "x" in r.json()["error"]


def test_oversized_and_malformed_bodies(client: TestClient) -> None:
    big = b'{"model": "' + b"x" * (300 * 1024) + b'"}'
    r = client.post("/api/run", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "error" in r.json()
    r = client.post("/api/run", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "error" in r.json()
    assert client.get("/model/nope").status_code == 404
    assert client.get("/nothing/here").json() == {"error": "Not Found"}


def test_ensemble_caps_and_deadline(bench: Workbench) -> None:
    with TestClient(create_app(bench, timeout=0.0), raise_server_exceptions=False) as c:
        r = c.post(
            "/api/ensemble",
            json={"model": "nk_russia", "runs": 3000, "seed": 1, "vars": ["containers_shipped"]},
        )
        assert r.status_code == 408
        assert "limit of 0 s" in r.json()["error"]
    from quidpro.web import workbench

    old = workbench.MAX_CELLS
    workbench.MAX_CELLS = 1000
    try:
        with TestClient(create_app(bench), raise_server_exceptions=False) as c:
            r = c.post("/api/ensemble", json={"model": "tiny", "runs": 100, "seed": 1})
            assert r.status_code == 413
            assert "fewer runs" in r.json()["error"]
    finally:
        workbench.MAX_CELLS = old


# ---------------------------------------------------------------- fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["tiny", "logistic", "", "nk", "../tiny"]) | json_values,
        "scenario": st.sampled_from(["baseline", "x", ""]) | json_values,
        "set": st.dictionaries(
            st.sampled_from(["r", "k", "zz"]),
            st.floats() | st.text(max_size=12) | json_values,
            max_size=3,
        )
        | json_values,
        "vars": st.lists(st.sampled_from(["x", "growth", "time", "q"]), max_size=3) | json_values,
        "runs": st.integers(-5, 60) | json_values,
        "seed": st.integers(-3, 2**64) | json_values,
        "queries": st.lists(
            st.sampled_from(["x > 5 at 3", "x at 2", "growth < 0 at 99"]), max_size=2
        )
        | json_values,
        "junk": json_values,
    },
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(["/api/run", "/api/ensemble"]), body=fields | json_values)
def test_fuzzed_bodies_never_5xx(client: TestClient, path: str, body: Any) -> None:
    r = client.post(
        path, content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"}
    )
    assert r.status_code < 500, (body, r.text)
    doc = r.json()
    if r.status_code >= 400:
        assert isinstance(doc.get("error"), str)
    elif path == "/api/run":
        assert set(doc) >= {"time", "variables"}
        assert all(
            np.isfinite([v for v in s if v is not None]).all() for s in doc["variables"].values()
        )
    else:
        contract = {"runs", "seed", "variables", "queries"}
        assert contract <= set(doc) <= contract | {"basis", "backend", "n_failed"}


@settings(max_examples=60, deadline=None)
@given(
    path=st.text(max_size=40)
    | st.sampled_from(
        [
            "api/page/",
            "model/",
            "brief/x.pdf",
            "brief/tiny.exe",
            "static/../app.py",
            "api/page/%2e%2e",
        ]
    ),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
)
def test_fuzzed_paths_never_5xx(client: TestClient, path: str, method: str) -> None:
    from urllib.parse import quote

    r = client.request(method, "/" + quote(path.lstrip("/"), safe="/.{}"))
    assert r.status_code < 500, (method, path, r.text[:200])


@pytest.mark.parametrize("seed", ["-1", str(2**63)])
def test_a_briefs_seed_out_of_range_is_a_422_naming_it(client: TestClient, seed: str) -> None:
    r = client.get(f"/brief/tiny.md?runs=50&seed={seed}")
    assert r.status_code == 422
    assert r.json()["error"].startswith("query.seed: Input should be ")
