"""The agent API: the console toolkit methods of seed 003 as REST endpoints.

``POST /services/omni/v1/{method}`` with the method's named arguments as a JSON
object acts as the authenticated agent and answers with ``success`` and the fields
the seed lists for that method (``channels`` and ``works`` are JSON strings, as the
toolkit gives them). Errors use the API's usual error list and status.
``GET /services/omni/v1/events`` reads the agent's console events after a replay id, as
a JSON page or a Server-Sent Events stream; ``GET /services/omni/v1/console`` is what
the agent's console page shows, in one read (routing/console_state.py).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import Field

from workroute.api.deps import JsonObject, StrictBody, get_org, get_principal, parse_body
from workroute.auth.principal import Principal
from workroute.kernel.errors import InsufficientAccessError, InvalidFieldError, NotFoundError
from workroute.org import Org
from workroute.routing import acw, console, console_state, supervisor, transfer
from workroute.streaming.service import Streaming
from workroute.streaming.sse import ConsoleFeed

router = APIRouter(prefix="/services/omni/v1", tags=["omni"])

OrgDep = Annotated[Org, Depends(get_org)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


class NoArgs(StrictBody):
    pass


class StatusArgs(StrictBody):
    statusId: str = Field(min_length=15, max_length=18)


class WorkArgs(StrictBody):
    workId: str = Field(min_length=15, max_length=18)


class DeclineArgs(WorkArgs):
    declineReason: str | None = Field(default=None, max_length=255)


class FlagArgs(WorkArgs):
    message: str | None = Field(default=None, max_length=1000)


class TransferArgs(WorkArgs):
    """Exactly one destination: a queue, a user, or skills."""

    queueId: str | None = Field(default=None, min_length=15, max_length=18)
    userId: str | None = Field(default=None, min_length=15, max_length=18)
    skillIds: list[str] | None = Field(default=None, min_length=1, max_length=100)


def _status(info: console.StatusInfo) -> dict[str, Any]:
    return {"statusName": info.name, "statusApiName": info.api_name, "statusId": info.status_id}


@router.post("/{method}")
def call(method: str, body: JsonObject, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    engine, me = org.omni, principal.user_id
    if method == "login":
        console.login(engine, me, parse_body(StatusArgs, body).statusId)
        return {"success": True}
    if method == "setServicePresenceStatus":
        info = console.set_status(engine, me, parse_body(StatusArgs, body).statusId)
        return {"success": True, **_status(info), "channels": json.dumps(info.channels)}
    if method == "logout":
        parse_body(NoArgs, body)
        console.logout(engine, me)
        return {"success": True}
    if method == "getServicePresenceStatusId":
        parse_body(NoArgs, body)
        agent = console.current_agent(engine, me)
        return {"success": True, **_status(console.status_info(engine, agent.status_id))}
    if method == "getServicePresenceStatusChannels":
        parse_body(NoArgs, body)
        agent = console.current_agent(engine, me)
        info = console.status_info(engine, agent.status_id)
        return {"success": True, "channels": json.dumps(info.channels)}
    if method == "getAgentWorks":
        parse_body(NoArgs, body)
        return {"success": True, "works": json.dumps(console.agent_works(engine, me))}
    if method == "getAgentWorkload":
        parse_body(NoArgs, body)
        agent = console.current_agent(engine, me)
        return {
            "success": True,
            "configuredCapacity": agent.capacity,
            "currentWorkload": agent.workload(),
        }
    if method == "acceptAgentWork":
        console.accept(engine, me, parse_body(WorkArgs, body).workId)
        return {"success": True}
    if method == "declineAgentWork":
        args = parse_body(DeclineArgs, body)
        console.decline(engine, me, args.workId, args.declineReason)
        return {"success": True}
    if method == "closeAgentWork":
        console.close(engine, me, parse_body(WorkArgs, body).workId)
        return {"success": True}
    if method == "transferAgentWork":
        targs = parse_body(TransferArgs, body)
        target = transfer.Target(
            queue_id=targs.queueId,
            user_id=targs.userId,
            skill_ids=None if targs.skillIds is None else tuple(targs.skillIds),
        )
        transfer.transfer(engine, me, targs.workId, target)
        return {"success": True}
    if method == "extendAfterConversationWork":
        ends = acw.extend(engine, me, parse_body(WorkArgs, body).workId)
        return {"success": True, "endsAt": ends.isoformat()}
    if method in ("raiseAgentWorkFlag", "lowerAgentWorkFlag"):
        raised = method == "raiseAgentWorkFlag"
        flag: WorkArgs = parse_body(FlagArgs if raised else WorkArgs, body)
        console.set_flag(
            engine,
            me,
            flag.workId,
            raised=raised,
            message=flag.message if isinstance(flag, FlagArgs) else None,
            role="AGENT",
            owner_id=me,
        )
        return {"success": True}
    raise NotFoundError(f"no Omni-Channel method named {method!r}")


@router.get("/console", response_model=None)
def console_page(org: OrgDep, principal: PrincipalDep) -> console_state.ConsoleState:
    """The caller's console: presence, the statuses they may use, capacity, presence
    options and their Assigned and Opened work, with the org clock's ``serverTime``
    (logged in to Omni-Channel or not)."""
    return console_state.console_state(org.omni, principal.user_id)


@router.get("/events", response_model=None)
async def events(
    request: Request,
    org: OrgDep,
    principal: PrincipalDep,
    after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> dict[str, Any] | StreamingResponse:
    """The caller's console events after replay id ``after``, oldest first: a JSON page,
    or with ``Accept: text/event-stream`` a Server-Sent Events stream that resumes after
    Last-Event-ID (or ``after``; from now when neither is given). A supervisor's stream
    also carries the events of the agents their configuration shows."""
    if "text/event-stream" not in request.headers.get("accept", ""):
        found = await run_in_threadpool(
            org.events.read,
            after=after or 0,
            topic_prefix="omni/",
            user_id=principal.user_id,
            limit=limit,
        )
        return {"events": [e.to_json() for e in found]}
    streaming: Streaming = request.app.state.streaming
    last = request.headers.get("last-event-id")
    if last is not None:
        if not last.strip().isdigit():
            raise InvalidFieldError("Last-Event-ID must be a replay id", fields=["Last-Event-ID"])
        after = int(last)
    users, is_supervisor = await run_in_threadpool(_console_users, org, principal)
    feed = ConsoleFeed(hub=streaming.hub, users=users, backlog=is_supervisor)
    start = streaming.hub.last_id if after is None else after
    return StreamingResponse(
        feed.stream(start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _console_users(org: Org, principal: Principal) -> tuple[frozenset[str], bool]:
    """Whose console events the caller may follow (their own, and a supervisor's
    agents), and whether they are a supervisor (who also hears of backlog changes)."""
    try:
        scope = supervisor.scope_for(org.omni, principal)
    except InsufficientAccessError:
        return frozenset({principal.user_id}), False
    return scope.agents | {principal.user_id}, True
