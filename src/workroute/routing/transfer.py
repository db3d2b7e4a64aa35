"""Transfers: work an agent holds goes to another agent, a queue or skills (seed 003,
AgentWork.Status Transferred: "The item was transferred from an agent to another
agent, queue, or skill").

- **To a queue**: the work record's owner becomes an Omni-Channel queue, through
  ``transferAgentWork`` with a ``queueId`` or through any save that changes the owner.
  The AgentWork the record has (Assigned or Opened) becomes Transferred at once and
  frees its capacity, a request still waiting for the record is withdrawn, and a new
  PendingServiceRouting with IsTransfer = true is made from the queue's routing
  configuration. For an ExternalRouting queue that is the seed's "Agent transfers the
  work to an external routing queue": created with IsTransfer true and IsPushed false,
  published to the external router, which routes it again.
- **To skills**: likewise, with a new skills-based request for the given skills.
- **To an agent** (seed 003, "Agent transfers the work to another agent"): no new
  request. A second AgentWork is Assigned to that agent while the first stays
  Opened; when the second is accepted, the first becomes Transferred, frees its
  capacity, and the record's owner is the new agent. If the new agent declines, lets
  the push time out or goes offline, the work stays with the first agent. The new
  agent must be online in a status for the work's channel with room for it now, as
  Salesforce offers only such agents as transfer targets; the work must be opened.

Age and priority of a transferred item. Salesforce reroutes work using the time it is
rerouted unless the request's CustomRequestedDateTime keeps the time of the initial
request (seed 003, PendingServiceRouting.CustomRequestedDateTime). So a transfer's
request is as old as the transfer, except that it keeps the CustomRequestedDateTime
of a request still waiting for the record (work transferred before it was accepted);
the request of accepted work was deleted at the accept. Its priority is the
destination's: the routing configuration of the queue, or, for skills and agents, the
RoutingPriority the work had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from workroute.kernel.errors import (
    FieldIntegrityError,
    InvalidFieldError,
    NotFoundError,
)
from workroute.routing import direct
from workroute.routing.acw import acw_key
from workroute.routing.console import (
    OmniError,
    give_record,
    own_work,
    parse_id,
    save_presence_stats,
)
from workroute.routing.effects import workload_event
from workroute.routing.engine import push_key
from workroute.routing.entry import queue_request
from workroute.routing.model import (
    InvalidWorkStatusError,
    RoutingModel,
    RoutingType,
    WorkStatus,
    transition,
)
from workroute.schema.model import ObjectDef
from workroute.store.events import Event

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine

#: Console event: the agent's work was transferred (not a seed event; Salesforce shows
#: it as the work leaving the agent's list).
WORK_TRANSFERRED = "omni/workTransferred"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Where the work goes: exactly one of a queue, a user, or skills."""

    queue_id: str | None = None
    user_id: str | None = None
    skill_ids: tuple[str, ...] | None = None


def transfer(engine: OmniEngine, user_id: str, work_id: object, target: Target) -> None:
    """``transferAgentWork``: the agent hands their own work on. Everything is checked
    before anything is written."""
    given = [t for t in (target.queue_id, target.user_id, target.skill_ids) if t is not None]
    if len(given) != 1:
        raise InvalidFieldError(
            "give exactly one of queueId, userId and skillIds",
            fields=["queueId", "userId", "skillIds"],
        )
    with engine.db.write() as conn:
        engine.ensure(conn)
        work = own_work(engine, user_id, work_id)
        transition(str(work["Status"]), WorkStatus.TRANSFERRED)
        item_id = str(work["WorkItemId"])
        obj = engine.store.schema.object_for_id(item_id)
        if obj is None:
            raise NotFoundError(f"no work item with id {item_id}", fields=["workId"])
        now = engine.clock.now()
        if target.queue_id is not None:
            queue_id = _omni_queue(engine, target.queue_id, obj)
            record = engine.store.get_many(obj.name, [item_id])[0]
            with engine.internal():
                engine.store.update(
                    obj.name, [{"Id": item_id, "OwnerId": queue_id}], user_id=user_id
                )
            record["OwnerId"] = queue_id
            to_queues(engine, conn, [(record, queue_id)], user_id, now)
        elif target.user_id is not None:
            _to_agent(engine, conn, work, user_id, target.user_id, now)
        else:
            assert target.skill_ids is not None
            skills = _skills(engine, target.skill_ids)
            _to_skills(engine, conn, work, user_id, skills, now)


# -- queues -------------------------------------------------------------------------


def _omni_queue(engine: OmniEngine, queue_id: str, obj: ObjectDef) -> str:
    qid = parse_id(queue_id, "queueId")
    setup = engine.setup
    queue = setup.queues.get(qid)
    if queue is None:
        raise NotFoundError(f"no queue with id {queue_id}", fields=["queueId"])
    if obj.name.lower() not in {t.lower() for t in queue.object_types}:
        raise FieldIntegrityError(
            f"queue {queue.developer_name} cannot own {obj.name} records", fields=["queueId"]
        )
    if setup.routing_config(qid) is None:
        raise FieldIntegrityError(
            f"queue {queue.developer_name} has no routing configuration: it is not an "
            "Omni-Channel queue",
            fields=["queueId"],
        )
    return qid


def to_queues(
    engine: OmniEngine,
    conn: Connection,
    records: Sequence[tuple[dict[str, Any], str]],
    user_id: str,
    now: datetime,
) -> None:
    """Records now owned by an Omni-Channel queue whose work is with agents: that work
    is Transferred and each record gets a transfer request from its queue."""
    setup = engine.setup
    ids = [str(rec["Id"]) for rec, _ in records]
    dest: dict[str, dict[str, object]] = {str(r["Id"]): {"queueId": q} for r, q in records}
    kept = _end_held(engine, conn, ids, now, dest)
    rows = []
    for rec, queue_id in records:
        config = setup.routing_config(queue_id)
        obj = engine.store.schema.object_for_id(str(rec["Id"]))
        channel = setup.channel_for(obj.name) if obj else None
        assert config is not None and channel is not None
        row = queue_request(channel, config, rec, queue_id, user_id)
        row["IsTransfer"] = True
        if kept.get(str(rec["Id"])) is not None:
            row["CustomRequestedDateTime"] = kept[str(rec["Id"])]
        rows.append(row)
    with engine.internal():
        engine.store.insert("PendingServiceRouting", rows, user_id=user_id)


# -- skills ---------------------------------------------------------------------------


def _skills(engine: OmniEngine, skill_ids: Sequence[object]) -> list[str]:
    if not skill_ids:
        raise InvalidFieldError("skillIds: give at least one skill", fields=["skillIds"])
    out: list[str] = []
    for value in skill_ids:
        sid = parse_id(value, "skillIds")
        if sid not in engine.setup.skills:
            raise NotFoundError(f"no skill with id {value}", fields=["skillIds"])
        if sid in out:
            raise InvalidFieldError(f"skillIds: {value} is given twice", fields=["skillIds"])
        out.append(sid)
    return out


def _to_skills(
    engine: OmniEngine,
    conn: Connection,
    work: dict[str, Any],
    user_id: str,
    skills: list[str],
    now: datetime,
) -> None:
    item_id = str(work["WorkItemId"])
    kept = _end_held(engine, conn, [item_id], now, {item_id: {"skillIds": skills}})
    model = str(work.get("RoutingModel") or RoutingModel.MOST_AVAILABLE.value)
    if model == RoutingModel.EXTERNAL.value:
        model = RoutingModel.MOST_AVAILABLE.value  # skills-based work is Omni-routed
    weight, percent = direct.units_of(work)
    request = {
        "WorkItemId": item_id,
        "ServiceChannelId": work["ServiceChannelId"],
        "RoutingType": RoutingType.SKILLS_BASED.value,
        "RoutingModel": model,
        "RoutingPriority": work.get("RoutingPriority"),
        "CapacityWeight": weight or None,
        "CapacityPercentage": percent or None,
        "PushTimeout": work.get("PushTimeout"),
        "CustomRequestedDateTime": kept.get(item_id),
        "IsTransfer": True,
        "IsReadyForRouting": False,
        "OwnerId": user_id,
    }
    with engine.internal():
        [psr_id] = engine.store.insert("PendingServiceRouting", [request], user_id=user_id)
        engine.store.insert(
            "SkillRequirement",
            [{"RelatedRecordId": psr_id, "SkillId": s, "SkillLevel": 0} for s in skills],
            user_id=user_id,
        )
        # Ready once its skills exist, as a client does it (seed 003, skills-based).
        engine.store.update(
            "PendingServiceRouting", [{"Id": psr_id, "IsReadyForRouting": True}], user_id=user_id
        )


# -- agents ---------------------------------------------------------------------------


def _to_agent(
    engine: OmniEngine,
    conn: Connection,
    work: dict[str, Any],
    user_id: str,
    target: str,
    now: datetime,
) -> None:
    if work.get("Status") != WorkStatus.OPENED.value:
        raise InvalidWorkStatusError("accept the work before transferring it to an agent")
    uid = parse_id(target, "userId")
    setup = engine.setup
    if uid not in setup.active_users:
        raise NotFoundError(f"no active user with id {target}", fields=["userId"])
    if uid == user_id:
        raise OmniError("the work is already yours")
    channel_id = str(work["ServiceChannelId"])
    agent = engine.pool.get(uid)
    if agent is None or channel_id not in agent.channel_ids:
        raise OmniError(f"user {uid} is not online in a presence status for this channel")
    weight, percent = direct.units_of(work)
    if not agent.fits(weight, percent):
        raise OmniError(f"user {uid} has no capacity for this work")
    item_id = str(work["WorkItemId"])
    if len(direct.held_work(engine, conn, [item_id]).get(item_id, [])) > 1:
        raise OmniError("a transfer of this work is waiting for an agent to accept it")
    auto = setup.presence_for(uid).auto_accept
    new_id = direct.assign(
        engine,
        conn,
        user_id=uid,
        work_item_id=item_id,
        channel_id=channel_id,
        weight=weight,
        percent=percent,
        opened=auto,
        skip_check=False,
        now=now,
        fields={
            "RoutingType": work.get("RoutingType"),
            "RoutingModel": work.get("RoutingModel"),
            "RoutingPriority": work.get("RoutingPriority"),
            "SecondaryRoutingPriority": work.get("SecondaryRoutingPriority"),
            "PushTimeout": work.get("PushTimeout"),
            "OriginalGroupId": work.get("OriginalGroupId"),
            "OriginalQueueId": work.get("OriginalQueueId"),
            "PreferredUserId": uid,
            "IsPreferredUserRequired": True,
        },
    )
    if auto:
        give_record(engine, item_id, uid)
        complete_agent_transfer(engine, conn, new_id, uid, item_id, now)


def complete_agent_transfer(
    engine: OmniEngine,
    conn: Connection,
    work_id: str,
    user_id: str,
    work_item_id: str,
    now: datetime,
) -> None:
    """``work_id`` (given without a request) was accepted: the item's other active
    work, the work of the agent who transferred it, is Transferred."""
    others = [
        h
        for h in direct.held_work(engine, conn, [work_item_id]).get(work_item_id, [])
        if h.work_id != work_id
    ]
    if others:
        transfer_held(engine, conn, others, now, {work_item_id: {"userId": user_id}})


# -- ending the work an item has --------------------------------------------------------


def _end_held(
    engine: OmniEngine,
    conn: Connection,
    work_item_ids: list[str],
    now: datetime,
    to: dict[str, dict[str, object]],
) -> dict[str, object]:
    """Transfer the items' active work and withdraw their waiting requests; returns
    each item's CustomRequestedDateTime worth keeping (None if none)."""
    held = direct.held_work(engine, conn, work_item_ids)
    transfer_held(engine, conn, [h for hs in held.values() for h in hs], now, to)
    kept: dict[str, object] = {}
    psrs = engine.store.find_in("PendingServiceRouting", "WorkItemId", work_item_ids)
    for psr in psrs:
        kept[str(psr["WorkItemId"])] = psr.get("CustomRequestedDateTime")
        engine.forget_item(conn, str(psr["Id"]))
    if psrs:
        with engine.internal():
            engine.store.delete(
                "PendingServiceRouting",
                [str(p["Id"]) for p in psrs],
                user_id=engine.system_user_id(),
            )
    return kept


def transfer_held(
    engine: OmniEngine,
    conn: Connection,
    held: Sequence[direct.Held],
    now: datetime,
    to: dict[str, dict[str, object]],
) -> None:
    """Held work becomes Transferred; ``to`` says where, per work item (for the event)."""
    if not held:
        return
    works = {str(w["Id"]): w for w in engine.store.get_many("AgentWork", [h.work_id for h in held])}
    for h in held:
        transition(str(works[h.work_id]["Status"]), WorkStatus.TRANSFERRED)
    with engine.internal():
        engine.store.update(
            "AgentWork",
            [{"Id": h.work_id, "Status": WorkStatus.TRANSFERRED.value} for h in held],
            user_id=engine.system_user_id(),
        )
    engine.timers.cancel_keys(
        conn, [k for h in held for k in (push_key(h.work_id), acw_key(h.work_id))]
    )
    events: list[Event] = []
    agents = []
    for h in held:
        agent = engine.pool.get(h.user_id)
        previous = agent.used if agent else 0.0
        if agent is not None:
            agent.accumulate(now)
        engine.release(conn, h.user_id, h.work_id)
        payload = {"workId": h.work_id, "workItemId": h.work_item_id, **to.get(h.work_item_id, {})}
        events.append(Event(topic=WORK_TRANSFERRED, user_id=h.user_id, payload=payload))
        if agent is not None:
            events.append(workload_event(agent, previous))
            agents.append(agent)
    engine.publish(conn, events)
    save_presence_stats(engine, conn, agents, now)
