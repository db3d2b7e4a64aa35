"""The database: engine, tables, live schema changes, transactions and the writer lock."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.elements import ClauseElement

from workroute.kernel.errors import ConflictError, DuplicateValueError, WorkrouteError
from workroute.schema.model import ObjectDef
from workroute.store.sql.bulk import (
    RowReader,
    RowWriter,
    driver_execute,
    insert_writer,
    statement_writer,
    update_writer,
)
from workroute.store.sql.checkpoint import Checkpointer
from workroute.store.sql.tables import (
    SYSTEM_SCHEMA_VERSION,
    build_object_table,
    build_system_tables,
    column_for,
    index_name,
    table_name,
    unindexed,
)

log = logging.getLogger(__name__)


def sqlite_url(path: str) -> str:
    return "sqlite+pysqlite:///" + path


#: Pages of WAL after which a committing connection checkpoints by itself (SQLite's
#: default is 1,000). A server's :class:`Checkpointer` thread checkpoints well before
#: that, off the writer's path; this is the backstop for processes without one.
SQLITE_AUTOCHECKPOINT_PAGES = 20_000

#: Set on every SQLite connection. WAL lets readers run while the single writer
#: commits; NORMAL sync is durable against process crashes (the guarantee tested with
#: SIGKILL).
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=OFF",
    f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}",
)


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cur.execute(pragma)
    cur.close()


class Database:
    """One database holding an org. Writes are serialized by ``write()``'s lock."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect_name = url.split(":", 1)[0].split("+", 1)[0]
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False}
            if ":memory:" in url or url.rstrip("/").endswith("sqlite+pysqlite:"):
                kwargs["poolclass"] = StaticPool
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _on_sqlite_connect)
            # pysqlite's own transaction handling defers BEGIN; take control so a
            # write transaction takes the lock at its start (no upgrade deadlocks).
            event.listen(self.engine, "connect", _disable_pysqlite_begin)
            event.listen(self.engine, "begin", _sqlite_begin)
        #: Background WAL checkpoints for a file database (started by the server).
        self.checkpointer: Checkpointer | None = None
        if self.is_sqlite and ":memory:" not in url and not url.rstrip("/").endswith(":"):
            self.checkpointer = Checkpointer(self.engine)
        self.metadata = MetaData()
        self.system = build_system_tables(self.metadata)
        self._objects: dict[str, Table] = {}
        self._write_lock = threading.RLock()
        self._local = threading.local()
        #: Called after every committed outermost write transaction (wake-up signals).
        self.commit_listeners: list[Callable[[], None]] = []
        if self.checkpointer is not None:
            self.commit_listeners.append(self.checkpointer.committed)
        self._writers: dict[tuple[str, Table, tuple[str, ...]], RowWriter] = {}
        self._readers: dict[tuple[Any, ...], RowReader] = {}
        seq = self.system["sequence"]
        self._next_stmt = (
            update(seq)
            .where(seq.c.name == bindparam("seq_name"))
            .values(value=seq.c.value + bindparam("seq_count"))
            .returning(seq.c.value)
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect_name == "sqlite"

    # -- schema -------------------------------------------------------------

    def create_system_tables(self) -> None:
        with self.engine.begin() as conn:
            self.metadata.create_all(conn, tables=list(self.system.values()))
            meta = self.system["meta"]
            row = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
            if row is None:
                conn.execute(
                    insert(meta).values(key="schema_version", value=str(SYSTEM_SCHEMA_VERSION))
                )
            elif int(row[0]) > SYSTEM_SCHEMA_VERSION:
                raise WorkrouteError(
                    f"database schema version {row[0]} is newer than this workroute "
                    f"({SYSTEM_SCHEMA_VERSION}); upgrade workroute"
                )
            elif int(row[0]) < SYSTEM_SCHEMA_VERSION:
                _upgrade_system_tables(conn, int(row[0]))
                conn.execute(
                    update(meta)
                    .where(meta.c.key == "schema_version")
                    .values(value=str(SYSTEM_SCHEMA_VERSION))
                )

    def sync_objects(self, objects: list[ObjectDef]) -> None:
        """Create missing object tables and add missing columns, keeping all rows."""
        with self.write() as conn:
            existing = set(inspect(conn).get_table_names())
            for obj in objects:
                self._sync_one(conn, obj, existing)

    def sync_object(self, conn: Connection, obj: ObjectDef) -> Table:
        existing = set(inspect(conn).get_table_names())
        return self._sync_one(conn, obj, existing)

    def _sync_one(self, conn: Connection, obj: ObjectDef, existing: set[str]) -> Table:
        name = table_name(obj)
        self._note_table_change(obj.key)
        old = self.metadata.tables.get(name)
        if old is not None:
            self.metadata.remove(old)
        table = build_object_table(self.metadata, obj)
        if name not in existing:
            table.create(conn)
        else:
            have = {c["name"].lower() for c in inspect(conn).get_columns(name)}
            for f in obj.fields:
                if f.calculated or f.name.lower() in have:
                    continue
                col = column_for(f)
                ddl_type = col.type.compile(dialect=conn.dialect)
                conn.execute(
                    text(
                        f"ALTER TABLE {_quote(conn, name)} "
                        f"ADD COLUMN {_quote(conn, f.name)} {ddl_type}"
                    )
                )
            # Tables made before these indexes were left out still have them.
            for field_name in unindexed(obj):
                conn.execute(
                    text(f"DROP INDEX IF EXISTS {_quote(conn, index_name(name, field_name))}")
                )
        self._objects[obj.key] = table
        return table

    def table(self, obj: ObjectDef) -> Table:
        return self._objects[obj.key]

    # -- bulk writes ------------------------------------------------------------

    def insert_rows(
        self,
        conn: Connection,
        table: Table,
        rows: Sequence[Any],
        columns: Sequence[str] | None = None,
    ) -> None:
        """INSERT ``rows`` (mappings by column name; missing columns are null) as one
        driver-level executemany (see :mod:`workroute.store.sql.bulk`)."""
        if rows:
            cols = tuple(columns) if columns is not None else tuple(table.c.keys())
            self._writer("insert", table, cols).run(conn, rows)

    def update_rows(
        self, conn: Connection, table: Table, columns: Sequence[str], params: Sequence[Any]
    ) -> int:
        """``UPDATE table SET col = ... WHERE Id = ...`` for each row (a mapping with
        ``Id`` and the columns, by column name); returns the rows matched."""
        if not params:
            return 0
        return self._writer("update", table, tuple(columns)).run(conn, params)

    def rows_by_id(
        self, conn: Connection, table: Table, ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Whole rows of ``table`` whose Id is in ``ids`` (any order; see RowReader)."""
        return self.rows_where_in(conn, table, "Id", ids)

    def rows_where_in(
        self,
        conn: Connection,
        table: Table,
        column: str,
        values: Sequence[object],
        columns: tuple[str, ...] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of ``table`` (whole, or only ``columns``) whose ``column`` is one of
        ``values`` (any order; deleted rows included: see RowReader)."""
        if not values:
            return []
        width = _width(len(values))
        key = (table, column, width) if columns is None else (table, column, width, columns)
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = RowReader(
                self.engine.dialect, table, column, width, columns
            )
        return reader.run(conn, values)

    def live_ids(self, conn: Connection, table: Table, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` whose rows exist and are not deleted, on the driver (the
        reference check of every save)."""
        if not ids:
            return set()
        width = _width(len(ids))
        key = (table, "Id:live", width)
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = RowReader(
                self.engine.dialect, table, "Id", width, ("Id", "IsDeleted")
            )
        return {str(r["Id"]) for r in reader.run(conn, ids) if not r["IsDeleted"]}

    def rows_where(
        self, conn: Connection, table: Table, column: str, value: object
    ) -> list[dict[str, Any]]:
        """Whole rows of ``table`` whose ``column`` equals ``value`` (a string, number or
        boolean the driver takes as it is), on the driver (see RowReader)."""
        reader = self._readers.get((table, column, 1))
        if reader is None:
            reader = self._readers[(table, column, 1)] = RowReader(
                self.engine.dialect, table, column, 1
            )
        return reader.run(conn, [value])

    def statement(
        self,
        name: str,
        table: Table,
        build: Callable[[], ClauseElement],
        params: Mapping[str, str],
    ) -> RowWriter:
        """The statement ``build`` makes, compiled once per ``name`` and table and run
        on the driver (``params``: its bind parameters, each one column's value)."""
        key = ("statement:" + name, table, ())
        writer = self._writers.get(key)
        if writer is None:
            writer = self._writers[key] = statement_writer(
                self.engine.dialect, table, build(), params
            )
        return writer

    def _writer(self, kind: str, table: Table, cols: tuple[str, ...]) -> RowWriter:
        key = (kind, table, cols)
        writer = self._writers.get(key)
        if writer is None:
            if len(self._writers) > 5_000:
                self._writers.clear()
            build = insert_writer if kind == "insert" else update_writer
            writer = self._writers[key] = build(self.engine.dialect, table, cols)
        return writer

    # -- transactions ---------------------------------------------------------

    def write(self, *, savepoint: bool = True) -> AbstractContextManager[Connection]:
        """A write transaction.

        A nested call on the same thread runs in a savepoint of the outer transaction:
        when it fails, only its own work is undone (as a failed Apex DML statement), and
        the outer transaction goes on if the caller handles the error. A nested call
        with ``savepoint=False`` just joins the outer transaction (two statements
        fewer): for the engine's own saves, whose failure fails the whole transaction.
        """
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None and not savepoint:
            return _Joined(current)  # no generator: the engine joins dozens of times a run
        return self._write(current)

    @contextmanager
    def _write(self, current: Connection | None) -> Iterator[Connection]:
        if current is not None:
            with (
                _mapped_errors(),
                self._tables_undone_on_error(),
                self._rollback_callbacks(),
                self._savepoint(current),
            ):
                yield current
            return
        with self._write_lock:
            with _mapped_errors(), self.engine.connect() as conn:
                conn.info["wr_write"] = True
                self._local.after_commit = []
                self._local.before_commit = []
                try:
                    with self._tables_undone_on_error(), self._rollback_callbacks(), conn.begin():
                        self._local.conn = conn
                        yield conn
                        _run_before_commit(self._local.before_commit)
                finally:
                    self._local.conn = None
                    conn.info.pop("wr_write", None)
                    callbacks: list[Callable[[], None]] = self._local.after_commit
                    self._local.after_commit = []
            # Committed. What the transaction asked for runs still under the write lock,
            # so no other writer commits before engine state has caught up.
            _run_all(callbacks)
        _run_all(self.commit_listeners)

    @contextmanager
    def _savepoint(self, conn: Connection) -> Iterator[None]:
        """A savepoint, its statements run on the driver: SQLAlchemy's
        ``begin_nested`` costs about 100 µs a savepoint in its transaction bookkeeping,
        and a timer batch or a save opens one for every timer or save. SQLAlchemy's
        own transaction is the outer one and knows nothing of these; they nest by
        depth on this thread."""
        depth = self._local.__dict__.get("savepoints", 0) + 1
        self._local.savepoints = depth
        name = f"wr_sp_{depth}"
        none: tuple[()] = ()
        try:
            driver_execute(conn, f"SAVEPOINT {name}", none, fetch=False)
            try:
                yield
            except BaseException:
                driver_execute(conn, f"ROLLBACK TO SAVEPOINT {name}", none, fetch=False)
                driver_execute(conn, f"RELEASE SAVEPOINT {name}", none, fetch=False)
                raise
            driver_execute(conn, f"RELEASE SAVEPOINT {name}", none, fetch=False)
        finally:
            self._local.savepoints = depth - 1

    def in_write(self) -> bool:
        """Whether this thread is inside a write transaction."""
        return getattr(self._local, "conn", None) is not None

    def on_commit(self, callback: Callable[[], None], *, once: bool = False) -> None:
        """Run ``callback`` once the current write transaction commits (never on rollback).

        Engine state derived from the database (compiled rules, indexes) is swapped in
        here, so a rolled-back deploy leaves the running engine as it was. With ``once``
        a callback already asked for in this transaction is not added again.
        """
        if getattr(self._local, "conn", None) is None:
            raise RuntimeError("on_commit needs a write transaction")
        if once and callback in self._local.after_commit:
            return
        self._local.after_commit.append(callback)

    def before_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` inside the current write transaction, once its work is done
        and just before it commits. What it writes commits with the transaction, and an
        error it raises rolls everything back. Work that must see the transaction's final
        state (PushTopic events, one per changed record however often it was saved) goes
        here; callbacks added by a callback run too, in order."""
        if getattr(self._local, "conn", None) is None:
            raise RuntimeError("before_commit needs a write transaction")
        self._local.before_commit.append(callback)

    def on_rollback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` if the current transaction, or the savepoint this call is
        in, rolls back. Engine state changed inside a transaction uses it to notice
        that the database no longer agrees."""
        stack: list[list[Callable[[], None]]] | None = getattr(self._local, "rollback", None)
        if not stack:
            raise RuntimeError("on_rollback needs a write transaction")
        stack[-1].append(callback)

    @contextmanager
    def _rollback_callbacks(self) -> Iterator[None]:
        stack: list[list[Callable[[], None]]] = self._local.__dict__.setdefault("rollback", [])
        stack.append([])
        try:
            yield
        except BaseException:
            _run_all(stack.pop())
            raise
        else:
            done = stack.pop()
            if stack:
                stack[-1].extend(done)

    def _note_table_change(self, key: str) -> None:
        """Remember an object's table as it was, to put it back if the DDL rolls back."""
        stack: list[list[tuple[str, Table | None]]] | None = getattr(self._local, "ddl", None)
        if stack:
            stack[-1].append((key, self._objects.get(key)))

    @contextmanager
    def _tables_undone_on_error(self) -> Iterator[None]:
        """Keep the cached tables in step with the database when a transaction rolls back.

        Without this a rolled-back ALTER TABLE would leave a cached table with columns
        the database doesn't have, and every later read of that object would fail.
        """
        stack: list[list[tuple[str, Table | None]]] = self._local.__dict__.setdefault("ddl", [])
        stack.append([])
        try:
            yield
        except BaseException:
            for key, table in reversed(stack.pop()):
                current = self._objects.get(key)
                if current is not None and current is not table:
                    if self.metadata.tables.get(current.name) is current:
                        self.metadata.remove(current)
                if table is None:
                    self._objects.pop(key, None)
                else:
                    self._objects[key] = table
            raise
        else:
            done = stack.pop()
            if stack:
                stack[-1].extend(done)

    def read(self) -> AbstractContextManager[Connection]:
        """A read: joins the current write transaction on this thread, if any."""
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            return _Joined(current)
        return self.engine.connect()

    def next_sequence(self, conn: Connection, name: str, count: int = 1) -> int:
        """Reserve ``count`` numbers of a named sequence inside ``conn``'s transaction.

        Returns the first. Rolled back with the transaction, so autonumbers stay gapless.
        """
        seq = self.system["sequence"]
        stmt = self.statement(
            "next_sequence",
            seq,
            lambda: self._next_stmt,
            {"seq_name": "name", "seq_count": "value"},
        )
        rows = stmt.fetch(conn, {"seq_name": name, "seq_count": count})
        row = rows[0] if rows else None
        if row is None:
            conn.execute(insert(seq).values(name=name, value=count))
            return 1
        return int(row[0]) - count + 1

    def reserve_block(self, name: str) -> int:
        """Take the next block number in its own committed transaction."""
        with self.engine.begin() as conn:
            return self.next_sequence(conn, name)

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()


class _Joined(AbstractContextManager[Connection]):
    """The transaction this thread is in, joined: nothing to begin or end."""

    __slots__ = ("conn",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None


def _width(n: int) -> int:
    """Placeholders of a driver-level IN read of ``n`` keys: a few fixed widths, so a
    handful of statements serve every call; one key (most reads) gets ``IN (?)``,
    which SQLite plans as an equality, at about two thirds the cost of eight."""
    return 1 if n == 1 else 8 if n <= 8 else 64 if n <= 64 else 256


def _upgrade_system_tables(conn: Connection, version: int) -> None:
    """Bring a database made by an older workroute up to this one's system tables
    (tables it lacks were created by ``create_all`` already)."""
    if version < 2:
        have = {c["name"] for c in inspect(conn).get_columns("wr_event")}
        if "owner_id" not in have:
            conn.execute(text("ALTER TABLE wr_event ADD COLUMN owner_id VARCHAR(18)"))
        indexes = {i["name"] for i in inspect(conn).get_indexes("wr_event")}
        if "ix_wr_event_topic_id" not in indexes:
            conn.execute(text("CREATE INDEX ix_wr_event_topic_id ON wr_event (topic, id)"))
        if "ix_wr_event_created_at" not in indexes:
            conn.execute(text("CREATE INDEX ix_wr_event_created_at ON wr_event (created_at)"))


def _run_before_commit(callbacks: list[Callable[[], None]]) -> None:
    i = 0
    while i < len(callbacks):  # a callback may add more
        callbacks[i]()
        i += 1
    callbacks.clear()


def _run_all(callbacks: Sequence[Callable[[], None]]) -> None:
    for callback in list(callbacks):
        try:
            callback()
        except Exception:  # a callback must not turn a finished write into an error
            log.exception("transaction callback failed")


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Database errors a save can cause, as the engine's errors."""
    try:
        yield
    except IntegrityError as exc:
        raise DuplicateValueError(f"duplicate value found: {exc.orig}") from exc
    except OperationalError as exc:
        if "locked" in str(exc).lower():
            raise ConflictError("the database is busy; try again") from exc
        raise


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _disable_pysqlite_begin(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    """Begin on the driver's connection (``exec_driver_sql`` costs several times the
    statement in SQLAlchemy's execution set-up, and every transaction begins), unless
    someone listens to the engine's statements; errors raised as SQLAlchemy raises
    them (``database is locked`` is a ConflictError to callers)."""
    sql = "BEGIN IMMEDIATE" if _wants_write(conn) else "BEGIN"
    if conn.dispatch.before_cursor_execute:
        conn.exec_driver_sql(sql)
        return
    dbapi = conn.dialect.loaded_dbapi
    try:
        conn.connection.dbapi_connection.execute(sql)  # type: ignore[union-attr]
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, (), exc, dbapi.Error, dialect=conn.dialect) from exc


def _wants_write(conn: Connection) -> bool:
    return bool(conn.info.get("wr_write"))
