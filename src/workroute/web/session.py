"""Browser sessions: the API's own access token, carried in a cookie.

The console signs in with the password grant's checks and keeps the token in an
HttpOnly, SameSite=Strict cookie, so page scripts never hold it. Every API route then
accepts the cookie as it accepts a bearer token, with one rule against cross-site
request forgery: a request that changes something must also carry the header
``X-Requested-With: workroute-console``, which a cross-site form cannot send and a
cross-site script cannot add without a CORS preflight (which this server never grants).
"""

from __future__ import annotations

from fastapi import Request, Response

from workroute.kernel.errors import InsufficientAccessError

COOKIE = "wr_session"
CSRF_HEADER = "x-requested-with"
CSRF_VALUE = "workroute-console"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cookie_token(request: Request) -> str | None:
    """The session token of the request's cookie, if any; refused for an unsafe method
    without the console's header."""
    token = request.cookies.get(COOKIE, "").strip()
    if not token:
        return None
    if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != CSRF_VALUE:
        raise InsufficientAccessError(
            f"a request made with a session cookie must send {CSRF_HEADER}: {CSRF_VALUE}"
        )
    return token


def set_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
