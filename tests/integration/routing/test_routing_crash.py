"""Nothing is lost or done twice: a ``workroute serve --clock manual`` killed with
SIGKILL while agents are online, work waits on a push timeout and a request waits on
its second additional-skill drop (the first came before the kill) comes back on the
same database with the same agents, loads and waiting work, the drop it had made
included; then the push timeout fires once and the second drop comes once, at the
times they were set for before the kill."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.routing.omni_floor import Floor, build_floor, username
from tests.integration.routing.omni_invariants import Entered, memory_view, violations
from workroute.kernel.clock import ManualClock, to_utc
from workroute.org import Org
from workroute.testing import ServerProcess

ADMIN = "admin@example.com"
PASSWORD = "Admin-pass-1"
AGENT_PASSWORD = "Agent-pass-1"
DATA = "/services/data/v62.0"
V1 = "/services/workroute/v1"
OMNI = "/services/omni/v1"
#: Long enough that real seconds spent starting servers never make a timer due.
PUSH_TIMEOUT = 600
DROP_TIMEOUT = 1200


class Client:
    """One user's calls to a running server (password grant, as an app would)."""

    def __init__(self, server: ServerProcess, user: str, password: str) -> None:
        self.base = server.url
        self.http = httpx.Client(timeout=30)
        resp = self.http.post(
            f"{self.base}/services/oauth2/token",
            data={"grant_type": "password", "username": user, "password": password},
        )
        assert resp.status_code == 200, resp.text
        self.headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        resp = self.http.request(method, f"{self.base}{path}", json=body, headers=self.headers)
        assert resp.status_code < 300, resp.text
        return resp.json() if resp.content else None

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        return str(self.call("POST", f"{DATA}/sobjects/{sobject}", fields)["id"])

    def query(self, soql: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.call("GET", f"{DATA}/query?q={soql}")["records"]
        for r in records:
            r.pop("attributes", None)
        return records

    def omni(self, method: str, **args: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.call("POST", f"{OMNI}/{method}", args)
        assert body["success"] is True, body
        return body

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def floor_db(tmp_path: Path) -> tuple[Path, Floor]:
    path = tmp_path / "org.db"
    org = Org.open(database_url=f"sqlite+pysqlite:///{path}", clock=ManualClock())
    try:
        org.initialize(admin_username=ADMIN, admin_password=PASSWORD)
        floor = build_floor(org, password=AGENT_PASSWORD)
    finally:
        org.close()
    return path, floor


class Site:
    """The servers and clients a test starts, all stopped and closed at its end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.servers: list[ServerProcess] = []
        self.clients: list[Client] = []

    def serve(self) -> ServerProcess:
        server = ServerProcess(db=self.path, extra_args=["--clock", "manual"])
        server.start()
        self.servers.append(server)
        return server

    def client(self, server: ServerProcess, user: str, password: str) -> Client:
        client = Client(server, user, password)
        self.clients.append(client)
        return client

    def agents(self, server: ServerProcess, names: tuple[str, ...]) -> dict[str, Client]:
        return {a: self.client(server, username(a), AGENT_PASSWORD) for a in names}

    def close(self) -> None:
        for c in self.clients:
            c.close()
        for s in self.servers:
            s.stop()


@pytest.fixture
def site(floor_db: tuple[Path, Floor]) -> Iterator[Site]:
    site = Site(floor_db[0])
    try:
        yield site
    finally:
        site.close()


def _committed(admin: Client) -> dict[str, list[dict[str, Any]]]:
    """Every row routing keeps, as the API reads it."""
    return {
        "cases": admin.query("SELECT Id, OwnerId FROM Case ORDER BY Id"),
        "works": admin.query(
            "SELECT Id, Status, UserId, WorkItemId, PendingServiceRoutingId FROM AgentWork "
            "ORDER BY Id"
        ),
        "requests": admin.query(
            "SELECT Id, WorkItemId, IsPushed, IsReadyForRouting, Serial FROM "
            "PendingServiceRouting ORDER BY Id"
        ),
        "skills": admin.query(
            "SELECT AgentWorkId, SkillId, WasDropped FROM AgentWorkSkill ORDER BY Id"
        ),
    }


def _console(agents: dict[str, Client]) -> dict[str, Any]:
    """What each agent's console shows: their work and their workload."""
    return {
        name: (
            json.loads(c.omni("getAgentWorks")["works"]),
            c.omni("getAgentWorkload")["currentWorkload"],
            c.omni("getServicePresenceStatusId")["statusId"],
        )
        for name, c in agents.items()
    }


def _server_now(admin: Client) -> datetime:
    return datetime.fromisoformat(admin.call("GET", f"{V1}/clock")["now"])


def _advance_past(admin: Client, due: datetime) -> None:
    """Move the server's clock to a second after ``due`` (timers due by then run)."""
    seconds = (to_utc(due) - _server_now(admin)).total_seconds() + 1
    assert seconds > 1, "a timer fell due before the test moved the clock"
    admin.call("POST", f"{V1}/clock/advance", {"seconds": seconds})


def _skills_request(admin: Client, floor: Floor, needs: list[dict[str, Any]], **fields: Any) -> str:
    case = admin.create("Case", {"Subject": "skills", "OwnerId": floor.holding})
    psr = admin.create(
        "PendingServiceRouting",
        {
            "WorkItemId": case,
            "ServiceChannelId": floor.channel,
            "RoutingType": "SkillsBased",
            "RoutingModel": "MostAvailable",
            "RoutingPriority": 1,
            "CapacityWeight": 1,
            **fields,
        },
    )
    for need in needs:
        admin.create("SkillRequirement", {"RelatedRecordId": psr, **need})
    admin.call("PATCH", f"{DATA}/sobjects/PendingServiceRouting/{psr}", {"IsReadyForRouting": True})
    return case


def _open_org(path: Path) -> Org:
    org = Org.open(database_url=f"sqlite+pysqlite:///{path}", clock=ManualClock())
    org.dispatcher.stop()  # look, do not run timers
    org.omni.paused = True  # nor route
    return org


def test_sigkill_keeps_agents_loads_and_waiting_work_and_fires_each_timer_once(
    floor_db: tuple[Path, Floor], site: Site
) -> None:
    path, floor = floor_db
    s0, s1, s2 = (floor.skills[s] for s in ("s0", "s1", "s2"))
    online = ("a0", "a1", "a2")
    first = site.serve()
    admin = site.client(first, ADMIN, PASSWORD)
    agents = site.agents(first, online)
    for c in agents.values():
        c.omni("login", statusId=floor.available)

    # Waiting on two drops: s0 at 5 is only a0, who has neither additional skill. The
    # first drop (s2, priority 2) happens before the kill: still nobody (s1 at 4 is a2
    # only, who lacks s0).
    dropping = _skills_request(
        admin,
        floor,
        [
            {"SkillId": s0, "SkillLevel": 5},
            {"SkillId": s2, "SkillLevel": 6, "IsAdditionalSkill": True, "SkillPriority": 2},
            {"SkillId": s1, "SkillLevel": 4, "IsAdditionalSkill": True, "SkillPriority": 1},
        ],
        DropAdditionalSkillsTimeout=DROP_TIMEOUT,
    )
    admin.call("POST", f"{V1}/clock/advance", {"seconds": DROP_TIMEOUT + 1})
    # Pushed, waiting on its push timeout: s1 at 3 or more is a0 (3) or a2 (5).
    pushed = _skills_request(
        admin, floor, [{"SkillId": s1, "SkillLevel": 3}], PushTimeout=PUSH_TIMEOUT
    )
    # Opened work (q2, 50 %), closed work, and a case waiting for an external router.
    opened = admin.create("Case", {"Subject": "opened", "OwnerId": floor.queues["q2"]})
    closed = admin.create("Case", {"Subject": "closed", "OwnerId": floor.queues["q2"]})
    external = admin.create("Case", {"Subject": "external", "OwnerId": floor.queues["ext"]})
    holder = {
        w["WorkItemId"]: w for w in admin.query("SELECT Id, UserId, WorkItemId FROM AgentWork")
    }
    by_user = {uid: name for name, uid in floor.agents.items()}
    agents[by_user[holder[opened]["UserId"]]].omni("acceptAgentWork", workId=holder[opened]["Id"])
    closer = agents[by_user[holder[closed]["UserId"]]]
    closer.omni("acceptAgentWork", workId=holder[closed]["Id"])
    closer.omni("closeAgentWork", workId=holder[closed]["Id"])
    first_holder = by_user[holder[pushed]["UserId"]]
    assert dropping not in holder and external not in holder

    before = _committed(admin)
    console_before = _console(agents)
    first.kill()  # SIGKILL: no shutdown code runs
    first.stop()

    # Everything is in the database: the timers, and memory rebuilt from the rows.
    org = _open_org(path)
    try:
        timers = {(t.kind, t.record_id): t.due_at for t in org.timers.list()}
        work_id = str(holder[pushed]["Id"])
        psr_id = str(org.store.find("PendingServiceRouting", WorkItemId=dropping)[0]["Id"])
        ext_id = str(org.store.find("PendingServiceRouting", WorkItemId=external)[0]["Id"])
        assert set(timers) == {("omni.push_timeout", work_id), ("omni.drop_skills", psr_id)}
        push_due = timers[("omni.push_timeout", work_id)]
        drop_due = timers[("omni.drop_skills", psr_id)]
        assert violations(org) == []
        org.omni.refresh()
        rebuilt = memory_view(org.omni)
    finally:
        org.close()
    assert set(rebuilt["agents"]) == {floor.agents[a] for a in online}
    assert rebuilt["order"] == [psr_id, ext_id]  # waiting, in routing order
    assert rebuilt["items"][psr_id]["drop"] == (DROP_TIMEOUT, 1)  # one group dropped

    second = site.serve()
    admin = site.client(second, ADMIN, PASSWORD)
    agents = site.agents(second, online)
    assert _committed(admin) == before
    assert _console(agents) == console_before

    # The push timeout fires once: the work is DeclinedOnPushTimeout and goes to the
    # other agent with s1; nothing else moves.
    _advance_past(admin, push_due)
    works = admin.query(
        f"SELECT Id, Status, UserId FROM AgentWork WHERE WorkItemId = '{pushed}' ORDER BY Id"
    )
    other = "a2" if first_holder == "a0" else "a0"
    assert [(w["Status"], by_user[w["UserId"]]) for w in works] == [
        ("DeclinedOnPushTimeout", first_holder),
        ("Assigned", other),
    ]
    agents[other].omni("acceptAgentWork", workId=works[1]["Id"])  # no second timeout

    # The second drop (s1) at the time set before the kill lets a0 take it, both
    # additional skills marked dropped.
    assert admin.query(f"SELECT Id FROM AgentWork WHERE WorkItemId = '{dropping}'") == []
    _advance_past(admin, drop_due)
    [work] = admin.query(f"SELECT Id, UserId FROM AgentWork WHERE WorkItemId = '{dropping}'")
    assert by_user[work["UserId"]] == "a0"
    skills = admin.query(
        f"SELECT SkillId, WasDropped FROM AgentWorkSkill WHERE AgentWorkId = '{work['Id']}'"
    )
    assert {(s["SkillId"], s["WasDropped"]) for s in skills} == {
        (s0, False),
        (s2, True),
        (s1, True),
    }

    # Much later: nothing fires again, nothing is duplicated.
    admin.call("POST", f"{V1}/clock/advance", {"seconds": 10 * DROP_TIMEOUT})
    after = _committed(site.client(second, ADMIN, PASSWORD))  # the old session expired
    assert [w["Status"] for w in after["works"] if w["WorkItemId"] == pushed] == [
        "DeclinedOnPushTimeout",
        "Opened",
    ]
    assert len([w for w in after["works"] if w["WorkItemId"] == dropping]) == 1
    kept = {w["Id"]: w for w in after["works"]}
    for w in before["works"]:
        if w["WorkItemId"] != pushed:
            assert kept[w["Id"]] == w
    second.stop()

    org = _open_org(path)
    try:
        start = Entered(at=datetime.min.replace(tzinfo=UTC))
        tracked = {c: start for c in (pushed, dropping, opened, closed, external)}
        assert violations(org, tracked) == []
        assert org.timers.list() == []
    finally:
        org.close()
