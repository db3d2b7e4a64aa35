"""POST /services/oauth2/token: the password and client-credentials grants."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from workroute.api.deps import get_org
from workroute.auth.tokens import IssuedToken
from workroute.kernel.errors import AuthenticationError

router = APIRouter()


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    if len(raw) > 64 * 1024:
        return {}
    try:
        parsed = parse_qs(raw.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}
    form = {k: v[0] for k, v in parsed.items() if v}
    for k, v in request.query_params.items():
        form.setdefault(k, v)
    return form


@router.post("/services/oauth2/token", tags=["auth"])
async def token(request: Request) -> JSONResponse:
    """Issue an access token, as Salesforce's OAuth 2.0 token endpoint does."""
    org = get_org(request)
    form = await _form(request)
    grant = form.get("grant_type")
    try:
        if grant == "password":
            if not form.get("username") or "password" not in form:
                return _oauth_error("invalid_request", "username and password are required")
            # scrypt takes tens of milliseconds: keep it off the event loop.
            issued = await run_in_threadpool(
                org.auth.login_password, form["username"], form["password"]
            )
        elif grant == "client_credentials":
            if not form.get("client_id") or not form.get("client_secret"):
                return _oauth_error("invalid_client", "client_id and client_secret are required")
            issued = await run_in_threadpool(
                org.auth.login_client_credentials, form["client_id"], form["client_secret"]
            )
        else:
            return _oauth_error("unsupported_grant_type", "grant type not supported")
    except AuthenticationError as exc:
        error = "invalid_client" if grant == "client_credentials" else "invalid_grant"
        return _oauth_error(error, exc.message)
    return JSONResponse(_token_body(request, org.organization_id(), issued))


def _token_body(request: Request, org_id: str, issued: IssuedToken) -> dict[str, Any]:
    instance_url = str(request.base_url).rstrip("/")
    return {
        "access_token": issued.token,
        "instance_url": instance_url,
        "id": f"{instance_url}/id/{org_id}/{issued.user_id}",
        "token_type": "Bearer",
        "issued_at": str(int(issued.issued_at.timestamp() * 1000)),
        "signature": "",
    }


@router.post("/services/oauth2/revoke", tags=["auth"])
async def revoke(request: Request) -> JSONResponse:
    org = get_org(request)
    form = await _form(request)
    tok = form.get("token", "")
    if not tok or not org.auth.tokens.revoke(tok):
        return _oauth_error("unsupported_token_type", "this token is unknown")
    return JSONResponse({}, status_code=200)
