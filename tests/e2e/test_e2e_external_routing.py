"""External routing end to end (seed 003, "Integrate External Routing" and "Expected
Behavior"): ``workroute serve`` over HTTPS, the seed's PushTopic on
PendingServiceRouting created through REST, and an external router played by the
unmodified aiocometd-ng client: it listens over CometD, and routes by creating
AgentWork through REST. Every sequence of "Expected Behavior" happens with the events
the seed lists; the router restarts and replays from its last replay id, missing
nothing and getting nothing twice."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from aiocometd_ng.client import Client

from tests.e2e.conftest import ADMIN, ADMIN_PASSWORD, LiveServer, serve
from tests.integration.streaming.cometd_harness import Bearer, Replay

AGENTS = ("ann@e2e-ext.example.com", "bo@e2e-ext.example.com")
PASSWORD = "E2e-ext-pass-1"
TOPIC = "/topic/PSRPushTopic"
# The seed's PushTopic, as its Apex sample creates it.
SEED_QUERY = (
    "Select Id, Serial, QueueId, WorkItemId, IsPushed, ServiceChannelId,\n"
    "LastDeclinedAgentSession, CreatedDate from PendingServiceRouting where RoutingModel =\n"
    "'ExternalRouting'"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(
        tmp_path_factory.mktemp("ext-server"),
        [(user, PASSWORD) for user in AGENTS],
        ["--clock", "manual"],
    )


class Rest:
    def __init__(self, server: LiveServer, username: str, password: str) -> None:
        self.session = server.session()
        self.session.headers["Authorization"] = f"Bearer {server.token(username, password)}"
        self.url = server.url

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.session.post(f"{self.url}{path}", json=body)
        assert resp.status_code in (200, 201), resp.text
        result: dict[str, Any] = resp.json()
        return result

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        return str(self.post(f"/services/data/v62.0/sobjects/{sobject}", fields)["id"])

    def get(self, sobject: str, rid: str) -> dict[str, Any]:
        resp = self.session.get(f"{self.url}/services/data/v62.0/sobjects/{sobject}/{rid}")
        assert resp.status_code == 200, resp.text
        found: dict[str, Any] = resp.json()
        return found

    def query(self, soql: str) -> list[dict[str, Any]]:
        resp = self.session.get(f"{self.url}/services/data/v62.0/query", params={"q": soql})
        assert resp.status_code == 200, resp.text
        records: list[dict[str, Any]] = resp.json()["records"]
        return records

    def omni(self, method: str, **args: Any) -> dict[str, Any]:
        return self.post(f"/services/omni/v1/{method}", args)


class ExternalRouter:
    """The partner application: a CometD subscriber that keeps its replay position
    (as it would in its own storage) and routes through the REST API."""

    def __init__(self, server: LiveServer, admin: Rest) -> None:
        self.server = server
        self.admin = admin
        self.token = server.token(ADMIN, ADMIN_PASSWORD)
        self.replay = Replay(start=-1)
        self.ssl = ssl.create_default_context(cafile=str(server.ca_path))
        self.received: list[dict[str, Any]] = []

    def listen(self, count: int, action: Any = None) -> list[dict[str, Any]]:
        """Connect, subscribe from the kept position, run ``action`` (in a thread, as
        the rest of the world acts), take ``count`` events, disconnect."""

        async def go() -> list[dict[str, Any]]:
            client = Client(
                f"{self.server.url}/cometd/62.0",
                auth=Bearer(self.token),
                extensions=[self.replay],
                ssl=self.ssl,
            )
            async with client:
                await client.subscribe(TOPIC)
                if action is not None:
                    await asyncio.to_thread(action)
                got: list[dict[str, Any]] = []

                async def take() -> None:
                    async for message in client:
                        got.append(message)
                        if len(got) == count:
                            return

                await asyncio.wait_for(take(), 30)
                return got

        got = asyncio.run(go())
        self.received += got
        return got

    def route(self, event: dict[str, Any], user_id: str) -> str:
        psr = event["data"]["sobject"]
        return self.admin.create(
            "AgentWork",
            {
                "UserId": user_id,
                "WorkItemId": psr["WorkItemId"],
                "ServiceChannelId": psr["ServiceChannelId"],
                "PendingServiceRoutingId": psr["Id"],
            },
        )


def _kind(event: dict[str, Any]) -> str:
    return str(event["data"]["event"]["type"])


def _psr(event: dict[str, Any]) -> dict[str, Any]:
    sobject: dict[str, Any] = event["data"]["sobject"]
    return sobject


def test_the_seed_s_expected_behavior_with_a_cometd_router(server: LiveServer) -> None:
    admin = Rest(server, ADMIN, ADMIN_PASSWORD)
    users = {r["Username"]: r["Id"] for r in admin.query("SELECT Id, Username FROM User")}
    ann_id, bo_id = users[AGENTS[0]], users[AGENTS[1]]
    channel = admin.create(
        "ServiceChannel",
        {"DeveloperName": "Chats", "MasterLabel": "Chats", "RelatedEntity": "Case"},
    )
    online = admin.create("ServicePresenceStatus", {"DeveloperName": "On", "MasterLabel": "On"})
    admin.create(
        "ServiceChannelStatus", {"ServiceChannelId": channel, "ServicePresenceStatusId": online}
    )
    presence = admin.create(
        "PresenceUserConfig",
        {"DeveloperName": "Agents", "MasterLabel": "Agents", "Capacity": 4,
         "OptionsIsDeclineEnabled": True},
    )  # fmt: skip
    for uid in (ann_id, bo_id):
        admin.create("PresenceUserConfigUser", {"PresenceUserConfigId": presence, "UserId": uid})
    external = admin.create(
        "QueueRoutingConfig",
        {"DeveloperName": "Partner", "MasterLabel": "Partner", "RoutingModel": "ExternalRouting",
         "RoutingPriority": 1, "CapacityWeight": 1, "PushTimeout": 30},
    )  # fmt: skip
    queue = admin.create(
        "Group",
        {"Name": "Partner", "DeveloperName": "Partner", "Type": "Queue",
         "QueueRoutingConfigId": external},
    )  # fmt: skip
    admin.create("QueueSobject", {"QueueId": queue, "SobjectType": "Case"})
    # Step 2: the PushTopic, as the seed's sample writes it.
    admin.create(
        "PushTopic",
        {"Name": "PSRPushTopic", "Query": SEED_QUERY, "ApiVersion": 41.0,
         "NotifyForOperationCreate": True, "NotifyForOperationUpdate": True,
         "NotifyForOperationDelete": True, "NotifyForFields": "Referenced"},
    )  # fmt: skip
    ann, bo = (Rest(server, name, PASSWORD) for name in AGENTS)
    ann.omni("login", statusId=online)
    bo.omni("login", statusId=online)
    router = ExternalRouter(server, admin)

    # -- Agent accepts the work -------------------------------------------------------
    box: dict[str, str] = {}

    def new_case() -> None:
        box["case"] = admin.create("Case", {"Subject": "chat 1", "OwnerId": queue})

    [created] = router.listen(1, new_case)
    case = box["case"]
    assert _kind(created) == "created" and created["channel"] == TOPIC
    assert _psr(created)["IsPushed"] is False and _psr(created)["WorkItemId"] == case
    assert set(_psr(created)) == {
        "Id", "Serial", "QueueId", "WorkItemId", "IsPushed", "ServiceChannelId",
        "LastDeclinedAgentSession", "CreatedDate",
    }  # fmt: skip
    psr_id = _psr(created)["Id"]
    work = router.route(created, ann_id)
    assert admin.get("AgentWork", work)["Status"] == "Assigned"
    pushed, deleted = router.listen(2, lambda: ann.omni("acceptAgentWork", workId=work))
    assert _kind(pushed) == "updated" and _psr(pushed)["IsPushed"] is True
    assert _kind(deleted) == "deleted" and _psr(deleted) == {"Id": psr_id}
    assert admin.query(f"SELECT Id FROM PendingServiceRouting WHERE Id = '{psr_id}'") == []

    # -- Agent declines the work through Omni-Channel ------------------------------
    [created] = router.listen(
        1, lambda: box.update(case=admin.create("Case", {"Subject": "chat 2", "OwnerId": queue}))
    )
    declined_case = box["case"]
    first = router.route(created, ann_id)
    pushed, declined = router.listen(2, lambda: ann.omni("declineAgentWork", workId=first))
    assert _psr(pushed)["IsPushed"] is True
    assert _kind(declined) == "updated" and _psr(declined)["IsPushed"] is False
    assert _psr(declined)["LastDeclinedAgentSession"]
    assert _psr(declined)["Serial"] > _psr(pushed)["Serial"]
    second = router.route(declined, bo_id)  # re-routed with the updated request
    assert admin.get("AgentWork", second)["Status"] == "Assigned"

    # -- Agent doesn't accept the work due to push time-out ------------------------
    def time_passes() -> None:
        moved = admin.session.post(
            f"{server.url}/services/workroute/v1/clock/advance", json={"seconds": 31}
        )
        assert moved.status_code == 200, moved.text

    pushed, timed_out = router.listen(2, time_passes)
    assert _psr(pushed)["IsPushed"] is True  # bo's offer, made just before
    assert _kind(timed_out) == "updated" and _psr(timed_out)["IsPushed"] is False
    assert _psr(timed_out)["LastDeclinedAgentSession"]
    assert admin.get("AgentWork", second)["Status"] == "DeclinedOnPushTimeout"
    third = router.route(timed_out, ann_id)
    pushed, gone = router.listen(2, lambda: ann.omni("acceptAgentWork", workId=third))
    assert _kind(gone) == "deleted"

    # -- Agent transfers the work to an external routing queue ----------------------
    [transferred] = router.listen(
        1, lambda: ann.omni("transferAgentWork", workId=third, queueId=queue)
    )
    assert _kind(transferred) == "created" and _psr(transferred)["IsPushed"] is False
    assert _psr(transferred)["WorkItemId"] == declined_case
    # The partner queries the request for its details (step 3 of the architecture).
    request = admin.get("PendingServiceRouting", _psr(transferred)["Id"])
    assert request["IsTransfer"] is True

    # -- The router restarts: what happened meanwhile is replayed, once ---------------
    last_seen = router.replay.positions[TOPIC]
    c3 = admin.create("Case", {"Subject": "while down 1", "OwnerId": queue})
    c4 = admin.create("Case", {"Subject": "while down 2", "OwnerId": queue})
    restarted = ExternalRouter(server, admin)
    restarted.replay.positions[TOPIC] = last_seen  # read back from its own storage
    missed = restarted.listen(2)
    assert [(_kind(e), _psr(e)["WorkItemId"]) for e in missed] == [
        ("created", c3),
        ("created", c4),
    ]
    ids = [int(e["data"]["event"]["replayId"]) for e in router.received + missed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
