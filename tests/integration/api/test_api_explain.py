"""POST /services/workroute/v1/workflow/explain: every rule, why it fired or not, and
what it would queue, for a change that is rolled back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.integration.api.api_harness import USER_PASSWORD, Api, Caller, assert_error
from tests.integration.workflow.conftest import (
    bump,
    deploy,
    field_update,
    item,
    rule,
    write_package,
)

from workroute.org import Org

URL = "/services/workroute/v1/workflow/explain"

WORKFLOW = (
    bump("Count")
    + field_update("Promote", "Status__c", "NextValue", reevaluate=True)
    + "<alerts><fullName>Tell</fullName><ccEmails>cc@example.com</ccEmails>"
    "<description>Tell</description><protected>false</protected>"
    "<recipients><field>Contact_Email__c</field><type>email</type></recipients>"
    "<senderType>CurrentUser</senderType><template>Jobs/Opened</template></alerts>"
    + rule(
        "NewJob",
        criteria=item("Job__c.Status__c", "equals", "New")
        + item("Job__c.Step__c", "greaterThan", "2"),
        actions=(("Promote", "FieldUpdate"),),
    )
    + rule(
        "Opened",
        criteria=item("Job__c.Status__c", "equals", "Open"),
        actions=(("Tell", "Alert"), ("Count", "FieldUpdate")),
        extra="<workflowTimeTriggers><actions><name>Count</name><type>FieldUpdate</type>"
        "</actions><timeLength>2</timeLength><workflowTimeTriggerUnit>Days"
        "</workflowTimeTriggerUnit></workflowTimeTriggers>",
    )
    + rule("Big", formula="Step__c &gt; 10", trigger="onAllChanges")
    + rule("Off", criteria=item("Job__c.Status__c", "equals", "New"), active=False)
)


@pytest.fixture
def deployed(org: Org, tmp_path: Path) -> Org:
    pkg = write_package(
        tmp_path / "p",
        WORKFLOW,
        templates={"Jobs/Opened": ("Job {!Job__c.Name} opened", "Status: {!Job__c.Status__c}")},
    )
    result = deploy(org, pkg)
    assert result.success, [p.describe() for p in result.problems]
    return org


def _rules(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in body["rules"]:
        out.setdefault(r["rule"], []).append(r)
    return out


def _nothing_kept(org: Org) -> None:
    assert org.store.find("Job__c") == []
    assert org.outbox.list() == []
    assert org.timers.list() == []


def test_create_shows_every_rule_and_what_it_would_queue(deployed: Org, admin: Caller) -> None:
    values = {"Name": "J-1", "Status__c": "New", "Step__c": 5, "Contact_Email__c": "c@x.test"}
    resp = admin.post(URL, {"object": "job__c", "values": values})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["object"] == "Job__c" and body["operation"] == "create"
    assert body["recordId"] is None
    rules = _rules(body)
    assert set(rules) == {"NewJob", "Opened", "Big", "Off"}
    # NewJob fired in the first round; both criteria are shown with the values tested.
    [new_job] = rules["NewJob"]
    assert new_job["fired"] and new_job["round"] == 0
    assert [(c["field"], c["actual"], c["met"]) for c in new_job["criteria"]] == [
        ("Job__c.Status__c", "New", True),
        ("Job__c.Step__c", 5, True),
    ]
    # Its field update moved Status to Open and re-evaluation fired Opened in round 1.
    opened = rules["Opened"]
    assert [(o["round"], o["met"], o["fired"]) for o in opened] == [
        (0, False, False),
        (1, True, True),
    ]
    assert opened[1]["actions"] == ["Alert:Tell", "FieldUpdate:Count"]
    assert opened[1]["timeTriggers"] == ["2 days, 0:00:00 after rule trigger date"]
    [big] = rules["Big"]
    assert big["formula"] == "Step__c > 10" and big["met"] is False and not big["fired"]
    [off] = rules["Off"]
    assert off["active"] is False and off["fired"] is False and "inactive" in off["reason"]
    assert body["fieldUpdates"] == {"Status__c": "Open", "Hits__c": 1}
    [email] = body["emails"]
    assert email["rule"] == "Opened" and email["to"] == ["c@x.test"]
    assert email["cc"] == ["cc@example.com"] and email["subject"] == "Job J-1 opened"
    [timer] = body["timeTriggers"]
    assert timer["rule"] == "Opened" and not timer["moved"]
    _nothing_kept(deployed)


def test_edit_explains_triggering_updates(deployed: Org, admin: Caller) -> None:
    rid = admin.create("Job__c", {"Name": "J-2", "Status__c": "Open", "Step__c": 1})
    before = deployed.store.get("Job__c", rid)
    queued = deployed.timers.list()
    emails = deployed.outbox.list()
    resp = admin.post(URL, {"object": "Job__c", "recordId": rid, "values": {"Step__c": 11}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["operation"] == "edit" and body["recordId"] == rid
    rules = _rules(body)
    [opened] = rules["Opened"]
    assert opened["met"] and opened["metBefore"] and not opened["fired"]
    assert opened["reason"] == "criteria were already met before this edit"
    [big] = rules["Big"]
    assert big["fired"] and big["reason"] == "edited and criteria met"
    assert body["emails"] == [] and body["fieldUpdates"] == {}
    # Nothing changed: the record, its queued trigger and the outbox are as they were.
    assert deployed.store.get("Job__c", rid) == before
    assert deployed.timers.list() == queued
    assert deployed.outbox.list() == emails

    # An edit that stops the record meeting Opened's criteria would remove its trigger.
    resp = admin.post(URL, {"object": "Job__c", "recordId": rid, "values": {"Status__c": "Done"}})
    [removed] = resp.json()["removedTimeTriggers"]
    assert removed["rule"] == "Opened"
    assert deployed.timers.list() == queued


def test_bad_requests_change_nothing(deployed: Org, admin: Caller) -> None:
    cases: list[tuple[object, int, str]] = [
        ({"object": "Nope__c", "values": {}}, 404, "INVALID_TYPE"),
        ({"object": "Job__c", "values": {"Nope__c": 1}}, 400, "INVALID_FIELD"),
        (
            {"object": "Job__c", "values": {"Step__c": "many"}},
            400,
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
        ),
        ({"object": "Job__c", "values": {"Id": "a005w00000000001"}}, 400, "INVALID_FIELD"),
        ({"object": "Job__c", "recordId": "xyz", "values": {}}, 400, "MALFORMED_ID"),
        ({"object": "Job__c", "values": {}, "extra": 1}, 400, ""),
        ({"values": {}}, 400, ""),
        ([], 400, ""),
    ]
    for body, status, code in cases:
        resp = admin.post(URL, body)
        if code:
            assert_error(resp, status, code)
        else:
            assert resp.status_code == status, (body, resp.text)
    missing = admin.create("Job__c", {"Name": "gone"})
    assert admin.delete(f"/sobjects/Job__c/{missing}").status_code == 204
    assert_error(
        admin.post(URL, {"object": "Job__c", "recordId": missing, "values": {}}), 404, "NOT_FOUND"
    )
    assert deployed.outbox.list() == [] and deployed.timers.list() == []


def test_only_administrators(deployed: Org, api: Api) -> None:
    api.add_user("agent@example.com")
    agent = api.caller("agent@example.com", USER_PASSWORD)
    resp = agent.post(URL, {"object": "Job__c", "values": {"Name": "x"}})
    assert_error(resp, 403, "INSUFFICIENT_ACCESS")
    _nothing_kept(deployed)
