"""Tables: one per object, generated from the schema, plus workroute's own system tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Time,
)
from sqlalchemy.types import TypeEngine

from workroute.schema.model import FieldDef, FieldType, ObjectDef
from workroute.store.sql.types import UTCDateTime

#: 2: the event log keeps the owner of the record an event is about (record access
#: for subscribers) and is indexed by channel and replay id.
SYSTEM_SCHEMA_VERSION = 2


def column_type(f: FieldDef) -> TypeEngine[Any]:
    t = f.type
    if t in (FieldType.ID, FieldType.REFERENCE):
        return String(18)
    if t in (FieldType.TEXTAREA, FieldType.MULTIPICKLIST):
        return Text()
    if t.is_text:
        return String(max(f.length, 1) if f.length else 255)
    if t is FieldType.BOOLEAN:
        return Boolean()
    if t is FieldType.INT:
        return Integer()
    if t.is_number:
        return Float()
    if t is FieldType.DATE:
        return Date()
    if t is FieldType.DATETIME:
        return UTCDateTime()
    if t is FieldType.TIME:
        return Time()
    raise AssertionError(f"no column type for {t}")


def table_name(obj: ObjectDef) -> str:
    """Object tables are prefixed so they never collide with system tables or SQL words."""
    return "o_" + obj.name.lower()


def column_for(f: FieldDef) -> Column[Any]:
    return Column(
        f.name,
        column_type(f),
        primary_key=f.name == "Id",
        nullable=f.name != "Id",
    )


#: Audit references: on an object only the engine writes, every row's creator and last
#: modifier is the engine's acting user, no engine or SOQL path filters by them, and an
#: index that selects nothing costs two index writes on every insert.
AUDIT_REFERENCES = ("CreatedById", "LastModifiedById")


def engine_written(obj: ObjectDef) -> bool:
    """True for an object that no API user creates, updates or deletes (runs, logs)."""
    return not (obj.createable or obj.updateable or obj.deletable)


def unindexed(obj: ObjectDef) -> tuple[str, ...]:
    """Reference fields of ``obj`` left without an index (see AUDIT_REFERENCES)."""
    return AUDIT_REFERENCES if engine_written(obj) else ()


def index_name(table: str, field: str) -> str:
    return f"ix_{table}_{field.lower()}"


def build_object_table(metadata: MetaData, obj: ObjectDef) -> Table:
    cols = [column_for(f) for f in obj.fields if not f.calculated]
    table = Table(table_name(obj), metadata, *cols)
    skip = unindexed(obj)
    for f in obj.fields:
        if f.calculated or f.name == "Id" or f.name in skip:
            continue
        if f.type is FieldType.REFERENCE or f.unique or f.external_id or f.id_lookup:
            Index(index_name(table.name, f.name), table.c[f.name])
    return table


def build_system_tables(metadata: MetaData) -> dict[str, Table]:
    """workroute's own tables; their shape is versioned by SYSTEM_SCHEMA_VERSION."""
    return {
        "meta": Table(
            "wr_meta",
            metadata,
            Column("key", String(100), primary_key=True),
            Column("value", Text, nullable=False),
        ),
        "sequence": Table(
            "wr_sequence",
            metadata,
            Column("name", String(100), primary_key=True),
            Column("value", Integer, nullable=False),
        ),
        "custom_object": Table(
            "wr_custom_object",
            metadata,
            Column("name", String(100), primary_key=True),
            Column("key_prefix", String(3), nullable=False, unique=True),
            Column("definition", Text, nullable=False),
            Column("deployed_at", UTCDateTime, nullable=False),
        ),
        "credential": Table(
            "wr_credential",
            metadata,
            Column("user_id", String(18), primary_key=True),
            Column("password_hash", String(255), nullable=False),
            Column("changed_at", UTCDateTime, nullable=False),
        ),
        "token": Table(
            "wr_token",
            metadata,
            Column("token_hash", String(64), primary_key=True),
            Column("user_id", String(18), nullable=False, index=True),
            Column("issued_at", UTCDateTime, nullable=False),
            Column("expires_at", UTCDateTime, nullable=False),
            Column("revoked", Boolean, nullable=False, default=False),
            Column("client_id", String(100)),
        ),
        "connected_app": Table(
            "wr_connected_app",
            metadata,
            Column("client_id", String(100), primary_key=True),
            Column("name", String(100), nullable=False, unique=True),
            Column("secret_hash", String(255), nullable=False),
            Column("run_as_user_id", String(18), nullable=False),
            Column("created_at", UTCDateTime, nullable=False),
        ),
        "deploy": Table(
            "wr_deploy",
            metadata,
            Column("id", String(18), primary_key=True),
            Column("status", String(20), nullable=False),
            Column("created_at", UTCDateTime, nullable=False),
            Column("completed_at", UTCDateTime),
            Column("result", Text, nullable=False),
            Column("created_by_id", String(18), nullable=False),
        ),
        # Durable timers: time-based workflow actions, retries, routing timeouts. A
        # timer is a row with a due time, so it outlives the process that set it.
        "timer": Table(
            "wr_timer",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("kind", String(40), nullable=False),
            Column("key", String(300), nullable=False, unique=True),
            Column("due_at", UTCDateTime, nullable=False, index=True),
            Column("object_name", String(100)),
            Column("record_id", String(18), index=True),
            Column("payload", Text, nullable=False),
            Column("created_at", UTCDateTime, nullable=False),
            Column("created_by_id", String(18)),
            Column("failed", Text),
        ),
        # The transactional outbox: side effects recorded with the change that caused
        # them and delivered after commit (email, outbound messages).
        "outbox": Table(
            "wr_outbox",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("kind", String(40), nullable=False),
            Column("status", String(20), nullable=False, index=True),
            Column("group_key", String(300), nullable=False),
            Column("record_id", String(18)),
            Column("payload", Text, nullable=False),
            Column("created_at", UTCDateTime, nullable=False),
            Column("due_at", UTCDateTime, nullable=False, index=True),
            Column("attempts", Integer, nullable=False, default=0),
            Column("first_attempt_at", UTCDateTime),
            Column("last_attempt_at", UTCDateTime),
            Column("last_error", Text),
            Column("delivered_at", UTCDateTime),
        ),
        # Domain events (agent console events, routing changes, PushTopic events),
        # written in the transaction that caused them; the id is the replay position.
        # ``topic`` is the channel; ``owner_id`` the owner of the record the event is
        # about, for subscribers who may see only some records.
        "event": Table(
            "wr_event",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("topic", String(80), nullable=False),
            Column("user_id", String(18), index=True),
            Column("owner_id", String(18)),
            Column("payload", Text, nullable=False),
            Column("created_at", UTCDateTime, nullable=False, index=True),
            Index("ix_wr_event_topic_id", "topic", "id"),
        ),
        # Omni-Channel runtime state the router rebuilds its memory from: who is
        # online (one row per agent), what holds their capacity (one row per piece of
        # work), what a waiting item remembers between decisions, and decision traces.
        "omni_agent": Table(
            "wr_omni_agent",
            metadata,
            Column("user_id", String(18), primary_key=True),
            Column("status_id", String(18), nullable=False),
            Column("presence_id", String(18), nullable=False),
            Column("idle_since", UTCDateTime, nullable=False),
            Column("stats_at", UTCDateTime, nullable=False),
        ),
        "omni_load": Table(
            "wr_omni_load",
            metadata,
            Column("work_id", String(18), primary_key=True),
            Column("user_id", String(18), nullable=False, index=True),
            Column("channel_id", String(18), nullable=False),
            Column("work_item_id", String(18), nullable=False),
            Column("psr_id", String(18)),
            Column("weight", Float, nullable=False),
            Column("percent", Float, nullable=False),
            Column("opened", Boolean, nullable=False),
            Column("skip_check", Boolean, nullable=False),
        ),
        "omni_item": Table(
            "wr_omni_item",
            metadata,
            Column("psr_id", String(18), primary_key=True),
            Column("dropped_groups", Integer, nullable=False),
            Column("declined", Text, nullable=False),
        ),
        "routing_trace": Table(
            "wr_routing_trace",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("psr_id", String(18), index=True),
            Column("work_id", String(18), index=True),
            Column("at", UTCDateTime, nullable=False),
            Column("trace", Text, nullable=False),
        ),
        "work_flag": Table(
            "wr_work_flag",
            metadata,
            Column("work_id", String(18), primary_key=True),
            Column("is_flagged", Boolean, nullable=False),
            Column("message", Text),
            Column("role", String(20), nullable=False),
            Column("updated_by", String(18), nullable=False),
            Column("updated_at", UTCDateTime, nullable=False),
        ),
        "metadata_file": Table(
            "wr_metadata_file",
            metadata,
            Column("type", String(60), primary_key=True),
            Column("full_name", String(255), primary_key=True),
            Column("path", String(500), nullable=False),
            Column("content", LargeBinary, nullable=False),
            Column("deployed_at", UTCDateTime, nullable=False),
        ),
    }
