"""REST deploys: POST /services/data/vNN.0/metadata/deployRequest (multipart json + zip)."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from workroute.api.deps import CtxDep
from workroute.auth.principal import Permission
from workroute.kernel.errors import InsufficientAccessError, JsonParserError
from workroute.metadata.deploy import DeployResult, deploy_status, run_deploy
from workroute.metadata.package import FOLDER_TYPES
from workroute.store.values import format_datetime

router = APIRouter()
MAX_ZIP_BYTES = 100 * 1024 * 1024


def component_type(path: str) -> str:
    """The metadata type of the file at ``path`` (objects/X.object -> CustomObject), or ""
    for a problem with the package itself, as Salesforce reports it."""
    folders = path.split("/")[:-1]
    for folder in reversed(folders):
        if folder == "fields" and "objects" in folders:
            return "CustomField"
        info = FOLDER_TYPES.get(folder)
        if info is not None:
            return info.name
    return ""


def result_json(r: DeployResult, base: str) -> dict[str, Any]:
    return {
        "id": r.id,
        "url": f"{base}/metadata/deployRequest/{r.id}",
        "deployResult": {
            "id": r.id,
            "done": True,
            "status": r.status,
            "success": r.success,
            "checkOnly": r.check_only,
            "createdDate": format_datetime(r.created_at),
            "completedDate": format_datetime(r.completed_at),
            "createdBy": r.created_by_id,
            "numberComponentsDeployed": len(r.components),
            "numberComponentErrors": len(r.problems),
            "numberComponentsTotal": len(r.components) + len(r.problems),
            "details": {
                "componentSuccesses": [
                    {
                        "componentType": c.type,
                        "fullName": c.full_name,
                        "fileName": c.file,
                        "created": c.created,
                        "success": True,
                    }
                    for c in r.components
                ],
                "componentFailures": [
                    {
                        "componentType": component_type(p.file),
                        "fullName": p.component,
                        "fileName": p.file,
                        "lineNumber": p.line,
                        "problem": p.message,
                        "problemType": "Error",
                        "success": False,
                    }
                    for p in r.problems
                ],
                "skipped": list(r.skipped),
            },
        },
    }


@router.post("/services/data/{version}/metadata/deployRequest", tags=["metadata"], status_code=201)
async def deploy_request(request: Request, ctx: CtxDep) -> JSONResponse:
    if not ctx.principal.has(Permission.CUSTOMIZE_APPLICATION):
        raise InsufficientAccessError("deploying metadata needs CustomizeApplication")
    options: dict[str, Any] = {}
    # Closing the form closes its spooled temporary files.
    async with request.form(max_part_size=MAX_ZIP_BYTES) as form:
        raw_json = form.get("json")
        if raw_json is not None:
            options = _deploy_options(
                raw_json if isinstance(raw_json, str) else await raw_json.read()
            )
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise JsonParserError("a deployRequest needs a 'file' part holding the zip")
        data = await upload.read()
    # A deploy parses and writes for a while: run it off the event loop.
    result = await run_in_threadpool(
        partial(
            run_deploy,
            ctx.org,
            data,
            user_id=ctx.principal.user_id,
            check_only=bool(options.get("checkOnly")),
        )
    )
    return JSONResponse(result_json(result, ctx.base), status_code=201)


def _deploy_options(raw: str | bytes) -> dict[str, Any]:
    """The ``deployOptions`` object of the request's json part."""
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise JsonParserError(f"the json part is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise JsonParserError("the json part must be an object holding deployOptions")
    options = parsed.get("deployOptions") or {}
    if not isinstance(options, dict):
        raise JsonParserError("deployOptions must be an object")
    check_only = options.get("checkOnly", False)
    if isinstance(check_only, str) and check_only.lower() in ("true", "false"):
        check_only = check_only.lower() == "true"
    if not isinstance(check_only, bool):
        raise JsonParserError("deployOptions.checkOnly must be true or false")
    return {**options, "checkOnly": check_only}


@router.get("/services/data/{version}/metadata/deployRequest/{deploy_id}", tags=["metadata"])
def deploy_request_status(deploy_id: str, ctx: CtxDep) -> dict[str, Any]:
    if not ctx.principal.has(Permission.CUSTOMIZE_APPLICATION):
        raise InsufficientAccessError("reading deployments needs CustomizeApplication")
    return result_json(deploy_status(ctx.org, deploy_id), ctx.base)
