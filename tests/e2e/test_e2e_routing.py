"""Omni-Channel routing end to end: ``workroute serve --clock manual`` over HTTPS with
the org's Omni-Channel limits set on the command line, simple-salesforce for the
administrator's setup and records, and agents calling the console API with their own
tokens. Work is routed, accepted, timed out on a moved clock and re-routed, and past
the limit it overflows to the routing configuration's overflow assignee."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.conftest import ADMIN, ADMIN_PASSWORD, LiveServer, serve

AGENTS = ("ann@e2e-omni.example.com", "bo@e2e-omni.example.com")
PASSWORD = "E2e-omni-pass-1"
OVERFLOW = "overflow@e2e-omni.example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve(
        tmp_path_factory.mktemp("omni-server"),
        [(user, PASSWORD) for user in (*AGENTS, OVERFLOW)],
        ["--clock", "manual", "--omni-max-queued", "1"],
    )


class Agent:
    def __init__(self, server: LiveServer, username: str) -> None:
        self.session = server.session()
        self.session.headers["Authorization"] = f"Bearer {server.token(username, PASSWORD)}"
        self.url = f"{server.url}/services/omni/v1"

    def ok(self, method: str, **args: Any) -> dict[str, Any]:
        resp = self.session.post(f"{self.url}/{method}", json=args)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    def works(self) -> list[dict[str, Any]]:
        works: list[dict[str, Any]] = json.loads(self.ok("getAgentWorks")["works"])
        return works


def test_routing_over_https_with_limits_from_the_command_line(server: LiveServer) -> None:
    sf: Any = server.client()  # its objects are attributes made at run time
    users = {
        r["Username"]: r["Id"] for r in sf.query_all("SELECT Id, Username FROM User")["records"]
    }
    channel = sf.ServiceChannel.create(
        {"DeveloperName": "Cases", "MasterLabel": "Cases", "RelatedEntity": "Case"}
    )["id"]
    online = sf.ServicePresenceStatus.create({"DeveloperName": "Online", "MasterLabel": "Online"})[
        "id"
    ]
    sf.ServiceChannelStatus.create({"ServiceChannelId": channel, "ServicePresenceStatusId": online})
    presence = sf.PresenceUserConfig.create(
        {"DeveloperName": "Agents", "MasterLabel": "Agents", "Capacity": 2}
    )["id"]
    for name in AGENTS:
        sf.PresenceUserConfigUser.create({"PresenceUserConfigId": presence, "UserId": users[name]})
    config = sf.QueueRoutingConfig.create(
        {
            "DeveloperName": "Support",
            "MasterLabel": "Support",
            "RoutingModel": "MostAvailable",
            "RoutingPriority": 1,
            "CapacityWeight": 1,
            "PushTimeout": 30,
            "OverflowAssigneeId": users[OVERFLOW],
        }
    )["id"]
    queue = sf.Group.create(
        {"Name": "Support", "DeveloperName": "Support", "Type": "Queue",
         "QueueRoutingConfigId": config}
    )["id"]  # fmt: skip
    sf.QueueSobject.create({"QueueId": queue, "SobjectType": "Case"})
    for name in AGENTS:
        sf.GroupMember.create({"GroupId": queue, "UserOrGroupId": users[name]})

    # Nobody online: the first case waits; the org allows one waiting item, so the
    # second goes to the overflow assignee.
    first = sf.Case.create({"Subject": "first", "OwnerId": queue})["id"]
    second = sf.Case.create({"Subject": "second", "OwnerId": queue})["id"]
    assert sf.Case.get(second)["OwnerId"] == users[OVERFLOW]
    assert sf.Case.get(first)["OwnerId"] == queue
    waiting = sf.query(
        f"SELECT Id, IsPushed FROM PendingServiceRouting WHERE WorkItemId = '{first}'"
    )
    assert [r["IsPushed"] for r in waiting["records"]] == [False]

    ann, bo = (Agent(server, name) for name in AGENTS)
    ann.ok("login", statusId=online)
    [offer] = ann.works()
    assert offer["workItemId"] == first and offer["isEngaged"] is False

    # Ann lets the push timeout pass (the org clock is moved, nobody sleeps): the case
    # is re-routed to Bo once he is online.
    bo.ok("login", statusId=online)
    admin = server.session()
    admin.headers["Authorization"] = f"Bearer {server.token(ADMIN, ADMIN_PASSWORD)}"
    moved = admin.post(f"{server.url}/services/workroute/v1/clock/advance", json={"seconds": 31})
    assert moved.status_code == 200, moved.text
    timed_out = sf.query(
        f"SELECT Status, UserId FROM AgentWork WHERE WorkItemId = '{first}' ORDER BY CreatedDate"
    )["records"]
    assert [(w["Status"], w["UserId"]) for w in timed_out] == [
        ("DeclinedOnPushTimeout", users[AGENTS[0]]),
        ("Assigned", users[AGENTS[1]]),
    ]
    [again] = bo.works()
    bo.ok("acceptAgentWork", workId=again["workId"])
    assert sf.Case.get(first)["OwnerId"] == users[AGENTS[1]]
    assert (
        sf.query(f"SELECT Id FROM PendingServiceRouting WHERE WorkItemId = '{first}'")["totalSize"]
        == 0
    )

    # Another agent's work cannot be closed, and a malformed id is refused.
    resp = ann.session.post(f"{ann.url}/closeAgentWork", json={"workId": again["workId"]})
    assert resp.status_code == 404 and resp.json()[0]["errorCode"] == "NOT_FOUND"
    resp = ann.session.post(f"{ann.url}/closeAgentWork", json={"workId": "nope"})
    assert resp.status_code == 400
    bo.ok("closeAgentWork", workId=again["workId"])
    assert bo.works() == []


def test_an_unauthenticated_console_call_is_refused(server: LiveServer) -> None:
    s = requests.Session()
    s.trust_env = False
    s.verify = str(server.ca_path)
    resp = s.post(f"{server.url}/services/omni/v1/getAgentWorks", json={})
    assert resp.status_code == 401
    assert resp.json()[0]["errorCode"] == "INVALID_SESSION_ID"
