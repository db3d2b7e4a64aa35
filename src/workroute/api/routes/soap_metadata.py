"""The Metadata API's SOAP endpoint (/services/Soap/m/NN.0): deploy, checkDeployStatus,
retrieve and checkRetrieveStatus.

Requests are dispatched on the SOAP body's element, as Salesforce does, whatever the
path suffix (simple-salesforce posts to ``.../deployRequest[/id]``).
"""

from __future__ import annotations

import base64
import binascii
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import Response
from lxml import etree
from starlette.concurrency import run_in_threadpool

from workroute.api.deps import get_org
from workroute.api.routes.metadata_rest import component_type
from workroute.auth.principal import Permission, Principal
from workroute.kernel.errors import InsufficientAccessError, WorkrouteError
from workroute.metadata.deploy import DeployResult, deploy_status, run_deploy
from workroute.metadata.retrieve import RetrieveResult, read_manifest, retrieve
from workroute.store.values import format_datetime

router = APIRouter()

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MD_NS = "http://soap.sforce.com/2006/04/metadata"
MAX_SOAP_BYTES = 100 * 1024 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _envelope(body: str, status: int = 200) -> Response:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns="{MD_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
    return Response(xml, status_code=status, media_type="text/xml; charset=utf-8")


def soap_fault(code: str, message: str) -> Response:
    return _envelope(
        "<soapenv:Fault>"
        # Unqualified, as SOAP 1.1 has them (the envelope's default namespace is the
        # Metadata API's).
        f'<faultcode xmlns="" xmlns:sf="urn:fault.tooling.soap.sforce.com">{escape(code)}'
        "</faultcode>"
        f'<faultstring xmlns="">{escape(code.split(":")[-1])}: {escape(message)}</faultstring>'
        "</soapenv:Fault>",
        500,
    )


def _text(el: etree._Element | None, path: str) -> str | None:
    if el is None:
        return None
    found = el.find(path, {"m": MD_NS, "s": SOAP_NS})
    return found.text.strip() if found is not None and found.text else None


def _bool(el: etree._Element | None, path: str) -> bool:
    return (_text(el, path) or "false").lower() == "true"


@router.post("/services/Soap/m/{version}", tags=["metadata"])
@router.post("/services/Soap/m/{version}/{rest:path}", tags=["metadata"])
async def metadata_soap(request: Request, version: str, rest: str = "") -> Response:
    raw = await request.body()
    if len(raw) > MAX_SOAP_BYTES:
        return soap_fault("soapenv:Client", f"request exceeds {MAX_SOAP_BYTES} bytes")
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError as exc:
        return soap_fault("soapenv:Client", f"malformed SOAP request: {exc}")
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        return soap_fault("soapenv:Client", "the request is not a SOAP 1.1 envelope")
    header = root.find(f"{{{SOAP_NS}}}Header")
    body = root.find(f"{{{SOAP_NS}}}Body")
    if body is None or len(body) == 0:
        return soap_fault("soapenv:Client", "the SOAP envelope has no body")
    call = body[0]
    token = _text(header, "m:SessionHeader/m:sessionId")
    auth = request.headers.get("authorization", "")
    if not token and auth.lower().startswith(("bearer ", "oauth ")):
        token = auth.split(" ", 1)[1].strip()
    # Everything below reads or writes the database (a deploy for a while): thread pool.
    return await run_in_threadpool(_dispatch, request, token, call)


def _dispatch(request: Request, token: str | None, call: etree._Element) -> Response:
    org = get_org(request)
    try:
        principal = org.auth.authenticate(token or "")
        if not principal.has(Permission.CUSTOMIZE_APPLICATION):
            raise InsufficientAccessError(
                "deploying metadata needs the CustomizeApplication permission"
            )
        local = etree.QName(call).localname
        if local == "deploy":
            return _deploy(request, principal, call)
        if local == "checkDeployStatus":
            deploy_id = _text(call, "m:asyncProcessId") or ""
            result = deploy_status(org, deploy_id)
            return _envelope(
                f"<checkDeployStatusResponse><result>{_result_xml(result)}</result>"
                "</checkDeployStatusResponse>"
            )
        if local == "retrieve":
            return _retrieve(request, call)
        if local == "checkRetrieveStatus":
            found = get_org(request).retrievals.get(_text(call, "m:asyncProcessId") or "")
            include_zip = (_text(call, "m:includeZip") or "true").lower() != "false"
            return _envelope(
                "<checkRetrieveStatusResponse><result>"
                f"{_retrieve_xml(found, include_zip)}</result></checkRetrieveStatusResponse>"
            )
        return soap_fault("sf:INVALID_OPERATION", f"operation {local} is not supported")
    except WorkrouteError as exc:
        return soap_fault(f"sf:{exc.code}", exc.message)


def _deploy(request: Request, principal: Principal, call: etree._Element) -> Response:
    org = get_org(request)
    encoded = _text(call, "m:ZipFile")
    if not encoded:
        return soap_fault("soapenv:Client", "deploy needs a ZipFile")
    try:
        data = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError) as exc:
        return soap_fault("soapenv:Client", f"ZipFile is not base64: {exc}")
    check_only = _bool(call, "m:DeployOptions/m:checkOnly")
    result = run_deploy(org, data, user_id=principal.user_id, check_only=check_only)
    return _envelope(
        "<deployResponse><result><done>false</done>"
        f"<id>{result.id}</id><state>Queued</state></result></deployResponse>"
    )


def _retrieve(request: Request, call: etree._Element) -> Response:
    org = get_org(request)
    unpackaged = call.find("m:retrieveRequest/m:unpackaged", {"m": MD_NS})
    if unpackaged is None:
        return soap_fault(
            "soapenv:Client", "retrieve needs retrieveRequest/unpackaged (a package manifest)"
        )
    manifest = etree.Element(f"{{{MD_NS}}}Package")
    manifest.extend(list(unpackaged))
    if manifest.find("m:version", {"m": MD_NS}) is None:
        version = _text(call, "m:retrieveRequest/m:apiVersion") or "62.0"
        etree.SubElement(manifest, f"{{{MD_NS}}}version").text = version
    result = retrieve(org, read_manifest(etree.tostring(manifest)))
    org.retrievals.add(result)
    return _envelope(
        "<retrieveResponse><result><done>false</done>"
        f"<id>{result.id}</id><state>Queued</state></result></retrieveResponse>"
    )


def _retrieve_xml(r: RetrieveResult, include_zip: bool) -> str:
    parts = ["<done>true</done>"]
    for f in r.files:
        parts.append(
            f"<fileProperties><fileName>{escape(f.file_name)}</fileName>"
            f"<fullName>{escape(f.full_name)}</fullName><type>{escape(f.type)}</type>"
            "</fileProperties>"
        )
    parts.append(f"<id>{r.id}</id>")
    for file_name, problem in r.messages:
        parts.append(
            f"<messages><fileName>{escape(file_name)}</fileName>"
            f"<problem>{escape(problem)}</problem></messages>"
        )
    parts += ["<status>Succeeded</status>", "<success>true</success>"]
    if include_zip:
        parts.append(f"<zipFile>{base64.b64encode(r.zip_file).decode()}</zipFile>")
    return "".join(parts)


def _result_xml(r: DeployResult) -> str:
    parts = [
        f"<checkOnly>{str(r.check_only).lower()}</checkOnly>",
        f"<completedDate>{format_datetime(r.completed_at)}</completedDate>",
        f"<createdBy>{r.created_by_id}</createdBy>",
        f"<createdDate>{format_datetime(r.created_at)}</createdDate>",
        "<details>",
    ]
    for c in r.components:
        parts.append(
            "<componentSuccesses>"
            f"<changed>true</changed><componentType>{escape(c.type)}</componentType>"
            f"<created>{str(c.created).lower()}</created><deleted>false</deleted>"
            f"<fileName>{escape(c.file)}</fileName><fullName>{escape(c.full_name)}</fullName>"
            "<success>true</success></componentSuccesses>"
        )
    for p in r.problems:
        parts.append(
            "<componentFailures><changed>false</changed>"
            f"<componentType>{escape(component_type(p.file))}</componentType>"
            "<created>false</created><deleted>false</deleted>"
            f"<fileName>{escape(p.file)}</fileName>"
            f"<fullName>{escape(p.component or '')}</fullName>"
            + (f"<lineNumber>{p.line}</lineNumber>" if p.line else "")
            + f"<problem>{escape(p.message)}</problem><problemType>Error</problemType>"
            "<success>false</success></componentFailures>"
        )
    parts += [
        "</details>",
        "<done>true</done>",
        f"<id>{r.id}</id>",
        "<ignoreWarnings>false</ignoreWarnings>",
        f"<numberComponentErrors>{len(r.problems)}</numberComponentErrors>",
        f"<numberComponentsDeployed>{len(r.components)}</numberComponentsDeployed>",
        f"<numberComponentsTotal>{len(r.components) + len(r.problems)}</numberComponentsTotal>",
        "<numberTestErrors>0</numberTestErrors>",
        "<numberTestsCompleted>0</numberTestsCompleted>",
        "<numberTestsTotal>0</numberTestsTotal>",
        "<rollbackOnError>true</rollbackOnError>",
        f"<status>{r.status}</status>",
        f"<success>{str(r.success).lower()}</success>",
    ]
    return "".join(parts)
