"""Metadata API SOAP retrieve and checkRetrieveStatus over HTTP."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

from lxml import etree
from tests.integration.api.api_harness import USER_PASSWORD, Api, Caller

from workroute.metadata.deploy import run_deploy
from workroute.org import Org

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "deploy" / "seed_workflow"
URL = "/services/Soap/m/62.0"
NS = {
    "s": "http://schemas.xmlsoap.org/soap/envelope/",
    "m": "http://soap.sforce.com/2006/04/metadata",
}


def _soap(caller: Caller, body: str) -> etree._Element:
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:met="http://soap.sforce.com/2006/04/metadata"><soapenv:Header>'
        f"<met:SessionHeader><met:sessionId>{caller.token}</met:sessionId></met:SessionHeader>"
        f"</soapenv:Header><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
    resp = caller.post(URL, content=envelope.encode(), headers={"Content-Type": "text/xml"})
    return etree.fromstring(resp.content)


def _retrieve(caller: Caller, types: str) -> etree._Element:
    return _soap(
        caller,
        "<met:retrieve><met:retrieveRequest><met:apiVersion>62.0</met:apiVersion>"
        f"<met:singlePackage>true</met:singlePackage><met:unpackaged>{types}</met:unpackaged>"
        "</met:retrieveRequest></met:retrieve>",
    )


def _status(caller: Caller, rid: str, include_zip: bool = True) -> etree._Element:
    return _soap(
        caller,
        f"<met:checkRetrieveStatus><met:asyncProcessId>{rid}</met:asyncProcessId>"
        f"<met:includeZip>{str(include_zip).lower()}</met:includeZip></met:checkRetrieveStatus>",
    )


def test_retrieve_then_check_status_gives_the_deployed_files(org: Org, admin: Caller) -> None:
    assert run_deploy(org, SEED, user_id=org.admin_user_id()).success
    doc = _retrieve(
        admin,
        "<met:types><met:members>*</met:members><met:name>Workflow</met:name></met:types>"
        "<met:types><met:members>Missing</met:members><met:name>EmailTemplate</met:name>"
        "</met:types>",
    )
    rid = doc.findtext("s:Body/m:retrieveResponse/m:result/m:id", namespaces=NS)
    assert rid and rid.startswith("09S")
    result = _status(admin, rid).find("s:Body/m:checkRetrieveStatusResponse/m:result", NS)
    assert result is not None
    assert result.findtext("m:status", namespaces=NS) == "Succeeded"
    assert result.findtext("m:messages/m:problem", namespaces=NS) == (
        "Entity of type 'EmailTemplate' named 'Missing' cannot be found"
    )
    data = base64.b64decode(result.findtext("m:zipFile", namespaces=NS) or "")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        got = zf.read("unpackaged/workflows/CustomObjectForWorkflow__c.workflow")
    assert got == (SEED / "workflows" / "CustomObjectForWorkflow__c.workflow").read_bytes()
    without = _status(admin, rid, include_zip=False)
    assert without.find(".//m:zipFile", NS) is None


def test_bad_retrieves_are_faults(org: Org, admin: Caller, api: Api) -> None:
    unknown = _retrieve(
        admin, "<met:types><met:members>*</met:members><met:name>ApexClass</met:name></met:types>"
    )
    assert "ApexClass" in (unknown.findtext(".//faultstring") or "")
    missing = _status(admin, "09S000000000000AAA")
    assert "no retrieve with id" in (missing.findtext(".//faultstring") or "")
    empty = _soap(admin, "<met:retrieve><met:retrieveRequest/></met:retrieve>")
    assert "unpackaged" in (empty.findtext(".//faultstring") or "")
    api.add_user("agent@example.com")
    agent = api.caller("agent@example.com", USER_PASSWORD)
    denied = _retrieve(
        agent, "<met:types><met:members>*</met:members><met:name>Workflow</met:name></met:types>"
    )
    assert "INSUFFICIENT_ACCESS" in (denied.findtext(".//faultcode") or "")
