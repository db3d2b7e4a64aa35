"""Everything an agent's console page shows, in one read (``GET /services/omni/v1/console``).

The page draws the Omni-Channel widget from this answer and then follows the console
events; it works whether or not the caller is logged in to Omni-Channel. Every time is
ISO 8601 in UTC with milliseconds (``2024-03-15T09:30:00.000Z``, the form ``Date.parse``
reads in every browser) on the org clock: the server may run on a manual clock, so a
page counts push timeouts and after-conversation work down from ``serverTime``, not from
the browser's clock.

Nothing here changes anything; it reads the router's memory (presence, capacity), the
routing setup (statuses the agent may use, their presence configuration), the agent's
Assigned and Opened AgentWork, their flags and their timers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from workroute.routing import acw
from workroute.routing.console import status_info
from workroute.routing.engine import PUSH_TIMEOUT
from workroute.routing.model import WorkStatus
from workroute.routing.setup import Channel, RoutingSetup
from workroute.routing.supervisor import work_flags
from workroute.store.timers import Timer

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine

__all__ = ["ConsoleState", "console_state", "iso"]


class ChannelJson(TypedDict):
    channelId: str
    developerName: str


class StatusJson(TypedDict):
    statusId: str
    statusName: str
    statusApiName: str
    channels: list[ChannelJson]


class UsableStatusJson(StatusJson):
    #: The status has channels: an agent in it receives work (else busy/away).
    isOnline: bool


class DeclineReasonJson(TypedDict):
    id: str
    label: str


class ChannelAcwJson(TypedDict):
    channelId: str
    developerName: str
    seconds: int
    #: Seconds one extension adds (None: the channel allows no extension).
    extensionSeconds: int | None
    maxExtensions: int


class AcwOptionsJson(TypedDict):
    #: Some channel of the agent's statuses has an after-conversation work timer.
    enabled: bool
    #: The longest after-conversation time of those channels (None when disabled).
    seconds: int | None
    channels: list[ChannelAcwJson]


class OptionsJson(TypedDict):
    declineEnabled: bool
    declineReasonEnabled: bool
    declineReasons: list[DeclineReasonJson]
    requestSoundEnabled: bool
    disconnectSoundEnabled: bool
    autoAccept: bool
    afterConversationWork: AcwOptionsJson


class FlagJson(TypedDict):
    isFlagged: bool
    message: str | None
    roleUpdatedBy: str
    updatedBy: str


class WorkAcwJson(TypedDict):
    endsAt: str
    extendable: bool


class WorkJson(TypedDict):
    workId: str
    workItemId: str
    workItemName: str | None
    workItemObject: str | None
    status: str
    serviceChannelId: str
    channelName: str | None
    assignedDateTime: str | None
    acceptDateTime: str | None
    #: The push timeout of the routing configuration (0: none).
    pushTimeoutSeconds: int
    #: When Assigned work is declined on push timeout (None: no timeout, or opened).
    pushExpiresAt: str | None
    flag: FlagJson | None
    #: Set while the work is in after-conversation work (routing/acw.py).
    afterConversationWork: WorkAcwJson | None


class ConsoleState(TypedDict):
    serverTime: str
    userId: str
    online: bool
    status: StatusJson | None
    statuses: list[UsableStatusJson]
    configuredCapacity: float | None
    currentWorkload: float | None
    options: OptionsJson
    works: list[WorkJson]


def iso(value: datetime) -> str:
    """``2024-03-15T09:30:00.000Z``: ISO 8601, UTC, milliseconds."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def console_state(engine: OmniEngine, user_id: str) -> ConsoleState:
    """The console page of ``user_id``, read now."""
    engine.refresh()
    setup = engine.setup
    now = engine.clock.now()
    agent = engine.pool.get(user_id)
    status: StatusJson | None = None
    if agent is not None and agent.status_id in setup.statuses:
        info = status_info(engine, agent.status_id)
        status = {
            "statusId": info.status_id,
            "statusName": info.name,
            "statusApiName": info.api_name,
            "channels": _channels(info.channels),
        }
    usable = setup.usable_statuses(user_id)
    statuses: list[UsableStatusJson] = []
    for s in usable:
        info = status_info(engine, s.id)
        statuses.append(
            {
                "statusId": info.status_id,
                "statusName": info.name,
                "statusApiName": info.api_name,
                "isOnline": not s.is_away,
                "channels": _channels(info.channels),
            }
        )
    channel_ids = {cid for s in usable for cid in s.channel_ids}
    return {
        "serverTime": iso(now),
        "userId": user_id,
        "online": agent is not None,
        "status": status,
        "statuses": statuses,
        "configuredCapacity": agent.capacity if agent is not None else None,
        "currentWorkload": agent.workload() if agent is not None else None,
        "options": _options(setup, user_id, channel_ids),
        "works": _works(engine, setup, user_id, now),
    }


def _channels(channels: Iterable[Mapping[str, str]]) -> list[ChannelJson]:
    return [{"channelId": c["channelId"], "developerName": c["developerName"]} for c in channels]


def _options(setup: RoutingSetup, user_id: str, channel_ids: set[str]) -> OptionsJson:
    config = setup.presence_for(user_id)
    reasons: list[DeclineReasonJson] = sorted(
        (
            {"id": rid, "label": setup.decline_reasons[rid]}
            for rid in config.decline_reason_ids
            if rid in setup.decline_reasons
        ),
        key=lambda r: (r["label"].casefold(), r["id"]),
    )
    acw_channels: list[ChannelAcwJson] = [
        {
            "channelId": ch.id,
            "developerName": ch.developer_name,
            "seconds": int(ch.after_conversation_seconds or 0),
            "extensionSeconds": ch.acw_extension_seconds,
            "maxExtensions": ch.max_acw_extensions if ch.acw_extension_seconds else 0,
        }
        for ch in sorted(
            (setup.channels[c] for c in channel_ids if c in setup.channels),
            key=lambda ch: (ch.developer_name, ch.id),
        )
        if acw.uses_acw(ch)
    ]
    return {
        "declineEnabled": config.decline_enabled,
        "declineReasonEnabled": config.decline_reason_enabled,
        "declineReasons": reasons,
        "requestSoundEnabled": config.request_sound_enabled,
        "disconnectSoundEnabled": config.disconnect_sound_enabled,
        "autoAccept": config.auto_accept,
        "afterConversationWork": {
            "enabled": bool(acw_channels),
            "seconds": max((c["seconds"] for c in acw_channels), default=None),
            "channels": acw_channels,
        },
    }


def _works(engine: OmniEngine, setup: RoutingSetup, user_id: str, now: datetime) -> list[WorkJson]:
    """The agent's Assigned and Opened AgentWork, oldest assignment first."""
    rows = [
        r
        for status in (WorkStatus.ASSIGNED, WorkStatus.OPENED)
        for r in engine.store.find("AgentWork", UserId=user_id, Status=status.value)
    ]
    rows.sort(key=lambda r: (r.get("AssignedDateTime") or now, str(r["Id"])))
    ids = [str(r["Id"]) for r in rows]
    with engine.db.read() as conn:
        push = _by_record(engine.timers.for_records(conn, PUSH_TIMEOUT, ids))
        after = _by_record(engine.timers.for_records(conn, acw.AFTER_CONVERSATION, ids))
    flags = work_flags(engine, ids)
    names = _names(engine, [str(r["WorkItemId"]) for r in rows])
    out: list[WorkJson] = []
    for r in rows:
        wid, item = str(r["Id"]), str(r["WorkItemId"])
        obj = engine.store.schema.object_for_id(item)
        channel = setup.channels.get(str(r.get("ServiceChannelId")))
        flag = flags.get(wid)
        out.append(
            {
                "workId": wid,
                "workItemId": item,
                "workItemName": names.get(item),
                "workItemObject": obj.name if obj is not None else None,
                "status": str(r["Status"]),
                "serviceChannelId": str(r.get("ServiceChannelId") or ""),
                "channelName": (channel.label or channel.developer_name) if channel else None,
                "assignedDateTime": _iso_or_none(r.get("AssignedDateTime")),
                "acceptDateTime": _iso_or_none(r.get("AcceptDateTime")),
                "pushTimeoutSeconds": _int(r.get("PushTimeout")),
                "pushExpiresAt": _push_expires(r, push.get(wid)),
                "flag": None
                if flag is None
                else {
                    "isFlagged": bool(flag["isFlagged"]),
                    "message": flag["message"],
                    "roleUpdatedBy": str(flag["roleUpdatedBy"]),
                    "updatedBy": str(flag["updatedBy"]),
                },
                "afterConversationWork": _acw(after.get(wid), channel)
                if r.get("Status") == WorkStatus.OPENED.value
                else None,
            }
        )
    return out


def _by_record(timers: Iterable[Timer]) -> dict[str, Timer]:
    return {str(t.record_id): t for t in timers}


def _push_expires(row: Mapping[str, Any], timer: Timer | None) -> str | None:
    timeout = _int(row.get("PushTimeout"))
    if row.get("Status") != WorkStatus.ASSIGNED.value or timeout <= 0:
        return None
    if timer is not None:
        return iso(timer.due_at)  # the durable timer is what declines the work
    assigned = row.get("AssignedDateTime")
    return iso(assigned + timedelta(seconds=timeout)) if isinstance(assigned, datetime) else None


def _acw(timer: Timer | None, channel: Channel | None) -> WorkAcwJson | None:
    if timer is None:
        return None
    done = int(timer.payload.get("extensions") or 0)
    step = channel.acw_extension_seconds if channel is not None else None
    extendable = bool(step) and channel is not None and done < channel.max_acw_extensions
    return {"endsAt": iso(timer.due_at), "extendable": extendable}


def _names(engine: OmniEngine, item_ids: Sequence[str]) -> dict[str, str | None]:
    """The name field's value of each work record (CaseNumber, Name, Subject, ...)."""
    by_object: dict[str, list[str]] = defaultdict(list)
    fields: dict[str, str] = {}
    for item in dict.fromkeys(item_ids):
        obj = engine.store.schema.object_for_id(item)
        name = obj.name_field if obj is not None else None
        if obj is not None and name is not None:
            by_object[obj.name].append(item)
            fields[obj.name] = name.name
    out: dict[str, str | None] = {}
    for object_name, ids in by_object.items():
        field = fields[object_name]
        for rec in engine.store.get_many(object_name, ids, ["Id", field], include_deleted=True):
            value = rec.get(field)
            out[str(rec["Id"])] = None if value is None else str(value)
    return out


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _iso_or_none(value: object) -> str | None:
    return iso(value) if isinstance(value, datetime) else None
