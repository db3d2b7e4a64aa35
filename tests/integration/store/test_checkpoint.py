"""Background WAL checkpoints of a SQLite file database (store/sql/checkpoint.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import insert, select

from workroute.store.sql.checkpoint import COMMITS_PER_CHECKPOINT, Checkpointer
from workroute.store.sql.database import SQLITE_AUTOCHECKPOINT_PAGES, Database, sqlite_url


def _db(tmp_path: Path) -> Database:
    db = Database(sqlite_url(str(tmp_path / "org.db")))
    db.create_system_tables()
    return db


def _write(db: Database, n: int, start: int = 0) -> None:
    meta = db.system["meta"]
    for i in range(start, start + n):
        with db.write() as conn:
            conn.execute(insert(meta).values(key=f"k{i}", value="x" * 2000))


def test_a_file_database_has_a_checkpointer_and_raised_autocheckpoint(tmp_path: Path) -> None:
    db = _db(tmp_path)
    try:
        assert isinstance(db.checkpointer, Checkpointer)
        with db.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
        assert pages == SQLITE_AUTOCHECKPOINT_PAGES
    finally:
        db.dispose()
    memory = Database("sqlite+pysqlite:///:memory:")
    assert memory.checkpointer is None


def test_commits_wake_the_thread_every_few_and_it_checkpoints_the_log(tmp_path: Path) -> None:
    db = _db(tmp_path)
    try:
        checkpointer = db.checkpointer
        assert checkpointer is not None
        _write(db, COMMITS_PER_CHECKPOINT - 1)
        assert not checkpointer._wake.is_set()
        _write(db, 1, start=COMMITS_PER_CHECKPOINT)
        assert checkpointer._wake.is_set()
        busy, log_pages, done = checkpointer.checkpoint()
        assert busy == 0 and log_pages > 0 and done == log_pages
        # Everything is in the database file now: a fresh connection reads it all.
        with db.read() as conn:
            assert len(conn.execute(select(db.system["meta"])).all()) == COMMITS_PER_CHECKPOINT + 1
    finally:
        db.dispose()


def test_the_thread_runs_checkpoints_and_stops(tmp_path: Path) -> None:
    db = _db(tmp_path)
    checkpointer = db.checkpointer
    assert checkpointer is not None
    checkpointer.start()
    _write(db, 3 * COMMITS_PER_CHECKPOINT)
    checkpointer.stop()  # joins the thread: every wake-up before it has been served
    assert checkpointer._thread is None
    assert checkpointer.runs >= 1
    db.dispose()
