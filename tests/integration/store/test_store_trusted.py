"""Trusted saves (``Store.trusted``): the engine's own rows skip coercion and the
required/reference/uniqueness checks but not hooks, and only the saves made directly
in the block are trusted. Also the driver-level reader behind ``get_many``. Every test
runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import InvalidCrossReferenceKeyError, InvalidFieldError, NotFoundError
from workroute.org import Org
from workroute.store.hooks import Operation, SaveContext

BOGUS_ACCOUNT = "001000000000000AAA"


def _count(org: Org, name: str) -> int:
    return org.store.count(name)


def test_a_trusted_save_is_not_checked_but_its_hooks_run(org: Org, admin: str) -> None:
    seen: list[str] = []
    org.hooks.after_save("Contact", lambda ctx: seen.extend(str(r["Id"]) for r in ctx.new))
    with org.store.trusted():
        [cid] = org.store.insert(
            "Contact", [{"LastName": "Trusted", "AccountId": BOGUS_ACCOUNT}], user_id=admin
        )
    assert seen == [cid]
    assert org.store.get("Contact", cid)["AccountId"] == BOGUS_ACCOUNT
    # The same row from anyone else is checked.
    with pytest.raises(InvalidCrossReferenceKeyError):
        org.store.insert(
            "Contact", [{"LastName": "Checked", "AccountId": BOGUS_ACCOUNT}], user_id=admin
        )


def test_a_misspelt_field_in_a_trusted_save_fails_and_writes_nothing(org: Org, admin: str) -> None:
    before = _count(org, "Account")
    with pytest.raises(InvalidFieldError, match="Nmae"), org.store.trusted():
        org.store.insert("Account", [{"Name": "A"}, {"Nmae": "B"}], user_id=admin)
    assert _count(org, "Account") == before
    [aid] = org.store.insert("Account", [{"Name": "Kept"}], user_id=admin)
    with pytest.raises(InvalidFieldError), org.store.trusted():
        org.store.update("Account", [{"Id": aid, "Industy": "Energy"}], user_id=admin)
    assert org.store.get("Account", aid)["Industry"] is None


def test_saves_made_by_hooks_of_a_trusted_save_are_checked(org: Org, admin: str) -> None:
    def add_contact(ctx: SaveContext) -> None:
        if ctx.operation is Operation.INSERT:
            ctx.store.insert(
                "Contact", [{"LastName": "x", "AccountId": BOGUS_ACCOUNT}], user_id=ctx.user_id
            )

    org.hooks.after_save("Account", add_contact)
    before = (_count(org, "Account"), _count(org, "Contact"))
    with pytest.raises(InvalidCrossReferenceKeyError), org.store.trusted():
        org.store.insert("Account", [{"Name": "Parent"}], user_id=admin)
    assert (_count(org, "Account"), _count(org, "Contact")) == before


def test_a_trusted_update_writes_and_reports_only_what_changed(org: Org, admin: str) -> None:
    changed: list[frozenset[str]] = []
    org.hooks.after_save(
        "Account",
        lambda ctx: changed.extend(ctx.changed) if ctx.operation is Operation.UPDATE else None,
    )
    [aid] = org.store.insert("Account", [{"Name": "Acme", "Industry": "Energy"}], user_id=admin)
    with org.store.trusted():
        org.store.update("Account", [{"Id": aid, "NumberOfEmployees": 7}], user_id=admin)
    row = org.store.get("Account", aid)
    assert (row["Name"], row["Industry"], row["NumberOfEmployees"]) == ("Acme", "Energy", 7)
    assert "NumberOfEmployees" in changed[0] and "Industry" not in changed[0]


def test_get_many_reads_whole_rows_in_the_order_asked_past_one_statement(
    org: Org, admin: str
) -> None:
    ids = org.store.insert("Account", [{"Name": f"A{i:03d}"} for i in range(300)], user_id=admin)
    org.store.delete("Account", [ids[5]], user_id=admin)
    wanted = [*reversed(ids), ids[0]]  # more ids than one reader statement takes, a repeat
    rows = org.store.get_many("Account", wanted)
    assert [r["Id"] for r in rows] == [i for i in reversed(ids) if i != ids[5]]
    assert rows[-1]["Name"] == "A000" and rows[-1]["IsDeleted"] is False
    with_deleted = org.store.get_many("Account", [ids[5]], include_deleted=True)
    assert with_deleted[0]["IsDeleted"] is True
    assert org.store.get_many("Account", []) == []


def test_a_trusted_update_nobody_wants_writes_without_reading(
    org: Org, admin: str, clock: ManualClock
) -> None:
    """No hook wants Account saves: a trusted update writes the given fields and the
    audit fields as they are, and reads no stored row first."""
    [aid] = org.store.insert("Account", [{"Name": "Before", "Industry": "Energy"}], user_id=admin)
    reads: list[str] = []

    def note(_c: object, _cur: object, sql: str, *_: object) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "Account" in sql:
            reads.append(sql)

    clock.advance(5)
    event.listen(org.db.engine, "before_cursor_execute", note)
    try:
        with org.store.trusted():
            org.store.update("Account", [{"Id": aid, "Name": "After"}], user_id=admin)
    finally:
        event.remove(org.db.engine, "before_cursor_execute", note)
    assert reads == []
    row = org.store.get("Account", aid)
    assert (row["Name"], row["Industry"]) == ("After", "Energy")
    assert row["LastModifiedDate"] == clock.now() != row["CreatedDate"]


def test_a_hook_for_every_object_sees_only_the_objects_it_wants(org: Org, admin: str) -> None:
    seen: list[str] = []
    wanted = {"contact"}
    org.hooks.after_save(
        None, lambda ctx: seen.append(ctx.obj.name), wants=lambda obj: obj.key in wanted
    )
    [aid] = org.store.insert("Account", [{"Name": "A"}], user_id=admin)
    org.store.insert("Contact", [{"LastName": "C", "AccountId": aid}], user_id=admin)
    with org.store.trusted():
        org.store.update("Account", [{"Id": aid, "Name": "B"}], user_id=admin)
    assert seen == ["Contact"]
    wanted.add("account")  # what a hook wants may change as the org changes
    with org.store.trusted():
        org.store.update("Account", [{"Id": aid, "Name": "C"}], user_id=admin)
    assert seen == ["Contact", "Account"]


def test_only_a_hook_for_every_object_says_what_it_wants(org: Org) -> None:
    with pytest.raises(ValueError, match="every object"):
        org.hooks.after_save("Account", lambda ctx: None, wants=lambda obj: True)


def test_a_trusted_update_nobody_wants_of_an_unknown_id_fails_and_writes_nothing(
    org: Org, admin: str
) -> None:
    [aid] = org.store.insert("Account", [{"Name": "Kept"}], user_id=admin)
    unknown = "001000000000000ZZZ"
    with pytest.raises(NotFoundError, match=unknown), org.db.write(), org.store.trusted():
        org.store.update(
            "Account", [{"Id": aid, "Name": "Changed"}, {"Id": unknown, "Name": "X"}], user_id=admin
        )
    assert org.store.get("Account", aid)["Name"] == "Kept"


def test_a_trusted_update_standing_in_for_hooks_skips_only_those(org: Org, admin: str) -> None:
    seen: list[str] = []

    def mine(ctx: SaveContext) -> None:
        seen.append("mine")

    def theirs(ctx: SaveContext) -> None:
        seen.append("theirs")

    org.hooks.after_save("Account", mine)
    [aid] = org.store.insert("Account", [{"Name": "Kept"}], user_id=admin)
    seen.clear()
    with org.store.trusted():
        org.store.update(
            "Account", [{"Id": aid, "Industry": "Energy"}], user_id=admin, standing_in_for=[mine]
        )
    assert seen == [] and org.store.get("Account", aid)["Industry"] == "Energy"
    # Another hook that has to see the save makes every hook run, the named ones too.
    org.hooks.after_save("Account", theirs)
    with org.store.trusted():
        org.store.update(
            "Account", [{"Id": aid, "Industry": "Water"}], user_id=admin, standing_in_for=[mine]
        )
    assert seen == ["mine", "theirs"]
    # Only the engine's own (trusted) saves may stand in for hooks.
    with pytest.raises(ValueError, match="trusted"):
        org.store.update(
            "Account", [{"Id": aid, "Industry": "Gas"}], user_id=admin, standing_in_for=[mine]
        )
    assert org.store.get("Account", aid)["Industry"] == "Water"


def test_an_update_given_the_rows_read_in_its_transaction_reads_none(
    org: Org, admin: str, clock: ManualClock
) -> None:
    """``Store.update(current=...)``: rows the caller read inside the write
    transaction are the stored rows (hooks see them as the old values); a row it does
    not hold is read as usual."""
    [a1, a2] = org.store.insert(
        "Account", [{"Name": "One", "Industry": "Energy"}, {"Name": "Two"}], user_id=admin
    )
    olds: list[object] = []
    org.hooks.after_save("Account", lambda ctx: olds.extend(o and o["Name"] for o in ctx.old))
    reads: list[str] = []

    def note(_c: object, _cur: object, sql: str, *_: object) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "Account" in sql:
            reads.append(sql)

    clock.advance(5)
    with org.db.write():
        held = org.store.get_many("Account", [a1])
        event.listen(org.db.engine, "before_cursor_execute", note)
        try:
            org.store.update("Account", [{"Id": a1, "Name": "Uno"}], user_id=admin, current=held)
            assert reads == []
            org.store.update("Account", [{"Id": a2, "Name": "Dos"}], user_id=admin, current=held)
            assert len(reads) == 1  # a2 is not among the rows given: read
        finally:
            event.remove(org.db.engine, "before_cursor_execute", note)
    assert olds == ["One", "Two"]
    row = org.store.get("Account", a1)
    assert (row["Name"], row["Industry"]) == ("Uno", "Energy")
    assert row["LastModifiedDate"] == clock.now() != row["CreatedDate"]
    assert org.store.get("Account", a2)["Name"] == "Dos"
