"""The status-based capacity model: a record's status field, not the agent's tabs, says
when its work holds capacity (seed 003, ServiceChannel.CapacityModel: "work remains
assigned and applied to an agent's capacity until the work is completed or reassigned
to a different agent").

The channel's StatusField and its ServiceChannelStatusField rows (Type Completed,
InProgress or Paused) drive it; status changes arrive as ordinary record saves, so
this runs from the after-save hook (routing/entry.py):

- **Completed**: the record's active work ends: Opened work is Closed (CloseDateTime,
  HandleTime; ActiveTime is tab-based only), Assigned work is Canceled and its
  waiting request withdrawn; the capacity is freed.
- **Paused**: opened work stays the agent's and still counts toward the 100 open
  items, but holds no capacity (Salesforce: reps "can also pause work to be completed
  later"; the limit of 100 "includes work items that are paused or in progress").
  The load row keeps zero units while paused, so a restart agrees.
- **InProgress after Paused**: the work holds its AgentWork's units again. It never
  left the agent, so there is nothing to check.
- **Reopened** (Completed to InProgress) while a user owns the record, or **given to a
  user** (the owner changed to a user, not a queue) while not completed: the work is
  assigned directly to that user (AgentWork.IsStatusChangeInitiated /
  IsOwnerChangeInitiated), and any other agent's active work for the record is
  Transferred. Only records Omni-Channel has routed before take part (Salesforce
  knowledge article 002727382: work never routed by Omni-Channel consumes no
  capacity). With DoesCheckCapOnStatusChange / DoesCheckCapOnOwnerChange the user's
  capacity is checked: online with room, the work is theirs at once; otherwise a
  PendingServiceRouting for them alone (IsPreferredUserRequired, the same flag set)
  waits until they have room and is pushed as usual. Without the check (the seed's
  "override the capacity check and keep the work assigned to the agent") it is
  theirs at once, over capacity if need be (ShouldSkipCapacityCheck). A direct
  assignment is Opened at once: the record is already the user's, there is nothing
  to accept.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from workroute.routing import direct
from workroute.routing.agents import Load
from workroute.routing.console import close_work, save_presence_stats
from workroute.routing.effects import workload_event
from workroute.routing.engine import OmniEngine
from workroute.routing.entry import cancel_assigned, cancel_request
from workroute.routing.model import RoutingModel, RoutingType
from workroute.routing.setup import Channel
from workroute.routing.transfer import transfer_held
from workroute.store.hooks import Operation, SaveContext

COMPLETED, IN_PROGRESS, PAUSED = "Completed", "InProgress", "Paused"
USER_PREFIX = "005"


def kind_of(channel: Channel, value: object) -> str | None:
    """What a status value means on this channel (None: none of the three)."""
    if value is None:
        return None
    v = str(value)
    if v in channel.completed_values:
        return COMPLETED
    if v in channel.paused_values:
        return PAUSED
    if v in channel.in_progress_values:
        return IN_PROGRESS
    return None


def after_save(engine: OmniEngine, ctx: SaveContext, channel: Channel) -> None:
    """Apply the model to one bulk update of the channel's records."""
    field = channel.status_field
    if ctx.operation is not Operation.UPDATE or not field:
        return
    moves: list[tuple[dict[str, Any], str | None, str | None, bool]] = []
    for rec, old in zip(ctx.new, ctx.old, strict=True):
        assert old is not None
        was, now = kind_of(channel, old.get(field)), kind_of(channel, rec.get(field))
        owner = str(rec.get("OwnerId") or "")
        given = owner != str(old.get("OwnerId") or "") and owner.startswith(USER_PREFIX)
        if was != now or given:
            moves.append((rec, was, now, given))
    if not moves:
        return
    conn = ctx.conn
    ids = [str(rec["Id"]) for rec, *_ in moves]
    held = direct.held_work(engine, conn, ids)
    assign: list[tuple[dict[str, Any], str]] = []
    for rec, was, now, given in moves:
        rid = str(rec["Id"])
        if now == COMPLETED and was != COMPLETED:
            _complete(engine, ctx, held.get(rid, []))
        elif given and now != COMPLETED:
            assign.append((rec, "IsOwnerChangeInitiated"))
        elif now == PAUSED and was != PAUSED:
            for h in held.get(rid, []):
                if h.opened:
                    _set_units(engine, conn, h, 0.0, 0.0, ctx.now)
        elif now == IN_PROGRESS and was == PAUSED:
            works = engine.store.get_many("AgentWork", [h.work_id for h in held.get(rid, [])])
            for h, work in zip(held.get(rid, []), works, strict=True):
                if h.opened:
                    _set_units(engine, conn, h, *direct.units_of(work), ctx.now)
        elif now == IN_PROGRESS and was == COMPLETED and not held.get(rid):
            if str(rec.get("OwnerId") or "").startswith(USER_PREFIX):
                assign.append((rec, "IsStatusChangeInitiated"))
    if assign:
        _assign(engine, ctx, channel, assign, held)


def _complete(engine: OmniEngine, ctx: SaveContext, held: list[direct.Held]) -> None:
    for h in held:
        if h.opened:
            [work] = engine.store.get_many("AgentWork", [h.work_id])
            close_work(engine, ctx.conn, work, h.user_id, ctx.now, {})
        elif h.psr_id:
            with engine.internal():
                cancel_request(engine, ctx, h.psr_id)
        else:  # offered without a request (a transfer to an agent): withdrawn
            cancel_assigned(engine, ctx, h.work_id)


def _set_units(
    engine: OmniEngine,
    conn: Connection,
    h: direct.Held,
    weight: float,
    percent: float,
    now: datetime,
) -> None:
    t = engine.db.system["omni_load"]
    conn.execute(update(t).where(t.c.work_id == h.work_id).values(weight=weight, percent=percent))
    agent = engine.pool.get(h.user_id)
    if agent is None or h.work_id not in agent.loads:
        return
    previous = agent.used
    agent.accumulate(now)
    old = agent.loads[h.work_id]
    agent.loads[h.work_id] = Load(
        work_id=old.work_id,
        work_item_id=old.work_item_id,
        channel_id=old.channel_id,
        weight=weight,
        percent=percent,
        opened=old.opened,
        skip_check=old.skip_check,
    )
    engine.pool.touch(agent)
    engine.want_routing()
    engine.publish(conn, [workload_event(agent, previous)])
    save_presence_stats(engine, conn, [agent], now)


def _assign(
    engine: OmniEngine,
    ctx: SaveContext,
    channel: Channel,
    wanted: list[tuple[dict[str, Any], str]],
    held: dict[str, list[direct.Held]],
) -> None:
    """Direct assignments to the records' owners (see the module docstring)."""
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ids = [str(rec["Id"]) for rec, _ in wanted]
    for w in engine.store.find_in("AgentWork", "WorkItemId", ids):
        history[str(w["WorkItemId"])].append(w)
    requests: list[dict[str, object]] = []
    for rec, flag in wanted:
        rid, owner = str(rec["Id"]), str(rec["OwnerId"])
        past = history.get(rid)
        if not past or owner not in engine.setup.active_users:
            continue  # never routed by Omni-Channel: holds no capacity
        mine = [h for h in held.get(rid, []) if h.user_id == owner]
        if mine:
            continue
        others = held.get(rid, [])
        if others:
            transfer_held(engine, ctx.conn, others, ctx.now, {rid: {"userId": owner}})
        latest = max(past, key=lambda w: (str(w.get("CreatedDate")), str(w["Id"])))
        weight, percent = direct.units_of(latest)
        check = (
            channel.check_capacity_on_owner_change
            if flag == "IsOwnerChangeInitiated"
            else channel.check_capacity_on_status_change
        )
        agent = engine.pool.get(owner)
        room = agent is not None and channel.id in agent.channel_ids
        if not check or (room and agent is not None and agent.fits(weight, percent)):
            direct.assign(
                engine,
                ctx.conn,
                user_id=owner,
                work_item_id=rid,
                channel_id=channel.id,
                weight=weight,
                percent=percent,
                opened=True,
                skip_check=not check,
                now=ctx.now,
                fields={
                    flag: True,
                    "RoutingType": latest.get("RoutingType"),
                    "RoutingModel": latest.get("RoutingModel"),
                    "RoutingPriority": latest.get("RoutingPriority"),
                    "OriginalGroupId": latest.get("OriginalGroupId"),
                    "OriginalQueueId": latest.get("OriginalQueueId"),
                },
            )
            continue
        requests.append(
            {
                "WorkItemId": rid,
                "ServiceChannelId": channel.id,
                "RoutingType": RoutingType.SKILLS_BASED.value,
                "RoutingModel": RoutingModel.MOST_AVAILABLE.value,
                "RoutingPriority": latest.get("RoutingPriority"),
                "CapacityWeight": weight or None,
                "CapacityPercentage": percent or None,
                "PreferredUserId": owner,
                "IsPreferredUserRequired": True,
                flag: True,
                "IsReadyForRouting": True,
                "OwnerId": ctx.user_id,
            }
        )
    if requests:
        with engine.internal():
            engine.store.insert("PendingServiceRouting", requests, user_id=ctx.user_id)
