"""A small contact centre built in-process through the store, for the routing property
and crash tests: what exists (:class:`Floor`) and how to build it (:func:`build_floor`).

Four agents on one Case channel, with different capacities and presence options:

- ``a0`` and ``a1``: capacity 6, decline allowed;
- ``a2``: capacity 3, goes Busy when a push times out;
- ``a3``: capacity 2, accepts work automatically.

Queues: ``q1`` (MostAvailable, weight 2, push timeout 30 s, priority 1, members a0 a1
a2), ``q2`` (LeastActive, 50 %, no push timeout, priority 2, members a1 a2 a3),
``ext`` (ExternalRouting, weight 1) and ``holding`` (no routing configuration: where
records wait while a skills-based request routes them). Skills s0, s1, s2 at levels
that differ per agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workroute.org import NewUser, Org

AGENTS = ("a0", "a1", "a2", "a3")
SKILLS = ("s0", "s1", "s2")
#: agent -> skill -> level.
AGENT_SKILLS: dict[str, dict[str, int]] = {
    "a0": {"s0": 5, "s1": 3},
    "a1": {"s0": 2, "s2": 5},
    "a2": {"s1": 5, "s2": 2},
    "a3": {"s0": 5, "s1": 5, "s2": 5},
}


def username(agent: str) -> str:
    return f"{agent}@floor.example.com"


QUEUE_MEMBERS = {"q1": ("a0", "a1", "a2"), "q2": ("a1", "a2", "a3"), "ext": ("a0", "a1")}


@dataclass(frozen=True, slots=True)
class Floor:
    """Ids of what :func:`build_floor` made."""

    admin: str
    channel: str
    available: str
    busy: str
    agents: dict[str, str]
    queues: dict[str, str]
    holding: str
    skills: dict[str, str]

    def agent_name(self, user_id: str) -> str:
        return next(name for name, uid in self.agents.items() if uid == user_id)


def _one(org: Org, admin: str, name: str, row: dict[str, Any]) -> str:
    return org.store.insert(name, [row], user_id=admin, from_api=True)[0]


def build_floor(org: Org, *, password: str | None = None) -> Floor:
    """The setup records (and the agents, with ``password`` if they are to log in
    through the API)."""
    admin = org.admin_user_id()

    def make(name: str, **row: Any) -> str:
        return _one(org, admin, name, row)

    channel = make(
        "ServiceChannel", DeveloperName="Cases", MasterLabel="Cases", RelatedEntity="Case"
    )
    available = make("ServicePresenceStatus", DeveloperName="Available", MasterLabel="Available")
    make("ServiceChannelStatus", ServiceChannelId=channel, ServicePresenceStatusId=available)
    busy = make("ServicePresenceStatus", DeveloperName="Busy", MasterLabel="Busy")

    agents = {
        name: org.add_user(
            NewUser(
                username=username(name),
                last_name=name.upper(),
                email=username(name),
            ),
            password=password,
        )
        for name in AGENTS
    }

    def presence(name: str, members: tuple[str, ...], **fields: Any) -> None:
        cid = make(
            "PresenceUserConfig",
            DeveloperName=name,
            MasterLabel=name,
            OptionsIsDeclineEnabled=True,
            **fields,
        )
        for m in members:
            make("PresenceUserConfigUser", PresenceUserConfigId=cid, UserId=agents[m])

    presence("Six", ("a0", "a1"), Capacity=6)
    presence("Three", ("a2",), Capacity=3, PresenceStatusOnPushTimeoutId=busy)
    presence("Auto", ("a3",), Capacity=2, OptionsIsAutoAcceptEnabled=True)

    def config(name: str, **fields: Any) -> str:
        return make("QueueRoutingConfig", DeveloperName=name, MasterLabel=name, **fields)

    configs = {
        "q1": config(
            "C1", RoutingModel="MostAvailable", RoutingPriority=1, CapacityWeight=2, PushTimeout=30
        ),
        "q2": config("C2", RoutingModel="LeastActive", RoutingPriority=2, CapacityPercentage=50),
        "ext": config("Cx", RoutingModel="ExternalRouting", RoutingPriority=1, CapacityWeight=1),
    }

    def queue(name: str, config_id: str | None) -> str:
        qid = make(
            "Group", Name=name, DeveloperName=name, Type="Queue", QueueRoutingConfigId=config_id
        )
        make("QueueSobject", QueueId=qid, SobjectType="Case")
        return qid

    queues = {name: queue(name, cid) for name, cid in configs.items()}
    for name, members in QUEUE_MEMBERS.items():
        for m in members:
            make("GroupMember", GroupId=queues[name], UserOrGroupId=agents[m])
    holding = queue("holding", None)

    skills = {s: make("Skill", DeveloperName=s, MasterLabel=s) for s in SKILLS}
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for name, levels in AGENT_SKILLS.items():
        resource = make(
            "ServiceResource",
            Name=name,
            RelatedRecordId=agents[name],
            IsActive=True,
            ResourceType="A",
        )
        for skill, level in levels.items():
            make(
                "ServiceResourceSkill",
                ServiceResourceId=resource,
                SkillId=skills[skill],
                SkillLevel=level,
                EffectiveStartDate=start,
            )
    return Floor(
        admin=admin,
        channel=channel,
        available=available,
        busy=busy,
        agents=agents,
        queues=queues,
        holding=holding,
        skills=skills,
    )


def find_floor(org: Org) -> Floor:
    """The :class:`Floor` of an org :func:`build_floor` made (read back by name)."""
    store = org.store

    def by_name(obj: str, field: str, value: str) -> str:
        return str(store.find(obj, **{field: value})[0]["Id"])

    return Floor(
        admin=org.admin_user_id(),
        channel=by_name("ServiceChannel", "DeveloperName", "Cases"),
        available=by_name("ServicePresenceStatus", "DeveloperName", "Available"),
        busy=by_name("ServicePresenceStatus", "DeveloperName", "Busy"),
        agents={a: by_name("User", "Username", username(a)) for a in AGENTS},
        queues={q: by_name("Group", "DeveloperName", q) for q in QUEUE_MEMBERS},
        holding=by_name("Group", "DeveloperName", "holding"),
        skills={s: by_name("Skill", "DeveloperName", s) for s in SKILLS},
    )
