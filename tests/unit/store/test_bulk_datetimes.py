"""The driver-level writers and readers process UTC datetimes on SQLite in one step;
what they write and read must be exactly what SQLAlchemy's own processing gives, or
stored values would no longer compare with the ones written before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, MetaData, Table
from sqlalchemy.dialects import sqlite

from workroute.store.sql.bulk import _bind_processor, _process, _result_processor
from workroute.store.sql.types import UTCDateTime

DIALECT = sqlite.dialect()
COLUMN: Column[datetime] = Column("At", UTCDateTime())
Table("t", MetaData(), COLUMN)

VALUES = [
    datetime(2026, 12, 4, 21, 27, 58, 123456, tzinfo=UTC),
    datetime(2026, 12, 4, 21, 27, 58, tzinfo=UTC),  # no microseconds: still written
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2026, 1, 1, 0, 0, tzinfo=UTC).replace(tzinfo=None),  # naive: taken as UTC
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),  # a three-digit year is zero-padded
]


@pytest.mark.parametrize("value", VALUES)
def test_a_datetime_is_written_as_sqlalchemy_writes_it(value: datetime) -> None:
    ours = _bind_processor(COLUMN, DIALECT)
    theirs = COLUMN.type.dialect_impl(DIALECT).bind_processor(DIALECT)
    assert ours is not None and theirs is not None
    assert ours(value) == theirs(value)


@pytest.mark.parametrize(
    "stored", ["2026-12-04 21:27:58.123456", "2026-12-04 21:27:58.000000", "2026-12-04 21:27:58"]
)
def test_a_stored_datetime_is_read_as_sqlalchemy_reads_it(stored: str) -> None:
    ours = _result_processor(COLUMN, DIALECT, None)
    theirs = COLUMN.type.dialect_impl(DIALECT).result_processor(DIALECT, None)
    assert ours is not None and theirs is not None
    assert ours(stored) == theirs(stored)
    assert ours(stored).tzinfo is UTC


def test_columns_with_one_processor_process_an_instant_once() -> None:
    """A row's CreatedDate, LastModifiedDate and SystemModstamp are one instant."""
    calls: list[object] = []

    def proc(value: object) -> str:
        calls.append(value)
        return str(value)

    at, other = VALUES[0], VALUES[1]
    values: list[object] = [at, at, "x", other, at]
    _process(values, [(0, proc, True), (1, proc, True), (3, proc, True), (4, proc, True)], {})
    assert values == [str(at), str(at), "x", str(other), str(at)]
    assert calls == [at, other]
