"""The FastAPI app of ``quidpro serve``: one page per model and the JSON API of DESIGN.md.

Every error a request can cause is a 4xx with ``{"error": message}``: validation errors
(422), unknown models (404), oversized bodies and ensembles (413), work past its deadline
(408). Anything unexpected is still answered as JSON, with a 4xx naming the request as
the cause, so that no input can make the server answer 5xx. Answers are strict JSON: a
number that is not finite is written as null (:class:`StrictJSONResponse`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from quidpro.errors import ConfigError, QuidproError
from quidpro.io.strict_json import finite_or_none
from quidpro.web.schemas import MAX_BODY, EnsembleRequest, RunRequest
from quidpro.web.workbench import ENSEMBLE_TIMEOUT, NotFound, TimedOut, TooBig, Workbench

log = logging.getLogger("quidpro.web")
STATIC = Path(str(files("quidpro.web").joinpath("static")))


class StrictJSONResponse(JSONResponse):
    """A JSON answer whose NaN or infinite numbers are written as null (JSON has neither).

    The usual document has none and is written as it is; only one that does is copied.
    """

    def render(self, content: Any) -> bytes:  # noqa: D102
        try:
            return super().render(content)
        except ValueError:  # "Out of range float values are not JSON compliant"
            return super().render(finite_or_none(content))


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _status(exc: Exception) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, TooBig):
        return 413
    if isinstance(exc, TimedOut):
        return 408
    return 400  # a model error a request's settings caused, or a bad setting


def create_app(bench: Workbench, timeout: float = ENSEMBLE_TIMEOUT) -> FastAPI:
    """The app serving ``bench``'s models."""
    app = FastAPI(title="quidpro", docs_url="/api/docs", redoc_url=None)
    app.state.bench = bench
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def cap_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
            return _error(413, f"request body larger than {MAX_BODY:,} bytes")
        try:
            return await call_next(request)
        except Exception as exc:  # the last line of defence: never a 5xx
            log.exception("unexpected error on %s %s", request.method, request.url.path)
            return _error(400, f"the request could not be handled: {exc}")

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = first.get("msg", "invalid request")
        return _error(422, f"{where}: {message}" if where else str(message))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(QuidproError)
    async def quidpro_error(_: Request, exc: QuidproError) -> JSONResponse:
        return _error(_status(exc), str(exc))

    @app.exception_handler(ConfigError)
    async def config_error(_: Request, exc: ConfigError) -> JSONResponse:
        return _error(400, str(exc))

    async def work(fn: Callable[..., Any], *args: Any) -> Any:
        """Model work off the event loop, so the page stays responsive."""
        return await asyncio.to_thread(fn, *args)

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        from quidpro.web.templates import index_page

        return HTMLResponse(index_page(await work(bench.catalogue)))

    @app.get("/model/{name}", response_class=HTMLResponse)
    async def model_page(name: str) -> HTMLResponse:
        from quidpro.web.templates import model_page as render

        bench.entry(name)  # 404 before any work
        return HTMLResponse(render(name, bench.model(name).spec.title or name))

    # Answers are plain JSON documents of floats and strings: JSONResponse writes them
    # with json.dumps, skipping FastAPI's per-element encoder (most of a re-run's time).

    @app.get("/api/models")
    async def models() -> JSONResponse:
        return StrictJSONResponse(await work(bench.catalogue))

    @app.get("/api/page/{name}")
    async def page(name: str) -> JSONResponse:
        return StrictJSONResponse(await work(bench.page, name))

    @app.post("/api/run")
    async def run(req: RunRequest) -> JSONResponse:
        return StrictJSONResponse(await work(bench.run, req.model, req.scenario, req.set, req.vars))

    @app.post("/api/ensemble")
    async def ensemble(req: EnsembleRequest) -> JSONResponse:
        def go() -> dict[str, Any]:  # the ensemble --json document
            return bench.ensemble(
                req.model,
                req.runs,
                req.seed,
                scenario=req.scenario,
                sets=req.set,
                variables=req.vars,
                queries=req.queries or (),
                timeout=timeout,
            )

        return StrictJSONResponse(await work(go))

    @app.get("/brief/{name}.{fmt}")
    async def brief(
        name: str, fmt: str, runs: int = 300, seed: Annotated[int, Query(ge=0, le=2**63 - 1)] = 1
    ) -> Response:
        from quidpro.report.brief import MEDIA_TYPES, render_brief

        bench.entry(name)
        if fmt not in MEDIA_TYPES:
            return _error(404, f"a brief is .md, .html or .pdf, not .{fmt}")
        if not 50 <= runs <= 5000:
            return _error(422, "runs: the brief takes 50 to 5,000 runs")
        body = await work(render_brief, bench.model(name), fmt, runs, seed)
        return Response(
            body,
            media_type=MEDIA_TYPES[fmt],
            headers={"content-disposition": f'attachment; filename="{name}-brief.{fmt}"'},
        )

    return app
