"""The domain event log: what happened, in commit order, for whoever listens.

An event is a row written in the transaction of the change it reports, so a
rolled-back change publishes nothing and a crash loses nothing. The row id is the
replay position a listener resumes from (the streaming transports read this log): it
grows with every event of every channel, so within one channel it only grows too, with
gaps, as Salesforce's replay ids do.

Events are kept for a retention window (72 hours unless set). Pruning remembers the
highest id it removed, the *horizon*: a listener may resume from any position at or
after it and miss nothing; a position before it asks for events that are gone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from workroute.store.sql.database import Database

DEFAULT_RETENTION = timedelta(hours=72)
_HORIZON_KEY = "event_horizon"
_COLUMNS = ("topic", "user_id", "owner_id", "payload", "created_at")


#: Built once: ``json.dumps`` with options builds an encoder on every call.
_PAYLOAD = json.JSONEncoder(sort_keys=True, default=str)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """An event to publish. ``topic`` is its channel (``/topic/Name`` for PushTopic
    events, ``omni/...`` for console events); ``user_id`` the user it is for, when it
    is for one; ``owner_id`` the owner of the record it is about, so subscribers who
    may not see that record do not get it."""

    topic: str
    payload: dict[str, Any]
    user_id: str | None = None
    owner_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedEvent:
    id: int
    topic: str
    user_id: str | None
    payload: dict[str, Any]
    created_at: datetime
    owner_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "replayId": self.id,
            "topic": self.topic,
            "userId": self.user_id,
            "payload": self.payload,
            "createdDate": self.created_at.isoformat(),
        }


class EventLog:
    def __init__(self, db: Database, *, retention: timedelta = DEFAULT_RETENTION) -> None:
        self.db = db
        self.table = db.system["event"]
        self.retention = retention
        #: Called after every commit that published events (still under the write
        #: lock, so in commit order): the streaming hub reads the new rows.
        self.listeners: list[Callable[[], None]] = []

    def publish(self, conn: Connection, events: Sequence[Event], now: datetime) -> None:
        if not events:
            return
        rows = [
            {
                "topic": e.topic,
                "user_id": e.user_id,
                "owner_id": e.owner_id,
                "payload": _PAYLOAD.encode(e.payload),
                "created_at": now,
            }
            for e in events
        ]
        self.db.insert_rows(conn, self.table, rows, _COLUMNS)
        if self.listeners:
            self.db.on_commit(self._committed, once=True)

    def _committed(self) -> None:
        for listener in self.listeners:
            listener()

    # -- reading ----------------------------------------------------------------

    def read(
        self,
        *,
        after: int = 0,
        topic_prefix: str | None = None,
        topics: Collection[str] | None = None,
        user_id: str | None = None,
        user_ids: Collection[str] | None = None,
        limit: int = 1000,
        conn: Connection | None = None,
    ) -> list[LoggedEvent]:
        """Events after position ``after``, oldest first: of one channel prefix or a set
        of channels, for one user or a set of users, at most ``limit``."""
        t = self.table
        stmt = select(t).where(t.c.id > after).order_by(t.c.id).limit(limit)
        if topic_prefix:
            stmt = stmt.where(t.c.topic.startswith(topic_prefix, autoescape=True))
        if topics is not None:
            stmt = stmt.where(t.c.topic.in_(list(topics)))
        if user_id:
            stmt = stmt.where(t.c.user_id == user_id)
        if user_ids is not None:
            stmt = stmt.where(t.c.user_id.in_(list(user_ids)))
        if conn is not None:
            return [_logged(r) for r in conn.execute(stmt)]
        with self.db.read() as c:
            return [_logged(r) for r in c.execute(stmt)]

    def last_id(self, conn: Connection | None = None) -> int:
        """The newest position (0 when nothing was ever published)."""
        t = self.table
        if conn is not None:
            found = conn.execute(select(func.max(t.c.id))).scalar()
        else:
            with self.db.read() as c:
                found = c.execute(select(func.max(t.c.id))).scalar()
        return max(int(found or 0), self.horizon())

    def horizon(self) -> int:
        """The highest position pruning removed: resuming from before it loses events."""
        meta = self.db.system["meta"]
        with self.db.read() as conn:
            found = conn.execute(select(meta.c.value).where(meta.c.key == _HORIZON_KEY)).scalar()
        return int(found or 0)

    # -- retention --------------------------------------------------------------

    def prune(self, now: datetime) -> int:
        """Remove the events older than the retention window; returns how many."""
        t = self.table
        meta = self.db.system["meta"]
        cutoff = now - self.retention
        with self.db.write() as conn:
            newest_gone = conn.execute(
                select(func.max(t.c.id)).where(t.c.created_at < cutoff)
            ).scalar()
            if newest_gone is None:
                return 0
            removed = conn.execute(delete(t).where(t.c.id <= newest_gone)).rowcount or 0
            have = conn.execute(select(meta.c.value).where(meta.c.key == _HORIZON_KEY)).scalar()
            if have is None:
                conn.execute(insert(meta).values(key=_HORIZON_KEY, value=str(newest_gone)))
            elif int(have) < newest_gone:
                conn.execute(
                    update(meta).where(meta.c.key == _HORIZON_KEY).values(value=str(newest_gone))
                )
            return int(removed)


def _logged(r: Any) -> LoggedEvent:
    return LoggedEvent(
        id=int(r.id),
        topic=str(r.topic),
        user_id=r.user_id,
        owner_id=r.owner_id,
        payload=json.loads(r.payload),
        created_at=r.created_at,
    )
