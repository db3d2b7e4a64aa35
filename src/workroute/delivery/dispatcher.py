"""The dispatcher: runs due timers and delivers the outbox, after commit.

In a server it is a background thread woken by every commit (and by the next due
time on the system clock). With a manual clock it also runs inside
``ManualClock.advance``, so that when an advance returns, everything due by the new
time has run: timers first (they may add to the outbox), then deliveries.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from workroute.delivery.outbox import Outbox
from workroute.kernel.clock import Clock, ManualClock
from workroute.store.timers import Timers

log = logging.getLogger(__name__)

#: How long the thread sleeps at most on the system clock between looks at the queue.
IDLE_WAIT_SECONDS = 5.0
#: Rounds of timers-then-outbox per run: a timer may queue an email that is due now.
MAX_ROUNDS = 10


class Dispatcher:
    def __init__(self, *, clock: Clock, timers: Timers, outbox: Outbox) -> None:
        self.clock = clock
        self.timers = timers
        self.outbox = outbox
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if isinstance(clock, ManualClock):
            clock.on_advance(self._on_advance)

    def wake(self) -> None:
        self._wake.set()

    def run_due(self, now: datetime | None = None) -> int:
        """Run timers and deliveries due by ``now`` (the clock's time); returns the
        number of timers run plus items attempted."""
        with self._lock:
            total = 0
            for _ in range(MAX_ROUNDS):
                at = now or self.clock.now()
                done = self.timers.run_due(at) + self.outbox.deliver_due(at)
                total += done
                if not done:
                    break
            return total

    def _on_advance(self, now: datetime) -> None:
        self.run_due(now)

    # -- the background thread -----------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="workroute-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and stop listening to the clock (the org is closing)."""
        if isinstance(self.clock, ManualClock):
            self.clock.off_advance(self._on_advance)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_due()
            except Exception:
                log.exception("dispatcher run failed")
            self._wake.wait(self._idle_wait())

    def _idle_wait(self) -> float | None:
        if isinstance(self.clock, ManualClock):
            return None  # nothing becomes due until the clock is advanced or a commit
        due = [d for d in (self.timers.next_due(), self.outbox.next_due()) if d is not None]
        if not due:
            return IDLE_WAIT_SECONDS
        seconds = (min(due) - self.clock.now()).total_seconds()
        return max(0.0, min(seconds, IDLE_WAIT_SECONDS))
