"""Streaming: PushTopic events fanned out over CometD, and replay from a big log.

A real ``workroute serve`` (SQLite file, plain HTTP on loopback), subscribers in a
separate process (bench/_subscribers.py: raw Bayeux long-polling, replay ids found by
a regex so the clients are not what is measured), the bench process publishing.

- **fan-out, end to end**: Account saves through the REST API (sObject collections of
  200) matched by a PushTopic; events/s committed, events/s delivered (all
  subscribers), publish-to-receipt latency, for 1, 10 and 100 subscribers.
- **fan-out, delivery alone**: a burst of events committed to the log at once; how
  fast the server delivers it to every subscriber (its hub encodes each event once).
- **replay**: one subscriber drains a log of 1,000,000 events with replay -2, against
  the floor of reading the same rows with bare SQL in the same run.

Aim (issue 7): 10,000 events/s delivered to 100 subscribers.
Knobs: BENCH_SUBSCRIBERS (e.g. "1,10,100"), BENCH_EVENTS, BENCH_BURST, BENCH_REPLAY_EVENTS.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from workroute.org import Org
from workroute.store.events import Event
from workroute.store.sql.database import sqlite_url
from workroute.testing.server import ServerProcess

ADMIN, PASSWORD = "bench@streaming.example.com", "Bench-pass-1"
SUBSCRIBERS = [int(x) for x in os.environ.get("BENCH_SUBSCRIBERS", "1,10,100").split(",")]
EVENTS = int(os.environ.get("BENCH_EVENTS", "10000"))
#: Ten replies per subscriber at the server's batch size (streaming.bayeux.MAX_BATCH):
#: fewer are too few to time, since the first reply starts each subscriber's clock.
BURST = int(os.environ.get("BENCH_BURST", "100000"))
REPLAY = int(os.environ.get("BENCH_REPLAY_EVENTS", "1000000"))
AIM = 10_000
BATCH = 200


def _prepare(db: Path) -> None:
    org = Org.open(database_url=sqlite_url(str(db)))
    org.initialize(admin_username=ADMIN, admin_password=PASSWORD)
    admin = org.admin_user_id()
    org.store.insert(
        "PushTopic",
        [
            {"Name": "Accounts", "Query": "SELECT Id, Name FROM Account", "ApiVersion": 62.0},
            {"Name": "Burst", "Query": "SELECT Id, Name FROM Contact", "ApiVersion": 62.0},
            {"Name": "Replay", "Query": "SELECT Id, Name FROM Lead", "ApiVersion": 62.0},
        ],
        user_id=admin,
    )
    _commit(org, "/topic/Replay", REPLAY)
    org.close()


def _commit(org: Org, channel: str, count: int) -> None:
    now = org.clock.now()
    created = now.isoformat()
    for start in range(0, count, 20_000):
        with org.db.write() as conn:
            org.events.publish(
                conn,
                [
                    Event(
                        topic=channel,
                        payload={
                            "event": {"type": "created", "createdDate": created},
                            "sobject": {"Id": f"00Q{i:015d}", "Name": f"lead {i}"},
                        },
                    )
                    for i in range(start, min(count, start + 20_000))
                ],
                now,
            )


def _subscribers(
    url: str, token: str, channel: str, count: int, events: int, replay: int
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench._subscribers",
            url,
            token,
            channel,
            str(count),
            str(events),
            str(replay),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise RuntimeError(f"subscribers did not start: {line!r}")
    return proc


def _result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=900)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    if not result["exact"]:
        raise RuntimeError(f"a subscriber missed or repeated events: {result['got'][:10]}")
    return result


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def _publish_rest(http: httpx.Client, url: str, events: int) -> float:
    """Account saves through sObject collections; returns the seconds it took."""
    started = time.perf_counter()
    for start in range(0, events, BATCH):
        sent = time.monotonic()
        records = [
            {"attributes": {"type": "Account"}, "Name": f"t{sent:.6f}-{i}"}
            for i in range(start, min(events, start + BATCH))
        ]
        resp = http.post(
            f"{url}/services/data/v62.0/composite/sobjects",
            json={"allOrNone": True, "records": records},
        )
        resp.raise_for_status()
    return time.perf_counter() - started


def _replay_floor(db: Path) -> float:
    """Rows/s of the bare SQL the replay needs: the same rows, 1,000 at a time."""
    conn = sqlite3.connect(str(db))
    started = time.perf_counter()
    after, total = 0, 0
    while True:
        rows = conn.execute(
            "SELECT id, topic, user_id, owner_id, payload, created_at FROM wr_event "
            "WHERE topic = ? AND id > ? ORDER BY id LIMIT 1000",
            ("/topic/Replay", after),
        ).fetchall()
        if not rows:
            break
        total += len(rows)
        after = rows[-1][0]
    conn.close()
    return total / (time.perf_counter() - started)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        _prepare(db)
        server = ServerProcess(db=db)
        server.start()
        try:
            http = httpx.Client(base_url=server.url, timeout=120)
            token = http.post(
                "/services/oauth2/token",
                data={"grant_type": "password", "username": ADMIN, "password": PASSWORD},
            ).json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            cometd = f"{server.url}/cometd/62.0"
            print(
                f"streaming: CometD over loopback, subscribers in another process, "
                f"{EVENTS:,} REST-saved events per run, bursts of {BURST:,}"
            )
            delivered_at_100 = 0.0
            for count in SUBSCRIBERS:
                proc = _subscribers(cometd, token, "/topic/Accounts", count, EVENTS, -1)
                seconds = _publish_rest(http, server.url, EVENTS)
                r = _result(proc)
                span = r["last"] - r["first"]
                lat = r["latencies"]
                print(
                    f"  {count:>3} subscriber(s), REST saves: published {EVENTS / seconds:,.0f}"
                    f" events/s; delivered {r['after_first'] / span:,.0f} events/s in all; "
                    f"latency p50 {_pct(lat, 0.5):.1f} ms, p99 {_pct(lat, 0.99):.1f} ms"
                )
                burst = _subscribers(cometd, token, "/topic/Burst", count, BURST, -1)
                org = Org.open(database_url=sqlite_url(str(db)))
                _commit(org, "/topic/Burst", BURST)
                org.close()
                b = _result(burst)
                span = b["last"] - b["first"]
                if span <= 0:
                    print(f"  {count:>3} subscriber(s), burst: all in one reply, too small to time")
                    continue
                rate = b["after_first"] / span  # the first replies start the clock
                print(
                    f"  {count:>3} subscriber(s), burst: delivered {rate:,.0f} events/s in all"
                    f" ({rate / count:,.0f} per subscriber)"
                )
                if count == 100:
                    delivered_at_100 = rate
            if delivered_at_100:
                each = delivered_at_100 / 100
                print(
                    f"  aim {AIM:,} events/s delivered to 100 subscribers: {delivered_at_100:,.0f}"
                    f" deliveries/s in all is {delivered_at_100 / AIM:.1f}x it; each subscriber "
                    f"keeps up with {each:,.0f} events/s, {each / AIM:.2f}x it"
                )

            replayer = _subscribers(cometd, token, "/topic/Replay", 1, REPLAY, -2)
            r = _result(replayer)
            if r["last"] <= r["first"]:
                print(f"  replay of {REPLAY:,} events (-2): all in one reply, too small to time")
            else:
                replayed = r["after_first"] / (r["last"] - r["first"])
                floor = _replay_floor(db)
                print(
                    f"  replay of {REPLAY:,} events (-2): {replayed:,.0f} events/s; bare SQL "
                    f"read of the same rows {floor:,.0f} rows/s; ratio {floor / replayed:.2f}x"
                )
            http.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
