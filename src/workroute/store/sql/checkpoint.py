"""WAL checkpoints off the writer's path (SQLite).

In WAL mode SQLite copies the log back into the database file — a checkpoint — when
the log passes ``wal_autocheckpoint`` pages, and it does so inside the commit that
crossed the line: that writer waits for the copy. Replaying the routing benchmark's
writes showed a quarter of SQLite's time there, and it lands on single commits, the
latency outliers.

A server therefore runs a :class:`Checkpointer`: a thread woken after commits that
makes a PASSIVE checkpoint on its own connection (it never blocks the writer or
readers, and runs while the writer's thread holds the GIL, since SQLite releases it).
The connections' own threshold is raised (``SQLITE_AUTOCHECKPOINT_PAGES``), so a
process without the thread — a CLI command, a test — still checkpoints, only later.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: Commits between two background checkpoints: a checkpoint syncs the database file,
#: so it is not worth making for every small commit.
COMMITS_PER_CHECKPOINT = 8


class Checkpointer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._commits = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Checkpoints made (for tests and the log).
        self.runs = 0

    def committed(self) -> None:
        """A commit listener: every few commits, wake the thread."""
        self._commits += 1
        if self._commits >= COMMITS_PER_CHECKPOINT:
            self._commits = 0
            self._wake.set()

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, pages in the log, pages checkpointed)."""
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        self.runs += 1
        return int(row[0]), int(row[1]), int(row[2])

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Make a last checkpoint and end the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        """Checkpoint on every wake-up; the one :meth:`stop` gives is the last."""
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                self.checkpoint()
            except Exception:  # the next commit wakes it again
                log.exception("WAL checkpoint failed")
            if self._stop.is_set():
                return
