"""A real HTTP server over the test org, and what a CometD client needs to use it.

The client is aiocometd-ng from PyPI, unmodified. What Salesforce users add to any
CometD client is here too, as they write it: an extension that puts the bearer token
on every request, and the replay extension (``ext.replay`` on subscribe, the last
replay id seen remembered per channel), as Salesforce's cometdReplayExtension does.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from aiocometd_ng.client import Client
from aiocometd_ng.extensions import AuthExtension, Extension

from workroute.api.app import create_app
from workroute.org import Org
from workroute.store.events import Event

Payload = list[dict[str, Any]]
Headers = dict[str, str]


class Bearer(AuthExtension):
    def __init__(self, token: str) -> None:
        self.token = token

    async def outgoing(self, payload: Payload, headers: Headers) -> None:
        headers["Authorization"] = f"Bearer {self.token}"

    async def incoming(self, payload: Payload, headers: Headers | None = None) -> None:
        return None

    async def authenticate(self) -> None:
        return None


@dataclass
class Replay(Extension):
    """Subscribe from ``positions[channel]`` (default ``start``); remember the last
    replay id received on each channel, so a new client resumes where this one was."""

    start: int = -1
    positions: dict[str, int] = field(default_factory=dict)

    async def outgoing(self, payload: Payload, headers: Headers) -> None:
        for m in payload:
            if m.get("channel") == "/meta/subscribe":
                channel = m["subscription"]
                m.setdefault("ext", {})["replay"] = {
                    channel: self.positions.get(channel, self.start)
                }

    async def incoming(self, payload: Payload, headers: Headers | None = None) -> None:
        for m in payload:
            event = (m.get("data") or {}).get("event") if isinstance(m.get("data"), dict) else None
            if isinstance(event, dict) and "replayId" in event:
                self.positions[m["channel"]] = int(event["replayId"])


@dataclass
class LiveServer:
    org: Org
    url: str

    def cometd(self, version: str = "62.0") -> str:
        return f"{self.url}/cometd/{version}"

    def client(self, token: str, replay: Replay | None = None) -> Client:
        extensions: list[Extension] = [replay] if replay is not None else []
        return Client(self.cometd(), auth=Bearer(token), extensions=extensions)

    def publish(self, channel: str, *names: str, owner_id: str | None = None) -> None:
        """Commit one PushTopic-shaped event per name on ``channel``."""
        now = self.org.clock.now()
        with self.org.db.write() as conn:
            self.org.events.publish(
                conn,
                [
                    Event(
                        topic=channel,
                        owner_id=owner_id,
                        payload={
                            "event": {"type": "created", "createdDate": now.isoformat()},
                            "sobject": {"Name": n},
                        },
                    )
                    for n in names
                ],
                now,
            )


@contextmanager
def live_server(org: Org) -> Iterator[LiveServer]:
    """``create_app(org)`` under uvicorn on a free loopback port, in this process (so
    the test reaches the org directly)."""
    # The socket listens before the server thread starts: connections made before
    # uvicorn accepts wait in the backlog, so nothing polls for start-up.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(org), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield LiveServer(org=org, url=f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


async def receive(client: Client, count: int, *, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The next ``count`` messages from the subscribed channels (a hang fails the test
    after ``timeout`` instead of blocking the suite)."""
    out: list[dict[str, Any]] = []

    async def take() -> None:
        async for message in client:
            out.append(message)
            if len(out) >= count:
                return

    await asyncio.wait_for(take(), timeout)
    return out


def names(messages: list[dict[str, Any]]) -> list[str]:
    return [m["data"]["sobject"]["Name"] for m in messages]


def replay_ids(messages: list[dict[str, Any]]) -> list[int]:
    return [int(m["data"]["event"]["replayId"]) for m in messages]
