"""PushTopics: their queries checked on save, and record changes matched into events.

A PushTopic record is the definition; :func:`compile_topic` checks it as Salesforce
does (Streaming API Developer Guide, "PushTopic Queries" and "Unsupported PushTopic
Queries") and compiles it to a frozen :class:`Topic`. The active topics are kept per
object; they are recompiled when a PushTopic is saved, swapped in on commit (so a
rolled-back save changes nothing), and at start.

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
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from workroute.kernel.errors import (
    DuplicateValueError,
    FieldIntegrityError,
    InvalidFieldError,
    MalformedQueryError,
    RequiredFieldMissingError,
    RestrictedPicklistError,
    StringTooLongError,
    WorkrouteError,
)
from workroute.lang.soql import parse_soql
from workroute.lang.soql.ast import (
    Aggregate,
    And,
    Condition,
    FieldPath,
    FieldsFunction,
    Not,
    Or,
    Query,
)
from workroute.schema.model import FieldDef, FieldType, ObjectDef
from workroute.store.events import Event, EventLog
from workroute.store.hooks import Hooks, Operation, Record, SaveContext
from workroute.store.soql import SoqlEngine
from workroute.store.store import Store
from workroute.store.values import to_json
from workroute.streaming.predicate import Predicate, compile_where, where_fields

__all__ = [
    "ChangeType",
    "NotifyForFields",
    "PushTopics",
    "RecordChange",
    "Topic",
    "compile_topic",
]

log = logging.getLogger(__name__)

PUSH_TOPIC = "PushTopic"
TOPIC_PREFIX = "/topic/"
MAX_NAME_LENGTH = 25
MAX_QUERY_LENGTH = 1300
MIN_API_VERSION = 20.0  # "It must be an API version greater than 20.0"
_FETCH_CHUNK = 200  # record ids per query of formula values


class NotifyForFields(StrEnum):
    """PushTopic.NotifyForFields: which changed fields make an update notify."""

    ALL = "All"
    REFERENCED = "Referenced"
    SELECT = "Select"
    WHERE = "Where"


class ChangeType(StrEnum):
    """A record's net change over one transaction; the values are the event types."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    UNDELETED = "undeleted"


_OPERATION_FIELDS = {
    ChangeType.CREATED: "NotifyForOperationCreate",
    ChangeType.UPDATED: "NotifyForOperationUpdate",
    ChangeType.DELETED: "NotifyForOperationDelete",
    ChangeType.UNDELETED: "NotifyForOperationUndelete",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordChange:
    """One record's net change: ``record`` is the state the WHERE clause is matched
    against (as it is now; for a delete, as it was), ``before`` the state before the
    transaction (for updates)."""

    obj: ObjectDef
    type: ChangeType
    record: Record
    before: Record | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """A compiled PushTopic."""

    name: str
    obj: ObjectDef = field(repr=False)
    #: The SELECT fields, in the schema's spelling and the query's order (Id included).
    selected: tuple[FieldDef, ...] = field(repr=False)
    where: Predicate | None = field(repr=False)
    where_fields: tuple[str, ...]
    notify_for_fields: NotifyForFields
    operations: frozenset[ChangeType]
    active: bool = True
    id: str | None = None

    @property
    def channel(self) -> str:
        return TOPIC_PREFIX + self.name

    @property
    def watched(self) -> frozenset[str] | None:
        """The fields whose change makes an update notify (None: any update)."""
        chosen = {
            NotifyForFields.ALL: None,
            NotifyForFields.SELECT: [f.name for f in self.selected],
            NotifyForFields.WHERE: list(self.where_fields),
            NotifyForFields.REFERENCED: [f.name for f in self.selected] + list(self.where_fields),
        }[self.notify_for_fields]
        if chosen is None:
            return None
        return frozenset(n for n in chosen if n != "Id")

    def matches(self, record: Record, now: datetime) -> bool:
        return self.where is None or self.where(record, now)

    def notifies(self, change: RecordChange, now: datetime) -> bool:
        """Whether ``change`` makes this topic publish an event."""
        if not self.active or change.obj.key != self.obj.key:
            return False
        if change.type not in self.operations:
            return False
        if change.type is ChangeType.UPDATED:
            watched = self.watched
            before = change.before or {}
            if watched is not None and all(
                _same(before.get(n), change.record.get(n)) for n in watched
            ):
                return False
        return self.matches(change.record, now)


# -- definitions -------------------------------------------------------------------

_SEMI_JOIN = re.compile(r"\bIN\s*\(\s*SELECT\b", re.IGNORECASE)
_SUB_SELECT = re.compile(r"\(\s*SELECT\b", re.IGNORECASE)


def compile_topic(store: Store, record: Mapping[str, object]) -> Topic:
    """Check a PushTopic record and compile it.

    Raises the save's error: a required field missing, a name or query too long, an
    API version of 20.0 or less, the SOQL error a query of the REST API would give (bad
    syntax, an unknown object or field, a value of the wrong type), or Salesforce's
    INVALID_FIELD for what PushTopic queries do not support.
    """
    name = str(_required(record, "Name"))
    if len(name) > MAX_NAME_LENGTH:
        raise StringTooLongError(
            f"Name: data value too large: {name} (max length={MAX_NAME_LENGTH})", fields=["Name"]
        )
    version = _required(record, "ApiVersion")
    if not isinstance(version, int | float | Decimal) or float(version) <= MIN_API_VERSION:
        raise FieldIntegrityError(
            f"ApiVersion: the API version must be greater than {MIN_API_VERSION}",
            fields=["ApiVersion"],
        )
    text = str(_required(record, "Query"))
    if len(text) > MAX_QUERY_LENGTH:
        raise StringTooLongError(
            f"Query: data value too large (max length={MAX_QUERY_LENGTH})", fields=["Query"]
        )
    ast = _parse(text)
    _check_clauses(ast)
    obj = store.schema.find(ast.from_)
    if obj is not None and ast.where is not None:
        _check_where_fields(ast.where, obj)
    SoqlEngine(store).compile(text)  # unknown object or field, mistyped values
    assert obj is not None  # the compile above found it
    selected = _selected(ast, obj)
    if not any(f.name == "Id" for f in selected):
        raise InvalidFieldError(
            "The PushTopic query must select Id (SELECT Id, ... FROM ...)", fields=["Query"]
        )
    filtered = where_fields(ast.where, obj)
    try:
        notify = NotifyForFields(str(record.get("NotifyForFields") or NotifyForFields.REFERENCED))
    except ValueError:
        raise RestrictedPicklistError(
            f"NotifyForFields: bad value for restricted picklist field: "
            f"{record.get('NotifyForFields')}",
            fields=["NotifyForFields"],
        ) from None
    _check_notify_fields(notify, selected, filtered)
    operations = frozenset(
        kind for kind, flag in _OPERATION_FIELDS.items() if record.get(flag, True) is not False
    )
    return Topic(
        name=name,
        obj=obj,
        selected=selected,
        where=compile_where(ast.where, obj) if ast.where is not None else None,
        where_fields=filtered,
        notify_for_fields=notify,
        operations=operations,
        active=record.get("IsActive", True) is not False,
        id=str(record["Id"]) if record.get("Id") else None,
    )


def _required(record: Mapping[str, object], name: str) -> object:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RequiredFieldMissingError(f"Required fields are missing: [{name}]", fields=[name])
    return value


def _unsupported(message: str) -> InvalidFieldError:
    return InvalidFieldError(message, fields=["Query"])


def _parse(text: str) -> Query:
    try:
        return parse_soql(text)
    except MalformedQueryError:
        # Our parser takes no sub-selects at all; Salesforce names the PushTopic rule.
        if _SEMI_JOIN.search(text):
            raise _unsupported("semi/anti join sub-selects are not supported") from None
        if _SUB_SELECT.search(text):
            raise _unsupported("relationships are not supported") from None
        raise


def _conditions(c: Condition | None) -> Iterable[Condition]:
    if c is None:
        return
    yield c
    if isinstance(c, And | Or):
        for item in c.items:
            yield from _conditions(item)
    elif isinstance(c, Not):
        yield from _conditions(c.item)


def _check_clauses(ast: Query) -> None:
    """What "Unsupported PushTopic Queries" lists, with its messages."""
    if ast.group_by or any(isinstance(i, Aggregate) for i in ast.select):
        raise _unsupported("Aggregate queries are not supported")
    if ast.limit is not None:
        raise _unsupported("'LIMIT' is not allowed")
    if ast.order_by:
        raise _unsupported("'ORDER BY' clause is not allowed")
    if ast.offset is not None:
        raise _unsupported("'OFFSET' is not allowed")
    paths = [i for i in ast.select if isinstance(i, FieldPath)]
    paths += [c.field for c in _conditions(ast.where) if not isinstance(c, And | Or | Not)]
    if any(p.is_relationship for p in paths):
        raise _unsupported("relationships are not supported")
    if any(isinstance(c, Not) for c in _conditions(ast.where)):
        raise _unsupported("'NOT' is not supported")


def _check_where_fields(where: Condition, obj: ObjectDef) -> None:
    for name in where_fields(where, obj):
        f = obj.field(name)
        if f is None:
            continue  # the SOQL compiler reports it, as a query would
        if f.calculated:
            raise _unsupported(
                f"formula fields are not supported in the WHERE clause of a PushTopic "
                f"query: {f.name}"
            )
        if f.type is FieldType.TEXTAREA:
            raise _unsupported(
                f"text area fields are not supported in the WHERE clause of a PushTopic "
                f"query: {f.name}"
            )


def _selected(ast: Query, obj: ObjectDef) -> tuple[FieldDef, ...]:
    out: dict[str, FieldDef] = {}
    for item in ast.select:
        if isinstance(item, FieldPath):
            f = obj.field(item.parts[0])
            assert f is not None  # the SOQL compiler checked it
            out.setdefault(f.key, f)
        elif isinstance(item, FieldsFunction):
            for f in obj.fields:
                if item.kind == "ALL" or (item.kind == "CUSTOM") == f.custom:
                    out.setdefault(f.key, f)
    return tuple(out.values())


def _check_notify_fields(
    notify: NotifyForFields, selected: tuple[FieldDef, ...], filtered: tuple[str, ...]
) -> None:
    """Streaming API Developer Guide, "NotifyForFields Set to Select/Where/Referenced"."""
    in_select = any(f.name != "Id" for f in selected)
    in_where = any(n != "Id" for n in filtered)
    problem = {
        NotifyForFields.SELECT: None if in_select else "a SELECT clause with a field other than Id",
        NotifyForFields.WHERE: None if in_where else "a WHERE clause with a field other than Id",
        NotifyForFields.REFERENCED: None
        if in_select or in_where
        else "a SELECT or WHERE clause with a field other than Id",
        NotifyForFields.ALL: None,
    }[notify]
    if problem is not None:
        raise InvalidFieldError(
            f"With NotifyForFields {notify.value} the PushTopic query must have {problem}",
            fields=["NotifyForFields"],
        )


# -- one transaction's changes -----------------------------------------------------

_Saved = tuple[ObjectDef, Operation, Record | None, Record]


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


def _same(a: object, b: object) -> bool:
    if isinstance(a, Decimal):
        a = float(a)
    if isinstance(b, Decimal):
        b = float(b)
    return a == b


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
        hooks.after_save(None, self._collect)

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
