"""The FastAPI application: routes, the one error mapper, and request plumbing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from workroute.api.routes import (
    automation,
    cometd,
    composite,
    explain,
    metadata_rest,
    oauth,
    omni,
    orchestration,
    query,
    soap_metadata,
    sobjects,
    supervisor,
)
from workroute.kernel.errors import WorkrouteError
from workroute.org import Org
from workroute.streaming.service import Streaming
from workroute.web import routes as web

log = logging.getLogger("workroute.api")


class _TrailingSlash:
    """Salesforce clients add trailing slashes (``query/``, ``sobjects/Account/``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope)
                scope["path"] = path.rstrip("/") or "/"
                scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


# The errorCode Salesforce gives for the HTTP errors routing and body parsing raise.
_HTTP_ERROR_CODES = {
    400: "MALFORMED_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_response(errors: list[dict[str, Any]], status: int) -> JSONResponse:
    return JSONResponse(errors, status_code=status)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    streaming: Streaming = app.state.streaming
    upkeep = asyncio.create_task(streaming.maintain())
    try:
        yield
    finally:
        upkeep.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upkeep


def create_app(org: Org) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="workroute",
        version="0.1.0",
        summary="Salesforce-compatible REST, OAuth and Metadata endpoints over a workroute org",
        docs_url=None,  # Swagger UI loads from a CDN; the JSON document is served instead
        openapi_url="/services/openapi.json",
        redoc_url=None,
    )
    app.state.org = org
    app.state.api_calls = 0
    app.state.streaming = Streaming(org)

    @app.exception_handler(WorkrouteError)
    async def _workroute_error(_request: Request, exc: WorkrouteError) -> JSONResponse:
        return error_response([exc.to_salesforce()], exc.http_status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        code = _HTTP_ERROR_CODES.get(status, "UNKNOWN_EXCEPTION")
        message = str(exc.detail)
        if status == 404:
            message = "The requested resource does not exist"
        elif status == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}"
        response = error_response([{"message": message, "errorCode": code, "fields": []}], status)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return error_response(
            [
                {
                    "message": problems or "malformed request",
                    "errorCode": "MALFORMED_REQUEST",
                    "fields": [],
                }
            ],
            400,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(
            [
                {
                    "message": "An unexpected error occurred. Please check the server log.",
                    "errorCode": "UNKNOWN_EXCEPTION",
                    "fields": [],
                }
            ],
            500,
        )

    @app.middleware("http")
    async def _count_and_log(request: Request, call_next: Any) -> Any:
        started = time.perf_counter()
        response = await call_next(request)
        if request.url.path.startswith("/services/data/"):
            app.state.api_calls += 1
            response.headers["Sforce-Limit-Info"] = f"api-usage={app.state.api_calls}/15000"
        log.debug(
            "request",
            extra={
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response

    app.include_router(oauth.router)
    app.include_router(sobjects.users_router)
    app.include_router(query.router)
    app.include_router(composite.router)
    app.include_router(sobjects.router)
    app.include_router(soap_metadata.router)
    app.include_router(metadata_rest.router)
    app.include_router(automation.router)
    app.include_router(explain.router)
    app.include_router(omni.router)
    app.include_router(supervisor.router)
    app.include_router(orchestration.router)
    app.include_router(cometd.router)
    web.install(app)
    app.add_middleware(_TrailingSlash)
    return app
