"""PushTopics: their queries checked on save, and record changes matched into events.

A PushTopic record is the definition; :func:`compile_topic` (``streaming/topic.py``)
checks it as Salesforce does (Streaming API Developer Guide, "PushTopic Queries" and
"Unsupported PushTopic Queries") and compiles it to a frozen :class:`Topic`. The
active topics are kept per object; they are recompiled when a PushTopic is saved,
swapped in on commit (so a rolled-back save changes nothing), and at start.

Matching follows "Event Notification Rules": an after-save hook on every object (it
returns at once when the object has no active topic) notes each saved record, and just
before commit each record's *net* change over the transaction is matched once, so a
workflow field update that saves a record again still gives one event, with the
record's final values:

- created: NotifyForOperationCreate and the record matches the WHERE clause;
- updated: NotifyForOperationUpdate, a field of the NotifyForFields set changed (All:
  any update; Referenced: SELECT or WHERE fields; Select; Where) and the record as it
  is now matches the WHERE clause;
- deleted: NotifyForOperationDelete and the record as it was matches; the event holds
  only its Id;
- undeleted: NotifyForOperationUndelete and the restored record matches.

A record created and deleted in one transaction gives nothing; created and then
updated gives one created event. The event's payload is the Bayeux ``data`` object
(``event`` and ``sobject``; the replay id is the event row's id, added on delivery).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from workroute.kernel.errors import (
    DuplicateValueError,
    WorkrouteError,
)
from workroute.schema.model import ObjectDef
from workroute.store.events import Event, EventLog
from workroute.store.hooks import Hooks, Operation, Record, SaveContext
from workroute.store.soql import SoqlEngine
from workroute.store.store import Store
from workroute.store.values import to_json
from workroute.streaming.topic import (
    PUSH_TOPIC,
    ChangeType,
    NotifyForFields,
    RecordChange,
    Topic,
    compile_topic,
)

_FETCH_CHUNK = 200  # record ids per query of formula values
_Saved = tuple[ObjectDef, Operation, Record | None, Record]

__all__ = [
    "ChangeType",
    "NotifyForFields",
    "PushTopics",
    "RecordChange",
    "Topic",
    "compile_topic",
]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    """The records saved in one transaction with an active topic on their object."""

    txn: object
    conn: Connection
    saves: list[_Saved] = field(default_factory=list)

    def undo(self, mark: int) -> None:
        del self.saves[mark:]


@dataclass(slots=True)
class _Track:
    obj: ObjectDef
    start: str  # "absent", "live" or "bin" (deleted) before the transaction
    before: Record | None
    end: str = "live"
    last: Record = field(default_factory=dict)
    last_live: Record = field(default_factory=dict)


_STARTS = {
    Operation.INSERT: "absent",
    Operation.UPDATE: "live",
    Operation.DELETE: "live",
    Operation.UNDELETE: "bin",
}


def _net_changes(saves: Iterable[_Saved]) -> list[RecordChange]:
    """Each record's change from before the transaction to its end, in order of its
    first save (a record created and deleted, or restored and deleted, gives none)."""
    tracks: dict[tuple[str, str], _Track] = {}
    for obj, op, old, new in saves:
        key = (obj.key, str(new["Id"]))
        track = tracks.get(key)
        if track is None:
            track = tracks[key] = _Track(obj=obj, start=_STARTS[op], before=old)
        track.end = "bin" if op is Operation.DELETE else "live"
        track.last = new
        track.last_live = old if op is Operation.DELETE and old is not None else new
    out: list[RecordChange] = []
    for t in tracks.values():
        kind = {
            ("absent", "live"): ChangeType.CREATED,
            ("live", "live"): ChangeType.UPDATED,
            ("live", "bin"): ChangeType.DELETED,
            ("bin", "live"): ChangeType.UNDELETED,
        }.get((t.start, t.end))
        if kind is None:
            continue
        record = t.last_live if kind is ChangeType.DELETED else t.last
        out.append(RecordChange(obj=t.obj, type=kind, record=record, before=t.before))
    return out


def _created_date(now: datetime) -> str:
    """The event's createdDate: ISO 8601 UTC with milliseconds and Z (API 37.0+)."""
    at = now.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


# -- the service -------------------------------------------------------------------


class PushTopics:
    """The org's active PushTopics, and the hooks that check and match them."""

    def __init__(self, store: Store, events: EventLog) -> None:
        self.store = store
        self.events = events
        self._by_object: dict[str, tuple[Topic, ...]] = {}
        self._local = threading.local()

    def install(self, hooks: Hooks) -> None:
        hooks.before_save(PUSH_TOPIC, self._check)
        hooks.after_save(PUSH_TOPIC, self._changed)
        hooks.after_save(None, self._collect, wants=lambda obj: obj.key in self._by_object)

    def topics_for(self, object_name: str) -> tuple[Topic, ...]:
        """The active topics on an object, by name."""
        return self._by_object.get(object_name.lower(), ())

    def load(self) -> list[str]:
        """Compile every active PushTopic; returns problems (logged, not fatal: a topic
        whose query no longer compiles against the schema stays out)."""
        by: dict[str, list[Topic]] = defaultdict(list)
        problems: list[str] = []
        for row in self.store.find(PUSH_TOPIC):
            if row.get("IsActive") is False:
                continue
            try:
                topic = compile_topic(self.store, row)
            except WorkrouteError as exc:
                problem = f"PushTopic {row.get('Name')} ({row.get('Id')}): {exc.message}"
                log.warning("PushTopic not loaded: %s", problem)
                problems.append(problem)
                continue
            by[topic.obj.key].append(topic)
        self._by_object = {k: tuple(sorted(v, key=lambda t: t.name)) for k, v in by.items()}
        return problems

    # -- PushTopic saves -------------------------------------------------------------

    def _check(self, ctx: SaveContext) -> None:
        if ctx.operation in (Operation.INSERT, Operation.UPDATE):
            for rec in ctx.new:
                compile_topic(ctx.store, rec)
        if ctx.operation is not Operation.DELETE:
            _check_unique_names(ctx)

    def _changed(self, ctx: SaveContext) -> None:
        self.store.db.on_commit(self._reload, once=True)

    def _reload(self) -> None:
        self.load()

    # -- matching ----------------------------------------------------------------------

    def _collect(self, ctx: SaveContext) -> None:
        if ctx.obj.key not in self._by_object:
            return
        txn = ctx.conn.get_transaction()
        pending: _Pending | None = getattr(self._local, "pending", None)
        if pending is None or pending.txn is not txn:
            # A transaction that rolled back left its pending changes behind unflushed.
            pending = self._local.pending = _Pending(txn=txn, conn=ctx.conn)
            self.store.db.before_commit(lambda: self._flush(pending))
        mark = len(pending.saves)
        pending.saves.extend(
            (ctx.obj, ctx.operation, None if old is None else dict(old), dict(new))
            for new, old in zip(ctx.new, ctx.old, strict=True)
        )
        # A savepoint that rolls back takes its saves with it.
        self.store.db.on_rollback(lambda: pending.undo(mark))

    def _flush(self, pending: _Pending) -> None:
        if getattr(self._local, "pending", None) is pending:
            self._local.pending = None
        now = self.store.clock.now()
        matched = [
            (topic, change)
            for change in _net_changes(pending.saves)
            for topic in self._by_object.get(change.obj.key, ())
            if topic.notifies(change, now)
        ]
        if not matched:
            return
        computed = self._formula_values(matched)
        events = [
            Event(
                topic=topic.channel,
                payload={
                    "event": {"createdDate": _created_date(now), "type": change.type.value},
                    "sobject": _sobject(topic, change, computed.get((topic.name, _id(change)))),
                },
                owner_id=_owner(change),
            )
            for topic, change in matched
        ]
        self.events.publish(pending.conn, events, now)

    def _formula_values(
        self, matched: list[tuple[Topic, RecordChange]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Selected formula fields (not stored, so not in the saved records), computed
        by a query of the records' final state inside the transaction."""
        wanted: dict[str, tuple[Topic, list[str]]] = {}
        for topic, change in matched:
            if change.type is not ChangeType.DELETED and any(f.calculated for f in topic.selected):
                wanted.setdefault(topic.name, (topic, []))[1].append(_id(change))
        out: dict[tuple[str, str], dict[str, Any]] = {}
        engine = SoqlEngine(self.store)
        for topic, ids in wanted.values():
            names = ", ".join(f.name for f in topic.selected if f.calculated)
            for start in range(0, len(ids), _FETCH_CHUNK):
                chunk = ids[start : start + _FETCH_CHUNK]
                quoted = ", ".join(f"'{rid}'" for rid in chunk)
                q = engine.compile(f"SELECT {names} FROM {topic.obj.name} WHERE Id IN ({quoted})")
                for row in engine.fetch(q, offset=0, limit=len(chunk), base=""):
                    out[(topic.name, str(row["Id"]))] = row
        return out


def _check_unique_names(ctx: SaveContext) -> None:
    """PushTopic names are unique, ignoring case (the name is the channel)."""
    saving = {str(rec["Id"]) for rec in ctx.new}
    taken: dict[str, str] = {
        str(t["Name"]).lower(): str(t["Id"])
        for t in ctx.store.find(PUSH_TOPIC)
        if str(t["Id"]) not in saving and t.get("Name")
    }
    for rec in ctx.new:
        key = str(rec.get("Name") or "").lower()
        other = taken.get(key)
        if other is not None:
            raise DuplicateValueError(
                f"duplicate value found: Name duplicates value on record with id: {other}",
                fields=["Name"],
            )
        taken[key] = str(rec["Id"])


def _id(change: RecordChange) -> str:
    return str(change.record["Id"])


def _owner(change: RecordChange) -> str | None:
    if change.obj.field("OwnerId") is None:
        return None
    owner = change.record.get("OwnerId")
    return str(owner) if owner else None


def _sobject(topic: Topic, change: RecordChange, computed: dict[str, Any] | None) -> dict[str, Any]:
    """The selected fields in the REST API's JSON form (a deleted record: its Id)."""
    if change.type is ChangeType.DELETED:
        return {"Id": _id(change)}
    out: dict[str, Any] = {}
    for f in topic.selected:
        if f.calculated:
            out[f.name] = (computed or {}).get(f.name)
        else:
            out[f.name] = to_json(change.record.get(f.name))
    return out
