"""``workroute outbox``: emails and outbound messages waiting, sent or dead-lettered.

Retry and delete are all or nothing: an unknown id, or a retry of a delivered item,
changes none of the items named. A running server picks a retried item up at its next
delivery run (within seconds on the system clock).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from workroute.cli.output import print_rows
from workroute.delivery.outbox import OutboxItem, OutboxStatus

outbox_app = typer.Typer(
    help="List, retry and delete workflow emails and outbound messages.", no_args_is_help=True
)

KINDS = ("email", "outbound")
DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite file of the org (WORKROUTE_DATABASE_URL replaces it)."),
]


@outbox_app.command("list")
def list_command(
    kind: Annotated[str | None, typer.Option(help="email or outbound.")] = None,
    status: Annotated[str | None, typer.Option(help="pending, delivered, dead or failed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: DbOpt = None,
) -> None:
    """List outbox items, oldest first."""
    from workroute.cli.main import fail, open_org, out

    if kind is not None and kind not in KINDS:
        fail(f"--kind must be one of {', '.join(KINDS)}")
    wanted = None
    if status is not None:
        try:
            wanted = OutboxStatus(status)
        except ValueError:
            fail(f"--status must be one of {', '.join(s.value for s in OutboxStatus)}")
    org = open_org(db)
    try:
        items = org.outbox.list(kind=kind, status=wanted)
    finally:
        org.close()
    if as_json:
        out.print_json(json.dumps([i.to_json() for i in items]))
        return
    if not items:
        out.print("The outbox is empty." if kind is None and wanted is None else "No items.")
        return
    print_rows(
        out,
        ("id", "kind", "status", "record", "what", "attempts", "next", "last error"),
        [
            (
                str(i.id),
                i.kind,
                i.status.value,
                i.record_id or "",
                _what(i),
                str(i.attempts),
                i.due_at.isoformat() if i.status is OutboxStatus.PENDING else "",
                (i.last_error or "")[:200],
            )
            for i in items
        ],
    )


def _what(item: OutboxItem) -> str:
    p = item.payload
    if item.kind == "email":
        return f"{p.get('subject', '')} -> {', '.join(p.get('to', []))}"
    return str(p.get("action", ""))


@outbox_app.command("retry")
def retry_command(
    ids: Annotated[list[int], typer.Argument(metavar="ID...", help="Outbox item ids.")],
    db: DbOpt = None,
) -> None:
    """Send pending, dead or failed items again at the next delivery run."""
    from workroute.cli.main import fail, open_org, out
    from workroute.kernel.errors import NotFoundError

    org = open_org(db)
    try:
        problems: list[str] = []
        for i in ids:
            try:
                if org.outbox.get(i).status is OutboxStatus.DELIVERED:
                    problems.append(f"item {i} was delivered")
            except NotFoundError:
                problems.append(f"no outbox item with id {i}")
        if problems:
            fail(f"{'; '.join(problems)}; none retried")
        now = org.clock.now()
        with org.db.write():
            for i in ids:
                org.outbox.retry(i, now)
    finally:
        org.close()
    out.print(f"{len(set(ids))} item(s) will be sent again at the next delivery run.")


@outbox_app.command("delete")
def delete_command(
    ids: Annotated[list[int], typer.Argument(metavar="ID...", help="Outbox item ids.")],
    db: DbOpt = None,
) -> None:
    """Delete items (they are never sent). All or nothing."""
    from workroute.cli.main import fail, open_org, out
    from workroute.kernel.errors import NotFoundError

    org = open_org(db)
    try:
        missing: list[str] = []
        for i in ids:
            try:
                org.outbox.get(i)
            except NotFoundError:
                missing.append(str(i))
        if missing:
            fail(f"no outbox item with id {', '.join(missing)}; none deleted")
        with org.db.write():
            for i in dict.fromkeys(ids):
                org.outbox.delete(i)
    finally:
        org.close()
    out.print(f"Deleted {len(set(ids))} outbox item(s).")
