"""Nothing is lost: ``workroute serve`` is killed (SIGKILL) while record saves produce
PushTopic events, some of them in transactions that roll back. After a restart, a
CometD client that replays from the last replay id it had receives every committed
event exactly once, and none from the rolled-back work."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from aiocometd_ng.client import Client

from tests.e2e.conftest import ADMIN, ADMIN_PASSWORD, LiveServer, serve
from tests.integration.streaming.cometd_harness import Bearer, Replay

TOPIC = "/topic/Accounts"
BATCH = 10


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("crash-server"), [])


class Producer(threading.Thread):
    """Saves batches of Accounts, all-or-none; every third batch holds a bad record,
    so its whole transaction rolls back. Runs until told to stop or the server dies."""

    def __init__(self, session: requests.Session, url: str) -> None:
        super().__init__(daemon=True)
        self.session = session
        self.url = f"{url}/services/data/v62.0/composite/sobjects"
        self.stop = threading.Event()
        self.committed = 0
        self.batches = 0

    def run(self) -> None:
        while not self.stop.is_set():
            n = self.batches
            self.batches += 1
            bad = n % 3 == 2
            records: list[dict[str, Any]] = [
                {"attributes": {"type": "Account"}, "Name": f"{'bad' if bad else 'ok'}-{n}-{i}"}
                for i in range(BATCH)
            ]
            if bad:
                records[-1] = {"attributes": {"type": "Account"}, "NoSuchField__c": 1}
            try:
                resp = self.session.post(self.url, json={"allOrNone": True, "records": records})
            except requests.RequestException:
                return  # the server is gone
            if resp.status_code == 200 and all(r["success"] for r in resp.json()):
                self.committed += 1


def _listen(server: LiveServer, token: str, replay: Replay, until: Any) -> list[dict[str, Any]]:
    """Subscribe from the replay's position and take events until ``until(got)``."""

    async def go() -> list[dict[str, Any]]:
        context = ssl.create_default_context(cafile=str(server.ca_path))
        client = Client(
            f"{server.url}/cometd/62.0", auth=Bearer(token), extensions=[replay], ssl=context
        )
        got: list[dict[str, Any]] = []
        async with client:
            await client.subscribe(TOPIC)

            async def take() -> None:
                async for message in client:
                    got.append(message)
                    if until(got):
                        return

            await asyncio.wait_for(take(), 60)
        return got

    return asyncio.run(go())


def _name(event: dict[str, Any]) -> str:
    return str(event["data"]["sobject"]["Name"])


def test_a_killed_server_loses_no_event_and_publishes_none_of_rolled_back_work(
    server: LiveServer,
) -> None:
    admin = server.session()
    token = server.token(ADMIN, ADMIN_PASSWORD)
    admin.headers["Authorization"] = f"Bearer {token}"
    made = admin.post(
        f"{server.url}/services/data/v62.0/sobjects/PushTopic",
        json={"Name": "Accounts", "Query": "SELECT Id, Name FROM Account", "ApiVersion": 62},
    )
    assert made.status_code == 201, made.text

    producer = Producer(admin, server.url)
    replay = Replay(start=-2)
    producer.start()
    before = _listen(server, token, replay, lambda got: len(got) >= 3 * BATCH)
    assert producer.is_alive()
    server.process.kill()  # while the producer is still saving
    producer.join(timeout=60)
    assert not producer.is_alive() and producer.committed >= 3

    server.process.start()
    sentinel = admin.post(
        f"{server.url}/services/data/v62.0/sobjects/Account", json={"Name": "sentinel"}
    )
    assert sentinel.status_code == 201, sentinel.text
    after = _listen(server, token, replay, lambda got: _name(got[-1]) == "sentinel")

    resp = admin.get(
        f"{server.url}/services/data/v62.0/query", params={"q": "SELECT Name FROM Account"}
    )
    stored = sorted(r["Name"] for r in resp.json()["records"])
    delivered = [_name(e) for e in before + after]
    assert sorted(delivered) == stored  # every committed save once, nothing else
    assert not any(n.startswith("bad-") for n in delivered)
    ids = [int(e["data"]["event"]["replayId"]) for e in before + after]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert len(stored) >= producer.committed * BATCH  # the last batch may have landed unseen
