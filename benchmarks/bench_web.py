"""The workbench's speed: page load, re-run latency per slider move, a 2,000-member ensemble.

Run: ``.venv/bin/python benchmarks/bench_web.py [--backend auto|numpy|jit] [--browser]``
(prints Markdown for docs/benchmarks.md, section "Issue 10"). Everything is measured in
one process through the app (FastAPI's TestClient: routing, validation and JSON
included, no network), each beside the bare library call it wraps, so the ratios say
what the web layer costs. ``--browser`` also times a real page load in Chromium
(navigation until the page has drawn its first run) against a uvicorn server.

The slider ranking is computed once before the clock starts (it is cached on disk per
model file), and so is the numba kernel (numba's disk cache holds it after the first
start of a server).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from quidpro.ensemble import ensemble, summary
from quidpro.ensemble.posterior import model_posterior
from quidpro.web.app import create_app
from quidpro.web.page_data import default_variables
from quidpro.web.workbench import Workbench

MODEL = "nk_russia"


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds of each of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def ms(xs: list[float]) -> str:
    return f"{1000 * statistics.median(xs):,.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--browser", action="store_true")
    ap.add_argument("--runs", type=int, default=2000)
    args = ap.parse_args()

    cache = Path(os.environ["QUIDPRO_CACHE"]) if "QUIDPRO_CACHE" in os.environ else None
    cache = cache or Path(tempfile.mkdtemp())
    bench = Workbench(cache_dir=cache, backend=args.backend)
    t0 = time.perf_counter()
    bench.warm(MODEL)
    warm = time.perf_counter() - t0
    m = bench.model(MODEL)
    client = TestClient(create_app(bench))
    chosen = default_variables(m)
    page = client.get(f"/api/page/{MODEL}").json()
    slider = page["sliders"][0]
    backend = bench.backend if bench.entry(MODEL).jit_ready else "numpy"

    def page_load() -> None:
        assert client.get(f"/model/{MODEL}").status_code == 200
        assert client.get(f"/api/page/{MODEL}").status_code == 200
        assert client.post("/api/run", json={"model": MODEL, "vars": chosen}).status_code == 200

    load = timed(page_load, 5)
    trivial = timed(lambda: client.get("/static/numbers.js").raise_for_status(), 20)
    values = [slider["min"] + (slider["max"] - slider["min"]) * i / 19 for i in range(20)]
    moves: list[float] = []
    for v in values:
        body = {"model": MODEL, "vars": chosen, "set": {slider["name"]: v}}
        moves += timed(lambda body=body: client.post("/api/run", json=body).raise_for_status(), 1)
    bare = timed(lambda: m.simulate(None, {slider["name"]: values[3]}, backend=backend), 20)

    body = {"model": MODEL, "runs": args.runs, "seed": 1, "vars": chosen}
    ens = timed(lambda: client.post("/api/ensemble", json=body).raise_for_status(), 2)
    post = model_posterior(m.spec)
    # The library's own JIT ensemble compiles a kernel for these four variables: once,
    # outside the timing (a served page would pay it per set of variables asked for).
    lib_backend = "jit" if backend == "jit" else "numpy"

    def lib_call(kernel: str) -> None:
        summary(ensemble(m, args.runs, 1, variables=chosen, backend=kernel, posterior=post))

    lib_call(lib_backend)
    lib = timed(lambda: lib_call(lib_backend), 2)
    numpy_path = timed(lambda: lib_call("numpy"), 1)

    print(
        f"machine: {sys.platform}, kernel for re-runs: {backend}; warm-up (ranking "
        f"+ kernel) {warm:,.1f} s"
    )
    print()
    print("| what | through the app | the library call alone | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| a static file (the test client's own cost), median of 20 | {ms(trivial)} | — | — |")
    print(f"| page load (HTML + page data + first run), median of 5 | {ms(load)} | — | — |")
    p90 = sorted(moves)[int(0.9 * len(moves)) - 1]
    print(
        f"| re-run per slider move ({slider['name']}), median of 20 (p90 "
        f"{1000 * p90:,.1f} ms) | {ms(moves)} | {ms(bare)} | "
        f"{statistics.median(moves) / statistics.median(bare):.2f} |"
    )
    print(
        f"| ensemble of {args.runs:,} members (posterior), {len(chosen)} variables, median of 2;"
        f" library: `ensemble(backend={lib_backend!r})` with its own kernel | "
        f"{ms(ens)} | {ms(lib)} | {statistics.median(ens) / statistics.median(lib):.2f} |"
    )
    print(
        f"| the same ensemble on NumPy (the path before), 1 run | — | {ms(numpy_path)} | "
        f"{statistics.median(numpy_path) / statistics.median(ens):.2f}× the app's time |"
    )
    if args.browser:
        print(
            f"| browser page load (Chromium, until the first run is drawn) | "
            f"{browser_load(bench):,.0f} ms | — | — |"
        )


def browser_load(bench: Workbench) -> float:
    """Milliseconds from navigation to the first drawn run in Chromium (median of 3)."""
    import socket

    import uvicorn
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(bench), port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    out = []
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                tempfile.mkdtemp(),
                executable_path="/usr/bin/chromium",
                headless=True,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            for _ in range(3):
                page = ctx.new_page()
                t = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/model/{MODEL}")
                page.wait_for_selector("body[data-ready='1']", timeout=120_000)
                out.append(1000 * (time.perf_counter() - t))
                page.close()
            ctx.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return statistics.median(out)


if __name__ == "__main__":
    main()
