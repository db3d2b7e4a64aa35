"""Raw Bayeux long-polling subscribers for bench/streaming.py, run in their own process.

``python -m bench._subscribers URL TOKEN CHANNEL SUBSCRIBERS EVENTS REPLAY`` handshakes
and subscribes every subscriber (replay option REPLAY), prints ``ready``, then polls
until each has EVENTS events, and prints one JSON line: when the first and last event
arrived (monotonic clock, the same across processes on Linux), publish-to-receipt
latencies sampled from the Name of the last event of each reply, and whether every
subscriber got every event once in replay-id order. Replies are not JSON-decoded: a
regex over the bytes finds the replay ids, and each subscriber has an HTTP client of
its own, so the clients cost as little as this single process allows.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sys
import time
from dataclasses import dataclass, field

import httpx

_REPLAY_ID = re.compile(rb'"replayId":(\d+)')
_SENT = re.compile(rb'"Name":"t(\d+\.\d+)-')


@dataclass
class _Sub:
    client_id: str = ""
    got: int = 0
    last_id: int = 0
    in_order: bool = True
    first: float = 0.0
    #: Events in the first reply: they arrived at ``first``, so a rate over the span
    #: from ``first`` to ``last`` must not count them.
    first_n: int = 0
    last: float = 0.0
    latencies: list[float] = field(default_factory=list)


async def _post(http: httpx.AsyncClient, url: str, messages: list[dict[str, object]]) -> bytes:
    resp = await http.post(url, json=messages, timeout=130)
    resp.raise_for_status()
    return resp.content


async def _subscribe(
    http: httpx.AsyncClient, url: str, channel: str, replay: int, sub: _Sub
) -> None:
    hs = json.loads(
        await _post(
            http,
            url,
            [
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                }
            ],
        )
    )[0]
    sub.client_id = hs["clientId"]
    await _post(
        http,
        url,
        [{"channel": "/meta/connect", "clientId": sub.client_id, "connectionType": "long-polling"}],
    )
    reply = json.loads(
        await _post(
            http,
            url,
            [
                {
                    "channel": "/meta/subscribe",
                    "clientId": sub.client_id,
                    "subscription": channel,
                    "ext": {"replay": {channel: replay}},
                }
            ],
        )
    )[0]
    if not reply.get("successful"):
        raise RuntimeError(f"subscribe failed: {reply}")


async def _poll(http: httpx.AsyncClient, url: str, sub: _Sub, events: int) -> None:
    connect: list[dict[str, object]] = [
        {"channel": "/meta/connect", "clientId": sub.client_id, "connectionType": "long-polling"}
    ]
    while sub.got < events:
        body = await _post(http, url, connect)
        now = time.monotonic()
        ids = [int(x) for x in _REPLAY_ID.findall(body)]
        if not ids:
            continue
        if not sub.got:
            sub.first = now
            sub.first_n = len(ids)
        sub.last = now
        if ids[0] <= sub.last_id or any(b <= a for a, b in itertools.pairwise(ids)):
            sub.in_order = False
        sub.last_id = ids[-1]
        sub.got += len(ids)
        sent = _SENT.findall(body[-400:])
        if sent:
            sub.latencies.append(now - float(sent[-1]))


async def _main(url: str, token: str, channel: str, count: int, events: int, replay: int) -> None:
    # A client (and so a connection pool) per subscriber: one shared pool of 200
    # connections scans all of them for every request, and that scan, not the server,
    # was what the fan-out figures measured at 100 subscribers.
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    clients = [httpx.AsyncClient(headers=headers, limits=limits) for _ in range(count)]
    try:
        subs = [_Sub() for _ in range(count)]
        await asyncio.gather(
            *(_subscribe(h, url, channel, replay, s) for h, s in zip(clients, subs, strict=True))
        )
        print("ready", flush=True)
        await asyncio.gather(
            *(_poll(h, url, s, events) for h, s in zip(clients, subs, strict=True))
        )
    finally:
        for h in clients:
            await h.aclose()
    result = {
        "first": min(s.first for s in subs),
        "last": max(s.last for s in subs),
        "after_first": sum(s.got - s.first_n for s in subs),
        "exact": all(s.in_order and s.got == events for s in subs),
        "got": [s.got for s in subs],
        "latencies": sorted(x for s in subs for x in s.latencies),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    u, t, ch, n, e, r = sys.argv[1:7]
    asyncio.run(_main(u, t, ch, int(n), int(e), int(r)))
