"""The router's decision core: which waiting item goes to which agent, and why.

No I/O here. :meth:`Router.route` walks the backlog in routing order and picks an
agent for each item it can place; the caller (the engine) makes each choice durable.

Who is eligible for an item (seed 003 and Salesforce's documented behaviour):

- online, in a presence status that includes the item's service channel;
- queue-based: a member of the item's queue (directly, through groups or roles);
  skills-based: holding every required skill that is not dropped, at the required
  level or above;
- with room: units in use plus the item's units within capacity, fewer than 100 items;
- the preferred user first when ``PreferredUserId`` is set (unless they declined it:
  then they are one of the decliners below), and only them when
  ``IsPreferredUserRequired``;
- agents who declined or timed out on the item are passed over while an agent who has
  not qualifies; when every eligible agent has declined, all are eligible again except
  the last decliner, who gets the item only if nobody else can take it.

The choice among eligible agents: LeastActive takes the agent with the fewest open
items, MostAvailable the one with the most free units. Ties go to the agent idle
longest — who received work longest ago (not who closed work longest ago), counting
an agent who has received nothing since coming online as idle since then — and last
to the lower user id, so a decision never depends on dictionary order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from workroute.routing.agents import Agent, AgentPool, IndexKey
from workroute.routing.backlog import Backlog, Pending
from workroute.routing.model import RoutingType

#: How many passed-over agents a stored trace keeps.
TRACE_LIMIT = 20
#: Tiers of a decision that started an item's decline list over (every eligible agent
#: had declined it): the item's remembered state changes with the decision.
STARTED_OVER = frozenset({"all declined", "only the last decliner"})


@dataclass(slots=True)
class Trace:
    """Why an item went to an agent: the agents looked at first and why not them."""

    model: str
    tier: str
    chosen: str | None = None
    passed_over: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "routingModel": self.model,
            "tier": self.tier,
            "chosenUserId": self.chosen,
            "passedOver": [{"userId": u, "reason": r} for u, r in self.passed_over],
        }


@dataclass(slots=True)
class Decision:
    item: Pending
    agent: Agent
    trace: Trace


Assign = Callable[[Pending, Agent], None]


class Router:
    def __init__(self, pool: AgentPool, backlog: Backlog) -> None:
        self.pool = pool
        self.backlog = backlog
        pool.on_touch = self._touched

    def _touched(self, agent: Agent) -> None:
        """An agent may take more than before: wake the lanes waiting on them whose
        first item they could take now (for the others nothing changed)."""
        self.backlog.wake(
            (*agent.keys, *((ch, "u", agent.user_id) for ch in agent.channel_ids)),
            lambda item: self.reason(item, agent) is None,
        )

    def route(self, assign: Assign, *, limit: int = 1_000_000) -> list[Decision]:
        """Place what can be placed, best item first; ``assign`` records each choice
        (it must set the item's work and add the load to the agent) before the next."""
        backlog = self.backlog
        out: list[Decision] = []
        while len(out) < limit:
            found = backlog.next_ready()
            if found is None:
                break
            item, lane = found
            trace = Trace(model=item.model.value, tier="")
            agent = self.choose(item, trace)
            if agent is None:
                # Nobody can take the lane's first item, so nobody any of it, until an
                # agent who could may take more.
                backlog.stuck(lane, self.wait_key(item))
                continue
            assign(item, agent)
            out.append(Decision(item, agent, trace))
            backlog.placed(lane)
        return out

    def wait_key(self, item: Pending) -> IndexKey:
        """The pool key of the agents who could take ``item`` (any of them has it)."""
        if item.preferred_required and item.preferred_user_id:
            return (item.channel_id, "u", item.preferred_user_id)
        return self._key(item)

    def choose(self, item: Pending, trace: Trace | None = None) -> Agent | None:
        trace = trace or Trace(model=item.model.value, tier="")
        pref = item.preferred_user_id
        if pref and not item.preferred_required and pref in item.declined:
            _note(trace, pref, "declined")  # passed over like any decliner (see below)
            pref = None
        if pref:
            agent = self.pool.get(pref)
            reason = self.reason(item, agent) if agent else "offline"
            if agent is not None and reason is None:
                trace.tier, trace.chosen = "preferred", pref
                return agent
            _note(trace, pref, reason or "offline")
            if item.preferred_required:
                trace.tier = "preferred required"
                return None
        key = self._key(item)
        tiers: list[tuple[str, frozenset[str]]] = [("first choice", frozenset(item.declined))]
        if item.declined:
            last = frozenset({item.last_declined}) if item.last_declined else frozenset()
            tiers.append(("all declined", last))
            if last:
                tiers.append(("only the last decliner", frozenset()))
        queue = item.queue_id if item.routing_type is RoutingType.QUEUE_BASED else None
        needs = [] if queue else [(s.skill_id, s.level) for s in item.active_skills()]
        passed = trace.passed_over
        for name, excluded in tiers:
            # _fit_reason, inlined: it runs for every candidate looked at.
            def accept(agent: Agent, excluded: frozenset[str] = excluded) -> bool:
                uid = agent.user_id
                if uid in excluded:
                    _note(trace, uid, "declined")
                    return False
                if queue is not None:
                    if queue in agent.queues:
                        return True
                    _note(trace, uid, "not in queue")
                    return False
                held = agent.skills
                for skill_id, level in needs:
                    have = held.get(skill_id)
                    if have is None or have < level:
                        if len(passed) < TRACE_LIMIT:
                            passed.append((uid, _skill_reason(skill_id, level, have)))
                        return False
                return True

            agent = self.pool.best(key, item.model, item.weight, item.percent, accept)
            if agent is not None:
                if name != "first choice":
                    item.declined.clear()  # every eligible agent had declined: start over
                trace.tier, trace.chosen = name, agent.user_id
                return agent
        trace.tier = "nobody"
        return None

    def reason(self, item: Pending, agent: Agent | None) -> str | None:
        """Why ``agent`` cannot take ``item`` now, or None if they can."""
        if agent is None:
            return "offline"
        if item.channel_id not in agent.channel_ids:
            return "no channel"
        why = self._fit_reason(item, agent)
        if why is not None:
            return why
        if not agent.fits(item.weight, item.percent):
            return "no capacity"
        return None

    def _fit_reason(self, item: Pending, agent: Agent) -> str | None:
        if item.routing_type is RoutingType.QUEUE_BASED:
            return None if item.queue_id in agent.queues else "not in queue"
        for need in item.active_skills():
            level = agent.skills.get(need.skill_id)
            if level is None or level < need.level:
                return _skill_reason(need.skill_id, need.level, level)
        return None

    def _key(self, item: Pending) -> IndexKey:
        ch = item.channel_id
        if item.routing_type is RoutingType.QUEUE_BASED:
            return (ch, "q", item.queue_id or "")
        skills = item.active_skills()
        if not skills:
            return (ch, "c", "")
        if len(skills) == 1:
            return (ch, "s", skills[0].skill_id)
        # The holders of the rarest skill are the fewest to look through; the others
        # are checked on each candidate (``_fit_reason``).
        members = self.pool.members
        rarest = min(skills, key=lambda s: (len(members((ch, "s", s.skill_id))), s.skill_id))
        return (ch, "s", rarest.skill_id)


def _skill_reason(skill_id: str, level: float, held: float | None) -> str:
    if held is None:
        return f"missing skill {skill_id}"
    return f"skill {skill_id} level {held:g} < {level:g}"


def _note(trace: Trace, user_id: str, reason: str) -> None:
    if len(trace.passed_over) < TRACE_LIMIT:
        trace.passed_over.append((user_id, reason))
