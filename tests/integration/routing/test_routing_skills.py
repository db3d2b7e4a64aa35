"""Skills-based routing through the REST API: requirements and levels, the edit lock
once ready, additional skills dropped after their timeout, the preferred user."""

from __future__ import annotations

from typing import Any

from tests.integration.api.api_harness import assert_error
from tests.integration.routing.omni_harness import Agent, Centre
from workroute.kernel.clock import ManualClock


def _request(centre: Centre, case: str, needs: list[dict[str, Any]], **fields: Any) -> str:
    psr = centre.admin.create(
        "PendingServiceRouting",
        {
            "WorkItemId": case,
            "ServiceChannelId": centre.channel,
            "RoutingType": "SkillsBased",
            "RoutingModel": "MostAvailable",
            "RoutingPriority": 1,
            "CapacityWeight": 1,
            **fields,
        },
    )
    for need in needs:
        centre.admin.create("SkillRequirement", {"RelatedRecordId": psr, **need})
    return psr


def _ready(centre: Centre, psr: str) -> None:
    resp = centre.admin.patch(f"/sobjects/PendingServiceRouting/{psr}", {"IsReadyForRouting": True})
    assert resp.status_code == 204, resp.text


def _holder(agent: Agent, centre: Centre) -> list[str]:
    return [w["workItemId"] for w in agent.works()]


def test_work_goes_to_the_agent_with_every_skill_at_the_level(centre: Centre) -> None:
    french, billing = centre.skill("French"), centre.skill("Billing")
    ann, bo, cy = centre.agent("ann"), centre.agent("bo"), centre.agent("cy")
    centre.presence("P", [ann, bo, cy])
    centre.give_skills(ann, {french: 3})
    centre.give_skills(bo, {french: 8, billing: 2})
    centre.give_skills(cy, {french: 8, billing: 6})
    for a in (ann, bo, cy):
        a.ok("login", statusId=centre.available)
    owner = centre.queue("Holding", None, [])
    case = centre.case(owner)
    psr = _request(
        centre,
        case,
        [{"SkillId": french, "SkillLevel": 5}, {"SkillId": billing, "SkillLevel": 5}],
    )
    assert centre.work() == []  # not ready yet
    _ready(centre, psr)
    assert _holder(cy, centre) == [case]
    assert _holder(ann, centre) == [] and _holder(bo, centre) == []
    skills = centre.admin.query(
        "SELECT SkillId, SkillLevel, WasDropped FROM AgentWorkSkill ORDER BY SkillId"
    )["records"]
    assert {(s["SkillId"], s["SkillLevel"], s["WasDropped"]) for s in skills} == {
        (french, 5, False),
        (billing, 5, False),
    }


def test_a_ready_request_and_its_requirements_cannot_be_edited(centre: Centre) -> None:
    french = centre.skill("French")
    case = centre.case(centre.queue("Holding", None, []))
    psr = _request(centre, case, [{"SkillId": french, "SkillLevel": 1}])
    _ready(centre, psr)
    assert_error(
        centre.admin.patch(f"/sobjects/PendingServiceRouting/{psr}", {"RoutingPriority": 5}),
        400,
        "FIELD_INTEGRITY_EXCEPTION",
    )
    resp = centre.admin.post(
        "/sobjects/SkillRequirement", {"RelatedRecordId": psr, "SkillId": french}
    )
    assert_error(resp, 400, "FIELD_INTEGRITY_EXCEPTION")
    assert centre.admin.read("PendingServiceRouting", psr, "Serial")["Serial"] == 2


def test_bad_requests_are_refused(centre: Centre) -> None:
    case = centre.case(centre.queue("Holding", None, []))
    base = {
        "WorkItemId": case,
        "ServiceChannelId": centre.channel,
        "CapacityWeight": 1,
        "RoutingType": "SkillsBased",
    }
    post = centre.admin.post
    assert_error(
        post("/sobjects/PendingServiceRouting", {**base, "RoutingType": "QueueBased"}),
        400,
        "FIELD_INTEGRITY_EXCEPTION",
    )
    assert_error(
        post("/sobjects/PendingServiceRouting", {**base, "CapacityPercentage": 50}),
        400,
        "FIELD_INTEGRITY_EXCEPTION",
        fields=["CapacityWeight", "CapacityPercentage"],
    )
    assert_error(
        post("/sobjects/PendingServiceRouting", {**base, "ServiceChannelId": case}),
        400,
        "INVALID_CROSS_REFERENCE_KEY",
    )
    account = centre.admin.create("Account", {"Name": "Acme"})
    assert_error(
        post("/sobjects/PendingServiceRouting", {**base, "WorkItemId": account}),
        400,
        "FIELD_INTEGRITY_EXCEPTION",
        fields=["WorkItemId"],
    )
    assert centre.admin.query("SELECT Id FROM PendingServiceRouting")["totalSize"] == 0
    centre.admin.create("PendingServiceRouting", base)
    assert_error(post("/sobjects/PendingServiceRouting", base), 400, "DUPLICATE_VALUE")


def test_additional_skills_are_dropped_after_the_timeout_highest_priority_first(
    centre: Centre, clock: ManualClock
) -> None:
    french, vip, legal = centre.skill("French"), centre.skill("VIP"), centre.skill("Legal")
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    centre.give_skills(ann, {french: 5, legal: 5})
    ann.ok("login", statusId=centre.available)
    case = centre.case(centre.queue("Holding", None, []))
    psr = _request(
        centre,
        case,
        [
            {"SkillId": french, "SkillLevel": 1},
            {"SkillId": vip, "SkillLevel": 1, "IsAdditionalSkill": True, "SkillPriority": 2},
            {"SkillId": legal, "SkillLevel": 1, "IsAdditionalSkill": True, "SkillPriority": 1},
        ],
        DropAdditionalSkillsTimeout=60,
    )
    _ready(centre, psr)
    assert ann.works() == []
    clock.advance(59)
    assert ann.works() == []
    clock.advance(1)  # VIP (priority 2) is dropped; ann has French and Legal
    assert _holder(ann, centre) == [case]
    skills = centre.admin.query("SELECT SkillId, WasDropped FROM AgentWorkSkill")["records"]
    assert {s["SkillId"]: s["WasDropped"] for s in skills} == {
        french: False,
        vip: True,
        legal: False,
    }


def test_preferred_user_first_and_required_preferred_user_waits(
    centre: Centre, clock: ManualClock
) -> None:
    french = centre.skill("French")
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    centre.give_skills(ann, {french: 5})
    centre.give_skills(bo, {french: 5})
    ann.ok("login", statusId=centre.available)
    clock.advance(1)
    bo.ok("login", statusId=centre.available)
    holding = centre.queue("Holding", None, [])
    first = centre.case(holding)
    _ready(centre, _request(centre, first, [{"SkillId": french}], PreferredUserId=bo.user_id))
    assert _holder(bo, centre) == [first]
    second = centre.case(holding)
    cy = centre.agent("cy")
    _ready(
        centre,
        _request(
            centre,
            second,
            [{"SkillId": french}],
            PreferredUserId=cy.user_id,
            IsPreferredUserRequired=True,
        ),
    )
    assert second not in _holder(ann, centre) + _holder(bo, centre)
    centre.presence("Cy", [cy])
    centre.give_skills(cy, {french: 1})
    cy.ok("login", statusId=centre.available)
    assert _holder(cy, centre) == [second]
