"""The Omni Supervisor API and routing explanations, under ``/services/omni/v1``.

``/supervisor/...`` acts as the authenticated supervisor, within the Omni supervisor
configuration assigned to them (see :mod:`workroute.routing.supervisor`): four views
(queues backlog, skills backlog, agents, assigned work), the configuration itself, and
the actions it allows. ``GET /explain/{id}`` explains the routing of a request or a
piece of work (:mod:`workroute.routing.explain`), for administrators (ViewAllData) and
supervisors. Every path has at least two segments, so none meets the agent API's
``POST /services/omni/v1/{method}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from workroute.api.deps import JsonObject, StrictBody, get_org, get_principal, parse_body
from workroute.auth.principal import Permission, Principal
from workroute.kernel.errors import InsufficientAccessError
from workroute.org import Org
from workroute.routing import explain as routing_explain
from workroute.routing import supervisor

router = APIRouter(prefix="/services/omni/v1", tags=["omni"])

OrgDep = Annotated[Org, Depends(get_org)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]

#: At most this many ids in one change.
MAX_IDS = 200


class MembershipBody(StrictBody):
    add: list[str] = Field(default_factory=list, max_length=MAX_IDS)
    remove: list[str] = Field(default_factory=list, max_length=MAX_IDS)


class SkillLevel(StrictBody):
    skillId: str
    level: float


class SkillsBody(StrictBody):
    set: list[SkillLevel] = Field(default_factory=list, max_length=MAX_IDS)
    remove: list[str] = Field(default_factory=list, max_length=MAX_IDS)


class FlagBody(StrictBody):
    isFlagged: bool
    message: str | None = Field(default=None, max_length=1000)


def _scope(org: Org, principal: Principal) -> supervisor.Scope:
    return supervisor.scope_for(org.omni, principal)


# -- views ----------------------------------------------------------------------------------


@router.get("/supervisor/config")
def config(org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    """The caller's supervisor configuration: what it shows and the actions it allows."""
    return _scope(org, principal).to_json()


@router.get("/supervisor/queues")
def queues_backlog(org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    scope = _scope(org, principal)
    return {"queues": supervisor.queue_backlog(org.omni, scope)}


@router.get("/supervisor/skills")
def skills_backlog(org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    scope = _scope(org, principal)
    return {"skills": supervisor.skills_backlog(org.omni, scope)}


@router.get("/supervisor/agents")
def agents(org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    scope = _scope(org, principal)
    return {"agents": supervisor.agents_view(org.omni, scope)}


@router.get("/supervisor/work")
def assigned_work(org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    scope = _scope(org, principal)
    return {"works": supervisor.assigned_work(org.omni, scope)}


# -- actions ----------------------------------------------------------------------------------


@router.post("/supervisor/agents/{user_id}/queues")
def change_agent_queues(
    user_id: str, body: JsonObject, org: OrgDep, principal: PrincipalDep
) -> dict[str, Any]:
    scope = _scope(org, principal)
    args = parse_body(MembershipBody, body)
    result = supervisor.change_agent_queues(
        org.omni, scope, user_id, add=args.add, remove=args.remove
    )
    return {"success": True, **result}


@router.post("/supervisor/queues/{queue_id}/agents")
def change_queue_agents(
    queue_id: str, body: JsonObject, org: OrgDep, principal: PrincipalDep
) -> dict[str, Any]:
    scope = _scope(org, principal)
    args = parse_body(MembershipBody, body)
    result = supervisor.change_queue_agents(
        org.omni, scope, queue_id, add=args.add, remove=args.remove
    )
    return {"success": True, **result}


@router.post("/supervisor/agents/{user_id}/skills")
def change_agent_skills(
    user_id: str, body: JsonObject, org: OrgDep, principal: PrincipalDep
) -> dict[str, Any]:
    scope = _scope(org, principal)
    args = parse_body(SkillsBody, body)
    result = supervisor.change_agent_skills(
        org.omni,
        scope,
        user_id,
        levels=[(s.skillId, s.level) for s in args.set],
        remove=args.remove,
    )
    return {"success": True, **result}


@router.post("/supervisor/work/{work_id}/flag")
def set_flag(
    work_id: str, body: JsonObject, org: OrgDep, principal: PrincipalDep
) -> dict[str, Any]:
    scope = _scope(org, principal)
    args = parse_body(FlagBody, body)
    supervisor.set_work_flag(org.omni, scope, work_id, raised=args.isFlagged, message=args.message)
    return {"success": True}


# -- explain ------------------------------------------------------------------------------


@router.get("/explain/{record_id}")
def explain(record_id: str, org: OrgDep, principal: PrincipalDep) -> dict[str, Any]:
    """Why a PendingServiceRouting or AgentWork was routed as it was (and, while it
    waits, what the router would decide now)."""
    scope = None
    if not principal.has(Permission.VIEW_ALL_DATA):
        try:
            scope = _scope(org, principal)
        except InsufficientAccessError:
            raise InsufficientAccessError(
                "routing explanations need ViewAllData or an Omni supervisor configuration"
            ) from None
    return routing_explain.explain(org.omni, record_id, scope)
