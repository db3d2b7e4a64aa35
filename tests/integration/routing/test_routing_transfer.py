"""Transfers through the REST API (routing/transfer.py): to a queue (transferAgentWork
or an owner change), to an external routing queue, to skills, to an agent; and bad
transfers refused without change."""

from __future__ import annotations

from typing import Any

from tests.integration.api.api_harness import assert_error, unchanged
from tests.integration.routing.omni_harness import Agent, Centre
from workroute.kernel.clock import ManualClock


def _opened(centre: Centre, agent: Agent, queue: str) -> tuple[str, str]:
    """A case routed to ``agent`` and accepted: (case id, work id)."""
    case = centre.case(queue)
    work = next(w["workId"] for w in agent.works() if w["workItemId"] == case)
    agent.ok("acceptAgentWork", workId=work)
    return case, work


def _request(centre: Centre, case: str) -> dict[str, Any]:
    psrs: list[dict[str, Any]] = centre.admin.query(
        "SELECT Id, IsTransfer, IsPushed, GroupId, RoutingPriority, RoutingType, "
        f"CreatedDate FROM PendingServiceRouting WHERE WorkItemId = '{case}'"
    )["records"]
    assert len(psrs) == 1
    return psrs[0]


def test_transfer_to_a_queue_frees_capacity_and_routes_a_transfer_request(
    centre: Centre, clock: ManualClock
) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo], Capacity=2)
    support = centre.queue("Support", centre.config("C", CapacityWeight=2), [ann])
    tier2 = centre.queue("Tier2", centre.config("T2", RoutingPriority=3), [bo])
    ann.ok("login", statusId=centre.available)
    case, work = _opened(centre, ann, support)
    assert ann.workload() == 2
    clock.advance(60)
    ann.ok("transferAgentWork", workId=work, queueId=tier2)

    assert centre.statuses(case) == [(ann.user_id, "Transferred")]
    assert ann.workload() == 0 and ann.works() == []
    assert centre.admin.read("Case", case, "OwnerId")["OwnerId"] == tier2
    psr = _request(centre, case)
    assert psr["IsTransfer"] is True and psr["IsPushed"] is False
    assert psr["GroupId"] == tier2 and psr["RoutingPriority"] == 3  # the new queue's
    transferred = [e for e in ann.events() if e["topic"] == "omni/workTransferred"]
    assert transferred[0]["payload"] == {"workId": work, "workItemId": case, "queueId": tier2}

    bo.ok("login", statusId=centre.available)
    [again] = bo.works()
    assert again["workItemId"] == case
    row = centre.agent_work(again["workId"], "RequestDateTime,RoutingPriority,CapacityWeight")
    assert row["RoutingPriority"] == 3 and row["CapacityWeight"] == 1
    # Its age starts at the transfer, not at the case's first request.
    assert row["RequestDateTime"].startswith("2024-03-15T09:31:00")


def test_giving_the_record_to_a_queue_transfers_opened_and_assigned_work(
    centre: Centre,
) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    support = centre.queue("Support", centre.config("C"), [ann])
    tier2 = centre.queue("Tier2", centre.config("T2"), [bo])
    ann.ok("login", statusId=centre.available)
    opened, _ = _opened(centre, ann, support)
    assigned = centre.case(support)  # pushed to ann, not accepted
    assert ann.workload() == 2
    for case in (opened, assigned):
        resp = centre.admin.patch(f"/sobjects/Case/{case}", {"OwnerId": tier2})
        assert resp.status_code == 204, resp.text
    # Transferred, not Canceled: the work moved on with the record.
    assert centre.statuses(opened) == [(ann.user_id, "Transferred")]
    assert centre.statuses(assigned) == [(ann.user_id, "Transferred")]
    assert ann.workload() == 0
    assert [_request(centre, c)["IsTransfer"] for c in (opened, assigned)] == [True, True]
    bo.ok("login", statusId=centre.available)
    assert sorted(w["workItemId"] for w in bo.works()) == sorted([opened, assigned])


def test_transfer_to_an_external_routing_queue_publishes_the_transfer_request(
    centre: Centre,
) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    support = centre.queue("Support", centre.config("C"), [ann])
    external = centre.queue("Partner", centre.config("X", RoutingModel="ExternalRouting"), [])
    ann.ok("login", statusId=centre.available)
    case, work = _opened(centre, ann, support)
    ann.ok("transferAgentWork", workId=work, queueId=external)
    # seed 003, "Agent transfers the work to an external routing queue".
    found = centre.api.org.events.read(topic_prefix="omni/PendingServiceRouting")
    created = found[-1].payload
    assert created["type"] == "created"
    assert created["sobject"]["IsTransfer"] is True and created["sobject"]["IsPushed"] is False
    assert created["sobject"]["WorkItemId"] == case
    assert created["sobject"]["RoutingModel"] == "ExternalRouting"
    assert centre.statuses(case) == [(ann.user_id, "Transferred")]  # Omni-Channel leaves it


def test_transfer_to_skills_makes_a_skills_based_transfer_request(centre: Centre) -> None:
    ann, bo, cy = centre.agent("ann"), centre.agent("bo"), centre.agent("cy")
    centre.presence("P", [ann, bo, cy])
    french = centre.skill("French")
    centre.give_skills(cy, {french: 3})
    support = centre.queue("Support", centre.config("C"), [ann, bo])
    ann.ok("login", statusId=centre.available)
    case, work = _opened(centre, ann, support)
    bo.ok("login", statusId=centre.available)
    cy.ok("login", statusId=centre.available)
    ann.ok("transferAgentWork", workId=work, skillIds=[french])
    assert bo.works() == []  # bo is in the queue but has no French
    assert [w["workItemId"] for w in cy.works()] == [case]
    psr = _request(centre, case)
    assert psr["IsTransfer"] is True and psr["RoutingType"] == "SkillsBased"
    needs = centre.admin.query(
        f"SELECT SkillId FROM SkillRequirement WHERE RelatedRecordId = '{psr['Id']}'"
    )["records"]
    assert [n["SkillId"] for n in needs] == [french]
    assert centre.statuses(case) == [(ann.user_id, "Transferred"), (cy.user_id, "Assigned")]


def test_transfer_to_an_agent_keeps_the_work_until_they_accept(centre: Centre) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    support = centre.queue("Support", centre.config("C", CapacityWeight=2), [ann])
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    case, work = _opened(centre, ann, support)
    ann.ok("transferAgentWork", workId=work, userId=bo.user_id)
    # seed 003: no new request; a second AgentWork, Assigned, while the first is Opened.
    assert centre.pending(case) == []
    assert centre.statuses(case) == [(ann.user_id, "Opened"), (bo.user_id, "Assigned")]
    assert (ann.workload(), bo.workload()) == (2, 2)
    centre.api.org.omni._mark_broken()  # the pending transfer is in the rows, not memory
    [offer] = bo.works()
    bo.ok("acceptAgentWork", workId=offer["workId"])
    assert centre.statuses(case) == [(ann.user_id, "Transferred"), (bo.user_id, "Opened")]
    assert (ann.workload(), bo.workload()) == (0, 2)
    assert centre.admin.read("Case", case, "OwnerId")["OwnerId"] == bo.user_id
    topics = [e["topic"] for e in ann.events()]
    assert topics[-2:] == ["omni/workTransferred", "omni/workloadChanged"]


def test_a_declined_agent_transfer_leaves_the_work_with_the_first_agent(
    centre: Centre,
) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    support = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    case, work = _opened(centre, ann, support)
    ann.ok("transferAgentWork", workId=work, userId=bo.user_id)
    bo.ok("declineAgentWork", workId=bo.works()[0]["workId"])
    assert centre.statuses(case) == [(ann.user_id, "Opened"), (bo.user_id, "Declined")]
    assert ann.works() == [{"workId": work, "workItemId": case, "isEngaged": True}]
    assert bo.workload() == 0
    ann.ok("closeAgentWork", workId=work)  # still hers to close


def test_closing_the_work_withdraws_its_pending_agent_transfer(centre: Centre) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    support = centre.queue("Support", centre.config("C", CapacityWeight=2), [ann])
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    case, work = _opened(centre, ann, support)
    ann.ok("transferAgentWork", workId=work, userId=bo.user_id)
    [offer] = bo.works()
    ann.ok("closeAgentWork", workId=work)  # done after all: the offer is taken back
    assert centre.statuses(case) == [(ann.user_id, "Closed"), (bo.user_id, "Canceled")]
    assert bo.works() == [] and bo.workload() == 0
    assert bo.events()[-1]["topic"] == "omni/workloadChanged"
    resp = bo.call("acceptAgentWork", workId=offer["workId"])
    assert_error(resp, 400, "INVALID_STATUS")
    assert centre.admin.read("Case", case, "OwnerId")["OwnerId"] == ann.user_id


def test_bad_transfers_are_refused_and_change_nothing(centre: Centre) -> None:
    ann, bo, cy = centre.agent("ann"), centre.agent("bo"), centre.agent("cy")
    centre.presence("P", [ann, bo, cy], Capacity=1)
    support = centre.queue("Support", centre.config("C"), [ann, cy])
    plain = centre.queue("Plain", None, [])
    leads = centre.admin.create(
        "Group",
        {"Name": "Leads", "DeveloperName": "Leads", "Type": "Queue",
         "QueueRoutingConfigId": centre.config("L")},
    )  # fmt: skip
    centre.admin.create("QueueSobject", {"QueueId": leads, "SobjectType": "Lead"})
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.busy)  # online, but in no channel
    case, work = _opened(centre, ann, support)
    cy.ok("login", statusId=centre.available)
    assigned = centre.case(support)  # pushed to cy, not accepted: cy is full
    cy_work = cy.works()[0]["workId"]
    skill = centre.skill("French")
    nobody = "005000000000000AAA"
    org = centre.api.org
    with unchanged(org):
        assert_error(bo.call("transferAgentWork", workId=work, queueId=support), 404, "NOT_FOUND")
        cases: list[tuple[dict[str, Any], int, str]] = [
            ({"queueId": "00G000000000000AAA"}, 404, "NOT_FOUND"),
            ({"queueId": plain}, 400, "FIELD_INTEGRITY_EXCEPTION"),  # not Omni-Channel
            ({"queueId": leads}, 400, "FIELD_INTEGRITY_EXCEPTION"),  # cannot own cases
            ({"userId": nobody}, 404, "NOT_FOUND"),
            ({"userId": bo.user_id}, 400, "OMNI_ERROR"),  # not in a status for the channel
            ({"userId": cy.user_id}, 400, "OMNI_ERROR"),  # no capacity
            ({"userId": ann.user_id}, 400, "OMNI_ERROR"),  # herself
            ({"skillIds": ["0C5000000000000AAA"]}, 404, "NOT_FOUND"),
            ({"skillIds": [skill, skill]}, 400, "INVALID_FIELD"),
            ({"skillIds": []}, 400, "INVALID_FIELD"),
            ({"skillIds": skill}, 400, "INVALID_FIELD"),
            ({"queueId": 123}, 400, "INVALID_FIELD"),
            ({"queueId": support, "userId": bo.user_id}, 400, "INVALID_FIELD"),
            ({}, 400, "INVALID_FIELD"),
            ({"queueId": support, "extra": 1}, 400, "INVALID_FIELD"),
            ({"queueId": "not-an-id-at-all!!"}, 400, "INVALID_FIELD"),
        ]
        for args, status, code in cases:
            resp = ann.call("transferAgentWork", workId=work, **args)
            assert_error(resp, status, code)
        # An agent transfer needs accepted work.
        resp = cy.call("transferAgentWork", workId=cy_work, userId=ann.user_id)
        assert_error(resp, 400, "INVALID_STATUS")
    ann.ok("closeAgentWork", workId=work)
    with unchanged(org):
        resp = ann.call("transferAgentWork", workId=work, queueId=support)
        assert_error(resp, 400, "INVALID_STATUS")  # closed work stays closed
    assert centre.statuses(assigned) == [(cy.user_id, "Assigned")]
    assert centre.statuses(case) == [(ann.user_id, "Closed")]
