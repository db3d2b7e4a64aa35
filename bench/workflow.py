"""Saves with 50 active workflow rules on the object vs the same saves with none.

Two orgs in two SQLite files get the same custom object; one also gets a Workflow of
50 active rules (35 criteria rules with one to three items, 15 formula rules), of
which a few fire and update a field. Each round inserts the records in batches and
then updates them all, in both orgs, interleaved so drift on a shared machine hits
both; the ratios are the medians of the rounds' own ratios (BENCH_ROUNDS, default 7),
so a round slowed by another job counts once. Aim: rules cost at most 1.5x a save
without them.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from workroute.api.app import create_app
from workroute.kernel.clock import ManualClock
from workroute.metadata.deploy import deploy_source
from workroute.org import Org

RECORDS = int(os.environ.get("BENCH_RECORDS", "4000"))
BATCH = 200
REST_RECORDS = max(BATCH, RECORDS // 4)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
NS = "http://soap.sforce.com/2006/04/metadata"
ADMIN = "bench@example.com"
PASSWORD = "Bench-pass-1"

OBJECT = f"""<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="{NS}"><label>Job</label><pluralLabel>Jobs</pluralLabel>
<nameField><label>Name</label><type>Text</type></nameField>
<deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel>
<fields><fullName>Status__c</fullName><label>Status</label><type>Text</type><length>40</length>
</fields>
<fields><fullName>Amount__c</fullName><label>Amount</label><type>Number</type>
<precision>12</precision><scale>2</scale></fields>
<fields><fullName>Note__c</fullName><label>Note</label><type>Text</type><length>200</length>
</fields>
<fields><fullName>Flag__c</fullName><label>Flag</label><type>Checkbox</type>
<defaultValue>false</defaultValue></fields>
</CustomObject>
"""


def _workflow(actions: bool = True) -> str:
    parts = [
        "<fieldUpdates><fullName>Mark</fullName><field>Note__c</field>"
        "<literalValue>marked</literalValue><name>Mark</name><notifyAssignee>false"
        "</notifyAssignee><operation>Literal</operation><protected>false</protected>"
        "</fieldUpdates>"
    ]
    for i in range(35):
        items = "".join(
            f"<criteriaItems><field>Job__c.{f}</field><operation>{op}</operation>"
            f"<value>{v}</value></criteriaItems>"
            for f, op, v in [
                ("Status__c", "equals", f"S{i},S{i + 1}"),
                ("Amount__c", "greaterThan", str(i * 10)),
                ("Name", "startsWith", f"Job {i}"),
            ][: 1 + i % 3]
        )
        action = (
            "<actions><name>Mark</name><type>FieldUpdate</type></actions>"
            if actions and i % 10 == 0
            else ""
        )
        parts.append(
            f"<rules><fullName>Criteria_{i}</fullName>{action}<active>true</active>{items}"
            "<triggerType>onAllChanges</triggerType></rules>"
        )
    for i in range(15):
        parts.append(
            f"<rules><fullName>Formula_{i}</fullName><active>true</active>"
            f"<formula>AND(Amount__c &gt; {i * 100}, CONTAINS(Name, &quot;{i}&quot;), "
            f"NOT(Flag__c))</formula><triggerType>onCreateOrTriggeringUpdate</triggerType>"
            "</rules>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Workflow xmlns="{NS}">{"".join(parts)}</Workflow>'
    )


def _org(folder: Path, with_rules: bool, actions: bool = True) -> tuple[Org, str]:
    org = Org.open(
        database_url=f"sqlite+pysqlite:///{folder}/org.db",
        clock=ManualClock(datetime(2024, 1, 1, tzinfo=UTC)),
    )
    admin = org.initialize(admin_username=ADMIN, admin_password=PASSWORD)
    pkg = folder / "pkg"
    (pkg / "objects").mkdir(parents=True)
    (pkg / "objects" / "Job__c.object").write_text(OBJECT)
    if with_rules:
        (pkg / "workflows").mkdir()
        (pkg / "workflows" / "Job__c.workflow").write_text(_workflow(actions))
    deploy_source(org, pkg, user_id=admin)
    return org, admin


def _round(org: Org, admin: str, n: int) -> float:
    rows = [
        {"Name": f"Job {i % 40}-{i}", "Status__c": f"S{i % 40}", "Amount__c": i % 700}
        for i in range(n)
    ]
    start = time.perf_counter()
    ids: list[str] = []
    for i in range(0, n, BATCH):
        ids += org.store.insert("Job__c", rows[i : i + BATCH], user_id=admin)
    for i in range(0, n, BATCH):
        chunk = ids[i : i + BATCH]
        org.store.update(
            "Job__c",
            [{"Id": rid, "Amount__c": (k * 7) % 900} for k, rid in enumerate(chunk)],
            user_id=admin,
        )
    return time.perf_counter() - start


def _rest_round(client: TestClient, token: str, n: int) -> float:
    """The same saves through the REST API (sObject Collections, a batch per request),
    as a client's saves arrive; the app runs in-process, so no network is timed."""
    url = "/services/data/v62.0/composite/sobjects"
    auth = {"Authorization": f"Bearer {token}"}
    rows = [
        {"attributes": {"type": "Job__c"}, "Name": f"Job {i % 40}-{i}",
         "Status__c": f"S{i % 40}", "Amount__c": i % 700}
        for i in range(n)
    ]  # fmt: skip
    start = time.perf_counter()
    ids: list[str] = []
    for i in range(0, n, BATCH):
        resp = client.post(url, json={"allOrNone": True, "records": rows[i : i + BATCH]},
                           headers=auth)  # fmt: skip
        assert resp.status_code == 200, resp.text
        ids += [r["id"] for r in resp.json()]
    for i in range(0, n, BATCH):
        changes = [
            {"attributes": {"type": "Job__c"}, "id": rid, "Amount__c": (k * 7) % 900}
            for k, rid in enumerate(ids[i : i + BATCH])
        ]
        resp = client.patch(url, json={"allOrNone": True, "records": changes}, headers=auth)
        assert resp.status_code == 200, resp.text
    return time.perf_counter() - start


def _client(org: Org) -> tuple[TestClient, str]:
    client = TestClient(create_app(org))
    resp = client.post(
        "/services/oauth2/token",
        data={"grant_type": "password", "username": ADMIN, "password": PASSWORD},
    )
    assert resp.status_code == 200, resp.text
    return client, str(resp.json()["access_token"])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("rules", "quiet", "plain"):
            (Path(tmp) / name).mkdir()
        ruled, admin_r = _org(Path(tmp) / "rules", True)
        quiet, admin_q = _org(Path(tmp) / "quiet", True, actions=False)
        plain, admin_p = _org(Path(tmp) / "plain", False)
        assert ruled.workflow.workflow_for("Job__c") is not None
        with_rules: list[float] = []
        evaluation: list[float] = []
        without: list[float] = []
        for _ in range(ROUNDS):
            without.append(_round(plain, admin_p, RECORDS))
            with_rules.append(_round(ruled, admin_r, RECORDS))
            evaluation.append(_round(quiet, admin_q, RECORDS))
        marked = len(ruled.store.find("Job__c", Note__c="marked"))
        rest_ruled, rest_plain = _client(ruled), _client(plain)
        rest_with: list[float] = []
        rest_without: list[float] = []
        for _ in range(ROUNDS):
            rest_without.append(_rest_round(*rest_plain, REST_RECORDS))
            rest_with.append(_rest_round(*rest_ruled, REST_RECORDS))
        for org in (ruled, quiet, plain):
            org.close()
    w, q, p = (statistics.median(x) for x in (with_rules, evaluation, without))
    ratio = statistics.median(a / b for a, b in zip(with_rules, without, strict=True))
    eval_ratio = statistics.median(a / b for a, b in zip(evaluation, without, strict=True))
    saves = RECORDS * 2
    print(
        f"workflow: {RECORDS} inserts + {RECORDS} updates of Job__c per round, batches of "
        f"{BATCH}, median of {ROUNDS}"
    )
    print(f"  50 active rules: {w:.3f} s  ({saves / w:,.0f} saves/s; {marked} records updated)")
    print(f"  same rules, no field update: {q:.3f} s  ({saves / q:,.0f} saves/s)")
    print(f"  no rules       : {p:.3f} s  ({saves / p:,.0f} saves/s)")
    print(f"  ratio rules/none: {ratio:.2f}x  (aim: <= 1.5x; median of the rounds' ratios)")
    print(
        f"  of which evaluating the rules: {eval_ratio:.2f}x; the rest is the second save that "
        "Salesforce's order of execution makes for records a field update changed"
    )
    rw, rp = statistics.median(rest_with), statistics.median(rest_without)
    rest_ratio = statistics.median(a / b for a, b in zip(rest_with, rest_without, strict=True))
    rest_saves = REST_RECORDS * 2
    print(
        f"  through the REST API ({REST_RECORDS} + {REST_RECORDS} saves in sObject Collections "
        f"of {BATCH}): {rw:.3f} s vs {rp:.3f} s ({rest_saves / rw:,.0f} vs "
        f"{rest_saves / rp:,.0f} saves/s), ratio {rest_ratio:.2f}x"
    )
