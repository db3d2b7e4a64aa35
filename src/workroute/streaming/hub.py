"""The hub: the newest part of the event log in memory, shared by every subscriber.

Subscribers hold only a position per channel, never a queue of their own: an event is
read from the database once (right after its transaction commits), encoded once, and
every subscriber that wants it slices the same list. So a slow or vanished subscriber
costs nothing but its positions, and a hundred subscribers cost one read per commit.

Positions older than what the hub keeps are read from the log itself (a replay); the
hub keeps the newest ``capacity`` events. Waiting for news is an asyncio wait woken
from the committing thread, so long-polls hold no thread.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import json
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from workroute.store.events import EventLog, LoggedEvent

DEFAULT_CAPACITY = 200_000


@dataclass(slots=True, eq=False)
class HubEvent:
    """One logged event and its encodings, computed once for all subscribers."""

    id: int
    topic: str
    user_id: str | None
    owner_id: str | None
    payload: dict[str, Any]
    created: str
    _bayeux: bytes | None = field(default=None, repr=False)

    @classmethod
    def of(cls, e: LoggedEvent) -> HubEvent:
        return cls(
            id=e.id,
            topic=e.topic,
            user_id=e.user_id,
            owner_id=e.owner_id,
            payload=e.payload,
            created=e.created_at.isoformat(),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "replayId": self.id,
            "topic": self.topic,
            "userId": self.user_id,
            "payload": self.payload,
            "createdDate": self.created,
        }

    def sse(self) -> bytes:
        """The Server-Sent Events frame of this event (``id`` is the replay id, so a
        reconnecting EventSource resumes with Last-Event-ID)."""
        name = self.topic.rsplit("/", 1)[-1]
        data = json.dumps(self.to_json(), separators=(",", ":"))
        return f"id: {self.id}\nevent: {name}\ndata: {data}\n\n".encode()

    def bayeux(self) -> bytes:
        """The Bayeux message delivering this event on its channel (Salesforce's shape:
        the replay id goes into ``data.event``)."""
        if self._bayeux is None:
            data = dict(self.payload)
            event = data.get("event")
            if isinstance(event, dict):
                data["event"] = {**event, "replayId": self.id}
            else:
                data = {"event": {"replayId": self.id, "createdDate": self.created}, **data}
            message = {"channel": self.topic, "data": data}
            self._bayeux = json.dumps(message, separators=(",", ":")).encode()
        return self._bayeux


class EventHub:
    def __init__(self, log: EventLog, *, capacity: int = DEFAULT_CAPACITY) -> None:
        self.log = log
        self.capacity = capacity
        self._lock = threading.Lock()
        self._by_topic: dict[str, list[HubEvent]] = {}
        self._ids: dict[str, list[int]] = {}
        self._count = 0
        #: Everything after this position is in memory.
        self.floor = log.last_id()
        #: The newest position read from the log.
        self.last_id = self.floor
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self.listeners: list[Callable[[], None]] = []
        log.listeners.append(self.pull)

    @property
    def size(self) -> int:
        """How many events are in memory."""
        return self._count

    def close(self) -> None:
        if self.pull in self.log.listeners:
            self.log.listeners.remove(self.pull)

    # -- filling (committing threads) --------------------------------------------

    def pull(self) -> None:
        """Read what was committed since the last pull (called after each commit that
        published events, in commit order)."""
        with self._lock:
            after = self.last_id
            while True:
                found = self.log.read(after=after, limit=5000)
                if not found:
                    break
                for e in found:
                    self._add(HubEvent.of(e))
                after = found[-1].id
                if len(found) < 5000:
                    break
            if after == self.last_id:
                return
            self.last_id = after
            if self._count > self.capacity:
                self._trim()
        self._notify()

    def _add(self, e: HubEvent) -> None:
        events = self._by_topic.get(e.topic)
        if events is None:
            events = self._by_topic[e.topic] = []
            self._ids[e.topic] = []
        events.append(e)
        self._ids[e.topic].append(e.id)
        self._count += 1

    def _trim(self) -> None:
        """Drop the oldest events down to three quarters of the capacity (so trimming
        happens once per many commits, not at each)."""
        keep = self.capacity * 3 // 4
        newest_first = heapq.nlargest(
            keep + 1, (e.id for events in self._by_topic.values() for e in events)
        )
        floor = newest_first[-1] if len(newest_first) > keep else self.floor
        for topic in list(self._by_topic):
            ids = self._ids[topic]
            cut = bisect.bisect_right(ids, floor)
            if cut:
                del ids[:cut]
                del self._by_topic[topic][:cut]
            if not ids:
                del self._ids[topic]
                del self._by_topic[topic]
        self._count = sum(len(v) for v in self._ids.values())
        self.floor = max(self.floor, floor)

    # -- waking (the event loop) -------------------------------------------------

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wake waiters on ``loop`` (the server's event loop) after each pull."""
        self._loop = loop
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        for listener in self.listeners:
            listener()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        changed = self._changed
        self._changed = asyncio.Event()
        if changed is not None:
            changed.set()

    async def wait(self, after: int, timeout: float) -> bool:
        """Wait until something past ``after`` is committed or ``timeout`` passes;
        whether something is there."""
        if self.last_id > after:
            return True
        if self._loop is not asyncio.get_running_loop():
            self.bind(asyncio.get_running_loop())
        changed = self._changed
        assert changed is not None
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except TimeoutError:
            pass
        return self.last_id > after

    # -- reading ------------------------------------------------------------------

    def after(self, topics: Collection[str], position: int, limit: int) -> list[HubEvent] | None:
        """Up to ``limit`` events of ``topics`` after ``position``, oldest first; None
        when ``position`` is older than what the hub holds (read the log instead)."""
        if position < self.floor:
            return None
        with self._lock:
            slices: list[list[HubEvent]] = []
            for topic in topics:
                ids = self._ids.get(topic)
                if ids:
                    start = bisect.bisect_right(ids, position)
                    if start < len(ids):
                        slices.append(self._by_topic[topic][start : start + limit])
        if not slices:
            return []
        if len(slices) == 1:
            return slices[0]
        merged: Iterable[HubEvent] = heapq.merge(*slices, key=lambda e: e.id)
        out: list[HubEvent] = []
        for e in merged:
            out.append(e)
            if len(out) >= limit:
                break
        return out

    def topics(self, prefix: str) -> list[str]:
        """The channels in memory whose names start with ``prefix``."""
        with self._lock:
            return [t for t in self._ids if t.startswith(prefix)]

    def replay(self, topics: Collection[str], position: int, limit: int) -> list[HubEvent]:
        """Events after ``position`` wherever they are: memory, else the log."""
        found = self.after(topics, position, limit)
        if found is not None:
            return found
        return [HubEvent.of(e) for e in self.log.read(after=position, topics=topics, limit=limit)]
