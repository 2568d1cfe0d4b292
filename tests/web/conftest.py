"""A real server on a free port of 127.0.0.1 and Debian's Chromium driven by Playwright.

Chromium is installed by scripts/install-system-deps.sh (``make test`` runs it);
without it the browser tests fail with that instruction rather than skip.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``quidpro serve`` in a child process; its URL. Stopped at the end of the session."""
    port = free_port()
    cache = tmp_path_factory.mktemp("cache")
    env = {
        **os.environ,
        "QUIDPRO_CACHE": str(cache),
        "QUIDPRO_BACKEND": "numpy",  # no minute-long numba compile in the tests
        "QUIDPRO_STORE": str(cache / "runs.duckdb"),
    }
    cmd = [str(Path(sys.executable).parent / "quidpro"), "serve", "--port", str(port)]
    log = open(cache / "serve.log", "wb")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                out = (cache / "serve.log").read_text(errors="replace")
                pytest.fail(f"quidpro serve exited with {proc.returncode}:\n{out}")
            try:
                if httpx.get(url + "/api/models", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("quidpro serve did not answer within 120 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A fresh Chromium profile; fails (does not skip) when Chromium is missing."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's Chromium; run "
            "`bash scripts/install-system-deps.sh` (make test does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield ctx
        finally:
            ctx.close()
