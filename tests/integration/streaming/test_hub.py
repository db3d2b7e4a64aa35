"""The hub and the Bayeux server without HTTP: memory bounds, replay beyond memory,
vanished clients dropped, a held connect superseded by a newer one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from workroute.auth.principal import Principal
from workroute.kernel.errors import InvalidSessionError
from workroute.org import Org
from workroute.store.events import Event
from workroute.streaming.bayeux import BayeuxServer, ChannelAccess
from workroute.streaming.hub import EventHub


def _publish(org: Org, topic: str, count: int) -> None:
    with org.db.write() as conn:
        org.events.publish(
            conn,
            [Event(topic=topic, payload={"sobject": {"n": i}}) for i in range(count)],
            org.clock.now(),
        )


def test_the_hub_keeps_the_newest_events_and_replays_older_ones_from_the_log(org: Org) -> None:
    hub = EventHub(org.events, capacity=20)
    try:
        for _ in range(5):
            _publish(org, "/topic/A", 6)
            _publish(org, "/topic/B", 4)
        assert hub.size <= 20 and hub.floor > 0
        assert hub.after(["/topic/A"], 0, 1000) is None  # older than memory
        every_a = [e.id for e in org.events.read(topics=["/topic/A"], limit=100)]
        assert [e.id for e in hub.replay(["/topic/A"], 0, 1000)] == every_a
        # From a position in memory, two channels merge in replay-id order.
        start = hub.floor
        merged = hub.after(["/topic/A", "/topic/B"], start, 1000)
        assert merged is not None
        assert [e.id for e in merged] == [
            e.id for e in org.events.read(after=start, topics=["/topic/A", "/topic/B"])
        ]
        assert [e.id for e in hub.after(["/topic/A", "/topic/B"], start, 3) or []] == [
            e.id for e in merged[:3]
        ]
    finally:
        hub.close()


def test_each_event_is_encoded_once_in_salesforce_s_shape(org: Org) -> None:
    hub = EventHub(org.events)
    try:
        with org.db.write() as conn:
            org.events.publish(
                conn,
                [
                    Event(
                        topic="/topic/A",
                        payload={"event": {"type": "created"}, "sobject": {"Id": "x"}},
                    )
                ],
                org.clock.now(),
            )
        [e] = hub.after(["/topic/A"], 0, 10) or []
        message = json.loads(e.bayeux())
        assert message == {
            "channel": "/topic/A",
            "data": {"event": {"type": "created", "replayId": e.id}, "sobject": {"Id": "x"}},
        }
        assert e.bayeux() is e.bayeux()
    finally:
        hub.close()


class _Time:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _server(org: Org, clock: _Time, hub: EventHub) -> BayeuxServer:
    principal = org.auth.principal(org.admin_user_id())

    def authenticate(token: str | None) -> Principal:
        if token != "good":
            raise InvalidSessionError()
        return principal

    async def run_sync(fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    return BayeuxServer(
        hub,
        authenticate=authenticate,
        resolve=lambda channel, _p: ChannelAccess(channel=channel),
        timeout_ms=200,
        expiry=30.0,
        monotonic=clock,
        run_sync=run_sync,
    )


async def _call(server: BayeuxServer, *messages: dict[str, Any]) -> list[dict[str, Any]]:
    status, replies = await server.handle("good", json.dumps(list(messages)).encode())
    assert status == 200
    return [json.loads(r) for r in replies]


async def _handshake(server: BayeuxServer) -> str:
    [reply] = await _call(
        server, {"channel": "/meta/handshake", "supportedConnectionTypes": ["long-polling"]}
    )
    return str(reply["clientId"])


def test_clients_that_stop_polling_are_dropped_and_told_to_handshake(org: Org) -> None:
    clock = _Time()
    hub = EventHub(org.events)

    async def go() -> None:
        server = _server(org, clock, hub)
        gone, alive = await _handshake(server), await _handshake(server)
        await _call(server, {"channel": "/meta/subscribe", "clientId": gone, "subscription": "/x"})
        clock.now += 20
        await _call(server, {"channel": "/meta/connect", "clientId": alive})  # first: at once
        clock.now += 20
        assert server.sweep() == 1
        assert set(server.clients) == {alive}
        [reply] = await _call(server, {"channel": "/meta/connect", "clientId": gone})
        assert reply["error"] == "403::Unknown client"
        assert reply["advice"]["reconnect"] == "handshake"

    try:
        asyncio.run(go())
    finally:
        hub.close()


def test_a_newer_connect_releases_the_held_one(org: Org) -> None:
    clock = _Time()
    hub = EventHub(org.events)

    async def go() -> None:
        server = _server(org, clock, hub)
        server.timeout_ms = 60_000  # held until released, not until a timeout
        cid = await _handshake(server)
        await _call(server, {"channel": "/meta/connect", "clientId": cid})
        held = asyncio.ensure_future(_call(server, {"channel": "/meta/connect", "clientId": cid}))
        await asyncio.sleep(0)  # let it start holding
        assert not held.done()
        newer = asyncio.ensure_future(_call(server, {"channel": "/meta/connect", "clientId": cid}))
        [released] = await asyncio.wait_for(held, 5)
        assert released["successful"] is True and not newer.done()
        await _call(server, {"channel": "/meta/disconnect", "clientId": cid})
        [last] = await asyncio.wait_for(newer, 5)
        assert last["error"] == "403::Unknown client" and server.clients == {}

    try:
        asyncio.run(go())
    finally:
        hub.close()
