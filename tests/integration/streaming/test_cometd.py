"""The CometD endpoint with a real CometD client (aiocometd-ng) over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiocometd_ng.exceptions import ServerError

from tests.integration.api.api_harness import USER_PASSWORD, Api, Caller
from tests.integration.streaming.cometd_harness import (
    LiveServer,
    Replay,
    live_server,
    names,
    receive,
    replay_ids,
)
from workroute.kernel.clock import ManualClock
from workroute.metadata.deploy import deploy_source
from workroute.streaming import bayeux

CHANNEL = "/topic/Accounts"
SHARING = Path(__file__).resolve().parents[2] / "fixtures" / "deploy" / "sharing"


@pytest.fixture
def live(api: Api, admin: Caller) -> Iterator[LiveServer]:
    admin.create(
        "PushTopic", {"Name": "Accounts", "Query": "SELECT Id, Name FROM Account", "ApiVersion": 62}
    )
    with live_server(api.org) as server:
        yield server


def _subscribe_and_take(
    live: LiveServer, token: str, replay: Replay, count: int, *then: str
) -> list[dict[str, object]]:
    async def go() -> list[dict[str, object]]:
        async with live.client(token, replay) as client:
            await client.subscribe(CHANNEL)
            if then:
                await asyncio.to_thread(live.publish, CHANNEL, *then)
            return await receive(client, count)

    return asyncio.run(go())


def test_replay_minus_one_gives_only_new_events_in_order(live: LiveServer, api: Api) -> None:
    live.publish(CHANNEL, "before-1", "before-2")
    got = _subscribe_and_take(live, api.token(), Replay(start=-1), 3, "new-1", "new-2", "new-3")
    assert names(got) == ["new-1", "new-2", "new-3"]
    ids = replay_ids(got)
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert all(m["channel"] == CHANNEL for m in got)


def test_replay_minus_two_gives_every_retained_event(live: LiveServer, api: Api) -> None:
    live.publish(CHANNEL, "a", "b")
    live.publish(CHANNEL, "c")
    got = _subscribe_and_take(live, api.token(), Replay(start=-2), 4, "d")
    assert names(got) == ["a", "b", "c", "d"]


def test_replay_from_an_id_gives_what_came_after_it(live: LiveServer, api: Api) -> None:
    live.publish(CHANNEL, "a", "b", "c", "d")
    first = _subscribe_and_take(live, api.token(), Replay(start=-2), 4)
    after_b = replay_ids(first)[1]
    got = _subscribe_and_take(live, api.token(), Replay(start=after_b), 2)
    assert names(got) == ["c", "d"]


def test_a_restarted_client_resumes_without_loss_or_duplicates(live: LiveServer, api: Api) -> None:
    replay = Replay(start=-2)
    live.publish(CHANNEL, *(f"e{i}" for i in range(5)))
    seen = names(_subscribe_and_take(live, api.token(), replay, 5))
    live.publish(CHANNEL, *(f"e{i}" for i in range(5, 12)))  # while no one listens
    seen += names(_subscribe_and_take(live, api.token(), replay, 9, "e12", "e13"))
    assert seen == [f"e{i}" for i in range(14)]


def test_a_replay_id_outside_the_log_is_refused(live: LiveServer, api: Api) -> None:
    clock = api.org.clock
    assert isinstance(clock, ManualClock)
    live.publish(CHANNEL, "old-1", "old-2")
    old = replay_ids(_subscribe_and_take(live, api.token(), Replay(start=-2), 2))
    clock.advance(timedelta(hours=73))
    live.publish(CHANNEL, "kept")
    assert api.org.events.prune(clock.now()) == 2
    token = api.token()

    for bad in (old[0], old[1] + 10_000, "soon"):

        async def go(asked: object = bad) -> None:
            async with live.client(token, Replay(start=asked)) as client:  # type: ignore[arg-type]
                await client.subscribe(CHANNEL)

        with pytest.raises(ServerError) as refused:
            asyncio.run(go())
        error = refused.value.response["error"]  # type: ignore[index]
        assert error == (
            f"400::The replayId {{{bad}}} you provided was invalid.  Please provide a valid ID, "
            "-2 to replay all events, or -1 to replay only new events."
        )
    # -2 starts after what pruning took; the horizon itself is a valid position.
    assert names(_subscribe_and_take(live, token, Replay(start=-2), 1)) == ["kept"]
    assert names(_subscribe_and_take(live, token, Replay(start=old[1]), 1)) == ["kept"]


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_a_handshake_without_a_valid_token_is_refused(live: LiveServer, token: str | None) -> None:
    async def go() -> None:
        if token is None:
            from aiocometd_ng.client import Client

            async with Client(live.cometd()):
                pass
        else:
            async with live.client(token):
                pass

    with pytest.raises(ServerError) as refused:
        asyncio.run(go())
    reply = refused.value.response
    assert reply is not None and reply["error"] == "403::Handshake denied"
    assert reply["ext"]["sfdc"]["failureReason"] == "401::Authentication invalid"
    raw = httpx.post(live.cometd(), json=[_handshake()])
    assert raw.status_code == 401 and live.org.events.read() == []


def test_an_unknown_channel_is_refused(live: LiveServer, api: Api) -> None:
    async def go() -> None:
        async with live.client(api.token()) as client:
            await client.subscribe("/topic/Nope")

    with pytest.raises(ServerError) as refused:
        asyncio.run(go())
    assert refused.value.response["error"] == (  # type: ignore[index]
        "400::The channel you requested to subscribe to does not exist {/topic/Nope}"
    )


def test_events_of_records_a_user_cannot_see_are_not_delivered(
    live: LiveServer, api: Api, admin: Caller
) -> None:
    deploy_source(api.org, SHARING, user_id=api.org.admin_user_id())
    ann = api.add_user("ann@example.com")
    bob = api.add_user("bob@example.com")
    admin.create(
        "PushTopic",
        {"Name": "Notes", "Query": "SELECT Id, Name FROM Secret_Note__c", "ApiVersion": 62},
    )
    channel = "/topic/Notes"
    ann_token = api.token("ann@example.com", USER_PASSWORD)

    async def go() -> list[dict[str, object]]:
        async with live.client(ann_token, Replay(start=-1)) as client:
            await client.subscribe(channel)
            await asyncio.to_thread(live.publish, channel, "bob's", owner_id=bob)
            await asyncio.to_thread(live.publish, channel, "ann's", owner_id=ann)
            return await receive(client, 1)

    assert names(asyncio.run(go())) == ["ann's"]


def test_a_rolled_back_transaction_delivers_nothing(live: LiveServer, api: Api) -> None:
    def fail_after_publishing() -> None:
        with pytest.raises(RuntimeError), live.org.db.write():
            live.publish(CHANNEL, "rolled back")
            raise RuntimeError("undo")

    async def go() -> list[dict[str, object]]:
        async with live.client(api.token(), Replay(start=-1)) as client:
            await client.subscribe(CHANNEL)
            await asyncio.to_thread(fail_after_publishing)
            await asyncio.to_thread(live.publish, CHANNEL, "committed")
            return await receive(client, 1)

    assert names(asyncio.run(go())) == ["committed"]
    assert [e.payload["sobject"]["Name"] for e in live.org.events.read()] == ["committed"]


def _handshake() -> dict[str, object]:
    return {
        "channel": "/meta/handshake",
        "version": "1.0",
        "supportedConnectionTypes": ["long-polling"],
        "id": "1",
    }


def test_bad_requests_get_bayeux_errors(live: LiveServer, api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.token()}"}
    url = live.cometd()
    resp = httpx.post(url, content=b"{not json", headers=headers)
    assert resp.status_code == 400 and resp.json()[0]["error"] == "400::Invalid JSON"
    assert httpx.post(url, json=[], headers=headers).status_code == 400
    assert httpx.post(url, json=[1, 2], headers=headers).status_code == 400
    big = httpx.post(url, content=b"[" + b" " * (2 * 1024 * 1024) + b"]", headers=headers)
    assert big.status_code == 413
    assert httpx.post(live.cometd("10.0"), json=[_handshake()], headers=headers).status_code == 404
    stranger = httpx.post(
        url, json=[{"channel": "/meta/connect", "clientId": "nobody", "id": "2"}], headers=headers
    )
    reply = stranger.json()[0]
    assert reply["error"] == "403::Unknown client"
    assert reply["advice"]["reconnect"] == "handshake"

    hs = httpx.post(url, json=[_handshake()], headers=headers).json()[0]
    assert hs["successful"] and hs["advice"]["timeout"] == 110_000
    client_id = hs["clientId"]
    # A client id is the handshaking user's: another user's token is refused with it.
    other = api.add_user("eve@example.com")
    assert other
    eve = {"Authorization": f"Bearer {api.token('eve@example.com', USER_PASSWORD)}"}
    stolen = httpx.post(
        url, json=[{"channel": "/meta/connect", "clientId": client_id, "id": "3"}], headers=eve
    )
    assert stolen.status_code == 401 and not stolen.json()[0]["successful"]
    publish = httpx.post(
        url, json=[{"channel": CHANNEL, "clientId": client_id, "data": {}}], headers=headers
    )
    assert publish.json()[0]["error"] == "403::Publish denied"
    assert live.org.events.read() == []


def _raw(live: LiveServer, api: Api) -> Callable[[dict[str, object]], list[dict[str, Any]]]:
    """One Bayeux message per request, with the API user's token (no client library
    in the way, so each reply is seen as it is)."""
    headers = {"Authorization": f"Bearer {api.token()}"}

    def post(message: dict[str, object]) -> list[dict[str, Any]]:
        resp = httpx.post(live.cometd(), json=[message], headers=headers, timeout=30)
        assert resp.status_code == 200, resp.text
        replies: list[dict[str, Any]] = resp.json()
        return replies

    return post


def _raw_subscriber(
    post: Callable[[dict[str, object]], list[dict[str, Any]]], *channels: str
) -> dict[str, object]:
    """Handshake, first connect and a replay -2 subscription to each of ``channels``;
    returns the connect message to poll with."""
    client_id = post(_handshake())[0]["clientId"]
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
    post(connect)
    for channel in channels:
        subscribed = post(
            {
                "channel": "/meta/subscribe",
                "clientId": client_id,
                "subscription": channel,
                "ext": {"replay": {channel: -2}},
            }
        )
        assert subscribed[0]["successful"], subscribed
    return connect


def test_a_backlog_larger_than_a_reply_comes_in_order_over_several_connects(
    live: LiveServer, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bayeux, "MAX_BATCH", 3)
    live.publish(CHANNEL, *(f"n{i}" for i in range(7)))
    post = _raw(live, api)
    connect = _raw_subscriber(post, CHANNEL)
    batches = [names([m for m in post(connect) if m["channel"] == CHANNEL]) for _ in range(3)]
    assert batches == [["n0", "n1", "n2"], ["n3", "n4", "n5"], ["n6"]]


def test_a_reply_is_bounded_across_all_of_a_clients_subscriptions(
    live: LiveServer, api: Api, admin: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin.create(
        "PushTopic", {"Name": "Contacts", "Query": "SELECT Id, Name FROM Contact", "ApiVersion": 62}
    )
    monkeypatch.setattr(bayeux, "MAX_BATCH", 4)
    live.publish(CHANNEL, "a0", "a1", "a2")
    live.publish("/topic/Contacts", "c0", "c1", "c2")
    post = _raw(live, api)
    connect = _raw_subscriber(post, CHANNEL, "/topic/Contacts")
    first = [m for m in post(connect) if m["channel"] != "/meta/connect"]
    second = [m for m in post(connect) if m["channel"] != "/meta/connect"]
    assert len(first) == 4 and len(second) == 2
    assert sorted(names(first + second)) == ["a0", "a1", "a2", "c0", "c1", "c2"]
