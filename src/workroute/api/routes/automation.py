"""/services/workroute/v1: the org clock, the time-based workflow queue and the outbox.

Administrators only (ModifyAllData). The clock can be advanced only when the server
runs with ``--clock manual``; when the advance returns, every timer due by the new
time has run and every delivery due has been attempted.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from workroute.api.deps import get_org, get_principal
from workroute.auth.principal import Permission, Principal
from workroute.delivery.outbox import OutboxStatus
from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import (
    ConflictError,
    InsufficientAccessError,
    InvalidFieldError,
    NotFoundError,
)
from workroute.org import Org
from workroute.workflow.engine import TIMER_KIND

router = APIRouter(prefix="/services/workroute/v1", tags=["automation"])

#: The most one advance may move the clock (ten years), so a typo cannot overflow.
MAX_ADVANCE_SECONDS = 10 * 366 * 24 * 3600


def _admin(
    org: Annotated[Org, Depends(get_org)],
    principal: Annotated[Principal, Depends(get_principal)],
) -> Org:
    if not principal.has(Permission.MODIFY_ALL_DATA):
        raise InsufficientAccessError("this endpoint needs the ModifyAllData permission")
    return org


AdminOrg = Annotated[Org, Depends(_admin)]


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    seconds: float = Field(ge=0, le=MAX_ADVANCE_SECONDS)


def _clock_json(org: Org) -> dict[str, Any]:
    return {"now": org.clock.now().isoformat(), "manual": isinstance(org.clock, ManualClock)}


@router.get("/clock")
def get_clock(org: AdminOrg) -> dict[str, Any]:
    return _clock_json(org)


@router.post("/clock/advance")
async def advance_clock(body: Advance, org: AdminOrg) -> dict[str, Any]:
    clock = org.clock
    if not isinstance(clock, ManualClock):
        raise ConflictError("the clock is the system clock; start the server with --clock manual")
    if not math.isfinite(body.seconds):
        raise InvalidFieldError("seconds must be a finite number", fields=["seconds"])
    await run_in_threadpool(clock.advance, body.seconds)
    return _clock_json(org)


@router.get("/workflow/queue")
def time_based_queue(
    org: AdminOrg, record_id: Annotated[str | None, Query(alias="recordId")] = None
) -> dict[str, Any]:
    timers = org.timers.list(kind=TIMER_KIND, record_id=record_id)
    return {"totalSize": len(timers), "records": [t.to_json() for t in timers]}


@router.delete("/workflow/queue/{timer_id}", status_code=204)
def delete_queued(timer_id: int, org: AdminOrg) -> None:
    timer = org.timers.get(timer_id)
    if timer is None or timer.kind != TIMER_KIND or not org.timers.delete(timer_id):
        raise NotFoundError(f"no queued workflow action with id {timer_id}")


@router.get("/outbox")
def outbox(
    org: AdminOrg,
    kind: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    wanted = None
    if status is not None:
        try:
            wanted = OutboxStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in OutboxStatus)
            raise InvalidFieldError(f"status must be one of {allowed}", fields=["status"]) from None
    if kind is not None and kind not in org.outbox.channels:
        raise InvalidFieldError(
            f"kind must be one of {', '.join(sorted(org.outbox.channels))}", fields=["kind"]
        )
    items = org.outbox.list(kind=kind, status=wanted)
    return {"totalSize": len(items), "records": [i.to_json() for i in items]}


@router.post("/outbox/{item_id}/retry")
def retry_item(item_id: int, org: AdminOrg) -> dict[str, Any]:
    item = org.outbox.retry(item_id, org.clock.now())
    org.dispatcher.wake()
    return item.to_json()


@router.delete("/outbox/{item_id}", status_code=204)
def delete_item(item_id: int, org: AdminOrg) -> None:
    org.outbox.delete(item_id)
