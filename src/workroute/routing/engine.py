"""The Omni-Channel engine: the router's memory, kept in step with the database.

Everything that changes routing state — a record entering a queue, an agent logging
in, accepting, declining, closing, a push timeout — runs inside a write transaction
and changes the in-memory pool and backlog as it writes its rows. Writes are
serialized (one writer per process), so memory and database move together; if a
transaction or savepoint rolls back, memory is rebuilt from the database before the
engine is used again.

After each commit that left work or agents changed, a routing pass runs
(:meth:`OmniEngine.route`): the router decides, and every decision of the pass is
written in one transaction — AgentWork, the PendingServiceRouting update, the load
row, the push-timeout timer, the trace and the console events.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from workroute.routing.agents import Agent, AgentPool, Load
from workroute.routing.backlog import Backlog, Pending, SkillNeed
from workroute.routing.model import RoutingModel, RoutingType
from workroute.routing.router import Router
from workroute.routing.setup import SETUP_OBJECTS, RoutingSetup, load_setup
from workroute.store.events import Event, EventLog
from workroute.store.hooks import Hook, SaveContext
from workroute.store.store import Store
from workroute.store.timers import Timer, Timers, TimerSpec

log = logging.getLogger(__name__)

PUSH_TIMEOUT = "omni.push_timeout"
DROP_SKILLS = "omni.drop_skills"
#: Decisions written per transaction in a routing pass.
PASS_SIZE = 500


@dataclass(slots=True)
class OmniLimits:
    """The org's Omni-Channel limits; work beyond them goes to the routing
    configuration's overflow assignee instead of failing (None = no limit)."""

    max_queued_items: int | None = None
    max_pending_requests: int | None = None


class OmniEngine:
    def __init__(self, store: Store, timers: Timers, events: EventLog) -> None:
        self.store = store
        self.db = store.db
        self.timers = timers
        self.events = events
        self.clock = store.clock
        self.limits = OmniLimits()
        self.pool = AgentPool()
        self.backlog = Backlog()
        self.router = Router(self.pool, self.backlog)
        self._setup: RoutingSetup | None = None
        self._setup_stale = True
        self._broken = True
        self._wanted = False
        #: While True, commits do not start routing passes (bulk loads, benchmarks).
        self.paused = False
        self._system_user: str | None = None
        self._routed: frozenset[str] | None = None
        self._spare_ids: list[str] = []
        #: The PendingServiceRouting save hooks (``entry.install``): the engine's own
        #: pushes do what they would and stand in for them.
        self.psr_hooks: tuple[Hook, ...] = ()
        self._local = threading.local()
        timers.handle(PUSH_TIMEOUT, self._on_push_timeout)
        timers.handle(DROP_SKILLS, self._on_drop_skills)
        self.db.commit_listeners.append(self._after_commit)

    # -- state -------------------------------------------------------------------

    @property
    def setup(self) -> RoutingSetup:
        """The routing setup, reloaded first if a save changed it. Reloading re-files
        every agent, so it happens only in a write transaction: a reader on another
        thread takes the write lock for it (:meth:`refresh`)."""
        if (self._setup is None or self._setup_stale) and not self.db.in_write():
            self.refresh()
        if self._setup is None or self._setup_stale:
            self._setup_stale = False
            self._setup = load_setup(self._find, self.clock.now())
            for agent in list(self.pool.agents.values()):
                self._index_agent(agent)
        return self._setup

    def _find(self, object_name: str) -> list[dict[str, object]]:
        return self.store.find(object_name)

    def ensure(self, conn: Connection) -> None:
        """Make memory agree with the database (first use, or after a rollback)."""
        self.db.on_rollback(self._mark_broken)
        if self._broken:
            self._rebuild(conn)
        _ = self.setup

    def _mark_stale(self) -> None:
        self._setup_stale = True
        self._routed = None

    def _mark_broken(self) -> None:
        self._broken = True
        self._routed = None

    def setup_changed(self, ctx: SaveContext) -> None:
        if ctx.obj.key in SETUP_OBJECTS:
            self._setup_stale = True
            self.db.on_rollback(self._mark_stale)  # a setup read meanwhile saw the change
            self._wanted = True
            if ctx.obj.key == "servicechannel":
                self._routed = None

    def routed_objects(self) -> frozenset[str]:
        """Lower-case names of the objects a channel routes. Read apart from the setup
        so the save hook of every other object costs a set lookup, not a setup load."""
        if self._routed is None:
            self._routed = frozenset(
                str(r.get("RelatedEntity") or "").lower() for r in self.store.find("ServiceChannel")
            )
        return self._routed

    def refresh(self) -> None:
        """Bring memory up to date before a read (a rebuild takes the write lock)."""
        if self._broken or self._setup_stale:
            with self.db.write() as conn:
                self.ensure(conn)

    def _rebuild(self, conn: Connection) -> None:
        from workroute.routing.restore import restore

        self._setup_stale = True
        self.pool = AgentPool()
        self.backlog = Backlog()
        self.router = Router(self.pool, self.backlog)
        self._broken = False
        restore(self, conn)
        self._wanted = True

    def new_agent(self, user_id: str, status_id: str, presence_id: str, idle: datetime) -> Agent:
        """An agent not yet indexed: :meth:`put_agent` gives it its channels, capacity,
        skills and queues from the setup."""
        return Agent(
            user_id=user_id,
            status_id=status_id,
            channel_ids=frozenset(),
            capacity=0.0,
            presence_id=presence_id,
            idle_since=idle,
        )

    def _index_agent(self, agent: Agent) -> None:
        setup = self._setup or self.setup
        status = setup.statuses.get(agent.status_id)
        agent.channel_ids = status.channel_ids if status else frozenset()
        agent.capacity = float(setup.presence_for(agent.user_id).capacity)
        agent.skills = dict(setup.agent_skills.get(agent.user_id, {}))
        agent.queues = frozenset(
            q.id
            for q in setup.queues.values()
            if agent.user_id in q.members and q.config_id in setup.configs
        )
        self.pool.put(agent)

    def put_agent(self, agent: Agent) -> None:
        self._index_agent(agent)
        self._wanted = True

    # -- internal saves ------------------------------------------------------------

    @contextmanager
    def internal(self) -> Iterator[None]:
        """Saves the engine makes itself: its hooks let them through, and the store
        trusts their values (see ``Store.trusted``)."""
        depth = getattr(self._local, "internal", 0)
        self._local.internal = depth + 1
        try:
            with self.store.trusted():
                yield
        finally:
            self._local.internal = depth

    @property
    def is_internal(self) -> bool:
        return bool(getattr(self._local, "internal", 0))

    def publish(self, conn: Connection, events: Sequence[Event]) -> None:
        self.events.publish(conn, events, self.clock.now())

    def want_routing(self) -> None:
        self._wanted = True

    # -- the routing pass ------------------------------------------------------------

    def _after_commit(self) -> None:
        if self.paused or not self._wanted or getattr(self._local, "routing", False):
            return
        self._local.routing = True
        try:
            while self._wanted:
                self._wanted = False
                if self.route() >= PASS_SIZE:
                    self._wanted = True
        except Exception:
            log.exception("routing pass failed")
        finally:
            self._local.routing = False

    def route(self, *, limit: int = PASS_SIZE) -> int:
        """One routing pass; returns the number of items pushed to agents."""
        with self.db.write() as conn:
            # Nothing could be placed (no setup reload, no writes) unless agents are
            # online and work is ready, or the setup changed while work waits for
            # agents it may now qualify (reloading it re-files them, waking lanes).
            if not self._broken and not (
                self.pool.agents
                and (self.backlog.has_ready() or (self._setup_stale and self.backlog.has_stuck()))
            ):
                return 0
            self.ensure(conn)
            now = self.clock.now()

            def assign(item: Pending, agent: Agent) -> None:
                work_id = self.new_work_id()
                item.work_id = work_id
                load = Load(
                    work_id=work_id,
                    work_item_id=item.work_item_id,
                    channel_id=item.channel_id,
                    weight=item.weight,
                    percent=item.percent,
                )
                agent.take(load, now)  # the pool re-ranks them (AgentPool)

            decisions = self.router.route(assign, limit=limit)
            if decisions:
                from workroute.routing.effects import write_assignments

                write_assignments(self, conn, decisions, now)
            return len(decisions)

    def new_work_id(self) -> str:
        """An AgentWork id, from a stock taken 256 at a time (unused ones are gaps)."""
        if not self._spare_ids:
            self._spare_ids = self.store.ids.allocate("0Bz", 256)[::-1]
        return self._spare_ids.pop()

    # -- work the engine holds -------------------------------------------------------

    def system_user_id(self) -> str:
        """Who the engine's own records are created by (the first administrator)."""
        if self._system_user is None:
            from workroute.auth.principal import Permission

            profiles = [
                str(p["Id"])
                for p in self.store.find("Profile")
                if p.get(Permission.MODIFY_ALL_DATA.value)
            ]
            users = [u for u in self.store.find("User") if str(u.get("ProfileId")) in profiles]
            self._system_user = str(min(users, key=lambda u: str(u["CreatedDate"]))["Id"])
        return self._system_user

    def release(self, conn: Connection, user_id: str, work_id: str) -> Load | None:
        """Free the capacity ``work_id`` held (memory and row)."""
        t = self.db.system["omni_load"]
        conn.execute(delete(t).where(t.c.work_id == work_id))
        agent = self.pool.get(user_id)
        if agent is None:
            return None
        load = agent.loads.pop(work_id, None)
        self.pool.touch(agent)
        self._wanted = True
        return load

    def mark_opened(self, conn: Connection, user_id: str, work_id: str) -> None:
        t = self.db.system["omni_load"]
        conn.execute(update(t).where(t.c.work_id == work_id).values(opened=True))
        agent = self.pool.get(user_id)
        if agent is not None and work_id in agent.loads:
            agent.loads[work_id].opened = True

    def item_state(self, conn: Connection, item: Pending) -> None:
        """Keep what an item remembers between decisions (declines, dropped skills)."""
        t = self.db.system["omni_item"]
        conn.execute(delete(t).where(t.c.psr_id == item.psr_id))
        if item.declined or item.dropped_groups or item.last_declined:
            conn.execute(
                insert(t).values(
                    psr_id=item.psr_id,
                    dropped_groups=item.dropped_groups,
                    declined=json.dumps(
                        {"declined": sorted(item.declined), "last": item.last_declined}
                    ),
                )
            )

    def forget_item(self, conn: Connection, psr_id: str) -> Pending | None:
        t = self.db.system["omni_item"]
        conn.execute(delete(t).where(t.c.psr_id == psr_id))
        self.timers.cancel_keys(conn, [drop_key(psr_id)])
        return self.backlog.remove(psr_id)

    def requeue(self, conn: Connection, item: Pending, *, decliner: str | None) -> None:
        """Put an item back in line after a decline, a timeout or an agent going away.
        It keeps its age; additional skills are reset (seed 003 / issue)."""
        item.work_id = None
        if decliner:
            item.declined.add(decliner)
            item.last_declined = decliner
        item.dropped_groups = 0
        self.backlog.requeue(item)
        self.item_state(conn, item)
        self.schedule_drop(conn, item)
        self._wanted = True

    def schedule_drop(self, conn: Connection, item: Pending) -> None:
        if not item.drop_timeout or item.dropped_groups >= len(item.drop_groups()):
            self.timers.cancel_keys(conn, [drop_key(item.psr_id)])
            return
        now = self.clock.now()
        self.timers.schedule(
            conn,
            kind=DROP_SKILLS,
            key=drop_key(item.psr_id),
            due_at=now + timedelta(seconds=item.drop_timeout),
            payload={"psrId": item.psr_id, "dropped": item.dropped_groups},
            now=now,
            object_name="PendingServiceRouting",
            record_id=item.psr_id,
        )

    # -- timers ----------------------------------------------------------------------

    def _on_push_timeout(self, timer: Timer) -> None:
        from workroute.routing.console import push_timed_out

        push_timed_out(self, str(timer.payload["workId"]))

    def _on_drop_skills(self, timer: Timer) -> None:
        with self.db.write() as conn:
            self.ensure(conn)
            item = self.backlog.get(str(timer.payload["psrId"]))
            if item is None or item.work_id is not None:
                return
            item.dropped_groups += 1
            self.backlog.requeue(item)
            self.item_state(conn, item)
            self.schedule_drop(conn, item)
            self._wanted = True


def drop_key(psr_id: str) -> str:
    return f"omni:drop:{psr_id}"


def push_key(work_id: str) -> str:
    return f"omni:push:{work_id}"


def push_timer(work_id: str, seconds: int, now: datetime) -> TimerSpec:
    """The push-timeout timer of work offered to an agent (fires DeclinedOnPushTimeout)."""
    return TimerSpec(
        kind=PUSH_TIMEOUT,
        key=push_key(work_id),
        due_at=now + timedelta(seconds=seconds),
        payload={"workId": work_id},
        object_name="AgentWork",
        record_id=work_id,
    )


def skill_needs(rows: Sequence[dict[str, Any]]) -> tuple[SkillNeed, ...]:
    return tuple(
        SkillNeed(
            skill_id=str(r["SkillId"]),
            level=float(r.get("SkillLevel") or 0),
            additional=bool(r.get("IsAdditionalSkill")),
            priority=int(r.get("SkillPriority") or 0),
            requirement_id=str(r["Id"]),
        )
        for r in sorted(rows, key=lambda r: str(r["Id"]))
    )


def pending_from_row(
    engine: OmniEngine, psr: dict[str, Any], skills: tuple[SkillNeed, ...], seq: int
) -> Pending:
    """The router's view of a PendingServiceRouting row."""
    queue_id = psr.get("GroupId") or psr.get("QueueId")
    requested = psr.get("CustomRequestedDateTime") or psr["CreatedDate"]
    assert isinstance(requested, datetime)
    return Pending(
        psr_id=str(psr["Id"]),
        work_item_id=str(psr["WorkItemId"]),
        channel_id=str(psr["ServiceChannelId"]),
        routing_type=RoutingType(str(psr.get("RoutingType") or RoutingType.QUEUE_BASED.value)),
        model=RoutingModel(str(psr.get("RoutingModel") or RoutingModel.MOST_AVAILABLE.value)),
        queue_id=str(queue_id) if queue_id else None,
        priority=int(psr.get("RoutingPriority") or 0),
        secondary=(
            None
            if psr.get("SecondaryRoutingPriority") is None
            else int(psr["SecondaryRoutingPriority"])
        ),
        requested_at=requested,
        seq=seq,
        weight=float(psr.get("CapacityWeight") or 0),
        percent=float(psr.get("CapacityPercentage") or 0),
        push_timeout=int(psr.get("PushTimeout") or 0),
        preferred_user_id=str(psr["PreferredUserId"]) if psr.get("PreferredUserId") else None,
        preferred_required=bool(psr.get("IsPreferredUserRequired")),
        skills=skills,
        drop_timeout=(
            None
            if psr.get("DropAdditionalSkillsTimeout") is None
            else int(psr["DropAdditionalSkillsTimeout"])
        ),
        is_transfer=bool(psr.get("IsTransfer")),
        serial=int(psr.get("Serial") or 0),
        initiated=next(
            (f for f in ("IsOwnerChangeInitiated", "IsStatusChangeInitiated") if psr.get(f)), None
        ),
    )


def load_rows(conn: Connection, engine: OmniEngine, user_id: str) -> list[dict[str, Any]]:
    t = engine.db.system["omni_load"]
    return [dict(r._mapping) for r in conn.execute(select(t).where(t.c.user_id == user_id))]
