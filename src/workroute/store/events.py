"""The domain event log: what happened, in commit order, for whoever listens.

An event is a row written in the transaction of the change it reports, so a
rolled-back change publishes nothing and a crash loses nothing. The row id is the
replay position a listener resumes from (the streaming transports read this log).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from workroute.store.sql.database import Database

_COLUMNS = ("topic", "user_id", "payload", "created_at")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    topic: str
    payload: dict[str, Any]
    user_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedEvent:
    id: int
    topic: str
    user_id: str | None
    payload: dict[str, Any]
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "replayId": self.id,
            "topic": self.topic,
            "userId": self.user_id,
            "payload": self.payload,
            "createdDate": self.created_at.isoformat(),
        }


class EventLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.table = db.system["event"]

    def publish(self, conn: Connection, events: Sequence[Event], now: datetime) -> None:
        if events:
            rows = [
                {
                    "topic": e.topic,
                    "user_id": e.user_id,
                    "payload": json.dumps(e.payload, sort_keys=True, default=str),
                    "created_at": now,
                }
                for e in events
            ]
            self.db.insert_rows(
                conn, self.table, rows, ("topic", "user_id", "payload", "created_at")
            )

    def read(
        self,
        *,
        after: int = 0,
        topic_prefix: str | None = None,
        user_id: str | None = None,
        limit: int = 1000,
    ) -> list[LoggedEvent]:
        t = self.table
        stmt = select(t).where(t.c.id > after).order_by(t.c.id).limit(limit)
        if topic_prefix:
            stmt = stmt.where(t.c.topic.startswith(topic_prefix, autoescape=True))
        if user_id:
            stmt = stmt.where(t.c.user_id == user_id)
        with self.db.read() as conn:
            return [
                LoggedEvent(
                    id=int(r.id),
                    topic=str(r.topic),
                    user_id=r.user_id,
                    payload=json.loads(r.payload),
                    created_at=r.created_at,
                )
                for r in conn.execute(stmt)
            ]
