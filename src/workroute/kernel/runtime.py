"""Process-wide settings of a long-running workroute process.

Python's cyclic garbage collector runs a young-generation pass every 700 net
allocations and, from time to time, a full pass over every object. A server holds an
org's engine state in memory (agents, waiting work, compiled rules, SQLAlchemy's
tables), so each full pass walks hundreds of thousands of objects that never become
garbage; the routing benchmark spent about a quarter of its time there. The server
therefore freezes what it loaded at start (the collector ignores it from then on) and
collects the young generation less often. Nearly everything workroute allocates per
request is freed by reference counting, not by the collector, so memory use barely
moves.
"""

from __future__ import annotations

import gc

#: Allocations between young-generation collections (Python's default is 700).
YOUNG_THRESHOLD = 50_000


def tune_gc() -> None:
    """Call once the process has loaded what it keeps (the org, its engines)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
