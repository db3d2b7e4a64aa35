"""Streaming for one org: the hub, the CometD server, and their upkeep.

``maintain()`` runs beside the web server: it drops clients that stopped polling,
reads events other processes committed (writes of this process reach the hub at
once), and prunes the log past its retention window.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from workroute.auth.principal import Principal
from workroute.kernel.errors import InvalidSessionError
from workroute.streaming.bayeux import TIMEOUT_MS, BayeuxServer
from workroute.streaming.channels import Channels
from workroute.streaming.hub import EventHub

if TYPE_CHECKING:
    from workroute.org import Org

log = logging.getLogger(__name__)

PRUNE_EVERY = 3600.0  # seconds


class Streaming:
    def __init__(self, org: Org, *, timeout_ms: int = TIMEOUT_MS) -> None:
        self.org = org
        self.hub = EventHub(org.events)
        self.channels = Channels(org.store)
        self.bayeux = BayeuxServer(
            self.hub,
            authenticate=self.authenticate,
            resolve=self.channels.resolve,
            timeout_ms=timeout_ms,
        )

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise InvalidSessionError("Session expired or invalid")
        return self.org.auth.authenticate(token)

    def close(self) -> None:
        self.hub.close()

    async def maintain(self, *, every: float = 5.0) -> None:
        self.hub.bind(asyncio.get_running_loop())
        since_prune = PRUNE_EVERY
        while True:
            try:
                self.bayeux.sweep()
                await asyncio.to_thread(self.hub.pull)
                if since_prune >= PRUNE_EVERY:
                    since_prune = 0.0
                    removed = await asyncio.to_thread(self.org.events.prune, self.org.clock.now())
                    if removed:
                        log.info("pruned %d events past the retention window", removed)
            except Exception:  # upkeep must go on; the next round tries again
                log.exception("streaming upkeep failed")
            await asyncio.sleep(every)
            since_prune += every
