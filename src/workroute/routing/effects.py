"""Making routing decisions durable, a pass at a time, in bulk.

One transaction per pass writes, for every decision: the AgentWork (Assigned, or
Opened at once when the agent's presence configuration auto-accepts), the
PendingServiceRouting update (IsPushed), AgentWorkSkill rows for skills-based work,
the agent's load row, the push-timeout timer, the decision trace and the console
events (work assigned, workload changed); then each agent's presence statistics.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from workroute.routing.agents import Agent, Load
from workroute.routing.model import RoutingType, WorkStatus
from workroute.routing.router import STARTED_OVER, Decision
from workroute.store.events import Event
from workroute.store.timers import TimerSpec

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine

# Console events (seed 003, "Events for Omni-Channel"); topics are "omni/<name>".
LOGIN_SUCCESS = "omni/loginSuccess"
STATUS_CHANGED = "omni/statusChanged"
LOGOUT = "omni/logout"
WORK_ASSIGNED = "omni/workAssigned"
WORK_ACCEPTED = "omni/workAccepted"
WORK_DECLINED = "omni/workDeclined"
WORK_CLOSED = "omni/workClosed"
WORK_FLAG_UPDATED = "omni/workFlagUpdated"
WORKLOAD_CHANGED = "omni/workloadChanged"
#: Changes of PendingServiceRouting records, for external routers.
PSR_CHANGED = "omni/PendingServiceRouting"
#: Some routing request was created, changed or removed (no payload: for supervisors).
BACKLOG_CHANGED = "omni/backlogChanged"


def work_event(topic: str, user_id: str, work_id: str, work_item_id: str) -> Event:
    return Event(
        topic=topic, user_id=user_id, payload={"workId": work_id, "workItemId": work_item_id}
    )


def workload_event(agent: Agent, previous: float) -> Event:
    return Event(
        topic=WORKLOAD_CHANGED,
        user_id=agent.user_id,
        payload={
            "configuredCapacity": agent.capacity,
            "previousWorkload": round(previous, 6),
            "newWorkload": agent.workload(),
        },
    )


def write_assignments(
    engine: OmniEngine, conn: Connection, decisions: Sequence[Decision], now: datetime
) -> None:
    from workroute.routing.console import accept_effects, save_presence_stats
    from workroute.routing.engine import push_timer

    setup = engine.setup
    store = engine.store
    works: list[dict[str, object]] = []
    skills: list[dict[str, object]] = []
    loads: list[dict[str, object]] = []
    traces: list[dict[str, object]] = []
    events: list[Event] = []
    auto: list[tuple[str, str, str, str | None]] = []
    timers: list[TimerSpec] = []
    before: dict[str, float] = {}
    for d in decisions:
        item, agent = d.item, d.agent
        work_id = item.work_id
        assert work_id is not None
        load = agent.loads[work_id]
        before.setdefault(agent.user_id, agent.used - agent.units(load.weight, load.percent))
        channel = setup.channels.get(item.channel_id)
        # Work the agent was given directly (they own the record already) opens at once.
        opened = setup.presence_for(agent.user_id).auto_accept or item.initiated is not None
        row: dict[str, object] = {
            "Id": work_id,
            "UserId": agent.user_id,
            "OwnerId": agent.user_id,
            "WorkItemId": item.work_item_id,
            "ServiceChannelId": item.channel_id,
            "PendingServiceRoutingId": item.psr_id,
            "Status": (WorkStatus.OPENED if opened else WorkStatus.ASSIGNED).value,
            "RoutingType": item.routing_type.value,
            "RoutingModel": item.model.value,
            "RoutingPriority": item.priority,
            "SecondaryRoutingPriority": item.secondary,
            "CapacityWeight": item.weight if item.weight else None,
            "CapacityPercentage": item.percent if item.percent else None,
            "PushTimeout": item.push_timeout,
            "RequestDateTime": item.requested_at,
            "AssignedDateTime": now,
            "OriginalGroupId": item.queue_id,
            "OriginalQueueId": item.queue_id,
            "PreferredUserId": item.preferred_user_id,
            "IsPreferredUserRequired": item.preferred_required,
            "CapacityModel": channel.capacity_model.value if channel else None,
        }
        if item.initiated:
            row[item.initiated] = True
        if opened:
            row["AcceptDateTime"] = now
            row["SpeedToAnswer"] = seconds_between(item.requested_at, now)
            load.opened = True
        works.append(row)
        if item.routing_type is RoutingType.SKILLS_BASED:
            dropped = item.dropped_priorities()
            skills.extend(
                {
                    "AgentWorkId": work_id,
                    "SkillId": s.skill_id,
                    "SkillLevel": s.level,
                    "IsAdditionalSkill": s.additional,
                    "SkillPriority": s.priority,
                    "WasDropped": s.additional and s.priority in dropped,
                }
                for s in item.skills
            )
        loads.append(load_row(agent.user_id, item.psr_id, load))
        traces.append(
            {
                "psr_id": item.psr_id,
                "work_id": work_id,
                "at": now,
                "trace": json.dumps(d.trace.to_json()),
            }
        )
        events.append(work_event(WORK_ASSIGNED, agent.user_id, work_id, item.work_item_id))
        if opened:
            auto.append((work_id, agent.user_id, item.work_item_id, item.psr_id))
        elif item.push_timeout > 0:
            timers.append(push_timer(work_id, item.push_timeout, now))
    admin = engine.system_user_id()
    with engine.internal():
        store.insert("AgentWork", works, user_id=admin)
        if skills:
            store.insert("AgentWorkSkill", skills, user_id=admin)
        accepted = {a[0] for a in auto}
        pushed_items = [d.item for d in decisions if d.item.work_id not in accepted]
        if pushed_items:
            # What the request's own hooks would do, done here: Serial goes up (the
            # engine holds it) and supervisors' backlog views hear of the change. Saves
            # no other hook wants then skip reading the 500 rows of a pass back.
            psr = store.schema.get("PendingServiceRouting")
            standing_in = not store.hooks.has_any(psr, besides=engine.psr_hooks)
            if standing_in:
                events.append(Event(topic=BACKLOG_CHANGED, payload={}))
            store.update(
                "PendingServiceRouting",
                [
                    {
                        "Id": item.psr_id,
                        "IsPushed": True,
                        "IsPushAttempted": True,
                        "Serial": item.serial + 1,
                    }
                    for item in pushed_items
                ],
                user_id=admin,
                standing_in_for=engine.psr_hooks,
            )
            if standing_in:  # else the hooks ran and said what was stored
                for item in pushed_items:
                    item.serial += 1
    for d in decisions:
        if d.trace.tier in STARTED_OVER:
            engine.item_state(conn, d.item)  # its decline list started over
    db = engine.db
    db.insert_rows(conn, db.system["omni_load"], loads)
    db.insert_rows(conn, db.system["routing_trace"], traces, ("psr_id", "work_id", "at", "trace"))
    engine.timers.schedule_many(conn, timers, now=now)
    agents = _unique(d.agent for d in decisions)
    events.extend(workload_event(a, before[a.user_id]) for a in agents)
    engine.publish(conn, events)
    for work_id, user_id, work_item_id, psr_id in auto:
        accept_effects(engine, conn, work_id, user_id, work_item_id, psr_id, now)
    save_presence_stats(engine, conn, agents, now)


def load_row(user_id: str, psr_id: str | None, load: Load) -> dict[str, object]:
    return {
        "work_id": load.work_id,
        "user_id": user_id,
        "channel_id": load.channel_id,
        "work_item_id": load.work_item_id,
        "psr_id": psr_id,
        "weight": load.weight,
        "percent": load.percent,
        "opened": load.opened,
        "skip_check": load.skip_check,
    }


def _unique(agents: Iterable[Agent]) -> list[Agent]:
    seen: dict[str, Agent] = {}
    for a in agents:
        seen.setdefault(a.user_id, a)
    return list(seen.values())


def seconds_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))
