"""CometD (Bayeux 1.0) long-polling, as Salesforce's Streaming API speaks it.

The meta channels /meta/handshake, /meta/connect, /meta/subscribe, /meta/unsubscribe
and /meta/disconnect; client ids; advice; the ``replay`` extension (a subscribe's
``ext.replay`` maps each channel to -1 for new events only, -2 for every retained
event, or a replay id to resume after). Errors use Salesforce's ``code::message``
strings, so clients written against Salesforce read them unchanged.

Every request carries the REST API's bearer token. A handshake authenticates it; a
later request must carry the same session's user (a different token is checked
again), and a client id is bound to the user who made it.

A client holds its subscriptions' positions and nothing else: events come from the
shared hub (``streaming/hub.py``). A client that has not polled for ``expiry``
seconds is dropped by ``sweep()``; its next request is told to handshake again.

The transport-level timings (long-poll hold, expiry) are wall-clock waits of the
server, not domain time, so they use the event loop's monotonic clock.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from workroute.auth.principal import Principal
from workroute.kernel.errors import WorkrouteError
from workroute.streaming.hub import EventHub, HubEvent

TIMEOUT_MS = 110_000  # Salesforce's advice
#: Events in one response, across the client's subscriptions. The encoded events are
#: shared with the hub, so a big reply costs the join, not copies per subscriber;
#: per-reply overhead is what limits fan-out (bench streaming, 100 subscribers:
#: 1,000 gave 4,580 events/s each, 10,000 gave 11,150).
MAX_BATCH = 10_000
MAX_MESSAGES = 100  # messages in one request

Json = dict[str, Any]


class ChannelError(WorkrouteError):
    """A subscription cannot be made; ``message`` is the Bayeux error string."""

    code = "STREAMING_ERROR"
    http_status = 400


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    """What a subscriber may receive on a channel: events of records owned by
    ``owners`` (None = every record)."""

    channel: str
    owners: frozenset[str] | None = None

    def allows(self, e: HubEvent) -> bool:
        return self.owners is None or e.owner_id is None or e.owner_id in self.owners


#: (channel, principal) -> access, or ChannelError; runs in a worker thread.
ChannelResolver = Callable[[str, Principal], ChannelAccess]
#: bearer token (or None) -> principal, or WorkrouteError; runs in a worker thread.
Authenticator = Callable[[str | None], Principal]


@dataclass(eq=False)
class _Subscription:
    access: ChannelAccess
    position: int


@dataclass(eq=False)
class Client:
    id: str
    principal: Principal
    token: str | None
    subscriptions: dict[str, _Subscription] = field(default_factory=dict)
    connected_once: bool = False
    last_seen: float = 0.0
    polling: int = 0  # connects received: a newer one supersedes a held one
    holding: int = 0  # connects being held now
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    gone: bool = False


class BayeuxServer:
    def __init__(
        self,
        hub: EventHub,
        *,
        authenticate: Authenticator,
        resolve: ChannelResolver,
        timeout_ms: int = TIMEOUT_MS,
        expiry: float | None = None,
        monotonic: Callable[[], float] | None = None,
        run_sync: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        self.hub = hub
        self.authenticate = authenticate
        self.resolve = resolve
        self.timeout_ms = timeout_ms
        #: Seconds without a poll after which a client is dropped.
        self.expiry = expiry if expiry is not None else timeout_ms / 1000 + 10
        self._monotonic = monotonic
        self._run_sync = run_sync or asyncio.to_thread
        self.clients: dict[str, Client] = {}

    def now(self) -> float:
        if self._monotonic is not None:
            return self._monotonic()
        return asyncio.get_running_loop().time()

    # -- one HTTP request ------------------------------------------------------------

    async def handle(self, token: str | None, body: bytes) -> tuple[int, list[bytes]]:
        """Answer one POST: the HTTP status and the JSON messages of the reply."""
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return 400, [_dump({"successful": False, "error": "400::Invalid JSON"})]
        messages = parsed if isinstance(parsed, list) else [parsed]
        if (
            not messages
            or len(messages) > MAX_MESSAGES
            or not all(isinstance(m, dict) for m in messages)
        ):
            return 400, [_dump({"successful": False, "error": "400::Invalid message list"})]
        out: list[bytes] = []
        status = 200
        for m in messages:
            replies, code = await self._one(token, m)
            out.extend(replies)
            status = max(status, code)
        return status, out

    async def _one(self, token: str | None, m: Json) -> tuple[list[bytes], int]:
        channel = m.get("channel")
        base: Json = {"channel": channel}
        if "id" in m:
            base["id"] = m["id"]
        if not isinstance(channel, str) or not channel:
            return [_dump({**base, "successful": False, "error": "400::channel missing"})], 400
        if channel == "/meta/handshake":
            return await self._handshake(token, m, base)
        client = self.clients.get(str(m.get("clientId", "")))
        if client is None or client.gone:
            reply = {
                **base,
                "successful": False,
                "error": "403::Unknown client",
                "advice": {"reconnect": "handshake", "interval": 0},
            }
            return [_dump(reply)], 200
        if token != client.token:
            try:
                who = await self._run_sync(self.authenticate, token)
            except WorkrouteError:
                return [_dump(_denied(base))], 401
            if who.user_id != client.principal.user_id:
                return [_dump(_denied(base))], 401
            client.token = token
        client.last_seen = self.now()
        if channel == "/meta/connect":
            return await self._connect(client, m, base), 200
        if channel == "/meta/subscribe":
            return [await self._subscribe(client, m, base)], 200
        if channel == "/meta/unsubscribe":
            return [self._unsubscribe(client, m, base)], 200
        if channel == "/meta/disconnect":
            self._drop(client)
            return [_dump({**base, "clientId": client.id, "successful": True})], 200
        if channel.startswith("/meta/"):
            return [_dump({**base, "successful": False, "error": "400::Unknown channel"})], 200
        reply = {**base, "clientId": client.id, "successful": False, "error": "403::Publish denied"}
        return [_dump(reply)], 200

    # -- meta channels -----------------------------------------------------------------

    async def _handshake(self, token: str | None, m: Json, base: Json) -> tuple[list[bytes], int]:
        try:
            principal = await self._run_sync(self.authenticate, token)
        except WorkrouteError:
            return [_dump(_denied(base))], 401
        types = m.get("supportedConnectionTypes")
        if not isinstance(types, list) or "long-polling" not in types:
            reply = {
                **base,
                "successful": False,
                "error": "400::Unsupported connection type; this server speaks long-polling",
                "supportedConnectionTypes": ["long-polling"],
                "advice": {"reconnect": "none"},
            }
            return [_dump(reply)], 200
        client = Client(
            id=secrets.token_urlsafe(18), principal=principal, token=token, last_seen=self.now()
        )
        self.clients[client.id] = client
        reply = {
            **base,
            "version": "1.0",
            "minimumVersion": "1.0",
            "supportedConnectionTypes": ["long-polling"],
            "clientId": client.id,
            "successful": True,
            "advice": self._advice(),
            "ext": {"replay": True, "payload.format": True},
        }
        return [_dump(reply)], 200

    def _advice(self) -> Json:
        return {"interval": 0, "timeout": self.timeout_ms, "reconnect": "retry"}

    async def _subscribe(self, client: Client, m: Json, base: Json) -> bytes:
        channel = m.get("subscription")
        base = {**base, "clientId": client.id, "subscription": channel}
        if not isinstance(channel, str) or not channel.startswith("/") or "*" in channel:
            return _dump({**base, "successful": False, "error": "400::Invalid subscription"})
        ext = m.get("ext")
        replay = ext.get("replay") if isinstance(ext, dict) else None
        asked: object = -1
        if isinstance(replay, dict) and channel in replay:
            asked = replay[channel]
        try:
            access = await self._run_sync(self.resolve, channel, client.principal)
            position = self._position(asked)
        except ChannelError as exc:
            return _dump({**base, "successful": False, "error": exc.message})
        client.subscriptions[channel] = _Subscription(access=access, position=position)
        client.wakeup.set()
        return _dump({**base, "successful": True})

    def _position(self, asked: object) -> int:
        """The position a subscription starts after, checked against what the log has."""
        last = self.hub.last_id
        if asked == -1 and not isinstance(asked, bool):
            return last
        horizon = self.hub.log.horizon()
        if asked == -2 and not isinstance(asked, bool):
            return horizon
        if isinstance(asked, int) and not isinstance(asked, bool) and horizon <= asked <= last:
            return asked
        raise ChannelError(
            f"400::The replayId {{{asked}}} you provided was invalid.  Please provide a "
            "valid ID, -2 to replay all events, or -1 to replay only new events."
        )

    def _unsubscribe(self, client: Client, m: Json, base: Json) -> bytes:
        channel = m.get("subscription")
        base = {**base, "clientId": client.id, "subscription": channel}
        if not isinstance(channel, str) or client.subscriptions.pop(channel, None) is None:
            return _dump({**base, "successful": False, "error": "400::Not subscribed"})
        return _dump({**base, "successful": True})

    async def _connect(self, client: Client, m: Json, base: Json) -> list[bytes]:
        reply = {**base, "clientId": client.id, "successful": True}
        if m.get("connectionType") not in (None, "long-polling"):
            reply.update(successful=False, error="400::Unsupported connection type")
            return [_dump(reply)]
        first = not client.connected_once
        client.connected_once = True
        client.polling += 1
        mine = client.polling
        client.wakeup.set()  # a held connect of this client returns now
        deadline = self.now() + (0 if first else self.timeout_ms / 1000)
        client.holding += 1
        try:
            while True:
                seen = self.hub.last_id  # before looking, so nothing slips in between
                client.wakeup.clear()
                events = await self._deliverable(client)
                remaining = deadline - self.now()
                if events or remaining <= 0 or client.gone or client.polling != mine:
                    break
                await self._wait(client, remaining, seen)
        finally:
            client.holding -= 1
            client.last_seen = self.now()
        if client.gone:
            reply.update(successful=False, error="403::Unknown client")
            reply["advice"] = {"reconnect": "handshake", "interval": 0}
            return [_dump(reply)]
        if first:
            reply["advice"] = self._advice()
        return [*(e.bayeux() for e in events), _dump(reply)]

    async def _wait(self, client: Client, timeout: float, seen: int) -> None:
        hub_wait = asyncio.ensure_future(self.hub.wait(seen, timeout))
        poked = asyncio.ensure_future(client.wakeup.wait())
        try:
            await asyncio.wait({hub_wait, poked}, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            for f in (hub_wait, poked):
                f.cancel()

    async def _deliverable(self, client: Client) -> list[HubEvent]:
        """The client's next events across its subscriptions, oldest first, and its
        positions moved past everything examined."""
        out: list[HubEvent] = []
        for channel, sub in list(client.subscriptions.items()):
            room = MAX_BATCH - len(out)  # the whole reply is bounded, not each channel
            if room <= 0:
                break
            found = self.hub.after((channel,), sub.position, room)
            if found is None:  # older than memory: a replay from the log
                found = await self._run_sync(self.hub.replay, (channel,), sub.position, room)
            if not found:
                continue
            sub.position = found[-1].id
            out.extend(e for e in found if sub.access.allows(e))
        if len(client.subscriptions) > 1:
            out.sort(key=lambda e: e.id)
        return out

    # -- lifetime ------------------------------------------------------------------------

    def _drop(self, client: Client) -> None:
        client.gone = True
        client.subscriptions.clear()
        client.wakeup.set()
        self.clients.pop(client.id, None)

    def sweep(self) -> int:
        """Drop the clients that stopped polling; returns how many."""
        now = self.now()
        stale = [
            c for c in self.clients.values() if not c.holding and now - c.last_seen > self.expiry
        ]
        for c in stale:
            self._drop(c)
        return len(stale)


def _denied(base: Json) -> Json:
    return {
        **base,
        "successful": False,
        "error": "403::Handshake denied",
        "advice": {"reconnect": "none"},
        "ext": {"sfdc": {"failureReason": "401::Authentication invalid"}},
    }


def _dump(message: Json) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()
