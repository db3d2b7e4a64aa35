"""Bulk row writes without SQLAlchemy's per-row work.

SQLAlchemy's ``conn.execute(insert(table), rows)`` builds, for every row, a parameter
set through its generic machinery (column lookups, defaults, one type processor call
per value): measured at about three times the cost of the driver's own
``executemany`` for a 45-column AgentWork row on SQLite. The save pipeline and the
router write thousands of rows a second, so they use these writers instead.

A writer is built once per table, column list and dialect: the SQL is compiled by
SQLAlchemy, and each column's bind processor is the one SQLAlchemy itself would apply
(``TypeEngine.bind_processor`` of the dialect's implementation), so the values reach
the driver exactly as they would through ``conn.execute``. Only the per-row loop is
ours: a list of values in the statement's order, processors applied to the non-null
ones, results of processing the same value object remembered within one call (a
routing pass stamps hundreds of rows with the same ``now``).

The statements run on the driver's own cursor (:func:`driver_execute`): even
``exec_driver_sql`` costs about 40 µs a statement in SQLAlchemy's execution context
and result set-up, against 7 µs for the cursor itself (a one-row SELECT of a
29-column table on SQLite), and a save makes several such statements.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Table,
    Time,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeDecorator

from workroute.store.sql.types import UTCDateTime

Processor = Callable[[Any], Any]
_TEMPORAL = (Date, DateTime, Time, TypeDecorator)


class RowWriter:
    """One statement with named parameters, run as a driver-level executemany."""

    def __init__(
        self,
        dialect: Dialect,
        table: Table,
        sql: str,
        order: Sequence[tuple[str, str]],
        *,
        by_column: bool = False,
    ) -> None:
        """``order``: (parameter name, column name) pairs, in the order of the
        statement's placeholders when the dialect is positional; rows carry their
        values under the parameter names, or under the column names if ``by_column``
        (then a record can be passed as it is)."""
        self.sql = sql
        self.positional = bool(dialect.positional)
        self.params = [p for p, _ in order]
        self.keys = [c for _, c in order] if by_column else self.params
        self._get = operator.itemgetter(*self.keys) if len(self.keys) > 1 else None
        self.processors = _steps(
            (i, table.c[col], _bind_processor(table.c[col], dialect))
            for i, (_, col) in enumerate(order)
        )

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Execute for every row; returns the driver's row count."""
        if not rows:
            return 0
        keys, get = self.keys, self._get
        memo: _Memo = {}
        out: list[Any] = []
        for row in rows:
            try:
                values = list(get(row)) if get is not None else [row[keys[0]]]
            except KeyError:  # a row without some columns: they are null
                values = [row.get(k) for k in keys]
            _process(values, self.processors, memo)
            out.append(
                tuple(values) if self.positional else dict(zip(self.params, values, strict=True))
            )
        if len(out) == 1:
            return driver_execute(conn, self.sql, out[0], fetch=False).rowcount
        return driver_execute(conn, self.sql, out, many=True, fetch=False).rowcount

    def fetch(self, conn: Connection, row: Mapping[str, Any]) -> list[Any]:
        """Execute for one row; returns the rows it gave back, as the driver gave them
        (a ``RETURNING`` of numbers and strings needs no processing)."""
        values = [row.get(k) for k in self.keys]
        _process(values, self.processors, {})
        params = tuple(values) if self.positional else dict(zip(self.params, values, strict=True))
        return driver_execute(conn, self.sql, params).rows


def insert_writer(dialect: Dialect, table: Table, columns: Sequence[str]) -> RowWriter:
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    names = list(compiled.positiontup or columns)
    return RowWriter(dialect, table, str(compiled), [(n, n) for n in names])


def update_writer(dialect: Dialect, table: Table, columns: Sequence[str]) -> RowWriter:
    """``UPDATE table SET col = :b_col ... WHERE Id = :b_Id`` (SQLAlchemy keeps the bare
    column names for its own parameters); rows carry the column names: records as the
    store holds them."""
    stmt = (
        update(table)
        .where(table.c.Id == bindparam("b_Id"))
        .values({c: bindparam("b_" + c) for c in columns})
    )
    compiled = stmt.compile(dialect=dialect)
    names = list(compiled.positiontup or [*("b_" + c for c in columns), "b_Id"])
    return RowWriter(dialect, table, str(compiled), [(n, n[2:]) for n in names], by_column=True)


def statement_writer(
    dialect: Dialect, table: Table, stmt: ClauseElement, params: Mapping[str, str]
) -> RowWriter:
    """Any statement on ``table`` whose bind parameters each stand for one column's
    value (``params``: parameter name -> column name), as a driver-level writer."""
    compiled = stmt.compile(dialect=dialect)
    names = list(getattr(compiled, "positiontup", None) or params)
    return RowWriter(dialect, table, str(compiled), [(n, params[n]) for n in names])


class RowReader:
    """``SELECT <columns> FROM table WHERE key IN (...)`` run on the driver (all
    columns unless ``columns`` names some), values processed as SQLAlchemy would
    (each column's ``result_processor``; date and time values remembered per distinct
    value within a call). The IN list has a fixed number of placeholders, padded with
    nulls (which match nothing), so one statement serves every call."""

    def __init__(
        self,
        dialect: Dialect,
        table: Table,
        key: str,
        width: int,
        columns: Sequence[str] | None = None,
    ) -> None:
        self.width = width
        self._cols = [table.c[c] for c in columns] if columns else list(table.c)
        self.columns = [c.key for c in self._cols]
        stmt = select(*self._cols).where(
            table.c[key].in_([bindparam(f"k{i}") for i in range(width)])
        )
        compiled = stmt.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = bool(dialect.positional)
        self.params = list(compiled.positiontup or [f"k{i}" for i in range(width)])
        self._dialect = dialect
        #: Made at the first run, from the driver's column types (PostgreSQL's numeric
        #: processors depend on them).
        self.processors: list[_Step] | None = None

    def _processors(self, description: Sequence[Any]) -> list[_Step]:
        dialect = self._dialect
        return _steps(
            (i, col, _result_processor(col, dialect, description[i][1]))
            for i, col in enumerate(self._cols)
        )

    def run(self, conn: Connection, keys: Sequence[object]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        columns = self.columns
        memo: _Memo = {}
        for start in range(0, len(keys), self.width):
            chunk = list(keys[start : start + self.width])
            chunk += [None] * (self.width - len(chunk))
            params: Any = (
                tuple(chunk) if self.positional else dict(zip(self.params, chunk, strict=True))
            )
            result = driver_execute(conn, self.sql, params)
            if self.processors is None:
                self.processors = self._processors(result.description)
            for raw in result.rows:
                values = list(raw)
                _process(values, self.processors, memo)
                out.append(dict(zip(columns, values, strict=True)))
        return out


class DriverResult:
    """What a statement run by :func:`driver_execute` gave back."""

    __slots__ = ("description", "rowcount", "rows")

    def __init__(self, rows: list[Any], description: Any, rowcount: int) -> None:
        self.rows = rows
        self.description = description
        self.rowcount = rowcount


def driver_execute(
    conn: Connection,
    sql: str,
    params: Any,
    *,
    many: bool = False,
    fetch: bool = True,
) -> DriverResult:
    """Run ``sql`` on the driver's cursor of ``conn``'s connection, in its transaction.

    Falls back to ``exec_driver_sql`` where SQLAlchemy's own execution matters: when
    the connection has not begun its transaction yet (SQLAlchemy's autobegin, and the
    engine's ``BEGIN IMMEDIATE`` on SQLite, happen there), and when anyone listens to
    the engine's cursor events (tests and benchmarks that count statements). Driver
    errors are raised as SQLAlchemy raises them (``IntegrityError`` and the rest), so
    callers map them the same way.
    """
    if not conn.in_transaction() or conn.dispatch.before_cursor_execute:
        result = conn.exec_driver_sql(sql, params)
        description = result.cursor.description if result.returns_rows else None
        rows = result.fetchall() if fetch and result.returns_rows else []
        return DriverResult(list(rows), description, int(result.rowcount))
    dialect = conn.dialect
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        rows = cursor.fetchall() if fetch and cursor.description is not None else []
        return DriverResult(list(rows), cursor.description, int(cursor.rowcount))
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect, ismulti=many
        ) from exc
    finally:
        cursor.close()


def _bind_processor(col: Column[Any], dialect: Dialect) -> Processor | None:
    if dialect.name == "sqlite" and isinstance(col.type, UTCDateTime):
        return _utc_to_sqlite
    return col.type.dialect_impl(dialect).bind_processor(dialect)


def _result_processor(col: Column[Any], dialect: Dialect, coltype: object) -> Processor | None:
    found = col.type.dialect_impl(dialect).result_processor(dialect, coltype)
    if dialect.name == "sqlite" and isinstance(col.type, UTCDateTime) and found is not None:
        return _utc_from_sqlite(found)
    return found


def _utc_to_sqlite(value: datetime) -> str:
    """UTCDateTime's bind processing and then SQLite DATETIME's, in one step: naive
    UTC, written as ``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLAlchemy's storage format, so
    stored values compare as before). Every row the store writes has three."""
    if value.tzinfo is UTC:  # the clock's own: its ISO form, less the "+00:00"
        return value.isoformat(" ", "microseconds")[:_STORED_LENGTH]
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _utc_from_sqlite(slow: Processor) -> Processor:
    """The inverse of :func:`_utc_to_sqlite` for the strings it writes; anything else
    (another length, or not text) goes through SQLAlchemy's processing."""

    def process(value: Any) -> Any:
        if isinstance(value, str) and len(value) == _STORED_LENGTH:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return slow(value)

    return process


#: ``len("2026-01-31 12:00:00.000000")``
_STORED_LENGTH = 26

#: (position, processor, remembered per value?) for the columns that have a processor.
_Step = tuple[int, Processor, bool]
#: Results by (processor, value): the columns one processor serves share them (a row's
#: CreatedDate, LastModifiedDate and SystemModstamp are one instant, written once).
_Memo = dict[tuple[Processor, object], object]


def _steps(found: Iterable[tuple[int, Column[Any], Processor | None]]) -> list[_Step]:
    """Processing of dates and times is remembered per value (a TypeDecorator and a
    string conversion each); the other processors are C callables."""
    return [(i, p, isinstance(col.type, _TEMPORAL)) for i, col, p in found if p is not None]


def _process(values: list[Any], steps: list[_Step], memo: _Memo) -> None:
    """Apply each column's processor to its non-null value, in place."""
    for i, proc, remember in steps:
        v = values[i]
        if v is None:
            continue
        if remember:
            key = (proc, v)
            done = memo.get(key, memo)
            if done is memo:
                done = memo[key] = proc(v)
            values[i] = done
        else:
            values[i] = proc(v)
