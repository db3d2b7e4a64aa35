"""The unmodified simple-salesforce client against the real server over HTTPS."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from tests.e2e.conftest import AGENT, AGENT_PASSWORD, LiveServer

FIXTURES = Path(__file__).parent.parent / "fixtures" / "deploy"


def _zip(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
    return buf.getvalue()


def _content(exc: Any) -> Any:
    return exc.content


def _error_code(exc: Any) -> str:
    return str(_content(exc)[0]["errorCode"])


@pytest.fixture(scope="module")
def ticket_object(sf: Any) -> None:
    """Ticket__c deployed through the Metadata API, as simple-salesforce deploys."""
    result = sf.deploy(io.BytesIO(_zip(FIXTURES / "ticket")), sandbox=False)
    assert result["state"] == "Queued"
    status = sf.checkDeployStatus(result["asyncId"])
    assert status["state"] == "Succeeded", status
    assert status["deployment_detail"]["deployed_count"] == "1"


def test_create_get_update_delete(sf: Any) -> None:
    created = sf.Account.create({"Name": "Acme", "Industry": "Energy", "NumberOfEmployees": 12})
    assert created["success"] is True and created["id"].startswith("001")
    got = sf.Account.get(created["id"])
    assert got["Name"] == "Acme" and got["NumberOfEmployees"] == 12
    assert got["attributes"]["type"] == "Account"
    assert got["CreatedDate"].endswith("+0000")
    assert sf.Account.update(created["id"], {"Industry": "Retail"}) == 204
    assert sf.Account.get(created["id"][:15])["Industry"] == "Retail"  # 15-char id accepted
    partial = sf.restful(f"sobjects/Account/{created['id']}", params={"fields": "Name,Industry"})
    assert set(partial) == {"attributes", "Id", "Name", "Industry"}
    assert sf.Account.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(created["id"])


def test_upsert_by_external_id(sf: Any, ticket_object: None) -> None:
    assert sf.Ticket__c.upsert("External_Id__c/T-1", {"Name": "First", "Hours__c": 1.5}) == 201
    assert sf.Ticket__c.upsert("External_Id__c/T-1", {"Name": "Renamed"}) == 200
    got = sf.Ticket__c.get_by_custom_id("External_Id__c", "T-1")
    assert got["Name"] == "Renamed" and got["Hours__c"] == 1.5
    assert got["Severity__c"] == "Low"  # the picklist's default
    rows = sf.query("SELECT Id FROM Ticket__c WHERE External_Id__c = 'T-1'")
    assert rows["totalSize"] == 1


def test_query_paging_and_query_all(sf: Any, ticket_object: None) -> None:
    account = sf.Account.create({"Name": "Paging Co"})["id"]
    for i in range(450):
        sf.Ticket__c.create({"Name": f"P-{i:03d}", "Account__c": account})
    soql = (
        f"SELECT Name, Account__r.Name FROM Ticket__c WHERE Account__c = '{account}' ORDER BY Name"
    )
    first = sf.query(soql, headers={"Sforce-Query-Options": "batchSize=200"})
    assert first["totalSize"] == 450 and first["done"] is False
    assert len(first["records"]) == 200 and "nextRecordsUrl" in first
    everything = sf.query_all(soql, headers={"Sforce-Query-Options": "batchSize=200"})
    names = [r["Name"] for r in everything["records"]]
    assert names == [f"P-{i:03d}" for i in range(450)]
    assert everything["records"][0]["Account__r"]["Name"] == "Paging Co"
    doomed = first["records"][0]["attributes"]["url"].rsplit("/", 1)[1]
    sf.Ticket__c.delete(doomed)
    assert (
        sf.query(f"SELECT COUNT() FROM Ticket__c WHERE Account__c = '{account}'")["totalSize"]
        == 449
    )
    with_deleted = sf.query_all(
        f"SELECT Id, IsDeleted FROM Ticket__c WHERE Account__c = '{account}'",
        include_deleted=True,
    )
    assert with_deleted["totalSize"] == 450
    assert [r["Id"] for r in with_deleted["records"] if r["IsDeleted"]] == [doomed]


def test_describe(sf: Any, ticket_object: None) -> None:
    desc = sf.Case.describe()
    status = next(f for f in desc["fields"] if f["name"] == "Status")
    assert [p["value"] for p in status["picklistValues"]] == [
        "New",
        "Working",
        "Escalated",
        "Closed",
    ]
    assert desc["keyPrefix"] == "500"
    ticket = sf.Ticket__c.describe()
    assert ticket["custom"] is True
    ext = next(f for f in ticket["fields"] if f["name"] == "External_Id__c")
    assert ext["externalId"] is True and ext["length"] == 40
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"AgentWork", "PendingServiceRouting", "Ticket__c", "User"} <= names


def test_error_cases_surface_as_simple_salesforce_exceptions(
    sf: Any, live_server: LiveServer, ticket_object: None
) -> None:
    before = sf.query("SELECT COUNT() FROM Account")["totalSize"]
    with pytest.raises(SalesforceMalformedRequest) as bad_field:
        sf.Account.create({"Name": "X", "NoSuchField__c": 1})
    assert _error_code(bad_field.value) == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.Account.create({"Industry": "Energy"})
    assert _error_code(missing.value) == "REQUIRED_FIELD_MISSING"
    assert _content(missing.value)[0]["fields"] == ["Name"]
    with pytest.raises(SalesforceMalformedRequest) as bad_soql:
        sf.query("SELECT Name FORM Account")
    assert _error_code(bad_soql.value) == "MALFORMED_QUERY"
    assert "Row:1:Column:13" in _content(bad_soql.value)[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as bad_picklist:
        sf.Ticket__c.create({"Name": "x", "Severity__c": "Nope"})
    assert _error_code(bad_picklist.value) == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    with pytest.raises(SalesforceMalformedRequest) as too_long:
        sf.Account.create({"Name": "x" * 256})
    assert _error_code(too_long.value) == "STRING_TOO_LONG"
    with pytest.raises(SalesforceMalformedRequest) as wrong_type:
        sf.Account.create({"Name": "x", "NumberOfEmployees": "many"})
    assert _error_code(wrong_type.value) == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("sobjects/NoSuchObject__c/describe")
    bad_token: Any = Salesforce(
        instance_url=live_server.url,
        session_id="00D!forged",
        session=live_server.session(),
        version="62.0",
    )
    with pytest.raises(SalesforceExpiredSession):
        bad_token.query("SELECT Id FROM Account")
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == before


def test_non_admin_cannot_change_setup_objects(live_server: LiveServer) -> None:
    agent: Any = live_server.client(AGENT, AGENT_PASSWORD)
    with pytest.raises(SalesforceRefusedRequest) as refused:
        agent.Profile.create({"Name": "Sneaky"})
    assert _error_code(refused.value) == "INSUFFICIENT_ACCESS"
    me = agent.query(f"SELECT Id FROM User WHERE Username = '{AGENT}'")["records"][0]["Id"]
    with pytest.raises(SalesforceRefusedRequest):
        agent.User.update(me, {"IsActive": False})
    assert agent.User.update(me, {"Title": "Agent"}) == 204
    with pytest.raises(SalesforceGeneralError, match="INSUFFICIENT_ACCESS"):
        agent.deploy(io.BytesIO(_zip(FIXTURES / "ticket")), sandbox=False)


def test_a_broken_deploy_reports_where_and_changes_nothing(sf: Any, tmp_path: Path) -> None:
    (tmp_path / "objects").mkdir()
    (tmp_path / "objects" / "Broken__c.object").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        "    <label>Broken</label>\n"
        "    <pluralLabel>Brokens</pluralLabel>\n"
        "</CustomObjekt>\n"
    )
    result = sf.deploy(io.BytesIO(_zip(tmp_path)), sandbox=False)
    status = sf.checkDeployStatus(result["asyncId"])
    assert status["state"] == "Failed"
    [error] = status["deployment_detail"]["errors"]
    assert error["file"] == "objects/Broken__c.object"
    assert "line 5" in error["message"]
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("sobjects/Broken__c/describe")
