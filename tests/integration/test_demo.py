"""The demo org (``workroute init --demo``): everyone it creates can use the console from
the start, through the REST API on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.api_harness import USER_PASSWORD, Api, Caller
from tests.integration.routing.omni_harness import OMNI
from workroute.demo import DEMO_AGENT_PASSWORD, DEMO_DOMAIN, create_demo

SUPERVISOR = f"supervisor@{DEMO_DOMAIN}"
AGENTS = [f"agent{n}@{DEMO_DOMAIN}" for n in range(1, 5)]


@pytest.fixture
def demo(api: Api) -> Api:
    create_demo(api.org, admin_id=api.org.admin_user_id())
    return api


def ids(admin: Caller, soql: str, key: str = "Id") -> dict[str, str]:
    return {str(r[key]): str(r["Id"]) for r in admin.query(soql)["records"]}


def read(caller: Caller, path: str) -> dict[str, Any]:
    resp = caller.get(path)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_the_supervisor_sees_the_demo_agents_and_may_change_their_queues(
    demo: Api, admin: Caller
) -> None:
    users = ids(admin, "SELECT Id, Username FROM User", "Username")
    queues = ids(admin, "SELECT Id, DeveloperName FROM Group WHERE Type = 'Queue'", "DeveloperName")
    supervisor = demo.caller(SUPERVISOR, DEMO_AGENT_PASSWORD)

    config = read(supervisor, f"{OMNI}/supervisor/config")
    assert config["agentIds"] == sorted(users[a] for a in AGENTS)
    assert config["queueIds"] == sorted(queues.values())
    assert config["actions"] == [
        "AllAgents.ChangeQueues",
        "AllAgents.ChangeSkills",
        "QueuesBacklog.ManageQueues",
    ]

    agents = read(supervisor, f"{OMNI}/supervisor/agents")["agents"]
    by_id = {a["userId"]: a for a in agents}
    assert set(by_id) == {users[a] for a in AGENTS}
    assert by_id[users[AGENTS[0]]]["name"] == "Ada Lovelace"
    assert by_id[users[AGENTS[2]]]["queueIds"] == sorted(queues.values())
    assert all(a["online"] is False for a in agents)

    # The action the supervisor page offers (AllAgents.ChangeQueues) is allowed.
    ada = users[AGENTS[0]]
    resp = supervisor.post(f"{OMNI}/supervisor/agents/{ada}/queues", {"add": [queues["Billing"]]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["queueIds"] == sorted(queues.values())


def test_the_admin_may_go_online(demo: Api, admin: Caller) -> None:
    statuses = ids(admin, "SELECT Id, DeveloperName FROM ServicePresenceStatus", "DeveloperName")
    available = statuses["Available_Cases"]

    granted = read(admin, f"{OMNI}/console")["statuses"]
    assert [(s["statusApiName"], s["isOnline"]) for s in granted] == [
        ("Available_Cases", True),
        ("Busy", False),
    ]
    resp = admin.post(f"{OMNI}/login", {"statusId": available})
    assert resp.status_code == 200, resp.text
    resp = admin.post(f"{OMNI}/getServicePresenceStatusId", {})
    assert resp.status_code == 200, resp.text
    assert resp.json()["statusId"] == available


def test_a_user_outside_the_grants_may_not_go_online(demo: Api, admin: Caller) -> None:
    """The grants are enforced in the demo, so the admin's comes from their permission set."""
    [available] = admin.query(
        "SELECT Id FROM ServicePresenceStatus WHERE DeveloperName = 'Available_Cases'"
    )["records"]
    demo.add_user(f"visitor@{DEMO_DOMAIN}")
    visitor = demo.caller(f"visitor@{DEMO_DOMAIN}", USER_PASSWORD)
    resp = visitor.post(f"{OMNI}/login", {"statusId": available["Id"]})
    assert resp.status_code == 403, resp.text
    assert resp.json()[0]["errorCode"] == "PRESENCE_STATUS_NOT_ALLOWED"
