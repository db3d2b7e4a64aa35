"""The console's own routes: its pages, its static files and its sign-in session.

``/console`` is the single-page console (``index.html``; the page modules under
``/console/pages/`` draw each view), ``/console/login`` the sign-in page and
``/console/omniToolkit.js`` the toolkit module teams can build their own console on.
``/console/session`` signs in (POST, JSON username and password), says who is signed
in (GET) and signs out (DELETE). Every response under ``/console`` carries a strict
Content-Security-Policy: the pages run only the server's own scripts.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workroute.api.deps import JsonObject, StrictBody, get_org, get_principal, parse_body
from workroute.auth.principal import Permission, Principal
from workroute.kernel.errors import AuthenticationError, InvalidSessionError, WorkrouteError
from workroute.org import Org
from workroute.web import session

STATIC = Path(str(files("workroute.web") / "static"))

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)


class SignIn(StrictBody):
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)


def _page(name: str) -> FileResponse:
    return FileResponse(
        STATIC / name, media_type="text/html", headers={"Cache-Control": "no-store"}
    )


@router.get("")
def index() -> FileResponse:
    return _page("index.html")


@router.get("/login")
def login_page() -> FileResponse:
    return _page("login.html")


@router.post("/session")
async def sign_in(request: Request, body: JsonObject) -> JSONResponse:
    """Check the username and password as the password grant does and start a cookie
    session; a failure says only that the sign-in failed."""
    org = get_org(request)
    args = parse_body(SignIn, body)
    try:
        issued = await run_in_threadpool(org.auth.login_password, args.username, args.password)
    except AuthenticationError as exc:
        raise InvalidSessionError(f"Sign-in failed: {exc.message}") from None
    principal = await run_in_threadpool(org.auth.principal, issued.user_id)
    response = JSONResponse(_whoami(org, principal))
    max_age = int(org.auth.tokens.ttl.total_seconds())
    session.set_cookie(request, response, issued.token, max_age)
    return response


@router.get("/session")
def whoami(
    request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> dict[str, Any]:
    return _whoami(get_org(request), principal)


@router.delete("/session")
def sign_out(request: Request, response: Response) -> dict[str, Any]:
    """End the cookie's session (its token is revoked); signing out twice is harmless."""
    token = session.cookie_token(request)
    if token:
        get_org(request).auth.tokens.revoke(token)
    session.clear_cookie(request, response)
    return {"success": True}


def _whoami(org: Org, principal: Principal) -> dict[str, Any]:
    from workroute.routing import supervisor

    try:
        supervisor.scope_for(org.omni, principal)
        is_supervisor = True
    except WorkrouteError:  # any refusal means "not a supervisor"
        is_supervisor = False
    return {
        "userId": principal.user_id,
        "username": principal.username,
        "name": principal.name or principal.username,
        "profile": principal.profile_name,
        "isAdmin": principal.has(Permission.MODIFY_ALL_DATA),
        "isSupervisor": is_supervisor,
        "organizationId": org.organization_id(),
    }


class _SecurityHeaders:
    """Add the console's security headers to every response under /console."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/console"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                if not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-cache"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Add the console's routes, static files and headers to the API's app."""
    app.include_router(router)
    app.mount("/console", StaticFiles(directory=STATIC), name="console-static")
    app.add_middleware(_SecurityHeaders)
