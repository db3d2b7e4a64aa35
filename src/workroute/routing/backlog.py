"""Work waiting to be routed, in routing order, grouped by what it needs.

Order (seed 003 and Salesforce's documented routing): RoutingPriority, lower first;
then the secondary priority (lower first, work without one after work with one); then
age: CustomRequestedDateTime when set, else when the work was first requested — a
declined or timed-out item keeps its age; then arrival order.

Items that need the same thing (same queue or same set of skills and levels, same
channel, model and capacity) share a *lane*. If the first item of a lane finds no
agent, none of the lane's items can, so a routing pass looks at each lane's head only
and drops a lane for the rest of the pass as soon as its head is stuck.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from workroute.routing.model import RoutingModel, RoutingType

#: Secondary priority of work that has none (after every real value).
NO_SECONDARY = 1 << 30


@dataclass(frozen=True, slots=True, kw_only=True)
class SkillNeed:
    skill_id: str
    level: float
    additional: bool = False
    priority: int = 0
    requirement_id: str | None = None


@dataclass(slots=True, eq=False, kw_only=True)
class Pending:
    """A PendingServiceRouting as the router holds it."""

    psr_id: str
    work_item_id: str
    channel_id: str
    routing_type: RoutingType
    model: RoutingModel
    queue_id: str | None
    priority: int
    secondary: int | None
    requested_at: datetime
    seq: int
    weight: float
    percent: float
    push_timeout: int = 0
    preferred_user_id: str | None = None
    preferred_required: bool = False
    skills: tuple[SkillNeed, ...] = ()
    drop_timeout: int | None = None
    #: How many groups of additional skills are dropped (highest SkillPriority first).
    dropped_groups: int = 0
    is_transfer: bool = False
    #: The request's Serial as stored: the engine's own pushes write the next one
    #: without reading the row (``effects.write_assignments``).
    serial: int = 0
    #: "IsOwnerChangeInitiated" / "IsStatusChangeInitiated" when the request waits to
    #: give the record's owner the work they were given directly (status_capacity.py).
    initiated: str | None = None
    #: Agents who declined (or timed out on) this item since the last reset.
    declined: set[str] = field(default_factory=set)
    last_declined: str | None = None
    #: The active AgentWork, while the item is with an agent.
    work_id: str | None = None
    lane: tuple[object, ...] = ()
    #: ``active_skills()`` as computed for (``dropped_groups``, ``skills``).
    _active: tuple[SkillNeed, ...] = ()
    _active_for: tuple[int, tuple[SkillNeed, ...]] | None = None

    #: Routing order (see the module docstring), from the fields above, which do not
    #: change once the item is made.
    sort_key: tuple[int, int, float, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.sort_key = (
            self.priority,
            NO_SECONDARY if self.secondary is None else self.secondary,
            self.requested_at.timestamp(),
            self.seq,
        )

    def drop_groups(self) -> list[int]:
        """SkillPriority values of the additional skills, in drop order (highest first)."""
        return sorted({s.priority for s in self.skills if s.additional}, reverse=True)

    def dropped_priorities(self) -> set[int]:
        return set(self.drop_groups()[: self.dropped_groups])

    def active_skills(self) -> tuple[SkillNeed, ...]:
        """The skills an agent must hold now: all but the dropped additional ones.
        Kept until ``dropped_groups`` changes (the router asks once per candidate)."""
        key = self._active_for
        if key is None or key[0] != self.dropped_groups or key[1] is not self.skills:
            dropped = self.dropped_priorities()
            self._active = tuple(
                s for s in self.skills if not (s.additional and s.priority in dropped)
            )
            self._active_for = (self.dropped_groups, self.skills)
        return self._active

    def compute_lane(self) -> tuple[object, ...]:
        need: object
        if self.routing_type is RoutingType.QUEUE_BASED:
            need = ("queue", self.queue_id)
        else:
            need = ("skills", tuple(sorted((s.skill_id, s.level) for s in self.active_skills())))
        if self.preferred_required and self.preferred_user_id:
            need = ("user", self.preferred_user_id, need)  # that user, and what they need
        return (self.channel_id, self.model.value, need, self.weight, self.percent)


SortKey = tuple[int, int, float, int]
Lane = tuple[object, ...]


class Backlog:
    """Waiting items by PendingServiceRouting id, in lanes ordered by routing order.

    Lanes whose first item may be placeable are *ready*, in a heap by that item's
    routing order; the router takes them best first. A lane whose first item found
    nobody is *stuck* and filed under the pool key its agents would come from (the
    queue, one of the skills, the preferred user): it is looked at again only when
    an agent filed under that key may take more work (:meth:`wake`), or when work
    joins the lane. So waiting work nobody can take costs nothing per pass.
    """

    def __init__(self) -> None:
        self.items: dict[str, Pending] = {}
        self._lanes: dict[Lane, list[tuple[SortKey, str]]] = {}
        self._ready: list[tuple[SortKey, Lane]] = []
        #: The best key each ready lane is filed under in ``_ready`` (other entries
        #: of the lane there are stale).
        self._ready_key: dict[Lane, SortKey] = {}
        self._stuck: dict[tuple[str, str, str], set[Lane]] = {}
        self._stuck_on: dict[Lane, tuple[str, str, str]] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self.items)

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def get(self, psr_id: str) -> Pending | None:
        return self.items.get(psr_id)

    def add(self, item: Pending) -> None:
        """Add or re-queue an item (its lane is recomputed)."""
        self._seq = max(self._seq, item.seq)
        self.items[item.psr_id] = item
        self.requeue(item)

    def requeue(self, item: Pending) -> None:
        item.lane = item.compute_lane()
        if item.work_id is None and item.model is not RoutingModel.EXTERNAL:
            heapq.heappush(self._lanes.setdefault(item.lane, []), (item.sort_key, item.psr_id))
            self._unstick(item.lane)
            head = self.head(item.lane)  # the lane's first item, this one or not
            if head is not None:
                self._make_ready(item.lane, head.sort_key)

    def remove(self, psr_id: str) -> Pending | None:
        return self.items.pop(psr_id, None)

    def waiting(self) -> Iterator[Pending]:
        """Items not with an agent (external ones included), in no particular order."""
        return (i for i in self.items.values() if i.work_id is None)

    # -- lanes ---------------------------------------------------------------------

    def _live(self, lane: Lane, entry: tuple[SortKey, str]) -> Pending | None:
        item = self.items.get(entry[1])
        if (
            item is None
            or item.work_id is not None
            or item.lane != lane
            or item.sort_key != entry[0]
            or item.model is RoutingModel.EXTERNAL
        ):
            return None
        return item

    def head(self, lane: Lane) -> Pending | None:
        heap = self._lanes.get(lane)
        while heap:
            item = self._live(lane, heap[0])
            if item is not None:
                return item
            heapq.heappop(heap)
        if heap is not None:
            del self._lanes[lane]
        return None

    def _make_ready(self, lane: Lane, key: SortKey) -> None:
        if lane in self._stuck_on:
            return
        known = self._ready_key.get(lane)
        if known is None or key < known:
            self._ready_key[lane] = key
            heapq.heappush(self._ready, (key, lane))

    def has_ready(self) -> bool:
        return bool(self._ready_key)

    def has_stuck(self) -> bool:
        return bool(self._stuck_on)

    def next_ready(self) -> tuple[Pending, Lane] | None:
        """The first item of the best ready lane (the lane stays the router's until it
        calls :meth:`placed` or :meth:`stuck`)."""
        ready = self._ready
        while ready:
            key, lane = heapq.heappop(ready)
            if self._ready_key.get(lane) != key:
                continue  # a stale entry of a lane filed again since
            del self._ready_key[lane]
            item = self.head(lane)
            if item is None:
                continue
            if item.sort_key != key:
                self._make_ready(lane, item.sort_key)
                continue
            return item, lane
        return None

    def placed(self, lane: Lane) -> None:
        """The lane's first item went to an agent: the next one is ready."""
        heap = self._lanes.get(lane)
        if heap:
            heapq.heappop(heap)
        nxt = self.head(lane)
        if nxt is not None:
            self._make_ready(lane, nxt.sort_key)

    def stuck(self, lane: Lane, on: tuple[str, str, str]) -> None:
        """Nobody can take the lane's first item, so nobody any of it: set the lane
        aside until an agent filed under ``on`` may take more."""
        self._stuck_on[lane] = on
        self._stuck.setdefault(on, set()).add(lane)

    def wake(
        self,
        keys: Iterable[tuple[str, str, str]],
        could_take: Callable[[Pending], bool] | None = None,
    ) -> None:
        """An agent filed under ``keys`` may take more: the lanes stuck on those keys
        whose first item ``could_take`` (all of them without it) are ready again; the
        others stay stuck, since nothing else changed for them."""
        for key in keys:
            lanes = self._stuck.get(key)
            if not lanes:
                continue
            for lane in list(lanes):
                item = self.head(lane)
                if item is not None and could_take is not None and not could_take(item):
                    continue
                lanes.discard(lane)
                self._stuck_on.pop(lane, None)
                if item is not None:
                    self._make_ready(lane, item.sort_key)
            if not lanes:
                del self._stuck[key]

    def _unstick(self, lane: Lane) -> None:
        on = self._stuck_on.pop(lane, None)
        if on is not None:
            lanes = self._stuck.get(on)
            if lanes is not None:
                lanes.discard(lane)
                if not lanes:
                    del self._stuck[on]
