"""The HTML shells of the pages; ``static/app.js`` fills a model page from the API."""

from __future__ import annotations

from html import escape
from typing import Any

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/uPlot.min.css">
<link rel="stylesheet" href="/static/style.css">
</head>"""


def index_page(models: list[dict[str, Any]]) -> str:
    """The list of models the server offers."""
    items = "\n".join(
        f'<li><a href="{escape(m["page"])}">{escape(m["title"])}</a> '
        f"<code>{escape(m['name'])}</code><p>{escape(m['doc'])}</p></li>"
        for m in models
    )
    return (
        _HEAD.format(title="quidpro workbench")
        + f"""<body><header><h1>quidpro workbench</h1></header>
<main class="index"><p>Models on this server:</p><ul class="models">{items}</ul>
<p class="note">API: <code>GET /api/models</code>, <code>POST /api/run</code>,
<code>POST /api/ensemble</code> (<a href="/api/docs">reference</a>).</p></main></body></html>"""
    )


def model_page(name: str, title: str) -> str:
    """One model's workbench: four tabs, filled by ``app.js``."""
    n, t = escape(name), escape(title)
    return (
        _HEAD.format(title=f"{t} — quidpro")
        + f"""<body data-model="{n}">
<header><h1>{t}</h1>
<nav class="tabs" role="tablist">
<button role="tab" data-tab="explore" aria-selected="true">Explore</button>
<button role="tab" data-tab="uncertainty">Uncertainty</button>
<button role="tab" data-tab="why">Why</button>
<button role="tab" data-tab="evidence">Evidence</button>
</nav>
<span class="downloads">Brief: <a href="/brief/{n}.md">Markdown</a> ·
<a href="/brief/{n}.html">HTML</a> · <a href="/brief/{n}.pdf">PDF</a></span>
<a class="home" href="/">all models</a></header>
<main>
<section id="explore" class="tab">
  <aside class="controls">
    <h2>Scenario</h2><div id="scenarios"></div>
    <h2>Dated levers</h2><div id="date-levers"></div>
    <h2>Assumptions that matter most</h2>
    <p class="note">Ranked by their effect on the model's stocks (Morris screening).</p>
    <div id="sliders"></div>
    <button id="reset">Reset to baseline</button>
    <h2>Variables shown</h2><select id="variables" multiple size="8"></select>
  </aside>
  <div class="charts"><p class="status" id="run-status"></p><div id="explore-charts"></div></div>
</section>
<section id="uncertainty" class="tab" hidden>
  <div class="row">
    <label>Runs <input id="ens-runs" type="number" min="10" max="20000" value="500"></label>
    <label>Seed <input id="ens-seed" type="number" min="0" value="1"></label>
    <span id="ens-scenarios"></span>
    <button id="ens-go">Run ensemble</button> <span class="status" id="ens-status"></span>
  </div>
  <p class="note" id="ens-basis"></p>
  <div id="fan-charts"></div>
  <h2>Event probabilities</h2>
  <div class="row"><input id="query-text" size="60"> <button id="query-add">Add query</button></div>
  <table id="queries"><thead><tr><th>scenario</th><th>query</th><th>probability</th>
  <th>95% interval</th></tr></thead><tbody></tbody></table>
  <h2>Scenarios side by side</h2>
  <table id="side-by-side"></table>
</section>
<section id="why" class="tab" hidden>
  <div class="why">
    <div><h2>The loops that matter</h2>
    <p class="note">The feedback loops that compete to drive the baseline run (Loops That
    Matter), each in its colour, with the sign of every link; click a link for the claim
    of the article behind it and the evidence of its constants.</p>
    <svg id="loop-graph" viewBox="0 0 1000 560" role="img"
      aria-label="causal-loop diagram of the loops that matter"></svg></div>
    <aside id="claim-panel"><h2>Claim</h2>
      <p class="note">Click a link, a loop or a claim.</p></aside>
  </div>
  <h2>Loop dominance over time</h2><div id="loops"></div>
  <h2>Causal structure of the claims</h2>
  <p class="note">Every arrow is a link the model draws from a claim (blue: on a feedback
  loop); click one for the claim and its source.</p>
  <svg id="graph" viewBox="0 0 1000 700" role="img" aria-label="causal diagram of the claims"></svg>
  <h2>Claims</h2><ul id="claims"></ul>
</section>
<section id="evidence" class="tab" hidden>
  <h2>Evidence against the model</h2><div id="evidence-charts"></div><div id="ledger"></div>
  <h2>Back-test scores</h2><div id="backtest"></div>
  <h2>Sources named in the model file</h2><table id="sources"></table>
</section>
</main>
<script src="/static/uPlot.iife.min.js"></script>
<script src="/static/numbers.js"></script>
<script src="/static/app.js"></script>
</body></html>"""
    )
