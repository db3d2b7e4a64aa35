from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workroute.kernel.clock import ManualClock


def test_manual_clock_moves_only_when_told() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    clock = ManualClock(start)
    assert clock.now() == start
    seen: list[datetime] = []
    clock.on_advance(seen.append)
    clock.advance(90)
    assert clock.now() == start + timedelta(seconds=90)
    assert seen == [start + timedelta(seconds=90)]


def test_manual_clock_refuses_to_go_back() -> None:
    clock = ManualClock(datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        ManualClock(datetime(2024, 1, 1))  # noqa: DTZ001 - naive on purpose


def test_resume_moves_a_manual_clock_forward_only_and_tells_no_listener() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = ManualClock(start)
    heard: list[datetime] = []
    clock.on_advance(heard.append)
    clock.resume(start - timedelta(hours=1))
    assert clock.now() == start
    clock.resume(start + timedelta(hours=2))
    assert clock.now() == start + timedelta(hours=2)
    assert heard == []
    with pytest.raises(ValueError):
        clock.resume(datetime(2026, 1, 2))  # noqa: DTZ001 - a naive time is the point
