"""The workbench in a real browser: each page loads, a slider moves, a scenario switches,
and what the charts hold and the numbers shown equal the API's and the number policy's.

Screenshots go to $QUIDPRO_SHOTS (default: a folder in the temp dir), so a test run never
changes the repository; `QUIDPRO_SHOTS=docs/img pytest tests/web` refreshes the pictures
of docs/web.md.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from quidpro.report.numbers import fmt_number, fmt_percent

SHOTS = Path(os.environ.get("QUIDPRO_SHOTS", Path(tempfile.gettempdir()) / "quidpro-shots"))
SHOTS.mkdir(parents=True, exist_ok=True)
pytestmark = pytest.mark.slow
LOAD_MS = 180_000  # first load computes the slider ranking (seconds on a busy machine)


def _open(ctx: Any, url: str) -> Any:
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=LOAD_MS)
    assert not errors, errors
    return page


def _settled(page: Any, runs_before: int) -> None:
    page.wait_for_function(
        f"window.quidpro.runs > {runs_before} && !window.quidpro.inflight"
        " && !window.quidpro.pending",
        timeout=LOAD_MS,
    )


def _api_run(server: str, **body: Any) -> dict[str, Any]:
    r = httpx.post(f"{server}/api/run", json={"model": "nk_russia", **body}, timeout=120)
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def _chart_series(page: Any, name: str, index: int) -> list[float]:
    data: list[float] = page.evaluate(f"Array.from(window.quidpro.charts[{name!r}].data[{index}])")
    return data


def test_index_lists_every_model(server: str, browser_context: Any) -> None:
    page = browser_context.new_page()
    page.goto(server + "/")
    links = page.locator("ul.models a")
    assert links.count() == len(httpx.get(server + "/api/models").json())
    assert "nk_russia" in page.inner_text("ul.models")
    page.close()


def test_every_model_page_loads_and_draws(server: str, browser_context: Any) -> None:
    for m in httpx.get(server + "/api/models").json():
        page = _open(browser_context, server + m["page"])
        chosen = page.evaluate("window.quidpro.chosen")
        assert chosen, m["name"]
        assert page.locator("#explore-charts .chart canvas").count() == len(chosen)
        page.close()


def test_explore_slider_scenario_and_date_lever(server: str, browser_context: Any) -> None:
    page = _open(browser_context, server + "/model/nk_russia")
    state = page.evaluate("({chosen: window.quidpro.chosen, sliders: window.quidpro.page.sliders})")
    chosen, sliders = state["chosen"], state["sliders"]
    assert len(sliders) >= 4
    first = chosen[-1]
    base = _api_run(server, vars=chosen)
    assert _chart_series(page, first, 1) == pytest.approx(base["variables"][first])

    # Move the most important slider to its top with the keyboard, as a reader would.
    s = sliders[0]
    runs = page.evaluate("window.quidpro.runs")
    page.focus(f"#slider-{s['name']}")
    page.keyboard.press("End")
    _settled(page, runs)
    shown = page.inner_text(f"#value-{s['name']}")
    assert shown == fmt_number(s["max"])
    moved = _api_run(server, vars=chosen, set={s["name"]: s["max"]})
    assert _chart_series(page, first, 2) == pytest.approx(moved["variables"][first])
    assert _chart_series(page, first, 2) != pytest.approx(base["variables"][first])
    end_text = page.inner_text(f".chart[data-variable='{first}'] b.value")
    assert end_text == fmt_number(moved["variables"][first][-1])
    page.screenshot(path=str(SHOTS / "web-explore-slider.png"), full_page=False)

    # Switch to a scenario: the chart and the numbers follow the API's run of it.
    runs = page.evaluate("window.quidpro.runs")
    page.click("label[for='sc-ceasefire_2025']")
    _settled(page, runs)
    cease = _api_run(server, scenario="ceasefire_2025", vars=chosen, set={s["name"]: s["max"]})
    assert _chart_series(page, first, 2) == pytest.approx(cease["variables"][first])
    end_text = page.inner_text(f".chart[data-variable='{first}'] b.value")
    assert end_text == fmt_number(cease["variables"][first][-1])
    page.screenshot(path=str(SHOTS / "web-explore-scenario.png"), full_page=False)

    # Reset, then set the ceasefire by date with the date picker.
    runs = page.evaluate("window.quidpro.runs")
    page.click("#reset")
    _settled(page, runs)
    runs = page.evaluate("window.quidpro.runs")
    page.uncheck("#never-ceasefire_time")
    page.fill("#date-ceasefire_time", "2026-07-01")
    _settled(page, runs)
    page.wait_for_function(
        "window.quidpro.sets.ceasefire_time === '2026-07-01' && !window.quidpro.inflight",
        timeout=LOAD_MS,
    )
    dated = _api_run(server, vars=chosen, set={"ceasefire_time": "2026-07-01"})
    assert _chart_series(page, first, 2) == pytest.approx(dated["variables"][first])
    page.screenshot(path=str(SHOTS / "web-explore-date.png"), full_page=False)
    page.close()


def test_uncertainty_fans_and_probabilities(server: str, browser_context: Any) -> None:
    page = _open(browser_context, server + "/model/nk_russia")
    page.click("button[data-tab='uncertainty']")
    page.fill("#ens-runs", "200")
    page.fill("#ens-seed", "7")
    page.check("#ens-ceasefire_2025")
    query = page.input_value("#query-text")
    page.click("#query-add")
    page.wait_for_function(
        "document.querySelector('#ens-status').textContent.startsWith('done')",
        timeout=LOAD_MS,
    )
    chosen = page.evaluate("window.quidpro.chosen")
    doc = httpx.post(
        f"{server}/api/ensemble",
        json={
            "model": "nk_russia",
            "scenario": "ceasefire_2025",
            "runs": 200,
            "seed": 7,
            "vars": chosen,
            "queries": [query],
        },
        timeout=300,
    ).json()
    v = chosen[0]
    median_index = 8  # scenario 2's median: baseline's five quantile series come first
    fan = page.evaluate(f"Array.from(window.quidpro.fans[{v!r}].data[{median_index}])")
    assert fan == pytest.approx(doc["variables"][v]["quantiles"]["0.5"])
    cells = page.locator("#queries tbody tr").nth(1).locator("td").all_inner_texts()
    q = doc["queries"][0]
    assert cells[0] == "ceasefire_2025 (posterior)"
    assert cells[2] == fmt_percent(q["probability"])
    assert cells[3] == f"{fmt_percent(q['ci'][0])}–{fmt_percent(q['ci'][1])}"
    # The flagship names a posterior: members come from it, and the page says so.
    assert page.get_attribute("#ens-basis", "data-basis") == "posterior"
    assert "nk_russia.posterior.parquet" in page.inner_text("#ens-basis")
    assert (
        page.get_attribute(f"#fan-charts .chart[data-variable='{v}']", "data-basis") == "posterior"
    )
    assert "(posterior)" in page.inner_text(f"#fan-charts .chart[data-variable='{v}'] .u-title")
    assert doc["basis"] == "posterior"
    page.screenshot(path=str(SHOTS / "web-uncertainty.png"), full_page=True)
    page.close()


def test_why_shows_the_claim_behind_a_link(server: str, browser_context: Any) -> None:
    page = _open(browser_context, server + "/model/nk_russia")
    page.click("button[data-tab='why']")
    edges = page.locator("#graph line.hit")
    assert edges.count() > 50
    edge = page.evaluate("window.quidpro.page.graph.edges[0]")
    edges.first.dispatch_event("click")
    panel = page.inner_text("#claim-panel")
    claim = next(
        c for c in page.evaluate("window.quidpro.page.claims") if c["id"] == edge["claims"][0]
    )
    assert claim["text"] in panel
    assert "The Diplomat" in panel
    assert f"¶{claim['paragraph'][0]}" in panel
    page.screenshot(path=str(SHOTS / "web-why.png"), full_page=False)
    page.close()


def test_why_draws_the_loops_that_matter_and_their_dominance(
    server: str, browser_context: Any
) -> None:
    page = _open(browser_context, server + "/model/nk_russia")
    page.click("button[data-tab='why']")
    api = httpx.get(f"{server}/api/page/nk_russia", timeout=300).json()
    loops = {lp["id"]: lp for lp in api["loops"]["loops"]}
    matter = api["loops"]["matter"]
    # The dominance chart holds each loop's relative score, in the order of "matter".
    assert page.evaluate("window.quidpro.loopChart.shown") == matter
    for k, lid in enumerate(matter):
        data = page.evaluate(f"Array.from(window.quidpro.loopChart.data[{k + 1}])")
        assert data == pytest.approx(loops[lid]["relative_score"])
    assert page.locator("#loop-table tbody tr").count() == len(matter)
    # The diagram draws every link of those loops; a click shows the claim and its source.
    assert page.locator("#loop-graph path.ledge").count() == len(api["loop_graph"]["edges"])
    edge = next(e for e in api["loop_graph"]["edges"] if e["claims"])
    index = api["loop_graph"]["edges"].index(edge)
    page.locator("#loop-graph path.hit").nth(index).dispatch_event("click")
    panel = page.inner_text("#claim-panel")
    claim = next(c for c in api["claims"] if c["id"] == edge["claims"][0])
    assert claim["text"] in panel
    assert "The Diplomat" in panel
    assert f"¶{claim['paragraph'][0]}" in panel
    shown = page.evaluate("window.quidpro.panel")
    assert shown["claims"] == edge["claims"]
    assert shown["evidence"] == edge["evidence"]
    page.locator("#loop-graph").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "web-why-loops.png"), full_page=False)
    page.locator("#loops").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "web-why-dominance.png"), full_page=False)
    page.close()


def test_evidence_tab_ledger_points_and_backtest(server: str, browser_context: Any) -> None:
    page = _open(browser_context, server + "/model/nk_russia")
    page.click("button[data-tab='evidence']")
    api = httpx.get(f"{server}/api/page/nk_russia", timeout=300).json()
    ev = api["evidence"]
    assert page.get_attribute("#evidence-basis", "data-basis") == "posterior"
    assert page.locator("#ledger-table tbody tr").count() == len(ev["rows"])
    # The containers chart: the posterior median and every observed value as a point.
    ind = "containers_shipped_nk_to_ru"
    chart = f"window.quidpro.evidenceCharts[{ind!r}]"
    median = page.evaluate(f"Array.from({chart}.data[2])")
    assert median == pytest.approx(ev["indicators"][ind]["q50"], nan_ok=True)
    labels = page.evaluate(f"{chart}.series.map((s) => s.label)")
    points = page.evaluate(f"Array.from({chart}.data[{labels.index('observed value')}])")
    observed = sorted(
        r["value"]
        for r in ev["rows"]
        if r["indicator"] == ind and r["kind"] in ("count", "cumulative") and r["value"]
    )
    assert sorted(p for p in points if p is not None) == pytest.approx(observed)
    row = page.locator("#ledger-table tbody tr[data-id='OBS0003'] td").all_inner_texts()
    model = next(r for r in ev["rows"] if r["id"] == "OBS0003")["model"]
    scale = max(abs(model["q05"]), abs(model["q95"]))
    assert row[5] == (
        f"{fmt_number(model['q50'], 4, scale=scale)} ({fmt_number(model['q05'], 4, scale=scale)}"
        f"–{fmt_number(model['q95'], 4, scale=scale)})"
    )
    bt = api["backtest"]
    assert bt is not None
    cells = page.locator("#backtest-table tbody tr").first.locator("td").all_inner_texts()
    first = bt["cutoffs"][0]
    assert cells[0] == first["cutoff"]
    assert cells[3] == fmt_percent(first["coverage90"])
    assert cells[4] == fmt_number(first["crpss_trend"], 2)
    assert page.locator("#sources tbody tr").count() > 10
    page.screenshot(path=str(SHOTS / "web-evidence.png"), full_page=False)
    # the back-test's heading and summary at the top of the picture, not its last rows
    page.locator("#backtest").evaluate("(e) => e.previousElementSibling.scrollIntoView()")
    page.screenshot(path=str(SHOTS / "web-evidence-backtest.png"), full_page=False)
    href = page.get_attribute(".downloads a[href$='.md']", "href")
    assert href == "/brief/nk_russia.md"
    page.close()


CASES = [
    0.0,
    2.693e-61,
    1.0,
    0.5,
    9868.0,
    34110.7,
    -34118.0,
    2790000000.0,
    0.1234567,
    3.2e-5,
    1.5e-7,
    2.5e15,
    418000.0,
    6650000.0,
    0.0781,
    123.456,
]


def test_page_numbers_follow_the_python_policy(server: str, browser_context: Any) -> None:
    page = browser_context.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(url=server + "/static/numbers.js")
    got = page.evaluate(f"{CASES!r}.map((x) => QNum.fmt(x))")
    assert got == [fmt_number(x) for x in CASES]
    pct = [0.873, 0.004, 0.9991, 1.0, 0.0, 0.5]
    assert page.evaluate(f"{pct!r}.map((p) => QNum.percent(p))") == [fmt_percent(p) for p in pct]
    page.close()
