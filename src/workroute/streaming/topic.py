"""PushTopic definitions: a PushTopic record checked as Salesforce checks it and
compiled to a frozen :class:`Topic` (Streaming API Developer Guide, "PushTopic
Queries" and "Unsupported PushTopic Queries"), and what a topic notifies for a
record's change ("Event Notification Rules"; the matching itself is
``streaming/pushtopic.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from workroute.kernel.errors import (
    FieldIntegrityError,
    InvalidFieldError,
    MalformedQueryError,
    RequiredFieldMissingError,
    RestrictedPicklistError,
    StringTooLongError,
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
from workroute.store.hooks import Record
from workroute.store.soql import SoqlEngine
from workroute.store.store import Store
from workroute.streaming.predicate import Predicate, compile_where, where_fields

PUSH_TOPIC = "PushTopic"
TOPIC_PREFIX = "/topic/"
MAX_NAME_LENGTH = 25
MAX_QUERY_LENGTH = 1300
MIN_API_VERSION = 20.0  # "It must be an API version greater than 20.0"


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
                same_value(before.get(n), change.record.get(n)) for n in watched
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


def same_value(a: object, b: object) -> bool:
    """Field values equal as a change check sees them (numbers whatever their type)."""
    if isinstance(a, Decimal):
        a = float(a)
    if isinstance(b, Decimal):
        b = float(b)
    return a == b
