"""``workroute workflow queue|dequeue`` and ``workroute outbox list|retry|delete`` on a
real org whose rows come from a real workflow deploy and real saves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.cli.test_cli import cli, init_org, real_cli
from tests.integration.workflow.conftest import bump, item, rule, write_package
from workroute.delivery.outbox import OutboxStatus
from workroute.org import Org

WORKFLOW = (
    bump("Count") + "<alerts><fullName>Tell</fullName><description>Tell</description>"
    "<protected>false</protected><recipients><field>Contact_Email__c</field>"
    "<type>email</type></recipients><senderType>CurrentUser</senderType>"
    "<template>Jobs/Opened</template></alerts>"
    "<outboundMessages><fullName>Ping</fullName><apiVersion>62.0</apiVersion>"
    "<endpointUrl>http://127.0.0.1:9/unused</endpointUrl><fields>Id</fields>"
    "<includeSessionId>false</includeSessionId><integrationUser>admin@example.com"
    "</integrationUser><name>Ping</name><protected>false</protected></outboundMessages>"
    + rule(
        "Opened",
        criteria=item("Job__c.Status__c", "equals", "Open"),
        actions=(("Tell", "Alert"), ("Ping", "OutboundMessage")),
        extra="<workflowTimeTriggers><actions><name>Count</name><type>FieldUpdate</type>"
        "</actions><timeLength>3</timeLength><workflowTimeTriggerUnit>Hours"
        "</workflowTimeTriggerUnit></workflowTimeTriggers>",
    )
)


@dataclass
class Setup:
    db: Path
    records: list[str]

    def org(self) -> Org:
        return Org.open(database_url=f"sqlite+pysqlite:///{self.db}")


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    db = tmp_path / "org.db"
    init_org(db)
    pkg = write_package(
        tmp_path / "pkg", WORKFLOW, templates={"Jobs/Opened": ("Opened {!Job__c.Name}", "Hi")}
    )
    deployed = cli("deploy", pkg, "--db", db)
    assert deployed.exit_code == 0, deployed.output
    org = Org.open(database_url=f"sqlite+pysqlite:///{db}")
    try:
        ids = org.store.insert(
            "Job__c",
            [
                {"Name": f"j{n}", "Status__c": "Open", "Contact_Email__c": f"c{n}@x.test"}
                for n in range(2)
            ],
            user_id=org.admin_user_id(),
        )
    finally:
        org.close()  # no dispatcher ran: everything is still pending
    yield Setup(db, ids)


def _json(*args: str | Path) -> list[dict[str, object]]:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    data: list[dict[str, object]] = json.loads(result.stdout)
    return data


def test_queue_lists_and_dequeue_removes(setup: Setup) -> None:
    queued = _json("workflow", "queue", "--db", setup.db)
    assert sorted(str(q["recordId"]) for q in queued) == sorted(setup.records)
    mine = _json("workflow", "queue", "--record-id", setup.records[0][:15], "--db", setup.db)
    assert [q["recordId"] for q in mine] == [setup.records[0]]
    table = real_cli("workflow", "queue", "--db", setup.db)
    assert table.returncode == 0
    assert [line.split("\t")[4] for line in table.stdout.splitlines()[1:]] == ["Opened", "Opened"]
    removed = cli("workflow", "dequeue", str(mine[0]["id"]), "--db", setup.db)
    assert removed.exit_code == 0, removed.output
    left = _json("workflow", "queue", "--db", setup.db)
    assert [q["recordId"] for q in left] == [setup.records[1]]


def test_dequeue_with_an_unknown_id_removes_nothing(setup: Setup) -> None:
    queued = _json("workflow", "queue", "--db", setup.db)
    result = cli("workflow", "dequeue", str(queued[0]["id"]), "999", "--db", setup.db)
    assert result.exit_code == 1
    assert "no queued workflow action with id 999; none removed" in result.stderr
    assert len(_json("workflow", "queue", "--db", setup.db)) == 2


def test_outbox_list_filters_retry_and_delete(setup: Setup) -> None:
    items = _json("outbox", "list", "--db", setup.db)
    assert sorted(str(i["kind"]) for i in items) == ["email", "email", "outbound", "outbound"]
    emails = _json("outbox", "list", "--kind", "email", "--status", "pending", "--db", setup.db)
    assert len(emails) == 2
    table = real_cli("outbox", "list", "--db", setup.db)
    assert table.returncode == 0
    header, *lines = table.stdout.splitlines()
    assert header.split("\t")[:3] == ["id", "kind", "status"]
    assert any(line.split("\t")[4] == "Opened j0 -> c0@x.test" for line in lines)

    org = setup.org()
    try:  # an item given up on: dead, as the dispatcher would leave it
        with org.db.write() as conn:
            t = org.outbox.table
            conn.execute(
                t.update().where(t.c.id == emails[0]["id"]).values(status=OutboxStatus.DEAD.value)
            )
    finally:
        org.close()
    assert [i["id"] for i in _json("outbox", "list", "--status", "dead", "--db", setup.db)] == [
        emails[0]["id"]
    ]
    retried = cli("outbox", "retry", str(emails[0]["id"]), "--db", setup.db)
    assert retried.exit_code == 0, retried.output
    assert _json("outbox", "list", "--status", "dead", "--db", setup.db) == []
    deleted = cli("outbox", "delete", str(emails[1]["id"]), "--db", setup.db)
    assert deleted.exit_code == 0, deleted.output
    assert len(_json("outbox", "list", "--db", setup.db)) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["outbox", "list", "--kind", "pigeon"], "--kind must be one of email, outbound"),
        (["outbox", "list", "--status", "lost"], "--status must be one of pending"),
        (["outbox", "retry", "999"], "no outbox item with id 999; none retried"),
        (["outbox", "delete", "1", "999"], "no outbox item with id 999; none deleted"),
        (["workflow", "queue", "--record-id", "nope"], "malformed id"),
        (["outbox", "retry", "abc"], "Invalid value"),
    ],
)
def test_bad_input_changes_nothing(setup: Setup, args: list[str], message: str) -> None:
    before = _json("outbox", "list", "--db", setup.db)
    result = cli(*args, "--db", setup.db)
    assert result.exit_code != 0
    assert message in result.stderr
    assert _json("outbox", "list", "--db", setup.db) == before


def test_a_delivered_item_is_not_retried(setup: Setup) -> None:
    items = _json("outbox", "list", "--db", setup.db)
    org = setup.org()
    try:
        with org.db.write() as conn:
            t = org.outbox.table
            conn.execute(
                t.update()
                .where(t.c.id == items[0]["id"])
                .values(status=OutboxStatus.DELIVERED.value)
            )
    finally:
        org.close()
    result = cli("outbox", "retry", str(items[1]["id"]), str(items[0]["id"]), "--db", setup.db)
    assert result.exit_code == 1
    assert f"item {items[0]['id']} was delivered; none retried" in result.stderr
