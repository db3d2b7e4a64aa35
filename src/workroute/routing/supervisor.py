"""Omni Supervisor: what a supervisor sees of routing, and what they may change.

seed 003, OmniSupervisorConfig and its children. A configuration applies to users
(OmniSupervisorConfigUser) and profiles (OmniSupervisorConfigProfile); the user's own
assignment wins over their profile's. It names the queues its supervisors see in the
Queues Backlog (OmniSupervisorConfigQueue), the skills of the Skills Backlog
(OmniSupervisorConfigSkill, filtered by SkillVisibility), the groups whose members are
their agents (OmniSupervisorConfigGroup) and the actions they may take
(OmniSupervisorConfigAction). What a configuration does not name is not visible: one
without groups shows no agents. Using Omni Supervisor also needs the OmniSupervisor
permission on the user's profile, as Salesforce asks for its supervisor permission.

Views read the router's memory (brought up to date by ``engine.refresh()``, never under
the write lock) and the AgentWork rows. Actions are saves through the store's pipeline
(GroupMember, ServiceResourceSkill), so the engine reloads its setup and routes again
after the commit, as for any administrator's change; a refused action changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from math import isfinite
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workroute.auth.principal import Permission, Principal
from workroute.kernel.errors import (
    InsufficientAccessError,
    InvalidFieldError,
    MalformedIdError,
    NotFoundError,
)
from workroute.kernel.ids import normalize_id
from workroute.routing import console
from workroute.routing.backlog import Pending
from workroute.routing.effects import seconds_between
from workroute.routing.model import InvalidWorkStatusError, RoutingType, WorkStatus
from workroute.routing.setup import Queue
from workroute.store.values import format_datetime

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine

#: seed 003, ServiceResourceSkill.SkillLevel: a number with 2 decimals, 0 to 99.99.
MAX_SKILL_LEVEL = 99.99


class SupervisorAction(StrEnum):
    """The OmniSupervisorActionType values this engine performs (seed 003)."""

    CHANGE_QUEUES = "AllAgents.ChangeQueues"
    CHANGE_SKILLS = "AllAgents.ChangeSkills"
    MANAGE_QUEUES = "QueuesBacklog.ManageQueues"


class SkillVisibility(StrEnum):
    """seed 003, OmniSupervisorConfig.SkillVisibility: which skills-based work shows."""

    ALL_SKILLS = "AllSkills"
    ANY_SKILL = "AnySkill"


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorConfig:
    id: str
    developer_name: str
    label: str
    #: "User" or "Profile": how the configuration reached the supervisor.
    assigned_by: str
    skill_visibility: SkillVisibility
    queue_ids: frozenset[str]
    skill_ids: frozenset[str]
    group_ids: frozenset[str]
    #: OmniSupervisorActionType values, in DisplayOrder.
    actions: tuple[str, ...]

    def allows(self, action: SupervisorAction) -> bool:
        return action.value in self.actions

    def shows_skills(self, skill_ids: Iterable[str]) -> bool:
        """AllSkills: every skill the work needs is visible; AnySkill: one of them."""
        needed = set(skill_ids)
        if not needed:
            return False
        if self.skill_visibility is SkillVisibility.ANY_SKILL:
            return bool(needed & self.skill_ids)
        return needed <= self.skill_ids


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """One supervisor's view, resolved for one request."""

    user_id: str
    config: SupervisorConfig
    #: Active users who are members of the configuration's groups.
    agents: frozenset[str]
    #: The configuration's queues that exist.
    queues: Mapping[str, Queue]
    #: The configuration's skills that exist: id -> developer name.
    skills: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        c = self.config
        return {
            "configId": c.id,
            "developerName": c.developer_name,
            "masterLabel": c.label,
            "assignedBy": c.assigned_by,
            "skillVisibility": c.skill_visibility.value,
            "queueIds": sorted(self.queues),
            "skillIds": sorted(self.skills),
            "groupIds": sorted(c.group_ids),
            "agentIds": sorted(self.agents),
            "actions": list(c.actions),
        }


# -- who is a supervisor ----------------------------------------------------------------


def config_for(engine: OmniEngine, user_id: str, profile_id: str) -> SupervisorConfig | None:
    """The configuration assigned to the user, else to their profile, else None."""
    store = engine.store
    cid, source = None, "User"
    by_user = store.find("OmniSupervisorConfigUser", UserId=user_id)
    if by_user:
        cid = _first(by_user)
    else:
        by_profile = store.find("OmniSupervisorConfigProfile", ProfileId=profile_id)
        if by_profile:
            cid, source = _first(by_profile), "Profile"
    rows = store.get_many("OmniSupervisorConfig", [cid]) if cid else []
    if not rows:
        return None
    row = rows[0]

    def children(object_name: str, field: str) -> frozenset[str]:
        found = store.find(object_name, OmniSupervisorConfigId=cid)
        return frozenset(str(r[field]) for r in found if r.get(field))

    actions = sorted(
        store.find("OmniSupervisorConfigAction", OmniSupervisorConfigId=cid),
        key=lambda r: (r.get("DisplayOrder") is None, r.get("DisplayOrder") or 0, str(r["Id"])),
    )
    visibility = row.get("SkillVisibility") or SkillVisibility.ALL_SKILLS.value
    return SupervisorConfig(
        id=str(row["Id"]),
        developer_name=str(row.get("DeveloperName") or ""),
        label=str(row.get("MasterLabel") or ""),
        assigned_by=source,
        skill_visibility=SkillVisibility(str(visibility)),
        queue_ids=children("OmniSupervisorConfigQueue", "QueueId"),
        skill_ids=children("OmniSupervisorConfigSkill", "SkillId"),
        group_ids=children("OmniSupervisorConfigGroup", "GroupId"),
        actions=tuple(
            dict.fromkeys(
                str(a["OmniSupervisorActionType"])
                for a in actions
                if a.get("OmniSupervisorActionType")
            )
        ),
    )


def _first(rows: Sequence[Mapping[str, Any]]) -> str:
    # seed 003: a user (a profile) has one configuration; should rows disagree, the
    # oldest assignment decides, so the answer never depends on row order.
    oldest = min(rows, key=lambda r: (str(r["CreatedDate"]), str(r["Id"])))
    return str(oldest["OmniSupervisorConfigId"])


def scope_for(engine: OmniEngine, principal: Principal) -> Scope:
    """The caller's supervisor view; INSUFFICIENT_ACCESS when they are not a supervisor."""
    if not principal.has(Permission.OMNI_SUPERVISOR):
        raise InsufficientAccessError("Omni Supervisor needs the OmniSupervisor permission")
    config = config_for(engine, principal.user_id, principal.profile_id)
    if config is None:
        raise InsufficientAccessError(
            "no Omni supervisor configuration is assigned to this user or their profile"
        )
    engine.refresh()
    setup = engine.setup
    return Scope(
        user_id=principal.user_id,
        config=config,
        agents=frozenset(
            u for g in config.group_ids for u in setup.group_users.get(g, frozenset())
        ),
        queues={q: setup.queues[q] for q in config.queue_ids if q in setup.queues},
        skills={s: setup.skills[s] for s in config.skill_ids if s in setup.skills},
    )


# -- views --------------------------------------------------------------------------------


def queue_backlog(engine: OmniEngine, scope: Scope) -> list[dict[str, Any]]:
    """Queues Backlog: per visible queue, the work waiting in it (not with an agent)."""
    now = engine.clock.now()
    waiting = _waiting(engine)
    online = set(engine.pool.agents)
    out = []
    for qid, queue in sorted(scope.queues.items(), key=lambda kv: (kv[1].name, kv[0])):
        items = [
            i for i in waiting if i.routing_type is RoutingType.QUEUE_BASED and i.queue_id == qid
        ]
        out.append(
            {
                "queueId": qid,
                "name": queue.name,
                "developerName": queue.developer_name,
                **_numbers(items, now),
                "agentsOnline": len(queue.members & online),
            }
        )
    return out


def skills_backlog(engine: OmniEngine, scope: Scope) -> list[dict[str, Any]]:
    """Skills Backlog: per visible skill, the skills-based work waiting that needs it and
    that the configuration's SkillVisibility shows."""
    now = engine.clock.now()
    shown = [
        i
        for i in _waiting(engine)
        if i.routing_type is RoutingType.SKILLS_BASED
        and scope.config.shows_skills(s.skill_id for s in i.skills)
    ]
    out = []
    for sid, name in sorted(scope.skills.items(), key=lambda kv: (kv[1], kv[0])):
        items = [i for i in shown if any(s.skill_id == sid for s in i.skills)]
        out.append({"skillId": sid, "developerName": name, **_numbers(items, now)})
    return out


def _waiting(engine: OmniEngine) -> list[Pending]:
    # list() of a dict view runs without releasing the GIL: a consistent snapshot.
    return [i for i in list(engine.backlog.items.values()) if i.work_id is None]


def _numbers(items: Sequence[Pending], now: datetime) -> dict[str, Any]:
    oldest = min((i.requested_at for i in items), default=None)
    by_priority = Counter(i.priority for i in items)
    return {
        "waiting": len(items),
        "oldestWaitSeconds": None if oldest is None else seconds_between(oldest, now),
        "byPriority": [
            {"routingPriority": p, "waiting": n} for p, n in sorted(by_priority.items())
        ],
    }


def agents_view(engine: OmniEngine, scope: Scope) -> list[dict[str, Any]]:
    """Agents: each visible agent's presence, time in status, capacity, workload, queues,
    skills and current work with its flag."""
    now = engine.clock.now()
    setup = engine.setup
    ids = sorted(scope.agents)
    users = {str(u["Id"]): u for u in engine.store.get_many("User", ids, ["Id", "Name"])}
    work = _active_work(engine, ids, now)
    out = []
    for uid in ids:
        agent = engine.pool.get(uid)
        status = setup.statuses.get(agent.status_id) if agent else None
        start = agent.session_start if agent else None
        levels = setup.agent_skills.get(uid, {})
        out.append(
            {
                "userId": uid,
                "name": users.get(uid, {}).get("Name"),
                "online": agent is not None,
                "statusId": status.id if status else None,
                "statusName": status.label if status else None,
                "statusApiName": status.developer_name if status else None,
                "timeInStatusSeconds": seconds_between(start, now) if start else None,
                "configuredCapacity": (
                    agent.capacity if agent else float(setup.presence_for(uid).capacity)
                ),
                "workload": agent.workload() if agent else None,
                "queueIds": sorted(q for q, queue in scope.queues.items() if uid in queue.members),
                "skills": [
                    {"skillId": s, "level": levels[s]} for s in sorted(scope.skills) if s in levels
                ],
                "work": [w for w in work if w["userId"] == uid],
            }
        )
    return out


def assigned_work(engine: OmniEngine, scope: Scope) -> list[dict[str, Any]]:
    """Assigned Work: the Assigned and Opened AgentWork of the visible agents, oldest
    assignment first."""
    return _active_work(engine, sorted(scope.agents), engine.clock.now())


def _active_work(
    engine: OmniEngine, user_ids: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    active = (WorkStatus.ASSIGNED.value, WorkStatus.OPENED.value)
    rows = [
        r
        for r in engine.store.find_in("AgentWork", "UserId", user_ids)
        if r.get("Status") in active
    ]
    rows.sort(key=lambda r: (r["AssignedDateTime"] or now, str(r["Id"])))
    flags = work_flags(engine, [str(r["Id"]) for r in rows])
    return [_work_json(r, flags.get(str(r["Id"])), now) for r in rows]


def _work_json(
    row: Mapping[str, Any], flag: dict[str, Any] | None, now: datetime
) -> dict[str, Any]:
    assigned, accepted = row.get("AssignedDateTime"), row.get("AcceptDateTime")
    return {
        "workId": str(row["Id"]),
        "workItemId": str(row["WorkItemId"]),
        "userId": str(row["UserId"]),
        "status": row["Status"],
        "serviceChannelId": row.get("ServiceChannelId"),
        "queueId": row.get("OriginalGroupId"),
        "routingType": row.get("RoutingType"),
        "routingPriority": row.get("RoutingPriority"),
        "assignedDateTime": format_datetime(assigned) if assigned else None,
        "acceptDateTime": format_datetime(accepted) if accepted else None,
        "secondsSinceAssigned": seconds_between(assigned, now) if assigned else None,
        "secondsSinceAccepted": seconds_between(accepted, now) if accepted else None,
        "flag": flag,
    }


def work_flags(engine: OmniEngine, work_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The flag of each piece of work that has one (``wr_work_flag``)."""
    if not work_ids:
        return {}
    t = engine.db.system["work_flag"]
    with engine.db.read() as conn:
        rows = conn.execute(select(t).where(t.c.work_id.in_(list(work_ids)))).all()
    return {
        str(r.work_id): {
            "isFlagged": bool(r.is_flagged),
            "message": r.message,
            "roleUpdatedBy": r.role,
            "updatedBy": r.updated_by,
            "updatedDate": format_datetime(r.updated_at),
        }
        for r in rows
    }


# -- actions ------------------------------------------------------------------------------


def change_agent_queues(
    engine: OmniEngine,
    scope: Scope,
    agent_id: object,
    *,
    add: Sequence[object] = (),
    remove: Sequence[object] = (),
) -> dict[str, Any]:
    """AllAgents.ChangeQueues: add the agent to visible queues, or take them out."""
    _allowed(scope, SupervisorAction.CHANGE_QUEUES)
    uid = _agent(engine, scope, _id(agent_id, "userId"), "userId")
    adds, removes = _queues(engine, scope, add, "add"), _queues(engine, scope, remove, "remove")
    _membership(engine, scope, [(uid, q) for q in adds], [(uid, q) for q in removes])
    after = _scope_after(engine, scope)
    return {
        "userId": uid,
        "queueIds": sorted(q for q, v in after.queues.items() if uid in v.members),
    }


def change_queue_agents(
    engine: OmniEngine,
    scope: Scope,
    queue_id: object,
    *,
    add: Sequence[object] = (),
    remove: Sequence[object] = (),
) -> dict[str, Any]:
    """QueuesBacklog.ManageQueues ("Assign Agents to Queues"): put visible agents in a
    visible queue, or take them out."""
    _allowed(scope, SupervisorAction.MANAGE_QUEUES)
    [qid] = _queues(engine, scope, [queue_id], "queueId")
    adds, removes = _agents(engine, scope, add, "add"), _agents(engine, scope, remove, "remove")
    _membership(engine, scope, [(u, qid) for u in adds], [(u, qid) for u in removes])
    members = _scope_after(engine, scope).queues[qid].members
    return {"queueId": qid, "agentIds": sorted(members & scope.agents)}


def _membership(
    engine: OmniEngine,
    scope: Scope,
    add: Sequence[tuple[str, str]],
    remove: Sequence[tuple[str, str]],
) -> None:
    if not add and not remove:
        raise InvalidFieldError("nothing to change: give add or remove", fields=["add", "remove"])
    if set(add) & set(remove):
        raise InvalidFieldError("the same change is both added and removed", fields=["remove"])
    store = engine.store
    with engine.db.write():
        users = sorted({u for u, _ in (*add, *remove)})
        direct: dict[tuple[str, str], list[str]] = {}
        for m in store.find_in("GroupMember", "UserOrGroupId", users):
            direct.setdefault((str(m["UserOrGroupId"]), str(m["GroupId"])), []).append(str(m["Id"]))
        rows = [{"GroupId": q, "UserOrGroupId": u} for u, q in add if (u, q) not in direct]
        gone = [mid for pair in remove for mid in direct.get(pair, [])]
        if rows:
            store.insert("GroupMember", rows, user_id=scope.user_id)
        if gone:
            store.delete("GroupMember", gone, user_id=scope.user_id)


def change_agent_skills(
    engine: OmniEngine,
    scope: Scope,
    agent_id: object,
    *,
    levels: Sequence[tuple[object, object]] = (),
    remove: Sequence[object] = (),
) -> dict[str, Any]:
    """AllAgents.ChangeSkills: give the agent visible skills at a level (or change the
    level), or take skills away, on the agent's ServiceResourceSkill records."""
    _allowed(scope, SupervisorAction.CHANGE_SKILLS)
    uid = _agent(engine, scope, _id(agent_id, "userId"), "userId")
    wanted: dict[str, float] = {}
    for skill, level in levels:
        [sid] = _skills(engine, scope, [skill], "skillId")
        if isinstance(level, bool) or not isinstance(level, int | float) or not isfinite(level):
            raise InvalidFieldError(f"level is not a number: {level!r}", fields=["level"])
        if not 0 <= level <= MAX_SKILL_LEVEL:
            raise InvalidFieldError(
                f"level {level:g} is outside 0 to {MAX_SKILL_LEVEL:g}", fields=["level"]
            )
        wanted[sid] = round(float(level), 2)
    dropped = _skills(engine, scope, remove, "remove")
    if not wanted and not dropped:
        raise InvalidFieldError("nothing to change: give set or remove", fields=["set", "remove"])
    if wanted.keys() & set(dropped):
        raise InvalidFieldError("the same skill is both set and removed", fields=["remove"])
    store = engine.store
    resources = sorted(
        str(r["Id"])
        for r in store.find("ServiceResource", RelatedRecordId=uid)
        if r.get("IsActive")
    )
    if not resources:
        raise console.OmniError(
            f"agent {uid} has no active service resource; skills belong to service resources"
        )
    with engine.db.write():
        now = engine.clock.now()
        held: dict[str, list[dict[str, Any]]] = {}
        for r in store.find_in("ServiceResourceSkill", "ServiceResourceId", resources):
            held.setdefault(str(r["SkillId"]), []).append(r)
        changes: list[dict[str, object]] = []
        new: list[dict[str, object]] = []
        for sid, level in wanted.items():
            for r in held.get(sid, []):
                start = r.get("EffectiveStartDate")
                change: dict[str, object] = {"Id": r["Id"], "SkillLevel": level}
                change["EffectiveEndDate"] = None
                if not isinstance(start, datetime) or start > now:
                    change["EffectiveStartDate"] = now
                changes.append(change)
            if sid not in held:
                new.append(
                    {
                        "ServiceResourceId": resources[0],
                        "SkillId": sid,
                        "SkillLevel": level,
                        "EffectiveStartDate": now,
                    }
                )
        gone = [str(r["Id"]) for sid in dropped for r in held.get(sid, [])]
        if changes:
            store.update("ServiceResourceSkill", changes, user_id=scope.user_id)
        if new:
            store.insert("ServiceResourceSkill", new, user_id=scope.user_id)
        if gone:
            store.delete("ServiceResourceSkill", gone, user_id=scope.user_id)
    after = engine.setup.agent_skills.get(uid, {})
    return {
        "userId": uid,
        "skills": [{"skillId": s, "level": after[s]} for s in sorted(scope.skills) if s in after],
    }


def set_work_flag(
    engine: OmniEngine, scope: Scope, work_id: object, *, raised: bool, message: str | None
) -> None:
    """Raise or lower the flag of a visible agent's current work, as SUPERVISOR
    (seed 003, workFlagUpdated: roleUpdatedBy is AGENT or SUPERVISOR)."""
    wid = _id(work_id, "workId")
    with engine.db.write():
        rows = engine.store.get_many("AgentWork", [wid], ["Id", "UserId", "Status"])
        if not rows:
            raise NotFoundError(f"no work with id {wid}", fields=["workId"])
        if str(rows[0]["UserId"]) not in scope.agents:
            raise InsufficientAccessError(
                f"work {wid} belongs to an agent outside this supervisor configuration"
            )
        if not WorkStatus(str(rows[0]["Status"])).is_active:
            raise InvalidWorkStatusError(
                f"the flag of work in status {rows[0]['Status']} cannot change"
            )
        console.set_flag(
            engine, scope.user_id, wid, raised=raised, message=message, role="SUPERVISOR"
        )


# -- checks ---------------------------------------------------------------------------------


def _allowed(scope: Scope, action: SupervisorAction) -> None:
    if not scope.config.allows(action):
        raise InsufficientAccessError(
            f"the supervisor configuration {scope.config.developer_name} does not allow "
            f"{action.value}"
        )


def _id(value: object, field: str) -> str:
    try:
        return normalize_id(value)
    except MalformedIdError:
        raise MalformedIdError(f"{field}: malformed id {value!r}", fields=[field]) from None


def _ids(values: Sequence[object], field: str) -> list[str]:
    return list(dict.fromkeys(_id(v, field) for v in values))


def _outside(engine: OmniEngine, object_name: str, rid: str, field: str, what: str) -> Exception:
    """NOT_FOUND for an id that names nothing, INSUFFICIENT_ACCESS for one outside the
    configuration (users, queues and skills are readable by every user anyway)."""
    if not engine.store.get_many(object_name, [rid], ["Id"]):
        return NotFoundError(f"no {what} with id {rid}", fields=[field])
    return InsufficientAccessError(f"{what} {rid} is outside this supervisor configuration")


def _agent(engine: OmniEngine, scope: Scope, uid: str, field: str) -> str:
    if uid not in scope.agents:
        raise _outside(engine, "User", uid, field, "agent")
    return uid


def _agents(engine: OmniEngine, scope: Scope, values: Sequence[object], field: str) -> list[str]:
    return [_agent(engine, scope, u, field) for u in _ids(values, field)]


def _queues(engine: OmniEngine, scope: Scope, values: Sequence[object], field: str) -> list[str]:
    out = _ids(values, field)
    for qid in out:
        if qid not in scope.queues:
            raise _outside(engine, "Group", qid, field, "queue")
    return out


def _skills(engine: OmniEngine, scope: Scope, values: Sequence[object], field: str) -> list[str]:
    out = _ids(values, field)
    for sid in out:
        if sid not in scope.skills:
            raise _outside(engine, "Skill", sid, field, "skill")
    return out


def _scope_after(engine: OmniEngine, scope: Scope) -> Scope:
    """The scope with the queues' members as the setup now has them."""
    engine.refresh()
    queues = engine.setup.queues
    return Scope(
        user_id=scope.user_id,
        config=scope.config,
        agents=scope.agents,
        queues={q: queues[q] for q in scope.queues if q in queues},
        skills=scope.skills,
    )
