"""The router's indexes against the rules written out plainly.

The router keeps lanes of waiting work (ready, or stuck until an agent who could help
may take more) and per-key rankings of agents moved on every change of load. None
of that may change a decision. Here random sequences of
logins, logouts, releases, declines, skill drops and new work are applied to a
:class:`Router`; before every routing pass the state is copied, and the same pass is
made by brute force over the copy from the rules in ``router.py``'s docstring:
items in routing order, each to the best eligible agent. Both must make exactly the
same decisions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from workroute.routing.agents import EPSILON, MAX_OPEN_ITEMS, Agent, AgentPool, Load
from workroute.routing.backlog import Backlog, Pending, SkillNeed
from workroute.routing.model import RoutingModel, RoutingType
from workroute.routing.router import Router

CHANNELS = ("ch1", "ch2")
QUEUES = ("q1", "q2", "q3")
SKILLS = tuple(f"s{i}" for i in range(6))
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class AgentCopy:
    user_id: str
    channels: frozenset[str]
    queues: frozenset[str]
    skills: dict[str, float]
    capacity: float
    loads: list[tuple[float, float]]
    idle: float

    def used(self) -> float:
        w = sum(x for x, _ in self.loads)
        p = sum(y for _, y in self.loads)
        return w + p * self.capacity / 100.0

    def fits(self, weight: float, percent: float) -> bool:
        w = sum(x for x, _ in self.loads)
        p = sum(y for _, y in self.loads)
        c = self.capacity
        return len(self.loads) < MAX_OPEN_ITEMS and w + weight + (p + percent) * c / 100.0 <= (
            c + EPSILON
        )


def eligible(item: Pending, a: AgentCopy) -> bool:
    if item.channel_id not in a.channels or not a.fits(item.weight, item.percent):
        return False
    if item.routing_type is RoutingType.QUEUE_BASED:
        return item.queue_id in a.queues
    return all(a.skills.get(n.skill_id, -1.0) >= n.level for n in item.active_skills())


def best_of(item: Pending, candidates: list[AgentCopy]) -> AgentCopy:
    if item.model is RoutingModel.LEAST_ACTIVE:
        return min(candidates, key=lambda a: (len(a.loads), a.idle, a.user_id))
    return min(candidates, key=lambda a: (-(a.capacity - a.used()), a.idle, a.user_id))


def brute_force_pass(
    agents: dict[str, AgentCopy], items: list[Pending], limit: int
) -> list[tuple[str, str]]:
    """(psr id, user id) of each decision the rules make, in order."""
    out: list[tuple[str, str]] = []
    for item in sorted(items, key=lambda i: i.sort_key):
        if len(out) >= limit:
            break
        candidates = [a for a in agents.values() if eligible(item, a)]
        chosen: AgentCopy | None = None
        pref = agents.get(item.preferred_user_id or "")
        if item.preferred_user_id in item.declined and not item.preferred_required:
            pref = None  # a preferred user who declined is one of the decliners
        if pref is not None and pref in candidates:
            chosen = pref
        elif not (item.preferred_required and item.preferred_user_id):
            tiers = [set(item.declined)]
            if item.declined:
                last = {item.last_declined} if item.last_declined else set()
                tiers.append(last)
                if last:
                    tiers.append(set())
            for excluded in tiers:
                pool = [a for a in candidates if a.user_id not in excluded]
                if pool:
                    chosen = best_of(item, pool)
                    break
        if chosen is not None:
            out.append((item.psr_id, chosen.user_id))
            chosen.loads.append((item.weight, item.percent))
            chosen.idle = NOW_TS[0]
    return out


NOW_TS = [0.0]


class World:
    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.pool = AgentPool()
        self.backlog = Backlog()
        self.router = Router(self.pool, self.backlog)
        self.now = T0
        self.n = 0

    def tick(self) -> None:
        self.now += timedelta(seconds=self.rnd.choice((0, 0, 1, 7)))

    def login(self) -> None:
        self.n += 1
        r = self.rnd
        agent = Agent(
            user_id=f"005{self.n:05d}",
            status_id="st",
            channel_ids=frozenset(r.sample(CHANNELS, r.choice((1, 1, 2)))),
            capacity=float(r.choice((1, 2, 3, 5, 6, 10))),
            presence_id="p",
            idle_since=self.now,
        )
        agent.queues = frozenset(r.sample(QUEUES, r.randint(0, 2)))
        agent.skills = {s: float(r.randint(1, 5)) for s in r.sample(SKILLS, r.randint(0, 4))}
        self.pool.put(agent)

    def logout(self) -> None:
        if self.pool.agents:
            uid = self.rnd.choice(sorted(self.pool.agents))
            agent = self.pool.remove(uid)
            assert agent is not None
            for load in list(agent.loads.values()):
                self._requeue(load.work_id, decliner=None)

    def new_item(self) -> None:
        self.n += 1
        r = self.rnd
        skills_based = r.random() < 0.6
        skills: tuple[SkillNeed, ...] = ()
        if skills_based:
            chosen = r.sample(SKILLS, r.choice((0, 1, 1, 2, 2, 3)))
            skills = tuple(
                SkillNeed(
                    skill_id=s,
                    level=float(r.randint(1, 4)),
                    additional=r.random() < 0.3,
                    priority=r.randint(0, 2),
                )
                for s in chosen
            )
        agents = sorted(self.pool.agents)
        preferred = r.choice(agents) if agents and r.random() < 0.15 else None
        use_percent = r.random() < 0.2
        item = Pending(
            psr_id=f"0JR{self.n:05d}",
            work_item_id=f"500{self.n:05d}",
            channel_id=r.choice(CHANNELS),
            routing_type=RoutingType.SKILLS_BASED if skills_based else RoutingType.QUEUE_BASED,
            model=r.choice((RoutingModel.LEAST_ACTIVE, RoutingModel.MOST_AVAILABLE)),
            queue_id=None if skills_based else r.choice(QUEUES),
            priority=r.randint(0, 2),
            secondary=r.choice((None, 0, 1)),
            requested_at=self.now - timedelta(seconds=r.randint(0, 30)),
            seq=self.backlog.next_seq(),
            weight=0.0 if use_percent else float(r.choice((1, 1, 2, 3))),
            percent=float(r.choice((25, 50, 100))) if use_percent else 0.0,
            preferred_user_id=preferred,
            preferred_required=preferred is not None and r.random() < 0.4,
            skills=skills,
        )
        self.backlog.add(item)

    def release(self) -> None:
        busy = sorted(uid for uid, a in self.pool.agents.items() if a.loads)
        if busy:
            agent = self.pool.agents[self.rnd.choice(busy)]
            work_id = self.rnd.choice(sorted(agent.loads))
            if self.rnd.random() < 0.5:
                agent.loads.pop(work_id)  # closed
                self.pool.touch(agent)
                for item in list(self.backlog.items.values()):
                    if item.work_id == work_id:
                        self.backlog.remove(item.psr_id)
            else:
                self._requeue(work_id, decliner=agent.user_id)

    def drop_skills(self) -> None:
        waiting = sorted(
            i.psr_id for i in self.backlog.waiting() if i.dropped_groups < len(i.drop_groups())
        )
        if waiting:
            item = self.backlog.items[self.rnd.choice(waiting)]
            item.dropped_groups += 1
            self.backlog.requeue(item)

    def _requeue(self, work_id: str, *, decliner: str | None) -> None:
        for item in self.backlog.items.values():
            if item.work_id == work_id:
                for agent in self.pool.agents.values():
                    if agent.loads.pop(work_id, None) is not None:
                        self.pool.touch(agent)
                item.work_id = None
                if decliner:
                    item.declined.add(decliner)
                    item.last_declined = decliner
                item.dropped_groups = 0
                self.backlog.requeue(item)
                return

    def snapshot(self) -> tuple[dict[str, AgentCopy], list[Pending]]:
        agents = {
            uid: AgentCopy(
                user_id=uid,
                channels=a.channel_ids,
                queues=a.queues,
                skills=dict(a.skills),
                capacity=a.capacity,
                loads=[(ld.weight, ld.percent) for ld in a.loads.values()],
                idle=a.idle_since.timestamp(),
            )
            for uid, a in self.pool.agents.items()
        }
        items = []
        for i in self.backlog.waiting():
            if i.model is RoutingModel.EXTERNAL:
                continue
            copy = Pending(
                psr_id=i.psr_id,
                work_item_id=i.work_item_id,
                channel_id=i.channel_id,
                routing_type=i.routing_type,
                model=i.model,
                queue_id=i.queue_id,
                priority=i.priority,
                secondary=i.secondary,
                requested_at=i.requested_at,
                seq=i.seq,
                weight=i.weight,
                percent=i.percent,
                preferred_user_id=i.preferred_user_id,
                preferred_required=i.preferred_required,
                skills=i.skills,
                dropped_groups=i.dropped_groups,
            )
            copy.declined = set(i.declined)
            copy.last_declined = i.last_declined
            items.append(copy)
        return agents, items

    def route(self, limit: int) -> list[tuple[str, str]]:
        now = self.now

        def assign(item: Pending, agent: Agent) -> None:
            self.n += 1
            work_id = f"0Bz{self.n:05d}"
            item.work_id = work_id
            load = Load(
                work_id=work_id,
                work_item_id=item.work_item_id,
                channel_id=item.channel_id,
                weight=item.weight,
                percent=item.percent,
            )
            agent.take(load, now)

        return [(d.item.psr_id, d.agent.user_id) for d in self.router.route(assign, limit=limit)]


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_router_decides_as_the_rules_say(seed: int) -> None:
    rnd = random.Random(seed)
    world = World(rnd)
    for _ in range(rnd.randint(1, 6)):
        world.login()
    ops = (world.login, world.logout, world.new_item, world.new_item, world.new_item,
           world.release, world.release, world.drop_skills)  # fmt: skip
    for _ in range(60):
        for _ in range(rnd.randint(0, 4)):
            rnd.choice(ops)()
            world.tick()
        agents, items = world.snapshot()
        NOW_TS[0] = world.now.timestamp()
        limit = rnd.choice((1, 3, 1000))
        expected = brute_force_pass(agents, items, limit)
        assert world.route(limit) == expected


def test_stuck_lane_wakes_when_an_agent_frees_capacity() -> None:
    """A lane set aside as stuck routes again once an agent who could take it is
    released, and not before."""
    world = World(random.Random(1))
    agent = Agent(
        user_id="005A",
        status_id="st",
        channel_ids=frozenset({"ch1"}),
        capacity=1.0,
        presence_id="p",
        idle_since=T0,
    )
    agent.queues = frozenset({"q1"})
    world.pool.put(agent)
    for n in range(2):
        world.backlog.add(
            Pending(
                psr_id=f"0JR{n}",
                work_item_id=f"500{n}",
                channel_id="ch1",
                routing_type=RoutingType.QUEUE_BASED,
                model=RoutingModel.MOST_AVAILABLE,
                queue_id="q1",
                priority=1,
                secondary=None,
                requested_at=T0 + timedelta(seconds=n),
                seq=n + 1,
                weight=1.0,
                percent=0.0,
            )
        )
    assert world.route(100) == [("0JR0", "005A")]
    assert world.route(100) == []  # full: the lane is stuck
    assert not world.backlog.has_ready()
    agent.loads.clear()
    world.pool.touch(agent)
    assert world.backlog.has_ready()
    assert world.route(100) == [("0JR1", "005A")]
