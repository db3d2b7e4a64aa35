"""The peer of the orchestration benchmark: the same two-stage process run by SpiffWorkflow.

``orchestration_peer.bpmn`` (next to this file) is a BPMN 2.0 process started by a
saved record: a user task "Review" (a person fills in ``approved`` and ``comment``),
then a script task "Update" that closes the record. It is parsed once with
SpiffWorkflow's own parser (``SpiffBpmnParser``, with its schema validator) — the
deployment, not timed — and run by its engine (``BpmnWorkflow``).

State is kept durably the way workroute keeps it: a SQLite file with the org's
connection settings (``SQLITE_PRAGMAS``: WAL, ``synchronous=NORMAL``) and, as a
server has, a background WAL checkpointer; each run's state is SpiffWorkflow's own
serialization (``BpmnWorkflowSerializer.serialize_json``, which carries the process
spec with the run, as that API does) in a row, written in a transaction wherever
workroute commits:

(a) "record saved": insert the record row, start the run, run it to the user task,
    insert its state;
(b) "work item completed": load the state back (as a server does, in a later request),
    complete the user task with the form's data, let the engine run the script task
    (which updates the record row through the host's ``update_record``) to the end,
    save the state.

All n runs are started, then all n completed, each step its own transaction. The
garbage collector is left as the caller set it. Run alone:
``python -m bench._spiff [N]`` (default 1,000).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from SpiffWorkflow import TaskState  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn import BpmnWorkflow  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.script_engine import (  # type: ignore[import-untyped]
    PythonScriptEngine,
    TaskDataEnvironment,
)
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # type: ignore[import-untyped]
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser  # type: ignore[import-untyped]
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG  # type: ignore[import-untyped]
from sqlalchemy import create_engine

from bench.machine import describe
from workroute.store.sql.checkpoint import Checkpointer
from workroute.store.sql.database import SQLITE_PRAGMAS, sqlite_url

BPMN_FILE = Path(__file__).with_name("orchestration_peer.bpmn")
#: The database file run_spiff writes in its workdir.
DB_NAME = "spiff.db"
PROCESS_ID = "RecordReview"
USER_TASK = "Review"
FORM = {"approved": True, "comment": "Looks right"}
CLOSED = "Closed"

SCHEMA = (
    "CREATE TABLE record (id TEXT PRIMARY KEY, status TEXT NOT NULL)",
    "CREATE TABLE run (id INTEGER PRIMARY KEY, record_id TEXT NOT NULL,"
    " completed INTEGER NOT NULL, state TEXT NOT NULL)",
)


@dataclass(frozen=True, kw_only=True)
class SpiffFigures:
    """What :func:`run_spiff` measured. ``bytes_per_run_state`` is the mean size of a
    run's stored state once complete (UTF-8 JSON, spec included)."""

    runs: int
    seconds_start: float
    seconds_complete: float
    total_seconds: float
    runs_per_second: float
    bytes_per_run_state: float


class _Records:
    """The host side of the script task: ``update_record`` writes the record row on
    the connection whose transaction is open."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def update(self, record_id: str, status: str) -> None:
        cur = self.db.execute("UPDATE record SET status = ? WHERE id = ?", (status, record_id))
        if cur.rowcount != 1:
            raise LookupError(f"no record {record_id!r}")


def _spec() -> Any:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN_FILE))
    return parser.get_spec(PROCESS_ID)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        db.execute(pragma)
    return db


def _start(db: sqlite3.Connection, spec: Any, engine: Any, serializer: Any, i: int) -> None:
    """Transaction (a): the record is saved and starts a run that waits at the user task."""
    record_id = f"r{i:07d}"
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO record (id, status) VALUES (?, 'New')", (record_id,))
    workflow = BpmnWorkflow(spec, script_engine=engine)
    workflow.get_next_task(state=TaskState.READY).data["record_id"] = record_id
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)
    db.execute(
        "INSERT INTO run (id, record_id, completed, state) VALUES (?, ?, 0, ?)",
        (i, record_id, state),
    )
    db.execute("COMMIT")


def _complete(db: sqlite3.Connection, engine: Any, serializer: Any, i: int) -> int:
    """Transaction (b): load the run, complete the review with the form's data, run the
    script task to the end, save. Returns the stored state's size in bytes."""
    db.execute("BEGIN IMMEDIATE")
    (state,) = db.execute("SELECT state FROM run WHERE id = ?", (i,)).fetchone()
    workflow = serializer.deserialize_json(state)
    workflow.script_engine = engine
    task = workflow.get_next_task(state=TaskState.READY, manual=True)
    if task is None or task.task_spec.bpmn_id != USER_TASK:
        raise RuntimeError(f"run {i} is not waiting at {USER_TASK}")
    task.data.update(FORM)
    task.run()
    workflow.do_engine_steps()
    state = serializer.serialize_json(workflow)
    db.execute(
        "UPDATE run SET completed = ?, state = ? WHERE id = ?",
        (int(workflow.is_completed()), state, i),
    )
    db.execute("COMMIT")
    return len(state.encode())


def _check(db: sqlite3.Connection, serializer: Any, n: int) -> None:
    """Every run complete (flag and restored state), every record closed by the script."""
    runs, done = db.execute("SELECT count(*), coalesce(sum(completed), 0) FROM run").fetchone()
    closed = db.execute("SELECT count(*) FROM record WHERE status = ?", (CLOSED,)).fetchone()[0]
    if (runs, done, closed) != (n, n, n):
        raise RuntimeError(f"{n} runs: {runs} stored, {done} complete, {closed} records closed")
    for record_id, state in db.execute("SELECT record_id, state FROM run"):
        workflow = serializer.deserialize_json(state)
        data = workflow.data
        if not workflow.is_completed() or data.get("record_status") != CLOSED:
            raise RuntimeError(f"run of {record_id} restored incomplete: {json.dumps(data)}")
        if data.get("record_id") != record_id or data.get("approved") is not True:
            raise RuntimeError(f"run of {record_id} lost its data: {json.dumps(data)}")


def run_spiff(n: int, workdir: Path) -> SpiffFigures:
    """Start n record-triggered runs, then complete them all, in SQLite under workdir."""
    path = workdir / DB_NAME
    db = _connect(path)
    for ddl in SCHEMA:
        db.execute(ddl)
    spec = _spec()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
    records = _Records(db)
    engine = PythonScriptEngine(environment=TaskDataEnvironment({"update_record": records.update}))
    sa_engine = create_engine(sqlite_url(str(path)))
    checkpointer = Checkpointer(sa_engine)
    checkpointer.start()
    try:
        t0 = time.perf_counter()
        for i in range(n):
            _start(db, spec, engine, serializer, i)
            checkpointer.committed()
        t1 = time.perf_counter()
        state_bytes = 0
        for i in range(n):
            state_bytes += _complete(db, engine, serializer, i)
            checkpointer.committed()
        t2 = time.perf_counter()
    finally:
        checkpointer.stop()
        sa_engine.dispose()
    try:
        _check(db, serializer, n)
    finally:
        db.close()
    total = t2 - t0
    return SpiffFigures(
        runs=n,
        seconds_start=t1 - t0,
        seconds_complete=t2 - t1,
        total_seconds=total,
        runs_per_second=n / total if total > 0 else float("inf"),
        bytes_per_run_state=state_bytes / n if n else 0.0,
    )


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 1000
    print(describe())
    with tempfile.TemporaryDirectory() as tmp:
        f = run_spiff(n, Path(tmp))
    print(
        f"SpiffWorkflow {PROCESS_ID}, {f.runs:,} runs (user task, then script task), SQLite"
        f" state per commit: start {f.seconds_start:.2f} s, complete {f.seconds_complete:.2f} s,"
        f" total {f.total_seconds:.2f} s = {f.runs_per_second:,.0f} runs/s;"
        f" {f.bytes_per_run_state:,.0f} bytes of state per run"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
