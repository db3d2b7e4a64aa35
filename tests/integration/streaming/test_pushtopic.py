"""PushTopics through the REST API: queries checked on save as Salesforce checks them,
and record changes matched into /topic/Name events (Streaming API Developer Guide,
"Event Notification Rules"), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.api.api_harness import Api, Caller, assert_error, unchanged, zip_files
from tests.integration.routing.omni_harness import Centre
from tests.integration.workflow.conftest import bump, deploy, item, rule, write_package
from workroute.kernel.clock import ManualClock
from workroute.metadata.deploy import deploy_source
from workroute.org import Org
from workroute.store.events import LoggedEvent

NS = "http://soap.sforce.com/2006/04/metadata"
WIDGET = f"""<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="{NS}">
    <label>Widget</label><pluralLabel>Widgets</pluralLabel>
    <nameField><label>Widget Name</label><type>Text</type></nameField>
    <deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel>
    <fields><fullName>Size__c</fullName><label>Size</label><type>Number</type>
        <precision>8</precision><scale>2</scale></fields>
    <fields><fullName>Done__c</fullName><label>Done</label><type>Checkbox</type>
        <defaultValue>false</defaultValue></fields>
    <fields><fullName>Due__c</fullName><label>Due</label><type>DateTime</type></fields>
    <fields><fullName>Notes__c</fullName><label>Notes</label><type>LongTextArea</type>
        <length>32768</length><visibleLines>3</visibleLines></fields>
    <fields><fullName>Double__c</fullName><label>Double</label><type>Number</type>
        <precision>10</precision><scale>2</scale><formula>Size__c * 2</formula></fields>
</CustomObject>
"""

SEED_QUERY = (
    "Select Id, Serial, QueueId, WorkItemId, IsPushed, ServiceChannelId, "
    "LastDeclinedAgentSession, CreatedDate from PendingServiceRouting "
    "where RoutingModel = 'ExternalRouting'"
)


def topic(admin: Caller, name: str, query: str, **fields: Any) -> str:
    return admin.create("PushTopic", {"Name": name, "Query": query, "ApiVersion": 62, **fields})


def events(org: Org, name: str) -> list[LoggedEvent]:
    return org.events.read(topics=[f"/topic/{name}"])


def kinds(org: Org, name: str) -> list[str]:
    return [e.payload["event"]["type"] for e in events(org, name)]


def patch(admin: Caller, sobject: str, rid: str, fields: dict[str, Any]) -> None:
    resp = admin.patch(f"/sobjects/{sobject}/{rid}", fields)
    assert resp.status_code == 204, resp.text


def delete(admin: Caller, sobject: str, rid: str) -> None:
    resp = admin.delete(f"/sobjects/{sobject}/{rid}")
    assert resp.status_code == 204, resp.text


@pytest.fixture
def centre(api: Api, admin: Caller) -> Centre:
    return Centre(api, admin)


@pytest.fixture
def widgets(api: Api) -> str:
    package = zip_files({"objects/Widget__c.object": WIDGET})
    deploy_source(api.org, package, user_id=api.org.admin_user_id())
    return "Widget__c"


# -- validation ----------------------------------------------------------------------

BAD_TOPICS: list[tuple[dict[str, Any], int, str, str]] = [
    ({"Name": None}, 400, "REQUIRED_FIELD_MISSING", "Name"),
    ({"Name": "N" * 26}, 400, "STRING_TOO_LONG", "Name"),
    ({"ApiVersion": None}, 400, "REQUIRED_FIELD_MISSING", "ApiVersion"),
    ({"ApiVersion": 20.0}, 400, "FIELD_INTEGRITY_EXCEPTION", "greater than 20.0"),
    ({"Query": None}, 400, "REQUIRED_FIELD_MISSING", "Query"),
    (
        {"Query": "SELECT Id, Subject FROM Case WHERE Subject != '" + "x" * 1300 + "'"},
        400,
        "STRING_TOO_LONG",
        "Query",
    ),
    ({"Query": "SELECT Id, FROM Case"}, 400, "MALFORMED_QUERY", "unexpected token"),
    ({"Query": "SELECT Id, Name FROM Nope__c"}, 404, "INVALID_TYPE", "Nope__c"),
    ({"Query": "SELECT Id, Bogus FROM Case"}, 400, "INVALID_FIELD", "No such column 'Bogus'"),
    ({"Query": "SELECT Id FROM Case WHERE IsEscalated = 'x'"}, 400, "MALFORMED_QUERY", "boolean"),
    ({"Query": "SELECT Subject FROM Case"}, 400, "INVALID_FIELD", "must select Id"),
    (
        {"Query": "SELECT Id, Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact)"},
        400,
        "INVALID_FIELD",
        "semi/anti join sub-selects are not supported",
    ),
    (
        {"Query": "SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)"},
        400,
        "INVALID_FIELD",
        "semi/anti join sub-selects are not supported",
    ),
    (
        {"Query": "SELECT Id, MAX(NumberOfEmployees) FROM Account"},
        400,
        "INVALID_FIELD",
        "Aggregate queries are not supported",
    ),
    (
        {"Query": "SELECT Id, Industry, COUNT(Name) FROM Account"},
        400,
        "INVALID_FIELD",
        "Aggregate queries are not supported",
    ),
    (
        {"Query": "SELECT Id, Industry FROM Account GROUP BY Industry"},
        400,
        "INVALID_FIELD",
        "Aggregate queries are not supported",
    ),
    ({"Query": "SELECT Id, Name FROM Contact LIMIT 10"}, 400, "INVALID_FIELD", "'LIMIT'"),
    (
        {"Query": "SELECT Id, Name FROM Account ORDER BY Name"},
        400,
        "INVALID_FIELD",
        "'ORDER BY' clause is not allowed",
    ),
    (
        {"Query": "SELECT Id, Account.Name FROM Contact"},
        400,
        "INVALID_FIELD",
        "relationships are not supported",
    ),
    (
        {"Query": "SELECT Id FROM Contact WHERE Account.Name = 'x'"},
        400,
        "INVALID_FIELD",
        "relationships are not supported",
    ),
    (
        {"Query": "SELECT Id FROM Account WHERE NOT Name = 'Salesforce.com'"},
        400,
        "INVALID_FIELD",
        "'NOT' is not supported",
    ),
    (
        {"Query": "SELECT Id FROM Case WHERE Description = 'x'"},
        400,
        "INVALID_FIELD",
        "text area",
    ),
    (
        {"Query": "SELECT Id, Subject FROM Case", "NotifyForFields": "Where"},
        400,
        "INVALID_FIELD",
        "NotifyForFields Where",
    ),
    (
        {"Query": "SELECT Id FROM Case WHERE Status = 'New'", "NotifyForFields": "Select"},
        400,
        "INVALID_FIELD",
        "NotifyForFields Select",
    ),
    (
        {"Query": "SELECT Id FROM Case WHERE Id != null"},
        400,
        "INVALID_FIELD",
        "NotifyForFields Referenced",
    ),
    (
        {"NotifyForFields": "Sometimes"},
        400,
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "NotifyForFields",
    ),
]


@pytest.mark.parametrize(
    ("fields", "status", "code", "says"), BAD_TOPICS, ids=[t[3] for t in BAD_TOPICS]
)
def test_an_invalid_pushtopic_is_refused_and_changes_nothing(
    api: Api, admin: Caller, fields: dict[str, Any], status: int, code: str, says: str
) -> None:
    body = {"Name": "Cases", "Query": "SELECT Id, Subject FROM Case", "ApiVersion": 62, **fields}
    with unchanged(api.org):
        assert_error(admin.post("/sobjects/PushTopic", body), status, code, contains=says)
    assert api.org.pushtopics.topics_for("Case") == ()


def test_formula_fields_can_be_selected_but_not_filtered(
    api: Api, admin: Caller, widgets: str
) -> None:
    with unchanged(api.org):
        bad = {
            "Name": "W",
            "Query": "SELECT Id FROM Widget__c WHERE Double__c > 1",
            "ApiVersion": 62,
        }
        assert_error(
            admin.post("/sobjects/PushTopic", bad), 400, "INVALID_FIELD", contains="formula"
        )
    topic(admin, "W", "SELECT Id, Double__c FROM Widget__c")


def test_names_are_unique_ignoring_case(api: Api, admin: Caller) -> None:
    first = topic(admin, "Cases", "SELECT Id, Subject FROM Case")
    body = {"Name": "CASES", "Query": "SELECT Id, Subject FROM Case", "ApiVersion": 62}
    with unchanged(api.org):
        err = assert_error(admin.post("/sobjects/PushTopic", body), 400, "DUPLICATE_VALUE")
    assert first in err["message"] and err["fields"] == ["Name"]
    other = topic(admin, "Other", "SELECT Id, Subject FROM Case")
    with unchanged(api.org):
        assert_error(
            admin.patch(f"/sobjects/PushTopic/{other}", {"Name": "cases"}), 400, "DUPLICATE_VALUE"
        )
    patch(admin, "PushTopic", first, {"Name": "Cases"})  # its own name is no clash


def test_an_invalid_update_keeps_the_topic_as_it_was(api: Api, admin: Caller) -> None:
    tid = topic(admin, "Cases", "SELECT Id, Subject FROM Case WHERE Status = 'New'")
    with unchanged(api.org):
        resp = admin.patch(f"/sobjects/PushTopic/{tid}", {"Query": "SELECT Id FROM Case LIMIT 1"})
        assert_error(resp, 400, "INVALID_FIELD", contains="'LIMIT' is not allowed")
    admin.create("Case", {"Subject": "still matched", "Status": "New"})
    assert kinds(api.org, "Cases") == ["created"]


# -- the event -----------------------------------------------------------------------


def test_event_shape(api: Api, admin: Caller, widgets: str, clock: ManualClock) -> None:
    topic(admin, "Widgets", "SELECT Id, Name, Size__c, Done__c, Due__c, Double__c FROM Widget__c")
    wid = admin.create(
        widgets, {"Name": "w1", "Size__c": 2.5, "Done__c": True, "Due__c": "2024-03-16T08:00:00Z"}
    )
    [event] = events(api.org, "Widgets")
    assert event.topic == "/topic/Widgets"
    assert event.owner_id == api.org.admin_user_id()
    assert event.user_id is None
    assert event.payload == {
        "event": {"createdDate": "2024-03-15T09:30:00.000Z", "type": "created"},
        "sobject": {
            "Id": wid,
            "Name": "w1",
            "Size__c": 2.5,
            "Done__c": True,
            "Due__c": "2024-03-16T08:00:00.000+0000",
            "Double__c": 5.0,  # a formula field, computed
        },
    }
    # The sobject is what the REST API gives for the same fields.
    rest = admin.read(widgets, wid, "Name,Size__c,Done__c,Due__c,Double__c")
    assert {k: v for k, v in rest.items() if k != "attributes"} == event.payload["sobject"]
    clock.advance(61.25)
    patch(admin, widgets, wid, {"Size__c": 3})
    updated = events(api.org, "Widgets")[-1]
    assert updated.payload["event"] == {
        "createdDate": "2024-03-15T09:31:01.250Z",
        "type": "updated",
    }
    assert updated.payload["sobject"]["Double__c"] == 6.0
    assert updated.id > event.id  # the replay id is the row id, not in the payload


# -- NotifyForFields -------------------------------------------------------------------


def test_each_notify_for_fields_value(api: Api, admin: Caller) -> None:
    query = "SELECT Id, Subject FROM Case WHERE Status = 'New' AND Priority != 'Low'"
    for mode in ("All", "Referenced", "Select", "Where"):
        topic(admin, mode, query, NotifyForFields=mode)
    case = admin.create("Case", {"Subject": "s", "Status": "New", "Priority": "High"})
    patch(admin, "Case", case, {"Subject": "s2"})  # a SELECT field
    patch(admin, "Case", case, {"Priority": "Medium"})  # a WHERE field, still matching
    patch(admin, "Case", case, {"Origin": "Web"})  # a field the query does not name
    patch(admin, "Case", case, {"Subject": "s2"})  # no change at all
    assert kinds(api.org, "All") == ["created", "updated", "updated", "updated", "updated"]
    assert kinds(api.org, "Referenced") == ["created", "updated", "updated"]
    assert kinds(api.org, "Select") == ["created", "updated"]
    assert kinds(api.org, "Where") == ["created", "updated"]
    assert events(api.org, "Select")[1].payload["sobject"] == {"Id": case, "Subject": "s2"}
    assert events(api.org, "Where")[1].payload["sobject"] == {"Id": case, "Subject": "s2"}


def test_where_is_matched_against_the_record_as_saved(api: Api, admin: Caller) -> None:
    topic(admin, "Working", "SELECT Id, Subject, Status FROM Case WHERE Status = 'Working'")
    case = admin.create("Case", {"Subject": "a", "Status": "New"})
    assert kinds(api.org, "Working") == []  # created outside the WHERE
    patch(admin, "Case", case, {"Status": "Working"})  # moves in
    patch(admin, "Case", case, {"Subject": "b"})  # changes inside
    patch(admin, "Case", case, {"Status": "Escalated"})  # moves out: no event
    patch(admin, "Case", case, {"Subject": "c"})  # changes outside
    found = events(api.org, "Working")
    assert [(e.payload["event"]["type"], e.payload["sobject"]["Subject"]) for e in found] == [
        ("updated", "a"),
        ("updated", "b"),
    ]
    assert found[0].payload["sobject"]["Status"] == "Working"


def test_text_comparisons_in_where_ignore_case(api: Api, admin: Caller) -> None:
    topic(admin, "Acme", "SELECT Id, Name FROM Account WHERE Name LIKE 'acme%'")
    admin.create("Account", {"Name": "ACME Corp"})
    admin.create("Account", {"Name": "Other"})
    assert [e.payload["sobject"]["Name"] for e in events(api.org, "Acme")] == ["ACME Corp"]


# -- operations ------------------------------------------------------------------------


def test_operation_flags(api: Api, admin: Caller) -> None:
    query = "SELECT Id, Subject FROM Case"
    flags = {
        "created": "NotifyForOperationCreate",
        "updated": "NotifyForOperationUpdate",
        "deleted": "NotifyForOperationDelete",
        "undeleted": "NotifyForOperationUndelete",
    }
    for kind, flag in flags.items():
        topic(admin, f"No_{kind}", query, **{flag: False})
    topic(admin, "Every", query)
    case = admin.create("Case", {"Subject": "a"})
    patch(admin, "Case", case, {"Subject": "b"})
    delete(admin, "Case", case)
    api.org.store.undelete("Case", [case], user_id=api.org.admin_user_id())  # no REST call
    every = ["created", "updated", "deleted", "undeleted"]
    assert kinds(api.org, "Every") == every
    for kind in flags:
        assert kinds(api.org, f"No_{kind}") == [k for k in every if k != kind]
    restored = events(api.org, "Every")[-1]
    assert restored.payload["sobject"] == {"Id": case, "Subject": "b"}


def test_a_delete_event_holds_only_the_id_of_a_record_that_matched(api: Api, admin: Caller) -> None:
    topic(admin, "New", "SELECT Id, Subject, Status FROM Case WHERE Status = 'New'")
    kept = admin.create("Case", {"Subject": "new one", "Status": "New"})
    other = admin.create("Case", {"Subject": "working", "Status": "Working"})
    delete(admin, "Case", kept)
    delete(admin, "Case", other)  # did not match as it was: no event
    gone = events(api.org, "New")[-1]
    assert gone.payload["event"]["type"] == "deleted"
    assert gone.payload["sobject"] == {"Id": kept}
    assert gone.owner_id == api.org.admin_user_id()
    assert kinds(api.org, "New") == ["created", "deleted"]


def test_inactive_and_deleted_topics_publish_nothing(api: Api, admin: Caller) -> None:
    tid = topic(admin, "Cases", "SELECT Id, Subject FROM Case", IsActive=False)
    admin.create("Case", {"Subject": "a"})
    assert kinds(api.org, "Cases") == []
    patch(admin, "PushTopic", tid, {"IsActive": True})
    admin.create("Case", {"Subject": "b"})
    assert kinds(api.org, "Cases") == ["created"]
    delete(admin, "PushTopic", tid)
    admin.create("Case", {"Subject": "c"})
    assert kinds(api.org, "Cases") == ["created"]


def test_a_changed_query_takes_effect_at_once(api: Api, admin: Caller) -> None:
    tid = topic(admin, "Cases", "SELECT Id, Subject FROM Case WHERE Status = 'New'")
    patch(
        admin, "PushTopic", tid, {"Query": "SELECT Id, Subject FROM Case WHERE Status = 'Working'"}
    )
    admin.create("Case", {"Subject": "new", "Status": "New"})
    admin.create("Case", {"Subject": "working", "Status": "Working"})
    assert [e.payload["sobject"]["Subject"] for e in events(api.org, "Cases")] == ["working"]


def test_topics_are_loaded_when_the_org_opens(
    org: Org, database_url: str, clock: ManualClock
) -> None:
    admin = org.admin_user_id()
    org.store.insert(
        "PushTopic",
        [{"Name": "Cases", "Query": "SELECT Id, Subject FROM Case", "ApiVersion": 62}],
        user_id=admin,
    )
    again = Org.open(database_url=database_url, clock=clock)
    try:
        assert [t.name for t in again.pushtopics.topics_for("Case")] == ["Cases"]
        again.store.insert("Case", [{"Subject": "after restart"}], user_id=admin)
        assert kinds(again, "Cases") == ["created"]
    finally:
        again.close()


# -- transactions ----------------------------------------------------------------------


def test_one_event_per_record_per_transaction(api: Api, admin: Caller) -> None:
    org = api.org
    user = org.admin_user_id()
    topic(admin, "Cases", "SELECT Id, Subject FROM Case")
    with org.db.write():
        [made] = org.store.insert("Case", [{"Subject": "first"}], user_id=user)
        org.store.update("Case", [{"Id": made, "Subject": "second"}], user_id=user)
        org.store.update("Case", [{"Id": made, "Subject": "final"}], user_id=user)
        [dropped] = org.store.insert("Case", [{"Subject": "short-lived"}], user_id=user)
        org.store.delete("Case", [dropped], user_id=user)
    found = events(org, "Cases")
    assert [(e.payload["event"]["type"], e.payload["sobject"]) for e in found] == [
        ("created", {"Id": made, "Subject": "final"})
    ]
    with org.db.write():
        org.store.update("Case", [{"Id": made, "Subject": "again"}], user_id=user)
        org.store.delete("Case", [made], user_id=user)
    assert kinds(org, "Cases") == ["created", "deleted"]


def test_a_workflow_field_update_still_gives_one_event(
    api: Api, admin: Caller, tmp_path: Path
) -> None:
    body = bump("Count") + rule(
        "Open_Jobs",
        criteria=item("Job__c.Status__c", "equals", "Open"),
        actions=(("Count", "FieldUpdate"),),
    )
    result = deploy(api.org, write_package(tmp_path / "pkg", body))
    assert result.success, [p.describe() for p in result.problems]
    topic(admin, "Jobs", "SELECT Id, Status__c, Hits__c FROM Job__c")
    job = admin.create("Job__c", {"Name": "j", "Status__c": "Open"})  # saved twice
    patch(admin, "Job__c", job, {"Status__c": "Done"})  # rule does not fire
    patch(admin, "Job__c", job, {"Status__c": "Open"})  # saved twice again
    found = [(e.payload["event"]["type"], e.payload["sobject"]) for e in events(api.org, "Jobs")]
    assert found == [
        ("created", {"Id": job, "Status__c": "Open", "Hits__c": 1.0}),
        ("updated", {"Id": job, "Status__c": "Done", "Hits__c": 1.0}),
        ("updated", {"Id": job, "Status__c": "Open", "Hits__c": 2.0}),
    ]


def test_an_all_or_none_request_that_fails_publishes_nothing(api: Api, admin: Caller) -> None:
    topic(admin, "Cases", "SELECT Id, Subject FROM Case")
    records = [
        {"attributes": {"type": "Case"}, "Subject": "fine"},
        {"attributes": {"type": "Case"}, "Subject": "bad", "Bogus__c": 1},
    ]
    resp = admin.post("/composite/sobjects", {"allOrNone": True, "records": records})
    assert resp.status_code == 200, resp.text
    assert [r["success"] for r in resp.json()] == [False, False]
    assert kinds(api.org, "Cases") == []
    admin.create("Case", {"Subject": "committed"})
    assert [e.payload["sobject"]["Subject"] for e in events(api.org, "Cases")] == ["committed"]


def test_a_rolled_back_transaction_publishes_nothing(api: Api, admin: Caller) -> None:
    org = api.org
    user = org.admin_user_id()
    topic(admin, "Cases", "SELECT Id, Subject FROM Case")
    with pytest.raises(RuntimeError), org.db.write():
        org.store.insert("Case", [{"Subject": "undone"}], user_id=user)
        raise RuntimeError("roll back")
    with org.db.write():
        org.store.insert("Case", [{"Subject": "kept"}], user_id=user)
        with pytest.raises(RuntimeError), org.db.write():  # a savepoint that fails
            org.store.insert("Case", [{"Subject": "savepoint"}], user_id=user)
            raise RuntimeError("roll back the savepoint only")
    assert [e.payload["sobject"]["Subject"] for e in events(org, "Cases")] == ["kept"]


def test_a_rolled_back_pushtopic_save_changes_nothing(api: Api, admin: Caller) -> None:
    org = api.org
    user = org.admin_user_id()
    with pytest.raises(RuntimeError), org.db.write():
        org.store.insert(
            "PushTopic",
            [{"Name": "Cases", "Query": "SELECT Id, Subject FROM Case", "ApiVersion": 62}],
            user_id=user,
        )
        raise RuntimeError("roll back")
    assert org.pushtopics.topics_for("Case") == ()
    admin.create("Case", {"Subject": "a"})
    assert kinds(org, "Cases") == []


# -- the seed's topic ------------------------------------------------------------------


def test_the_seeds_external_routing_topic(centre: Centre) -> None:
    org = centre.api.org
    topic(centre.admin, "ExternalRouting", SEED_QUERY)
    agent = centre.agent("ann")
    centre.presence("P", [agent])
    external = centre.queue("External", centre.config("Ext", RoutingModel="ExternalRouting"), [])
    internal = centre.queue("Internal", centre.config("Int"), [])
    agent.ok("login", statusId=centre.available)
    centre.case(internal)  # routed by Omni-Channel: not on the topic
    case = centre.case(external)
    [psr] = centre.pending(case)
    [created] = events(org, "ExternalRouting")
    assert created.payload["event"]["type"] == "created"
    sobject = created.payload["sobject"]
    assert sobject["Id"] == psr["Id"] and sobject["WorkItemId"] == case
    assert sobject["QueueId"] == external and sobject["ServiceChannelId"] == centre.channel
    assert sobject["IsPushed"] is False and sobject["Serial"] == psr["Serial"]
    assert sobject["CreatedDate"] == "2024-03-15T09:30:00.000+0000"
    assert set(sobject) == {
        "Id",
        "Serial",
        "QueueId",
        "WorkItemId",
        "IsPushed",
        "ServiceChannelId",
        "LastDeclinedAgentSession",
        "CreatedDate",
    }

    work = centre.admin.create(
        "AgentWork",
        {
            "UserId": agent.user_id,
            "WorkItemId": case,
            "ServiceChannelId": centre.channel,
            "PendingServiceRoutingId": psr["Id"],
        },
    )
    agent.ok("declineAgentWork", workId=work)
    found = events(org, "ExternalRouting")
    pushed = [e.payload["sobject"]["IsPushed"] for e in found[1:]]
    assert [e.payload["event"]["type"] for e in found[1:]] == ["updated"] * len(pushed)
    assert pushed[0] is True and pushed[-1] is False
    assert found[-1].payload["sobject"]["LastDeclinedAgentSession"]
    assert [e.payload["sobject"]["Serial"] for e in found] == sorted(
        e.payload["sobject"]["Serial"] for e in found
    )
