"""``workroute deploy --url``: deploy to a running server through its REST API."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

API_VERSION = "v62.0"


def remote_deploy(
    path: Path,
    *,
    url: str,
    username: str | None,
    password: str | None,
    token: str | None,
    verify: bool | ssl.SSLContext,
    check_only: bool,
    console: Console,
) -> bool:
    from workroute.cli.main import fail

    base = url.rstrip("/")
    if token is None and (not username or password is None):
        fail("give --token, or --username and --password")
    try:
        result = _deploy(
            base,
            path,
            username=username,
            password=password,
            token=token,
            verify=verify,
            check_only=check_only,
        )
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        hint = ""
        if "CERTIFICATE_VERIFY_FAILED" in reason:
            hint = " (trust the server's CA with --ca-file, or skip the check with --insecure)"
        fail(f"cannot reach {base}: {reason}{hint}")
    for c in result["details"]["componentSuccesses"]:
        console.print(f"[green]✓[/] {c['componentType']} {c['fullName']}", highlight=False)
    for p in result["details"]["componentFailures"]:
        where = p["fileName"] + (f":{p['lineNumber']}" if p.get("lineNumber") else "")
        console.print(f"[red]✗[/] {where}: {p['problem']}", highlight=False)
    for s in result["details"].get("skipped", []):
        console.print(f"[yellow]-[/] skipped {s}", highlight=False)
    if result["success"]:
        console.print(
            f"Deployed {result['numberComponentsDeployed']} component(s) (deploy {result['id']})."
        )
    else:
        console.print(f"Deploy {result['id']} failed; nothing was changed.")
    return bool(result["success"])


def _deploy(
    base: str,
    path: Path,
    *,
    username: str | None,
    password: str | None,
    token: str | None,
    verify: bool | ssl.SSLContext,
    check_only: bool,
) -> dict[str, Any]:
    from workroute.cli.main import fail, zip_folder

    with httpx.Client(base_url=base, verify=verify, timeout=120) as client:
        if token is None:
            resp = client.post(
                "/services/oauth2/token",
                data={"grant_type": "password", "username": username, "password": password},
            )
            if resp.status_code != 200:
                body = _json(resp)
                message = body.get("error_description") if isinstance(body, dict) else None
                fail(f"login failed: {message or resp.text}")
            token = str(resp.json()["access_token"])
        resp = client.post(
            f"/services/data/{API_VERSION}/metadata/deployRequest",
            headers={"Authorization": f"Bearer {token}"},
            files={
                "json": (
                    None,
                    f'{{"deployOptions": {{"checkOnly": {str(check_only).lower()}}}}}',
                    "application/json",
                ),
                "file": ("deploy.zip", zip_folder(path), "application/zip"),
            },
        )
        if resp.status_code >= 300:
            errors = _json(resp)
            first = errors[0] if isinstance(errors, list) and errors else None
            message = first.get("message") if isinstance(first, dict) else None
            fail(f"the server refused the deploy: {message or resp.text}")
        result: dict[str, Any] = resp.json()["deployResult"]
    return result


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None
