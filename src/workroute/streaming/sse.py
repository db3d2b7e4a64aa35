"""Server-Sent Events of the Omni-Channel console events, for the web console.

A stream carries the events of a set of users (an agent: their own; a supervisor:
also those of the agents their configuration shows), each framed with its replay id
as the SSE ``id``, so a browser's EventSource that reconnects sends Last-Event-ID and
resumes after the last event it got: nothing lost, nothing twice. A comment line is
sent when nothing happened for ``heartbeat`` seconds, so proxies and the client can
tell a quiet stream from a dead one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from workroute.streaming.hub import EventHub, HubEvent

CONSOLE_PREFIX = "omni/"
#: The routing backlog changed (routing/effects.py BACKLOG_CHANGED).
BACKLOG_TOPIC = "omni/backlogChanged"
BATCH = 500


@dataclass(frozen=True, slots=True)
class ConsoleFeed:
    """``backlog``: also pass on ``backlogChanged`` (a PendingServiceRouting was
    created, updated or deleted; the event carries nothing else), so a supervisor's
    view can refresh its backlog without seeing work outside their configuration."""

    hub: EventHub
    users: frozenset[str]
    heartbeat: float = 15.0
    retry_ms: int = 2000
    backlog: bool = False

    async def stream(self, after: int) -> AsyncIterator[bytes]:
        """SSE frames of the feed's events after position ``after``, until cancelled."""
        yield f"retry: {self.retry_ms}\n\n".encode()
        position = after
        while True:
            seen = self.hub.last_id
            events = await self._next(position)
            if events:
                position = events[-1].id
                frames = [e.sse() for e in events if self._wanted(e)]
                if frames:
                    yield b"".join(frames)
                continue
            position = max(position, seen)
            if not await self.hub.wait(seen, self.heartbeat):
                yield b": keep-alive\n\n"

    def _wanted(self, e: HubEvent) -> bool:
        if e.user_id is None:
            return self.backlog and e.topic == BACKLOG_TOPIC
        return e.user_id in self.users

    async def _next(self, position: int) -> list[HubEvent]:
        topics = self.hub.topics(CONSOLE_PREFIX)
        found = self.hub.after(topics, position, BATCH)
        if found is not None:
            return found
        logged = await asyncio.to_thread(
            self.hub.log.read,
            after=position,
            topic_prefix=CONSOLE_PREFIX,
            user_ids=None if self.backlog else self.users,
            limit=BATCH,
        )
        return [HubEvent.of(e) for e in logged]
