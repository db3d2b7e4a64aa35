"""REST metadata deploys (POST .../metadata/deployRequest, multipart json + zip), and the
OpenAPI document that lists the routes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx  # the client behind starlette.testclient
import pytest
from tests.integration.api.api_harness import (
    TICKET_SOURCE,
    USER_PASSWORD,
    Api,
    Caller,
    TestClient,
    assert_error,
    unchanged,
    zip_files,
    zip_folder,
)

from workroute.api.app import create_app
from workroute.org import Org

DEPLOY = "/metadata/deployRequest"
BROKEN_OBJECT = """<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <label>Broken</label>
    <pluralLabel>Brokens</pluralLabel>
</CustomObjekt>
"""


def _deploy(caller: Caller, data: bytes, options: Any = None) -> httpx.Response:
    parts: dict[str, Any] = {"file": ("deploy.zip", data, "application/zip")}
    if options is not None:
        text = options if isinstance(options, str) else json.dumps(options)
        parts["json"] = (None, text, "application/json")
    return caller.post(DEPLOY, files=parts)


def test_deploys_check_only_and_status(api: Api, admin: Caller) -> None:
    ticket = zip_folder(TICKET_SOURCE)
    # checkOnly validates and records the deployment, and deploys nothing.
    with unchanged(api.org, skip=["deploy", "sequence"]):
        checked = _deploy(admin, ticket, {"deployOptions": {"checkOnly": True}})
    assert checked.status_code == 201, checked.text
    result = checked.json()["deployResult"]
    assert (result["success"], result["checkOnly"], result["status"]) == (True, True, "Succeeded")
    assert_error(admin.get("/sobjects/Ticket__c/describe"), 404, "INVALID_TYPE")

    resp = _deploy(admin, ticket, {"deployOptions": {"checkOnly": False, "rollbackOnError": True}})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    result = body["deployResult"]
    assert body["url"] == f"/services/data/v62.0{DEPLOY}/{body['id']}"
    assert (result["success"], result["done"], result["checkOnly"]) == (True, True, False)
    assert result["numberComponentsDeployed"] == 1 and result["numberComponentErrors"] == 0
    [done] = result["details"]["componentSuccesses"]
    assert (done["componentType"], done["fullName"], done["created"]) == (
        "CustomObject",
        "Ticket__c",
        True,
    )
    assert admin.get("/sobjects/Ticket__c/describe").json()["name"] == "Ticket__c"
    assert admin.create("Ticket__c", {"Name": "Deployed", "Severity__c": "High"})
    # A deployment without a json part is a plain deploy.
    again = _deploy(admin, ticket)
    assert again.json()["deployResult"]["details"]["componentSuccesses"][0]["created"] is False

    status = admin.get(f"{DEPLOY}/{body['id']}")
    assert status.status_code == 200, status.text
    assert status.json() == body
    assert admin.get(f"{DEPLOY}/{checked.json()['id']}").json()["deployResult"]["checkOnly"]
    assert_error(admin.get(f"{DEPLOY}/0Af000000000000AAA"), 404, "NOT_FOUND")


def test_bad_deploys_report_where_and_change_nothing(api: Api, admin: Caller) -> None:
    broken = zip_files({"objects/Broken__c.object": BROKEN_OBJECT})
    with unchanged(api.org, skip=["deploy", "sequence"]):
        resp = _deploy(admin, broken, {"deployOptions": {}})
        assert resp.status_code == 201, resp.text
        result = resp.json()["deployResult"]
        assert (result["success"], result["status"], result["done"]) == (False, "Failed", True)
        assert result["numberComponentsDeployed"] == 0
        [failure] = result["details"]["componentFailures"]
        assert failure["fileName"] == "objects/Broken__c.object"
        assert failure["fullName"] == "Broken__c"
        assert failure["componentType"] == "CustomObject"
        assert failure["lineNumber"] == 5 and failure["success"] is False
        assert "line 5" in failure["problem"]

        not_a_zip = _deploy(admin, b"PK not really a zip")
        assert not_a_zip.json()["deployResult"]["success"] is False

        for options in (
            "{bad",
            "[1]",
            '{"deployOptions": 5}',
            '{"deployOptions": {"checkOnly": 2}}',
        ):
            assert_error(_deploy(admin, broken, options), 400, "JSON_PARSER_ERROR")
        no_file = admin.post(DEPLOY, files={"json": (None, "{}", "application/json")})
        assert_error(no_file, 400, "JSON_PARSER_ERROR", contains="'file'")
        not_multipart = admin.post(DEPLOY, {"deployOptions": {}})
        assert_error(not_multipart, 400, "JSON_PARSER_ERROR", contains="'file'")
        no_boundary = admin.post(
            DEPLOY, content=b"garbage", headers={"Content-Type": "multipart/form-data"}
        )
        assert_error(no_boundary, 400, "MALFORMED_REQUEST")
    assert_error(admin.get("/sobjects/Broken__c/describe"), 404, "INVALID_TYPE")
    status = admin.get(f"{DEPLOY}/{resp.json()['id']}").json()["deployResult"]
    assert status["details"]["componentFailures"] == [failure]

    # Deploying needs CustomizeApplication; so does reading deployments.
    api.add_user("std@example.com")
    std = api.caller("std@example.com", USER_PASSWORD)
    with unchanged(api.org):
        assert_error(_deploy(std, zip_folder(TICKET_SOURCE), {}), 403, "INSUFFICIENT_ACCESS")
        assert_error(std.get(f"{DEPLOY}/{resp.json()['id']}"), 403, "INSUFFICIENT_ACCESS")
        assert_error(
            api.client.post(f"/services/data/v62.0{DEPLOY}", files={"file": ("d.zip", b"")}),
            401,
            "INVALID_SESSION_ID",
        )


# -- OpenAPI ---------------------------------------------------------------------------------

PATHS = {
    "/cometd/{version}": {"post"},
    "/services/oauth2/token": {"post"},
    "/services/oauth2/revoke": {"post"},
    "/services/data": {"get"},
    "/services/data/{version}": {"get"},
    "/services/data/{version}/limits": {"get"},
    "/services/data/{version}/composite/sobjects": {"post", "patch", "delete"},
    "/services/data/{version}/composite/sobjects/{sobject}": {"get"},
    "/services/data/{version}/sobjects": {"get"},
    "/services/data/{version}/sobjects/{sobject}": {"get", "post"},
    "/services/data/{version}/sobjects/{sobject}/describe": {"get"},
    "/services/data/{version}/sobjects/{sobject}/{record_id}": {"get", "patch", "delete"},
    "/services/data/{version}/sobjects/{sobject}/{field}/{value}": {"get", "patch"},
    "/services/data/{version}/sobjects/User/{user_id}/password": {"get", "post"},
    "/services/data/{version}/query": {"get"},
    "/services/data/{version}/query/{locator}": {"get"},
    "/services/data/{version}/queryAll": {"get"},
    "/services/data/{version}/queryAll/{locator}": {"get"},
    "/services/data/{version}/metadata/deployRequest": {"post"},
    "/services/data/{version}/metadata/deployRequest/{deploy_id}": {"get"},
    "/services/Soap/m/{version}": {"post"},
    "/services/Soap/m/{version}/{rest}": {"post"},
    "/services/workroute/v1/clock": {"get"},
    "/services/workroute/v1/clock/advance": {"post"},
    "/services/workroute/v1/workflow/queue": {"get"},
    "/services/workroute/v1/workflow/queue/{timer_id}": {"delete"},
    "/services/workroute/v1/workflow/explain": {"post"},
    "/services/workroute/v1/workItems": {"get"},
    "/services/workroute/v1/workItems/{work_item_id}": {"get"},
    "/services/workroute/v1/workItems/{work_item_id}/screen": {"get"},
    "/services/workroute/v1/workItems/{work_item_id}/complete": {"post"},
    "/services/workroute/v1/workItems/{work_item_id}/reassign": {"post"},
    "/services/workroute/v1/records/{record_id}/workItems": {"get"},
    "/services/workroute/v1/runs": {"get", "post"},
    "/services/workroute/v1/runs/{run_id}": {"get"},
    "/services/workroute/v1/runs/{run_id}/cancel": {"post"},
    "/services/workroute/v1/runs/{run_id}/resume": {"post"},
    "/services/workroute/v1/orchestration/settings": {"get", "patch"},
    "/services/omni/v1/{method}": {"post"},
    "/services/omni/v1/events": {"get"},
    "/services/omni/v1/console": {"get"},
    "/services/omni/v1/supervisor/config": {"get"},
    "/services/omni/v1/supervisor/queues": {"get"},
    "/services/omni/v1/supervisor/skills": {"get"},
    "/services/omni/v1/supervisor/agents": {"get"},
    "/services/omni/v1/supervisor/work": {"get"},
    "/services/omni/v1/supervisor/agents/{user_id}/queues": {"post"},
    "/services/omni/v1/supervisor/queues/{queue_id}/agents": {"post"},
    "/services/omni/v1/supervisor/agents/{user_id}/skills": {"post"},
    "/services/omni/v1/supervisor/work/{work_id}/flag": {"post"},
    "/services/omni/v1/explain/{record_id}": {"get"},
    "/services/workroute/v1/outbox": {"get"},
    "/services/workroute/v1/outbox/{item_id}/retry": {"post"},
    "/services/workroute/v1/outbox/{item_id}": {"delete"},
}


@pytest.fixture
def sqlite_client(sqlite_org: Org) -> Iterator[TestClient]:
    # The document depends on the routes only, so one database is enough.
    with TestClient(create_app(sqlite_org), raise_server_exceptions=False) as client:
        yield client


def test_the_openapi_document_lists_every_route(sqlite_client: TestClient) -> None:
    resp = sqlite_client.get("/services/openapi.json")
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "workroute"
    listed = {path: set(ops) for path, ops in doc["paths"].items()}
    assert listed == PATHS
    # No page that needs a CDN: the browsable Swagger UI is not served.
    assert sqlite_client.get("/services/docs").status_code == 404
