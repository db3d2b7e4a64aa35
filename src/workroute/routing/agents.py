"""Agents as the router sees them: who is online, on which channels, with what load.

Capacity (seed 003, CapacityWeight / CapacityPercentage): an agent's presence
configuration gives a capacity C. A work item with a weight w uses w units; one with
a percentage p uses p·C/100 units. An agent can take an item while the units in use
plus the item's units stay within C, and never holds more than
:data:`MAX_OPEN_ITEMS` items. Capacity 6 and weight 2 make three items, the fourth
waits; a percentage of 100 fills the agent.

The pool keeps, per channel, (channel, queue) and (channel, skill), heaps of the agents who
could take work there, best first for each routing model. Entries are never updated
in place: an agent's change bumps its version and pushes fresh entries, and stale ones
are dropped when they reach the top.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workroute.routing.model import RoutingModel

#: seed/issue: an agent never holds more than 100 open items.
MAX_OPEN_ITEMS = 100
#: Slack for float sums of weights and percentages at the capacity bound.
EPSILON = 1e-9

#: (channel id, "c", "") / (.., "q", queue) / (.., "s", skill) / (.., "s2", "a|b": two skills)
IndexKey = tuple[str, str, str]


def pair_key(channel_id: str, a: str, b: str) -> IndexKey:
    """The index key of the agents holding both skills ``a`` and ``b``."""
    lo, hi = (a, b) if a < b else (b, a)
    return (channel_id, "s2", f"{lo}|{hi}")


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

    __slots__ = ("percent", "weight")

    def __init__(self) -> None:
        super().__init__()
        self.weight = 0.0
        self.percent = 0.0

    def _sum(self) -> None:
        # Summed afresh (at most MAX_OPEN_ITEMS terms), so no rounding error builds up.
        self.weight = sum(ld.weight for ld in self.values())
        self.percent = sum(ld.percent for ld in self.values())

    def __setitem__(self, key: str, value: Load) -> None:
        super().__setitem__(key, value)
        self._sum()

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
    #: When the agent last received work, or came online: the routing tie-break.
    idle_since: datetime
    loads: Loads = field(default_factory=Loads)
    skills: dict[str, float] = field(default_factory=dict)
    queues: frozenset[str] = frozenset()
    version: int = 0
    #: The index keys the agent is filed under (as of the last ``AgentPool.put``).
    keys: tuple[IndexKey, ...] = ()
    #: Presence statistics of the current status session (UserServicePresence):
    #: when they were last brought up to date, and the sums since the session began.
    session_start: datetime | None = None
    stats_at: datetime | None = None
    unit_seconds: float = 0.0
    idle_seconds: float = 0.0
    at_capacity_seconds: float = 0.0

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


_Entry = tuple[float, float, str, int]  # (score, idle since, user id, version)


class AgentPool:
    """The online agents and their per-queue and per-skill heaps.

    Heap entries are (score, idle since, user id, version), lower first. ``touch``
    (an agent who may now take more: a release, a login, new skills) bumps the
    agent's version, which retires their old entries, and pushes fresh ones. Work
    added to an agent only makes their score worse, so it needs no call here:
    their entry stays, a little optimistic, and is re-filed with the true
    score when it reaches the top of a heap. An entry above its true place is only
    ever looked at early, never skipped, so the order the router sees is exact.
    """

    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}
        self._members: dict[IndexKey, set[str]] = defaultdict(set)
        self._heaps: dict[tuple[IndexKey, RoutingModel], list[_Entry]] = {}
        #: Skill pairs someone asked for, by channel: (skill, skill, key). Agents are
        #: not filed under pairs (an agent with k skills holds k(k-1)/2 of them);
        #: a pair's heap is built from the two skills' members when first asked for,
        #: and ``touch`` pushes to the pair heaps that exist.
        self._pairs: dict[str, list[tuple[str, str, IndexKey]]] = defaultdict(list)
        self._pair_size: dict[IndexKey, int] = {}
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
        """Add an agent, or re-index one whose channels, queues or skills changed."""
        old = self.agents.get(agent.user_id)
        if old is not None:
            for key in old.keys:
                self._members[key].discard(old.user_id)
        self.agents[agent.user_id] = agent
        agent.keys = tuple(self.keys_of(agent))
        for key in agent.keys:
            self._members[key].add(agent.user_id)
        self.touch(agent)

    def remove(self, user_id: str) -> Agent | None:
        agent = self.agents.pop(user_id, None)
        if agent is not None:
            agent.version += 1
            for key in agent.keys:
                self._members[key].discard(user_id)
        return agent

    def touch(self, agent: Agent) -> None:
        """The agent's load or standing changed in any way: file them afresh."""
        agent.version += 1
        if self.on_touch is not None:
            self.on_touch(agent)
        if not _has_room(agent):
            return  # takes nothing until something is released (touched again)
        for key in self._filed_under(agent):
            for model in (RoutingModel.LEAST_ACTIVE, RoutingModel.MOST_AVAILABLE):
                heap = self._heaps.get((key, model))
                if heap is not None:
                    heapq.heappush(heap, _entry(agent, model))
                    if len(heap) > 4 * self._size(key) + 64:
                        self._rebuild(key, model)

    def _filed_under(self, agent: Agent) -> Iterator[IndexKey]:
        yield from agent.keys
        skills = agent.skills
        for ch in agent.channel_ids:
            for a, b, key in self._pairs.get(ch, ()):
                if a in skills and b in skills:
                    yield key

    def _size(self, key: IndexKey) -> int:
        if key[1] == "s2":
            return self._pair_size.get(key, 0)
        return len(self._members.get(key) or ())

    def members(self, key: IndexKey) -> set[str]:
        if key[1] == "s2":
            a, b = key[2].split("|")
            return self.members((key[0], "s", a)) & self.members((key[0], "s", b))
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
        heap = self._heaps.get((key, model))
        if heap is None:
            heap = self._rebuild(key, model)
        agents = self.agents
        least_active = model is RoutingModel.LEAST_ACTIVE
        bounded = not least_active and not percent
        popped: list[_Entry] = []
        found: Agent | None = None
        try:
            while heap:
                entry = heap[0]
                agent = agents.get(entry[2])
                if agent is None or agent.version != entry[3]:
                    heapq.heappop(heap)  # retired by a newer entry, or offline
                    continue
                loads, c = agent.loads, agent.capacity
                used = loads.weight + loads.percent * c / 100.0
                if len(loads) >= MAX_OPEN_ITEMS or c - used <= EPSILON:
                    heapq.heappop(heap)  # full: back when something is released
                    continue
                score = float(len(loads)) if least_active else used - c
                idle = agent.idle_since.timestamp()
                if entry[0] != score or entry[1] != idle:
                    heapq.heapreplace(heap, (score, idle, entry[2], entry[3]))
                    continue  # was optimistic: filed again at its true place
                if bounded and c - used + EPSILON < weight:
                    break  # nobody below has more room
                popped.append(heapq.heappop(heap))
                if loads.weight + weight + (
                    loads.percent + percent
                ) * c / 100.0 <= c + EPSILON and accept(agent):
                    found = agent
                    break
        finally:
            for e in popped:
                heapq.heappush(heap, e)
        return found

    def _rebuild(self, key: IndexKey, model: RoutingModel) -> list[_Entry]:
        members = self.members(key)
        if key[1] == "s2":
            if key not in self._pair_size:
                first, second = key[2].split("|")
                self._pairs[key[0]].append((first, second, key))
            self._pair_size[key] = len(members)
        heap = [
            _entry(a, model)
            for uid in members
            if (a := self.agents.get(uid)) is not None and _has_room(a)
        ]
        heapq.heapify(heap)
        self._heaps[(key, model)] = heap
        return heap


def _has_room(agent: Agent) -> bool:
    return agent.open_count < MAX_OPEN_ITEMS and agent.free > EPSILON


def _entry(agent: Agent, model: RoutingModel) -> _Entry:
    score = float(agent.open_count) if model is RoutingModel.LEAST_ACTIVE else -agent.free
    return (score, agent.idle_since.timestamp(), agent.user_id, agent.version)
