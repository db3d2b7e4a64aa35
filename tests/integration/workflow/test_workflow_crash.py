"""Nothing is lost: a server killed with SIGKILL while emails, outbound messages and a
time trigger wait keeps them all, and delivers each exactly once after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from tests.integration.cli.test_cli import ADMIN, PASSWORD, cli, init_org
from tests.integration.workflow.conftest import bump, item, rule, write_package
from tests.integration.workflow.loopback import OUTBOUND_NS, Inbox, SoapListener
from tests.unit.delivery.test_smtp import EphemeralController
from workroute.org import Org
from workroute.testing import ServerProcess
from workroute.testing.server import free_port

V1 = "/services/workroute/v1"


class Client:
    def __init__(self, server: ServerProcess) -> None:
        self.base = server.url
        self.http = httpx.Client(timeout=30)

    def token(self) -> str:
        resp = self.http.post(
            f"{self.base}/services/oauth2/token",
            data={"grant_type": "password", "username": ADMIN, "password": PASSWORD},
        )
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    def call(self, method: str, path: str, json: Any = None) -> Any:
        resp = self.http.request(
            method,
            f"{self.base}{path}",
            json=json,
            headers={"Authorization": f"Bearer {self.token()}"},
        )
        assert resp.status_code < 300, resp.text
        return resp.json() if resp.content else None


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    db = tmp_path / "org.db"
    init_org(db)
    port = free_port()
    body = (
        bump("Count") + "<alerts><fullName>Tell</fullName><description>Tell</description>"
        "<protected>false</protected><recipients><field>Contact_Email__c</field>"
        "<type>email</type></recipients><senderType>CurrentUser</senderType>"
        "<template>Jobs/Opened</template></alerts>"
        "<outboundMessages><fullName>Ping</fullName><apiVersion>62.0</apiVersion>"
        f"<endpointUrl>http://127.0.0.1:{port}/notify</endpointUrl><fields>Id</fields>"
        f"<includeSessionId>false</includeSessionId><integrationUser>{ADMIN}"
        "</integrationUser><name>Ping</name><protected>false</protected></outboundMessages>"
        + rule(
            "Opened",
            criteria=item("Job__c.Status__c", "equals", "Open"),
            actions=(("Tell", "Alert"), ("Ping", "OutboundMessage")),
            extra="<workflowTimeTriggers><actions><name>Count</name><type>FieldUpdate</type>"
            "</actions><timeLength>2</timeLength><workflowTimeTriggerUnit>Hours"
            "</workflowTimeTriggerUnit></workflowTimeTriggers>",
        )
    )
    pkg = write_package(
        tmp_path / "pkg", body, templates={"Jobs/Opened": ("Opened {!Job__c.Name}", "Hi")}
    )
    deployed = cli("deploy", pkg, "--db", db)
    assert deployed.exit_code == 0, deployed.output
    yield db, port


def test_sigkill_loses_no_email_message_or_timer(db: tuple[Path, int]) -> None:
    path, listener_port = db
    dead_smtp = free_port()  # nothing listens: delivery fails and waits for a retry
    first = ServerProcess(
        db=path, extra_args=["--clock", "manual", "--smtp-url", f"smtp://127.0.0.1:{dead_smtp}"]
    )
    first.start()
    try:
        api = Client(first)
        rid = api.call(
            "POST",
            "/services/data/v62.0/sobjects/Job__c",
            {"Name": "crash", "Status__c": "Open", "Contact_Email__c": "c@x.test"},
        )["id"]
        assert api.call("GET", f"{V1}/workflow/queue")["totalSize"] == 1
        api.http.close()
    finally:
        first.kill()  # SIGKILL: no shutdown code runs
        first.stop()  # (only closes the pipes of the dead process)

    org = Org.open(database_url=f"sqlite+pysqlite:///{path}")
    try:  # everything waits in the database
        assert {(i.kind, i.status.value) for i in org.outbox.list()} == {
            ("email", "pending"),
            ("outbound", "pending"),
        }
        assert len(org.timers.list()) == 1
    finally:
        org.close()

    inbox = Inbox()
    smtp = EphemeralController(inbox, hostname="127.0.0.1", port=0)
    smtp.start()
    listener = SoapListener(listener_port)
    second = ServerProcess(
        db=path, extra_args=["--clock", "manual", "--smtp-url", f"smtp://127.0.0.1:{smtp.port}"]
    )
    second.start()
    try:
        api = Client(second)
        api.call("POST", f"{V1}/clock/advance", {"seconds": 120})  # past any retry wait
        inbox.wait_for(1)
        listener.wait_for(1)
        api.call("POST", f"{V1}/clock/advance", {"seconds": 2 * 3600})
        job = api.call("GET", f"/services/data/v62.0/sobjects/Job__c/{rid}")
        assert job["Hits__c"] == 1  # the time trigger fired, once
        assert api.call("GET", f"{V1}/workflow/queue")["totalSize"] == 0
        statuses = {i["kind"]: i["status"] for i in api.call("GET", f"{V1}/outbox")["records"]}
        assert statuses == {"email": "delivered", "outbound": "delivered"}
        api.call("POST", f"{V1}/clock/advance", {"seconds": 24 * 3600})
        api.http.close()
    finally:
        second.stop()
        listener.close()
        smtp.stop()
    # Exactly once: nothing more came after the delivery was recorded.
    assert len(inbox.messages) == 1
    assert len(listener.bodies) == 1
    doc = etree.fromstring(listener.bodies[0])
    ids = doc.findall(f".//{{{OUTBOUND_NS}}}Notification")
    assert len(ids) == 1
