"""Durable timers: rows with a due time, run by whoever owns their kind.

Time-based workflow actions (and later routing timeouts) are timers. Because a timer
is a row written in the transaction that set it, it survives a crash and a restart,
and a rolled-back save leaves none behind. Time is the org clock's: tests and
``serve --clock manual`` move it instead of sleeping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from workroute.store.sql.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Timer:
    id: int
    kind: str
    key: str
    due_at: datetime
    object_name: str | None
    record_id: str | None
    payload: dict[str, Any]
    created_at: datetime
    created_by_id: str | None
    failed: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "key": self.key,
            "dueAt": self.due_at.isoformat(),
            "objectName": self.object_name,
            "recordId": self.record_id,
            "payload": self.payload,
            "createdAt": self.created_at.isoformat(),
            "createdById": self.created_by_id,
            "failed": self.failed,
        }


TimerHandler = Callable[[Timer], None]

#: Timers run in one transaction (each in its own savepoint); see ``run_due``.
BATCH = 50

_TIMER_COLUMNS = (
    "kind",
    "key",
    "due_at",
    "object_name",
    "record_id",
    "payload",
    "created_at",
    "created_by_id",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerSpec:
    """A timer to set (see :meth:`Timers.schedule_many`)."""

    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    object_name: str | None = None
    record_id: str | None = None
    created_by_id: str | None = None


class Timers:
    """Schedule, cancel, list and run durable timers."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.system["timer"]
        self._handlers: dict[str, TimerHandler] = {}

    def handle(self, kind: str, handler: TimerHandler) -> None:
        self._handlers[kind] = handler

    def schedule(
        self,
        conn: Connection,
        *,
        kind: str,
        key: str,
        due_at: datetime,
        payload: dict[str, Any],
        now: datetime,
        object_name: str | None = None,
        record_id: str | None = None,
        created_by_id: str | None = None,
    ) -> None:
        """Set a timer; a timer with the same ``key`` is replaced (new due time)."""
        self.schedule_many(
            conn,
            [
                TimerSpec(
                    kind=kind,
                    key=key,
                    due_at=due_at,
                    payload=payload,
                    object_name=object_name,
                    record_id=record_id,
                    created_by_id=created_by_id,
                )
            ],
            now=now,
        )

    def schedule_many(
        self,
        conn: Connection,
        specs: Sequence[TimerSpec],
        *,
        now: datetime,
        replace: bool = True,
    ) -> None:
        """Set several timers in two statements (a routing pass sets hundreds).
        ``replace`` False: the caller knows no timer has these keys yet (they name a
        record made in this transaction), so none is looked for."""
        if not specs:
            return
        if replace:
            self.cancel_keys(conn, [s.key for s in specs])
        rows = [
            {
                "kind": s.kind,
                "key": s.key,
                "due_at": s.due_at,
                "object_name": s.object_name,
                "record_id": s.record_id,
                "payload": json.dumps(s.payload, sort_keys=True),
                "created_at": now,
                "created_by_id": s.created_by_id,
            }
            for s in specs
        ]
        self.db.insert_rows(conn, self.table, rows, _TIMER_COLUMNS)

    def cancel_keys(self, conn: Connection, keys: Iterable[str]) -> int:
        """Delete the timers of ``keys``: one driver-level statement per key, run as one
        executemany (SQLAlchemy's own execution costs several times the statement)."""
        t = self.table
        stmt = self.db.statement(
            "timer_cancel_key",
            t,
            lambda: delete(t).where(t.c.key == bindparam("key")),
            {"key": "key"},
        )
        return stmt.run(conn, [{"key": k} for k in dict.fromkeys(keys)])

    def cancel_for_records(self, conn: Connection, kind: str, record_ids: Sequence[str]) -> int:
        t = self.table
        done = 0
        for start in range(0, len(record_ids), 500):
            chunk = list(record_ids[start : start + 500])
            done += conn.execute(
                delete(t).where(t.c.kind == kind, t.c.record_id.in_(chunk))
            ).rowcount
        return done

    def for_records(self, conn: Connection, kind: str, record_ids: Sequence[str]) -> list[Timer]:
        t = self.table
        out: list[Timer] = []
        for start in range(0, len(record_ids), 500):
            chunk = list(record_ids[start : start + 500])
            rows = conn.execute(select(t).where(t.c.kind == kind, t.c.record_id.in_(chunk)))
            out.extend(_timer(r._mapping) for r in rows)
        return out

    def list(self, *, kind: str | None = None, record_id: str | None = None) -> list[Timer]:
        t = self.table
        stmt = select(t).order_by(t.c.due_at, t.c.id)
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        if record_id is not None:
            stmt = stmt.where(t.c.record_id == record_id)
        with self.db.read() as conn:
            return [_timer(r._mapping) for r in conn.execute(stmt)]

    def get(self, timer_id: int) -> Timer | None:
        with self.db.read() as conn:
            row = conn.execute(select(self.table).where(self.table.c.id == timer_id)).first()
        return None if row is None else _timer(row._mapping)

    def delete(self, timer_id: int) -> bool:
        with self.db.write() as conn:
            return bool(
                conn.execute(delete(self.table).where(self.table.c.id == timer_id)).rowcount
            )

    def next_due(self) -> datetime | None:
        t = self.table
        with self.db.read() as conn:
            row = conn.execute(
                select(t.c.due_at).where(t.c.failed.is_(None)).order_by(t.c.due_at).limit(1)
            ).first()
        return None if row is None else row[0]

    def run_due(self, now: datetime, *, limit: int = 10_000) -> int:
        """Run every timer due by ``now``, oldest first; returns how many ran.

        Timers run in batches of up to :data:`BATCH`, one transaction a batch, each
        timer in its own savepoint with its row deleted: when a handler fails, its
        savepoint rolls back and the timer is kept, marked failed with the reason
        (so one bad timer neither blocks the others nor loops), and the others of
        the batch commit. One commit per batch instead of per timer is what lets a
        burst of due work (ten thousand orchestration runs moving on) go at the
        speed of its statements; a batch is small enough to keep the writer lock
        for a fraction of a second. A batch whose commit fails is run again one
        timer per transaction, so nothing in it is lost or blamed on the others.
        """
        t = self.table
        ran = 0
        while ran < limit:
            with self.db.read() as conn:
                rows = [
                    _timer(r._mapping)
                    for r in conn.execute(
                        select(t)
                        .where(t.c.due_at <= now, t.c.failed.is_(None))
                        .order_by(t.c.due_at, t.c.id)
                        .limit(min(BATCH, limit - ran))
                    )
                ]
            if not rows:
                break
            try:
                self._run_batch(rows)
            except Exception as exc:
                log.warning(
                    "a batch of %d timers failed to commit (%s); one by one", len(rows), exc
                )
                for timer in rows:
                    self._run_one(timer)
            ran += len(rows)
        return ran

    def _run_batch(self, timers: Sequence[Timer]) -> None:
        t = self.table
        failures: list[tuple[Timer, Exception]] = []
        with self.db.write() as conn:
            for timer in timers:
                try:
                    with self.db.write() as nested:  # a savepoint
                        self._run_in(nested, timer)
                except Exception as exc:
                    failures.append((timer, exc))
            for timer, error in failures:
                log.warning("timer %s (%s) failed: %s", timer.id, timer.kind, error)
                conn.execute(
                    update(t).where(t.c.id == timer.id).values(failed=str(error) or repr(error))
                )

    def _run_one(self, timer: Timer) -> None:
        t = self.table
        try:
            with self.db.write() as conn:
                self._run_in(conn, timer)
        except Exception as exc:
            log.warning("timer %s (%s) failed: %s", timer.id, timer.kind, exc)
            with self.db.write() as conn:
                conn.execute(
                    update(t).where(t.c.id == timer.id).values(failed=str(exc) or repr(exc))
                )

    def _run_in(self, conn: Connection, timer: Timer) -> None:
        """Delete ``timer``'s row and run its handler, in ``conn``'s transaction."""
        t = self.table
        stmt = self.db.statement(
            "timer_delete", t, lambda: delete(t).where(t.c.id == bindparam("id")), {"id": "id"}
        )
        gone = stmt.run(conn, [{"id": timer.id}])
        if not gone:
            return  # deleted meanwhile (record edited, or by a user)
        handler = self._handlers.get(timer.kind)
        if handler is None:
            raise LookupError(f"no handler for timers of kind {timer.kind!r}")
        handler(timer)


def _timer(m: Any) -> Timer:
    return Timer(
        id=int(m["id"]),
        kind=str(m["kind"]),
        key=str(m["key"]),
        due_at=m["due_at"],
        object_name=m["object_name"],
        record_id=m["record_id"],
        payload=json.loads(m["payload"]),
        created_at=m["created_at"],
        created_by_id=m["created_by_id"],
        failed=m["failed"],
    )
