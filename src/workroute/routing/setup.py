"""The routing setup: channels, routing configurations, queues, statuses, presence
configurations and agent skills, read from their records into frozen values.

Setup changes seldom and routing reads it on every decision, so it is loaded once
into a :class:`RoutingSetup` and loaded again whenever a save touches one of
:data:`SETUP_OBJECTS` (after that save commits). Names follow seed 003.

Presence status access (seed 003, login and setServicePresenceStatus: "Agents must be
given access to this presence status through their associated profile or permission
set"; Salesforce's Service Presence Statuses Access): a user may use a status when a
``SetupEntityAccess`` row of SetupEntityType ServicePresenceStatus for it has as
ParentId the user's profile, a permission set assigned to them
(``PermissionSetAssignment``) or the permission set their profile owns
(``PermissionSet`` with IsOwnedByProfile and ProfileId). Taking a Profile id as
ParentId is workroute's; Salesforce only takes the profile's permission set. So that
orgs which never granted any status keep working, the rule holds only once the org has
at least one such SetupEntityAccess row: until then every user may use every status.
Access is checked when an agent picks a status (login, setServicePresenceStatus); an
agent already in a status keeps it when a grant goes away.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from workroute.routing.model import CapacityModel, RoutingModel

Record = Mapping[str, object]

#: Saving any of these changes how work is routed.
SETUP_OBJECTS = frozenset(
    name.lower()
    for name in (
        "ServiceChannel",
        "ServiceChannelStatusField",
        "ServiceChannelFieldPriority",
        "QueueRoutingConfig",
        "Group",
        "GroupMember",
        "QueueSobject",
        "QueueSubject",
        "ServicePresenceStatus",
        "ServiceChannelStatus",
        "PresenceUserConfig",
        "PresenceUserConfigUser",
        "PresenceUserConfigProfile",
        "PresenceConfigDeclineReason",
        "PresenceDeclineReason",
        "Skill",
        "ServiceResource",
        "ServiceResourceSkill",
        "User",
        "UserRole",
        "Profile",
        "PermissionSet",
        "PermissionSetAssignment",
        "SetupEntityAccess",
    )
)

#: SetupEntityAccess.SetupEntityType of a presence status grant.
STATUS_ENTITY = "ServicePresenceStatus"

#: Capacity of an agent who has no presence configuration.
DEFAULT_CAPACITY = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    id: str
    developer_name: str
    label: str
    related_entity: str
    capacity_model: CapacityModel
    status_field: str | None = None
    completed_values: frozenset[str] = frozenset()
    in_progress_values: frozenset[str] = frozenset()
    paused_values: frozenset[str] = frozenset()
    secondary_priority_field: str | None = None
    #: Secondary priority by value of ``secondary_priority_field`` (lower routes first).
    field_priorities: Mapping[str, int] = field(default_factory=dict)
    check_capacity_on_owner_change: bool = False
    check_capacity_on_status_change: bool = False
    after_conversation_seconds: int | None = None
    acw_extension_seconds: int | None = None
    max_acw_extensions: int = 0

    def secondary_priority(self, record: Record) -> int | None:
        if not self.secondary_priority_field:
            return None
        value = record.get(self.secondary_priority_field)
        return None if value is None else self.field_priorities.get(str(value))


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingConfig:
    id: str
    developer_name: str
    model: RoutingModel
    priority: int
    capacity_weight: float | None
    capacity_percentage: float | None
    push_timeout: int
    overflow_assignee_id: str | None
    drop_additional_skills_timeout: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Queue:
    id: str
    name: str
    developer_name: str
    config_id: str | None
    #: Object names (as the schema spells them) this queue takes.
    object_types: frozenset[str]
    #: Users who are members, directly or through groups and roles.
    members: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceStatus:
    id: str
    developer_name: str
    label: str
    channel_ids: frozenset[str]

    @property
    def is_away(self) -> bool:
        """seed: a status with no channels is busy/away (receives no work)."""
        return not self.channel_ids


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceConfig:
    id: str
    developer_name: str
    capacity: int
    auto_accept: bool = False
    decline_enabled: bool = True
    decline_reason_enabled: bool = False
    decline_reason_ids: frozenset[str] = frozenset()
    request_sound_enabled: bool = True
    disconnect_sound_enabled: bool = False
    status_on_decline_id: str | None = None
    status_on_push_timeout_id: str | None = None


DEFAULT_PRESENCE = PresenceConfig(id="", developer_name="", capacity=DEFAULT_CAPACITY)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingSetup:
    channels: Mapping[str, Channel] = field(default_factory=dict)
    configs: Mapping[str, RoutingConfig] = field(default_factory=dict)
    queues: Mapping[str, Queue] = field(default_factory=dict)
    statuses: Mapping[str, PresenceStatus] = field(default_factory=dict)
    presence_configs: Mapping[str, PresenceConfig] = field(default_factory=dict)
    #: user id -> presence configuration id (user assignment wins over profile).
    user_configs: Mapping[str, str] = field(default_factory=dict)
    decline_reasons: Mapping[str, str] = field(default_factory=dict)
    skills: Mapping[str, str] = field(default_factory=dict)
    #: user id -> skill id -> level (active resources, skills effective at load time).
    agent_skills: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    active_users: frozenset[str] = frozenset()
    #: group id -> its active users, through nested groups and roles (any group type).
    group_users: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: user id -> the presence statuses granted to them; None while the org grants
    #: none, when every user may use every status (module docstring).
    status_access: Mapping[str, frozenset[str]] | None = None

    def channel_for(self, object_name: str) -> Channel | None:
        key = object_name.lower()
        for ch in self.channels.values():
            if ch.related_entity.lower() == key:
                return ch
        return None

    def presence_for(self, user_id: str) -> PresenceConfig:
        cid = self.user_configs.get(user_id)
        return self.presence_configs.get(cid, DEFAULT_PRESENCE) if cid else DEFAULT_PRESENCE

    def may_use_status(self, user_id: str, status_id: str) -> bool:
        """Whether the user may pick this presence status (module docstring)."""
        access = self.status_access
        return access is None or status_id in access.get(user_id, frozenset())

    def usable_statuses(self, user_id: str) -> list[PresenceStatus]:
        """The statuses the user may pick, by label."""
        return sorted(
            (s for s in self.statuses.values() if self.may_use_status(user_id, s.id)),
            key=lambda s: (s.label.casefold(), s.developer_name, s.id),
        )

    def routing_config(self, queue_id: str | None) -> RoutingConfig | None:
        queue = self.queues.get(queue_id) if queue_id else None
        return self.configs.get(queue.config_id) if queue and queue.config_id else None


Finder = Callable[[str], list[dict[str, object]]]


def load_setup(find: Finder, now: datetime) -> RoutingSetup:
    """Read the setup records (``find(object_name)`` returns all live rows)."""
    status_fields: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in find("ServiceChannelStatusField"):
        status_fields[str(r["ServiceChannelId"])][str(r.get("Type") or "")].add(str(r["Value"]))
    field_priorities: dict[str, dict[str, int]] = defaultdict(dict)
    for r in find("ServiceChannelFieldPriority"):
        field_priorities[str(r["ServiceChannelId"])][str(r["Value"])] = int(_num(r["Priority"]))
    channels = {
        str(r["Id"]): _channel(r, status_fields[str(r["Id"])], field_priorities[str(r["Id"])])
        for r in find("ServiceChannel")
    }
    configs = {str(r["Id"]): _config(r) for r in find("QueueRoutingConfig")}

    groups = {str(g["Id"]): g for g in find("Group")}
    users = find("User")
    active = frozenset(str(u["Id"]) for u in users if u.get("IsActive") is not False)
    members = group_members(groups, find("GroupMember"), users, find("UserRole"), active)
    types: dict[str, set[str]] = defaultdict(set)
    for r in (*find("QueueSobject"), *find("QueueSubject")):
        kind = r.get("SobjectType") or r.get("SubjectType")
        types[str(r["QueueId"])].add(str(kind))
    queues = {
        gid: Queue(
            id=gid,
            name=str(g.get("Name") or ""),
            developer_name=str(g.get("DeveloperName") or ""),
            config_id=_opt(g.get("QueueRoutingConfigId")),
            object_types=frozenset(types[gid]),
            members=members.get(gid, frozenset()),
        )
        for gid, g in groups.items()
        if g.get("Type") == "Queue"
    }

    status_channels: dict[str, set[str]] = defaultdict(set)
    for r in find("ServiceChannelStatus"):
        if r.get("ServicePresenceStatusId"):
            status_channels[str(r["ServicePresenceStatusId"])].add(str(r["ServiceChannelId"]))
    statuses = {
        str(r["Id"]): PresenceStatus(
            id=str(r["Id"]),
            developer_name=str(r.get("DeveloperName") or ""),
            label=str(r.get("MasterLabel") or ""),
            channel_ids=frozenset(status_channels[str(r["Id"])] & channels.keys()),
        )
        for r in find("ServicePresenceStatus")
    }

    reasons_by_config: dict[str, set[str]] = defaultdict(set)
    for r in find("PresenceConfigDeclineReason"):
        if r.get("PresenceDeclineReasonId"):
            reasons_by_config[str(r["PresenceUserConfigId"])].add(str(r["PresenceDeclineReasonId"]))
    presence = {
        str(r["Id"]): _presence(r, reasons_by_config[str(r["Id"])])
        for r in find("PresenceUserConfig")
    }
    user_configs: dict[str, str] = {}
    by_profile = {
        str(r["ProfileId"]): str(r["PresenceUserConfigId"])
        for r in find("PresenceUserConfigProfile")
    }
    for u in users:
        cid = by_profile.get(str(u.get("ProfileId")))
        if cid:
            user_configs[str(u["Id"])] = cid
    for r in find("PresenceUserConfigUser"):
        user_configs[str(r["UserId"])] = str(r["PresenceUserConfigId"])  # the user wins

    resources = {
        str(r["Id"]): str(r["RelatedRecordId"])
        for r in find("ServiceResource")
        if r.get("IsActive") and r.get("RelatedRecordId")
    }
    agent_skills: dict[str, dict[str, float]] = defaultdict(dict)
    for r in find("ServiceResourceSkill"):
        user = resources.get(str(r["ServiceResourceId"]))
        if user is None or not _effective(r, now):
            continue
        level = _num(r.get("SkillLevel") or 0)
        skill = str(r["SkillId"])
        agent_skills[user][skill] = max(level, agent_skills[user].get(skill, 0.0))

    return RoutingSetup(
        channels=channels,
        configs=configs,
        queues=queues,
        statuses=statuses,
        presence_configs=presence,
        user_configs=user_configs,
        decline_reasons={
            str(r["Id"]): str(r.get("MasterLabel") or r.get("DeveloperName") or "")
            for r in find("PresenceDeclineReason")
        },
        skills={str(r["Id"]): str(r.get("DeveloperName") or "") for r in find("Skill")},
        agent_skills={u: dict(s) for u, s in agent_skills.items()},
        active_users=active,
        group_users=members,
        status_access=status_access(find, users),
    )


def status_access(find: Finder, users: Iterable[Record]) -> dict[str, frozenset[str]] | None:
    """user id -> the presence statuses granted to them, or None when the org has no
    presence status grant at all (the rule is not enforced; module docstring)."""
    grants: dict[str, set[str]] = defaultdict(set)
    for r in find("SetupEntityAccess"):
        if r.get("SetupEntityType") == STATUS_ENTITY and r.get("SetupEntityId"):
            grants[str(r["ParentId"])].add(str(r["SetupEntityId"]))
    if not grants:
        return None
    live = {str(p["Id"]) for p in find("Profile")}  # grants of deleted parents are void
    owned: dict[str, set[str]] = defaultdict(set)
    for ps in find("PermissionSet"):
        live.add(str(ps["Id"]))
        if ps.get("IsOwnedByProfile") and ps.get("ProfileId"):
            owned[str(ps["ProfileId"])].add(str(ps["Id"]))
    assigned: dict[str, set[str]] = defaultdict(set)
    for a in find("PermissionSetAssignment"):
        assigned[str(a["AssigneeId"])].add(str(a["PermissionSetId"]))
    out: dict[str, frozenset[str]] = {}
    for u in users:
        uid, profile = str(u["Id"]), str(u.get("ProfileId") or "")
        parents = ({profile} | owned[profile] | assigned[uid]) & live
        out[uid] = frozenset(s for p in parents for s in grants.get(p, ()))
    return out


def _channel(r: Record, statuses: Mapping[str, set[str]], priorities: dict[str, int]) -> Channel:
    model = CapacityModel(str(r.get("CapacityModel") or CapacityModel.TAB_BASED.value))
    return Channel(
        id=str(r["Id"]),
        developer_name=str(r.get("DeveloperName") or ""),
        label=str(r.get("MasterLabel") or ""),
        related_entity=str(r.get("RelatedEntity") or ""),
        capacity_model=model,
        status_field=_opt(r.get("StatusField")),
        completed_values=frozenset(statuses.get("Completed", ())),
        in_progress_values=frozenset(statuses.get("InProgress", ())),
        paused_values=frozenset(statuses.get("Paused", ())),
        secondary_priority_field=_opt(r.get("SecRoutingPriorityField")),
        field_priorities=priorities,
        check_capacity_on_owner_change=bool(r.get("DoesCheckCapOnOwnerChange")),
        check_capacity_on_status_change=bool(r.get("DoesCheckCapOnStatusChange")),
        after_conversation_seconds=(
            int(_num(r["AfterConvoWorkMaxTime"]))
            if r.get("HasAfterConvoWorkTimer") and r.get("AfterConvoWorkMaxTime")
            else None
        ),
        acw_extension_seconds=(
            int(_num(r["AcwExtensionDuration"]))
            if r.get("HasAcwExtensionEnabled") and r.get("AcwExtensionDuration")
            else None
        ),
        max_acw_extensions=int(_num(r.get("MaxExtensions") or 0))
        if r.get("HasAcwExtensionEnabled")
        else 0,
    )


def _config(r: Record) -> RoutingConfig:
    timeout = r.get("DropAdditionalSkillsTimeout")
    return RoutingConfig(
        id=str(r["Id"]),
        developer_name=str(r.get("DeveloperName") or ""),
        model=RoutingModel(str(r.get("RoutingModel") or RoutingModel.MOST_AVAILABLE.value)),
        priority=int(_num(r.get("RoutingPriority") or 0)),
        capacity_weight=None if r.get("CapacityWeight") is None else _num(r["CapacityWeight"]),
        capacity_percentage=(
            None if r.get("CapacityPercentage") is None else _num(r["CapacityPercentage"])
        ),
        push_timeout=int(_num(r.get("PushTimeout") or 0)),
        overflow_assignee_id=_opt(r.get("OverflowAssigneeId")),
        drop_additional_skills_timeout=None if timeout is None else int(_num(timeout)),
    )


def _presence(r: Record, reasons: set[str]) -> PresenceConfig:
    return PresenceConfig(
        id=str(r["Id"]),
        developer_name=str(r.get("DeveloperName") or ""),
        capacity=int(_num(r.get("Capacity") or 0)),
        auto_accept=bool(r.get("OptionsIsAutoAcceptEnabled")),
        decline_enabled=r.get("OptionsIsDeclineEnabled") is not False,
        decline_reason_enabled=bool(r.get("OptionsIsDeclineReasonEnabled")),
        decline_reason_ids=frozenset(reasons),
        request_sound_enabled=r.get("OptionsIsRequestSoundEnabled") is not False,
        disconnect_sound_enabled=bool(r.get("OptionsIsDisconnectSoundEnabled")),
        status_on_decline_id=_opt(r.get("PresenceStatusOnDeclineId")),
        status_on_push_timeout_id=_opt(r.get("PresenceStatusOnPushTimeoutId")),
    )


def group_members(
    groups: Mapping[str, Record],
    rows: Iterable[Record],
    users: Iterable[Record],
    roles: Iterable[Record],
    active: frozenset[str],
) -> dict[str, frozenset[str]]:
    """Users of each group, following nested groups, roles and role hierarchies."""
    direct: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        direct[str(r["GroupId"])].add(str(r["UserOrGroupId"]))
    by_role: dict[str, set[str]] = defaultdict(set)
    for u in users:
        if u.get("UserRoleId"):
            by_role[str(u["UserRoleId"])].add(str(u["Id"]))
    children: dict[str, set[str]] = defaultdict(set)
    for role in roles:
        if role.get("ParentRoleId"):
            children[str(role["ParentRoleId"])].add(str(role["Id"]))

    def below(role_id: str) -> set[str]:
        out, todo = set(), [role_id]
        while todo:
            rid = todo.pop()
            if rid in out:
                continue
            out.add(rid)
            todo.extend(children[rid])
        return out

    def users_of(gid: str, seen: frozenset[str]) -> set[str]:
        g = groups.get(gid)
        if g is None or gid in seen:
            return set()
        kind = g.get("Type")
        related = str(g.get("RelatedId") or "")
        if kind == "Role":
            return set(by_role[related])
        if kind == "RoleAndSubordinates":
            return {u for rid in below(related) for u in by_role[rid]}
        if kind == "Organization":
            return set(active)
        out: set[str] = set()
        for member in direct[gid]:
            if member in groups:
                out |= users_of(member, seen | {gid})
            else:
                out.add(member)
        return out

    return {gid: frozenset(users_of(gid, frozenset()) & active) for gid in groups}


def _effective(r: Record, now: datetime) -> bool:
    start, end = r.get("EffectiveStartDate"), r.get("EffectiveEndDate")
    if isinstance(start, datetime) and start > now:
        return False
    return not (isinstance(end, datetime) and end <= now)


def _num(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


def _opt(value: object) -> str | None:
    return None if value in (None, "") else str(value)
