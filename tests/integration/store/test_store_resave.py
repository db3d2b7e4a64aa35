"""Store.resave: an after-save hook saves records of its own save once more (workflow
field updates), as a full update whose stored versions are the rows just written.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from workroute.kernel.errors import StringTooLongError
from workroute.org import Org
from workroute.store.hooks import Operation, Record, SaveContext


def _resaving(
    org: Org,
    seen: list[tuple[Operation, list[Record | None], list[Record]]],
    stored: list[Record] | None = None,
) -> None:
    """On a Case save, save Description once more (and note what each save saw, and
    the rows as stored when the resave began)."""

    def before(ctx: SaveContext) -> None:
        seen.append((ctx.operation, [o and dict(o) for o in ctx.old], [dict(r) for r in ctx.new]))

    def after(ctx: SaveContext) -> None:
        if ctx.depth == 0:
            if stored is not None:
                ids = [str(r["Id"]) for r in ctx.new]
                stored.extend(ctx.store.db.rows_by_id(ctx.conn, ctx.store.table(ctx.obj), ids))
            ctx.store.resave(ctx, [{"Id": r["Id"], "Description": "again"} for r in ctx.new])

    org.hooks.before_save("Case", before)
    org.hooks.after_save("Case", after)


@pytest.mark.parametrize("operation", [Operation.INSERT, Operation.UPDATE])
def test_the_stored_versions_are_the_rows_the_save_wrote(
    org: Org, admin: str, operation: Operation
) -> None:
    [rid] = org.store.insert("Case", [{"Subject": "s", "Priority": "Low"}], user_id=admin)
    seen: list[tuple[Operation, list[Record | None], list[Record]]] = []
    stored: list[Record] = []
    _resaving(org, seen, stored)
    if operation is Operation.INSERT:
        [rid] = org.store.insert("Case", [{"Subject": "s", "Priority": "Low"}], user_id=admin)
    else:
        org.store.update("Case", [{"Id": rid, "Subject": "t"}], user_id=admin)
    (first, _, _), (again, olds, news) = seen
    assert (first, again) == (operation, Operation.UPDATE)
    # key for key and type for type what an update would have read
    assert olds == stored
    assert [{k: type(v) for k, v in o.items()} for o in olds if o] == [
        {k: type(v) for k, v in o.items()} for o in stored
    ]
    assert news[0]["Description"] == "again"
    assert org.store.get("Case", rid)["Description"] == "again"


def test_a_write_in_between_is_read_again(org: Org, admin: str) -> None:
    """An earlier after-save hook changed the record: the resave sees its change."""
    seen: list[tuple[Operation, list[Record | None], list[Record]]] = []

    def meddle(ctx: SaveContext) -> None:
        if ctx.depth == 0:
            ctx.store.update("Case", [{"Id": r["Id"], "Priority": "High"} for r in ctx.new],
                             user_id=ctx.user_id)  # fmt: skip

    org.hooks.after_save("Case", meddle)
    _resaving(org, seen)
    [rid] = org.store.insert("Case", [{"Subject": "s", "Priority": "Low"}], user_id=admin)
    again = [olds for op, olds, _ in seen if op is Operation.UPDATE]
    assert [o[0]["Priority"] for o in again if o[0] is not None] == ["Low", "High"]
    assert org.store.get("Case", rid)["Priority"] == "High"
    assert org.store.get("Case", rid)["Description"] == "again"


def test_values_are_checked_and_a_failure_fails_the_save(org: Org, admin: str) -> None:
    def after(ctx: SaveContext) -> None:
        ctx.store.resave(ctx, [{"Id": r["Id"], "Subject": "x" * 1000} for r in ctx.new])

    org.hooks.after_save("Case", after)
    with pytest.raises(StringTooLongError):
        org.store.insert("Case", [{"Subject": "s"}], user_id=admin)
    assert org.store.count("Case") == 0


def test_only_records_of_the_save(org: Org, admin: str) -> None:
    [other] = org.store.insert("Case", [{"Subject": "other"}], user_id=admin)

    def after(ctx: SaveContext) -> None:
        ctx.store.resave(ctx, [{"Id": other, "Subject": "no"}])

    org.hooks.after_save("Case", after)
    with pytest.raises(ValueError, match="not a record of this save"):
        org.store.insert("Case", [{"Subject": "s"}], user_id=admin)
