"""Rules evaluated in the save pipeline: trigger types, field updates, re-evaluation,
time triggers, rollback; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.workflow.conftest import (
    bump,
    deploy,
    field_update,
    item,
    rule,
    write_package,
)
from workroute.kernel.clock import ManualClock
from workroute.org import NewUser, Org
from workroute.store.hooks import SaveContext

JOB = "Job__c"


def num(value: object) -> int:
    return int(Decimal(str(value or 0)))


def hits(org: Org, rid: str) -> int:
    return num(org.store.get(JOB, rid)["Hits__c"])


def deploy_ok(org: Org, root: Path) -> None:
    result = deploy(org, root)
    assert result.success, [p.describe() for p in result.problems]


def test_trigger_types_fire_as_salesforce_does(org: Org, tmp_path: Path) -> None:
    body = (
        bump("Count_Create", "Hits__c")
        + bump("Count_Triggering", "Step__c")
        + field_update("Mark", "Note__c", "Formula", formula='Note__c &amp; "*"')
        + rule(
            "Create_Only",
            criteria=item("Job__c.Status__c", "equals", "Open"),
            trigger="onCreateOnly",
            actions=(("Count_Create", "FieldUpdate"),),
        )
        + rule(
            "Triggering",
            criteria=item("Job__c.Status__c", "equals", "Open"),
            actions=(("Count_Triggering", "FieldUpdate"),),
        )
        + rule(
            "All_Changes",
            criteria=item("Job__c.Status__c", "equals", "Open"),
            trigger="onAllChanges",
            actions=(("Mark", "FieldUpdate"),),
        )
    )
    deploy_ok(org, write_package(tmp_path / "p", body))
    admin = org.admin_user_id()
    opened, new = org.store.insert(
        JOB,
        [{"Name": "a", "Status__c": "Open", "Note__c": ""}, {"Name": "b", "Status__c": "New"}],
        user_id=admin,
    )

    def state(rid: str) -> tuple[int, int, str]:
        row = org.store.get(JOB, rid)
        return (
            num(row["Hits__c"]),
            num(row["Step__c"]),
            str(row["Note__c"] or ""),
        )

    assert state(opened) == (1, 1, "*")  # created meeting the criteria: all three
    assert state(new) == (0, 0, "")
    org.store.update(JOB, [{"Id": opened, "Name": "a2"}], user_id=admin)
    assert state(opened) == (1, 1, "**")  # still meets: only onAllChanges
    org.store.update(JOB, [{"Id": new, "Status__c": "Open"}], user_id=admin)
    assert state(new) == (0, 1, "*")  # from not meeting to meeting: not onCreateOnly
    org.store.update(JOB, [{"Id": opened, "Status__c": "Done"}], user_id=admin)
    org.store.update(JOB, [{"Id": opened, "Status__c": "Open"}], user_id=admin)
    assert state(opened) == (1, 2, "***")  # met again after not meeting


def test_inactive_rules_never_fire(org: Org, tmp_path: Path) -> None:
    body = bump("Count") + rule(
        "Off",
        criteria=item("Job__c.Name", "startsWith", "a"),
        actions=(("Count", "FieldUpdate"),),
        active=False,
    )
    deploy_ok(org, write_package(tmp_path / "p", body))
    [rid] = org.store.insert(JOB, [{"Name": "abc"}], user_id=org.admin_user_id())
    assert hits(org, rid) == 0


def test_formula_rule_with_ischanged_and_priorvalue(org: Org, tmp_path: Path) -> None:
    body = bump("Count") + rule(
        "Status_Moved",
        formula="ISCHANGED(Status__c) &amp;&amp; TEXT(PRIORVALUE(Status__c)) = &quot;New&quot;",
        trigger="onAllChanges",
        actions=(("Count", "FieldUpdate"),),
    )
    deploy_ok(org, write_package(tmp_path / "p", body))
    admin = org.admin_user_id()
    [rid] = org.store.insert(JOB, [{"Name": "x", "Status__c": "New"}], user_id=admin)
    assert hits(org, rid) == 0  # on create ISCHANGED is false
    org.store.update(JOB, [{"Id": rid, "Status__c": "Open"}], user_id=admin)
    assert hits(org, rid) == 1
    org.store.update(JOB, [{"Id": rid, "Status__c": "Done"}], user_id=admin)
    assert hits(org, rid) == 1  # changed, but not from New


def test_field_update_operations(org: Org, tmp_path: Path) -> None:
    admin = org.admin_user_id()
    [queue] = org.store.insert(
        "Group",
        [{"Name": "Reviewers", "DeveloperName": "Reviewers", "Type": "Queue"}],
        user_id=admin,
    )
    admin_name = str(org.store.get("User", admin)["Username"])
    body = (
        field_update("Set_Literal", "Note__c", "Literal", literalValue="literal text")
        + field_update("Set_Flag", "Flag__c", "Literal", literalValue="1")
        + field_update("Set_Formula", "Step__c", "Formula", formula="LEN(Name) * 10")
        + field_update("Next", "Status__c", "NextValue")
        + field_update("Clear", "Contact_Email__c", "Null")
        + field_update(
            "Reviewer", "Reviewer__c", "LookupValue", lookupValue=admin_name, lookupValueType="User"
        )
        + field_update(
            "To_Queue", "OwnerId", "LookupValue", lookupValue="Reviewers", lookupValueType="Queue"
        )
        + rule(
            "All",
            criteria=item("Job__c.Name", "equals", "go"),
            actions=tuple(
                (n, "FieldUpdate")
                for n in (
                    "Set_Literal",
                    "Set_Flag",
                    "Set_Formula",
                    "Next",
                    "Clear",
                    "Reviewer",
                    "To_Queue",
                )
            ),
        )
        + field_update("Prev", "Status__c", "PreviousValue")
        + rule(
            "Back",
            criteria=item("Job__c.Name", "equals", "back"),
            actions=(("Prev", "FieldUpdate"),),
        )
    )
    deploy_ok(org, write_package(tmp_path / "p", body))
    [rid, back] = org.store.insert(
        JOB,
        [
            {"Name": "go", "Status__c": "New", "Contact_Email__c": "a@example.com"},
            {"Name": "back", "Status__c": "New"},
        ],
        user_id=admin,
    )
    row = org.store.get(JOB, rid)
    assert row["Note__c"] == "literal text"
    assert row["Flag__c"] is True
    assert row["Step__c"] == Decimal(20)
    assert row["Status__c"] == "Open"
    assert row["Contact_Email__c"] is None
    assert row["Reviewer__c"] == admin
    assert row["OwnerId"] == queue
    assert org.store.get(JOB, back)["Status__c"] == "New"  # the first value stays first


def test_cross_object_field_update(org: Org, tmp_path: Path) -> None:
    body = field_update(
        "Rate_Account", "Rating", "Literal", literalValue="Hot", targetObject="Account__c"
    ) + rule(
        "Hot",
        criteria=item("Job__c.Status__c", "equals", "Open"),
        actions=(("Rate_Account", "FieldUpdate"),),
    )
    deploy_ok(org, write_package(tmp_path / "p", body))
    admin = org.admin_user_id()
    [acct] = org.store.insert("Account", [{"Name": "Acme"}], user_id=admin)
    org.store.insert(JOB, [{"Name": "j", "Status__c": "Open", "Account__c": acct}], user_id=admin)
    assert org.store.get("Account", acct)["Rating"] == "Hot"


def test_reevaluation_cascade_stops_after_five(org: Org, tmp_path: Path) -> None:
    """Rule n fires when Step = n and sets Step = n + 1 with re-evaluation: the first
    round and five re-evaluations fire rules 0..5; rule 6 would need a sixth."""
    body = ""
    for n in range(8):
        body += field_update(
            f"Step_{n}", "Step__c", "Literal", reevaluate=True, literalValue=str(n + 1)
        )
        body += rule(
            f"At_{n}",
            criteria=item("Job__c.Step__c", "equals", str(n)),
            trigger="onAllChanges",
            actions=((f"Step_{n}", "FieldUpdate"),),
        )
    deploy_ok(org, write_package(tmp_path / "p", body))
    [rid] = org.store.insert(JOB, [{"Name": "c", "Step__c": 0}], user_id=org.admin_user_id())
    assert org.store.get(JOB, rid)["Step__c"] == Decimal(6)


def test_field_updates_rerun_save_hooks_once_more(org: Org, tmp_path: Path) -> None:
    body = field_update("Note", "Note__c", "Literal", literalValue="set") + rule(
        "R", criteria=item("Job__c.Name", "equals", "h"), actions=(("Note", "FieldUpdate"),)
    )
    deploy_ok(org, write_package(tmp_path / "p", body))
    calls: list[tuple[str, str]] = []

    def before(ctx: SaveContext) -> None:
        calls.append((ctx.operation.value, "before"))

    def after(ctx: SaveContext) -> None:
        calls.append((ctx.operation.value, "after"))

    org.hooks.before_save(JOB, before)
    org.hooks.after_save(JOB, after)
    org.store.insert(JOB, [{"Name": "h"}], user_id=org.admin_user_id())
    assert calls == [
        ("insert", "before"),
        ("insert", "after"),
        ("update", "before"),
        ("update", "after"),
    ]


def test_a_rolled_back_save_leaves_no_side_effects(org: Org, tmp_path: Path) -> None:
    body = (
        bump("Count") + "<outboundMessages><fullName>Ping</fullName><apiVersion>62.0</apiVersion>"
        "<endpointUrl>http://127.0.0.1:9/never</endpointUrl><fields>Id</fields>"
        "<includeSessionId>false</includeSessionId><integrationUser>x@example.com"
        "</integrationUser><name>Ping</name><protected>false</protected></outboundMessages>"
        + rule(
            "R",
            criteria=item("Job__c.Name", "equals", "r"),
            actions=(("Count", "FieldUpdate"), ("Ping", "OutboundMessage")),
            extra="<workflowTimeTriggers><actions><name>Count</name><type>FieldUpdate</type>"
            "</actions><timeLength>1</timeLength><workflowTimeTriggerUnit>Hours"
            "</workflowTimeTriggerUnit></workflowTimeTriggers>",
        )
    )
    deploy_ok(org, write_package(tmp_path / "p", body))
    with pytest.raises(RuntimeError, match="abort"), org.db.write():
        org.store.insert(JOB, [{"Name": "r"}], user_id=org.admin_user_id())
        assert len(org.outbox.list()) == 1  # recorded inside the transaction ...
        raise RuntimeError("abort")
    assert org.outbox.list() == []  # ... and gone with it
    assert org.timers.list() == []
    assert org.store.count(JOB) == 0


TIMED = bump("Count") + rule(
    "Later",
    criteria=item("Job__c.Status__c", "equals", "Open"),
    extra="<workflowTimeTriggers><actions><name>Count</name><type>FieldUpdate</type>"
    "</actions><timeLength>2</timeLength><workflowTimeTriggerUnit>Hours"
    "</workflowTimeTriggerUnit></workflowTimeTriggers>"
    "<workflowTimeTriggers><actions><name>Count</name><type>FieldUpdate</type>"
    "</actions><offsetFromField>Job__c.Due__c</offsetFromField><timeLength>-1</timeLength>"
    "<workflowTimeTriggerUnit>Days</workflowTimeTriggerUnit></workflowTimeTriggers>",
)


def test_time_triggers_fire_at_the_moved_time(org: Org, clock: ManualClock, tmp_path: Path) -> None:
    deploy_ok(org, write_package(tmp_path / "p", TIMED))
    admin = org.admin_user_id()
    due = clock.now() + timedelta(days=3)
    [rid] = org.store.insert(
        JOB, [{"Name": "t", "Status__c": "Open", "Due__c": due}], user_id=admin
    )
    queued = org.timers.list(record_id=rid)
    assert sorted(t.due_at for t in queued) == [
        clock.now() + timedelta(hours=2),
        due - timedelta(days=1),
    ]
    clock.advance(timedelta(hours=1, minutes=59))
    assert hits(org, rid) == 0
    clock.advance(timedelta(minutes=1))
    assert hits(org, rid) == 1  # the 2-hour trigger ran when the clock reached it
    clock.advance(timedelta(days=2))
    assert hits(org, rid) == 2  # one day before Due__c
    assert org.timers.list(record_id=rid) == []


def test_time_triggers_are_removed_when_the_record_stops_matching(
    org: Org, clock: ManualClock, tmp_path: Path
) -> None:
    deploy_ok(org, write_package(tmp_path / "p", TIMED))
    admin = org.admin_user_id()
    [a, b] = org.store.insert(
        JOB,
        [{"Name": "a", "Status__c": "Open"}, {"Name": "b", "Status__c": "Open"}],
        user_id=admin,
    )
    assert len(org.timers.list(record_id=a)) == 1  # Due__c is blank: that trigger waits
    org.store.update(JOB, [{"Id": a, "Status__c": "Done"}], user_id=admin)
    org.store.delete(JOB, [b], user_id=admin)
    assert org.timers.list() == []
    clock.advance(timedelta(hours=3))
    assert hits(org, a) == 0


def test_moving_the_date_moves_the_trigger(org: Org, clock: ManualClock, tmp_path: Path) -> None:
    deploy_ok(org, write_package(tmp_path / "p", TIMED))
    admin = org.admin_user_id()
    due = clock.now() + timedelta(days=5)
    [rid] = org.store.insert(
        JOB, [{"Name": "m", "Status__c": "Open", "Due__c": due}], user_id=admin
    )
    later = due + timedelta(days=2)
    org.store.update(JOB, [{"Id": rid, "Due__c": later}], user_id=admin)
    assert later - timedelta(days=1) in [t.due_at for t in org.timers.list(record_id=rid)]


def test_timers_survive_a_restart(database_url: str, clock: ManualClock, tmp_path: Path) -> None:
    from tests.conftest import ADMIN, ADMIN_PASSWORD

    first = Org.open(database_url=database_url, clock=clock)
    first.initialize(admin_username=ADMIN, admin_password=ADMIN_PASSWORD)
    deploy_ok(first, write_package(tmp_path / "p", TIMED))
    [rid] = first.store.insert(
        JOB, [{"Name": "s", "Status__c": "Open"}], user_id=first.admin_user_id()
    )
    first.close()
    again = Org.open(database_url=database_url, clock=clock)
    try:
        assert len(again.timers.list(record_id=rid)) == 1
        clock.advance(timedelta(hours=2))
        assert hits(again, rid) == 1
    finally:
        again.close()


def test_owner_field_update_with_notify_assignee_tells_the_new_owner(
    org: Org, tmp_path: Path, clock: ManualClock
) -> None:

    admin = org.admin_user_id()
    rev = org.add_user(NewUser(username="rev@example.com", last_name="Rev", email="rev@x.test"))
    org.store.insert(
        "Group",
        [{"Name": "Desk", "DeveloperName": "Desk", "Type": "Queue", "Email": "desk@x.test"}],
        user_id=admin,
    )
    body = (
        field_update(
            "To_Rev",
            "OwnerId",
            "LookupValue",
            lookupValue="rev@example.com",
            lookupValueType="User",
        ).replace("<notifyAssignee>false", "<notifyAssignee>true")
        + field_update(
            "To_Desk", "OwnerId", "LookupValue", lookupValue="Desk", lookupValueType="Queue"
        ).replace("<notifyAssignee>false", "<notifyAssignee>true")
        + field_update(
            "Quiet", "OwnerId", "LookupValue", lookupValue="rev@example.com", lookupValueType="User"
        )
        + rule(
            "Rev",
            criteria=item("Job__c.Name", "equals", "rev"),
            actions=(("To_Rev", "FieldUpdate"),),
        )
        + rule(
            "Desk",
            criteria=item("Job__c.Name", "equals", "desk"),
            actions=(("To_Desk", "FieldUpdate"),),
            extra="<workflowTimeTriggers><actions><name>To_Rev</name><type>FieldUpdate</type>"
            "</actions><timeLength>1</timeLength><workflowTimeTriggerUnit>Hours"
            "</workflowTimeTriggerUnit></workflowTimeTriggers>",
        )
        + rule(
            "Quiet",
            criteria=item("Job__c.Name", "equals", "quiet"),
            actions=(("Quiet", "FieldUpdate"),),
        )
    )
    deploy_ok(org, write_package(tmp_path / "p", body))

    def sent() -> list[tuple[list[str], str]]:
        return [(i.payload["to"], i.payload["subject"]) for i in org.outbox.list(kind="email")]

    [r1] = org.store.insert(JOB, [{"Name": "rev"}], user_id=admin)
    assert org.store.get(JOB, r1)["OwnerId"] == rev
    assert sent() == [(["rev@x.test"], "Job rev has been assigned to you")]
    org.store.insert(JOB, [{"Name": "quiet"}], user_id=admin)  # notifyAssignee false
    assert len(sent()) == 1
    [r3] = org.store.insert(JOB, [{"Name": "desk"}], user_id=admin)
    assert sent()[1] == (["desk@x.test"], "Job desk has been assigned to you")
    # The time trigger's field update hands the record to rev an hour later: notified too.
    clock.advance(timedelta(hours=1))
    org.timers.run_due(clock.now())
    assert org.store.get(JOB, r3)["OwnerId"] == rev
    assert sent()[2] == (["rev@x.test"], "Job desk has been assigned to you")


KNOWLEDGE_OBJECT = """<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Knowledge</label><pluralLabel>Knowledge</pluralLabel>
    <deploymentStatus>Deployed</deploymentStatus>
    <fields><fullName>Ready__c</fullName><label>Ready</label><type>Checkbox</type>
        <defaultValue>false</defaultValue></fields>
</CustomObject>
"""


def test_knowledge_publish_actions_on_an_article_type(org: Org, tmp_path: Path) -> None:
    body = (
        "<knowledgePublishes><fullName>Publish</fullName><action>Publish</action>"
        "<label>Publish</label><language>en_US</language><protected>false</protected>"
        "</knowledgePublishes>"
        "<knowledgePublishes><fullName>Publish_New</fullName><action>PublishAsNew</action>"
        "<label>Publish as new</label><language>en_US</language><protected>false</protected>"
        "</knowledgePublishes>"
        + rule(
            "Ready",
            criteria=item("Knowledge__kav.Ready__c", "equals", "True")
            + item("Knowledge__kav.Title", "startsWith", "FAQ"),
            actions=(("Publish", "KnowledgePublish"),),
        )
        + rule(
            "Again",
            criteria=item("Knowledge__kav.Ready__c", "equals", "True")
            + item("Knowledge__kav.Title", "startsWith", "New"),
            actions=(("Publish_New", "KnowledgePublish"),),
        )
    )
    pkg = write_package(tmp_path / "p", body, obj="Knowledge__kav", object_xml=KNOWLEDGE_OBJECT)
    deploy_ok(org, pkg)
    admin = org.admin_user_id()
    faq, new = org.store.insert(
        "Knowledge__kav",
        [{"Title": "FAQ: reset a password"}, {"Title": "New pricing"}],
        user_id=admin,
    )
    draft = org.store.get("Knowledge__kav", faq)
    assert draft["PublishStatus"] == "Draft" and draft["Language"] == "en_US"
    org.store.update(
        "Knowledge__kav", [{"Id": faq, "Ready__c": True}, {"Id": new, "Ready__c": True}],
        user_id=admin,
    )  # fmt: skip
    published = org.store.get("Knowledge__kav", faq)
    assert published["PublishStatus"] == "Online" and num(published["VersionNumber"]) == 1
    again = org.store.get("Knowledge__kav", new)
    assert again["PublishStatus"] == "Online" and num(again["VersionNumber"]) == 2
