"""The save pipeline's contract: ids, defaults, system fields, autonumbers, all-or-nothing
bulk saves, the recycle bin, upserts, reference and uniqueness checks, and exact value
round trips. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event

from tests.integration.store.conftest import add_agent, add_queue, deploy, user_row
from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import (
    DuplicateValueError,
    EntityIsDeletedError,
    FieldIntegrityError,
    FieldValidationError,
    InvalidCrossReferenceKeyError,
    InvalidFieldError,
    InvalidFieldForInsertUpdateError,
    InvalidTypeOnFieldError,
    MalformedIdError,
    MultipleRecordsError,
    NotFoundError,
    NumberOutsideValidRangeError,
    RequiredFieldMissingError,
    RestrictedPicklistError,
    StringTooLongError,
    WorkrouteError,
)
from workroute.kernel.ids import make_id, normalize_id
from workroute.org import Org
from workroute.store.soql import SoqlEngine

# -- ids, defaults, system fields --------------------------------------------------------


def test_bulk_insert_returns_ids_in_input_order(org: Org, admin: str) -> None:
    names = [f"Account {i:02d}" for i in range(40)]
    ids = org.store.insert("Account", [{"Name": n} for n in names], user_id=admin)

    assert len(ids) == len(set(ids)) == 40
    for rid in ids:
        assert len(rid) == 18
        assert rid.startswith("001")
        assert normalize_id(rid[:15]) == rid  # the suffix is the checksum of the 15
    rows = org.store.get_many("Account", ids, ["Name"])
    assert [r["Id"] for r in rows] == ids
    assert [r["Name"] for r in rows] == names
    # and ids map back to the records they were returned for, one by one
    assert org.store.get("Account", ids[17])["Name"] == "Account 17"
    assert org.store.get("Account", ids[17][:15])["Id"] == ids[17]


def test_custom_object_ids_use_its_key_prefix(org: Org, admin: str) -> None:
    deploy(org, "ticket")
    prefix = org.schema.get("Ticket__c").key_prefix
    assert prefix.startswith("a") and len(prefix) == 3
    ids = org.store.insert("Ticket__c", [{"Name": "T1"}, {"Name": "T2"}], user_id=admin)
    assert all(len(i) == 18 and i.startswith(prefix) for i in ids)
    assert org.schema.object_for_id(ids[0]) is org.schema.get("Ticket__c")


def test_defaults_and_system_fields(org: Org, admin: str, clock: ManualClock) -> None:
    agent = add_agent(org, "ada@example.com", "Ada", "Lovelace")
    clock.advance(timedelta(minutes=5, microseconds=123456))
    created_at = clock.now()

    [case_id] = org.store.insert("Case", [{"Subject": "Printer jam"}], user_id=agent)
    case = org.store.get("Case", case_id)

    assert case["Status"] == "New"  # picklist default
    assert case["Priority"] == "Medium"
    assert case["IsEscalated"] is False  # booleans default to false, never null
    assert case["IsClosed"] is False
    assert case["Origin"] is None
    assert case["IsDeleted"] is False
    created = case["CreatedDate"]
    assert isinstance(created, datetime)
    assert created == created_at
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
    assert case["LastModifiedDate"] == case["SystemModstamp"] == created_at
    assert case["CreatedById"] == case["LastModifiedById"] == agent
    assert case["OwnerId"] == agent  # the saving user, not the administrator

    queue = add_queue(org, "Support")
    [queued] = org.store.insert("Case", [{"Subject": "Q", "OwnerId": queue}], user_id=agent)
    assert org.store.get("Case", queued)["OwnerId"] == queue

    # an explicit value wins over the default; custom objects get their defaults too
    deploy(org, "gadget")
    [g] = org.store.insert("Gadget__c", [{"Name": "g", "Stage__c": "Built"}], user_id=agent)
    gadget = org.store.get("Gadget__c", g)
    assert gadget["Stage__c"] == "Built"
    assert gadget["Active__c"] is False
    assert gadget["OwnerId"] == agent
    deploy(org, "ticket")
    [t] = org.store.insert("Ticket__c", [{"Name": "t"}], user_id=agent)
    assert org.store.get("Ticket__c", t)["Severity__c"] == "Low"


def test_pipeline_fields_cannot_be_written(org: Org, admin: str) -> None:
    with pytest.raises(InvalidFieldForInsertUpdateError):
        org.store.insert(
            "Case", [{"Subject": "x", "CreatedDate": "2020-01-01T00:00:00Z"}], user_id=admin
        )
    with pytest.raises(InvalidFieldError):
        org.store.insert("Case", [{"Subject": "x", "NoSuchField__c": 1}], user_id=admin)
    assert org.store.count("Case") == 0


# -- autonumbers -----------------------------------------------------------------------------


def _case_numbers(org: Org) -> list[str]:
    return sorted(str(r["CaseNumber"]) for r in org.store.find("Case"))


def test_autonumbers_are_sequential_and_gapless(org: Org, admin: str) -> None:
    ids = org.store.insert("Case", [{"Subject": f"c{i}"} for i in range(3)], user_id=admin)
    assert [org.store.get("Case", i)["CaseNumber"] for i in ids] == [
        "00000001",
        "00000002",
        "00000003",
    ]

    # a save that fails after numbers were drawn gives them back
    missing_account = make_id("001", 999_999)
    with pytest.raises(InvalidCrossReferenceKeyError):
        org.store.insert(
            "Case",
            [{"Subject": "ok"}, {"Subject": "bad", "AccountId": missing_account}],
            user_id=admin,
        )
    # so does an outer transaction that rolls back after a successful save
    with pytest.raises(RuntimeError), org.db.write():
        org.store.insert("Case", [{"Subject": "rolled back"}], user_id=admin)
        raise RuntimeError("abort")

    [next_id] = org.store.insert("Case", [{"Subject": "next"}], user_id=admin)
    assert org.store.get("Case", next_id)["CaseNumber"] == "00000004"
    assert _case_numbers(org) == ["00000001", "00000002", "00000003", "00000004"]


# -- updates ---------------------------------------------------------------------------------


def test_update_writes_only_changed_fields(org: Org, admin: str, clock: ManualClock) -> None:
    t0 = clock.now()
    agent = add_agent(org, "ada@example.com", "Ada", "Lovelace")
    a, b, c = org.store.insert(
        "Case",
        [
            {"Subject": "a", "Description": "keep a", "Origin": "Web"},
            {"Subject": "b", "Description": "keep b", "Origin": "Email"},
            {"Subject": "c", "Description": "keep c", "Origin": "Phone"},
        ],
        user_id=admin,
    )
    t1 = clock.advance(timedelta(hours=1))
    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE O_CASE"):
            statements.append(statement)

    event.listen(org.db.engine, "before_cursor_execute", capture)
    try:
        org.store.update(
            "Case",
            [{"Id": a, "Subject": "a2"}, {"Id": b, "Priority": "High", "Origin": "Email"}],
            user_id=agent,
        )
    finally:
        event.remove(org.db.engine, "before_cursor_execute", capture)

    ra, rb, rc = org.store.get_many("Case", [a, b, c])
    assert (ra["Subject"], ra["Description"], ra["Origin"], ra["Priority"]) == (
        "a2",
        "keep a",
        "Web",
        "Medium",
    )
    assert (rb["Subject"], rb["Priority"], rb["Origin"]) == ("b", "High", "Email")
    for r in (ra, rb):
        assert r["LastModifiedDate"] == r["SystemModstamp"] == t1
        assert r["LastModifiedById"] == agent
        assert r["CreatedDate"] == t0
        assert r["CreatedById"] == admin
    # the record not in the update is untouched
    assert rc["LastModifiedDate"] == rc["SystemModstamp"] == t0
    assert rc["LastModifiedById"] == admin
    # SET lists only what changed: never Description, CaseNumber or the unchanged Origin
    assert statements
    for sql in statements:
        set_clause = sql.upper().split(" SET ", 1)[1].split(" WHERE ", 1)[0]
        assert "DESCRIPTION" not in set_clause
        assert "CASENUMBER" not in set_clause
        assert "ORIGIN" not in set_clause
        assert "CREATEDDATE" not in set_clause
    assert any('"SUBJECT"' in s.upper() for s in statements)
    assert any('"PRIORITY"' in s.upper() for s in statements)


def test_update_can_clear_a_field(org: Org, admin: str) -> None:
    [a] = org.store.insert("Account", [{"Name": "Acme", "Industry": "Energy"}], user_id=admin)
    org.store.update("Account", [{"Id": a, "Industry": None}], user_id=admin)
    assert org.store.get("Account", a)["Industry"] is None
    org.store.update("Account", [{"Id": a, "Industry": ""}], user_id=admin)  # "" is null
    with pytest.raises(RequiredFieldMissingError):
        org.store.update("Account", [{"Id": a, "Name": None}], user_id=admin)
    assert org.store.get("Account", a)["Name"] == "Acme"


# -- all or nothing ------------------------------------------------------------------------


BAD_RECORDS: list[tuple[dict[str, object], type[WorkrouteError]]] = [
    ({"Name": None}, RequiredFieldMissingError),
    ({"Name": "x" * 256}, StringTooLongError),
    ({"Name": "x", "NumberOfEmployees": "many"}, InvalidTypeOnFieldError),
    ({"Name": "x", "ParentId": make_id("001", 123_456)}, InvalidCrossReferenceKeyError),
    ({"Name": "x", "ParentId": make_id("003", 1)}, MalformedIdError),
]


def test_one_bad_record_in_fifty_writes_nothing(org: Org, admin: str) -> None:
    engine = SoqlEngine(org.store)
    for bad, error in BAD_RECORDS:
        rows: list[dict[str, object]] = [{"Name": f"A{i}"} for i in range(50)]
        rows[37] = bad
        with pytest.raises(error) as info:
            org.store.insert("Account", rows, user_id=admin)
        assert info.value.code == error.code
        assert org.store.count("Account") == 0, bad
        assert engine.records("SELECT Id FROM Account") == []
    # the same fifty without the bad one are all written
    ids = org.store.insert("Account", [{"Name": f"A{i}"} for i in range(50)], user_id=admin)
    assert org.store.count("Account") == len(ids) == 50


def test_one_bad_update_in_fifty_changes_nothing(org: Org, admin: str, clock: ManualClock) -> None:
    ids = org.store.insert("Account", [{"Name": f"A{i}"} for i in range(50)], user_id=admin)
    t0 = clock.now()
    clock.advance(60)
    changes: list[dict[str, object]] = [{"Id": rid, "Name": f"B{i}"} for i, rid in enumerate(ids)]
    changes[20] = {"Id": ids[20], "Name": None}
    with pytest.raises(RequiredFieldMissingError):
        org.store.update("Account", changes, user_id=admin)

    changes[20] = {"Id": make_id("001", 777_777), "Name": "ghost"}
    with pytest.raises(NotFoundError):
        org.store.update("Account", changes, user_id=admin)

    changes[20] = {"Id": ids[20], "ParentId": make_id("001", 777_777)}
    with pytest.raises(InvalidCrossReferenceKeyError):
        org.store.update("Account", changes, user_id=admin)

    rows = org.store.get_many("Account", ids, ["Name", "LastModifiedDate"])
    assert [r["Name"] for r in rows] == [f"A{i}" for i in range(50)]
    assert {r["LastModifiedDate"] for r in rows} == {t0}


# -- the recycle bin -----------------------------------------------------------------------


def test_delete_moves_to_recycle_bin_and_undelete_restores(
    org: Org, admin: str, clock: ManualClock
) -> None:
    keep, gone = org.store.insert("Account", [{"Name": "Keep"}, {"Name": "Gone"}], user_id=admin)
    deleted_at = clock.advance(timedelta(minutes=3))
    org.store.delete("Account", [gone], user_id=admin)

    with pytest.raises(NotFoundError) as info:
        org.store.get("Account", gone)
    assert info.value.code == "NOT_FOUND"
    binned = org.store.get("Account", gone, include_deleted=True)
    assert binned["IsDeleted"] is True
    assert binned["Name"] == "Gone"
    assert binned["SystemModstamp"] == deleted_at
    assert org.store.get_many("Account", [keep, gone]) == [org.store.get("Account", keep)]
    assert org.store.count("Account") == 1
    assert [r["Id"] for r in org.store.find("Account")] == [keep]
    engine = SoqlEngine(org.store)
    assert [r["Name"] for r in engine.records("SELECT Name FROM Account")] == ["Keep"]
    all_rows = engine.compile("SELECT Name, IsDeleted FROM Account", include_deleted=True)
    fetched = engine.fetch(all_rows, offset=0, limit=10, base="")
    assert {(r["Name"], r["IsDeleted"]) for r in fetched} == {("Keep", False), ("Gone", True)}

    with pytest.raises(EntityIsDeletedError):
        org.store.delete("Account", [gone], user_id=admin)
    with pytest.raises(EntityIsDeletedError):
        org.store.update("Account", [{"Id": gone, "Name": "x"}], user_id=admin)
    with pytest.raises(InvalidCrossReferenceKeyError):  # a deleted parent can't be referenced
        org.store.insert("Case", [{"Subject": "s", "AccountId": gone}], user_id=admin)
    with pytest.raises(InvalidFieldError):  # only records in the bin can be undeleted
        org.store.undelete("Account", [keep], user_id=admin)

    org.store.undelete("Account", [gone], user_id=admin)
    restored = org.store.get("Account", gone)
    assert restored["IsDeleted"] is False
    assert restored["Name"] == "Gone"
    assert org.store.count("Account") == 2


def test_delete_is_all_or_nothing(org: Org, admin: str) -> None:
    ids = org.store.insert("Account", [{"Name": f"A{i}"} for i in range(5)], user_id=admin)
    with pytest.raises(NotFoundError):
        org.store.delete("Account", [*ids, make_id("001", 555_555)], user_id=admin)
    assert org.store.count("Account") == 5


# -- upsert --------------------------------------------------------------------------------


def test_upsert_by_external_id(org: Org, admin: str) -> None:
    deploy(org, "ticket")
    store = org.store
    [(t1, created)] = store.upsert(
        "Ticket__c", "External_Id__c", [{"External_Id__c": "T-1", "Name": "one"}], user_id=admin
    )
    assert created is True
    assert store.get("Ticket__c", t1)["Name"] == "one"

    # matching is case-insensitive (the field is not case-sensitive); the key is kept
    [(again, created)] = store.upsert(
        "Ticket__c", "External_Id__c", [{"External_Id__c": "t-1", "Name": "uno"}], user_id=admin
    )
    assert (again, created) == (t1, False)
    row = store.get("Ticket__c", t1)
    assert (row["Name"], row["External_Id__c"]) == ("uno", "T-1")

    result = store.upsert(
        "Ticket__c",
        "external_id__c",
        [{"External_Id__c": "T-1", "Hours__c": 2.5}, {"External_Id__c": "T-2", "Name": "two"}],
        user_id=admin,
    )
    assert [c for _, c in result] == [False, True]
    assert result[0][0] == t1
    assert store.get("Ticket__c", t1)["Hours__c"] == 2.5
    assert store.count("Ticket__c") == 2

    # all or nothing: the second record fails, the first is not applied
    with pytest.raises(RestrictedPicklistError):
        store.upsert(
            "Ticket__c",
            "External_Id__c",
            [
                {"External_Id__c": "T-1", "Name": "changed"},
                {"External_Id__c": "T-3", "Severity__c": "Apocalyptic"},
            ],
            user_id=admin,
        )
    assert store.get("Ticket__c", t1)["Name"] == "uno"
    assert store.count("Ticket__c") == 2

    with pytest.raises(InvalidFieldError):
        store.upsert("Ticket__c", "External_Id__c", [{"Name": "no key"}], user_id=admin)
    with pytest.raises(NotFoundError):  # not an external id field
        store.upsert("Ticket__c", "Hours__c", [{"Hours__c": 1}], user_id=admin)


def test_upsert_with_several_matches_is_multiple_records(org: Org, admin: str) -> None:
    deploy(org, "gadget")  # Code__c is an external id but not unique
    org.store.insert(
        "Gadget__c",
        [{"Name": "a", "Code__c": "G-1"}, {"Name": "b", "Code__c": "g-1"}],
        user_id=admin,
    )
    with pytest.raises(MultipleRecordsError) as info:
        org.store.upsert(
            "Gadget__c", "Code__c", [{"Code__c": "G-1", "Name": "changed"}], user_id=admin
        )
    assert info.value.code == "MULTIPLE_CHOICES"
    assert sorted(str(r["Name"]) for r in org.store.find("Gadget__c")) == ["a", "b"]


def test_upsert_by_id(org: Org, admin: str) -> None:
    [a] = org.store.insert("Account", [{"Name": "Acme"}], user_id=admin)
    assert org.store.upsert("Account", "Id", [{"Id": a, "Name": "Acme 2"}], user_id=admin) == [
        (a, False)
    ]
    assert org.store.get("Account", a)["Name"] == "Acme 2"
    with pytest.raises(NotFoundError):
        org.store.upsert(
            "Account", "Id", [{"Id": make_id("001", 424_242), "Name": "x"}], user_id=admin
        )


# -- references ----------------------------------------------------------------------------


def test_reference_checks(org: Org, admin: str) -> None:
    store = org.store
    [acct] = store.insert("Account", [{"Name": "Acme"}], user_id=admin)
    [contact] = store.insert("Contact", [{"LastName": "Coyote", "AccountId": acct}], user_id=admin)

    with pytest.raises(InvalidCrossReferenceKeyError) as xref:
        store.insert(
            "Case", [{"Subject": "s", "AccountId": make_id("001", 987_654)}], user_id=admin
        )
    assert xref.value.code == "INVALID_CROSS_REFERENCE_KEY"
    assert xref.value.fields == ["AccountId"]
    with pytest.raises(MalformedIdError) as wrong:  # a Contact id where an Account goes
        store.insert("Case", [{"Subject": "s", "AccountId": contact}], user_id=admin)
    assert wrong.value.code == "MALFORMED_ID"
    with pytest.raises(MalformedIdError):
        store.insert("Case", [{"Subject": "s", "AccountId": "not-an-id"}], user_id=admin)
    assert store.count("Case") == 0

    # 15-character ids are accepted and stored in their 18-character form
    [case] = store.insert("Case", [{"Subject": "s", "AccountId": acct[:15]}], user_id=admin)
    assert store.get("Case", case)["AccountId"] == acct

    # polymorphic OwnerId: a user or a queue, nothing else
    agent = add_agent(org, "ada@example.com", "Ada", "Lovelace")
    queue = add_queue(org, "Support")
    store.update("Case", [{"Id": case, "OwnerId": agent}], user_id=admin)
    assert store.get("Case", case)["OwnerId"] == agent
    store.update("Case", [{"Id": case, "OwnerId": queue}], user_id=admin)
    assert store.get("Case", case)["OwnerId"] == queue
    with pytest.raises(MalformedIdError):
        store.update("Case", [{"Id": case, "OwnerId": acct}], user_id=admin)
    with pytest.raises(InvalidCrossReferenceKeyError):
        store.update("Case", [{"Id": case, "OwnerId": make_id("005", 31_337)}], user_id=admin)
    with pytest.raises(InvalidCrossReferenceKeyError):
        store.update("Case", [{"Id": case, "OwnerId": make_id("00G", 31_337)}], user_id=admin)
    assert store.get("Case", case)["OwnerId"] == queue


# -- uniqueness ----------------------------------------------------------------------------


def test_unique_username_is_case_insensitive(org: Org, admin: str) -> None:
    store = org.store
    before = store.count("User")
    with pytest.raises(DuplicateValueError) as info:
        store.insert(
            "User",
            [user_row(org, "Dup@Example.com"), user_row(org, "dup@EXAMPLE.COM")],
            user_id=admin,
        )
    assert info.value.code == "DUPLICATE_VALUE"
    assert info.value.fields == ["Username"]
    assert store.count("User") == before

    [stored] = store.insert("User", [user_row(org, "Stored@Example.com")], user_id=admin)
    assert store.get("User", stored)["Username"] == "stored@example.com"
    with pytest.raises(DuplicateValueError):
        store.insert("User", [user_row(org, "STORED@example.COM")], user_id=admin)
    with pytest.raises(DuplicateValueError):  # the administrator's, in another case
        store.insert("User", [user_row(org, "ADMIN@example.com")], user_id=admin)

    [other] = store.insert("User", [user_row(org, "other@example.com")], user_id=admin)
    with pytest.raises(DuplicateValueError):
        store.update("User", [{"Id": other, "Username": "Stored@EXAMPLE.com"}], user_id=admin)
    # changing the case of one's own username is not a duplicate
    store.update("User", [{"Id": stored, "Username": "STORED@example.com"}], user_id=admin)
    assert store.count("User") == before + 2


def test_unique_custom_field_without_hooks(org: Org, admin: str) -> None:
    """Ticket.External_Id__c is unique and not case-sensitive; no hook folds its case."""
    deploy(org, "ticket")
    store = org.store
    with pytest.raises(DuplicateValueError):
        store.insert(
            "Ticket__c",
            [{"Name": "a", "External_Id__c": "ABC"}, {"Name": "b", "External_Id__c": "abc"}],
            user_id=admin,
        )
    [a] = store.insert("Ticket__c", [{"Name": "a", "External_Id__c": "AbC"}], user_id=admin)
    with pytest.raises(DuplicateValueError):
        store.insert("Ticket__c", [{"Name": "b", "External_Id__c": "aBc"}], user_id=admin)
    [b] = store.insert("Ticket__c", [{"Name": "b", "External_Id__c": "XYZ"}], user_id=admin)
    with pytest.raises(DuplicateValueError):
        store.update("Ticket__c", [{"Id": b, "External_Id__c": "abc"}], user_id=admin)
    # a record in the recycle bin does not hold its value
    store.delete("Ticket__c", [a], user_id=admin)
    store.update("Ticket__c", [{"Id": b, "External_Id__c": "abc"}], user_id=admin)
    assert store.get("Ticket__c", b)["External_Id__c"] == "abc"


# -- value round trips ---------------------------------------------------------------------


def test_values_round_trip_exactly(org: Org, admin: str) -> None:
    deploy(org, "gadget")
    store = org.store
    tricky = "Ünïcødé ✓ 🚀 'single' \"double\" back\\slash 100%_off\nsecond line\ttab"
    body = ("Lorem ipsum dolor sit amet, ✓ " * 1000)[:32000]
    values: dict[str, object] = {
        "Name": "Gadget ✓",
        "Note__c": tricky,
        "Body__c": body,
        "Qty__c": 123456789012345,
        "Weight__c": -1234.5678,
        "Price__c": 1234567890123.45,
        "Rate__c": 12.5,
        "Active__c": True,
        "Due__c": date(2024, 2, 29),
        "Seen__c": datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        "Slot__c": time(23, 59, 59, 999999),
        "Colors__c": "Red;Light Blue",
        "Contact_Email__c": "o'brien+tag@example.co.uk",
    }
    [gid] = store.insert("Gadget__c", [values], user_id=admin)
    row = store.get("Gadget__c", gid)
    for name, value in values.items():
        assert row[name] == value, name
        assert type(row[name]) is type(value) or isinstance(value, int), name
    seen = row["Seen__c"]
    assert isinstance(seen, datetime)
    assert seen.tzinfo is not None and seen.utcoffset() == timedelta(0)

    # the JSON forms the REST API returns
    [rec] = SoqlEngine(store).records(
        "SELECT Seen__c, Due__c, Slot__c, Colors__c, Qty__c FROM Gadget__c"
    )
    assert rec["Seen__c"] == "2024-02-29T23:59:59.999+0000"
    assert rec["Due__c"] == "2024-02-29"
    assert rec["Slot__c"] == "23:59:59.999Z"
    assert rec["Colors__c"] == "Red;Light Blue"
    assert rec["Qty__c"] == 123456789012345


DATETIMES: list[tuple[object, datetime]] = [
    (
        datetime(2024, 3, 1, 5, 0, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2024, 2, 29, 23, 30, 0, 1, tzinfo=UTC),
    ),
    # a naive datetime is read as UTC
    (datetime(2024, 2, 29, 12, 0, 0, 250000), datetime(2024, 2, 29, 12, 0, 0, 250000, UTC)),  # noqa: DTZ001
    ("2024-02-29T23:59:59.123456Z", datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC)),
    ("2023-12-31T20:00:00-05:00", datetime(2024, 1, 1, 1, 0, tzinfo=UTC)),
    ("1970-01-01T00:00:00.000+0000", datetime(1970, 1, 1, tzinfo=UTC)),
    ("4000-12-31T23:59:59Z", datetime(4000, 12, 31, 23, 59, 59, tzinfo=UTC)),
]


def test_datetimes_come_back_aware_utc(org: Org, admin: str) -> None:
    deploy(org, "gadget")
    ids = org.store.insert(
        "Gadget__c",
        [{"Name": f"g{i}", "Seen__c": given} for i, (given, _) in enumerate(DATETIMES)],
        user_id=admin,
    )
    rows = org.store.get_many("Gadget__c", ids)
    for row, (given, stored) in zip(rows, DATETIMES, strict=True):
        seen = row["Seen__c"]
        assert isinstance(seen, datetime)
        assert seen == stored, given
        assert seen.tzinfo is not None and seen.utcoffset() == timedelta(0)
        assert seen.replace(tzinfo=None) == stored.astimezone(UTC).replace(tzinfo=None), given


def test_dates_times_and_multipicklists_round_trip(org: Org, admin: str) -> None:
    deploy(org, "gadget")
    days = [
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
        date(2023, 2, 28),
        date(2000, 2, 29),
        date(1900, 3, 1),
        date(1700, 1, 1),
        date(4000, 12, 31),
    ]
    slots = [time(0, 0), time(12, 0, 0, 1), time(23, 59, 59, 999999), time(6, 30, 15)]
    ids = org.store.insert(
        "Gadget__c",
        [
            {"Name": f"d{i}", "Due__c": d, "Slot__c": slots[i % len(slots)]}
            for i, d in enumerate(days)
        ],
        user_id=admin,
    )
    rows = org.store.get_many("Gadget__c", ids)
    assert [r["Due__c"] for r in rows] == days
    assert [r["Slot__c"] for r in rows] == [slots[i % len(slots)] for i in range(len(days))]
    # strings in the API's forms
    [s] = org.store.insert(
        "Gadget__c",
        [{"Name": "s", "Due__c": "2024-02-29", "Slot__c": "07:08:09.010Z"}],
        user_id=admin,
    )
    row = org.store.get("Gadget__c", s)
    assert (row["Due__c"], row["Slot__c"]) == (date(2024, 2, 29), time(7, 8, 9, 10000))

    # multi-select picklists: lists or ';' strings, duplicates dropped, order kept
    [m1, m2, m3] = org.store.insert(
        "Gadget__c",
        [
            {"Name": "m1", "Colors__c": ["Blue", "Red"]},
            {"Name": "m2", "Colors__c": "Green;Green;Light Blue"},
            {"Name": "m3", "Colors__c": []},
        ],
        user_id=admin,
    )
    got = {r["Id"]: r["Colors__c"] for r in org.store.get_many("Gadget__c", [m1, m2, m3])}
    assert got == {m1: "Blue;Red", m2: "Green;Light Blue", m3: None}
    with pytest.raises(RestrictedPicklistError):
        org.store.insert("Gadget__c", [{"Name": "x", "Colors__c": "Red;Purple"}], user_id=admin)


def test_text_and_numbers_round_trip(org: Org, admin: str) -> None:
    deploy(org, "gadget")
    texts = ["", " padded ", "a" * 255, "émoji 🎉", "line\nbreak", "NUL-free \\ % _ '", "x", "y"]
    numbers = [0, -0.0001, 3.14159, 99999999.9999, -1e-4, 7, 2.00005, -2.00005]
    ids = org.store.insert(
        "Gadget__c",
        [
            {"Name": f"n{i}", "Note__c": t, "Weight__c": n}
            for i, (t, n) in enumerate(zip(texts, numbers, strict=True))
        ],
        user_id=admin,
    )
    rows = org.store.get_many("Gadget__c", ids)
    assert [r["Note__c"] for r in rows] == [None, *texts[1:]]  # "" is stored as null
    # Weight__c has scale 4: Salesforce stores numbers rounded half up to the scale.
    assert [r["Weight__c"] for r in rows] == [
        0,
        -0.0001,
        3.1416,
        99999999.9999,
        -0.0001,
        7,
        2.0001,
        -2.0001,
    ]
    with pytest.raises(StringTooLongError):
        org.store.insert("Gadget__c", [{"Name": "x", "Note__c": "a" * 256}], user_id=admin)
    # integers are exact at the edges of their range
    [a] = org.store.insert(
        "Account", [{"Name": "big", "NumberOfEmployees": 2**31 - 1}], user_id=admin
    )
    [b] = org.store.insert(
        "Account", [{"Name": "small", "NumberOfEmployees": -(2**31)}], user_id=admin
    )
    assert org.store.get("Account", a)["NumberOfEmployees"] == 2**31 - 1
    assert org.store.get("Account", b)["NumberOfEmployees"] == -(2**31)


def test_salesforce_write_rules_the_api_relies_on(org: Org, admin: str) -> None:
    deploy(org, "gadget")
    [gid] = org.store.insert("Gadget__c", [{"Name": "g", "Active__c": True}], user_id=admin)
    # An explicit null on a checkbox is stored as false, never null.
    org.store.update("Gadget__c", [{"Id": gid, "Active__c": None}], user_id=admin)
    assert org.store.get("Gadget__c", gid)["Active__c"] is False
    before = org.store.get("Gadget__c", gid)
    with pytest.raises(FieldValidationError, match="NUL"):
        org.store.update("Gadget__c", [{"Id": gid, "Note__c": "a\x00b"}], user_id=admin)
    with pytest.raises(NumberOutsideValidRangeError):
        org.store.update("Gadget__c", [{"Id": gid, "Weight__c": 10**8}], user_id=admin)
    with pytest.raises(DuplicateValueError, match="Duplicate id in list"):
        org.store.update(
            "Gadget__c",
            [{"Id": gid, "Name": "a"}, {"Id": gid[:15], "Name": "b"}],
            user_id=admin,
        )
    [other] = org.store.insert("Gadget__c", [{"Name": "other"}], user_id=admin)
    with pytest.raises(InvalidFieldError, match="more than once"):
        org.store.update("Gadget__c", [{"Id": gid, "id": other, "Name": "x"}], user_id=admin)
    assert org.store.get("Gadget__c", gid) == before
    assert org.store.get("Gadget__c", other)["Name"] == "other"
    with pytest.raises(DuplicateValueError, match="Duplicate external id"):
        org.store.upsert(
            "Gadget__c", "Code__c", [{"Code__c": "K-1"}, {"Code__c": "k-1"}], user_id=admin
        )
    assert org.store.find("Gadget__c", Code__c="K-1") == []


def test_owners_are_users_or_queues(org: Org, admin: str) -> None:
    queue = add_queue(org, "Owners Queue")
    [group] = org.store.insert(
        "Group", [{"Name": "Plain", "DeveloperName": "Plain", "Type": "Regular"}], user_id=admin
    )
    [case] = org.store.insert("Case", [{"Subject": "q", "OwnerId": queue}], user_id=admin)
    with pytest.raises(FieldIntegrityError, match="not a queue"):
        org.store.insert("Case", [{"Subject": "g", "OwnerId": group}], user_id=admin)
    with pytest.raises(FieldIntegrityError):
        org.store.update("Case", [{"Id": case, "OwnerId": group}], user_id=admin)
    assert org.store.get("Case", case)["OwnerId"] == queue


def test_find_in_reads_only_the_columns_asked_for(org: Org, admin: str) -> None:
    """A caller that looks at a few columns reads those, Id and IsDeleted; deleted rows
    are still left out, on the driver's path (text keys) and SQLAlchemy's (others)."""
    live, gone = org.store.insert(
        "Case",
        [{"Subject": "a", "Status": "New"}, {"Subject": "b", "Status": "New"}],
        user_id=admin,
    )
    org.store.delete("Case", [gone], user_id=admin)
    [by_id] = org.store.find_in("Case", "Id", [live, gone], columns=("Status",))
    assert by_id == {"Id": live, "IsDeleted": False, "Status": "New"}
    [by_flag] = org.store.find_in("Case", "IsEscalated", [False], columns=("Subject",))
    assert by_flag == {"Id": live, "IsDeleted": False, "Subject": "a"}
    assert org.store.find_in("Case", "Id", [live])[0]["Subject"] == "a"  # whole rows
