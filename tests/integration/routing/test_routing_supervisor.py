"""Omni Supervisor through the REST API: the configuration assigned by user or profile,
the four views with their numbers on the org clock, the actions it allows changing
routing, and everything else refused without a change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx2 as httpx

from tests.integration.api.api_harness import USER_PASSWORD, Caller, assert_error, unchanged
from tests.integration.routing.omni_harness import Agent, Centre
from workroute.kernel.clock import ManualClock
from workroute.kernel.ids import make_id

SUP = "/services/omni/v1/supervisor"
CHANGE_QUEUES = "AllAgents.ChangeQueues"
CHANGE_SKILLS = "AllAgents.ChangeSkills"
MANAGE_QUEUES = "QueuesBacklog.ManageQueues"


# -- building supervisors ---------------------------------------------------------------


def supervisor_profile(centre: Centre, name: str = "Omni Supervisors", *, omni: bool = True) -> str:
    return centre.admin.create(
        "Profile", {"Name": name, "PermissionsApiEnabled": True, "PermissionsOmniSupervisor": omni}
    )


class Supervisor:
    def __init__(self, centre: Centre, name: str, profile: str) -> None:
        username = f"{name}@supervisors.example.com"
        self.user_id = centre.api.add_user(username, profile=profile)
        self.caller: Caller = centre.api.caller(username, USER_PASSWORD)

    def get(self, view: str) -> httpx.Response:
        return self.caller.get(f"{SUP}/{view}")

    def view(self, view: str) -> Any:
        resp = self.get(view)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body if view == "config" else body[{"work": "works"}.get(view, view)]

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.caller.post(f"{SUP}/{path}", body)

    def ok(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.post(path, body)
        assert resp.status_code == 200, resp.text
        result: dict[str, Any] = resp.json()
        assert result["success"] is True
        return result


def supervisor_config(
    centre: Centre,
    name: str,
    *,
    users: Sequence[str] = (),
    profiles: Sequence[str] = (),
    queues: Sequence[str] = (),
    skills: Sequence[str] = (),
    groups: Sequence[str] = (),
    actions: Sequence[str] = (),
    **fields: Any,
) -> str:
    admin = centre.admin
    cid = admin.create(
        "OmniSupervisorConfig", {"DeveloperName": name, "MasterLabel": name, **fields}
    )
    children: list[tuple[str, str, Sequence[str]]] = [
        ("OmniSupervisorConfigUser", "UserId", users),
        ("OmniSupervisorConfigProfile", "ProfileId", profiles),
        ("OmniSupervisorConfigQueue", "QueueId", queues),
        ("OmniSupervisorConfigSkill", "SkillId", skills),
        ("OmniSupervisorConfigGroup", "GroupId", groups),
    ]
    for obj, field, ids in children:
        for rid in ids:
            admin.create(obj, {"OmniSupervisorConfigId": cid, field: rid})
    for order, action in enumerate(actions, start=1):
        admin.create(
            "OmniSupervisorConfigAction",
            {
                "OmniSupervisorConfigId": cid,
                "OmniSupervisorActionType": action,
                "DisplayOrder": order,
            },
        )
    return cid


def team(centre: Centre, name: str, agents: Sequence[Agent]) -> str:
    """A public group of agents, as OmniSupervisorConfigGroup names them."""
    gid = centre.admin.create("Group", {"Name": name, "DeveloperName": name, "Type": "Regular"})
    for a in agents:
        centre.admin.create("GroupMember", {"GroupId": gid, "UserOrGroupId": a.user_id})
    return gid


def skills_request(centre: Centre, needs: dict[str, float], priority: int = 1) -> str:
    """A skills-based request for a new case, ready for routing."""
    case = centre.admin.create("Case", {"Subject": "Skills"})
    psr = centre.admin.create(
        "PendingServiceRouting",
        {
            "WorkItemId": case,
            "ServiceChannelId": centre.channel,
            "RoutingType": "SkillsBased",
            "RoutingModel": "MostAvailable",
            "RoutingPriority": priority,
            "CapacityWeight": 1,
        },
    )
    for skill, level in needs.items():
        centre.admin.create(
            "SkillRequirement", {"RelatedRecordId": psr, "SkillId": skill, "SkillLevel": level}
        )
    resp = centre.admin.patch(f"/sobjects/PendingServiceRouting/{psr}", {"IsReadyForRouting": True})
    assert resp.status_code == 204, resp.text
    return psr


def holds(agent: Agent) -> list[str]:
    return [w["workItemId"] for w in agent.works()]


# -- who is a supervisor ------------------------------------------------------------------


def test_a_user_assignment_wins_over_the_profile_assignment(centre: Centre) -> None:
    profile = supervisor_profile(centre)
    sue, sam = (
        Supervisor(centre, "sue", "Omni Supervisors"),
        Supervisor(centre, "sam", "Omni Supervisors"),
    )
    support = centre.queue("Support", centre.config("C"), [])
    billing = centre.queue("Billing", centre.config("B"), [])
    by_profile = supervisor_config(centre, "ByProfile", profiles=[profile], queues=[billing])
    by_user = supervisor_config(
        centre,
        "ByUser",
        users=[sue.user_id],
        queues=[support],
        actions=[CHANGE_SKILLS, CHANGE_QUEUES],
    )
    mine = sue.view("config")
    assert (mine["configId"], mine["assignedBy"], mine["queueIds"]) == (by_user, "User", [support])
    assert mine["actions"] == [CHANGE_SKILLS, CHANGE_QUEUES]  # in DisplayOrder
    assert mine["skillVisibility"] == "AllSkills" and mine["agentIds"] == []
    theirs = sam.view("config")
    assert (theirs["configId"], theirs["assignedBy"], theirs["queueIds"]) == (
        by_profile,
        "Profile",
        [billing],
    )
    assert [q["queueId"] for q in sue.view("queues")] == [support]
    assert [q["queueId"] for q in sam.view("queues")] == [billing]


def test_users_who_are_not_supervisors_are_refused(centre: Centre) -> None:
    supervisor_profile(centre)
    supervisor_profile(centre, "No Omni", omni=False)
    ann = centre.agent("ann")
    no_config = Supervisor(centre, "nc", "Omni Supervisors")
    no_permission = Supervisor(centre, "np", "No Omni")
    queue = centre.queue("Support", centre.config("C"), [ann])
    supervisor_config(
        centre,
        "Everything",
        users=[no_permission.user_id],
        queues=[queue],
        groups=[team(centre, "Team", [ann])],
        actions=[CHANGE_QUEUES, CHANGE_SKILLS, MANAGE_QUEUES],
    )
    callers = [no_config.caller, no_permission.caller, ann.caller, centre.admin]
    with unchanged(centre.api.org):
        for caller in callers:
            for view in ("config", "queues", "skills", "agents", "work"):
                assert_error(caller.get(f"{SUP}/{view}"), 403, "INSUFFICIENT_ACCESS")
            assert_error(
                caller.post(f"{SUP}/agents/{ann.user_id}/queues", {"add": [queue]}),
                403,
                "INSUFFICIENT_ACCESS",
            )
            assert_error(
                caller.post(f"{SUP}/queues/{queue}/agents", {"add": [ann.user_id]}),
                403,
                "INSUFFICIENT_ACCESS",
            )
        assert centre.api.client.get(f"{SUP}/queues").status_code == 401


# -- views ----------------------------------------------------------------------------------


def test_queues_backlog_counts_waiting_work_by_priority_on_the_org_clock(
    centre: Centre, clock: ManualClock
) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    ann = centre.agent("ann")
    centre.presence("One", [ann], Capacity=1)
    config = centre.config("C", RoutingPriority=1)
    support = centre.queue("Support", config, [ann])
    billing = centre.queue("Billing", centre.config("B"), [ann])
    empty = centre.queue("Empty", centre.config("E"), [])
    supervisor_config(centre, "Sup", users=[boss.user_id], queues=[support, empty])
    centre.case(support)  # T0, priority 1
    clock.advance(10)
    centre.case(support)  # T0+10, priority 1
    resp = centre.admin.patch(f"/sobjects/QueueRoutingConfig/{config}", {"RoutingPriority": 2})
    assert resp.status_code == 204, resp.text
    clock.advance(5)
    centre.case(support)  # T0+15, priority 2
    centre.case(billing)  # not visible
    clock.advance(30)
    assert boss.view("queues") == [
        {
            "queueId": empty,
            "name": "Empty",
            "developerName": "Empty",
            "waiting": 0,
            "oldestWaitSeconds": None,
            "byPriority": [],
            "agentsOnline": 0,
        },
        {
            "queueId": support,
            "name": "Support",
            "developerName": "Support",
            "waiting": 3,
            "oldestWaitSeconds": 45,
            "byPriority": [
                {"routingPriority": 1, "waiting": 2},
                {"routingPriority": 2, "waiting": 1},
            ],
            "agentsOnline": 0,
        },
    ]
    ann.ok("login", statusId=centre.available)  # capacity 1: takes the oldest priority-1 case
    [support_row] = [q for q in boss.view("queues") if q["queueId"] == support]
    assert support_row["waiting"] == 2 and support_row["oldestWaitSeconds"] == 35
    assert support_row["byPriority"] == [
        {"routingPriority": 1, "waiting": 1},
        {"routingPriority": 2, "waiting": 1},
    ]
    assert support_row["agentsOnline"] == 1
    clock.advance(7)
    [support_row] = [q for q in boss.view("queues") if q["queueId"] == support]
    assert support_row["oldestWaitSeconds"] == 42


def test_skills_backlog_follows_the_skill_visibility(centre: Centre, clock: ManualClock) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    french, billing, secret = (
        centre.skill("French"),
        centre.skill("Billing"),
        centre.skill("Secret"),
    )
    cid = supervisor_config(centre, "Sup", users=[boss.user_id], skills=[french, billing])
    skills_request(centre, {french: 2}, priority=1)  # T0
    clock.advance(20)
    skills_request(centre, {french: 1, secret: 1}, priority=2)  # T0+20
    clock.advance(20)
    skills_request(centre, {billing: 4}, priority=3)  # T0+40
    skills_request(centre, {secret: 1}, priority=1)  # T0+40, never visible
    clock.advance(5)
    # AllSkills (the default): only work whose every skill is visible.
    assert boss.view("skills") == [
        {
            "skillId": billing,
            "developerName": "Billing",
            "waiting": 1,
            "oldestWaitSeconds": 5,
            "byPriority": [{"routingPriority": 3, "waiting": 1}],
        },
        {
            "skillId": french,
            "developerName": "French",
            "waiting": 1,
            "oldestWaitSeconds": 45,
            "byPriority": [{"routingPriority": 1, "waiting": 1}],
        },
    ]
    resp = centre.admin.patch(
        f"/sobjects/OmniSupervisorConfig/{cid}", {"SkillVisibility": "AnySkill"}
    )
    assert resp.status_code == 204, resp.text
    by_skill = {s["skillId"]: s for s in boss.view("skills")}
    assert set(by_skill) == {french, billing}
    assert by_skill[french]["waiting"] == 2 and by_skill[french]["oldestWaitSeconds"] == 45
    assert by_skill[french]["byPriority"] == [
        {"routingPriority": 1, "waiting": 1},
        {"routingPriority": 2, "waiting": 1},
    ]
    assert by_skill[billing]["waiting"] == 1
    # Work that an agent holds no longer waits.
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    centre.give_skills(ann, {french: 9})
    ann.ok("login", statusId=centre.available)
    assert len(ann.works()) == 1
    by_skill = {s["skillId"]: s for s in boss.view("skills")}
    assert by_skill[french]["waiting"] == 1 and by_skill[french]["oldestWaitSeconds"] == 25


def test_agents_view_shows_presence_time_in_status_workload_and_flagged_work(
    centre: Centre, clock: ManualClock
) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    ann, bo, cy = centre.agent("ann"), centre.agent("bo"), centre.agent("cy")
    centre.presence("Four", [ann], Capacity=4)
    centre.presence("P", [bo, cy])
    french = centre.skill("French")
    centre.give_skills(ann, {french: 7})
    support = centre.queue("Support", centre.config("C", CapacityWeight=2), [ann])
    supervisor_config(
        centre,
        "Sup",
        users=[boss.user_id],
        queues=[support],
        skills=[french],
        groups=[team(centre, "Team", [ann, bo])],
    )
    ann.ok("login", statusId=centre.available)
    cy.ok("login", statusId=centre.available)
    clock.advance(20)
    case = centre.case(support)
    [work] = ann.works()
    clock.advance(3)
    ann.ok("acceptAgentWork", workId=work["workId"])
    ann.ok("raiseAgentWorkFlag", workId=work["workId"], message="help")
    clock.advance(10)
    agents = {a["userId"]: a for a in boss.view("agents")}
    assert set(agents) == {ann.user_id, bo.user_id}  # cy is in no visible group
    assert agents[ann.user_id] == {
        "userId": ann.user_id,
        "name": "Ann",
        "online": True,
        "statusId": centre.available,
        "statusName": "Available",
        "statusApiName": "Available",
        "timeInStatusSeconds": 33,
        "configuredCapacity": 4,
        "workload": 2,
        "queueIds": [support],
        "skills": [{"skillId": french, "level": 7}],
        "work": [
            {
                "workId": work["workId"],
                "workItemId": case,
                "userId": ann.user_id,
                "status": "Opened",
                "serviceChannelId": centre.channel,
                "queueId": support,
                "routingType": "QueueBased",
                "routingPriority": 1,
                "assignedDateTime": "2024-03-15T09:30:20.000+0000",
                "acceptDateTime": "2024-03-15T09:30:23.000+0000",
                "secondsSinceAssigned": 13,
                "secondsSinceAccepted": 10,
                "flag": {
                    "isFlagged": True,
                    "message": "help",
                    "roleUpdatedBy": "AGENT",
                    "updatedBy": ann.user_id,
                    "updatedDate": "2024-03-15T09:30:23.000+0000",
                },
            }
        ],
    }
    assert agents[bo.user_id] == {
        "userId": bo.user_id,
        "name": "Bo",
        "online": False,
        "statusId": None,
        "statusName": None,
        "statusApiName": None,
        "timeInStatusSeconds": None,
        "configuredCapacity": 6,
        "workload": None,
        "queueIds": [],
        "skills": [],
        "work": [],
    }
    ann.ok("setServicePresenceStatus", statusId=centre.busy)
    clock.advance(4)
    [now] = [a for a in boss.view("agents") if a["userId"] == ann.user_id]
    assert (now["statusApiName"], now["timeInStatusSeconds"], now["workload"]) == ("Busy", 4, 2)


def test_assigned_work_lists_the_open_work_of_visible_agents(
    centre: Centre, clock: ManualClock
) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    ann, cy = centre.agent("ann"), centre.agent("cy")
    centre.presence("One", [ann, cy], Capacity=1)
    support = centre.queue("Support", centre.config("C"), [ann, cy])
    supervisor_config(
        centre, "Sup", users=[boss.user_id], queues=[support], groups=[team(centre, "T", [ann])]
    )
    ann.ok("login", statusId=centre.available)
    clock.advance(1)
    cy.ok("login", statusId=centre.available)
    first = centre.case(support)  # to ann, idle longest
    centre.case(support)  # to cy, not visible
    clock.advance(8)
    [work] = boss.view("work")
    assert (work["workItemId"], work["userId"], work["status"]) == (first, ann.user_id, "Assigned")
    assert (work["secondsSinceAssigned"], work["secondsSinceAccepted"], work["flag"]) == (
        8,
        None,
        None,
    )
    ann.ok("acceptAgentWork", workId=work["workId"])
    clock.advance(2)
    [work] = boss.view("work")
    assert (work["status"], work["secondsSinceAssigned"], work["secondsSinceAccepted"]) == (
        "Opened",
        10,
        2,
    )
    ann.ok("closeAgentWork", workId=work["workId"])
    assert boss.view("work") == []


# -- actions ----------------------------------------------------------------------------------


def _members(centre: Centre, queue: str) -> list[str]:
    rows = centre.admin.query(f"SELECT UserOrGroupId FROM GroupMember WHERE GroupId = '{queue}'")
    return sorted(r["UserOrGroupId"] for r in rows["records"])


def test_changing_an_agents_queues_routes_waiting_work_to_them(centre: Centre) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    support = centre.queue("Support", centre.config("C"), [])
    supervisor_config(
        centre,
        "Sup",
        users=[boss.user_id],
        queues=[support],
        groups=[team(centre, "T", [ann])],
        actions=[CHANGE_QUEUES],
    )
    ann.ok("login", statusId=centre.available)
    case = centre.case(support)
    assert holds(ann) == [] and boss.view("queues")[0]["waiting"] == 1
    result = boss.ok(f"agents/{ann.user_id}/queues", {"add": [support]})
    assert result == {"success": True, "userId": ann.user_id, "queueIds": [support]}
    assert holds(ann) == [case] and _members(centre, support) == [ann.user_id]
    assert boss.view("queues")[0]["waiting"] == 0
    [work] = ann.works()
    ann.ok("acceptAgentWork", workId=work["workId"])
    ann.ok("closeAgentWork", workId=work["workId"])
    result = boss.ok(f"agents/{ann.user_id}/queues", {"remove": [support]})
    assert result["queueIds"] == [] and _members(centre, support) == []
    centre.case(support)
    assert holds(ann) == [] and boss.view("queues")[0]["waiting"] == 1


def test_assigning_agents_to_a_queue_from_the_backlog_routes_work(centre: Centre) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    support = centre.queue("Support", centre.config("C"), [bo])
    supervisor_config(
        centre,
        "Sup",
        users=[boss.user_id],
        queues=[support],
        groups=[team(centre, "T", [ann, bo])],
        actions=[MANAGE_QUEUES],
    )
    ann.ok("login", statusId=centre.available)
    case = centre.case(support)
    result = boss.ok(f"queues/{support}/agents", {"add": [ann.user_id], "remove": [bo.user_id]})
    assert result == {"success": True, "queueId": support, "agentIds": [ann.user_id]}
    assert holds(ann) == [case] and _members(centre, support) == [ann.user_id]
    # ManageQueues is not ChangeQueues: the agent-side action stays refused.
    with unchanged(centre.api.org):
        assert_error(
            boss.post(f"agents/{bo.user_id}/queues", {"add": [support]}), 403, "INSUFFICIENT_ACCESS"
        )


def test_changing_an_agents_skills_routes_waiting_work_to_them(centre: Centre) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    french = centre.skill("French")
    centre.give_skills(ann, {})  # a service resource without skills
    supervisor_config(
        centre,
        "Sup",
        users=[boss.user_id],
        skills=[french],
        groups=[team(centre, "T", [ann])],
        actions=[CHANGE_SKILLS],
    )
    ann.ok("login", statusId=centre.available)
    psr = skills_request(centre, {french: 5})
    assert holds(ann) == []
    result = boss.ok(f"agents/{ann.user_id}/skills", {"set": [{"skillId": french, "level": 6}]})
    assert result == {
        "success": True,
        "userId": ann.user_id,
        "skills": [{"skillId": french, "level": 6}],
    }
    [work] = ann.works()
    assert centre.work(Id=work["workId"])[0]["PendingServiceRoutingId"] == psr
    ann.ok("acceptAgentWork", workId=work["workId"])
    ann.ok("closeAgentWork", workId=work["workId"])
    # Lower the level below what the next request needs: it waits.
    result = boss.ok(f"agents/{ann.user_id}/skills", {"set": [{"skillId": french, "level": 3}]})
    assert result["skills"] == [{"skillId": french, "level": 3}]
    skills_request(centre, {french: 5})
    assert holds(ann) == []
    levels = centre.admin.query("SELECT SkillId, SkillLevel FROM ServiceResourceSkill")["records"]
    assert [(r["SkillId"], r["SkillLevel"]) for r in levels] == [(french, 3)]
    result = boss.ok(f"agents/{ann.user_id}/skills", {"remove": [french]})
    assert result["skills"] == []
    assert centre.admin.query("SELECT Id FROM ServiceResourceSkill")["records"] == []


def test_a_supervisor_raises_and_lowers_a_flag(centre: Centre, clock: ManualClock) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    support = centre.queue("Support", centre.config("C"), [ann])
    supervisor_config(centre, "Sup", users=[boss.user_id], groups=[team(centre, "T", [ann])])
    ann.ok("login", statusId=centre.available)
    centre.case(support)
    [work] = ann.works()
    clock.advance(2)
    boss.ok(f"work/{work['workId']}/flag", {"isFlagged": True, "message": "let me see"})
    [row] = boss.view("work")
    assert row["flag"] == {
        "isFlagged": True,
        "message": "let me see",
        "roleUpdatedBy": "SUPERVISOR",
        "updatedBy": boss.user_id,
        "updatedDate": "2024-03-15T09:30:02.000+0000",
    }
    boss.ok(f"work/{work['workId']}/flag", {"isFlagged": False})
    flags = [e["payload"] for e in ann.events() if e["topic"] == "omni/workFlagUpdated"]
    assert [(f["isFlagged"], f["roleUpdatedBy"], f["updatedBy"]) for f in flags] == [
        (True, "SUPERVISOR", boss.user_id),
        (False, "SUPERVISOR", boss.user_id),
    ]
    assert boss.view("work")[0]["flag"]["isFlagged"] is False


def test_refused_actions_and_bad_requests_change_nothing(centre: Centre) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    ann, cy = centre.agent("ann"), centre.agent("cy")
    centre.presence("P", [ann, cy])
    french = centre.skill("French")
    secret = centre.skill("Secret")
    centre.give_skills(ann, {french: 1})
    support = centre.queue("Support", centre.config("C"), [ann, cy])
    billing = centre.queue("Billing", centre.config("B"), [])
    supervisor_config(
        centre,
        "Sup",
        users=[boss.user_id],
        queues=[support],
        skills=[french],
        groups=[team(centre, "T", [ann])],
        actions=[CHANGE_QUEUES],
    )
    ann.ok("login", statusId=centre.available)
    cy.ok("login", statusId=centre.available)
    centre.case(support)
    centre.case(support)
    [ann_work], [cy_work] = ann.works(), cy.works()
    nobody = make_id("005", 987654)
    no_queue = make_id("00G", 987654)
    ann_q = f"agents/{ann.user_id}/queues"
    with unchanged(centre.api.org):
        # Actions the configuration does not allow.
        assert_error(
            boss.post(f"agents/{ann.user_id}/skills", {"set": [{"skillId": french, "level": 2}]}),
            403,
            "INSUFFICIENT_ACCESS",
        )
        assert_error(
            boss.post(f"queues/{support}/agents", {"add": [ann.user_id]}),
            403,
            "INSUFFICIENT_ACCESS",
        )
        # Agents, queues and work outside the configuration; ids that name nothing.
        assert_error(
            boss.post(f"agents/{cy.user_id}/queues", {"remove": [support]}),
            403,
            "INSUFFICIENT_ACCESS",
        )
        assert_error(boss.post(ann_q, {"add": [billing]}), 403, "INSUFFICIENT_ACCESS")
        assert_error(boss.post(ann_q, {"add": [french]}), 404, "NOT_FOUND")  # not a queue
        assert_error(boss.post(f"agents/{nobody}/queues", {"add": [support]}), 404, "NOT_FOUND")
        assert_error(boss.post(ann_q, {"add": [no_queue]}), 404, "NOT_FOUND", fields=["add"])
        assert_error(
            boss.post(f"work/{cy_work['workId']}/flag", {"isFlagged": True}),
            403,
            "INSUFFICIENT_ACCESS",
        )
        assert_error(
            boss.post(f"work/{make_id('0Bz', 987654)}/flag", {"isFlagged": True}), 404, "NOT_FOUND"
        )
        # Malformed ids and bodies.
        assert_error(boss.post("agents/not-an-id/queues", {"add": [support]}), 400, "MALFORMED_ID")
        assert_error(boss.post(ann_q, {"add": ["nope"]}), 400, "MALFORMED_ID", fields=["add"])
        assert_error(boss.post("work/nope/flag", {"isFlagged": True}), 400, "MALFORMED_ID")
        assert_error(boss.post(ann_q, {}), 400, "INVALID_FIELD")
        assert_error(boss.post(ann_q, {"add": support}), 400, "INVALID_FIELD")
        assert_error(boss.post(ann_q, {"add": [support], "extra": 1}), 400, "INVALID_FIELD")
        assert_error(
            boss.post(ann_q, {"add": [support], "remove": [support]}), 400, "INVALID_FIELD"
        )
        assert_error(
            boss.post(f"work/{ann_work['workId']}/flag", {"isFlagged": "yes"}), 400, "INVALID_FIELD"
        )
        assert_error(
            boss.post(
                f"work/{ann_work['workId']}/flag", {"isFlagged": True, "message": "x" * 1001}
            ),
            400,
            "INVALID_FIELD",
        )
        resp = boss.caller.post(f"{SUP}/{ann_q}", content=b"{bad json")
        assert_error(resp, 400, "JSON_PARSER_ERROR")
    assert secret not in boss.view("config")["skillIds"]


def test_skill_changes_need_visible_skills_a_service_resource_and_a_sane_level(
    centre: Centre,
) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    ann, bo = centre.agent("ann"), centre.agent("bo")
    french, secret = centre.skill("French"), centre.skill("Secret")
    centre.give_skills(ann, {french: 2})
    supervisor_config(
        centre,
        "Sup",
        users=[boss.user_id],
        skills=[french],
        groups=[team(centre, "T", [ann, bo])],
        actions=[CHANGE_SKILLS],
    )
    path = f"agents/{ann.user_id}/skills"
    with unchanged(centre.api.org):
        assert_error(boss.post(path, {"remove": [secret]}), 403, "INSUFFICIENT_ACCESS")
        for level in (-1, 100, "5", True):
            resp = boss.post(path, {"set": [{"skillId": french, "level": level}]})
            assert_error(resp, 400, "INVALID_FIELD")
        assert_error(boss.post(path, {"set": [{"skillId": french}]}), 400, "INVALID_FIELD")
        assert_error(
            boss.post(path, {"set": [{"skillId": french, "level": 3}], "remove": [french]}),
            400,
            "INVALID_FIELD",
        )
        assert_error(
            boss.post(f"agents/{bo.user_id}/skills", {"set": [{"skillId": french, "level": 3}]}),
            400,
            "OMNI_ERROR",
        )
    assert boss.view("agents")[0]["skills"] == [{"skillId": french, "level": 2}]
