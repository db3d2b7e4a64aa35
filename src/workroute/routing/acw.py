"""After Conversation Work (ACW): time to wrap up after the conversation, with the
work still holding the agent's capacity.

On a channel with HasAfterConvoWorkTimer (seed 003, ServiceChannel), closing opened
work does not close it at once: the agent enters ACW for AfterConvoWorkMaxTime
seconds, the AgentWork stays Opened and keeps its capacity. ACW ends when the agent
closes the work again (Salesforce's "All Done", which calls closeAgentWork) or when
the timer runs out; then the work is Closed, its capacity freed, and
AfterConversationActualTime holds the seconds spent in ACW. HandleTime and ActiveTime
end with ACW (seed 003, AgentWork.HandleTime: "ends when the AfterConversationActualTime
period ends or the agent closes the work item, whichever occurs first").

With HasAcwExtensionEnabled the agent may extend ACW up to MaxExtensions times, each
by AcwExtensionDuration seconds; AgentWork.AcwExtensionCount and AcwExtensionDuration
record it. The timer is a durable row (kind :data:`AFTER_CONVERSATION`), due when
ACW ends, its payload the ACW start; its presence is what "in ACW" means, so ACW
survives restarts and tests move the clock instead of sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from workroute.kernel.errors import LimitExceededError
from workroute.routing.console import OmniError, close_work, own_work
from workroute.routing.model import WorkStatus
from workroute.routing.setup import Channel
from workroute.store.events import Event
from workroute.store.timers import Timer

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine

# Console events of ACW (Salesforce's AFTER_CONVERSATION_WORK_STARTED/ENDED, and the
# extension the agent asks for).
ACW_STARTED = "omni/afterConversationWorkStarted"
ACW_EXTENDED = "omni/afterConversationWorkExtended"
ACW_ENDED = "omni/afterConversationWorkEnded"
#: Timer kind: the end of an agent's ACW (its handler is set up with the save hooks).
AFTER_CONVERSATION = "omni.after_conversation"


def acw_key(work_id: str) -> str:
    return f"omni:acw:{work_id}"


def uses_acw(channel: Channel | None) -> bool:
    return channel is not None and bool(channel.after_conversation_seconds)


def timer_of(engine: OmniEngine, conn: Connection, work_id: str) -> Timer | None:
    """The work's ACW timer: present exactly while the work is in ACW."""
    found = engine.timers.for_records(conn, AFTER_CONVERSATION, [work_id])
    return found[0] if found else None


def start(
    engine: OmniEngine,
    conn: Connection,
    work: dict[str, Any],
    channel: Channel,
    user_id: str,
    now: datetime,
) -> None:
    """The conversation is over: ACW begins and the capacity stays held."""
    assert channel.after_conversation_seconds
    work_id = str(work["Id"])
    ends = now + timedelta(seconds=channel.after_conversation_seconds)
    _schedule(engine, conn, work_id, user_id, started=now, ends=ends, extensions=0)
    engine.publish(conn, [_event(ACW_STARTED, work, user_id, {"endsAt": ends.isoformat()})])


def extend(engine: OmniEngine, user_id: str, work_id: object) -> datetime:
    """Add AcwExtensionDuration to the agent's ACW on ``work_id``; returns when ACW
    now ends."""
    with engine.db.write() as conn:
        engine.ensure(conn)
        work = own_work(engine, user_id, work_id)
        wid = str(work["Id"])
        timer = timer_of(engine, conn, wid) if work.get("Status") == "Opened" else None
        if timer is None:
            raise OmniError("the work is not in after-conversation work")
        channel = engine.setup.channels.get(str(work["ServiceChannelId"]))
        step = channel.acw_extension_seconds if channel else None
        if channel is None or not step:
            raise OmniError("this channel does not allow extending after-conversation work")
        done = int(timer.payload.get("extensions") or 0)
        if done >= channel.max_acw_extensions:
            raise LimitExceededError(
                f"after-conversation work can be extended at most "
                f"{channel.max_acw_extensions} times"
            )
        ends = timer.due_at + timedelta(seconds=step)
        started = datetime.fromisoformat(str(timer.payload["startedAt"]))
        _schedule(engine, conn, wid, user_id, started=started, ends=ends, extensions=done + 1)
        with engine.internal():
            engine.store.update(
                "AgentWork",
                [{"Id": wid, "AcwExtensionCount": done + 1, "AcwExtensionDuration": step}],
                user_id=user_id,
            )
        extra: dict[str, object] = {"endsAt": ends.isoformat(), "extensionCount": done + 1}
        engine.publish(conn, [_event(ACW_EXTENDED, work, user_id, extra)])
        return ends


def finish(
    engine: OmniEngine,
    conn: Connection,
    work: dict[str, Any],
    timer: Timer,
    user_id: str,
    now: datetime,
) -> None:
    """ACW is over (the agent closed the work, or the time ran out): close the work."""
    started = datetime.fromisoformat(str(timer.payload["startedAt"]))
    spent = max(0, int((now - started).total_seconds()))
    engine.timers.cancel_keys(conn, [acw_key(str(work["Id"]))])
    engine.publish(conn, [_event(ACW_ENDED, work, user_id, {"acwSeconds": spent})])
    close_work(engine, conn, work, user_id, now, {"AfterConversationActualTime": spent})


def timed_out(engine: OmniEngine, timer: Timer) -> None:
    """The ACW timer ran out (the timer row is already gone)."""
    with engine.db.write() as conn:
        engine.ensure(conn)
        rows = engine.store.get_many("AgentWork", [str(timer.payload["workId"])])
        if not rows or rows[0].get("Status") != WorkStatus.OPENED.value:
            return
        finish(engine, conn, rows[0], timer, str(rows[0]["UserId"]), engine.clock.now())


def _schedule(
    engine: OmniEngine,
    conn: Connection,
    work_id: str,
    user_id: str,
    *,
    started: datetime,
    ends: datetime,
    extensions: int,
) -> None:
    engine.timers.schedule(
        conn,
        kind=AFTER_CONVERSATION,
        key=acw_key(work_id),
        due_at=ends,
        payload={
            "workId": work_id,
            "userId": user_id,
            "startedAt": started.isoformat(),
            "extensions": extensions,
        },
        now=engine.clock.now(),
        object_name="AgentWork",
        record_id=work_id,
    )


def _event(topic: str, work: dict[str, Any], user_id: str, extra: dict[str, object]) -> Event:
    payload = {"workId": str(work["Id"]), "workItemId": str(work["WorkItemId"]), **extra}
    return Event(topic=topic, user_id=user_id, payload=payload)
