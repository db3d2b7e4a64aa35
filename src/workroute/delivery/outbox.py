"""The transactional outbox.

An email or outbound message is a row written in the same transaction as the save that
caused it, and delivered after commit by :meth:`Outbox.deliver_due`. A crash between
commit and delivery loses nothing (the row is still pending when the server restarts);
a rolled-back save sends nothing (its rows were never committed).

Delivery is at least once: a crash after sending but before the row is marked
delivered sends again, with the same Message-ID or notification Id, so receivers can
drop the duplicate.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Update, bindparam, delete, insert, select, update

from workroute.kernel.errors import InvalidFieldError, NotFoundError
from workroute.store.sql.database import Database

log = logging.getLogger(__name__)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    #: Gave up and kept for a person to look at (outbound messages' dead-letter queue).
    DEAD = "dead"
    #: Gave up, or failed for good (a permanent SMTP refusal).
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxItem:
    id: int
    kind: str
    status: OutboxStatus
    group_key: str
    record_id: str | None
    payload: dict[str, Any]
    created_at: datetime
    due_at: datetime
    attempts: int
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    delivered_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        def iso(d: datetime | None) -> str | None:
            return None if d is None else d.isoformat()

        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status.value,
            "groupKey": self.group_key,
            "recordId": self.record_id,
            "payload": self.payload,
            "createdAt": iso(self.created_at),
            "nextAttemptAt": iso(self.due_at) if self.status is OutboxStatus.PENDING else None,
            "attempts": self.attempts,
            "firstAttemptAt": iso(self.first_attempt_at),
            "lastAttemptAt": iso(self.last_attempt_at),
            "lastError": self.last_error,
            "deliveredAt": iso(self.delivered_at),
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one delivery attempt of a batch came to."""

    delivered: bool
    error: str | None = None
    #: Retrying cannot help (e.g. the SMTP server refused the recipient for good).
    permanent: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """How one kind of item leaves: ``send`` a batch (items of one ``group_key``, at
    most ``batch_size``), ``next_attempt`` after a failure (None = give up), and
    ``dead_letter(item)`` whether a given-up item is kept as DEAD or FAILED."""

    send: Callable[[Sequence[OutboxItem], datetime], Outcome]
    next_attempt: Callable[[datetime, int, datetime], datetime | None]
    batch_size: int = 1
    dead_letter: Callable[[OutboxItem], bool] = lambda _item: False


#: The columns :meth:`Outbox.add` writes.
_ADDED = (
    "kind",
    "status",
    "group_key",
    "record_id",
    "payload",
    "created_at",
    "due_at",
    "attempts",
)


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.system["outbox"]
        self.channels: dict[str, Channel] = {}
        self._deliver_lock = threading.Lock()

    def add(
        self,
        conn: Connection,
        *,
        kind: str,
        group_key: str,
        payload: dict[str, Any],
        now: datetime,
        record_id: str | None = None,
    ) -> int:
        """Record an item in the caller's transaction; returns its id. On the driver:
        an assignment or an email action adds one per save."""
        t = self.table
        stmt = self.db.statement(
            "outbox_add",
            t,
            lambda: insert(t).values({c: bindparam(c) for c in _ADDED}).returning(t.c.id),
            {c: c for c in _ADDED},
        )
        row = {
            "kind": kind,
            "status": OutboxStatus.PENDING.value,
            "group_key": group_key,
            "record_id": record_id,
            "payload": json.dumps(payload, sort_keys=True, default=str),
            "created_at": now,
            "due_at": now,
            "attempts": 0,
        }
        return int(stmt.fetch(conn, row)[0][0])

    # -- the queue as people see it ---------------------------------------------------

    def list(
        self, *, kind: str | None = None, status: OutboxStatus | None = None, limit: int = 1000
    ) -> list[OutboxItem]:
        t = self.table
        stmt = select(t).order_by(t.c.id).limit(limit)
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        if status is not None:
            stmt = stmt.where(t.c.status == status.value)
        with self.db.read() as conn:
            return [_item(r._mapping) for r in conn.execute(stmt)]

    def get(self, item_id: int) -> OutboxItem:
        with self.db.read() as conn:
            row = conn.execute(select(self.table).where(self.table.c.id == item_id)).first()
        if row is None:
            raise NotFoundError(f"no outbox item with id {item_id}")
        return _item(row._mapping)

    def retry(self, item_id: int, now: datetime) -> OutboxItem:
        """Send a pending, dead or failed item again at the next delivery run."""
        item = self.get(item_id)
        if item.status is OutboxStatus.DELIVERED:
            raise InvalidFieldError(f"outbox item {item_id} was delivered; nothing to retry")
        with self.db.write() as conn:
            conn.execute(
                update(self.table)
                .where(self.table.c.id == item_id)
                .values(status=OutboxStatus.PENDING.value, due_at=now)
            )
        return self.get(item_id)

    def delete(self, item_id: int) -> None:
        with self.db.write() as conn:
            gone = conn.execute(delete(self.table).where(self.table.c.id == item_id)).rowcount
        if not gone:
            raise NotFoundError(f"no outbox item with id {item_id}")

    def next_due(self) -> datetime | None:
        t = self.table
        with self.db.read() as conn:
            row = conn.execute(
                select(t.c.due_at)
                .where(t.c.status == OutboxStatus.PENDING.value, t.c.kind.in_(list(self.channels)))
                .order_by(t.c.due_at)
                .limit(1)
            ).first()
        return None if row is None else row[0]

    # -- delivery ---------------------------------------------------------------------

    def deliver_due(self, now: datetime) -> int:
        """Attempt every pending item due by ``now`` (one attempt each); returns how
        many items were attempted. Network I/O happens outside any transaction."""
        with self._deliver_lock:
            attempted = 0
            for kind, channel in self.channels.items():
                attempted += self._deliver_kind(kind, channel, now)
            return attempted

    def _deliver_kind(self, kind: str, channel: Channel, now: datetime) -> int:
        t = self.table
        with self.db.read() as conn:
            due = [
                _item(r._mapping)
                for r in conn.execute(
                    select(t)
                    .where(
                        t.c.kind == kind,
                        t.c.status == OutboxStatus.PENDING.value,
                        t.c.due_at <= now,
                    )
                    .order_by(t.c.id)
                )
            ]
        groups: dict[str, list[OutboxItem]] = {}
        for item in due:
            groups.setdefault(item.group_key, []).append(item)
        for items in groups.values():
            for start in range(0, len(items), channel.batch_size):
                batch = items[start : start + channel.batch_size]
                try:
                    outcome = channel.send(batch, now)
                except Exception as exc:  # a bug in a channel must not stop the others
                    log.exception("delivering %s items failed", kind)
                    outcome = Outcome(False, f"{type(exc).__name__}: {exc}")
                self._record(channel, [(batch, outcome)], now)
        return len(due)

    def _record(
        self,
        channel: Channel,
        outcomes: Sequence[tuple[Sequence[OutboxItem], Outcome]],
        now: datetime,
    ) -> None:
        """Record the attempts of ``outcomes`` in one transaction."""
        if not outcomes:
            return
        with self.db.write() as conn:
            for item, outcome in ((i, o) for batch, o in outcomes for i in batch):
                first = item.first_attempt_at or now
                attempts = item.attempts + 1
                values: dict[str, Any] = {
                    "attempts": attempts,
                    "first_attempt_at": first,
                    "last_attempt_at": now,
                    "last_error": outcome.error,
                }
                if outcome.delivered:
                    values.update(status=OutboxStatus.DELIVERED.value, delivered_at=now)
                else:
                    nxt = None if outcome.permanent else channel.next_attempt(first, attempts, now)
                    if nxt is None:
                        dead = not outcome.permanent and channel.dead_letter(item)
                        values["status"] = (
                            OutboxStatus.DEAD if dead else OutboxStatus.FAILED
                        ).value
                    else:
                        values["due_at"] = max(nxt, now + timedelta(microseconds=1))
                self._update(conn, item.id, values)

    def _update(self, conn: Connection, item_id: int, values: dict[str, Any]) -> None:
        """Set ``values`` on one item, on the driver (one statement per set of columns)."""
        t = self.table
        cols = tuple(sorted(values))

        def build() -> Update:
            return (
                update(t)
                .where(t.c.id == bindparam("b_id"))
                .values({c: bindparam("b_" + c) for c in cols})
            )

        stmt = self.db.statement(
            "outbox_update:" + ",".join(cols),
            t,
            build,
            {"b_id": "id", **{"b_" + c: c for c in cols}},
        )
        stmt.run(conn, [{"b_id": item_id, **{"b_" + c: v for c, v in values.items()}}])


def _item(m: Any) -> OutboxItem:
    return OutboxItem(
        id=int(m["id"]),
        kind=str(m["kind"]),
        status=OutboxStatus(m["status"]),
        group_key=str(m["group_key"]),
        record_id=m["record_id"],
        payload=json.loads(m["payload"]),
        created_at=m["created_at"],
        due_at=m["due_at"],
        attempts=int(m["attempts"]),
        first_attempt_at=m["first_attempt_at"],
        last_attempt_at=m["last_attempt_at"],
        last_error=m["last_error"],
        delivered_at=m["delivered_at"],
    )
