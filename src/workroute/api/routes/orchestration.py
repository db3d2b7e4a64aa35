"""The Flow Orchestration API, under ``/services/workroute/v1``.

Work items: the caller's To Do list (their own, their groups' and queues'), the Work
Guide of one record, one work item with its screen flow as a form, completing it with
values (field-level errors change nothing; a second completion is refused), and
reassigning it. Runs: start one through the API, list and read them with their stage
and step states, cancel and resume (admins). Runs, stages, steps, work items and their
history are also records: SOQL and the sObject API read them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from workroute.api.deps import JsonObject, StrictBody, get_org, get_principal, parse_body
from workroute.auth.principal import Permission, Principal
from workroute.kernel.errors import InsufficientAccessError, InvalidFieldError, NotFoundError
from workroute.kernel.ids import normalize_id
from workroute.orchestration import notify
from workroute.orchestration.runs import RUN, STAGE, STEP
from workroute.org import Org

router = APIRouter(prefix="/services/workroute/v1", tags=["orchestration"])

OrgDep = Annotated[Org, Depends(get_org)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]

#: Values of one completion, and inputs of one run: at most this many.
MAX_VALUES = 200


class CompleteBody(StrictBody):
    values: dict[str, Any] = Field(default_factory=dict, max_length=MAX_VALUES)


class ReassignBody(StrictBody):
    assigneeId: str = Field(min_length=1, max_length=80)


class StartBody(StrictBody):
    orchestration: str = Field(min_length=1, max_length=80)
    recordId: str | None = Field(default=None, max_length=18)
    inputs: dict[str, Any] = Field(default_factory=dict, max_length=MAX_VALUES)


def _item_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["Id"],
        "label": row.get("Label"),
        "description": row.get("Description"),
        "status": row.get("Status"),
        "assigneeId": row.get("AssigneeId"),
        "ownerId": row.get("OwnerId"),
        "relatedRecordId": row.get("RelatedRecordId"),
        "orchestrationName": row.get("OrchestrationName"),
        "orchestrationInstanceId": row.get("OrchestrationInstanceId"),
        "stepInstanceId": row.get("StepInstanceId"),
        "screenFlowDeveloperName": row.get("ScreenFlowDeveloperName"),
        "assignedDate": _iso(row.get("AssignedDate")),
        "completedById": row.get("CompletedById"),
        "completedDate": _iso(row.get("CompletedDate")),
        "createdDate": _iso(row.get("CreatedDate")),
    }


def _iso(v: Any) -> str | None:
    return None if v is None else v.isoformat()


# -- work items ---------------------------------------------------------------------------


@router.get("/workItems")
def todo(org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    """The caller's To Do list: open work items of theirs, their groups' and queues'."""
    return {"workItems": [_item_json(r) for r in org.work_items.todo(principal)]}


@router.get("/records/{record_id}/workItems")
def work_guide(record_id: str, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    """The Work Guide of a record: its open work items the caller may complete."""
    rows = org.work_items.for_record(record_id, principal)
    return {"workItems": [_item_json(r) for r in rows]}


@router.get("/workItems/{work_item_id}")
def work_item(work_item_id: str, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    return _item_json(org.work_items.get(work_item_id, principal))


@router.get("/workItems/{work_item_id}/screen")
def work_item_screen(work_item_id: str, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    """The work item's screen flow as a form (fields, types, options, defaults)."""
    return org.work_items.form(work_item_id, principal)


@router.post("/workItems/{work_item_id}/complete")
def complete(
    work_item_id: str, body: JsonObject, org: OrgDep, principal: PrincipalDep
) -> dict[str, Any]:
    args = parse_body(CompleteBody, body)
    row = org.work_items.complete(work_item_id, args.values, principal)
    return {"success": True, "workItem": _item_json(row)}


@router.post("/workItems/{work_item_id}/reassign")
def reassign(
    work_item_id: str, body: JsonObject, org: OrgDep, principal: PrincipalDep
) -> dict[str, Any]:
    args = parse_body(ReassignBody, body)
    row = org.work_items.reassign(work_item_id, args.assigneeId, principal)
    return {"success": True, "workItem": _item_json(row)}


# -- runs ---------------------------------------------------------------------------------


def _require_reader(principal: Principal) -> None:
    if not (principal.has(Permission.VIEW_ALL_DATA) or principal.has(Permission.MODIFY_ALL_DATA)):
        raise InsufficientAccessError(
            "insufficient access rights: reading orchestration runs needs View All Data"
        )


def _run_json(org: Org, run: dict[str, Any]) -> dict[str, Any]:
    rid = str(run["Id"])
    stages = sorted(
        org.store.find_in(STAGE, "OrchestrationInstanceId", [rid]),
        key=lambda s: str(s.get("Position") or 0).zfill(6),
    )
    steps = org.store.find_in(STEP, "OrchestrationInstanceId", [rid])
    return {
        "id": rid,
        "name": run.get("Name"),
        "orchestrationName": run.get("OrchestrationName"),
        "orchestrationVersion": run.get("OrchestrationVersion"),
        "status": run.get("Status"),
        "currentStage": run.get("CurrentStage"),
        "relatedRecordId": run.get("RelatedRecordId"),
        "errorMessage": run.get("ErrorMessage"),
        "resumeBlockedReason": run.get("ResumeBlockedReason"),
        "createdDate": _iso(run.get("CreatedDate")),
        "completedDate": _iso(run.get("CompletedDate")),
        "stages": [
            {
                "id": s["Id"],
                "name": s.get("Name"),
                "label": s.get("Label"),
                "status": s.get("Status"),
                "errorMessage": s.get("ErrorMessage"),
                "steps": [
                    {
                        "id": p["Id"],
                        "name": p.get("Name"),
                        "label": p.get("Label"),
                        "type": p.get("StepType"),
                        "status": p.get("Status"),
                        "errorMessage": p.get("ErrorMessage"),
                    }
                    for p in steps
                    if p.get("StageInstanceId") == s["Id"]
                ],
            }
            for s in stages
        ],
    }


@router.get("/runs")
def runs(
    org: OrgDep,
    principal: PrincipalDep,
    status: Annotated[str | None, Query(max_length=40)] = None,
    orchestration: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> dict[str, Any]:
    """Runs, newest first, with their stage and step states (View All Data)."""
    _require_reader(principal)
    filters: dict[str, object] = {}
    if status:
        filters["Status"] = status
    if orchestration:
        filters["OrchestrationName"] = orchestration
    rows = org.store.find(RUN, **filters)
    rows.sort(key=lambda r: (str(r["CreatedDate"]), str(r["Id"])), reverse=True)
    return {"runs": [_run_json(org, r) for r in rows[:limit]]}


@router.get("/runs/{run_id}")
def run(run_id: str, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    _require_reader(principal)
    rows = org.store.get_many(RUN, [normalize_id(run_id)])
    if not rows:
        raise NotFoundError(f"No orchestration run with id {run_id}")
    return _run_json(org, rows[0])


@router.post("/runs", status_code=201)
def start(body: JsonObject, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    """Start the active version of an orchestration with input variables (Run Flows)."""
    args = parse_body(StartBody, body)
    if not principal.has(Permission.RUN_FLOWS):
        raise InsufficientAccessError(
            "insufficient access rights: starting an orchestration needs Run Flows"
        )
    record_id = normalize_id(args.recordId) if args.recordId else None
    run_id = org.orchestrator.start(
        args.orchestration,
        user_id=principal.user_id,
        record_id=record_id,
        inputs=args.inputs,
    )
    return {"id": run_id, "success": True}


@router.post("/runs/{run_id}/cancel")
def cancel(run_id: str, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    org.orchestrator.cancel(normalize_id(run_id), principal)
    return {"success": True}


@router.post("/runs/{run_id}/resume")
def resume(run_id: str, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    org.orchestrator.resume(normalize_id(run_id), principal)
    return {"success": True}


# -- settings -----------------------------------------------------------------------------


@router.get("/orchestration/settings")
def get_settings(org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    """The org's work item email settings (View All Data)."""
    _require_reader(principal)
    return notify.get_settings(org)


@router.patch("/orchestration/settings")
def change_settings(body: JsonObject, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    """Set ``automatedProcessUserEmail`` (an address, or null) and
    ``disableWorkItemEmails`` (true/false); admins (Customize Application)."""
    if not principal.has(Permission.CUSTOMIZE_APPLICATION):
        raise InsufficientAccessError(
            "insufficient access rights: orchestration settings need Customize Application"
        )
    unknown = [k for k in body if k not in notify.SETTINGS]
    if unknown:
        raise InvalidFieldError(f"No orchestration setting {unknown[0]}", fields=unknown[:1])
    with org.db.write():
        for name, value in body.items():
            notify.set_setting(org, name, value)
    return notify.get_settings(org)
