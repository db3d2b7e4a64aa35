"""A manual clock resumes where the last server left it (``serve --clock manual``)."""

from __future__ import annotations

from datetime import timedelta

from workroute.kernel.clock import ManualClock
from workroute.org import Org
from workroute.server.manual_clock import keep


def test_a_reopened_org_resumes_its_manual_clock_from_the_last_move(
    database_url: str, org: Org, clock: ManualClock
) -> None:
    keep(org, clock)
    clock.advance(timedelta(hours=5))
    moved = clock.now()
    # A new server process: its manual clock starts earlier (at the real time).
    fresh = ManualClock(moved - timedelta(hours=5))
    again = Org.open(database_url=database_url, clock=fresh)
    try:
        keep(again, fresh)
        assert fresh.now() == moved
        fresh.advance(60)
    finally:
        again.close()
    later = ManualClock(moved - timedelta(days=1))
    third = Org.open(database_url=database_url, clock=later)
    try:
        keep(third, later)
        assert later.now() == moved + timedelta(seconds=60)
    finally:
        third.close()
