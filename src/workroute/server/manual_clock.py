"""A manual clock that survives restarts (``workroute serve --clock manual``).

Tests and demos move a manual clock forward through the API; the timers, outbox items
and events written then carry the moved time. A server restarted after a crash starts
its manual clock at the real time again, which would put that work hours into the
future. So each move is remembered in ``wr_meta`` and a new server resumes from it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select

from workroute.kernel.clock import ManualClock
from workroute.org import Org

KEY = "manual_clock_now"


def remember(org: Org, now: datetime) -> None:
    meta = org.db.system["meta"]
    with org.db.write() as conn:
        conn.execute(delete(meta).where(meta.c.key == KEY))
        conn.execute(insert(meta).values(key=KEY, value=now.isoformat()))


def keep(org: Org, clock: ManualClock) -> None:
    """Resume ``clock`` from the last time remembered and remember every move from now."""
    meta = org.db.system["meta"]
    with org.db.read() as conn:
        stored = conn.execute(select(meta.c.value).where(meta.c.key == KEY)).scalar()
    if stored:
        clock.resume(datetime.fromisoformat(str(stored)))
    clock.on_advance(lambda now: remember(org, now))
