"""SOQL over the store: the same query gives the same records on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.integration.store.conftest import add_agent, add_queue, deploy
from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import InvalidQueryFilterOperatorError, MalformedQueryError
from workroute.org import Org
from workroute.store.soql import SoqlEngine


@dataclass
class World:
    org: Org
    engine: SoqlEngine
    admin: str
    agent: str
    queue: str
    accounts: dict[str, str]
    cases: dict[str, str]  # by subject ("" for the one without a subject)

    def rows(self, soql: str) -> list[dict[str, Any]]:
        return self.engine.records(soql)

    def subjects(self, soql: str) -> list[str | None]:
        return [r["Subject"] for r in self.rows(soql)]

    def names(self, soql: str) -> list[str]:
        return [r["Name"] for r in self.rows(soql)]

    def aggregate(self, soql: str) -> list[dict[str, Any]]:
        q = self.engine.compile(soql)
        assert q.is_aggregate
        records = self.engine.aggregate(q, base="")["records"]
        return [{k: v for k, v in r.items() if k != "attributes"} for r in records]


@pytest.fixture
def world(org: Org, admin: str) -> World:
    store = org.store
    agent = add_agent(org, "ada@example.com", "Ada", "Lovelace")
    queue = add_queue(org, "Support")
    names = ["Acme", "Globex", "100% Pure", "100 Percent", "A_B", "AxB"]
    ids = store.insert(
        "Account",
        [{"Name": n, "Industry": {"Acme": "Energy", "A_B": "Banking"}.get(n)} for n in names],
        user_id=admin,
    )
    accounts = dict(zip(names, ids, strict=True))
    rows: list[dict[str, object]] = [
        {
            "Subject": "Printer jam",
            "Priority": "High",
            "Origin": "Web",
            "AccountId": accounts["Acme"],
            "OwnerId": agent,
        },
        {"Subject": "printer on fire", "Priority": "Low", "OwnerId": queue},
        {
            "Subject": "Login fails",
            "Priority": "Medium",
            "Origin": "Email",
            "AccountId": accounts["Globex"],
        },
        {
            "Subject": "VPN down",
            "Priority": "High",
            "Origin": "Phone",
            "AccountId": accounts["Acme"],
            "OwnerId": queue,
        },
        {"Priority": "Low", "Origin": "Web", "OwnerId": agent},
    ]
    case_ids = store.insert("Case", rows, user_id=admin)
    cases = {str(r.get("Subject") or ""): cid for r, cid in zip(rows, case_ids, strict=True)}
    return World(org, SoqlEngine(store), admin, agent, queue, accounts, cases)


# -- relationships -----------------------------------------------------------------------


def test_parent_paths_and_polymorphic_owner(world: World) -> None:
    rows = world.rows(
        "SELECT Subject, Account.Name, Account.Industry, Owner.Name, CreatedBy.Name, "
        "Account.Owner.Name FROM Case WHERE Subject != null ORDER BY Subject"
    )
    shaped = [
        (
            r["Subject"],
            r["Account"] and r["Account"]["Name"],
            r["Account"] and r["Account"]["Industry"],
            r["Owner"]["Name"],
            r["Owner"]["attributes"]["type"],
            r["CreatedBy"]["Name"],
        )
        for r in rows
    ]
    assert shaped == [
        ("Login fails", "Globex", None, "Org Admin", "User", "Org Admin"),
        ("Printer jam", "Acme", "Energy", "Ada Lovelace", "User", "Org Admin"),
        ("printer on fire", None, None, "Support", "Group", "Org Admin"),
        ("VPN down", "Acme", "Energy", "Support", "Group", "Org Admin"),
    ]
    # a null parent is None, not an empty record; a present one carries its attributes
    assert rows[2]["Account"] is None
    assert rows[1]["Account"]["attributes"]["type"] == "Account"
    assert rows[1]["Account"]["Owner"]["Name"] == "Org Admin"
    assert rows[1]["Owner"]["attributes"]["url"].endswith(f"/sobjects/User/{world.agent}")

    # filtering through the polymorphic relationship, on either target
    assert world.subjects(
        "SELECT Subject FROM Case WHERE Owner.Name = 'support' ORDER BY Subject"
    ) == ["printer on fire", "VPN down"]
    assert world.subjects(
        "SELECT Subject FROM Case WHERE Owner.Name = 'Ada Lovelace' ORDER BY Subject"
    ) == [None, "Printer jam"]
    assert world.subjects(
        "SELECT Subject FROM Case WHERE Account.Name = null ORDER BY Subject NULLS LAST"
    ) == ["printer on fire", None]
    assert world.subjects(
        "SELECT Subject FROM Case WHERE Account.Industry != 'Energy' ORDER BY Subject"
    ) == [None, "Login fails", "printer on fire"]


# -- WHERE ---------------------------------------------------------------------------------


def test_where_and_or_not(world: World) -> None:
    q = "SELECT Subject FROM Case WHERE {} ORDER BY Subject NULLS LAST"
    assert world.subjects(q.format("Subject = 'PRINTER JAM'")) == ["Printer jam"]
    assert world.subjects(q.format("Priority = 'High' AND Origin = 'Web'")) == ["Printer jam"]
    assert world.subjects(q.format("Priority = 'Medium' OR Origin = 'Phone'")) == [
        "Login fails",
        "VPN down",
    ]
    assert world.subjects(
        q.format("(Origin = 'Web' OR Origin = 'Phone') AND NOT Priority = 'Low'")
    ) == ["Printer jam", "VPN down"]
    assert world.subjects(q.format("NOT Subject LIKE 'printer%' AND Subject != null")) == [
        "Login fails",
        "VPN down",
    ]
    assert world.subjects(q.format("NOT (Priority = 'High' OR Priority = 'Low')")) == [
        "Login fails"
    ]
    assert world.subjects(q.format("Priority = 'Low' AND (Origin = 'Web' OR Subject != null)")) == [
        "printer on fire",
        None,
    ]
    # != matches nulls, as in Salesforce (SQL's three-valued logic would not)
    assert world.subjects(q.format("Origin != 'Web'")) == [
        "Login fails",
        "printer on fire",
        "VPN down",
    ]
    assert world.subjects(q.format("Origin = null")) == ["printer on fire"]
    assert world.subjects(q.format("Subject > 'M'")) == [
        "Printer jam",
        "printer on fire",
        "VPN down",
    ]
    assert world.subjects(q.format(f"OwnerId = '{world.queue[:15]}'")) == [
        "printer on fire",
        "VPN down",
    ]


def test_in_and_not_in_with_nulls(world: World) -> None:
    q = "SELECT Subject FROM Case WHERE {} ORDER BY Subject NULLS LAST"
    assert world.subjects(q.format("Origin IN ('web', 'Email')")) == [
        "Login fails",
        "Printer jam",
        None,
    ]
    assert world.subjects(q.format("Origin IN ('Web', null)")) == [
        "Printer jam",
        "printer on fire",
        None,
    ]
    # NOT IN keeps the nulls unless null is in the list
    assert world.subjects(q.format("Origin NOT IN ('Web')")) == [
        "Login fails",
        "printer on fire",
        "VPN down",
    ]
    assert world.subjects(q.format("Origin NOT IN ('Web', null)")) == ["Login fails", "VPN down"]
    assert world.subjects(
        q.format(f"AccountId IN ('{world.accounts['Acme']}', '{world.accounts['Globex'][:15]}')")
    ) == ["Login fails", "Printer jam", "VPN down"]
    assert world.subjects(q.format("Account.Name NOT IN ('Acme')")) == [
        "Login fails",
        "printer on fire",
        None,
    ]


def test_like_with_escapes(world: World) -> None:
    q = "SELECT Name FROM Account WHERE {} ORDER BY Name"
    assert world.names(q.format(r"Name LIKE '100\%%'")) == ["100% Pure"]
    assert world.names(q.format("Name LIKE '100%'")) == ["100 Percent", "100% Pure"]
    assert world.names(q.format(r"Name LIKE 'a\_b'")) == ["A_B"]
    assert world.names(q.format("Name LIKE 'a_b'")) == ["A_B", "AxB"]
    assert world.names(q.format("Name LIKE '%E%'")) == [
        "100 Percent",
        "100% Pure",
        "Acme",
        "Globex",
    ]
    assert world.names(q.format("NOT Name LIKE '%e%'")) == ["A_B", "AxB"]
    with pytest.raises((InvalidQueryFilterOperatorError, MalformedQueryError)):
        world.rows("SELECT Name FROM Account WHERE NumberOfEmployees LIKE '1%'")


# -- multi-select picklists ----------------------------------------------------------------


def test_includes_and_excludes(org: Org, admin: str) -> None:
    deploy(org, "gadget")
    org.store.insert(
        "Gadget__c",
        [
            {"Name": "red", "Colors__c": "Red"},
            {"Name": "red-blue", "Colors__c": "Blue;Red"},
            {"Name": "light-blue", "Colors__c": "Light Blue"},
            {"Name": "green-blue", "Colors__c": "Green;Blue"},
            {"Name": "none"},
        ],
        user_id=admin,
    )
    engine = SoqlEngine(org.store)

    def names(where: str) -> list[str]:
        rows = engine.records(f"SELECT Name FROM Gadget__c WHERE {where} ORDER BY Name")
        return [r["Name"] for r in rows]

    assert names("Colors__c INCLUDES ('Blue')") == ["green-blue", "red-blue"]
    assert names("Colors__c INCLUDES ('blue')") == ["green-blue", "red-blue"]
    assert names("Colors__c INCLUDES ('Light Blue')") == ["light-blue"]
    assert names("Colors__c INCLUDES ('Red;Blue')") == ["red-blue"]  # both
    assert names("Colors__c INCLUDES ('Blue;Red', 'Green')") == ["green-blue", "red-blue"]
    assert names("Colors__c INCLUDES ('Red', 'Light Blue')") == ["light-blue", "red", "red-blue"]
    assert names("Colors__c EXCLUDES ('Blue')") == ["light-blue", "none", "red"]
    assert names("Colors__c EXCLUDES ('Red;Blue')") == [
        "green-blue",
        "light-blue",
        "none",
        "red",
    ]
    assert names("Colors__c = 'Blue;Red'") == ["red-blue"]
    assert names("Colors__c = null") == ["none"]
    with pytest.raises(InvalidQueryFilterOperatorError):
        engine.records("SELECT Name FROM Gadget__c WHERE Stage__c INCLUDES ('Idea')")


# -- date literals -------------------------------------------------------------------------


def test_date_literals_against_records_created_over_time(
    org: Org, admin: str, clock: ManualClock
) -> None:
    def case_at(subject: str, at: datetime) -> None:
        clock.set(at)
        org.store.insert("Case", [{"Subject": subject}], user_id=admin)

    case_at("A mid March", datetime(2024, 3, 15, 9, 30, tzinfo=UTC))
    case_at("B end of March", datetime(2024, 3, 31, 23, 59, 59, 999999, tzinfo=UTC))
    case_at("C start of April", datetime(2024, 4, 1, tzinfo=UTC))
    case_at("D Apr 8 noon", datetime(2024, 4, 8, 12, tzinfo=UTC))
    case_at("E Apr 9 midnight", datetime(2024, 4, 9, tzinfo=UTC))
    case_at("F now", datetime(2024, 4, 15, 10, tzinfo=UTC))
    clock.advance(60)
    engine = SoqlEngine(org.store)

    def letters(where: str) -> str:
        rows = engine.records(f"SELECT Subject FROM Case WHERE {where} ORDER BY Subject")
        return "".join(str(r["Subject"])[0] for r in rows)

    assert letters("CreatedDate = TODAY") == "F"
    assert letters("CreatedDate = YESTERDAY") == ""
    assert letters("CreatedDate = LAST_N_DAYS:7") == "DEF"  # from Apr 8, today included
    assert letters("CreatedDate = LAST_N_DAYS:6") == "EF"
    assert letters("CreatedDate = LAST_N_DAYS:30") == "BCDEF"
    assert letters("CreatedDate = THIS_MONTH") == "CDEF"
    assert letters("CreatedDate = LAST_MONTH") == "AB"
    assert letters("CreatedDate < THIS_MONTH") == "AB"
    assert letters("CreatedDate > LAST_MONTH") == "CDEF"
    assert letters("CreatedDate != THIS_MONTH") == "AB"
    between = "CreatedDate >= 2024-04-01T00:00:00Z AND CreatedDate < 2024-04-09T00:00:00Z"
    assert letters(between) == "CD"
    assert letters("CreatedDate = LAST_N_DAYS:7 OR CreatedDate = LAST_MONTH") == "ABDEF"

    # date fields, across a leap day
    deploy(org, "gadget")
    org.store.insert(
        "Gadget__c",
        [
            {"Name": "feb29", "Due__c": date(2024, 2, 29)},
            {"Name": "mar01", "Due__c": date(2024, 3, 1)},
            {"Name": "apr01", "Due__c": date(2024, 4, 1)},
            {"Name": "apr30", "Due__c": date(2024, 4, 30)},
            {"Name": "may01", "Due__c": date(2024, 5, 1)},
            {"Name": "undated"},
        ],
        user_id=admin,
    )

    def due(where: str) -> list[str]:
        rows = engine.records(f"SELECT Name FROM Gadget__c WHERE {where} ORDER BY Due__c, Name")
        return [r["Name"] for r in rows]

    assert due("Due__c = THIS_MONTH") == ["apr01", "apr30"]
    assert due("Due__c != THIS_MONTH") == ["undated", "feb29", "mar01", "may01"]
    assert due("Due__c = LAST_N_DAYS:46") == ["feb29", "mar01", "apr01"]  # 46 days back: Feb 29
    assert due("Due__c = LAST_N_DAYS:45") == ["mar01", "apr01"]
    assert due("Due__c = NEXT_MONTH") == ["may01"]
    assert due("Due__c > 2024-02-28 AND Due__c < 2024-03-01") == ["feb29"]
    assert due("Due__c = 2024-02-29") == ["feb29"]
    with pytest.raises(MalformedQueryError):
        engine.records("SELECT Name FROM Gadget__c WHERE Due__c = '2024-02-29'")


# -- ORDER BY, LIMIT, OFFSET, COUNT() ------------------------------------------------------


def test_order_by_nulls_first_and_last(world: World) -> None:
    def ordered(field: str, order: str) -> list[str | None]:
        return [r[field] for r in world.rows(f"SELECT {field} FROM Case ORDER BY {order}")]

    # ascending puts nulls first, descending puts them last, unless told otherwise
    assert ordered("Subject", "Subject") == [
        None,
        "Login fails",
        "Printer jam",  # text sorts case-insensitively
        "printer on fire",
        "VPN down",
    ]
    assert ordered("Subject", "Subject NULLS LAST")[-1] is None
    assert ordered("Subject", "Subject DESC") == [
        "VPN down",
        "printer on fire",
        "Printer jam",
        "Login fails",
        None,
    ]
    assert ordered("Subject", "Subject DESC NULLS FIRST")[:2] == [None, "VPN down"]
    # picklists sort in the order of their values (Origin: Phone, Email, Web)
    assert ordered("Origin", "Origin") == [None, "Phone", "Email", "Web", "Web"]
    assert ordered("Origin", "Origin NULLS LAST") == ["Phone", "Email", "Web", "Web", None]
    assert ordered("Origin", "Origin DESC") == ["Web", "Web", "Email", "Phone", None]
    assert ordered("Origin", "Origin DESC NULLS FIRST") == [None, "Web", "Web", "Email", "Phone"]
    # several keys; ties fall back to a stable order on both databases
    assert world.subjects("SELECT Subject FROM Case ORDER BY Priority, Subject DESC") == [
        "VPN down",
        "Printer jam",
        "Login fails",
        "printer on fire",
        None,
    ]
    assert world.subjects("SELECT Subject FROM Case ORDER BY Account.Name NULLS LAST, Subject") == [
        "Printer jam",
        "VPN down",
        "Login fails",
        None,
        "printer on fire",
    ]
    by_owner = world.rows("SELECT Subject, Owner.Name FROM Case ORDER BY Owner.Name, Subject")
    assert [(r["Owner"]["Name"], r["Subject"]) for r in by_owner] == [
        ("Ada Lovelace", None),
        ("Ada Lovelace", "Printer jam"),
        ("Org Admin", "Login fails"),
        ("Support", "printer on fire"),
        ("Support", "VPN down"),
    ]


def test_limit_offset_and_count(world: World) -> None:
    everything = world.subjects("SELECT Subject FROM Case ORDER BY Subject")
    assert world.subjects("SELECT Subject FROM Case ORDER BY Subject LIMIT 2") == everything[:2]
    middle = world.subjects("SELECT Subject FROM Case ORDER BY Subject LIMIT 2 OFFSET 1")
    assert middle == everything[1:3]
    assert world.subjects("SELECT Subject FROM Case ORDER BY Subject OFFSET 3") == everything[3:]
    assert world.subjects("SELECT Subject FROM Case ORDER BY Subject LIMIT 0") == []

    # paging through a compiled query gives the same records, batch by batch
    q = world.engine.compile("SELECT Subject FROM Case ORDER BY Subject")
    pages = [world.engine.fetch(q, offset=o, limit=2, base="") for o in (0, 2, 4)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [r["Subject"] for p in pages for r in p] == everything
    limited = world.engine.compile("SELECT Subject FROM Case ORDER BY Subject LIMIT 3 OFFSET 1")
    assert world.engine.count(limited) == 3
    assert [r["Subject"] for r in world.engine.fetch(limited, offset=2, limit=2, base="")] == [
        everything[3]
    ]

    def count(soql: str) -> int:
        compiled = world.engine.compile(soql)
        assert compiled.count_only
        return world.engine.count(compiled)

    assert count("SELECT COUNT() FROM Case") == 5
    assert count("SELECT COUNT() FROM Case WHERE Priority = 'High'") == 2
    assert count("SELECT COUNT() FROM Case WHERE Owner.Name = 'Support'") == 2
    assert count("SELECT COUNT() FROM Case WHERE Account.Name = 'Nobody'") == 0
    assert count("SELECT COUNT() FROM Case LIMIT 3") == 3
    assert count("SELECT COUNT() FROM Account WHERE Name LIKE '100%'") == 2


# -- aggregates ----------------------------------------------------------------------------


def test_group_by_aggregates(world: World) -> None:
    assert world.aggregate(
        "SELECT Priority, COUNT(Id) n FROM Case GROUP BY Priority ORDER BY Priority"
    ) == [
        {"Priority": "High", "n": 2},
        {"Priority": "Medium", "n": 1},
        {"Priority": "Low", "n": 2},
    ]
    assert world.aggregate(
        "SELECT Priority, COUNT(Id) FROM Case GROUP BY Priority ORDER BY Priority DESC LIMIT 2"
    ) == [{"Priority": "Low", "expr0": 2}, {"Priority": "Medium", "expr0": 1}]
    assert world.aggregate(
        "SELECT Priority, COUNT(Id) FROM Case GROUP BY Priority ORDER BY Priority OFFSET 1"
    ) == [{"Priority": "Medium", "expr0": 1}, {"Priority": "Low", "expr0": 2}]
    assert world.aggregate(
        "SELECT Origin, COUNT(Id) FROM Case GROUP BY Origin ORDER BY Origin NULLS LAST"
    ) == [
        {"Origin": "Phone", "expr0": 1},
        {"Origin": "Email", "expr0": 1},
        {"Origin": "Web", "expr0": 2},
        {"Origin": None, "expr0": 1},
    ]
    assert world.aggregate(
        "SELECT Account.Name, COUNT(Id) cases FROM Case GROUP BY Account.Name ORDER BY Account.Name"
    ) == [
        {"Name": None, "cases": 2},
        {"Name": "Acme", "cases": 2},
        {"Name": "Globex", "cases": 1},
    ]
    [totals] = world.aggregate(
        "SELECT COUNT(Id), COUNT(Origin), COUNT_DISTINCT(Priority), MIN(Subject), "
        "MAX(CreatedDate) FROM Case"
    )
    assert totals == {
        "expr0": 5,
        "expr1": 4,
        "expr2": 3,
        "expr3": "Login fails",
        "expr4": "2024-03-15T09:30:00.000+0000",
    }
    # GROUP BY without an aggregate lists the distinct values
    assert world.aggregate("SELECT Priority FROM Case GROUP BY Priority ORDER BY Priority") == [
        {"Priority": "High"},
        {"Priority": "Medium"},
        {"Priority": "Low"},
    ]
    with pytest.raises(MalformedQueryError, match="grouped or aggregated"):
        world.engine.compile("SELECT Subject, COUNT(Id) FROM Case GROUP BY Priority")
    with pytest.raises(MalformedQueryError, match="grouped or aggregated"):
        world.engine.compile(
            "SELECT Priority, COUNT(Id) FROM Case GROUP BY Priority ORDER BY Subject"
        )


def test_numeric_aggregates(org: Org, admin: str) -> None:
    deploy(org, "gadget")
    org.store.insert(
        "Gadget__c",
        [
            {"Name": "a", "Stage__c": "Idea", "Weight__c": 1.5, "Qty__c": 2},
            {"Name": "b", "Stage__c": "Idea", "Weight__c": 2.5, "Qty__c": 3},
            {"Name": "c", "Stage__c": "Built", "Weight__c": 10.25, "Qty__c": 7},
            {"Name": "d", "Stage__c": "Built"},
        ],
        user_id=admin,
    )
    engine = SoqlEngine(org.store)
    q = engine.compile(
        "SELECT Stage__c, SUM(Weight__c) total, AVG(Weight__c) mean, MIN(Qty__c) low, "
        "MAX(Qty__c) high, COUNT(Weight__c) n FROM Gadget__c GROUP BY Stage__c ORDER BY Stage__c"
    )
    records = engine.aggregate(q, base="")["records"]
    got = [{k: v for k, v in r.items() if k != "attributes"} for r in records]
    assert got == [  # picklist order: Idea, then Built
        {"Stage__c": "Idea", "total": 4.0, "mean": 2.0, "low": 2, "high": 3, "n": 2},
        {"Stage__c": "Built", "total": 10.25, "mean": 10.25, "low": 7, "high": 7, "n": 1},
    ]
    with pytest.raises(MalformedQueryError):
        engine.compile("SELECT SUM(Name) FROM Gadget__c")
