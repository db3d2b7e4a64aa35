"""Rebuild the router's memory from the database (at start, and after a rollback).

Agents come from ``wr_omni_agent`` (who is online, in which status session) and
``wr_omni_load`` (what holds their capacity); waiting work from the
PendingServiceRouting rows with their SkillRequirements and ``wr_omni_item`` (what
each item remembers: who declined it, how many additional-skill groups are dropped).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from workroute.routing.agents import Agent, Load

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine


def restore(engine: OmniEngine, conn: Connection) -> None:
    from workroute.routing.engine import pending_from_row, skill_needs

    system = engine.db.system
    loads: dict[str, list[dict[str, Any]]] = defaultdict(list)
    work_of_psr: dict[str, tuple[str, str]] = {}  # request -> (work, agent)
    for r in conn.execute(select(system["omni_load"])):
        load = dict(r._mapping)
        loads[str(load["user_id"])].append(load)
        if load["psr_id"]:
            work_of_psr[str(load["psr_id"])] = (str(load["work_id"]), str(load["user_id"]))

    rows = [dict(r._mapping) for r in conn.execute(select(system["omni_agent"]))]
    received = _last_received(engine, conn, [str(row["user_id"]) for row in rows])
    agents: list[tuple[Agent, datetime]] = []
    for row in rows:
        idle = row["idle_since"]
        last = received.get(str(row["user_id"]))
        agent = engine.new_agent(
            str(row["user_id"]),
            str(row["status_id"]),
            str(row["presence_id"]),
            last if last is not None and last > idle else idle,
        )
        for ld in loads.get(agent.user_id, ()):
            agent.loads[str(ld["work_id"])] = Load.from_row(ld)
        agents.append((agent, row["stats_at"]))
    sessions = {
        str(p["Id"]): p
        for p in engine.store.get_many("UserServicePresence", [a.presence_id for a, _ in agents])
    }
    for agent, stats_at in agents:
        p = sessions.get(agent.presence_id)
        if p is not None:
            start = p.get("StatusStartDate")
            agent.session_start = start if isinstance(start, datetime) else None
            agent.stats_at = stats_at
            agent.idle_seconds = _float(p.get("IdleDuration"))
            agent.at_capacity_seconds = _float(p.get("AtCapacityDuration"))
            if agent.session_start is not None:
                span = (stats_at - agent.session_start).total_seconds()
                agent.unit_seconds = _float(p.get("AverageCapacity")) * span
        engine.put_agent(agent)

    psrs = sorted(
        engine.store.find("PendingServiceRouting", IsReadyForRouting=True),
        key=lambda r: (str(r["CreatedDate"]), str(r["Id"])),
    )
    needs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for req in engine.store.find_in(
        "SkillRequirement", "RelatedRecordId", [str(p["Id"]) for p in psrs]
    ):
        needs[str(req["RelatedRecordId"])].append(req)
    remembered = {
        str(r.psr_id): (int(r.dropped_groups), json.loads(r.declined))
        for r in conn.execute(select(system["omni_item"]))
    }
    for seq, psr in enumerate(psrs, start=1):
        item = pending_from_row(engine, psr, skill_needs(needs[str(psr["Id"])]), seq)
        work, _ = work_of_psr.get(item.psr_id, (None, None))
        item.work_id = work
        if item.psr_id in remembered:  # kept by every change (a list started over too)
            dropped, declined = remembered[item.psr_id]
            item.dropped_groups = dropped
            item.declined = set(declined.get("declined", []))
            item.last_declined = declined.get("last")
        engine.backlog.add(item)


def _last_received(engine: OmniEngine, conn: Connection, users: list[str]) -> dict[str, datetime]:
    """When each agent last received work (AgentWork.AssignedDateTime). The routing
    tie-break is who received work longest ago; ``wr_omni_agent.idle_since`` holds it
    only as of the agent's last status change, and every assignment since is an
    AgentWork row."""
    table = engine.store.table(engine.store.schema.get("AgentWork"))
    user, at = table.c.UserId, table.c.AssignedDateTime
    out: dict[str, datetime] = {}
    for start in range(0, len(users), 500):
        stmt = (
            select(user, func.max(at))
            .where(user.in_(users[start : start + 500]), at.is_not(None))
            .group_by(user)
        )
        for uid, last in conn.execute(stmt):
            if isinstance(last, datetime):
                out[str(uid)] = last
    return out


def _float(value: object) -> float:
    return float(value or 0)  # type: ignore[arg-type]
