"""Request plumbing shared by the routes: the org, the caller, JSON bodies, versions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from workroute.auth.principal import Principal
from workroute.kernel.errors import (
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
    principal = org.auth.authenticate(bearer_token(request))
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


async def json_body(request: Request) -> Any:
    """The request's JSON body, or JSON_PARSER_ERROR with the position of the fault."""
    raw = await request.body()
    if len(raw) > MAX_JSON_BYTES:
        raise RequestTooLargeError(f"request body exceeds {MAX_JSON_BYTES} bytes")
    if not raw.strip():
        raise JsonParserError("The request body is empty")
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise JsonParserError(f"The request body is not UTF-8: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise JsonParserError(
            f"Unexpected character: {exc.msg} at [line:{exc.lineno}, column:{exc.colno}]"
        ) from exc


async def json_object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise JsonParserError(
            f"Cannot deserialize instance of sObject from {type(body).__name__} value"
        )
    return body


CtxDep = Annotated[Ctx, Depends(get_ctx)]
JsonObject = Annotated[dict[str, Any], Depends(json_object)]
