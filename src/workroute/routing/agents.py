"""Agents as the router sees them: who is online, on which channels, with what load.

Capacity (seed 003, CapacityWeight / CapacityPercentage): an agent's presence
configuration gives a capacity C. A work item with a weight w uses w units; one with
a percentage p uses p·C/100 units. An agent can take an item while the units in use
plus the item's units stay within C, and never holds more than
:data:`MAX_OPEN_ITEMS` items. Capacity 6 and weight 2 make three items, the fourth
waits; a percentage of 100 fills the agent.

The pool keeps, per (channel), (channel, queue) and (channel, skill), a ranking of the
agents with room there, best first for each routing model (:mod:`ranking`), and moves
an agent in every ranking they are in as soon as their load or idle time changes.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workroute.routing.model import RoutingModel
from workroute.routing.ranking import Ranking, Standing

#: seed/issue: an agent never holds more than 100 open items.
MAX_OPEN_ITEMS = 100
#: Slack for float sums of weights and percentages at the capacity bound.
EPSILON = 1e-9

#: (channel id, "c", "") / (.., "q", queue) / (.., "s", skill) / (.., "u", user)
IndexKey = tuple[str, str, str]


@dataclass(slots=True, eq=False)
class Load:
    """One piece of work holding an agent's capacity."""

    work_id: str
    work_item_id: str
    channel_id: str
    weight: float
    percent: float
    opened: bool = False
    skip_check: bool = False

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Load:
        """A load as ``wr_omni_load`` keeps it."""
        return cls(
            work_id=str(row["work_id"]),
            work_item_id=str(row["work_item_id"]),
            channel_id=str(row["channel_id"]),
            weight=float(row["weight"]),
            percent=float(row["percent"]),
            opened=bool(row["opened"]),
            skip_check=bool(row["skip_check"]),
        )


class Loads(dict[str, Load]):
    """An agent's loads by work id, with the sums of weights and percentages kept up to
    date on every change: the router reads them for each candidate it looks at, far
    more often than loads change."""

    __slots__ = ("owner", "percent", "weight")

    def __init__(self) -> None:
        super().__init__()
        self.weight = 0.0
        self.percent = 0.0
        #: The agent these are the loads of: they move in the pool's rankings on change.
        self.owner: Agent | None = None

    def _sum(self) -> None:
        # Summed afresh (at most MAX_OPEN_ITEMS terms), so no rounding error builds up.
        self.weight = sum(ld.weight for ld in self.values())
        self.percent = sum(ld.percent for ld in self.values())
        self._refile()

    def _refile(self) -> None:
        owner = self.owner
        if owner is not None and owner.pool is not None:
            owner.pool.refile(owner)

    def __setitem__(self, key: str, value: Load) -> None:
        if key in self:
            super().__setitem__(key, value)
            self._sum()
            return
        # A new load comes last in the dict, so adding it gives the very sums a fresh
        # sum in the dict's order would.
        super().__setitem__(key, value)
        self.weight += value.weight
        self.percent += value.percent
        self._refile()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._sum()

    def pop(self, key: str, default: Load | None = None) -> Load | None:  # type: ignore[override]
        value = super().pop(key, default)
        self._sum()
        return value

    def clear(self) -> None:
        super().clear()
        self._sum()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._sum()

    def setdefault(self, key: str, default: Load) -> Load:
        value = super().setdefault(key, default)
        self._sum()
        return value

    def popitem(self) -> tuple[str, Load]:
        item = super().popitem()
        self._sum()
        return item


@dataclass(slots=True, eq=False)
class Agent:
    user_id: str
    status_id: str
    channel_ids: frozenset[str]
    capacity: float
    presence_id: str
    #: When the agent last received work, or came online: the routing tie-break. Set
    #: it through :meth:`take` (or before ``AgentPool.put``), which re-ranks the agent.
    idle_since: datetime
    loads: Loads = field(default_factory=Loads)
    skills: dict[str, float] = field(default_factory=dict)
    queues: frozenset[str] = frozenset()
    #: The index keys the agent is filed under (as of the last ``AgentPool.put``).
    keys: tuple[IndexKey, ...] = ()
    #: Presence statistics of the current status session (UserServicePresence):
    #: when they were last brought up to date, and the sums since the session began.
    session_start: datetime | None = None
    stats_at: datetime | None = None
    unit_seconds: float = 0.0
    idle_seconds: float = 0.0
    at_capacity_seconds: float = 0.0
    #: The pool the agent is filed in, and where: (LeastActive score, MostAvailable
    #: score, idle since) in every ranking of their keys, or None while they have no room.
    pool: AgentPool | None = field(default=None, init=False, repr=False)
    filed: Standing | None = field(default=None, init=False, repr=False)
    #: Which entries of the rankings are the agent's (``ranking`` module docstring).
    stamp: int = field(default=-1, init=False, repr=False)

    def __post_init__(self) -> None:
        self.loads.owner = self

    def take(self, load: Load, now: datetime) -> None:
        """Give the agent work at ``now``: the statistics are brought up to date at the
        old workload, the agent has received work now, and the pool re-ranks them."""
        self.accumulate(now)
        self.idle_since = now
        self.loads[load.work_id] = load

    def standing(self) -> Standing | None:
        """Where the agent ranks now (see ``filed``)."""
        loads, c = self.loads, self.capacity
        free = c - (loads.weight + loads.percent * c / 100.0)
        if len(loads) >= MAX_OPEN_ITEMS or free <= EPSILON:
            return None
        return (float(len(loads)), -free, self.idle_since.timestamp())

    def accumulate(self, now: datetime) -> None:
        """Bring the session statistics up to ``now`` at the current workload; call it
        before every change of workload."""
        if self.stats_at is None:
            self.stats_at = now
            return
        dt = max(0.0, (now - self.stats_at).total_seconds())
        used = self.used
        self.unit_seconds += used * dt
        if used <= EPSILON:
            self.idle_seconds += dt
        if self.capacity > 0 and used + EPSILON >= self.capacity:
            self.at_capacity_seconds += dt
        self.stats_at = now

    def average_capacity(self, now: datetime) -> float:
        """Time-weighted average of the units in use over the session so far."""
        start = self.session_start or now
        span = (now - start).total_seconds()
        return round(self.unit_seconds / span, 4) if span > 0 else round(self.used, 4)

    @property
    def used(self) -> float:
        loads = self.loads
        return loads.weight + loads.percent * self.capacity / 100.0

    @property
    def free(self) -> float:
        return self.capacity - self.used

    @property
    def open_count(self) -> int:
        return len(self.loads)

    def units(self, weight: float, percent: float) -> float:
        return weight + percent * self.capacity / 100.0

    def fits(self, weight: float, percent: float) -> bool:
        loads, c = self.loads, self.capacity
        return (
            len(loads) < MAX_OPEN_ITEMS
            and loads.weight + weight + (loads.percent + percent) * c / 100.0 <= c + EPSILON
        )

    def workload(self) -> float:
        """The workload the console toolkit reports: units in use."""
        return round(self.used, 6)


#: Which score of ``Agent.filed`` a model's rankings order by.
_SLOT = {RoutingModel.LEAST_ACTIVE: 0, RoutingModel.MOST_AVAILABLE: 1}


class AgentPool:
    """The online agents, who is filed under which key, and the rankings of the keys
    work has asked for (built on first use from the key's members, then kept up to
    date: :meth:`refile` runs on every change of an agent's load, through their
    :class:`Loads`)."""

    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}
        self._members: dict[IndexKey, set[str]] = defaultdict(set)
        self._rankings: dict[IndexKey, Ranking] = {}
        self._stamps = itertools.count()
        #: Told of every agent who may now take work they could not before (the
        #: backlog wakes the lanes that wait on them).
        self.on_touch: Callable[[Agent], None] | None = None

    def __len__(self) -> int:
        return len(self.agents)

    def get(self, user_id: str) -> Agent | None:
        return self.agents.get(user_id)

    def keys_of(self, agent: Agent) -> Iterator[IndexKey]:
        for ch in agent.channel_ids:
            yield (ch, "c", "")
            for q in agent.queues:
                yield (ch, "q", q)
            for s in agent.skills:
                yield (ch, "s", s)

    # -- changes -----------------------------------------------------------------

    def put(self, agent: Agent) -> None:
        """Add an agent, or re-index one whose channels, queues, skills or capacity
        changed."""
        old = self.agents.get(agent.user_id)
        if old is not None:
            self._unfile(old)
        self.agents[agent.user_id] = agent
        agent.keys = tuple(self.keys_of(agent))
        for key in agent.keys:
            self._members[key].add(agent.user_id)
        agent.pool = self
        self.touch(agent)

    def remove(self, user_id: str) -> Agent | None:
        agent = self.agents.pop(user_id, None)
        if agent is not None:
            self._unfile(agent)
        return agent

    def _unfile(self, agent: Agent) -> None:
        self._move(agent, None)
        for key in agent.keys:
            self._members[key].discard(agent.user_id)
        agent.pool = None

    def touch(self, agent: Agent) -> None:
        """The agent may take more than before (a release, a login, new skills): make
        sure they are ranked as they stand, and wake the work that waits on them."""
        self.refile(agent)
        if self.on_touch is not None:
            self.on_touch(agent)

    def refile(self, agent: Agent) -> None:
        """Move the agent to where they stand now in every ranking of their keys."""
        new = agent.standing()
        if new != agent.filed:
            self._move(agent, new)

    def _move(self, agent: Agent, new: Standing | None) -> None:
        left, uid, rankings = agent.filed is not None, agent.user_id, self._rankings
        agent.stamp = stamp = next(self._stamps)
        for key in agent.keys:
            ranking = rankings.get(key)
            if ranking is not None and ranking.move(uid, left, new, stamp):
                ranking.compact(self.agents)
        agent.filed = new

    def members(self, key: IndexKey) -> set[str]:
        return self._members.get(key) or set()

    # -- choosing ----------------------------------------------------------------

    def best(
        self,
        key: IndexKey,
        model: RoutingModel,
        weight: float,
        percent: float,
        accept: Callable[[Agent], bool],
    ) -> Agent | None:
        """The best agent of ``key`` for ``model`` who fits the work and ``accept``s.

        LeastActive: fewest open items; MostAvailable: most free units. Ties go to
        the agent idle longest (who received work longest ago, or came online
        longest ago if they have had none since), then to the lower user id.
        """
        slot = _SLOT[model]
        ranking = self._rankings.get(key)
        if ranking is None or not ranking.has(slot):
            ranking = self._build(key, slot)
        agents = self.agents
        bounded = model is RoutingModel.MOST_AVAILABLE and not percent
        candidates = ranking.candidates(slot, agents)
        try:
            for score, uid in candidates:
                if bounded and EPSILON - score < weight:
                    break  # score is minus the free units: nobody from here on has room
                agent = agents[uid]
                loads, c = agent.loads, agent.capacity
                if loads.weight + weight + (
                    loads.percent + percent
                ) * c / 100.0 <= c + EPSILON and accept(agent):
                    return agent
        finally:
            candidates.close()
        return None

    def _build(self, key: IndexKey, slot: int) -> Ranking:
        ranking = self._rankings.setdefault(key, Ranking())
        agents = self.agents
        ranking.start(
            slot,
            (
                (uid, filed, a.stamp)
                for uid in self.members(key)
                if (filed := (a := agents[uid]).filed) is not None
            ),
        )
        return ranking
