"""/services/workroute/v1: clock, time-based workflow queue and outbox over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tests.integration.api.api_harness import USER_PASSWORD, Api, Caller, assert_error
from tests.integration.workflow.conftest import bump, deploy, item, rule, write_package

from workroute.kernel.clock import ManualClock
from workroute.org import Org

V1 = "/services/workroute/v1"

TIMED = bump("Count") + rule(
    "Later",
    criteria=item("Job__c.Status__c", "equals", "Open"),
    extra="<workflowTimeTriggers><actions><name>Count</name><type>FieldUpdate</type>"
    "</actions><timeLength>3</timeLength><workflowTimeTriggerUnit>Hours"
    "</workflowTimeTriggerUnit></workflowTimeTriggers>",
)


def test_clock_advance_runs_due_timers_before_returning(
    api: Api, admin: Caller, org: Org, clock: ManualClock, tmp_path: Path
) -> None:
    assert deploy(org, write_package(tmp_path / "p", TIMED)).success
    rid = admin.create("Job__c", {"Name": "j", "Status__c": "Open"})
    before = admin.get(f"{V1}/clock").json()
    assert before["manual"] is True
    queue = admin.get(f"{V1}/workflow/queue").json()
    assert queue["totalSize"] == 1 and queue["records"][0]["recordId"] == rid
    resp = admin.post(f"{V1}/clock/advance", {"seconds": 3 * 3600})
    assert resp.status_code == 200, resp.text
    moved = datetime.fromisoformat(resp.json()["now"]) - datetime.fromisoformat(before["now"])
    assert moved == timedelta(hours=3)
    admin = api.caller()  # sessions expire with the moved clock, as they should
    assert admin.read("Job__c", rid, "Hits__c")["Hits__c"] == 1
    assert admin.get(f"{V1}/workflow/queue").json()["totalSize"] == 0


def test_queued_actions_can_be_deleted(
    api: Api, admin: Caller, org: Org, clock: ManualClock, tmp_path: Path
) -> None:
    assert deploy(org, write_package(tmp_path / "p", TIMED)).success
    rid = admin.create("Job__c", {"Name": "j", "Status__c": "Open"})
    [queued] = admin.get(f"{V1}/workflow/queue", params={"recordId": rid}).json()["records"]
    assert admin.delete(f"{V1}/workflow/queue/{queued['id']}").status_code == 204
    assert_error(admin.delete(f"{V1}/workflow/queue/{queued['id']}"), 404, "NOT_FOUND")
    clock.advance(timedelta(hours=4))
    admin = api.caller()
    assert admin.read("Job__c", rid, "Hits__c")["Hits__c"] is None


def test_bad_requests_change_nothing(api: Api, admin: Caller, clock: ManualClock) -> None:
    now = clock.now()
    bodies: list[object] = [
        {"seconds": -1},
        {"seconds": "10"},
        {"minutes": 1},
        [],
        {"seconds": 1e12},
    ]
    for body in bodies:
        resp = admin.post(f"{V1}/clock/advance", body)
        assert resp.status_code == 400, (body, resp.text)
    assert clock.now() == now
    assert_error(admin.get(f"{V1}/outbox", params={"status": "lost"}), 400, "INVALID_FIELD")
    assert_error(admin.get(f"{V1}/outbox", params={"kind": "pigeon"}), 400, "INVALID_FIELD")
    assert_error(admin.post(f"{V1}/outbox/999/retry"), 404, "NOT_FOUND")
    assert_error(admin.delete(f"{V1}/outbox/999"), 404, "NOT_FOUND")


def test_only_administrators(api: Api, clock: ManualClock) -> None:
    api.add_user("agent@example.com")
    agent = api.caller("agent@example.com", USER_PASSWORD)
    now = clock.now()
    for resp in (
        agent.get(f"{V1}/clock"),
        agent.post(f"{V1}/clock/advance", {"seconds": 60}),
        agent.get(f"{V1}/workflow/queue"),
        agent.get(f"{V1}/outbox"),
    ):
        assert_error(resp, 403, "INSUFFICIENT_ACCESS")
    assert clock.now() == now
    assert api.client.get(f"{V1}/clock").status_code == 401


def test_the_system_clock_cannot_be_advanced(sqlite_url: str) -> None:
    from tests.conftest import ADMIN, ADMIN_PASSWORD
    from tests.integration.api.api_harness import TestClient

    from workroute.api.app import create_app

    org = Org.open(database_url=sqlite_url)
    org.initialize(admin_username=ADMIN, admin_password=ADMIN_PASSWORD)
    try:
        with TestClient(create_app(org), raise_server_exceptions=False) as client:
            admin = Api(org, client).caller()
            assert admin.get(f"{V1}/clock").json()["manual"] is False
            assert_error(admin.post(f"{V1}/clock/advance", {"seconds": 1}), 409, "ENTITY_IS_LOCKED")
    finally:
        org.close()
