"""The agent API: the console toolkit methods of seed 003 as REST endpoints.

``POST /services/omni/v1/{method}`` with the method's named arguments as a JSON
object acts as the authenticated agent and answers with ``success`` and the fields
the seed lists for that method (``channels`` and ``works`` are JSON strings, as the
toolkit gives them). Errors use the API's usual error list and status.
``GET /services/omni/v1/events`` reads the agent's console events after a replay id.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workroute.api.deps import JsonObject, get_org, get_principal
from workroute.auth.principal import Principal
from workroute.kernel.errors import InvalidFieldError, NotFoundError
from workroute.org import Org
from workroute.routing import acw, console, transfer

router = APIRouter(prefix="/services/omni/v1", tags=["omni"])

OrgDep = Annotated[Org, Depends(get_org)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NoArgs(_Args):
    pass


class StatusArgs(_Args):
    statusId: str = Field(min_length=15, max_length=18)


class WorkArgs(_Args):
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


def _args(model: type[_Args], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidFieldError(f"{where}: {first['msg']}", fields=[where]) from None


def _status(info: console.StatusInfo) -> dict[str, Any]:
    return {"statusName": info.name, "statusApiName": info.api_name, "statusId": info.status_id}


@router.post("/{method}")
def call(method: str, body: JsonObject, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    engine, me = org.omni, principal.user_id
    if method == "login":
        console.login(engine, me, _args(StatusArgs, body).statusId)
        return {"success": True}
    if method == "setServicePresenceStatus":
        info = console.set_status(engine, me, _args(StatusArgs, body).statusId)
        return {"success": True, **_status(info), "channels": json.dumps(info.channels)}
    if method == "logout":
        _args(NoArgs, body)
        console.logout(engine, me)
        return {"success": True}
    if method == "getServicePresenceStatusId":
        _args(NoArgs, body)
        agent = console.current_agent(engine, me)
        return {"success": True, **_status(console.status_info(engine, agent.status_id))}
    if method == "getServicePresenceStatusChannels":
        _args(NoArgs, body)
        agent = console.current_agent(engine, me)
        info = console.status_info(engine, agent.status_id)
        return {"success": True, "channels": json.dumps(info.channels)}
    if method == "getAgentWorks":
        _args(NoArgs, body)
        return {"success": True, "works": json.dumps(console.agent_works(engine, me))}
    if method == "getAgentWorkload":
        _args(NoArgs, body)
        agent = console.current_agent(engine, me)
        return {
            "success": True,
            "configuredCapacity": agent.capacity,
            "currentWorkload": agent.workload(),
        }
    if method == "acceptAgentWork":
        console.accept(engine, me, _args(WorkArgs, body).workId)
        return {"success": True}
    if method == "declineAgentWork":
        args = _args(DeclineArgs, body)
        console.decline(engine, me, args.workId, args.declineReason)
        return {"success": True}
    if method == "closeAgentWork":
        console.close(engine, me, _args(WorkArgs, body).workId)
        return {"success": True}
    if method == "transferAgentWork":
        targs = _args(TransferArgs, body)
        target = transfer.Target(
            queue_id=targs.queueId,
            user_id=targs.userId,
            skill_ids=None if targs.skillIds is None else tuple(targs.skillIds),
        )
        transfer.transfer(engine, me, targs.workId, target)
        return {"success": True}
    if method == "extendAfterConversationWork":
        ends = acw.extend(engine, me, _args(WorkArgs, body).workId)
        return {"success": True, "endsAt": ends.isoformat()}
    if method in ("raiseAgentWorkFlag", "lowerAgentWorkFlag"):
        args = _args(FlagArgs if method == "raiseAgentWorkFlag" else WorkArgs, body)
        console.set_flag(
            engine,
            me,
            args.workId,
            raised=method == "raiseAgentWorkFlag",
            message=getattr(args, "message", None),
            role="AGENT",
            owner_id=me,
        )
        return {"success": True}
    raise NotFoundError(f"no Omni-Channel method named {method!r}")


@router.get("/events")
def events(
    org: OrgDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
) -> dict[str, Any]:
    """The caller's console events after replay id ``after``, oldest first."""
    found = org.events.read(
        after=after, topic_prefix="omni/", user_id=principal.user_id, limit=limit
    )
    return {"events": [e.to_json() for e in found]}
