"""Work Omni-Channel gives an agent without a routing decision, and the work an agent
already holds for a record.

Two things create AgentWork outside a routing pass: a transfer to a named agent (seed
003, External Routing, "Agent transfers the work to another agent": no new
PendingServiceRouting, a second AgentWork for the same work item), and, in the
status-based capacity model, a record given to an agent or reopened while it is theirs
(AgentWork.IsOwnerChangeInitiated / IsStatusChangeInitiated: "triggered the direct
assignment of the work item to the agent"). :func:`assign` writes such work the way a
routing pass writes its decisions: the AgentWork, the load row, the agent's memory,
the push timeout and the console events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, select

from workroute.routing.agents import Load
from workroute.routing.effects import (
    WORK_ACCEPTED,
    WORK_ASSIGNED,
    load_row,
    work_event,
    workload_event,
)
from workroute.routing.engine import push_timer
from workroute.routing.model import WorkStatus

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine


@dataclass(frozen=True, slots=True)
class Held:
    """An active AgentWork as ``wr_omni_load`` keeps it: who holds which work item."""

    work_id: str
    user_id: str
    work_item_id: str
    psr_id: str | None
    opened: bool


def held_work(
    engine: OmniEngine, conn: Connection, work_item_ids: list[str]
) -> dict[str, list[Held]]:
    """The active work (Assigned or Opened, online or not) of each work item."""
    t = engine.db.system["omni_load"]
    out: dict[str, list[Held]] = defaultdict(list)
    for start in range(0, len(work_item_ids), 500):
        chunk = work_item_ids[start : start + 500]
        for r in conn.execute(select(t).where(t.c.work_item_id.in_(chunk)).order_by(t.c.work_id)):
            out[str(r.work_item_id)].append(
                Held(
                    work_id=str(r.work_id),
                    user_id=str(r.user_id),
                    work_item_id=str(r.work_item_id),
                    psr_id=str(r.psr_id) if r.psr_id else None,
                    opened=bool(r.opened),
                )
            )
    return out


def assign(
    engine: OmniEngine,
    conn: Connection,
    *,
    user_id: str,
    work_item_id: str,
    channel_id: str,
    weight: float,
    percent: float,
    opened: bool,
    skip_check: bool,
    now: datetime,
    fields: dict[str, object],
) -> str:
    """Give ``work_item_id`` to ``user_id`` now (the caller has checked capacity, or
    ``skip_check`` says it is not to be checked); returns the AgentWork id. The agent
    may be offline: their load row is read back when they log in."""
    from workroute.routing.console import save_presence_stats

    work_id = engine.new_work_id()
    channel = engine.setup.channels.get(channel_id)
    load = Load(
        work_id=work_id,
        work_item_id=work_item_id,
        channel_id=channel_id,
        weight=weight,
        percent=percent,
        opened=opened,
        skip_check=skip_check,
    )
    row: dict[str, object] = {
        "Id": work_id,
        "UserId": user_id,
        "OwnerId": user_id,
        "WorkItemId": work_item_id,
        "ServiceChannelId": channel_id,
        "Status": (WorkStatus.OPENED if opened else WorkStatus.ASSIGNED).value,
        "AssignedDateTime": now,
        "RequestDateTime": now,
        "CapacityWeight": weight or None,
        "CapacityPercentage": percent or None,
        "ShouldSkipCapacityCheck": skip_check,
        "CapacityModel": channel.capacity_model.value if channel else None,
        **fields,
    }
    if opened:
        row.update(AcceptDateTime=now, SpeedToAnswer=0)
    with engine.internal():
        engine.store.insert("AgentWork", [row], user_id=engine.system_user_id())
    conn.execute(insert(engine.db.system["omni_load"]), [load_row(user_id, None, load)])
    events = [work_event(WORK_ASSIGNED, user_id, work_id, work_item_id)]
    if opened:
        events.append(work_event(WORK_ACCEPTED, user_id, work_id, work_item_id))
    agent = engine.pool.get(user_id)
    if agent is not None:
        previous = agent.used
        agent.take(load, now)
        engine.pool.touch(agent)
        events.append(workload_event(agent, previous))
    timeout = int(row.get("PushTimeout") or 0)  # type: ignore[call-overload]
    if not opened and timeout > 0:
        engine.timers.schedule_many(conn, [push_timer(work_id, timeout, now)], now=now)
    engine.publish(conn, events)
    if agent is not None:
        save_presence_stats(engine, conn, [agent], now)
    return work_id


def units_of(work: dict[str, object]) -> tuple[float, float]:
    """(weight, percentage) an AgentWork holds; weight 1 when it names neither."""
    weight = float(work.get("CapacityWeight") or 0)  # type: ignore[arg-type]
    percent = float(work.get("CapacityPercentage") or 0)  # type: ignore[arg-type]
    return (weight or (0.0 if percent else 1.0)), percent
