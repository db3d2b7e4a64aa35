"""The Streaming API's CometD endpoint: ``POST /cometd/NN.0`` (Bayeux long-polling).

Thin: read the bearer token and the body, let ``streaming/bayeux.py`` answer. The
reply body is assembled from already-encoded messages, so an event delivered to many
subscribers is encoded once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from workroute.api.deps import MAX_API_VERSION
from workroute.streaming.service import Streaming

router = APIRouter(tags=["streaming"])

MIN_STREAMING_VERSION = 26  # Streaming API's first version
MAX_BODY = 1024 * 1024


def _version_ok(version: str) -> bool:
    major, dot, minor = version.partition(".")
    return (
        dot == "."
        and minor == "0"
        and major.isdigit()
        and MIN_STREAMING_VERSION <= int(major) <= MAX_API_VERSION
    )


def _token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    return None


@router.post("/cometd/{version}", summary="CometD (Bayeux 1.0) long-polling with replay")
async def cometd(version: str, request: Request) -> Response:
    if not _version_ok(version):
        return Response(
            b'[{"successful":false,"error":"404::Unknown API version"}]',
            status_code=404,
            media_type="application/json",
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return _too_large()
    streaming: Streaming = request.app.state.streaming
    status, messages = await streaming.bayeux.handle(_token(request), bytes(body))
    return Response(
        b"[" + b",".join(messages) + b"]", status_code=status, media_type="application/json"
    )


def _too_large() -> Response:
    return Response(
        b'[{"successful":false,"error":"413::Request too large"}]',
        status_code=413,
        media_type="application/json",
    )
