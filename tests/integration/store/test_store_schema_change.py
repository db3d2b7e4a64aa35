"""Live schema changes: deploys change tables under existing rows, survive a restart,
and a failed deploy changes nothing. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, select, text

from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.integration.store.conftest import DEPLOY_FIXTURES, deploy
from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import DeployError, RestrictedPicklistError
from workroute.metadata.deploy import DeployedComponent, deploy_source, deploy_status
from workroute.metadata.package import Package
from workroute.metadata.xmlio import ProblemLog
from workroute.org import Org
from workroute.schema.model import ObjectDef
from workroute.store.soql import SoqlEngine


@contextmanager
def opened(url: str, clock: ManualClock) -> Iterator[Org]:
    org = Org.open(database_url=url, clock=clock)
    try:
        yield org
    finally:
        org.close()


def registry(org: Org) -> dict[str, ObjectDef]:
    return {o.name: o for o in org.schema}


def columns(org: Org, table: str) -> set[str] | None:
    with org.db.read() as conn:
        insp = inspect(conn)
        if table not in insp.get_table_names():
            return None
        return {c["name"] for c in insp.get_columns(table)}


def system_rows(org: Org) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with org.db.read() as conn:
        for key in ("custom_object", "metadata_file"):
            table = org.db.system[key]
            out[key] = sorted(tuple(r) for r in conn.execute(select(table)))
    return out


def test_redeploy_adds_a_field_and_keeps_rows(org: Org, admin: str, clock: ManualClock) -> None:
    first = deploy(org, "ticket")
    assert [(c.type, c.full_name, c.created) for c in first.components] == [
        ("CustomObject", "Ticket__c", True)
    ]
    before = org.schema.get("Ticket__c")
    t1, t2 = org.store.insert(
        "Ticket__c",
        [
            {"Name": "one", "External_Id__c": "T-1", "Hours__c": 1.5, "Severity__c": "High"},
            {"Name": "two", "External_Id__c": "T-2"},
        ],
        user_id=admin,
    )
    clock.advance(60)

    second = deploy(org, "ticket_v2")
    assert [(c.full_name, c.created) for c in second.components] == [("Ticket__c", False)]
    after = org.schema.get("Ticket__c")
    assert after.key_prefix == before.key_prefix
    assert (after.label, after.label_plural) == ("Support Ticket", "Support Tickets")
    assert after.field("Resolved_On__c") is not None
    assert "Resolved_On__c" in (columns(org, "o_ticket__c") or set())

    # the rows are kept, with the new field empty, and it can be written and queried
    one = org.store.get("Ticket__c", t1)
    assert (one["Name"], one["External_Id__c"], one["Hours__c"], one["Severity__c"]) == (
        "one",
        "T-1",
        1.5,
        "High",
    )
    assert one["Resolved_On__c"] is None
    org.store.update("Ticket__c", [{"Id": t2, "Resolved_On__c": date(2024, 2, 29)}], user_id=admin)
    [t3] = org.store.insert(
        "Ticket__c", [{"Name": "three", "Resolved_On__c": "2024-03-01"}], user_id=admin
    )
    assert org.store.get("Ticket__c", t3)["Severity__c"] == "Low"  # defaults still apply
    rows = SoqlEngine(org.store).records(
        "SELECT Name, Resolved_On__c FROM Ticket__c WHERE Resolved_On__c != null "
        "ORDER BY Resolved_On__c"
    )
    assert [(r["Name"], r["Resolved_On__c"]) for r in rows] == [
        ("two", "2024-02-29"),
        ("three", "2024-03-01"),
    ]
    # deploying the same thing again is a no-op for the data
    deploy(org, "ticket_v2")
    assert org.store.count("Ticket__c") == 3


def test_custom_schema_survives_reopening(database_url: str, clock: ManualClock) -> None:
    with opened(database_url, clock) as org:
        admin = org.initialize(admin_username=ADMIN, admin_password=ADMIN_PASSWORD)
        deploy(org, "ticket")
        deploy(org, "ticket_v2")
        deploy(org, "account_fields")
        expected = registry(org)
        [acct] = org.store.insert(
            "Account", [{"Name": "Acme", "Score__c": 4.5, "Industry": "Energy"}], user_id=admin
        )
        [ticket] = org.store.insert(
            "Ticket__c",
            [{"Name": "t", "Account__c": acct, "Resolved_On__c": date(2024, 2, 29)}],
            user_id=admin,
        )

    with opened(database_url, clock) as org:
        assert registry(org) == expected
        ticket_def = org.schema.get("Ticket__c")
        assert ticket_def.label == "Support Ticket"
        assert ticket_def.key_prefix == expected["Ticket__c"].key_prefix
        account_def = org.schema.get("Account")
        assert {f.name for f in account_def.fields if f.custom} == {"Region__c", "Score__c"}
        assert account_def.field("Industry") is not None  # standard fields are all there

        row = org.store.get("Account", acct)
        assert (row["Name"], row["Score__c"], row["Region__c"]) == ("Acme", 4.5, "EMEA")
        assert org.store.get("Ticket__c", ticket)["Resolved_On__c"] == date(2024, 2, 29)
        [other] = org.store.insert(
            "Account", [{"Name": "Globex", "Region__c": "AMER"}], user_id=org.admin_user_id()
        )
        with pytest.raises(RestrictedPicklistError):
            org.store.insert("Account", [{"Name": "x", "Region__c": "Mars"}], user_id=admin)
        rows = SoqlEngine(org.store).records(
            "SELECT Name, Account__r.Name, Account__r.Region__c FROM Ticket__c"
        )
        assert [
            (r["Name"], r["Account__r"]["Name"], r["Account__r"]["Region__c"]) for r in rows
        ] == [("t", "Acme", "EMEA")]
        assert org.store.get("Account", other)["Region__c"] == "AMER"


def indexes(org: Org, table: str) -> set[str]:
    with org.db.read() as conn:
        return {str(i["name"]) for i in inspect(conn).get_indexes(table)}


def test_engine_written_objects_index_no_audit_references(
    database_url: str, clock: ManualClock
) -> None:
    """Only the engine writes run logs: their creator and modifier select nothing, so they
    are not indexed, and a database made when they were loses those indexes on opening."""
    log, case = "o_floworchestrationlog", "o_case"
    fields = ("CreatedById", "LastModifiedById")
    audit = {f"ix_{log}_{f.lower()}" for f in fields}
    with opened(database_url, clock) as org:
        org.initialize(admin_username=ADMIN, admin_password=ADMIN_PASSWORD)
        assert not audit & indexes(org, log)
        assert f"ix_{log}_orchestrationinstanceid" in indexes(org, log)
        assert f"ix_{case}_createdbyid" in indexes(org, case)  # API users write cases
        with org.db.write() as conn:  # as an older workroute made the table
            for f in fields:
                conn.execute(text(f'CREATE INDEX "ix_{log}_{f.lower()}" ON {log} ("{f}")'))
        assert audit <= indexes(org, log)
    with opened(database_url, clock) as org:
        assert not audit & indexes(org, log)


def test_a_deploy_with_a_bad_file_changes_nothing(org: Org, admin: str) -> None:
    deploy(org, "ticket")
    schema_before = registry(org)
    rows_before = system_rows(org)
    tables_before = columns(org, "o_ticket__c")

    with pytest.raises(DeployError) as info:
        deploy(org, "half_bad")
    described = [p.describe() for p in info.value.problems]
    assert described == [
        "objects/Bad__c.object:14 <type>: Field Flavor__c: unknown field type 'Banana'",
        "objects/Bad__c.object:20 <length>: Field Code__c: Text length must be between 1 and "
        "255, not 900",
    ]

    assert registry(org) == schema_before
    assert org.schema.find("Good__c") is None
    assert columns(org, "o_good__c") is None
    assert columns(org, "o_ticket__c") == tables_before
    assert system_rows(org) == rows_before
    # the failure is on record, as Salesforce keeps failed deployments
    with org.db.read() as conn:
        table = org.db.system["deploy"]
        statuses = [r[0] for r in conn.execute(select(table.c.status))]
    assert sorted(statuses) == ["Failed", "Succeeded"]


class _FailingApply:
    """A handler whose apply step fails after the objects were applied."""

    types = frozenset({"Boom"})

    def stage(self, org: Org, pkg: Package, log: ProblemLog) -> _FailingApply:
        return self

    def apply(self, org: Org, conn: Connection) -> list[DeployedComponent]:
        raise RuntimeError("the disk caught fire")


def test_a_deploy_that_fails_while_applying_leaves_everything_as_before(
    org: Org, admin: str
) -> None:
    [acct] = org.store.insert("Account", [{"Name": "Acme"}], user_id=admin)
    schema_before = registry(org)
    rows_before = system_rows(org)
    account_columns = columns(org, "o_account")

    org.deploy_handlers.append(_FailingApply())
    for name in ("account_fields", "ticket"):
        with pytest.raises(RuntimeError, match="caught fire"):
            deploy(org, name)
    org.deploy_handlers.pop()

    assert registry(org) == schema_before
    assert columns(org, "o_account") == account_columns
    assert columns(org, "o_ticket__c") is None
    assert system_rows(org) == rows_before
    # the store still works on the objects the deploy touched
    assert org.store.get("Account", acct)["Name"] == "Acme"
    assert [r["Name"] for r in org.store.find("Account")] == ["Acme"]
    [other] = org.store.insert("Account", [{"Name": "Globex"}], user_id=admin)
    rows = SoqlEngine(org.store).records("SELECT FIELDS(ALL) FROM Account ORDER BY Name LIMIT 10")
    assert [r["Name"] for r in rows] == ["Acme", "Globex"]
    assert "Region__c" not in rows[0]

    # and the same deploys succeed afterwards
    deploy(org, "account_fields")
    result = deploy(org, "ticket")
    assert deploy_status(org, result.id).success
    org.store.update("Account", [{"Id": other, "Score__c": 9.5}], user_id=admin)
    assert org.store.get("Account", other)["Score__c"] == 9.5
    assert org.store.get("Account", acct)["Region__c"] is None  # existing rows: no default
    [t] = org.store.insert("Ticket__c", [{"Name": "t", "Account__c": acct}], user_id=admin)
    assert org.store.get("Ticket__c", t)["Account__c"] == acct


def test_check_only_deploy_changes_nothing(org: Org, admin: str) -> None:
    before = registry(org)
    rows_before = system_rows(org)
    result = deploy_source(org, DEPLOY_FIXTURES / "gadget", user_id=admin, check_only=True)
    assert result.success and result.check_only
    assert [c.full_name for c in result.components] == ["Gadget__c"]
    assert registry(org) == before
    assert columns(org, "o_gadget__c") is None
    assert system_rows(org) == rows_before
