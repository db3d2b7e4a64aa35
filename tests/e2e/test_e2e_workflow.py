"""Workflow Rules end to end: a real ``workroute serve --clock manual`` over HTTPS,
driven only through its APIs by simple-salesforce, with a loopback SMTP server and a
loopback SOAP listener receiving what the rules send.

Records are created and edited with ``sf.Job__c``; rules show they fired through
field updates read back over REST; time moves only through the clock-advance
endpoint; the outbox and the time-based queue are read through the automation API.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
import trustme
from lxml import etree

from tests.e2e.conftest import ADMIN, ADMIN_PASSWORD, LiveServer, _cli
from tests.integration.workflow.conftest import (
    JOB_OBJECT,
    NS,
    bump,
    field_update,
    item,
    rule,
)
from tests.integration.workflow.loopback import OUTBOUND_NS, Inbox, SoapListener
from tests.unit.delivery.test_smtp import EphemeralController
from workroute.testing import ServerProcess

V1 = "/services/workroute/v1"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "deploy"


@dataclass
class World:
    server: LiveServer
    inbox: Inbox
    listener: SoapListener

    def sf(self) -> Any:
        """A fresh login: tokens expire as the manual clock moves on (typed Any:
        simple-salesforce's ``sf.Object`` attributes are dynamic)."""
        return self.server.client(ADMIN, ADMIN_PASSWORD)

    def api(self, method: str, path: str, json: Any = None) -> Any:
        token = self.server.token(ADMIN, ADMIN_PASSWORD)
        resp = self.server.session().request(
            method,
            f"{self.server.url}{path}",
            json=json,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code < 300, resp.text
        return resp.json() if resp.content else None

    def advance(self, seconds: float) -> None:
        self.api("POST", f"{V1}/clock/advance", {"seconds": seconds})


def _workflow(listener_url: str) -> str:
    chain = ""
    for n in range(8):  # rule n: Step = n -> Step = n + 1, re-evaluated
        chain += field_update(
            f"Step_{n}", "Step__c", "Literal", reevaluate=True, literalValue=str(n + 1)
        )
        chain += rule(
            f"Chain_{n}",
            criteria=item("Job__c.Step__c", "equals", str(n))
            + item("Job__c.Name", "equals", "chain"),
            trigger="onAllChanges",
            actions=((f"Step_{n}", "FieldUpdate"),),
        )
    return (
        bump("Count_Create", "Hits__c")
        + field_update("Mark_Triggered", "Note__c", "Formula", formula='Note__c &amp; "T"')
        + field_update("Mark_All", "Hits__c", "Formula", formula="BLANKVALUE(Hits__c, 0) + 10")
        + rule(
            "Created",
            criteria=item("Job__c.Name", "startsWith", "trig"),
            trigger="onCreateOnly",
            actions=(("Count_Create", "FieldUpdate"),),
        )
        + rule(
            "Triggered",
            criteria=item("Job__c.Status__c", "equals", "Open")
            + item("Job__c.Name", "startsWith", "trig"),
            actions=(("Mark_Triggered", "FieldUpdate"),),
        )
        + rule(
            "Every",
            criteria=item("Job__c.Flag__c", "equals", "True")
            + item("Job__c.Name", "startsWith", "trig"),
            trigger="onAllChanges",
            actions=(("Mark_All", "FieldUpdate"),),
        )
        # Field updates of every operation, on a record named "ops".
        + field_update("Op_Literal", "Note__c", "Literal", literalValue="literal")
        + field_update("Op_Formula", "Step__c", "Formula", formula="LEN(Name) * 10")
        + field_update(
            "Op_Lookup", "Reviewer__c", "LookupValue", lookupValue=ADMIN, lookupValueType="User"
        )
        + field_update("Op_Next", "Status__c", "NextValue")
        + field_update("Op_Null", "Contact_Email__c", "Null")
        + rule(
            "Ops",
            criteria=item("Job__c.Name", "equals", "ops"),
            actions=tuple(
                (n, "FieldUpdate")
                for n in ("Op_Literal", "Op_Formula", "Op_Lookup", "Op_Next", "Op_Null")
            ),
        )
        + field_update("Op_Previous", "Status__c", "PreviousValue")
        + rule(
            "Back",
            criteria=item("Job__c.Name", "equals", "back"),
            actions=(("Op_Previous", "FieldUpdate"),),
        )
        + chain
        # An alert, an outbound message and a time trigger, on records named "notify".
        + "<alerts><fullName>Tell</fullName><ccEmails>cc@example.com</ccEmails>"
        "<description>Tell</description><protected>false</protected>"
        "<recipients><field>Contact_Email__c</field><type>email</type></recipients>"
        "<senderType>CurrentUser</senderType><template>Jobs/Opened</template></alerts>"
        "<outboundMessages><fullName>Ping</fullName><apiVersion>62.0</apiVersion>"
        f"<endpointUrl>{listener_url}</endpointUrl><fields>Id</fields><fields>Name</fields>"
        "<fields>Status__c</fields><includeSessionId>false</includeSessionId>"
        f"<integrationUser>{ADMIN}</integrationUser><name>Ping</name><protected>false</protected>"
        "<useDeadLetterQueue>true</useDeadLetterQueue></outboundMessages>"
        + bump("Later_Count", "Hits__c")
        + rule(
            "Notify",
            criteria=item("Job__c.Name", "equals", "notify")
            + item("Job__c.Status__c", "equals", "Open"),
            actions=(("Tell", "Alert"), ("Ping", "OutboundMessage")),
            extra="<workflowTimeTriggers><actions><name>Later_Count</name>"
            "<type>FieldUpdate</type></actions><timeLength>2</timeLength>"
            "<workflowTimeTriggerUnit>Hours</workflowTimeTriggerUnit>"
            "</workflowTimeTriggers>",
        )
    )


def _package(listener_url: str) -> bytes:
    files = {
        "package.xml": f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{NS}">'
        "<types><members>Job__c</members><name>CustomObject</name></types>"
        "<types><members>Jobs/Opened</members><name>EmailTemplate</name></types>"
        "<types><members>Job__c</members><name>Workflow</name></types>"
        "<version>62.0</version></Package>",
        "objects/Job__c.object": JOB_OBJECT,
        "workflows/Job__c.workflow": f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<Workflow xmlns="{NS}">{_workflow(listener_url)}</Workflow>',
        "email/Jobs/Opened.email": "Job {!Job__c.Name} is {!Job__c.Status__c}",
        "email/Jobs/Opened.email-meta.xml": f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<EmailTemplate xmlns="{NS}"><available>true</available>'
        "<encodingKey>UTF-8</encodingKey><name>Opened</name><style>none</style>"
        "<subject>Job {!Job__c.Name} opened</subject><type>text</type></EmailTemplate>",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("workflow-e2e")
    db = root / "org.db"
    _cli("init", "--db", str(db), "--admin-username", ADMIN, "--admin-password", ADMIN_PASSWORD)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path, cert_path, key_path = root / "ca.pem", root / "cert.pem", root / "key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    inbox = Inbox()
    smtp = EphemeralController(inbox, hostname="127.0.0.1", port=0)
    smtp.start()
    listener = SoapListener()
    process = ServerProcess(
        db=db,
        cert=cert_path,
        key=key_path,
        extra_args=["--clock", "manual", "--smtp-url", f"smtp://127.0.0.1:{smtp.port}"],
    )
    os.environ["WORKROUTE_PUBLIC_URL"] = "https://workroute.example.com"
    try:
        process.start()
    finally:
        os.environ.pop("WORKROUTE_PUBLIC_URL", None)
    try:
        w = World(LiveServer(process=process, ca_path=ca_path), inbox, listener)
        sf = w.sf()
        result = sf.deploy(io.BytesIO(_package(listener.url)), sandbox=False)
        status = sf.checkDeployStatus(result["asyncId"])
        assert status["state"] == "Succeeded", status
        yield w
    finally:
        process.stop()
        listener.close()
        smtp.stop()


def _job(sf: Any, rid: str) -> dict[str, Any]:
    record: dict[str, Any] = sf.Job__c.get(rid)
    return record


def test_the_seed_sample_deploys_through_the_metadata_api(world: World) -> None:
    buf = io.BytesIO()
    folder = FIXTURES / "seed_workflow"
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
    sf = world.sf()
    status = sf.checkDeployStatus(sf.deploy(io.BytesIO(buf.getvalue()), sandbox=False)["asyncId"])
    assert status["state"] == "Succeeded", status
    rid = sf.CustomObjectForWorkflow__c.create({"Name": "seed"})["id"]
    assert sf.CustomObjectForWorkflow__c.get(rid)["Name"] == "seed"


def test_each_trigger_type_fires_when_salesforce_would(world: World) -> None:
    sf = world.sf()
    rid = sf.Job__c.create({"Name": "trig-1", "Status__c": "New"})["id"]
    job = _job(sf, rid)
    assert job["Hits__c"] == 1  # onCreateOnly: created
    assert job["Note__c"] is None  # triggering: not met on create
    sf.Job__c.update(rid, {"Status__c": "Open"})
    assert _job(sf, rid)["Note__c"] == "T"  # not met -> met
    sf.Job__c.update(rid, {"Step__c": 1})
    assert _job(sf, rid)["Note__c"] == "T"  # still met: no second firing
    sf.Job__c.update(rid, {"Status__c": "Done"})
    sf.Job__c.update(rid, {"Status__c": "Open"})
    job = _job(sf, rid)
    assert job["Note__c"] == "TT"  # met again after not meeting
    assert job["Hits__c"] == 1  # onCreateOnly never on edits
    sf.Job__c.update(rid, {"Flag__c": True})
    assert _job(sf, rid)["Hits__c"] == 11  # onAllChanges: an edit that meets...
    sf.Job__c.update(rid, {"Step__c": 2})
    assert _job(sf, rid)["Hits__c"] == 21  # ... and every one after it


def test_field_updates_of_every_operation(world: World) -> None:
    sf = world.sf()
    admin_id = sf.query(f"SELECT Id FROM User WHERE Username = '{ADMIN}'")["records"][0]["Id"]
    rid = sf.Job__c.create(
        {"Name": "ops", "Status__c": "New", "Contact_Email__c": "gone@example.com"}
    )["id"]
    job = _job(sf, rid)
    assert job["Note__c"] == "literal"
    assert job["Step__c"] == 30
    assert job["Reviewer__c"] == admin_id
    assert job["Status__c"] == "Open"  # New -> the next value
    assert job["Contact_Email__c"] is None
    back = sf.Job__c.create({"Name": "back", "Status__c": "Done"})["id"]
    assert _job(sf, back)["Status__c"] == "Open"  # Done -> the previous value


def test_a_reevaluation_cascade_stops_at_five(world: World) -> None:
    sf = world.sf()
    rid = sf.Job__c.create({"Name": "chain", "Step__c": 0})["id"]
    assert _job(sf, rid)["Step__c"] == 6  # rules 0..5 fired; rule 6 would need a sixth


def test_email_outbound_message_and_time_trigger(world: World) -> None:
    sf = world.sf()
    before_mail = len(world.inbox.messages)
    before_soap = len(world.listener.bodies)
    rid = sf.Job__c.create(
        {"Name": "notify", "Status__c": "Open", "Contact_Email__c": "client@example.com"}
    )["id"]
    # The email: delivered after the commit to the SMTP server, with the right people.
    world.inbox.wait_for(before_mail + 1)
    mail_from, rcpt, content = world.inbox.messages[before_mail]
    message = message_from_bytes(content)
    assert mail_from == ADMIN  # CurrentUser sends
    assert sorted(rcpt) == ["cc@example.com", "client@example.com"]
    assert message["Subject"] == "Job notify opened"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes) and b"Job notify is Open" in body
    # The outbound message: SOAP with the record's fields.
    world.listener.wait_for(before_soap + 1)
    doc = etree.fromstring(world.listener.bodies[before_soap])
    ns = {"o": OUTBOUND_NS, "sf": "urn:sobject.enterprise.soap.sforce.com"}
    [sobject] = doc.findall(".//o:Notification/o:sObject", ns)
    assert sobject.findtext("sf:Id", namespaces=ns) == rid
    assert sobject.findtext("sf:Name", namespaces=ns) == "notify"
    assert doc.findtext(".//o:Notification/o:Id", namespaces=ns)
    # The time trigger: queued for two hours after the rule fired.
    [queued] = world.api("GET", f"{V1}/workflow/queue?recordId={rid}")["records"]
    assert queued["payload"]["rule"] == "Notify"
    world.advance(3600)
    assert _job(world.sf(), rid)["Hits__c"] is None  # an hour: not yet
    world.advance(3600 + 1)
    assert _job(world.sf(), rid)["Hits__c"] == 1  # two hours: fired
    assert world.api("GET", f"{V1}/workflow/queue?recordId={rid}")["totalSize"] == 0


def test_time_trigger_removed_when_the_record_stops_matching(world: World) -> None:
    sf = world.sf()
    rid = sf.Job__c.create({"Name": "notify", "Status__c": "Open"})["id"]
    assert world.api("GET", f"{V1}/workflow/queue?recordId={rid}")["totalSize"] == 1
    sf.Job__c.update(rid, {"Status__c": "Done"})
    assert world.api("GET", f"{V1}/workflow/queue?recordId={rid}")["totalSize"] == 0
    world.advance(3 * 3600)
    assert _job(world.sf(), rid)["Hits__c"] is None


def test_outbound_retried_on_nack_and_when_down_then_dead_lettered(world: World) -> None:
    world.listener.ack = "false"
    start = len(world.listener.bodies)
    sf = world.sf()
    rid = sf.Job__c.create({"Name": "notify", "Status__c": "Open"})["id"]
    world.listener.wait_for(start + 1)  # the first attempt, answered Ack false

    def item_for(status: str) -> dict[str, Any] | None:
        items = world.api("GET", f"{V1}/outbox?kind=outbound&status={status}")["records"]
        return next((i for i in items if i["recordId"] == rid), None)

    pending = item_for("pending")
    assert pending is not None and pending["attempts"] == 1
    world.advance(60)  # past the first retry: tried again, Ack false again
    world.listener.wait_for(start + 2)
    ids = {
        etree.fromstring(b).findtext(f".//{{{OUTBOUND_NS}}}Notification/{{{OUTBOUND_NS}}}Id")
        for b in world.listener.bodies[start:]
    }
    assert len(ids) == 1  # the same notification id: receivers can drop duplicates
    world.listener.close()  # the listener goes down
    world.advance(25 * 3600)  # past 24 hours of retries
    dead = item_for("dead")
    assert dead is not None and dead["attempts"] > 2
