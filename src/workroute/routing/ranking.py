"""The routing orders over one pool key's agents, kept exact as agents change.

A ranking holds the agents of one pool key (a channel, a queue, a skill) in each
routing model's order, best first: by score (lower first: open items for
LeastActive, minus the free units for MostAvailable), then by when they became idle
(earlier first), then by user id. Each order is a bucket queue: scores are few and
mostly whole numbers (work weighs whole units, agents hold at most 100 items), so
each score has a list of (idle since, user id) kept sorted, and the scores in use
are kept sorted too.

An agent's change moves them from one bucket to another in each order: binary
searches and list insertions, in C. Reading an order never changes it, so the router
can look at as many candidates as it likes without putting any back.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

#: Where an agent stands: (LeastActive score, MostAvailable score, idle since).
Standing = tuple[float, float, float]
Bucket = list[tuple[float, str]]


class Ranking:
    """Orders are kept only for the models work has asked for (slot 0: LeastActive,
    slot 1: MostAvailable)."""

    __slots__ = ("_orders",)

    def __init__(self) -> None:
        #: Per slot: (score -> bucket, sorted scores), or None while nobody asked.
        self._orders: list[tuple[dict[float, Bucket], list[float]] | None] = [None, None]

    def has(self, slot: int) -> bool:
        return self._orders[slot] is not None

    def start(self, slot: int, agents: Iterator[tuple[str, Standing]]) -> None:
        """Begin keeping the order of ``slot`` over these agents."""
        buckets: dict[float, Bucket] = {}
        for user_id, standing in agents:
            buckets.setdefault(standing[slot], []).append((standing[2], user_id))
        for bucket in buckets.values():
            bucket.sort()
        self._orders[slot] = (buckets, sorted(buckets))

    def move(self, user_id: str, old: Standing | None, new: Standing | None) -> None:
        """The agent stood at ``old`` (None: not ranked) and stands at ``new`` now."""
        for slot, order in enumerate(self._orders):
            if order is None:
                continue
            buckets, scores = order
            if old is not None:
                score, entry = old[slot], (old[2], user_id)
                bucket = buckets.get(score)
                if bucket is not None:
                    i = bisect_left(bucket, entry)
                    if i < len(bucket) and bucket[i] == entry:
                        if len(bucket) == 1:
                            del buckets[score]
                            del scores[bisect_left(scores, score)]
                        else:
                            del bucket[i]
            if new is not None:
                score, entry = new[slot], (new[2], user_id)
                bucket = buckets.get(score)
                if bucket is None:
                    buckets[score] = [entry]
                    insort(scores, score)
                elif bucket[-1] < entry:
                    bucket.append(entry)  # the usual case: the agent received work just now
                else:
                    insort(bucket, entry)

    def buckets(self, slot: int) -> Iterator[tuple[float, Bucket]]:
        """(score, [(idle since, user id), ...]) of ``slot``'s order, best first. Read
        only, and the ranking must not change meanwhile."""
        order = self._orders[slot]
        if order is None:
            return
        buckets, scores = order
        for score in scores:
            yield score, buckets[score]

    def order(self, slot: int) -> Iterator[str]:
        """User ids in ``slot``'s order, best first."""
        for _score, bucket in self.buckets(slot):
            for _idle, user_id in bucket:
                yield user_id
