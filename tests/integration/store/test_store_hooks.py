"""Save hooks: what before- and after-save hooks may do, and what their failures undo.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from workroute.kernel.errors import FieldValidationError, WorkrouteError
from workroute.org import Org
from workroute.store.hooks import Operation, SaveContext
from workroute.store.soql import SoqlEngine
from workroute.store.store import MAX_HOOK_DEPTH


class Refused(WorkrouteError):
    """A hook said no."""

    code = "FIELD_CUSTOM_VALIDATION_EXCEPTION"


def test_before_save_changes_land(org: Org, admin: str) -> None:
    seen: list[tuple[Operation, list[object]]] = []

    def triage(ctx: SaveContext) -> None:
        seen.append((ctx.operation, [o and o.get("Subject") for o in ctx.old]))
        for rec in ctx.new:
            subject = str(rec.get("Subject") or "")
            if "urgent" in subject.lower():
                rec["Priority"] = "High"
            rec["Description"] = f"triaged: {subject}"

    org.hooks.before_save("Case", triage)
    calm, urgent = org.store.insert(
        "Case", [{"Subject": "calm"}, {"Subject": "URGENT: down"}], user_id=admin
    )
    assert org.store.get("Case", calm)["Priority"] == "Medium"
    assert org.store.get("Case", urgent)["Priority"] == "High"
    assert org.store.get("Case", calm)["Description"] == "triaged: calm"

    org.store.update("Case", [{"Id": calm, "Subject": "now urgent"}], user_id=admin)
    row = org.store.get("Case", calm)
    assert (row["Priority"], row["Description"]) == ("High", "triaged: now urgent")
    assert seen == [
        (Operation.INSERT, [None, None]),
        (Operation.UPDATE, ["calm"]),  # the hook sees the stored version
    ]


def test_before_save_that_raises_writes_nothing(org: Org, admin: str) -> None:
    def refuse_spam(ctx: SaveContext) -> None:
        for rec in ctx.new:
            if rec.get("Subject") == "spam":
                raise Refused("no spam", fields=["Subject"])

    org.hooks.before_save("Case", refuse_spam)
    rows: list[dict[str, object]] = [{"Subject": f"ok {i}"} for i in range(10)]
    rows[7] = {"Subject": "spam"}
    with pytest.raises(Refused):
        org.store.insert("Case", rows, user_id=admin)
    assert org.store.count("Case") == 0

    [ok] = org.store.insert("Case", [{"Subject": "ok"}], user_id=admin)
    assert org.store.get("Case", ok)["CaseNumber"] == "00000001"  # no number was used up
    with pytest.raises(Refused):
        org.store.update("Case", [{"Id": ok, "Subject": "spam"}], user_id=admin)
    assert org.store.get("Case", ok)["Subject"] == "ok"


def test_after_save_writes_land_in_the_same_transaction(org: Org, admin: str) -> None:
    visible_inside: list[int] = []
    changed: list[frozenset[str]] = []

    def add_contact(ctx: SaveContext) -> None:
        if ctx.operation is Operation.UPDATE:
            changed.extend(ctx.changed)
            return
        # the records just written are visible to the hook's reads
        visible_inside.append(len(ctx.store.get_many("Account", [str(r["Id"]) for r in ctx.new])))
        ctx.store.insert(
            "Contact",
            [{"LastName": f"Contact of {r['Name']}", "AccountId": r["Id"]} for r in ctx.new],
            user_id=ctx.user_id,
        )

    org.hooks.after_save("Account", add_contact)
    ids = org.store.insert("Account", [{"Name": "Acme"}, {"Name": "Globex"}], user_id=admin)
    assert visible_inside == [2]
    contacts = SoqlEngine(org.store).records(
        "SELECT LastName, Account.Name FROM Contact ORDER BY LastName"
    )
    assert [(c["LastName"], c["Account"]["Name"]) for c in contacts] == [
        ("Contact of Acme", "Acme"),
        ("Contact of Globex", "Globex"),
    ]
    org.store.update("Account", [{"Id": ids[0], "Industry": "Energy"}], user_id=admin)
    assert len(changed) == 1
    assert "Industry" in changed[0]
    assert "Name" not in changed[0]


def test_after_save_that_raises_rolls_everything_back(org: Org, admin: str) -> None:
    def add_contact(ctx: SaveContext) -> None:
        ctx.store.insert(
            "Contact",
            [{"LastName": str(r["Name"]), "AccountId": r["Id"]} for r in ctx.new],
            user_id=ctx.user_id,
        )

    def refuse_contact(ctx: SaveContext) -> None:
        if any(r["LastName"] == "Doomed" for r in ctx.new):
            raise Refused("contacts named Doomed are refused")

    org.hooks.after_save("Account", add_contact)
    org.hooks.after_save("Contact", refuse_contact)

    [first] = org.store.insert("Account", [{"Name": "First"}], user_id=admin)
    assert org.store.count("Contact") == 1
    with pytest.raises(Refused):
        org.store.insert("Account", [{"Name": "Fine"}, {"Name": "Doomed"}], user_id=admin)
    # neither the accounts (written before the hook ran) nor any contact remains
    assert [r["Id"] for r in org.store.find("Account")] == [first]
    assert [r["LastName"] for r in org.store.find("Contact")] == ["First"]

    # an after-update hook that raises undoes the update
    def refuse_rename(ctx: SaveContext) -> None:
        if ctx.operation is Operation.UPDATE:
            raise Refused("no renames")

    org.hooks.after_save("Account", refuse_rename)
    with pytest.raises(Refused):
        org.store.update("Account", [{"Id": first, "Name": "Renamed"}], user_id=admin)
    assert org.store.get("Account", first)["Name"] == "First"


def test_delete_hooks_can_refuse(org: Org, admin: str) -> None:
    ops: list[tuple[Operation, bool]] = []

    def guard(ctx: SaveContext) -> None:
        ops.append((ctx.operation, bool(ctx.new[0]["IsDeleted"])))
        if ctx.operation is Operation.DELETE and ctx.new[0]["Name"] == "Protected":
            raise Refused("protected")

    org.hooks.after_save("Account", guard)
    plain, protected = org.store.insert(
        "Account", [{"Name": "Plain"}, {"Name": "Protected"}], user_id=admin
    )
    with pytest.raises(Refused):
        org.store.delete("Account", [protected], user_id=admin)
    assert org.store.get("Account", protected)["IsDeleted"] is False
    org.store.delete("Account", [plain], user_id=admin)
    org.store.undelete("Account", [plain], user_id=admin)
    assert org.store.get("Account", plain)["IsDeleted"] is False
    assert ops == [
        (Operation.INSERT, False),
        (Operation.DELETE, True),
        (Operation.DELETE, True),
        (Operation.UNDELETE, False),
    ]


def test_nested_saves_report_their_depth(org: Org, admin: str) -> None:
    depths: list[int] = []

    def cascade(ctx: SaveContext) -> None:
        depths.append(ctx.depth)
        if ctx.depth < 3:
            ctx.store.insert("Account", [{"Name": f"level {ctx.depth + 1}"}], user_id=ctx.user_id)

    org.hooks.after_save("Account", cascade)
    org.store.insert("Account", [{"Name": "level 0"}], user_id=admin)
    assert depths == [0, 1, 2, 3]
    assert sorted(str(r["Name"]) for r in org.store.find("Account")) == [
        "level 0",
        "level 1",
        "level 2",
        "level 3",
    ]


def test_runaway_recursion_is_stopped_and_rolled_back(org: Org, admin: str) -> None:
    depths: list[int] = []

    def forever(ctx: SaveContext) -> None:
        depths.append(ctx.depth)
        ctx.store.insert("Account", [{"Name": f"level {ctx.depth + 1}"}], user_id=ctx.user_id)

    org.hooks.after_save("Account", forever)
    with pytest.raises(RecursionError):
        org.store.insert("Account", [{"Name": "level 0"}], user_id=admin)
    assert depths == list(range(MAX_HOOK_DEPTH))
    assert org.store.count("Account") == 0
    # the store is usable afterwards: the depth counter was unwound
    org.hooks._after.clear()
    org.store.insert("Account", [{"Name": "calm"}], user_id=admin)
    seen: list[int] = []
    org.hooks.before_save("Account", lambda ctx: seen.append(ctx.depth))
    org.store.insert("Account", [{"Name": "calm again"}], user_id=admin)
    assert seen == [0]


def test_a_caught_nested_failure_undoes_only_the_nested_save(org: Org, admin: str) -> None:
    """As an Apex DML statement: the failed statement leaves nothing; its caller goes on."""
    outcomes: list[str] = []

    def try_case(ctx: SaveContext) -> None:
        try:
            ctx.store.insert(
                "Case",
                [{"Subject": f"for {r['Name']}", "AccountId": r["Id"]} for r in ctx.new],
                user_id=ctx.user_id,
            )
            outcomes.append("case saved")
        except FieldValidationError as exc:
            outcomes.append(f"case refused: {exc.message}")

    def refuse_after_write(ctx: SaveContext) -> None:
        if any(r["Subject"] == "for Doomed" for r in ctx.new):
            raise FieldValidationError("cases for Doomed are refused")

    org.hooks.after_save("Account", try_case)
    org.hooks.after_save("Case", refuse_after_write)

    [doomed] = org.store.insert("Account", [{"Name": "Doomed"}], user_id=admin)
    assert outcomes == ["case refused: cases for Doomed are refused"]
    assert org.store.get("Account", doomed)["Name"] == "Doomed"
    assert org.store.count("Case") == 0
    assert SoqlEngine(org.store).records("SELECT Id FROM Case") == []

    [fine] = org.store.insert("Account", [{"Name": "Fine"}], user_id=admin)
    [case] = org.store.find("Case")
    assert case["AccountId"] == fine
    assert case["CaseNumber"] == "00000001"  # the refused case gave its number back
