"""Request plumbing shared by the routes: the org, the caller, JSON bodies, versions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Request
from pydantic import BaseModel, ConfigDict, ValidationError

from workroute.auth.principal import Principal
from workroute.kernel.errors import (
    InvalidFieldError,
    InvalidSessionError,
    JsonParserError,
    NotFoundError,
    RequestTooLargeError,
)
from workroute.org import Org

MIN_API_VERSION = 20
MAX_API_VERSION = 62
MAX_JSON_BYTES = 10 * 1024 * 1024
_VERSION_RE = re.compile(r"^v(\d{2})\.0$")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def get_org(request: Request) -> Org:
    org: Org = request.app.state.org
    return org


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in ("bearer", "oauth") or not token.strip():
        raise InvalidSessionError("Session expired or invalid")
    return token.strip()


def get_principal(request: Request, org: Annotated[Org, Depends(get_org)]) -> Principal:
    """The caller: a bearer token, or else the web console's session cookie."""
    from workroute.web.session import cookie_token

    token = None
    if not request.headers.get("authorization"):
        token = cookie_token(request)
    principal = org.auth.authenticate(token or bearer_token(request))
    request.state.principal = principal
    return principal


def api_version(version: Annotated[str, Path()]) -> str:
    m = _VERSION_RE.match(version)
    if not m or not MIN_API_VERSION <= int(m.group(1)) <= MAX_API_VERSION:
        raise NotFoundError(f"The requested resource does not exist: API version {version}")
    return version


@dataclass(frozen=True, slots=True)
class Ctx:
    """Everything a data route needs: the org, the caller and the versioned base path."""

    org: Org
    principal: Principal
    base: str


def get_ctx(
    org: Annotated[Org, Depends(get_org)],
    principal: Annotated[Principal, Depends(get_principal)],
    version: Annotated[str, Depends(api_version)],
) -> Ctx:
    return Ctx(org=org, principal=principal, base=f"/services/data/{version}")


async def _read_body(request: Request) -> bytes:
    """The raw body, refused with REQUEST_TOO_LARGE as soon as it passes the cap."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_JSON_BYTES:
        raise RequestTooLargeError(f"request body exceeds {MAX_JSON_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise RequestTooLargeError(f"request body exceeds {MAX_JSON_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_text(value: Any) -> None:
    """Refuse strings no database column can hold: lone surrogates (from \\uD800-style
    escapes) and NUL characters. Walks without recursion, so depth costs nothing."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise JsonParserError("The request body holds a NUL character (\\u0000)")
            if _SURROGATE_RE.search(item):
                raise JsonParserError(
                    "The request body holds an unpaired surrogate escape (\\uD800-\\uDFFF)"
                )


async def json_body(request: Request) -> Any:
    """The request's JSON body, or JSON_PARSER_ERROR with the position of the fault."""
    raw = await _read_body(request)
    if not raw.strip():
        raise JsonParserError("The request body is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonParserError(f"The request body is not UTF-8: {exc}") from exc
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonParserError(
            f"Unexpected character: {exc.msg} at [line:{exc.lineno}, column:{exc.colno}]"
        ) from exc
    except RecursionError as exc:
        raise JsonParserError("The request body is nested too deeply") from exc
    _check_text(body)
    return body


async def json_object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise JsonParserError(
            f"Cannot deserialize instance of sObject from {type(body).__name__} value"
        )
    return body


CtxDep = Annotated[Ctx, Depends(get_ctx)]
JsonObject = Annotated[dict[str, Any], Depends(json_object)]


class StrictBody(BaseModel):
    """A JSON body of named arguments: no unknown keys, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


Body = TypeVar("Body", bound=StrictBody)


def parse_body(model: type[Body], body: dict[str, Any]) -> Body:
    """``body`` as ``model``; the first problem as INVALID_FIELD naming where it is."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidFieldError(f"{where}: {first['msg']}", fields=[where]) from None
