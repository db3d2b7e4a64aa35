"""Why routing did what it did with a request or a piece of work.

For a PendingServiceRouting or an AgentWork id: the stored trace of every routing
decision about it (``wr_routing_trace``: the routing model, the tier the agent was
found in, the chosen agent, and the agents passed over first with the reason). For a
request still waiting, also the decision the router would make now, computed by
``Router.choose`` on copies of the agent pool and the item, so nothing changes (the
'all declined' tier clears an item's decliners: only the copy's), and each agent who
could be a candidate with why they are or are not eligible: offline, no channel, not in
queue, missing skill or level, no capacity, declined.

Reads only: the router's memory is brought up to date first (``engine.refresh()``) and
copied, never changed, and no write lock is taken.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workroute.kernel.errors import InsufficientAccessError, NotFoundError
from workroute.kernel.ids import normalize_id
from workroute.routing.agents import Agent, AgentPool
from workroute.routing.backlog import Backlog, Pending
from workroute.routing.model import RoutingModel, RoutingType
from workroute.routing.router import Router, Trace
from workroute.routing.supervisor import Scope
from workroute.store.values import format_datetime

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine

#: How many agents a fresh explanation lists.
AGENT_LIMIT = 200


def explain(engine: OmniEngine, record_id: object, scope: Scope | None) -> dict[str, Any]:
    """The explanation of ``record_id``; ``scope`` limits a supervisor to the work of
    their queues, skills and agents (None: an administrator, who sees everything)."""
    rid = normalize_id(record_id)
    schema = engine.store.schema
    if rid[:3] == schema.get("PendingServiceRouting").key_prefix:
        return _request(engine, rid, scope)
    if rid[:3] == schema.get("AgentWork").key_prefix:
        return _work(engine, rid, scope)
    raise NotFoundError(f"{rid} is neither a PendingServiceRouting nor an AgentWork id")


def _request(engine: OmniEngine, rid: str, scope: Scope | None) -> dict[str, Any]:
    store = engine.store
    rows = store.get_many("PendingServiceRouting", [rid], include_deleted=True)
    decisions = _decisions(engine, "psr_id", rid)
    if not rows and not decisions:
        raise NotFoundError(f"no PendingServiceRouting with id {rid}")
    engine.refresh()
    item = engine.backlog.get(rid)
    row = rows[0] if rows else {}
    if scope is not None and not _request_visible(engine, scope, rid, row, item):
        raise InsufficientAccessError(f"{rid} is outside this supervisor configuration")
    if item is not None:
        state = "Waiting" if item.work_id is None else "WithAgent"
    elif row and not row.get("IsDeleted") and not row.get("IsReadyForRouting"):
        state = "NotReadyForRouting"
    else:
        state = "Removed"  # accepted, withdrawn or deleted
    now = None
    if item is not None and item.work_id is None and item.model is not RoutingModel.EXTERNAL:
        now = choose_now(engine, item)
    return {
        "id": rid,
        "type": "PendingServiceRouting",
        "state": state,
        "workItemId": row.get("WorkItemId"),
        "routingType": row.get("RoutingType"),
        "routingModel": row.get("RoutingModel"),
        "queueId": row.get("GroupId"),
        "workId": item.work_id if item is not None else None,
        "decisions": decisions,
        "now": now,
    }


def _work(engine: OmniEngine, rid: str, scope: Scope | None) -> dict[str, Any]:
    rows = engine.store.get_many("AgentWork", [rid], include_deleted=True)
    decisions = _decisions(engine, "work_id", rid)
    if not rows and not decisions:
        raise NotFoundError(f"no AgentWork with id {rid}")
    row = rows[0] if rows else {}
    if scope is not None and not (
        str(row.get("UserId")) in scope.agents or str(row.get("OriginalGroupId")) in scope.queues
    ):
        raise InsufficientAccessError(f"{rid} is outside this supervisor configuration")
    return {
        "id": rid,
        "type": "AgentWork",
        "status": row.get("Status"),
        "userId": row.get("UserId"),
        "workItemId": row.get("WorkItemId"),
        "pendingServiceRoutingId": row.get("PendingServiceRoutingId"),
        # Work an external router created has no decision of ours.
        "decisions": decisions,
    }


def _decisions(engine: OmniEngine, column: str, rid: str) -> list[dict[str, Any]]:
    t = engine.db.system["routing_trace"]
    with engine.db.read() as conn:
        rows = conn.execute(select(t).where(t.c[column] == rid).order_by(t.c.id)).all()
    out = []
    for r in rows:
        trace: dict[str, Any] = json.loads(r.trace)
        out.append(
            {
                "at": format_datetime(r.at),
                "pendingServiceRoutingId": r.psr_id,
                "workId": r.work_id,
                **trace,
                "considered": _considered(trace),
            }
        )
    return out


def _considered(trace: Mapping[str, Any]) -> list[str]:
    """The agents a decision looked at, in the order it looked at them."""
    seen = [str(p["userId"]) for p in trace.get("passedOver", [])]
    if trace.get("chosenUserId"):
        seen.append(str(trace["chosenUserId"]))
    return list(dict.fromkeys(seen))


# -- the decision now ---------------------------------------------------------------------


def choose_now(engine: OmniEngine, item: Pending) -> dict[str, Any]:
    """What the router would decide for ``item`` now, on copies: nothing changes."""
    pool = _copy_pool(engine.pool)
    probe = replace(item, declined=set(item.declined))
    router = Router(pool, Backlog())
    trace = Trace(model=item.model.value, tier="")
    router.choose(probe, trace)
    found = trace.to_json()
    return {**found, "considered": _considered(found), **_agents(engine, router, pool, item)}


def _copy_pool(live: AgentPool) -> AgentPool:
    pool = AgentPool()
    # list() of a dict view, and a dict update from a plain dict, run without releasing
    # the GIL: each is a consistent snapshot even while a writer is busy.
    for a in list(live.agents.values()):
        copy = Agent(
            user_id=a.user_id,
            status_id=a.status_id,
            channel_ids=a.channel_ids,
            capacity=a.capacity,
            presence_id=a.presence_id,
            idle_since=a.idle_since,
            skills=dict(a.skills),
            queues=a.queues,
        )
        copy.loads.update(a.loads)
        pool.put(copy)
    return pool


def _agents(engine: OmniEngine, router: Router, pool: AgentPool, item: Pending) -> dict[str, Any]:
    """Every agent who could be a candidate (online, a member of the item's queue,
    holding one of its skills, or preferred) and why they can or cannot take it."""
    setup = engine.setup
    users = set(pool.agents)
    if item.routing_type is RoutingType.QUEUE_BASED:
        queue = setup.queues.get(item.queue_id or "")
        users |= queue.members if queue else frozenset()
    else:
        needed = {s.skill_id for s in item.active_skills()}
        users |= {u for u, held in setup.agent_skills.items() if needed & held.keys()}
    if item.preferred_user_id:
        users.add(item.preferred_user_id)
    out = []
    for uid in sorted(users)[:AGENT_LIMIT]:
        reason = router.reason(item, pool.get(uid))
        if reason is None and uid in item.declined:
            reason = "declined"
        out.append({"userId": uid, "eligible": reason is None, "reason": reason})
    return {"agents": out, "agentsLeftOff": max(0, len(users) - AGENT_LIMIT)}


def _request_visible(
    engine: OmniEngine,
    scope: Scope,
    rid: str,
    row: Mapping[str, Any],
    item: Pending | None,
) -> bool:
    """A supervisor sees a request of a visible queue, one whose skills the
    configuration shows, or one routed to a visible agent."""
    queue = item.queue_id if item is not None else row.get("GroupId")
    if queue and str(queue) in scope.queues:
        return True
    if item is not None:
        skills = [s.skill_id for s in item.skills]
    else:
        skills = [
            str(r["SkillId"])
            for r in engine.store.find_in("SkillRequirement", "RelatedRecordId", [rid])
        ]
    if skills and scope.config.shows_skills(skills):
        return True
    works = engine.store.find_in("AgentWork", "PendingServiceRoutingId", [rid])
    return any(str(w.get("UserId")) in scope.agents for w in works)
