"""The only place workroute reads the time.

Everything else takes a :class:`Clock` (or an ``at: datetime``), so tests and the
simulator move time instead of sleeping. Times are aware UTC datetimes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime:
        """The current time, an aware UTC datetime."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; listeners run after each move.

    ``advance`` calls every listener (timer runners register here) so that all work
    due by the new time has run before it returns.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[datetime], None]] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def on_advance(self, listener: Callable[[datetime], None]) -> None:
        self._listeners.append(listener)

    def off_advance(self, listener: Callable[[datetime], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def advance(self, delta: timedelta | float) -> datetime:
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += delta
            now = self._now
        for listener in list(self._listeners):
            listener(now)
        return now

    def set(self, at: datetime) -> datetime:
        current = self.now()
        return self.advance(at - current)

    def resume(self, at: datetime) -> None:
        """Start from ``at`` if it is later than now, telling no listener: a restarted
        server's manual clock goes on from where the last one was moved to, so the
        timers set at that time are not put back into the future."""
        if at.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        with self._lock:
            self._now = max(self._now, at.astimezone(UTC))


def utc_now_naive(clock: Clock) -> datetime:
    """The clock's time as naive UTC, the form stored in datetime columns."""
    return clock.now().astimezone(UTC).replace(tzinfo=None)


def to_utc(value: datetime) -> datetime:
    """An aware datetime in UTC; naive values are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
