"""Omni-Channel routing at contact-centre scale, on the SQLite file.

Setup (not timed): BENCH_AGENTS agents (default 10,000) with capacity 10, each
holding 5 of 50 skills at levels 1-10, all online; 20 queues of 500 members.

1. Queue-based mix, one item at a time: a case is given to a queue and the commit
   routes it. Decision latency: the routing pass that places it, writes and commits
   (p50/p99); and the whole save-and-route as the client sees it.
2. Skills-based, in bulk: BENCH_ITEMS requests (default 100,000) needing one or two
   skills at levels 1-5 arrive while routing is paused; then routing passes run until
   nothing more can be placed. Figures: durable decisions per second, the pass time
   per decision (p50/p99 over passes).
3. The floor: every INSERT/UPDATE/DELETE the passes of (2) sent to SQLite, replayed as
   bare SQL on a copy of the database taken before them, in the same transactions.
   The ratio says what the router, the save pipeline and Python cost above the writes.
4. Steady state with the backlog of (2) still waiting: BENCH_STEADY (default 1,000)
   more cases join the queues, whatever fits is routed, then BENCH_STEADY times an
   agent accepts and closes an item and the pass that follows routes the best waiting
   item to them: decision latency with a large backlog.

As in ``workroute serve``, once the setup is loaded the garbage collector is tuned
(``kernel.runtime.tune_gc``) and WAL checkpoints move to a background thread
(``store.sql.checkpoint``); the floor's connection has the org's SQLite settings
(``SQLITE_PRAGMAS``) and a checkpointer of its own.

Aims (issue 5): >= 5,000 decisions/s, p99 decision latency < 5 ms, ratio < 3.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from workroute.kernel.clock import ManualClock
from workroute.kernel.runtime import tune_gc
from workroute.org import Org
from workroute.routing import console
from workroute.store.sql.checkpoint import Checkpointer
from workroute.store.sql.database import SQLITE_PRAGMAS, sqlite_url

AGENTS = int(os.environ.get("BENCH_AGENTS", "10000"))
ITEMS = int(os.environ.get("BENCH_ITEMS", "100000"))
SKILLS = 50
QUEUES = 20
STREAM = int(os.environ.get("BENCH_STREAM", "1000"))
STEADY = int(os.environ.get("BENCH_STEADY", "1000"))
BATCH = 1000


def _bulk(org: Org, name: str, rows: list[dict[str, Any]], user: str) -> list[str]:
    ids: list[str] = []
    for i in range(0, len(rows), BATCH):
        ids += org.store.insert(name, rows[i : i + BATCH], user_id=user)
    return ids


def _setup(org: Org, admin: str, rnd: random.Random) -> dict[str, Any]:
    s = org.store
    channel = s.insert(
        "ServiceChannel",
        [{"DeveloperName": "Cases", "MasterLabel": "Cases", "RelatedEntity": "Case"}],
        user_id=admin,
    )[0]
    status = s.insert(
        "ServicePresenceStatus", [{"DeveloperName": "Available", "MasterLabel": "Available"}],
        user_id=admin,
    )[0]  # fmt: skip
    s.insert("ServiceChannelStatus", [{"ServiceChannelId": channel,
             "ServicePresenceStatusId": status}], user_id=admin)  # fmt: skip
    profile = str(s.find("Profile", Name="Standard User")[0]["Id"])
    config = s.insert("PresenceUserConfig", [{"DeveloperName": "Agents", "MasterLabel": "Agents",
                      "Capacity": 10}], user_id=admin)[0]  # fmt: skip
    s.insert("PresenceUserConfigProfile", [{"PresenceUserConfigId": config,
             "ProfileId": profile}], user_id=admin)  # fmt: skip
    skills = _bulk(org, "Skill", [{"DeveloperName": f"S{i}", "MasterLabel": f"S{i}"}
                                  for i in range(SKILLS)], admin)  # fmt: skip
    users = _bulk(
        org,
        "User",
        [
            {"Username": f"agent{i}@bench.example.com", "LastName": f"Agent{i}",
             "Email": f"agent{i}@bench.example.com", "Alias": f"a{i}"[:8], "ProfileId": profile,
             "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
             "LanguageLocaleKey": "en_US"}
            for i in range(AGENTS)
        ],
        admin,
    )  # fmt: skip
    resources = _bulk(
        org,
        "ServiceResource",
        [{"Name": f"R{i}", "RelatedRecordId": u, "IsActive": True, "ResourceType": "A"}
         for i, u in enumerate(users)],
        admin,
    )  # fmt: skip
    start = datetime(2020, 1, 1, tzinfo=UTC)
    _bulk(
        org,
        "ServiceResourceSkill",
        [
            {"ServiceResourceId": r, "SkillId": sk, "SkillLevel": rnd.randint(1, 10),
             "EffectiveStartDate": start}
            for r in resources
            for sk in rnd.sample(skills, 5)
        ],
        admin,
    )  # fmt: skip
    queues = []
    for q in range(QUEUES):
        model = "LeastActive" if q % 2 else "MostAvailable"
        cfg = s.insert("QueueRoutingConfig", [{"DeveloperName": f"C{q}", "MasterLabel": f"C{q}",
                       "RoutingModel": model, "RoutingPriority": q % 3, "CapacityWeight": 1}],
                       user_id=admin)[0]  # fmt: skip
        qid = s.insert("Group", [{"Name": f"Q{q}", "DeveloperName": f"Q{q}", "Type": "Queue",
                       "QueueRoutingConfigId": cfg}], user_id=admin)[0]  # fmt: skip
        s.insert("QueueSobject", [{"QueueId": qid, "SobjectType": "Case"}], user_id=admin)
        members = users[q * (AGENTS // QUEUES) : (q + 1) * (AGENTS // QUEUES)]
        _bulk(org, "GroupMember", [{"GroupId": qid, "UserOrGroupId": u} for u in members], admin)
        queues.append(qid)
    holding = s.insert("Group", [{"Name": "Holding", "DeveloperName": "Holding",
                       "Type": "Queue"}], user_id=admin)[0]  # fmt: skip
    t0 = time.perf_counter()
    for u in users:
        console.login(org.omni, u, status)
    login_s = time.perf_counter() - t0
    return {"channel": channel, "skills": skills, "queues": queues, "holding": holding,
            "login_s": login_s}  # fmt: skip


class PassTimer:
    """Times every routing pass (the decision, its writes and its commit)."""

    def __init__(self, org: Org) -> None:
        self.passes: list[tuple[float, int]] = []
        self._route = org.omni.route

        def timed(**kwargs: Any) -> int:
            t0 = time.perf_counter()
            n = self._route(**kwargs)
            if n:
                self.passes.append((time.perf_counter() - t0, n))
            return n

        org.omni.route = timed  # type: ignore[method-assign]


def _stream(
    org: Org, admin: str, ctx: dict[str, Any], rnd: random.Random
) -> tuple[list[float], list[float]]:
    """One case at a time: (client latencies, decision latencies)."""
    timer = PassTimer(org)
    latencies = []
    for i in range(STREAM):
        t0 = time.perf_counter()
        org.store.insert("Case", [{"Subject": f"Stream {i}",
                         "OwnerId": rnd.choice(ctx["queues"])}], user_id=admin)  # fmt: skip
        latencies.append(time.perf_counter() - t0)
    org.omni.route = timer._route  # type: ignore[method-assign]
    return latencies, [s for s, _ in timer.passes]


def _steady(
    org: Org, admin: str, ctx: dict[str, Any], rnd: random.Random
) -> tuple[list[float], int]:
    """With the bulk backlog waiting and STEADY more cases in the queues, agents close
    work one at a time, and each close routes the best waiting item to them. Returns
    the decision latencies (the pass after each close) and how many were routed."""
    engine = org.omni
    engine.paused = True
    for start in range(0, STEADY, BATCH):
        rows = [{"Subject": f"Steady {start + i}", "OwnerId": rnd.choice(ctx["queues"])}
                for i in range(min(BATCH, STEADY - start))]  # fmt: skip
        org.store.insert("Case", rows, user_id=admin)
    engine.paused = False
    while engine.route():  # what fits now (not timed): the centre is full after this
        pass
    timer = PassTimer(org)
    agents = list(engine.pool.agents.values())
    for _ in range(STEADY):
        agent = rnd.choice(agents)
        while not agent.loads:
            agent = rnd.choice(agents)
        work_id = next(iter(agent.loads))
        console.accept(engine, agent.user_id, work_id)
        console.close(engine, agent.user_id, work_id)
    org.omni.route = timer._route  # type: ignore[method-assign]
    return [s for s, _ in timer.passes], sum(n for _, n in timer.passes)


def _arrive(org: Org, admin: str, ctx: dict[str, Any], rnd: random.Random) -> None:
    org.omni.paused = True
    for start in range(0, ITEMS, BATCH):
        n = min(BATCH, ITEMS - start)
        rows = [{"Subject": f"Bulk {start + i}", "OwnerId": ctx["holding"]} for i in range(n)]
        cases = org.store.insert("Case", rows, user_id=admin)
        psrs = org.store.insert(
            "PendingServiceRouting",
            [{"WorkItemId": c, "ServiceChannelId": ctx["channel"], "RoutingType": "SkillsBased",
              "RoutingModel": "MostAvailable" if i % 2 else "LeastActive",
              "RoutingPriority": rnd.randint(1, 3), "CapacityWeight": 1}
             for i, c in enumerate(cases)],
            user_id=admin,
            from_api=True,
        )  # fmt: skip
        needs = []
        for p in psrs:
            for sk in rnd.sample(ctx["skills"], rnd.choice((1, 1, 2))):
                needs.append({"RelatedRecordId": p, "SkillId": sk, "SkillLevel": rnd.randint(1, 5)})
        org.store.insert("SkillRequirement", needs, user_id=admin, from_api=True)
        org.store.update("PendingServiceRouting", [{"Id": p, "IsReadyForRouting": True}
                         for p in psrs], user_id=admin, from_api=True)  # fmt: skip


class Capture:
    """The write statements sent to SQLite, grouped by transaction, recorded by the
    driver's own cursor (a ``sqlite3`` connection factory installed for the timed
    passes): listening to SQLAlchemy's cursor events would move every statement
    of the store off its direct driver path (``bulk.driver_execute``) and time
    SQLAlchemy's execution instead."""

    def __init__(self) -> None:
        self.on = False
        self.txns: list[list[tuple[str, Any, bool]]] = [[]]

    def statement(self, sql: str, params: Any, many: bool) -> None:
        if self.on and sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.txns[-1].append((sql, params, many))

    def commit(self) -> None:
        if self.on and self.txns[-1]:
            self.txns.append([])

    @contextmanager
    def recording(self, org: Org) -> Iterator[None]:
        """Every connection of ``org`` opened in the block records to this capture."""
        capture = self

        class Cursor(sqlite3.Cursor):
            def execute(self, sql: str, params: Any = (), /) -> Cursor:
                capture.statement(sql, params, False)
                return super().execute(sql, params)

            def executemany(self, sql: str, params: Any, /) -> Cursor:
                params = list(params)
                capture.statement(sql, params, True)
                return super().executemany(sql, params)

        class Connection(sqlite3.Connection):
            def cursor(self, factory: Any = Cursor) -> Any:
                return super().cursor(factory)

            def commit(self) -> None:
                super().commit()
                capture.commit()

        dbapi: Any = org.db.engine.dialect.loaded_dbapi  # sqlite3.dbapi2, as pysqlite loads it
        real = dbapi.connect

        def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            kwargs.setdefault("factory", Connection)
            conn: sqlite3.Connection = real(*args, **kwargs)
            return conn

        org.db.engine.dispose()  # the pooled connections were opened without it
        dbapi.connect = connect
        self.on = True
        try:
            yield
        finally:
            self.on = False
            dbapi.connect = real
            org.db.engine.dispose()


def _replay(path: Path, txns: list[list[tuple[str, Any, bool]]]) -> tuple[float, int]:
    """The writes as bare SQL, with the org's connection settings and, as the org has
    while routing, a background checkpointer woken by the commits."""
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        db.execute(pragma)
    engine = create_engine(sqlite_url(str(path)))
    checkpointer = Checkpointer(engine)
    checkpointer.start()
    rows = 0
    t0 = time.perf_counter()
    for txn in txns:
        if not txn:
            continue
        db.execute("BEGIN IMMEDIATE")
        for sql, params, many in txn:
            cur = db.executemany(sql, params) if many else db.execute(sql, params)
            rows += max(cur.rowcount, 0)
        db.execute("COMMIT")
        checkpointer.committed()
    elapsed = time.perf_counter() - t0
    checkpointer.stop()
    engine.dispose()
    db.close()
    return elapsed, rows


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main() -> None:
    rnd = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "org.db"
        org = Org.open(database_url=f"sqlite+pysqlite:///{path}",
                       clock=ManualClock(datetime(2024, 1, 1, tzinfo=UTC)))  # fmt: skip
        admin = org.initialize(admin_username="bench@example.com", admin_password="Bench-pass-1")
        t0 = time.perf_counter()
        ctx = _setup(org, admin, rnd)
        setup_s = time.perf_counter() - t0
        tune_gc()  # as `workroute serve` does once the org is loaded
        if org.db.checkpointer is not None and not os.environ.get("BENCH_NO_CHECKPOINTER"):
            org.db.checkpointer.start()  # as `workroute serve` does
        stream, stream_decisions = _stream(org, admin, ctx, rnd)
        t0 = time.perf_counter()
        _arrive(org, admin, ctx, rnd)
        arrive_s = time.perf_counter() - t0
        waiting = len(org.omni.backlog)
        shutil.copy(path, Path(tmp) / "floor.db")
        for suffix in ("-wal", "-shm"):
            if Path(str(path) + suffix).exists():
                shutil.copy(str(path) + suffix, str(Path(tmp) / "floor.db") + suffix)
        capture = Capture()
        passes: list[tuple[float, int]] = []
        with capture.recording(org):
            t0 = time.perf_counter()
            while True:  # routing stays paused: only these passes run, each timed alone
                p0 = time.perf_counter()
                n = org.omni.route()
                if not n:
                    break
                passes.append((time.perf_counter() - p0, n))
            total_s = time.perf_counter() - t0
        decided = sum(n for _, n in passes)
        floor_s, floor_rows = _replay(Path(tmp) / "floor.db", capture.txns)
        steady, steady_routed = _steady(org, admin, ctx, rnd)
        backlog = len(org.omni.backlog)
        org.close()
    per_decision = [s / n for s, n in passes]
    print(f"routing: {AGENTS:,} agents (capacity 10), {SKILLS} skills, {QUEUES} queues; "
          f"setup {setup_s:.1f} s, {AGENTS:,} logins {ctx['login_s']:.1f} s")  # fmt: skip
    print(f"  queue-based, one arrival at a time ({STREAM:,} cases): decision (routing pass "
          f"and its commit) p50 {_pct(stream_decisions, 0.5) * 1e3:.2f} ms, "
          f"p99 {_pct(stream_decisions, 0.99) * 1e3:.2f} ms (aim: p99 < 5 ms); "
          f"as the client sees it (case save + commit + routing) p50 "
          f"{_pct(stream, 0.5) * 1e3:.2f} ms, p99 {_pct(stream, 0.99) * 1e3:.2f} ms")  # fmt: skip
    print(f"  skills-based in bulk: {ITEMS:,} requests arrived in {arrive_s:.1f} s; "
          f"{waiting:,} waiting")  # fmt: skip
    print(f"  routed {decided:,} in {total_s:.2f} s over {len(passes)} passes: "
          f"{decided / total_s:,.0f} durable decisions/s (aim: >= 5,000)")  # fmt: skip
    if per_decision:
        print(f"  pass time per decision: p50 {_pct(per_decision, 0.5) * 1e3:.3f} ms, "
              f"p99 {_pct(per_decision, 0.99) * 1e3:.3f} ms")  # fmt: skip
    print(f"  floor (the same {floor_rows:,} row writes as bare SQL, same transactions): "
          f"{floor_s:.2f} s; ratio {total_s / floor_s:.2f}x (aim: < 3)")  # fmt: skip
    if steady:
        p50, p99 = _pct(steady, 0.5) * 1e3, _pct(steady, 0.99) * 1e3
        print(f"  steady state, {backlog:,} still waiting: {STEADY:,} closes, each routing "
              f"the best waiting item to the agent ({steady_routed:,} routed): decision "
              f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")  # fmt: skip
