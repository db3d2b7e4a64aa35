"""How work enters (and leaves) routing: the save hooks of the Omni-Channel objects.

- A record of a channel's RelatedEntity given an Omni-Channel queue as owner gets a
  queue-based PendingServiceRouting with the queue's routing configuration (seed 003,
  PendingServiceRouting: "Queue-based routing sets a work item's priority from the
  routing configuration"). Moving it out of the queue, or deleting it, withdraws it.
- A client creates a skills-based PendingServiceRouting with SkillRequirements and
  then sets IsReadyForRouting; from then on neither can be edited. Serial goes up on
  every change.
- An external router creates AgentWork through the API for a PendingServiceRouting
  (seed 003, External Routing); capacity is checked unless ShouldSkipCapacityCheck.
- A record given to a queue while an agent holds its work is a transfer
  (routing/transfer.py); on a status-based channel, status and owner changes take and
  free capacity (routing/status_capacity.py).
- AgentWork fields cannot be updated through the API, and only Closed, Declined or
  Unavailable work can be deleted (seed 003, AgentWork usage).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert

from workroute.kernel.errors import (
    DeleteFailedError,
    DuplicateValueError,
    FieldIntegrityError,
    InvalidCrossReferenceKeyError,
    InvalidFieldForInsertUpdateError,
    LimitExceededError,
    RequiredFieldMissingError,
)
from workroute.routing.agents import EPSILON, MAX_OPEN_ITEMS, Load
from workroute.routing.effects import (
    BACKLOG_CHANGED,
    PSR_CHANGED,
    WORK_ASSIGNED,
    load_row,
    work_event,
    workload_event,
)
from workroute.routing.engine import pending_from_row, push_key, push_timer, skill_needs
from workroute.routing.model import CapacityModel, RoutingModel, RoutingType, WorkStatus
from workroute.routing.setup import SETUP_OBJECTS, Channel, RoutingConfig
from workroute.schema.model import ObjectDef
from workroute.store.events import Event
from workroute.store.hooks import Hooks, Operation, SaveContext

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine

PSR = "pendingservicerouting"


def install(engine: OmniEngine, hooks: Hooks) -> None:
    """The save hooks, and the timer that ends after-conversation work."""
    from workroute.routing import acw

    engine.timers.handle(acw.AFTER_CONVERSATION, lambda timer: acw.timed_out(engine, timer))
    psr_hooks = (lambda ctx: _psr_before(engine, ctx), lambda ctx: _psr_after(engine, ctx))
    hooks.before_save("PendingServiceRouting", psr_hooks[0])
    hooks.after_save("PendingServiceRouting", psr_hooks[1])
    engine.psr_hooks = psr_hooks
    hooks.before_save("SkillRequirement", lambda ctx: _requirement_before(engine, ctx))
    hooks.before_save("AgentWork", lambda ctx: _work_before(engine, ctx))
    hooks.after_save("AgentWork", lambda ctx: _work_after(engine, ctx))
    hooks.after_save(
        None, lambda ctx: _any_after(engine, ctx), wants=lambda obj: _any_wants(engine, obj)
    )


# -- PendingServiceRouting -----------------------------------------------------------


def _psr_before(engine: OmniEngine, ctx: SaveContext) -> None:
    if ctx.operation is Operation.INSERT:
        for rec in ctx.new:
            rec["Serial"] = 1
        if not engine.is_internal:
            for rec in ctx.new:
                _check_api_psr(engine, rec)
            _check_new_requests(engine, [str(rec["WorkItemId"]) for rec in ctx.new])
    elif ctx.operation is Operation.UPDATE:
        for rec, old in zip(ctx.new, ctx.old, strict=True):
            assert old is not None
            if not engine.is_internal and old.get("IsReadyForRouting"):
                raise FieldIntegrityError(
                    "a PendingServiceRouting that is ready for routing cannot be edited",
                    fields=["IsReadyForRouting"],
                )
            rec["Serial"] = int(old.get("Serial") or 0) + 1  # type: ignore[call-overload]


def _check_api_psr(engine: OmniEngine, rec: dict[str, Any]) -> None:
    for name in ("ServiceChannelId", "WorkItemId"):
        if not rec.get(name):
            raise RequiredFieldMissingError(f"Required fields are missing: [{name}]", fields=[name])
    routing_type = rec.get("RoutingType") or RoutingType.SKILLS_BASED.value
    if routing_type != RoutingType.SKILLS_BASED.value:
        raise FieldIntegrityError(
            "queue-based routing requests are made by giving the record to a queue; "
            "create PendingServiceRouting with RoutingType SkillsBased",
            fields=["RoutingType"],
        )
    rec["RoutingType"] = routing_type
    rec["RoutingModel"] = rec.get("RoutingModel") or RoutingModel.MOST_AVAILABLE.value
    if rec["RoutingModel"] == RoutingModel.EXTERNAL.value:
        raise FieldIntegrityError(
            "skills-based requests are routed by Omni-Channel (LeastActive or MostAvailable)",
            fields=["RoutingModel"],
        )
    channel = engine.setup.channels.get(str(rec["ServiceChannelId"]))
    if channel is None:
        raise InvalidCrossReferenceKeyError(
            f"no service channel with id {rec['ServiceChannelId']}", fields=["ServiceChannelId"]
        )
    item_obj = engine.store.schema.object_for_id(str(rec["WorkItemId"]))
    if item_obj is None or item_obj.name.lower() != channel.related_entity.lower():
        raise FieldIntegrityError(
            f"the work item must be a {channel.related_entity} for channel "
            f"{channel.developer_name}",
            fields=["WorkItemId"],
        )
    weight, percent = rec.get("CapacityWeight"), rec.get("CapacityPercentage")
    if (weight is None) == (percent is None):
        raise FieldIntegrityError(
            "give exactly one of CapacityWeight and CapacityPercentage",
            fields=["CapacityWeight", "CapacityPercentage"],
        )
    if percent is not None and not 0 <= float(percent) <= 100:
        raise FieldIntegrityError(
            "CapacityPercentage must be 0 to 100", fields=["CapacityPercentage"]
        )
    if weight is not None and float(weight) < 0:
        raise FieldIntegrityError("CapacityWeight cannot be negative", fields=["CapacityWeight"])
    for name in ("PushTimeout", "DropAdditionalSkillsTimeout"):
        value = rec.get(name)
        if value is not None and int(value) < 0:
            raise FieldIntegrityError(f"{name} cannot be negative", fields=[name])


def _check_new_requests(engine: OmniEngine, work_items: list[str]) -> None:
    """One request per work item (in the database and in this save), within limits."""
    taken = {str(r["WorkItemId"]) for r in _psrs_for(engine, work_items)}
    seen: set[str] = set()
    for item in work_items:
        if item in taken or item in seen:
            raise DuplicateValueError(
                f"work item {item} already has a PendingServiceRouting", fields=["WorkItemId"]
            )
        seen.add(item)
    room = _room(engine)
    if room is not None and len(work_items) > room:
        raise LimitExceededError("the org's Omni-Channel limits on routing requests are reached")


def _psrs_for(engine: OmniEngine, work_items: list[str]) -> list[dict[str, Any]]:
    return engine.store.find_in("PendingServiceRouting", "WorkItemId", work_items)


def _room(engine: OmniEngine) -> int | None:
    """How many more requests the org's limits allow (None: no limit)."""
    limits = engine.limits
    rooms = []
    if limits.max_pending_requests is not None:
        rooms.append(limits.max_pending_requests - len(engine.backlog))
    if limits.max_queued_items is not None:
        waiting = sum(1 for _ in engine.backlog.waiting())
        rooms.append(limits.max_queued_items - waiting)
    return max(0, min(rooms)) if rooms else None


def _psr_after(engine: OmniEngine, ctx: SaveContext) -> None:
    engine.ensure(ctx.conn)
    events = []
    kind = {"insert": "created", "update": "updated", "delete": "deleted"}.get(ctx.operation.value)
    ready: list[dict[str, Any]] = []
    for rec in ctx.new:
        psr_id = str(rec["Id"])
        if kind and rec.get("RoutingModel") == RoutingModel.EXTERNAL.value:
            # What an external router follows (seed 003, External Routing); the requests
            # Omni-Channel routes itself are not its business.
            events.append(
                Event(topic=PSR_CHANGED, payload={"type": kind, "sobject": _psr_event(rec)})
            )
        if ctx.operation is Operation.DELETE:
            _withdraw(engine, ctx, psr_id)
        elif (held := engine.backlog.get(psr_id)) is not None:
            held.serial = int(rec.get("Serial") or 0)  # type: ignore[call-overload]
        elif rec.get("IsReadyForRouting"):
            ready.append(rec)
    if kind:
        # Supervisors' backlog views refresh on this; it says nothing about the work.
        events.append(Event(topic=BACKLOG_CHANGED, payload={}))
    if ready:
        needs: dict[str, list[dict[str, Any]]] = defaultdict(list)
        ids = [str(rec["Id"]) for rec in ready]
        for req in engine.store.find_in("SkillRequirement", "RelatedRecordId", ids):
            needs[str(req["RelatedRecordId"])].append(req)
        for rec in ready:
            item = pending_from_row(
                engine, rec, skill_needs(needs[str(rec["Id"])]), engine.backlog.next_seq()
            )
            engine.backlog.add(item)
            if item.drop_timeout and item.drop_groups():  # a new request has no timer yet
                engine.schedule_drop(ctx.conn, item)
        engine.want_routing()
    engine.publish(ctx.conn, events)


def _psr_event(rec: dict[str, Any]) -> dict[str, object]:
    keys = (
        "Id",
        "Serial",
        "QueueId",
        "GroupId",
        "WorkItemId",
        "IsPushed",
        "IsTransfer",
        "ServiceChannelId",
        "LastDeclinedAgentSession",
        "RoutingModel",
        "RoutingType",
        "CreatedDate",
    )
    return {k: rec.get(k) for k in keys}


def _withdraw(engine: OmniEngine, ctx: SaveContext, psr_id: str) -> None:
    """The request was deleted: its assigned work is Canceled (seed 003, AgentWork.Status)."""
    item = engine.forget_item(ctx.conn, psr_id)
    if item is not None and not engine.is_internal:
        cancel_assigned(engine, ctx, item.work_id)


def cancel_assigned(engine: OmniEngine, ctx: SaveContext, work_id: str | None) -> None:
    """Work withdrawn while only assigned is Canceled and frees the agent's capacity."""
    withdraw_assigned(engine, ctx.conn, work_id, user_id=ctx.user_id, now=ctx.now)


def withdraw_assigned(
    engine: OmniEngine, conn: Connection, work_id: str | None, *, user_id: str, now: datetime
) -> None:
    """:func:`cancel_assigned` outside a save of the record (``user_id`` acts)."""
    rows = engine.store.get_many("AgentWork", [work_id]) if work_id else []
    if not rows or rows[0].get("Status") != WorkStatus.ASSIGNED.value:
        return
    wid, holder = str(rows[0]["Id"]), str(rows[0]["UserId"])
    with engine.internal():
        engine.store.update(
            "AgentWork",
            [{"Id": wid, "Status": WorkStatus.CANCELED.value, "CancelDateTime": now}],
            user_id=user_id,
        )
    engine.timers.cancel_keys(conn, [push_key(wid)])
    agent = engine.pool.get(holder)
    previous = agent.used if agent is not None else 0.0
    if agent is not None:
        agent.accumulate(now)
    engine.release(conn, holder, wid)
    if agent is not None:
        engine.publish(conn, [workload_event(agent, previous)])


# -- SkillRequirement --------------------------------------------------------------


def _requirement_before(engine: OmniEngine, ctx: SaveContext) -> None:
    if engine.is_internal:
        return
    related = {str(r.get("RelatedRecordId") or "") for r in ctx.new}
    requests = [r for r in related if r.startswith("0JR")]
    if any(
        psr.get("IsReadyForRouting")
        for psr in engine.store.get_many("PendingServiceRouting", requests)
    ):
        raise FieldIntegrityError(
            "the skill requirements of a PendingServiceRouting that is ready for "
            "routing cannot be changed",
            fields=["RelatedRecordId"],
        )
    for rec in ctx.new:
        if not str(rec.get("RelatedRecordId") or "").startswith("0JR"):
            continue
        level = rec.get("SkillLevel")
        if level is not None and not 0 <= float(level) <= 99.99:  # type: ignore[arg-type]
            raise FieldIntegrityError("SkillLevel must be 0 to 99.99", fields=["SkillLevel"])


# -- AgentWork -------------------------------------------------------------------------


def _work_before(engine: OmniEngine, ctx: SaveContext) -> None:
    if engine.is_internal:
        return
    if ctx.operation is Operation.UPDATE:
        raise InvalidFieldForInsertUpdateError(
            "AgentWork fields cannot be updated; use the Omni-Channel methods"
        )
    if ctx.operation is Operation.DELETE:
        for rec in ctx.new:
            if rec.get("Status") not in ("Closed", "Declined", "Unavailable"):
                raise DeleteFailedError(
                    f"AgentWork {rec['Id']} is {rec.get('Status')}: only Closed, Declined or "
                    "Unavailable work can be deleted"
                )
        return
    if ctx.operation is Operation.INSERT:
        engine.ensure(ctx.conn)
        planned: dict[str, float] = {}
        for rec in ctx.new:
            _check_api_work(engine, ctx, rec, planned)


def _check_api_work(
    engine: OmniEngine, ctx: SaveContext, rec: dict[str, Any], planned: dict[str, float]
) -> None:
    for name in ("UserId", "WorkItemId", "ServiceChannelId"):
        if not rec.get(name):
            raise RequiredFieldMissingError(f"Required fields are missing: [{name}]", fields=[name])
    user_id = str(rec["UserId"])
    channel_id = str(rec["ServiceChannelId"])
    if channel_id not in engine.setup.channels:
        raise InvalidCrossReferenceKeyError(
            f"no service channel with id {channel_id}", fields=["ServiceChannelId"]
        )
    agent = engine.pool.get(user_id)
    if agent is None or channel_id not in agent.channel_ids:
        raise FieldIntegrityError(
            f"user {user_id} is not online in a presence status for this channel",
            fields=["UserId"],
        )
    psr: dict[str, Any] | None = None
    if rec.get("PendingServiceRoutingId"):
        rows = engine.store.get_many("PendingServiceRouting", [str(rec["PendingServiceRoutingId"])])
        if not rows:
            raise InvalidCrossReferenceKeyError(
                "no such PendingServiceRouting", fields=["PendingServiceRoutingId"]
            )
        psr = rows[0]
        if str(psr["WorkItemId"]) != str(rec["WorkItemId"]):
            raise FieldIntegrityError(
                "WorkItemId differs from the PendingServiceRouting's", fields=["WorkItemId"]
            )
        item = engine.backlog.get(str(psr["Id"]))
        if item is not None and item.work_id is not None:
            raise FieldIntegrityError(
                "this PendingServiceRouting is already with an agent",
                fields=["PendingServiceRoutingId"],
            )
    weight = float((psr or rec).get("CapacityWeight") or 0)
    percent = float((psr or rec).get("CapacityPercentage") or 0)
    if not weight and not percent:
        weight = 1.0
    units = agent.units(weight, percent) + planned.get(user_id, 0.0)
    if not rec.get("ShouldSkipCapacityCheck"):
        if agent.used + units > agent.capacity + EPSILON or agent.open_count >= MAX_OPEN_ITEMS:
            raise FieldIntegrityError(
                f"user {user_id} has no capacity for this work "
                "(set ShouldSkipCapacityCheck to go over it)",
                fields=["UserId"],
            )
    planned[user_id] = units
    now = ctx.now
    rec.update(
        Status=WorkStatus.ASSIGNED.value,
        OwnerId=user_id,
        AssignedDateTime=now,
        CapacityWeight=weight or None,
        CapacityPercentage=percent or None,
    )
    if psr is not None:
        requested = psr.get("CustomRequestedDateTime") or psr.get("CreatedDate")
        rec.update(
            RequestDateTime=requested,
            RoutingType=psr.get("RoutingType"),
            RoutingModel=psr.get("RoutingModel"),
            RoutingPriority=psr.get("RoutingPriority"),
            SecondaryRoutingPriority=psr.get("SecondaryRoutingPriority"),
            PushTimeout=psr.get("PushTimeout"),
            OriginalGroupId=psr.get("GroupId"),
            OriginalQueueId=psr.get("GroupId"),
        )
    else:
        rec.setdefault("RequestDateTime", now)
    channel = engine.setup.channels[channel_id]
    rec["CapacityModel"] = channel.capacity_model.value


def _float(value: object) -> float:
    return float(value or 0)  # type: ignore[arg-type]


def _work_after(engine: OmniEngine, ctx: SaveContext) -> None:
    if engine.is_internal or ctx.operation is not Operation.INSERT:
        return
    now = ctx.now
    events: list[Event] = []
    loads = []
    for rec in ctx.new:
        user_id = str(rec["UserId"])
        agent = engine.pool.get(user_id)
        assert agent is not None  # checked before the save
        previous = agent.used
        load = Load(
            work_id=str(rec["Id"]),
            work_item_id=str(rec["WorkItemId"]),
            channel_id=str(rec["ServiceChannelId"]),
            weight=_float(rec.get("CapacityWeight")),
            percent=_float(rec.get("CapacityPercentage")),
            skip_check=bool(rec.get("ShouldSkipCapacityCheck")),
        )
        agent.take(load, now)
        engine.pool.touch(agent)
        psr_id = str(rec["PendingServiceRoutingId"]) if rec.get("PendingServiceRoutingId") else None
        loads.append(load_row(user_id, psr_id, load))
        item = engine.backlog.get(psr_id) if psr_id else None
        if item is not None:
            item.work_id = load.work_id
            with engine.internal():
                engine.store.update(
                    "PendingServiceRouting",
                    [{"Id": psr_id, "IsPushed": True, "IsPushAttempted": True}],
                    user_id=ctx.user_id,
                )
        timeout = int(_float(rec.get("PushTimeout")))
        if timeout > 0:
            engine.timers.schedule_many(ctx.conn, [push_timer(load.work_id, timeout, now)], now=now)
        events.append(work_event(WORK_ASSIGNED, user_id, load.work_id, load.work_item_id))
        events.append(workload_event(agent, previous))
    ctx.conn.execute(insert(engine.db.system["omni_load"]), loads)
    engine.publish(ctx.conn, events)


# -- work records and setup -----------------------------------------------------------


def _any_wants(engine: OmniEngine, obj: ObjectDef) -> bool:
    """The saves :func:`_any_after` acts on: of the routing setup, and (but the
    engine's own) of the records channels route."""
    return obj.key in SETUP_OBJECTS or (  # the set first: is_internal is thread-local
        obj.key in engine.routed_objects() and not engine.is_internal
    )


def _any_after(engine: OmniEngine, ctx: SaveContext) -> None:
    engine.setup_changed(ctx)
    if engine.is_internal or ctx.obj.key not in engine.routed_objects():
        return
    engine.ensure(ctx.conn)
    setup = engine.setup
    channel = setup.channel_for(ctx.obj.name)
    if channel is None:
        return
    entering: list[tuple[dict[str, Any], str]] = []
    leaving: list[str] = []
    moved: list[str] = []  # records given to a queue from wherever they were
    for rec, old in zip(ctx.new, ctx.old, strict=True):
        owner = str(rec.get("OwnerId") or "")
        before = str(old.get("OwnerId") or "") if old else ""
        if ctx.operation is Operation.DELETE:
            leaving.append(str(rec["Id"]))
        elif owner != before or old is None:
            if before in setup.queues:
                leaving.append(str(rec["Id"]))
            if setup.routing_config(owner) is not None:
                entering.append((rec, owner))
                if old is not None:
                    moved.append(str(rec["Id"]))
    if moved:
        _transfer_moved(engine, ctx, entering, leaving, moved)
        # A record has one request: one still waiting (skills-based, say) is withdrawn
        # when the record is given to a queue, which makes the new one.
        waiting = {rid for rid in moved} & {str(rec["Id"]) for rec, _ in entering}
        leaving.extend(sorted(waiting - set(leaving)))
    with engine.internal():
        for psr in _psrs_for(engine, leaving) if leaving else ():
            cancel_request(engine, ctx, str(psr["Id"]))
    if entering:
        _enter_queues(engine, ctx, channel.id, entering)
    if channel.capacity_model is CapacityModel.STATUS_BASED:
        from workroute.routing.status_capacity import after_save

        after_save(engine, ctx, channel)


def _transfer_moved(
    engine: OmniEngine,
    ctx: SaveContext,
    entering: list[tuple[dict[str, Any], str]],
    leaving: list[str],
    moved: list[str],
) -> None:
    """Records given to an Omni-Channel queue while agents hold their work are
    transfers (routing/transfer.py); they leave ``entering`` and ``leaving``."""
    from workroute.routing.direct import held_work
    from workroute.routing.transfer import to_queues

    held = held_work(engine, ctx.conn, moved)
    if not held:
        return
    going = [(rec, q) for rec, q in entering if str(rec["Id"]) in held]
    entering[:] = [(rec, q) for rec, q in entering if str(rec["Id"]) not in held]
    leaving[:] = [rid for rid in leaving if rid not in held]
    to_queues(engine, ctx.conn, going, ctx.user_id, ctx.now)


def cancel_request(engine: OmniEngine, ctx: SaveContext, psr_id: str) -> None:
    """The record left its queue (or was deleted): withdraw its request."""
    item = engine.forget_item(ctx.conn, psr_id)
    cancel_assigned(engine, ctx, item.work_id if item else None)
    engine.store.delete("PendingServiceRouting", [psr_id], user_id=ctx.user_id)


def _enter_queues(
    engine: OmniEngine,
    ctx: SaveContext,
    channel_id: str,
    entering: list[tuple[dict[str, Any], str]],
) -> None:
    """Queue-based requests from the routing configuration; past the org's limits, the
    configuration's overflow assignee gets the record instead."""
    setup = engine.setup
    channel = setup.channels[channel_id]
    room = _room(engine)
    rows: list[dict[str, object]] = []
    overflow: list[dict[str, object]] = []
    for rec, queue_id in entering:
        config = setup.routing_config(queue_id)
        assert config is not None
        if room is not None and len(rows) >= room:
            if config.overflow_assignee_id:
                overflow.append({"Id": rec["Id"], "OwnerId": config.overflow_assignee_id})
                continue
            raise LimitExceededError(
                "the org's Omni-Channel limits are reached and the routing configuration "
                "has no overflow assignee"
            )
        rows.append(queue_request(channel, config, rec, queue_id, ctx.user_id))
    with engine.internal():
        if rows:
            engine.store.insert("PendingServiceRouting", rows, user_id=ctx.user_id)
        if overflow:
            engine.store.update(ctx.obj.name, overflow, user_id=ctx.user_id)


def queue_request(
    channel: Channel, config: RoutingConfig, rec: dict[str, Any], queue_id: str, owner_id: str
) -> dict[str, object]:
    """A queue-based PendingServiceRouting for ``rec`` from the queue's configuration."""
    return {
        "WorkItemId": rec["Id"],
        "ServiceChannelId": channel.id,
        "GroupId": queue_id,
        "QueueId": queue_id,
        "RoutingType": RoutingType.QUEUE_BASED.value,
        "RoutingModel": config.model.value,
        "RoutingPriority": config.priority,
        "SecondaryRoutingPriority": channel.secondary_priority(rec),
        "CapacityWeight": config.capacity_weight,
        "CapacityPercentage": config.capacity_percentage,
        "PushTimeout": config.push_timeout,
        "DropAdditionalSkillsTimeout": config.drop_additional_skills_timeout,
        "IsReadyForRouting": True,
        "OwnerId": owner_id,
    }
