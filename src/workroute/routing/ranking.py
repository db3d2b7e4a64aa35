"""The routing orders over one pool key's agents, kept exact as agents change.

A ranking holds the agents of one pool key (a channel, a queue, a skill) in each
routing model's order, best first: by score (lower first: open items for
LeastActive, minus the free units for MostAvailable), then by when they became idle
(earlier first), then by user id. Each order is a bucket queue: scores are few and
mostly whole numbers (work weighs whole units, agents hold at most 100 items), so
each score has a list of entries (idle since, user id, stamp) kept sorted, and the
scores in use are kept sorted too.

Every move of an agent gets a new stamp from the pool and adds an entry with it; the
entry the agent leaves stays where it is, dead, since only the entries holding the
agent's current stamp are theirs. Agents move on every assignment, to the end of
their new bucket (they received work just now, so they are idle the shortest), which
makes a move one append per order. Dead entries are dropped when a read passes them,
and all of an order's at once when a move finds they outnumber the live ones.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Generator, Iterator, Mapping
from typing import Protocol

#: Where an agent stands: (LeastActive score, MostAvailable score, idle since).
Standing = tuple[float, float, float]
Entry = tuple[float, str, int]  # (idle since, user id, stamp)
Bucket = list[Entry]


class Stamped(Protocol):
    """An agent as a ranking sees them: the stamp of their current entries."""

    @property
    def stamp(self) -> int: ...


def _place_from_end(bucket: Bucket, entry: Entry) -> int:
    """Where ``entry`` goes in ``bucket``, searched from the end (galloping back, then
    a binary search): what joins a bucket mostly belongs near its end, which is what
    is in the cache."""
    hi, step = len(bucket) - 1, 1  # bucket[hi] > entry
    lo = hi - 1
    while lo >= 0 and bucket[lo] > entry:
        hi, step = lo, step * 2
        lo = hi - step
    return bisect_left(bucket, entry, max(lo, 0), hi)


class _Order:
    """One model's order. Agents given work in the same routing pass all become idle
    at its time and join buckets as a run of equal times, in no particular order of
    user id: such a run is appended as it comes and sorted once, when the bucket is
    next read or the next pass adds to it (``unsorted``: where the run starts)."""

    __slots__ = ("buckets", "dead", "scores", "size", "unsorted")

    def __init__(self) -> None:
        self.buckets: dict[float, Bucket] = {}
        self.scores: list[float] = []
        self.unsorted: dict[float, int] = {}
        self.size = 0
        self.dead = 0

    def add(self, score: float, entry: Entry) -> None:
        self.size += 1
        bucket = self.buckets.get(score)
        if bucket is None:
            self.buckets[score] = [entry]
            insort(self.scores, score)
            return
        last = bucket[-1][0]
        if entry[0] == last:
            if score not in self.unsorted:  # the run is the bucket's equal times at its end
                self.unsorted[score] = bisect_left(bucket, (last,))
            bucket.append(entry)
            return
        self.sort(score)
        if entry[0] > last:
            bucket.append(entry)  # the agent received work just now, after the others
        else:
            bucket.insert(_place_from_end(bucket, entry), entry)

    def sort(self, score: float) -> None:
        """Sort the bucket's run of equal times, if it has one."""
        start = self.unsorted.pop(score, None)
        if start is not None:
            bucket = self.buckets[score]
            bucket[start:] = sorted(bucket[start:])

    def drop_bucket(self, score: float) -> None:
        bucket = self.buckets.pop(score)
        self.unsorted.pop(score, None)
        self.size -= len(bucket)
        self.dead -= len(bucket)
        del self.scores[bisect_left(self.scores, score)]


def _swamped(order: _Order) -> bool:
    return order.dead > order.size - order.dead + 64


class Ranking:
    """Orders are kept only for the models work has asked for (slot 0: LeastActive,
    slot 1: MostAvailable)."""

    __slots__ = ("_orders",)

    def __init__(self) -> None:
        self._orders: list[_Order | None] = [None, None]

    def has(self, slot: int) -> bool:
        return self._orders[slot] is not None

    def start(self, slot: int, agents: Iterator[tuple[str, Standing, int]]) -> None:
        """Keep the order of ``slot`` over these (user id, standing, stamp), afresh."""
        order = _Order()
        buckets = order.buckets
        for user_id, standing, stamp in agents:
            buckets.setdefault(standing[slot], []).append((standing[2], user_id, stamp))
            order.size += 1
        for bucket in buckets.values():
            bucket.sort()
        order.scores = sorted(buckets)
        self._orders[slot] = order

    def move(self, user_id: str, left: bool, new: Standing | None, stamp: int) -> bool:
        """The agent's ranked entry (if ``left``) is dead; they stand at ``new`` now
        (None: not ranked), under ``stamp``. Returns whether dead entries swamp an
        order now (then :meth:`compact` it)."""
        swamped = False
        for slot, order in enumerate(self._orders):
            if order is None:
                continue
            if left:
                order.dead += 1
                swamped = swamped or _swamped(order)
            if new is not None:
                order.add(new[slot], (new[2], user_id, stamp))
        return swamped

    def compact(self, agents: Mapping[str, Stamped]) -> None:
        """Drop the dead entries of every order they swamp. Moves call it, so an order
        work no longer reads stays the size of its live entries."""
        for order in self._orders:
            if order is None or not _swamped(order):
                continue
            for score in list(order.buckets):
                order.sort(score)
                live = [
                    e
                    for e in order.buckets[score]
                    if (a := agents.get(e[1])) is not None and a.stamp == e[2]
                ]
                if live:
                    order.buckets[score] = live
                else:
                    del order.buckets[score]
            order.scores = sorted(order.buckets)
            order.size = sum(len(b) for b in order.buckets.values())
            order.dead = 0

    def candidates(
        self, slot: int, agents: Mapping[str, Stamped]
    ) -> Generator[tuple[float, str], None, None]:
        """(score, user id) of the live entries of ``slot``'s order, best first (an
        entry is live while ``agents`` holds its user with its stamp). The dead
        entries passed on the way are dropped; nothing else may change the ranking
        while this runs."""
        order = self._orders[slot]
        if order is None:
            return
        buckets, scores, get = order.buckets, order.scores, agents.get
        empty: list[float] = []
        try:
            for score in scores:
                if score in order.unsorted:
                    order.sort(score)
                bucket = buckets[score]
                kept: list[Entry] = []
                visited = 0
                try:
                    for entry in bucket:
                        visited += 1
                        agent = get(entry[1])
                        if agent is None or agent.stamp != entry[2]:
                            continue
                        kept.append(entry)
                        yield score, entry[1]
                finally:
                    dead = visited - len(kept)
                    if dead and visited == len(bucket) and not kept:
                        empty.append(score)
                    elif dead:
                        bucket[:visited] = kept
                        order.size -= dead
                        order.dead -= dead
        finally:
            for score in empty:
                order.drop_bucket(score)
