"""``workroute deploy --url``: deploy to a running server through its REST API."""

from __future__ import annotations

from pathlib import Path

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
    verify: bool,
    check_only: bool,
    console: Console,
) -> bool:
    from workroute.cli.main import fail, zip_folder

    base = url.rstrip("/")
    with httpx.Client(base_url=base, verify=verify, timeout=120) as client:
        if token is None:
            if not username or password is None:
                fail("give --token, or --username and --password")
            resp = client.post(
                "/services/oauth2/token",
                data={"grant_type": "password", "username": username, "password": password},
            )
            if resp.status_code != 200:
                fail(f"login failed: {resp.json().get('error_description', resp.text)}")
            token = resp.json()["access_token"]
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
            errors = resp.json()
            message = errors[0]["message"] if isinstance(errors, list) and errors else resp.text
            fail(f"the server refused the deploy: {message}")
        result = resp.json()["deployResult"]
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
