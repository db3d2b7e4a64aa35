"""REST deploys: POST /services/data/vNN.0/metadata/deployRequest (multipart json + zip)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from workroute.api.deps import CtxDep
from workroute.auth.principal import Permission
from workroute.kernel.errors import InsufficientAccessError, JsonParserError
from workroute.metadata.deploy import DeployResult, deploy_status, run_deploy
from workroute.store.values import format_datetime

router = APIRouter()
MAX_ZIP_BYTES = 100 * 1024 * 1024


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
                        "componentType": p.element,
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
    form = await request.form(max_part_size=MAX_ZIP_BYTES)
    options: dict[str, Any] = {}
    raw_json = form.get("json")
    if raw_json is not None:
        text = raw_json if isinstance(raw_json, str) else (await raw_json.read()).decode()
        try:
            options = json.loads(text).get("deployOptions", {}) or {}
        except (json.JSONDecodeError, AttributeError) as exc:
            raise JsonParserError(f"the json part is not valid: {exc}") from exc
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise JsonParserError("a deployRequest needs a 'file' part holding the zip")
    data = await upload.read()
    result = run_deploy(
        ctx.org,
        data,
        user_id=ctx.principal.user_id,
        check_only=bool(options.get("checkOnly", False)),
    )
    return JSONResponse(result_json(result, ctx.base), status_code=201)


@router.get("/services/data/{version}/metadata/deployRequest/{deploy_id}", tags=["metadata"])
def deploy_request_status(deploy_id: str, ctx: CtxDep) -> dict[str, Any]:
    if not ctx.principal.has(Permission.CUSTOMIZE_APPLICATION):
        raise InsufficientAccessError("reading deployments needs CustomizeApplication")
    return result_json(deploy_status(ctx.org, deploy_id), ctx.base)
