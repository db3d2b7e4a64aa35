"""Email alerts reach a real SMTP server; outbound messages reach a real HTTP listener,
are retried on a negative ack or a dead listener, and land in the dead-letter list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from lxml import etree

from tests.integration.workflow.conftest import deploy, item, rule, write_package
from tests.integration.workflow.loopback import Inbox, SoapListener
from tests.unit.delivery.test_smtp import EphemeralController
from workroute.delivery.outbox import OutboxStatus
from workroute.delivery.smtp import SmtpSettings
from workroute.kernel.clock import ManualClock
from workroute.org import NewUser, Org

JOB = "Job__c"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = EphemeralController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield inbox, int(controller.port)
    finally:
        controller.stop()


@pytest.fixture
def listener() -> Iterator[SoapListener]:
    lst = SoapListener()
    try:
        yield lst
    finally:
        lst.close()


def test_email_alert_arrives_with_recipients_sender_and_merge_fields(
    sqlite_org: Org, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    org = sqlite_org
    inbox, port = smtp
    org.smtp = SmtpSettings.from_url(f"smtp://127.0.0.1:{port}")
    admin = org.admin_user_id()
    reviewer = org.add_user(
        NewUser(username="rev@example.com", last_name="Rev", email="rev@example.com")
    )
    body = (
        "<alerts><fullName>Tell</fullName><ccEmails>cc@example.com</ccEmails>"
        "<description>Tell</description><protected>false</protected>"
        "<recipients><field>Reviewer__c</field><type>userLookup</type></recipients>"
        "<recipients><field>Contact_Email__c</field><type>email</type></recipients>"
        "<recipients><type>owner</type></recipients>"
        "<senderType>CurrentUser</senderType><template>Jobs/Opened</template></alerts>"
        + rule(
            "Opened",
            criteria=item("Job__c.Status__c", "equals", "Open"),
            actions=(("Tell", "Alert"),),
        )
    )
    pkg = write_package(
        tmp_path / "p",
        body,
        templates={"Jobs/Opened": ("Job {!Job__c.Name} opened", "Status: {!Job__c.Status__c}")},
    )
    result = deploy(org, pkg)
    assert result.success, [p.describe() for p in result.problems]
    org.store.insert(
        JOB,
        [
            {
                "Name": "J-1",
                "Status__c": "Open",
                "Reviewer__c": reviewer,
                "Contact_Email__c": "customer@example.com",
            }
        ],
        user_id=admin,
    )
    assert inbox.messages == []  # nothing leaves before delivery runs after commit
    org.dispatcher.run_due()
    [(sender, rcpts, raw)] = inbox.messages
    msg = message_from_bytes(raw)
    admin_email = str(org.store.get("User", admin)["Email"])
    assert sender == admin_email
    assert sorted(rcpts) == sorted(
        ["rev@example.com", "customer@example.com", admin_email, "cc@example.com"]
    )
    assert msg["Subject"] == "Job J-1 opened"
    assert "Status: Open" in msg.get_payload()
    [sent] = org.outbox.list()
    assert sent.status is OutboxStatus.DELIVERED


def test_email_waits_while_the_smtp_server_is_down_and_then_goes(
    sqlite_org: Org, smtp: tuple[Inbox, int], clock: ManualClock, tmp_path: Path
) -> None:
    org = sqlite_org
    inbox, port = smtp
    org.smtp = SmtpSettings.from_url("smtp://127.0.0.1:9")  # nothing listens on port 9
    body = (
        "<alerts><fullName>Tell</fullName><description>Tell</description>"
        "<protected>false</protected><recipients><type>owner</type></recipients>"
        "<template>Jobs/Opened</template></alerts>"
        + rule(
            "Opened",
            criteria=item("Job__c.Status__c", "equals", "Open"),
            actions=(("Tell", "Alert"),),
        )
    )
    pkg = write_package(tmp_path / "p", body, templates={"Jobs/Opened": ("Opened", "x")})
    assert deploy(org, pkg).success
    org.store.insert(JOB, [{"Name": "J", "Status__c": "Open"}], user_id=org.admin_user_id())
    org.dispatcher.run_due()
    [item_] = org.outbox.list()
    assert item_.status is OutboxStatus.PENDING and item_.attempts == 1
    assert item_.last_error is not None
    org.smtp = SmtpSettings.from_url(f"smtp://127.0.0.1:{port}")
    clock.advance(timedelta(minutes=1))
    assert len(inbox.messages) == 1
    assert org.outbox.get(item_.id).status is OutboxStatus.DELIVERED


OUTBOUND = """<outboundMessages><fullName>Notify</fullName><apiVersion>62.0</apiVersion>
<endpointUrl>{url}</endpointUrl><fields>Id</fields><fields>Name</fields>
<fields>Status__c</fields><fields>Note__c</fields><includeSessionId>false</includeSessionId>
<integrationUser>admin@example.com</integrationUser><name>Notify</name>
<protected>false</protected><useDeadLetterQueue>true</useDeadLetterQueue></outboundMessages>"""


def _deploy_outbound(org: Org, tmp_path: Path, url: str) -> None:
    body = OUTBOUND.format(url=url) + rule(
        "Send",
        criteria=item("Job__c.Status__c", "equals", "Open"),
        trigger="onAllChanges",
        actions=(("Notify", "OutboundMessage"),),
    )
    result = deploy(org, write_package(tmp_path / "p", body))
    assert result.success, [p.describe() for p in result.problems]


def test_outbound_message_is_soap_with_values_read_at_send_time(
    sqlite_org: Org, listener: SoapListener, tmp_path: Path
) -> None:
    org = sqlite_org
    _deploy_outbound(org, tmp_path, listener.url)
    admin = org.admin_user_id()
    ids = org.store.insert(
        JOB,
        [{"Name": "A<&>", "Status__c": "Open"}, {"Name": "B", "Status__c": "Open"}],
        user_id=admin,
    )
    org.store.update(JOB, [{"Id": ids[1], "Note__c": "changed"}], user_id=admin)
    org.dispatcher.run_due()
    [body] = listener.bodies  # three notifications of one action: one message
    ns = {
        "o": "http://soap.sforce.com/2005/09/outbound",
        "sf": "urn:sobject.enterprise.soap.sforce.com",
    }
    root = etree.fromstring(body)
    notes = root.findall(".//o:Notification", ns)
    assert len(notes) == 3
    assert root.findtext(".//o:OrganizationId", namespaces=ns) == org.organization_id()
    names = [n.findtext("o:sObject/sf:Name", namespaces=ns) for n in notes]
    assert names == ["A<&>", "B", "B"]
    # values are read at send time: both notifications of B carry the edit
    assert [n.findtext("o:sObject/sf:Note__c", namespaces=ns) for n in notes] == [
        None,
        "changed",
        "changed",
    ]
    note_ids = [n.findtext("o:Id", namespaces=ns) for n in notes]
    assert len(set(note_ids)) == 3
    assert {i.status for i in org.outbox.list()} == {OutboxStatus.DELIVERED}


def test_outbound_retries_then_dead_letters_after_24_hours(
    sqlite_org: Org, listener: SoapListener, clock: ManualClock, tmp_path: Path
) -> None:
    org = sqlite_org
    listener.ack = "false"
    _deploy_outbound(org, tmp_path, listener.url)
    org.store.insert(JOB, [{"Name": "N", "Status__c": "Open"}], user_id=org.admin_user_id())
    org.dispatcher.run_due()
    [first] = org.outbox.list()
    assert first.status is OutboxStatus.PENDING and first.last_error
    assert first.due_at - clock.now() == timedelta(seconds=15)  # the first retry: seconds
    clock.advance(timedelta(seconds=15))
    assert len(listener.bodies) == 2
    second = org.outbox.get(first.id)
    assert second.due_at - clock.now() == timedelta(seconds=30)  # the interval doubles
    ids = set()
    for _ in range(30):
        clock.advance(timedelta(hours=1))
        ids.add(
            etree.fromstring(listener.bodies[-1]).findtext(
                ".//{http://soap.sforce.com/2005/09/outbound}Notification/"
                "{http://soap.sforce.com/2005/09/outbound}Id"
            )
        )
    assert len(ids) == 1  # every retry carries the same notification id
    dead = org.outbox.get(first.id)
    assert dead.status is OutboxStatus.DEAD
    assert dead.last_attempt_at is not None and dead.first_attempt_at is not None
    assert dead.last_attempt_at - dead.first_attempt_at <= timedelta(hours=24)
    sent = len(listener.bodies)
    clock.advance(timedelta(hours=5))
    assert len(listener.bodies) == sent  # the dead-letter list is not retried by itself
    listener.ack = "true"
    org.outbox.retry(first.id, clock.now())
    org.dispatcher.run_due()
    assert org.outbox.get(first.id).status is OutboxStatus.DELIVERED


def test_outbound_to_a_dead_listener_is_retried(
    sqlite_org: Org, clock: ManualClock, listener: SoapListener, tmp_path: Path
) -> None:
    org = sqlite_org
    _deploy_outbound(org, tmp_path, "http://127.0.0.1:9/nothing-listens")
    org.store.insert(JOB, [{"Name": "D", "Status__c": "Open"}], user_id=org.admin_user_id())
    org.dispatcher.run_due()
    [it] = org.outbox.list()
    assert it.status is OutboxStatus.PENDING
    assert it.last_error is not None and "connection" in it.last_error.lower()
