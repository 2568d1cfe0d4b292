// One model's workbench page: Explore, Uncertainty, Why, Evidence (quidpro serve).
// Charts are uPlot (shipped in /static, no CDN). Everything the tests read is exposed on
// window.quidpro: the page data, the last run, the charts' data and the numbers shown.
"use strict";
(() => {
  const MODEL = document.body.dataset.model;
  const state = {
    page: null, scenario: "baseline", sets: {}, chosen: [], baseline: null, last: null,
    inflight: false, pending: false, charts: {}, fans: {}, ensembles: {}, runs: 0,
    latencies: [],
  };
  window.quidpro = state;

  const $ = (sel) => document.querySelector(sel);
  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") e.textContent = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  };
  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
    };
    const r = await fetch(path, opts);
    const doc = await r.json();
    if (!r.ok) throw new Error(doc.error || r.statusText);
    return doc;
  }
  const varInfo = (name) => state.page.variables.find((v) => v.name === name) || { label: name, units: "" };
  const toSeconds = (iso) => Date.parse(iso + "T00:00:00Z") / 1000;
  const xOf = (doc) => (doc.dates ? doc.dates.map(toSeconds) : doc.time);

  // ---------------------------------------------------------------- tabs
  for (const b of document.querySelectorAll("nav.tabs button")) {
    b.addEventListener("click", () => {
      for (const o of document.querySelectorAll("nav.tabs button")) o.setAttribute("aria-selected", o === b);
      for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== b.dataset.tab;
      if (b.dataset.tab === "why") drawGraph();
    });
  }

  // ---------------------------------------------------------------- charts
  function eventsPlugin(events) {
    // Dated events as dashed vertical lines, each marked by its number at the top (in
    // staggered rows when events are close); the numbers' key is a line above the
    // charts (eventKey), so long labels never hide the data.
    return {
      hooks: {
        draw: (u) => {
          const ctx = u.ctx, px = devicePixelRatio;
          ctx.save();
          ctx.font = `bold ${10 * px}px sans-serif`;
          ctx.textAlign = "left";
          ctx.textBaseline = "alphabetic";
          const shown = events
            .map((e) => ({ ...e, pos: u.valToPos(e.x, "x", true) }))
            .filter((e) => e.pos >= u.bbox.left && e.pos <= u.bbox.left + u.bbox.width)
            .sort((a, b) => a.pos - b.pos);
          for (const e of shown) {
            ctx.strokeStyle = e.colour || "#b0413e";
            ctx.setLineDash([4 * px, 3 * px]);
            ctx.beginPath(); ctx.moveTo(e.pos, u.bbox.top); ctx.lineTo(e.pos, u.bbox.top + u.bbox.height); ctx.stroke();
          }
          const rowEnd = [];
          for (const e of shown) {
            const text = String(e.n);
            const w = ctx.measureText(text).width;
            let row = rowEnd.findIndex((end) => end < e.pos);
            if (row < 0) { row = rowEnd.length; rowEnd.push(0); }
            rowEnd[row] = e.pos + w + 5 * px;
            const y = u.bbox.top + (11 + 12 * row) * px;
            ctx.fillStyle = "rgba(255,255,255,0.9)";
            ctx.fillRect(e.pos + 1 * px, y - 9 * px, w + 3 * px, 11 * px);
            ctx.fillStyle = e.colour || "#b0413e";
            ctx.fillText(text, e.pos + 2.5 * px, y);
          }
          ctx.restore();
        },
      },
    };
  }
  function chartEvents() {
    // The model's dated events and the dates the levers set, in date order, numbered.
    const p = state.page;
    const out = p.events.map((e) => ({ x: e.date ? toSeconds(e.date) : e.time, label: e.label, colour: "#777" }));
    for (const lever of p.date_levers) {
      const v = lever.name in state.sets ? state.sets[lever.name] : null;
      const iso = typeof v === "string" ? v : null;
      const t = typeof v === "number" ? v : null;
      if (iso) out.push({ x: toSeconds(iso), label: lever.label });
      else if (t !== null && t <= p.time.stop) out.push({ x: t, label: lever.label });
    }
    const sc = p.scenarios.find((s) => s.name === state.scenario);
    if (sc) for (const [k, v] of Object.entries(sc.set)) {
      const lever = p.date_levers.find((l) => l.name === k);
      if (lever && !(k in state.sets) && v <= p.time.stop) out.push({ x: timeToX(v), label: lever.label });
    }
    out.sort((a, b) => a.x - b.x);
    out.forEach((e, i) => { e.n = i + 1; });
    return out;
  }
  function eventKey() {
    // The key to the numbered event lines of the charts that follow.
    const events = chartEvents();
    const key = el("p", { class: "note events-key" });
    if (!events.length) return key;
    key.append("Events (dashed lines): ");
    events.forEach((e, i) => {
      if (i) key.append(" · ");
      key.append(el("span", { class: "ev" }, el("b", { style: `color:${e.colour || "#b0413e"}`, text: String(e.n) }), ` ${e.label}`));
    });
    return key;
  }
  function timeToX(t) {
    // Model time to the chart's x: a date where the model has one (baseline run's mapping).
    const b = state.baseline;
    if (!b || !b.dates) return t;
    const i = b.time.findIndex((x) => x >= t);
    return toSeconds(b.dates[i < 0 ? b.dates.length - 1 : i]);
  }
  function axisValues(_, ticks) { return ticks.map((v) => QNum.fmt(v, 3)); }
  function axisSize(u, values, axisIdx, cycleNum) {
    // Room for the widest tick label (25,000,000 is wider than 0.8), so the axis title
    // never sits on the numbers.
    const axis = u.axes[axisIdx];
    if (cycleNum > 1) return axis._size;
    let size = axis.ticks.size + axis.gap;
    const longest = (values || []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), "");
    if (longest) { u.ctx.font = axis.font[0]; size += u.ctx.measureText(longest).width / devicePixelRatio; }
    return Math.ceil(size) + 4;
  }
  function legendValue(u, v) { return v === null || v === undefined ? "" : QNum.fmt(v); }
  function chartWidth(target) {
    // Two charts a row in the area the charts share (a chart's own box has no width yet).
    const area = target.parentElement ? target.parentElement.clientWidth : 1100;
    return Math.max(340, Math.min(640, Math.floor((area - 40) / 2)));
  }
  function makeChart(target, title, units, data, series, extra = {}) {
    const width = extra.width || chartWidth(target);
    target.style.width = `${width + 10}px`;
    const opts = {
      title, width, height: 240,
      scales: { x: { time: !!state.page.time.origin } },
      axes: [{}, { label: units || "", values: axisValues, size: axisSize, labelSize: 20 }],
      series: [{ label: state.page.time.origin ? "date" : state.page.time.units }, ...series],
      plugins: [eventsPlugin(chartEvents())],
      legend: { live: true },
      ...extra,
      title, width,
    };
    return new uPlot(opts, data, target);
  }

  // ---------------------------------------------------------------- evidence points
  const VALUE_KINDS = new Set(["count", "cumulative", "share"]);
  const evidenceRows = () => (state.page.evidence ? state.page.evidence.rows : []);
  function pointsOn(x, rows) {
    // Observations as points on a chart's x grid (the first saved time at or after).
    const pts = x.map(() => null);
    for (const r of rows) {
      const xv = r.date ? toSeconds(r.date.length === 4 ? `${r.date}-07-01` : r.date.length === 7 ? `${r.date}-15` : r.date) : r.time;
      let i = x.findIndex((t) => t >= xv); if (i < 0) i = x.length - 1;
      // Rows of one date (conflicting counts stay separate rows) take the next free steps.
      while (pts[i] !== null && i < x.length - 1) i += 1;
      pts[i] = r.value;
    }
    return pts;
  }

  // ---------------------------------------------------------------- explore
  function currentSets() {
    const out = {};
    for (const [k, v] of Object.entries(state.sets)) out[k] = v;
    return out;
  }
  function buildExplore() {
    const p = state.page;
    const sc = $("#scenarios");
    for (const s of p.scenarios) {
      const id = `sc-${s.name}`;
      const input = el("input", { type: "radio", name: "scenario", id, value: s.name });
      if (s.name === "baseline") input.checked = true;
      input.addEventListener("change", () => { state.scenario = s.name; rerun(); });
      sc.append(el("div", { class: "opt", title: s.doc }, input, el("label", { for: id, text: ` ${s.name.replaceAll("_", " ")}` }), el("div", { class: "note", text: s.doc })));
    }
    const dl = $("#date-levers");
    if (!p.date_levers.length) dl.append(el("p", { class: "note", text: "This model has no dated levers." }));
    for (const lever of p.date_levers) {
      const date = el("input", { type: "date", id: `date-${lever.name}`, min: lever.min_date || "", max: lever.max_date || "" });
      const never = el("input", { type: "checkbox", id: `never-${lever.name}` });
      never.checked = lever.never;
      if (lever.date) date.value = lever.date;
      date.disabled = lever.never;
      const apply = () => {
        date.disabled = never.checked;
        if (never.checked) delete state.sets[lever.name];
        else if (date.value) state.sets[lever.name] = date.value;
        rerun();
      };
      never.addEventListener("change", () => { if (!never.checked && !date.value) date.value = lever.max_date ? lever.min_date : ""; apply(); });
      date.addEventListener("change", apply);
      dl.append(el("div", { class: "lever", title: lever.doc }, el("div", { text: lever.label }),
        date, el("label", {}, never, " never"), el("div", { class: "note", text: lever.doc })));
    }
    const box = $("#sliders");
    if (!p.sliders.length) box.append(el("p", { class: "note", text: "No uncertain constants to move." }));
    for (const s of p.sliders) {
      const input = el("input", { type: "range", id: `slider-${s.name}`, min: s.min, max: s.max, step: s.step, value: s.value, "data-name": s.name });
      const shown = el("output", { id: `value-${s.name}`, text: QNum.fmt(s.value) });
      input.addEventListener("input", () => {
        const v = Number(input.value);
        shown.textContent = QNum.fmt(v);
        if (Math.abs(v - s.value) < s.step / 2) delete state.sets[s.name]; else state.sets[s.name] = v;
        rerun();
      });
      box.append(el("div", { class: "slider", title: s.doc },
        el("div", { class: "slider-head" }, el("span", { text: s.label }), shown, el("span", { class: "units", text: s.units })),
        input,
        el("div", { class: "range note", text: `${QNum.fmt(s.min)} – ${QNum.fmt(s.max)} ${s.units}` }),
        el("div", { class: "note", text: s.doc })));
    }
    $("#reset").addEventListener("click", () => {
      state.sets = {};
      for (const s of p.sliders) { $(`#slider-${s.name}`).value = s.value; $(`#value-${s.name}`).textContent = QNum.fmt(s.value); }
      for (const lever of p.date_levers) {
        $(`#never-${lever.name}`).checked = lever.never; $(`#date-${lever.name}`).disabled = lever.never;
        $(`#date-${lever.name}`).value = lever.date || "";
      }
      $("#sc-baseline").checked = true; state.scenario = "baseline";
      rerun();
    });
    const sel = $("#variables");
    for (const v of p.variables) {
      const o = el("option", { value: v.name, text: `${v.label}${v.units ? ` (${v.units})` : ""}` });
      o.selected = p.default_variables.includes(v.name);
      sel.append(o);
    }
    state.chosen = [...p.default_variables];
    sel.addEventListener("change", async () => {
      state.chosen = [...sel.selectedOptions].map((o) => o.value).slice(0, 12);
      state.baseline = await api("/api/run", { model: MODEL, vars: state.chosen });
      rerun();
    });
  }
  async function rerun() {
    if (state.inflight) { state.pending = true; return; }
    state.inflight = true;
    const t0 = performance.now();
    try {
      const body = { model: MODEL, scenario: state.scenario, set: currentSets(), vars: state.chosen };
      state.last = await api("/api/run", body);
      state.latencies.push(performance.now() - t0);
      state.runs += 1;
      drawExplore();
      $("#run-status").textContent = `re-run in ${QNum.fmt(performance.now() - t0, 2)} ms`;
      $("#run-status").classList.remove("error");
    } catch (err) {
      $("#run-status").textContent = `error: ${err.message}`;
      $("#run-status").classList.add("error");
    } finally {
      state.inflight = false;
      if (state.pending) { state.pending = false; rerun(); }
    }
  }
  function drawExplore() {
    const box = $("#explore-charts");
    box.textContent = "";
    box.append(eventKey());
    state.charts = {};
    state.shown = {};
    const run = state.last, base = state.baseline;
    const x = xOf(run);
    for (const name of state.chosen) {
      const info = varInfo(name);
      const holder = el("div", { class: "chart", "data-variable": name });
      box.append(holder);
      const data = [x, base.variables[name], run.variables[name]];
      const series = [
        { label: "baseline", stroke: "#999", dash: [5, 4], width: 1.5, value: legendValue },
        { label: state.scenario === "baseline" && !Object.keys(state.sets).length ? "this run (= baseline)" : "this run", stroke: "#1f5f8b", width: 2, value: legendValue },
      ];
      const ev = evidenceRows().filter((r) => r.variable === name && r.value !== null && VALUE_KINDS.has(r.kind));
      if (ev.length) {
        data.push(pointsOn(x, ev));
        series.push({ label: "evidence", stroke: "#d9822b", width: 0, paths: () => null, points: { show: true, size: 8, fill: "#d9822b" }, value: legendValue });
      }
      state.charts[name] = makeChart(holder, info.label, info.units, data, series);
      const end = run.variables[name][run.variables[name].length - 1];
      const bend = base.variables[name][base.variables[name].length - 1];
      const when = run.dates ? run.dates[run.dates.length - 1] : QNum.fmt(run.time[run.time.length - 1]);
      const note = el("p", { class: "numbers" });
      note.innerHTML = `${info.label} at ${when}: <b class="value">${QNum.fmt(end)}</b> ${info.units} (baseline <span class="base">${QNum.fmt(bend)}</span>)`;
      holder.append(note);
      state.shown[name] = { end: QNum.fmt(end), baseline: QNum.fmt(bend) };
    }
  }

  // ---------------------------------------------------------------- uncertainty
  function buildUncertainty() {
    const p = state.page;
    const box = $("#ens-scenarios");
    for (const s of p.scenarios) {
      const input = el("input", { type: "checkbox", id: `ens-${s.name}`, value: s.name });
      input.checked = s.name === "baseline";
      box.append(el("label", { title: s.doc }, input, ` ${s.name.replaceAll("_", " ")} `));
    }
    const basis = $("#ens-basis");
    basis.dataset.basis = p.posterior ? "posterior" : "prior";
    basis.textContent = p.posterior
      ? `Members are drawn from the model's posterior (${p.posterior.file}: ${QNum.fmt(p.posterior.draws)} draws of ${p.posterior.constants.length} calibrated constants; the others keep their values), as quidpro ensemble does.`
      : "Members are drawn from the prior: the constants' distributions in the model file (this model has no calibrated posterior).";
    const first = p.default_variables[0];
    if (first && state.baseline) {
      const vals = state.baseline.variables[first];
      const i = Math.floor(vals.length * 0.75);
      const at = state.baseline.dates ? state.baseline.dates[i] : String(state.baseline.time[i]);
      $("#query-text").value = `${first} > ${Number(vals[i].toPrecision(2))} at ${at}`;
    }
    state.queries = [];
    $("#query-add").addEventListener("click", () => { state.queries.push($("#query-text").value); runEnsembles(); });
    $("#ens-go").addEventListener("click", runEnsembles);
  }
  async function runEnsembles() {
    const runs = Number($("#ens-runs").value), seed = Number($("#ens-seed").value);
    const scenarios = [...document.querySelectorAll("#ens-scenarios input:checked")].map((i) => i.value);
    $("#ens-status").textContent = `running ${QNum.fmt(runs)} members × ${scenarios.length} scenario(s)…`;
    $("#ens-status").classList.remove("error");
    try {
      state.ensembles = {};
      for (const s of scenarios) {
        state.ensembles[s] = await api("/api/ensemble", { model: MODEL, scenario: s, runs, seed, vars: state.chosen, queries: state.queries });
      }
      const basis = Object.values(state.ensembles)[0].basis;
      $("#ens-status").textContent = `done: ${QNum.fmt(runs)} members from the ${basis}, seed ${seed}`;
      drawFans();
    } catch (err) {
      $("#ens-status").textContent = `error: ${err.message}`;
      $("#ens-status").classList.add("error");
    }
  }
  const COLOURS = ["#1f5f8b", "#d9822b", "#3c8d40", "#b0413e", "#6b4c9a", "#8c6d31", "#2a9d8f", "#c2559a"];
  function fade(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${a})`;
  }
  function drawFans() {
    const box = $("#fan-charts");
    box.textContent = "";
    state.fans = {};
    const names = Object.keys(state.ensembles);
    if (!names.length) return;
    box.append(eventKey());
    for (const v of state.chosen) {
      const first = state.ensembles[names[0]].variables[v];
      if (!first) continue;
      const info = varInfo(v);
      const x = first.time.map((t) => timeToX(t));
      const data = [x], series = [], bands = [];
      names.forEach((s, k) => {
        const q = state.ensembles[s].variables[v].quantiles, c = COLOURS[k % COLOURS.length];
        const base = data.length;
        data.push(q["0.05"], q["0.25"], q["0.5"], q["0.75"], q["0.95"]);
        series.push(
          { label: `${s} 5%`, stroke: fade(c, 0.3), width: 1, value: legendValue },
          { label: `${s} 25%`, stroke: fade(c, 0.5), width: 1, value: legendValue },
          { label: `${s} median`, stroke: c, width: 2, value: legendValue },
          { label: `${s} 75%`, stroke: fade(c, 0.5), width: 1, value: legendValue },
          { label: `${s} 95%`, stroke: fade(c, 0.3), width: 1, value: legendValue });
        bands.push({ series: [base + 4, base], fill: fade(c, 0.12) }, { series: [base + 3, base + 1], fill: fade(c, 0.22) });
      });
      const holder = el("div", { class: "chart", "data-variable": v });
      box.append(holder);
      const basis = state.ensembles[names[0]].basis;
      state.fans[v] = makeChart(holder, `${info.label} (${basis})`, info.units, data, series, { bands, legend: { show: false } });
      holder.dataset.basis = basis;
      const key = el("p", { class: "numbers" });
      names.forEach((s, k) => key.append(el("span", { class: "swatch", style: `background:${COLOURS[k % COLOURS.length]}` }), ` ${s.replaceAll("_", " ")}  `));
      key.append(el("span", { class: "note", text: "line: median; bands: 50% and 90% of the members" }));
      holder.append(key);
    }
    drawQueries(); drawSideBySide();
  }
  function drawQueries() {
    const body = $("#queries tbody");
    body.textContent = "";
    for (const [s, doc] of Object.entries(state.ensembles)) {
      for (const q of doc.queries || []) {
        body.append(el("tr", {}, el("td", { text: `${s} (${doc.basis})` }), el("td", { text: q.query }),
          el("td", { class: "num", text: QNum.percent(q.probability) }),
          el("td", { class: "num", text: `${QNum.percent(q.ci[0])}–${QNum.percent(q.ci[1])}` })));
      }
    }
  }
  function drawSideBySide() {
    const t = $("#side-by-side");
    t.textContent = "";
    const names = Object.keys(state.ensembles);
    const head = el("tr", {}, el("th", { text: "variable (at the end of the run)" }));
    for (const s of names) head.append(el("th", { text: `${s}: median (90% interval)` }));
    t.append(el("thead", {}, head));
    const body = el("tbody");
    for (const v of state.chosen) {
      const row = el("tr", {}, el("td", { text: `${varInfo(v).label} (${varInfo(v).units})` }));
      for (const s of names) {
        const q = state.ensembles[s].variables[v].quantiles, n = q["0.5"].length - 1;
        const scale = Math.max(Math.abs(q["0.05"][n]), Math.abs(q["0.95"][n])) || 1;
        row.append(el("td", { class: "num", text: `${QNum.fmt(q["0.5"][n], 4, scale)} (${QNum.fmt(q["0.05"][n], 4, scale)}–${QNum.fmt(q["0.95"][n], 4, scale)})` }));
      }
      body.append(row);
    }
    t.append(body);
  }

  // ---------------------------------------------------------------- why
  function sourceLine(id) {
    const s = state.page.sources[id] || {};
    return el("li", {}, el("code", { text: id }), ` ${s.title || ""}${s.publisher ? ` (${s.publisher}${s.date ? `, ${s.date}` : ""})` : ""} `,
      s.url ? el("a", { href: s.url, target: "_blank", rel: "noopener", text: "link" }) : "");
  }
  function claimPanel(claimIds, link, evidenceIds, heading) {
    // The claims behind a link (text, kind, polarity, the article's title and paragraphs)
    // and the evidence ids of the constants the link rests on.
    const p = state.page, panel = $("#claim-panel");
    panel.textContent = "";
    panel.append(el("h2", { text: heading || (link ? `${varInfo(link[0]).label} → ${varInfo(link[1]).label}` : "Claim") }));
    if (link && !claimIds.length) panel.append(el("p", { class: "note", text: "No claim of the article names this link: it is part of the model's own accounting (a stock and its flows)." }));
    for (const id of claimIds) {
      const c = p.claims.find((x) => x.id === id);
      if (!c) continue;
      const src = p.sources[c.source] || {};
      panel.append(el("h3", { class: "claim", "data-claim": c.id, text: `${c.id} (${c.kind || ""}, polarity ${c.polarity || "?"})` }),
        el("p", { text: c.text }),
        el("p", { class: "note source", text: `Source: “${src.title || c.source || "?"}”${src.publisher ? `, ${src.publisher}` : ""}, ¶${c.paragraph.join(", ¶")}` }));
    }
    const ids = new Set(evidenceIds || []);
    if (link && !evidenceIds) for (const n of link) for (const id of (p.evidence_ids[n] || [])) ids.add(id);
    if (ids.size) {
      const ul = el("ul", { class: "evidence-ids" });
      for (const id of ids) ul.append(sourceLine(id));
      panel.append(el("h3", { text: "Evidence behind the constants of this link" }), ul);
    }
    state.panel = { claims: claimIds, evidence: [...ids], link };
  }
  const NS = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs) => { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); return e; };
  function arrowDefs(svg, colours) {
    const defs = svgEl("defs", {});
    for (const [id, fill] of colours) {
      const marker = svgEl("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
      marker.append(svgEl("path", { d: "M 0 0 L 10 5 L 0 10 z", fill }));
      defs.append(marker);
    }
    svg.append(defs);
  }
  function drawGraph() {
    drawLoopGraph();
    const g = state.page.graph, svg = $("#graph");
    if (svg.dataset.drawn) return;
    svg.dataset.drawn = "1";
    arrowDefs(svg, [["arrow", "#555"]]);
    const pos = Object.fromEntries(g.nodes.map((n) => [n.id, n]));
    const loopEdges = new Set(g.loop_edges || []);
    for (const e of g.edges) {
      const a = pos[e.source], b = pos[e.target];
      const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
      const line = svgEl("line", { x1: a.x + dx / len * 8, y1: a.y + dy / len * 8, x2: b.x - dx / len * 10, y2: b.y - dy / len * 10,
        class: "edge" + (loopEdges.has(`${e.source}>${e.target}`) ? " loop" : ""), "marker-end": "url(#arrow)", "data-claims": e.claims.join(" ") });
      const hit = svgEl("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: "hit" });
      const title = svgEl("title", {}); title.textContent = `${e.source} → ${e.target} (${e.claims.join(", ")})`;
      hit.append(title);
      hit.addEventListener("click", () => { for (const l of svg.querySelectorAll(".edge.on")) l.classList.remove("on"); line.classList.add("on"); claimPanel(e.claims, [e.source, e.target]); });
      svg.append(line, hit);
    }
    for (const n of g.nodes) {
      const c = svgEl("circle", { cx: n.x, cy: n.y, r: n.kind === "stock" ? 7 : 4, class: `node ${n.kind}` });
      const t = svgEl("text", { x: n.x + 8, y: n.y - 6, class: "label" }); t.textContent = varInfo(n.id).label;
      const title = svgEl("title", {}); title.textContent = varInfo(n.id).doc || n.id; c.append(title);
      svg.append(c, t);
    }
  }
  function drawLoopGraph() {
    // The causal-loop diagram of the loops that matter: each loop's links in its colour,
    // the sign of each link at its head; click a link for the claims and evidence behind it.
    const lg = state.page.loop_graph, svg = $("#loop-graph");
    if (!lg || !svg || svg.dataset.drawn) return;
    svg.dataset.drawn = "1";
    const colourOf = Object.fromEntries(lg.loops.map((id, k) => [id, COLOURS[k % COLOURS.length]]));
    arrowDefs(svg, lg.loops.map((id) => [`arrow-${id}`, colourOf[id]]));
    const pos = Object.fromEntries(lg.nodes.map((n) => [n.id, n]));
    for (const e of lg.edges) {
      const a = pos[e.source], b = pos[e.target], c = colourOf[e.loops[0]];
      const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
      // A gentle curve, so that a link and its reverse do not overlap.
      const mx = (a.x + b.x) / 2 - dy / len * 18, my = (a.y + b.y) / 2 + dx / len * 18;
      const path = svgEl("path", { d: `M ${a.x + dx / len * 9} ${a.y + dy / len * 9} Q ${mx} ${my} ${b.x - dx / len * 12} ${b.y - dy / len * 12}`,
        class: "ledge", stroke: c, fill: "none", "marker-end": `url(#arrow-${e.loops[0]})`, "data-loops": e.loops.join(" "), "data-claims": e.claims.join(" ") });
      const hit = svgEl("path", { d: path.getAttribute("d"), class: "hit" });
      const title = svgEl("title", {}); title.textContent = `${varInfo(e.source).label} → ${varInfo(e.target).label} (${e.polarity}; loops ${e.loops.join(", ")}${e.claims.length ? `; claims ${e.claims.join(", ")}` : ""})`;
      hit.append(title);
      const sign = svgEl("text", { x: 0.25 * a.x + 0.5 * mx + 0.25 * b.x + 4, y: 0.25 * a.y + 0.5 * my + 0.25 * b.y - 4, class: "sign" });
      sign.textContent = e.polarity;
      hit.addEventListener("click", () => {
        for (const l of svg.querySelectorAll(".ledge.on")) l.classList.remove("on");
        path.classList.add("on");
        claimPanel(e.claims, [e.source, e.target], e.evidence);
      });
      svg.append(path, sign, hit);
    }
    for (const n of lg.nodes) {
      const c = svgEl("circle", { cx: n.x, cy: n.y, r: n.kind === "stock" ? 8 : 5, class: `node ${n.kind}` });
      const t = svgEl("text", { x: n.x + 9, y: n.y - 7, class: "label" }); t.textContent = varInfo(n.id).label;
      const title = svgEl("title", {}); title.textContent = varInfo(n.id).doc || n.id; c.append(title);
      svg.append(c, t);
    }
  }
  function loopName(lp) {
    const kind = lp.polarity === "R" ? "reinforcing" : "balancing";
    return `${lp.id}${lp.name ? ` ${lp.name.replaceAll("_", " ")}` : ""} (${kind})`;
  }
  function buildWhy() {
    const p = state.page, ul = $("#claims");
    for (const c of p.claims) {
      const li = el("li", {}, el("a", { href: "#", text: c.id }), ` ${c.text} `, el("span", { class: "note", text: `(¶${c.paragraph.join(", ¶")})` }));
      li.querySelector("a").addEventListener("click", (ev) => { ev.preventDefault(); claimPanel([c.id], null); });
      ul.append(li);
    }
    const box = $("#loops");
    if (!p.loops) {
      box.append(el("p", { class: "na", text: "This model has no feedback loop to score." }));
      $("#loop-graph").hidden = true;
      return;
    }
    const byId = Object.fromEntries(p.loops.loops.map((lp) => [lp.id, lp]));
    const shown = p.loops.matter.map((id) => byId[id]);
    const x = p.loops.dates ? p.loops.dates.map(toSeconds) : p.loops.time;
    const data = [x], series = [];
    shown.forEach((lp, k) => {
      data.push(lp.relative_score);
      series.push({ label: loopName(lp), stroke: COLOURS[k % COLOURS.length], width: 2, value: (u, v) => (v === null || v === undefined ? "" : QNum.fmt(v, 2)) });
    });
    box.append(eventKey());
    const holder = el("div", { class: "chart wide" }); box.append(holder);
    state.loopChart = makeChart(holder, "Loop dominance: relative loop score (Loops That Matter; −1 to 1)", "relative loop score", data, series,
      { width: Math.min(1100, Math.max(900, box.clientWidth - 20)), height: 300, scales: { x: { time: !!p.loops.dates }, y: { range: [-1.05, 1.05] } } });
    state.loopChart.shown = shown.map((lp) => lp.id);
    const t = el("table", { id: "loop-table" }, el("thead", {}, el("tr", {}, ...["loop", "variables (in loop order)", "mean relative score", "strongest", "claim"].map((h) => el("th", { text: h })))));
    const body = el("tbody");
    shown.forEach((lp, k) => {
      const claim = lp.claim || [...new Set(lp.links.flatMap((l) => l.claims))].join(", ");
      const row = el("tr", { "data-loop": lp.id },
        el("td", {}, el("span", { class: "swatch", style: `background:${COLOURS[k % COLOURS.length]}` }), ` ${loopName(lp)}`),
        el("td", { text: lp.variables.map((v) => varInfo(v).label).join(" → ") }),
        el("td", { class: "num", text: QNum.fmt(lp.mean_relative, 2) }),
        el("td", { class: "num", text: QNum.fmt(lp.peak_relative, 2) }),
        el("td", { text: claim || "—" }));
      row.addEventListener("click", () => {
        const ids = [...new Set(lp.links.flatMap((l) => l.claims))];
        const ev = [...new Set(lp.links.flatMap((l) => l.evidence))];
        claimPanel(ids, null, ev, `Loop ${loopName(lp)}`);
      });
      body.append(row);
    });
    t.append(body);
    box.append(t);
    const periods = p.loops.dominant_periods;
    box.append(el("p", { class: "note", text: `Shown: the ${shown.length} loops that compete for dominance (loops alone in their part of the model score ±1 and are listed only if named), of ${p.loops.loops.length} loops above 1% relative score; the dominant set changes ${QNum.fmt(periods.length - 1)} times over the run.` }));
  }

  // ---------------------------------------------------------------- evidence
  function buildEvidence() {
    const p = state.page, ev = p.evidence;
    const ledger = $("#ledger"), charts = $("#evidence-charts");
    state.evidenceCharts = {};
    if (!ev) ledger.append(el("p", { class: "na", text: "This model ships no evidence file." }));
    else {
      ledger.append(el("p", { class: "note", id: "evidence-basis", "data-basis": ev.basis,
        text: `${ev.file}: ${QNum.fmt(ev.rows.length)} rows, ${QNum.fmt(ev.fitted)} of them read by the model's observations. The model's 5–95% band is from ${ev.basis === "posterior" ? `${QNum.fmt(ev.runs)} members of its posterior (seed ${ev.seed})` : "its baseline run"}.` }));
      const x = ev.dates ? ev.dates.map(toSeconds) : ev.time;
      charts.append(eventKey());
      for (const [ind, band] of Object.entries(ev.indicators)) {
        const rows = ev.rows.filter((r) => r.indicator === ind && r.value !== null);
        if (!rows.some((r) => r.model)) continue;
        const units = (rows.find((r) => r.unit) || {}).unit || "";
        const data = [x, band.q05, band.q50, band.q95];
        const series = [
          { label: "model 5%", stroke: fade(COLOURS[0], 0.4), width: 1, value: legendValue },
          { label: `model median (${ev.basis})`, stroke: COLOURS[0], width: 2, value: legendValue },
          { label: "model 95%", stroke: fade(COLOURS[0], 0.4), width: 1, value: legendValue },
        ];
        const kinds = [["value", (r) => VALUE_KINDS.has(r.kind), "#d9822b"], ["lower bound", (r) => r.kind === "estimate_low", "#3c8d40"], ["upper bound", (r) => r.kind === "estimate_high", "#b0413e"]];
        for (const [label, pick, colour] of kinds) {
          const sel = rows.filter(pick);
          if (!sel.length) continue;
          data.push(pointsOn(x, sel));
          series.push({ label: `observed ${label}`, stroke: colour, width: 0, paths: () => null, points: { show: true, size: 8, fill: colour }, value: legendValue });
        }
        const holder = el("div", { class: "chart", "data-indicator": ind }); charts.append(holder);
        state.evidenceCharts[ind] = makeChart(holder, ind.replaceAll("_", " "), units, data, series, { bands: [{ series: [3, 1], fill: fade(COLOURS[0], 0.15) }] });
        holder.append(el("p", { class: "note", text: band.doc }));
      }
      const t = el("table", { id: "ledger-table" }, el("thead", {}, el("tr", {}, ...["id", "date", "indicator", "kind", "observed", "model median (5–95%)", "fitted", "source"].map((h) => el("th", { text: h })))));
      const body = el("tbody");
      for (const r of ev.rows) {
        const m = r.model;
        const scale = m ? Math.max(Math.abs(m.q05), Math.abs(m.q95)) || 1 : 1;
        const src = r.url ? el("a", { href: r.url, target: "_blank", rel: "noopener", text: r.publisher || r.source || "link" }) : el("span", { text: r.publisher || r.source || "" });
        src.title = r.source || "";
        body.append(el("tr", { "data-id": r.id }, el("td", { text: r.id }), el("td", { text: r.date || QNum.fmt(r.time) }), el("td", { text: r.indicator }), el("td", { text: r.kind }),
          el("td", { class: "num", text: r.value === null ? "" : `${QNum.fmt(r.value)} ${r.unit}` }),
          el("td", { class: "num", text: m ? `${QNum.fmt(m.q50, 4, scale)} (${QNum.fmt(m.q05, 4, scale)}–${QNum.fmt(m.q95, 4, scale)})` : "" }),
          el("td", { text: r.fitted }), el("td", {}, src)));
      }
      t.append(body); ledger.append(t);
    }
    const bt = $("#backtest");
    if (!p.backtest) bt.append(el("p", { class: "na", text: "No stored back-test ships with this model (scripts/store_backtest.py writes one)." }));
    else {
      const s = p.backtest.settings || {};
      bt.append(el("p", { class: "note", text: `${p.backtest.file}: at each cutoff the model is calibrated (${s.method === "map" ? "Laplace posterior around the MAP" : s.method}) on the evidence known before it and scored on the rows after it; ${QNum.fmt(s.runs)} forecast members, seed ${s.seed}. CRPSS above 0: the model beats the baseline.${p.backtest.stale ? " The model or its evidence changed since it was stored: rerun scripts/store_backtest.py." : ""}` }));
      const t = el("table", { id: "backtest-table" }, el("thead", {}, el("tr", {}, ...["cutoff", "fitted on", "scored", "90% coverage", "CRPSS vs trend", "CRPSS vs persistence", "bounds respected"].map((h) => el("th", { text: h })))));
      const body = el("tbody");
      for (const c of p.backtest.cutoffs) {
        body.append(el("tr", {}, el("td", { text: c.cutoff }), el("td", { class: "num", text: QNum.fmt(c.calibrated_on) }), el("td", { class: "num", text: QNum.fmt(c.observations.length) }),
          el("td", { class: "num", text: QNum.percent(c.coverage90) }), el("td", { class: "num", text: QNum.fmt(c.crpss_trend, 2) }),
          el("td", { class: "num", text: QNum.fmt(c.crpss_persistence, 2) }), el("td", { class: "num", text: QNum.percent(c.bounds_respected) })));
      }
      t.append(body); bt.append(t);
      const o = el("table", { id: "backtest-rows" }, el("thead", {}, el("tr", {}, ...["cutoff", "id", "date", "indicator", "kind", "observed", "forecast median (5–95%)", "covered"].map((h) => el("th", { text: h })))));
      const ob = el("tbody");
      for (const c of p.backtest.cutoffs) for (const r of c.observations) {
        const scale = Math.max(Math.abs(r.q05), Math.abs(r.q95)) || 1;
        ob.append(el("tr", {}, el("td", { text: c.cutoff }), el("td", { text: r.id }), el("td", { text: r.date }), el("td", { text: r.indicator }), el("td", { text: r.kind }),
          el("td", { class: "num", text: QNum.fmt(r.observed) }), el("td", { class: "num", text: `${QNum.fmt(r.q50, 4, scale)} (${QNum.fmt(r.q05, 4, scale)}–${QNum.fmt(r.q95, 4, scale)})` }),
          el("td", { text: r.covered ? "yes" : "no" })));
      }
      o.append(ob); bt.append(o);
    }
    const src = $("#sources");
    src.append(el("thead", {}, el("tr", {}, ...["id", "title", "publisher", "date", "indicator", "confidence"].map((h) => el("th", { text: h })))));
    const body = el("tbody");
    for (const [id, s] of Object.entries(p.sources)) {
      const title = s.url ? el("a", { href: s.url, target: "_blank", rel: "noopener", text: s.title || id }) : el("span", { text: s.title || id });
      body.append(el("tr", {}, el("td", { text: id }), el("td", {}, title), el("td", { text: s.publisher || "" }), el("td", { text: s.date || "" }), el("td", { text: s.indicator || s.kind || "" }), el("td", { text: s.confidence || "" })));
    }
    src.append(body);
  }

  // ---------------------------------------------------------------- start
  async function start() {
    $("#run-status").textContent = "loading the model…";
    try {
      state.page = await api(`/api/page/${encodeURIComponent(MODEL)}`);
      state.chosen = [...state.page.default_variables];
      state.baseline = await api("/api/run", { model: MODEL, vars: state.chosen });
      buildExplore(); buildUncertainty(); buildWhy(); buildEvidence();
      await rerun();
      document.body.dataset.ready = "1";
    } catch (err) {
      $("#run-status").textContent = `error: ${err.message}`;
      $("#run-status").classList.add("error");
    }
  }
  start();
})();
