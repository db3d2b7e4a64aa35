"""What an agent does: presence (login, status, logout) and work (accept, decline,
close, flags), as the console toolkit methods of seed 003 describe them.

Each operation is one transaction: the records it changes (AgentWork,
PendingServiceRouting, UserServicePresence, the work record's owner), the router's
memory, the console events. An agent can act only on their own work; anything else
is refused before anything changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert

from workroute.kernel.errors import InvalidFieldError, NotFoundError, WorkrouteError
from workroute.kernel.ids import looks_like_id, normalize_id
from workroute.routing.agents import Agent, Load
from workroute.routing.effects import (
    LOGIN_SUCCESS,
    LOGOUT,
    STATUS_CHANGED,
    WORK_ACCEPTED,
    WORK_CLOSED,
    WORK_DECLINED,
    WORK_FLAG_UPDATED,
    seconds_between,
    work_event,
    workload_event,
)
from workroute.routing.engine import load_rows, push_key
from workroute.routing.model import CapacityModel, WorkStatus, transition
from workroute.store.events import Event

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine


class OmniError(WorkrouteError):
    """the Omni-Channel request cannot be done"""

    code = "OMNI_ERROR"
    http_status = 400


class NotLoggedInError(OmniError):
    """the agent is not logged in to Omni-Channel"""

    code = "NOT_LOGGED_IN"


class StatusNotAllowedError(OmniError):
    """the agent has no access to this presence status through their profile or
    permission sets"""

    code = "PRESENCE_STATUS_NOT_ALLOWED"
    http_status = 403


@dataclass(frozen=True, slots=True)
class StatusInfo:
    status_id: str
    name: str
    api_name: str
    channels: list[dict[str, str]]


# -- presence ---------------------------------------------------------------------


def login(engine: OmniEngine, user_id: str, status_id: str) -> StatusInfo:
    return set_status(engine, user_id, status_id, reason="OmniLoginStatusChange")


def set_status(
    engine: OmniEngine, user_id: str, status_id: str, *, reason: str = "OmniToolkitStatusChange"
) -> StatusInfo:
    with engine.db.write() as conn:
        engine.ensure(conn)
        return change_status(engine, conn, user_id, status_id, reason)


def change_status(
    engine: OmniEngine,
    conn: Connection,
    user_id: str,
    status_id: str,
    reason: str,
    *,
    check_access: bool = True,
) -> StatusInfo:
    """Put the agent in a status (logging them in if they were offline). An agent's
    own choice needs access to the status (routing/setup.py); ``check_access=False``
    is for the statuses a presence configuration moves the agent to itself."""
    status = engine.setup.statuses.get(parse_id(status_id, "statusId"))
    if status is None:
        raise NotFoundError(f"no presence status with id {status_id}", fields=["statusId"])
    if user_id not in engine.setup.active_users:
        raise OmniError("inactive users cannot log in to Omni-Channel")
    if check_access and not engine.setup.may_use_status(user_id, status.id):
        raise StatusNotAllowedError(
            f"the agent has no access to presence status {status.developer_name or status.id}"
            " (grant it to their profile or a permission set of theirs: SetupEntityAccess)",
            fields=["statusId"],
        )
    now = engine.clock.now()
    agent = engine.pool.get(user_id)
    events: list[Event] = []
    if agent is None:
        agent = engine.new_agent(user_id, status.id, "", now)
        for row in load_rows(conn, engine, user_id):  # opened work kept while offline
            agent.loads[str(row["work_id"])] = Load.from_row(row)
        events.append(Event(topic=LOGIN_SUCCESS, user_id=user_id, payload={"statusId": status.id}))
    else:
        _end_session(engine, conn, agent, now)
    agent.status_id = status.id
    engine.put_agent(agent)  # channels and capacity of the new status, before the session
    agent.presence_id = _start_session(engine, conn, agent, status.id, status.is_away, now)
    _agent_row(engine, conn, agent)
    info = status_info(engine, status.id)
    events.append(
        Event(
            topic=STATUS_CHANGED,
            user_id=user_id,
            payload={
                "statusId": info.status_id,
                "channels": info.channels,
                "statusName": info.name,
                "statusApiName": info.api_name,
                "reason": reason,
            },
        )
    )
    engine.publish(conn, events)
    return info


def logout(engine: OmniEngine, user_id: str) -> None:
    with engine.db.write() as conn:
        engine.ensure(conn)
        go_offline(engine, conn, user_id)


def go_offline(engine: OmniEngine, conn: Connection, user_id: str) -> None:
    """Log the agent out: assigned (not yet accepted) work becomes Unavailable and is
    routed again; opened work stays theirs."""
    agent = engine.pool.get(user_id)
    if agent is None:
        raise NotLoggedInError()
    now = engine.clock.now()
    previous = agent.used
    agent.accumulate(now)
    assigned = _works(engine, [w for w, ld in agent.loads.items() if not ld.opened])
    for work in assigned:
        _finish(engine, conn, work, WorkStatus.UNAVAILABLE, user_id, now, {}, requeue=True)
    _end_session(engine, conn, agent, now)
    engine.pool.remove(user_id)
    t = engine.db.system["omni_agent"]
    conn.execute(delete(t).where(t.c.user_id == user_id))
    events = [Event(topic=LOGOUT, user_id=user_id, payload={})]
    if assigned:
        events.append(workload_event(agent, previous))
    engine.publish(conn, events)
    engine.want_routing()


def status_info(engine: OmniEngine, status_id: str) -> StatusInfo:
    setup = engine.setup
    status = setup.statuses[status_id]
    channels = [
        {"channelId": cid, "developerName": setup.channels[cid].developer_name}
        for cid in sorted(status.channel_ids)
    ]
    return StatusInfo(status.id, status.label, status.developer_name, channels)


def current_agent(engine: OmniEngine, user_id: str) -> Agent:
    engine.refresh()
    agent = engine.pool.get(user_id)
    if agent is None:
        raise NotLoggedInError()
    return agent


def _start_session(
    engine: OmniEngine, conn: Connection, agent: Agent, status_id: str, away: bool, now: datetime
) -> str:
    agent.session_start = agent.stats_at = now
    agent.unit_seconds = agent.idle_seconds = agent.at_capacity_seconds = 0.0
    with engine.internal():
        return engine.store.insert(
            "UserServicePresence",
            [
                {
                    "UserId": agent.user_id,
                    "OwnerId": agent.user_id,
                    "ServicePresenceStatusId": status_id,
                    "StatusStartDate": now,
                    "IsCurrentState": True,
                    "IsAway": away,
                    "ConfiguredCapacity": int(agent.capacity),
                    "AverageCapacity": agent.workload(),
                    "IdleDuration": 0,
                    "AtCapacityDuration": 0,
                }
            ],
            user_id=agent.user_id,
        )[0]


def _end_session(engine: OmniEngine, conn: Connection, agent: Agent, now: datetime) -> None:
    agent.accumulate(now)
    row = _stats(agent, now)
    start = agent.session_start or now
    row.update(
        StatusEndDate=now,
        StatusDuration=seconds_between(start, now),
        IsCurrentState=False,
    )
    with engine.internal():
        engine.store.update("UserServicePresence", [row], user_id=agent.user_id)


def _stats(agent: Agent, now: datetime) -> dict[str, object]:
    return {
        "Id": agent.presence_id,
        "AverageCapacity": agent.average_capacity(now),
        "IdleDuration": int(agent.idle_seconds),
        "AtCapacityDuration": int(agent.at_capacity_seconds),
    }


def save_presence_stats(
    engine: OmniEngine, conn: Connection, agents: Iterable[Agent], now: datetime
) -> None:
    """seed 003, UserServicePresence: the statistics are updated when the agent's
    capacity changes (work assigned, declined, closed)."""
    rows = []
    for agent in agents:
        if agent.presence_id:
            agent.accumulate(now)
            rows.append(_stats(agent, now))
    if rows:
        with engine.internal():
            engine.store.update("UserServicePresence", rows, user_id=engine.system_user_id())


def _agent_row(engine: OmniEngine, conn: Connection, agent: Agent) -> None:
    t = engine.db.system["omni_agent"]
    conn.execute(delete(t).where(t.c.user_id == agent.user_id))
    conn.execute(
        insert(t).values(
            user_id=agent.user_id,
            status_id=agent.status_id,
            presence_id=agent.presence_id,
            idle_since=agent.idle_since,
            stats_at=agent.stats_at or engine.clock.now(),
        )
    )


# -- work ------------------------------------------------------------------------


@contextmanager
def _acting_on(
    engine: OmniEngine, user_id: str, work_id: object, to: WorkStatus
) -> Iterator[tuple[Connection, dict[str, Any]]]:
    """A transaction on the agent's own work, which must be able to move to ``to``."""
    with engine.db.write() as conn:
        engine.ensure(conn)
        work = own_work(engine, user_id, work_id)
        transition(str(work["Status"]), to)
        yield conn, work


def accept(engine: OmniEngine, user_id: str, work_id: str) -> None:
    with _acting_on(engine, user_id, work_id, WorkStatus.OPENED) as (conn, work):
        now = engine.clock.now()
        requested = work.get("RequestDateTime")
        with engine.internal():
            engine.store.update(
                "AgentWork",
                [
                    {
                        "Id": work["Id"],
                        "Status": WorkStatus.OPENED.value,
                        "AcceptDateTime": now,
                        "SpeedToAnswer": seconds_between(requested, now)
                        if isinstance(requested, datetime)
                        else None,
                    }
                ],
                user_id=user_id,
            )
        engine.timers.cancel_keys(conn, [push_key(str(work["Id"]))])
        engine.mark_opened(conn, user_id, str(work["Id"]))
        psr = work.get("PendingServiceRoutingId")
        accept_effects(
            engine,
            conn,
            str(work["Id"]),
            user_id,
            str(work["WorkItemId"]),
            str(psr) if psr else None,
            now,
        )


def accept_effects(
    engine: OmniEngine,
    conn: Connection,
    work_id: str,
    user_id: str,
    work_item_id: str,
    psr_id: str | None,
    now: datetime,
) -> None:
    """seed 003: on accept the PendingServiceRouting is deleted and the agent becomes
    the work record's owner."""
    if psr_id:
        engine.forget_item(conn, psr_id)
        with engine.internal():
            existing = engine.store.get_many("PendingServiceRouting", [psr_id], ["Id"])
            if existing:
                engine.store.delete("PendingServiceRouting", [psr_id], user_id=user_id)
    give_record(engine, work_item_id, user_id)
    engine.publish(conn, [work_event(WORK_ACCEPTED, user_id, work_id, work_item_id)])
    if not psr_id:
        # Work given to an agent without a request is a transfer to that agent (or an
        # external router's choice): the work the item had with others ends here.
        from workroute.routing.transfer import complete_agent_transfer

        complete_agent_transfer(engine, conn, work_id, user_id, work_item_id, now)


def give_record(engine: OmniEngine, work_item_id: str, user_id: str) -> None:
    """The agent becomes the work record's owner (an engine save: no routing hooks)."""
    obj = engine.store.schema.object_for_id(work_item_id)
    if obj is not None and obj.has_owner:
        with engine.internal():
            engine.store.update(
                obj.name, [{"Id": work_item_id, "OwnerId": user_id}], user_id=user_id
            )


def decline(engine: OmniEngine, user_id: str, work_id: str, reason: str | None = None) -> None:
    with _acting_on(engine, user_id, work_id, WorkStatus.DECLINED) as (conn, work):
        config = engine.setup.presence_for(user_id)
        if not config.decline_enabled:
            raise OmniError("this agent's presence configuration does not allow declining work")
        if reason is not None and len(reason) > 255:
            raise InvalidFieldError(
                "declineReason is longer than 255 characters", fields=["declineReason"]
            )
        _decline(
            engine, conn, work, WorkStatus.DECLINED, user_id, reason, config.status_on_decline_id
        )


def push_timed_out(engine: OmniEngine, work_id: str) -> None:
    """The push timeout passed: the work is DeclinedOnPushTimeout and routed again."""
    with engine.db.write() as conn:
        engine.ensure(conn)
        rows = engine.store.get_many("AgentWork", [work_id])
        if not rows or rows[0].get("Status") != WorkStatus.ASSIGNED.value:
            return
        user_id = str(rows[0]["UserId"])
        status = engine.setup.presence_for(user_id).status_on_push_timeout_id
        _decline(engine, conn, rows[0], WorkStatus.DECLINED_ON_PUSH_TIMEOUT, user_id, None, status)


def _decline(
    engine: OmniEngine,
    conn: Connection,
    work: dict[str, Any],
    status: WorkStatus,
    user_id: str,
    reason: str | None,
    next_status_id: str | None,
) -> None:
    now = engine.clock.now()
    agent = engine.pool.get(user_id)
    fields: dict[str, object] = {
        "AgentCapacityWhenDeclined": agent.workload() if agent else None,
    }
    if status is WorkStatus.DECLINED:
        fields.update(DeclineDateTime=now, DeclineReason=reason)
    else:
        fields["PushTimeoutDateTime"] = now
    previous = agent.used if agent else 0.0
    if agent is not None:
        agent.accumulate(now)
    _finish(engine, conn, work, status, user_id, now, fields, requeue=True, decliner=user_id)
    events = [work_event(WORK_DECLINED, user_id, str(work["Id"]), str(work["WorkItemId"]))]
    if agent is not None:
        events.append(workload_event(agent, previous))
    engine.publish(conn, events)
    if agent is not None:
        save_presence_stats(engine, conn, [agent], now)
        if next_status_id and next_status_id in engine.setup.statuses:
            reason_name = "OmniDeclineWork" if status is WorkStatus.DECLINED else "OmniPushTimeout"
            # The configuration's status on decline or push timeout is the admin's
            # choice, applied whether or not the agent may pick it themselves.
            change_status(engine, conn, user_id, next_status_id, reason_name, check_access=False)


def close(engine: OmniEngine, user_id: str, work_id: str) -> None:
    """Close opened work; on a channel with an after-conversation work timer the first
    close starts ACW and the second (or the timer) closes the work (routing/acw.py)."""
    from workroute.routing import acw

    with _acting_on(engine, user_id, work_id, WorkStatus.CLOSED) as (conn, work):
        now = engine.clock.now()
        channel = engine.setup.channels.get(str(work["ServiceChannelId"]))
        if channel is not None and acw.uses_acw(channel):
            timer = acw.timer_of(engine, conn, str(work["Id"]))
            if timer is None:
                acw.start(engine, conn, work, channel, user_id, now)
            else:
                acw.finish(engine, conn, work, timer, user_id, now)
            return
        close_work(engine, conn, work, user_id, now, {})


def close_work(
    engine: OmniEngine,
    conn: Connection,
    work: dict[str, Any],
    user_id: str,
    now: datetime,
    fields: dict[str, object],
) -> None:
    """Close opened work now: times, capacity, console events."""
    accepted = work.get("AcceptDateTime")
    handle = seconds_between(accepted, now) if isinstance(accepted, datetime) else None
    fields = {"CloseDateTime": now, "HandleTime": handle, **fields}
    if work.get("CapacityModel") != CapacityModel.STATUS_BASED.value:
        fields["ActiveTime"] = handle  # seed: tracked for tab-based work only
    agent = engine.pool.get(user_id)
    previous = agent.used if agent else 0.0
    if agent is not None:
        agent.accumulate(now)
    _finish(engine, conn, work, WorkStatus.CLOSED, user_id, now, fields, requeue=False)
    events = [work_event(WORK_CLOSED, user_id, str(work["Id"]), str(work["WorkItemId"]))]
    if agent is not None:
        events.append(workload_event(agent, previous))
        save_presence_stats(engine, conn, [agent], now)
    engine.publish(conn, events)
    _withdraw_offers(engine, conn, str(work["WorkItemId"]), user_id, now)


def _withdraw_offers(
    engine: OmniEngine, conn: Connection, work_item_id: str, user_id: str, now: datetime
) -> None:
    """Closed work takes back what its agent offered another agent for the same item
    (a transfer to an agent not yet accepted): the offer is Canceled."""
    from workroute.routing.direct import held_work
    from workroute.routing.entry import withdraw_assigned

    for h in held_work(engine, conn, [work_item_id]).get(work_item_id, []):
        if h.user_id != user_id and not h.opened and h.psr_id is None:
            withdraw_assigned(engine, conn, h.work_id, user_id=user_id, now=now)


def _finish(
    engine: OmniEngine,
    conn: Connection,
    work: dict[str, Any],
    status: WorkStatus,
    user_id: str,
    now: datetime,
    fields: dict[str, object],
    *,
    requeue: bool,
    decliner: str | None = None,
) -> None:
    """End a piece of work: its status, its capacity, its timer; and, when it goes
    back to routing, its PendingServiceRouting (IsPushed false, the decliner's
    session) and its place in line."""
    work_id = str(work["Id"])
    transition(str(work["Status"]), status)
    with engine.internal():
        engine.store.update(
            "AgentWork", [{"Id": work_id, "Status": status.value, **fields}], user_id=user_id
        )
    engine.timers.cancel_keys(conn, [push_key(work_id)])
    engine.release(conn, user_id, work_id)
    psr_id = work.get("PendingServiceRoutingId")
    item = engine.backlog.get(str(psr_id)) if psr_id else None
    if not requeue or item is None or item.work_id != work_id:
        return
    agent = engine.pool.get(user_id)
    change: dict[str, object] = {"Id": item.psr_id, "IsPushed": False}
    if decliner:
        change["LastDeclinedAgentSession"] = agent.presence_id if agent else None
    with engine.internal():
        engine.store.update("PendingServiceRouting", [change], user_id=engine.system_user_id())
    engine.requeue(conn, item, decliner=decliner)


def own_work(engine: OmniEngine, user_id: str, work_id: object) -> dict[str, Any]:
    """The agent's own AgentWork; a malformed, unknown or someone else's id is refused
    the same way, so agents cannot probe each other's work."""
    wid = parse_id(work_id, "workId")
    rows = engine.store.get_many("AgentWork", [wid])
    if not rows or str(rows[0].get("UserId")) != user_id:
        raise NotFoundError(f"no work with id {work_id} for this agent", fields=["workId"])
    return rows[0]


def _works(engine: OmniEngine, work_ids: list[str]) -> list[dict[str, Any]]:
    return engine.store.get_many("AgentWork", work_ids) if work_ids else []


def parse_id(value: object, name: str) -> str:
    """A record id given as ``name``, normalized to 18 characters; refused if malformed."""
    if not looks_like_id(value):
        raise InvalidFieldError(f"{name} is not a valid record id: {value!r}", fields=[name])
    try:
        return normalize_id(value)
    except WorkrouteError:
        raise InvalidFieldError(
            f"{name} is not a valid record id: {value!r}", fields=[name]
        ) from None


# -- reading ------------------------------------------------------------------------


def agent_works(engine: OmniEngine, user_id: str) -> list[dict[str, object]]:
    """seed 003, getAgentWorks: the agent's assigned and opened work."""
    agent = current_agent(engine, user_id)
    rows = _works(engine, sorted(agent.loads))
    return [
        {
            "workId": str(r["Id"]),
            "workItemId": str(r["WorkItemId"]),
            "isEngaged": r.get("Status") == WorkStatus.OPENED.value,
        }
        for r in sorted(rows, key=lambda r: str(r.get("AssignedDateTime") or ""))
        if r.get("Status") in (WorkStatus.ASSIGNED.value, WorkStatus.OPENED.value)
    ]


# -- flags ----------------------------------------------------------------------------


def set_flag(
    engine: OmniEngine,
    actor_id: str,
    work_id: object,
    *,
    raised: bool,
    message: str | None,
    role: str,
    owner_id: str | None = None,
) -> None:
    """Raise or lower a work item's flag (seed 003, workFlagUpdated); ``owner_id`` is
    the agent whose work it must be (None for a supervisor acting on any work)."""
    with engine.db.write() as conn:
        engine.ensure(conn)
        wid = parse_id(work_id, "workId")
        rows = engine.store.get_many("AgentWork", [wid])
        if not rows or (owner_id is not None and str(rows[0].get("UserId")) != owner_id):
            raise NotFoundError(f"no work with id {work_id} for this agent", fields=["workId"])
        if message is not None and len(message) > 1000:
            raise InvalidFieldError("message is longer than 1000 characters", fields=["message"])
        now = engine.clock.now()
        t = engine.db.system["work_flag"]
        conn.execute(delete(t).where(t.c.work_id == wid))
        conn.execute(
            insert(t).values(
                work_id=wid,
                is_flagged=raised,
                message=message,
                role=role,
                updated_by=actor_id,
                updated_at=now,
            )
        )
        engine.publish(
            conn,
            [
                Event(
                    topic=WORK_FLAG_UPDATED,
                    user_id=str(rows[0]["UserId"]),
                    payload={
                        "workId": wid,
                        "isFlagged": raised,
                        "message": message,
                        "roleUpdatedBy": role,
                        "updatedBy": actor_id,
                    },
                )
            ],
        )
