"""The SpiffWorkflow peer of the orchestration benchmark does the work it is timed on:
every run reaches the end and the script task closes every record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench._spiff import DB_NAME, SpiffFigures, _spec, run_spiff


def test_the_process_is_a_user_task_then_a_script_task() -> None:
    specs = _spec().task_specs
    assert type(specs["Review"]).__name__ == "UserTask"
    assert specs["Review"].manual
    assert type(specs["Update"]).__name__ == "ScriptTask"
    assert [s.name for s in specs["Review"].outputs] == ["Update"]


def test_every_run_completes_and_closes_its_record(tmp_path: Path) -> None:
    figures = run_spiff(5, tmp_path)

    assert isinstance(figures, SpiffFigures)
    assert figures.runs == 5
    assert figures.bytes_per_run_state > 0
    db = sqlite3.connect(tmp_path / DB_NAME)
    try:
        runs = db.execute("SELECT record_id, completed FROM run ORDER BY id").fetchall()
        records = dict(db.execute("SELECT id, status FROM record").fetchall())
    finally:
        db.close()
    assert len(runs) == 5
    assert all(completed == 1 for _, completed in runs)
    assert records == {record_id: "Closed" for record_id, _ in runs}
