"""What must hold of an Omni-Channel org between any two operations, checked from the
database and from the engine's memory.

:func:`violations` reads the rows (AgentWork, PendingServiceRouting, SkillRequirement,
UserServicePresence, the setup records) and works out who is online, what they hold
and who could take each waiting item from the rules of ``routing/router.py``'s
docstring, written again here apart from the router's code. It returns what is wrong,
one sentence each, so a test can also show it finds a state made wrong by hand.

:func:`memory_view` is the part of the engine's memory that must be the same after a
rebuild from the database (``OmniEngine._rebuild``): agents with their loads and the
waiting items in routing order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from workroute.org import Org
from workroute.routing.engine import OmniEngine

ACTIVE = ("Assigned", "Opened")
MAX_OPEN_ITEMS = 100
DEFAULT_CAPACITY = 5
EPS = 1e-6

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Setup:
    """The setup rows that decide who may take what (read once if they do not change)."""

    capacity: Mapping[str, float]
    status_channels: Mapping[str, set[str]]
    members: Mapping[str, set[str]]  # queue -> users
    skills: Mapping[str, dict[str, float]]  # user -> skill -> level


@dataclass(slots=True)
class Facts:
    """The rows that decide routing, read once per check."""

    setup: Setup
    online: dict[str, str]  # user -> presence status
    works: list[Row]
    psrs: list[Row]
    needs: dict[str, list[Row]]
    dropped: dict[str, int]
    timers: list[tuple[str, str]] = field(default_factory=list)  # (kind, key)

    @property
    def active(self) -> list[Row]:
        return [w for w in self.works if w["Status"] in ACTIVE]

    def capacity(self, user_id: str) -> float:
        return self.setup.capacity.get(user_id, float(DEFAULT_CAPACITY))

    def channels(self, user_id: str) -> set[str]:
        """The channels of the user's presence status (none if offline)."""
        status = self.online.get(user_id)
        return self.setup.status_channels.get(status, set()) if status else set()

    def units(self, user_id: str, weight: object, percent: object) -> float:
        return _num(weight) + _num(percent) * self.capacity(user_id) / 100.0

    def used(self, user_id: str) -> float:
        """Units of all the user's active work (what routing counts against room)."""
        return sum(
            self.units(user_id, w.get("CapacityWeight"), w.get("CapacityPercentage"))
            for w in self.active
            if w["UserId"] == user_id
        )


def read_setup(org: Org) -> Setup:
    store = org.store
    now = org.clock.now()
    configs = {str(c["Id"]): _num(c.get("Capacity")) for c in store.find("PresenceUserConfig")}
    capacity = {
        str(r["UserId"]): configs[str(r["PresenceUserConfigId"])]
        for r in store.find("PresenceUserConfigUser")
    }
    status_channels: dict[str, set[str]] = defaultdict(set)
    for r in store.find("ServiceChannelStatus"):
        status_channels[str(r["ServicePresenceStatusId"])].add(str(r["ServiceChannelId"]))
    members: dict[str, set[str]] = defaultdict(set)
    for r in store.find("GroupMember"):
        members[str(r["GroupId"])].add(str(r["UserOrGroupId"]))
    resources = {
        str(r["Id"]): str(r["RelatedRecordId"])
        for r in store.find("ServiceResource")
        if r.get("IsActive")
    }
    skills: dict[str, dict[str, float]] = defaultdict(dict)
    for r in store.find("ServiceResourceSkill"):
        user = resources.get(str(r["ServiceResourceId"]))
        start, end = r.get("EffectiveStartDate"), r.get("EffectiveEndDate")
        started = not isinstance(start, datetime) or start <= now
        ended = isinstance(end, datetime) and end <= now
        if user is None or not started or ended:
            continue
        skills[user][str(r["SkillId"])] = _num(r.get("SkillLevel"))
    return Setup(capacity=capacity, status_channels=status_channels, members=members, skills=skills)


def read_facts(org: Org, setup: Setup | None = None) -> Facts:
    """The routing rows now; ``setup`` if given (else read afresh)."""
    store = org.store
    online = {
        str(p["UserId"]): str(p["ServicePresenceStatusId"])
        for p in store.find("UserServicePresence", IsCurrentState=True)
    }
    psrs = store.find("PendingServiceRouting")
    needs: dict[str, list[Row]] = defaultdict(list)
    for req in store.find_in("SkillRequirement", "RelatedRecordId", [str(p["Id"]) for p in psrs]):
        needs[str(req["RelatedRecordId"])].append(req)
    t = org.db.system["omni_item"]
    with org.db.read() as conn:
        dropped = {str(r.psr_id): int(r.dropped_groups) for r in conn.execute(select(t))}
    return Facts(
        setup=setup or read_setup(org),
        online=online,
        works=store.find("AgentWork"),
        psrs=psrs,
        needs=needs,
        dropped=dropped,
        timers=[(tm.kind, tm.key) for tm in org.timers.list()],
    )


# -- the invariants -------------------------------------------------------------------


def violations(
    org: Org, tracked: Mapping[str, Entered] | None = None, facts: Facts | None = None
) -> list[str]:
    """Everything wrong with the org's routing state; with ``tracked``, also the work
    items that entered routing and are nowhere now."""
    facts = facts or read_facts(org)
    out = [
        *capacity_violations(facts),
        *double_work(facts),
        *request_violations(facts),
        *waiting_violations(facts),
        *timer_violations(facts),
    ]
    if tracked is not None:
        out += lost_items(facts, tracked)
    return out


def capacity_violations(facts: Facts) -> list[str]:
    """seed 003, CapacityWeight/CapacityPercentage: an agent's work within capacity
    (work made with ShouldSkipCapacityCheck aside), never more than 100 items."""
    out = []
    by_user: dict[str, list[Row]] = defaultdict(list)
    for w in facts.active:
        by_user[str(w["UserId"])].append(w)
    for user, works in by_user.items():
        checked = [w for w in works if not w.get("ShouldSkipCapacityCheck")]
        used = sum(
            facts.units(user, w.get("CapacityWeight"), w.get("CapacityPercentage")) for w in checked
        )
        if used > facts.capacity(user) + EPS:
            out.append(f"user {user} holds {used:g} units over capacity {facts.capacity(user):g}")
        if len(works) > MAX_OPEN_ITEMS:
            out.append(f"user {user} holds {len(works)} items, over {MAX_OPEN_ITEMS}")
    return out


def double_work(facts: Facts) -> list[str]:
    """One active AgentWork per work item; the one exception is a transfer to an agent
    not yet accepted (seed 003, "Agent transfers the work to another agent"): the
    first agent's Opened work and the offer, Assigned without a request."""
    out = []
    by_item: dict[str, list[Row]] = defaultdict(list)
    for w in facts.active:
        by_item[str(w["WorkItemId"])].append(w)
    for item, works in by_item.items():
        if len(works) == 1:
            continue
        statuses = sorted(str(w["Status"]) for w in works)
        offer = [w for w in works if w["Status"] == "Assigned"]
        if not (
            len(works) == 2
            and statuses == ["Assigned", "Opened"]
            and not offer[0].get("PendingServiceRoutingId")
            and offer[0]["UserId"] != next(w["UserId"] for w in works if w is not offer[0])
        ):
            out.append(f"work item {item} has {len(works)} active AgentWorks: {statuses}")
    return out


def request_violations(facts: Facts) -> list[str]:
    """One live request per work item; a request is pushed exactly while an active
    AgentWork made for it exists."""
    out = []
    per_item: dict[str, int] = defaultdict(int)
    for p in facts.psrs:
        per_item[str(p["WorkItemId"])] += 1
    out += [f"work item {i} has {n} PendingServiceRoutings" for i, n in per_item.items() if n > 1]
    holding = {
        str(w["PendingServiceRoutingId"]) for w in facts.active if w.get("PendingServiceRoutingId")
    }
    live = {str(p["Id"]) for p in facts.psrs}
    for p in facts.psrs:
        pid = str(p["Id"])
        if bool(p.get("IsPushed")) != (pid in holding):
            out.append(
                f"request {pid} IsPushed={p.get('IsPushed')} but active work: {pid in holding}"
            )
    for w in facts.active:
        psr = w.get("PendingServiceRoutingId")
        if psr and str(psr) not in live and w["Status"] == "Assigned":
            out.append(f"assigned work {w['Id']} has no live request {psr}")
    return out


def active_skills(needs: Iterable[Row], dropped: int) -> list[Row]:
    """seed 003, DropAdditionalSkillsTimeout: additional skills are dropped a group of
    equal SkillPriority at a time, highest priority first."""
    needs = list(needs)
    groups = sorted(
        {int(n.get("SkillPriority") or 0) for n in needs if n.get("IsAdditionalSkill")},
        reverse=True,
    )
    gone = set(groups[:dropped])
    return [
        n
        for n in needs
        if not (n.get("IsAdditionalSkill") and int(n.get("SkillPriority") or 0) in gone)
    ]


def could_take(facts: Facts, psr: Row, user: str, held: Mapping[str, list[Row]]) -> str | None:
    """Why ``user`` cannot take ``psr`` now (None: they can), from the rules in
    router.py's docstring: online in a status with the channel, in the queue or with
    the skills, with room."""
    if user not in facts.online:
        return "offline"
    if str(psr["ServiceChannelId"]) not in facts.channels(user):
        return "no channel"
    if psr.get("RoutingType") == "QueueBased":
        if user not in facts.setup.members.get(str(psr.get("GroupId")), set()):
            return "not in queue"
    else:
        for need in active_skills(
            facts.needs[str(psr["Id"])], facts.dropped.get(str(psr["Id"]), 0)
        ):
            level = facts.setup.skills.get(user, {}).get(str(need["SkillId"]))
            if level is None or level < _num(need.get("SkillLevel")):
                return "skills"
    works = held.get(user, [])
    if len(works) >= MAX_OPEN_ITEMS:
        return "100 items"
    used = sum(
        facts.units(user, w.get("CapacityWeight"), w.get("CapacityPercentage")) for w in works
    )
    if (
        used + facts.units(user, psr.get("CapacityWeight"), psr.get("CapacityPercentage"))
        > facts.capacity(user) + EPS
    ):
        return "no room"
    return None


def waiting_violations(facts: Facts) -> list[str]:
    """No waiting item that an online eligible agent has room for. (Work placed in a
    pass only takes room, so once the pass is over no item can still be waiting on
    an agent with room; "waiting behind higher-priority work" is already over.)"""
    held: dict[str, list[Row]] = defaultdict(list)
    for w in facts.active:
        held[str(w["UserId"])].append(w)
    out = []
    for p in facts.psrs:
        if (
            not p.get("IsReadyForRouting")
            or p.get("IsPushed")
            or p.get("RoutingModel") == "ExternalRouting"
        ):
            continue
        pref = p.get("PreferredUserId")
        users = [str(pref)] if pref and p.get("IsPreferredUserRequired") else list(facts.online)
        for user in users:
            if could_take(facts, p, user, held) is None:
                out.append(f"request {p['Id']} waits although user {user} could take it")
    return out


def timer_violations(facts: Facts) -> list[str]:
    """Exactly one push-timeout timer per assigned work with a push timeout, none for
    other work; at most one skill-drop timer per request, none for requests gone."""
    out = []
    pushes: dict[str, int] = defaultdict(int)
    drops: dict[str, int] = defaultdict(int)
    for kind, key in facts.timers:
        if kind == "omni.push_timeout":
            pushes[key.removeprefix("omni:push:")] += 1
        elif kind == "omni.drop_skills":
            drops[key.removeprefix("omni:drop:")] += 1
    for w in facts.works:
        want = 1 if w["Status"] == "Assigned" and int(w.get("PushTimeout") or 0) > 0 else 0
        if pushes.pop(str(w["Id"]), 0) != want:
            out.append(f"work {w['Id']} ({w['Status']}) should have {want} push timers")
    out += [f"push timer for unknown work {k}" for k in pushes]
    live = {str(p["Id"]) for p in facts.psrs}
    for psr, n in drops.items():
        if n > 1 or psr not in live:
            out.append(f"{n} drop timers for request {psr} (live: {psr in live})")
    return out


@dataclass(frozen=True, slots=True)
class Entered:
    """A work item that entered routing (given to a queue, requested, transferred to a
    queue or skills): when it last did, and whether it may have left routing since
    (its record given to a user or to a queue that does not route)."""

    at: datetime
    may_withdraw: bool = False


def lost_items(facts: Facts, tracked: Mapping[str, Entered]) -> list[str]:
    """Every work item that entered routing is waiting, with an agent or closed since
    it last entered; or, if it may have been, withdrawn."""
    waiting = {str(p["WorkItemId"]) for p in facts.psrs if p.get("IsReadyForRouting")}
    with_agent = {str(w["WorkItemId"]) for w in facts.active}
    works: dict[str, list[Row]] = defaultdict(list)
    for w in sorted(facts.works, key=lambda w: (w["CreatedDate"], str(w["Id"]))):
        works[str(w["WorkItemId"])].append(w)
    out = []
    for item, entered in tracked.items():
        closed = any(
            w["Status"] == "Closed"
            and isinstance(w.get("CloseDateTime"), datetime)
            and w["CloseDateTime"] >= entered.at
            for w in works[item]
        )
        if item in waiting or item in with_agent or closed or entered.may_withdraw:
            continue
        statuses = [str(w["Status"]) for w in works[item]]
        out.append(f"work item {item} is lost (its work: {statuses})")
    return out


# -- memory ---------------------------------------------------------------------------


def memory_view(engine: OmniEngine) -> dict[str, Any]:
    """Agents, loads and waiting items as the engine holds them."""
    agents = {
        uid: {
            "status": a.status_id,
            "channels": sorted(a.channel_ids),
            "capacity": a.capacity,
            "queues": sorted(a.queues),
            "skills": sorted(a.skills.items()),
            "idle_since": a.idle_since,
            "loads": {
                w: (ld.work_item_id, ld.channel_id, ld.weight, ld.percent, ld.opened, ld.skip_check)
                for w, ld in a.loads.items()
            },
        }
        for uid, a in engine.pool.agents.items()
    }
    items = {
        pid: {
            "work": i.work_id,
            "item": i.work_item_id,
            "type": i.routing_type.value,
            "model": i.model.value,
            "queue": i.queue_id,
            "priority": (i.priority, i.secondary, i.requested_at),
            "units": (i.weight, i.percent),
            "push_timeout": i.push_timeout,
            "preferred": (i.preferred_user_id, i.preferred_required),
            "skills": i.skills,
            "drop": (i.drop_timeout, i.dropped_groups),
            "declined": (sorted(i.declined), i.last_declined),
            "lane": i.lane,
        }
        for pid, i in engine.backlog.items.items()
    }
    order = [i.psr_id for i in sorted(engine.backlog.waiting(), key=lambda i: i.sort_key)]
    return {"agents": agents, "items": items, "order": order}


def memory_violations(facts: Facts, engine: OmniEngine) -> list[str]:
    """Memory against the database rows directly: who is online, what each holds,
    which requests are waiting and with which work."""
    out = []
    if set(engine.pool.agents) != set(facts.online):
        out.append(
            f"online in memory {sorted(engine.pool.agents)} != database {sorted(facts.online)}"
        )
    for uid, agent in engine.pool.agents.items():
        if facts.online.get(uid) != agent.status_id:
            out.append(f"agent {uid} status {agent.status_id} != {facts.online.get(uid)}")
        works = {str(w["Id"]): w for w in facts.active if str(w["UserId"]) == uid}
        if set(agent.loads) != set(works):
            out.append(f"agent {uid} loads {sorted(agent.loads)} != active work {sorted(works)}")
        for wid, ld in agent.loads.items():
            w = works.get(wid)
            if w is not None and ld.opened != (w["Status"] == "Opened"):
                out.append(f"load {wid} opened={ld.opened} but work is {w['Status']}")
    ready = {str(p["Id"]): p for p in facts.psrs if p.get("IsReadyForRouting")}
    if set(engine.backlog.items) != set(ready):
        out.append(f"backlog {sorted(engine.backlog.items)} != ready requests {sorted(ready)}")
    by_psr = {
        str(w["PendingServiceRoutingId"]): str(w["Id"])
        for w in facts.active
        if w.get("PendingServiceRoutingId")
    }
    for pid, item in engine.backlog.items.items():
        if item.work_id != by_psr.get(pid):
            out.append(f"item {pid} work {item.work_id} != active work {by_psr.get(pid)}")
    return out


def _num(value: object) -> float:
    return float(value or 0)  # type: ignore[arg-type]


def view_diff(rebuilt: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """Where a rebuilt memory view differs from the live one, one line per value."""
    out = []
    for part in ("agents", "items"):
        a, b = rebuilt[part], live[part]
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{part} {key}: rebuilt has {key in a}, live has {key in b}")
                continue
            for name in a[key]:
                if a[key][name] != b[key][name]:
                    out.append(
                        f"{part} {key} {name}: rebuilt {a[key][name]!r} != live {b[key][name]!r}"
                    )
    if rebuilt["order"] != live["order"]:
        out.append(f"order: rebuilt {rebuilt['order']} != live {live['order']}")
    return out
