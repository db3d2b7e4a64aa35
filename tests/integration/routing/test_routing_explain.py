"""Routing explanations through the REST API: the stored trace of each decision about a
request or a piece of work, the decision the router would make now for waiting work
(changing nothing), the reason each agent is passed over, and who may ask."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx

from tests.integration.api.api_harness import Caller, assert_error, unchanged
from tests.integration.routing.omni_harness import Centre
from tests.integration.routing.test_routing_supervisor import (
    Supervisor,
    skills_request,
    supervisor_config,
    supervisor_profile,
    team,
)
from workroute.kernel.clock import ManualClock
from workroute.kernel.ids import make_id

EXPLAIN = "/services/omni/v1/explain"


def explain(caller: Caller, rid: str) -> dict[str, Any]:
    resp = caller.get(f"{EXPLAIN}/{rid}")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def reasons(now: dict[str, Any]) -> dict[str, str | None]:
    return {a["userId"]: a["reason"] for a in now["agents"]}


def psr_of(centre: Centre, case: str) -> str:
    return str(centre.pending(case)[0]["Id"])


def test_waiting_work_explains_why_each_agent_cannot_take_it(centre: Centre) -> None:
    ann, bo, cy, dee = (centre.agent(n) for n in ("ann", "bo", "cy", "dee"))
    centre.presence("One", [ann, bo, cy, dee], Capacity=1)
    support = centre.queue("Support", centre.config("C"), [ann, bo, cy])
    ann.ok("login", statusId=centre.available)
    centre.case(support)  # fills ann
    cy.ok("login", statusId=centre.busy)  # online, but no channel
    dee.ok("login", statusId=centre.available)  # not a member
    case = centre.case(support)
    psr = psr_of(centre, case)
    with unchanged(centre.api.org):
        got = explain(centre.admin, psr)
    assert {k: got[k] for k in ("id", "type", "state", "workItemId", "queueId", "workId")} == {
        "id": psr,
        "type": "PendingServiceRouting",
        "state": "Waiting",
        "workItemId": case,
        "queueId": support,
        "workId": None,
    }
    assert got["routingType"] == "QueueBased" and got["routingModel"] == "MostAvailable"
    assert got["decisions"] == []
    now = got["now"]
    assert (now["tier"], now["chosenUserId"], now["passedOver"]) == ("nobody", None, [])
    assert reasons(now) == {
        ann.user_id: "no capacity",
        bo.user_id: "offline",
        cy.user_id: "no channel",
        dee.user_id: "not in queue",
    }
    assert not any(a["eligible"] for a in now["agents"]) and now["agentsLeftOff"] == 0
    # An agent who can take it logs in: the decision is stored, and explained.
    eve = centre.agent("eve")
    centre.presence("Eve", [eve])
    centre.admin.create("GroupMember", {"GroupId": support, "UserOrGroupId": eve.user_id})
    eve.ok("login", statusId=centre.available)
    [work] = eve.works()
    got = explain(centre.admin, psr)
    assert got["state"] == "WithAgent" and got["workId"] == work["workId"] and got["now"] is None
    [decision] = got["decisions"]
    assert {k: decision[k] for k in ("pendingServiceRoutingId", "workId", "tier")} == {
        "pendingServiceRoutingId": psr,
        "workId": work["workId"],
        "tier": "first choice",
    }
    assert decision["chosenUserId"] == eve.user_id and decision["considered"] == [eve.user_id]
    assert decision["routingModel"] == "MostAvailable"
    assert decision["at"] == "2024-03-15T09:30:00.000+0000"
    by_work = explain(centre.admin, work["workId"])
    assert by_work["type"] == "AgentWork" and by_work["status"] == "Assigned"
    assert by_work["pendingServiceRoutingId"] == psr and by_work["decisions"] == [decision]
    # Accepted: the request is gone, its decisions are kept.
    eve.ok("acceptAgentWork", workId=work["workId"])
    gone = explain(centre.admin, psr)
    assert gone["state"] == "Removed" and gone["decisions"] == [decision] and gone["now"] is None


def test_skills_reasons_name_the_missing_skill_and_the_level(
    centre: Centre, clock: ManualClock
) -> None:
    french, billing = centre.skill("French"), centre.skill("Billing")
    ann, bo, cy = centre.agent("ann"), centre.agent("bo"), centre.agent("cy")
    centre.presence("P", [ann, bo, cy])
    centre.give_skills(ann, {french: 3})
    centre.give_skills(bo, {billing: 9})
    centre.give_skills(cy, {french: 8})
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    psr = skills_request(centre, {french: 5})
    now = explain(centre.admin, psr)["now"]
    assert reasons(now) == {
        ann.user_id: f"skill {french} level 3 < 5",
        bo.user_id: f"missing skill {french}",
        cy.user_id: "offline",
    }
    # The router's own trace: ann holds French, so it looked at her first.
    assert now["passedOver"] == [{"userId": ann.user_id, "reason": f"skill {french} level 3 < 5"}]
    assert (now["tier"], now["chosenUserId"], now["considered"]) == ("nobody", None, [ann.user_id])
    clock.advance(4)
    cy.ok("login", statusId=centre.available)
    [work] = cy.works()
    [decision] = explain(centre.admin, psr)["decisions"]
    assert decision["chosenUserId"] == cy.user_id and decision["tier"] == "first choice"
    assert decision["passedOver"] == now["passedOver"]
    assert decision["considered"] == [ann.user_id, cy.user_id]
    assert decision["at"] == "2024-03-15T09:30:04.000+0000"
    assert explain(centre.admin, work["workId"])["decisions"] == [decision]


def test_declines_are_reasons_and_a_dry_run_changes_nothing(
    centre: Centre, clock: ManualClock
) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    support = centre.queue("Support", centre.config("C"), [ann, bo])
    ann.ok("login", statusId=centre.available)
    clock.advance(1)
    bo.ok("login", statusId=centre.available)
    clock.advance(1)
    case = centre.case(support)  # to ann, idle longest
    psr = psr_of(centre, case)
    clock.advance(1)
    ann.ok("declineAgentWork", workId=ann.works()[0]["workId"])  # to bo
    engine = centre.api.org.omni
    engine.paused = True  # bo's decline leaves it waiting, with both agents free
    try:
        clock.advance(1)
        bo.ok("declineAgentWork", workId=bo.works()[0]["workId"])
        with unchanged(centre.api.org):
            got = explain(centre.admin, psr)
            again = explain(centre.admin, psr)
        assert again == got
        item = engine.backlog.get(psr)
        assert item is not None and item.declined == {ann.user_id, bo.user_id}
    finally:
        engine.paused = False
    first, second = got["decisions"]
    assert (first["chosenUserId"], first["tier"], first["passedOver"]) == (
        ann.user_id,
        "first choice",
        [],
    )
    assert (second["chosenUserId"], second["tier"]) == (bo.user_id, "first choice")
    now = got["now"]
    # Everyone eligible has declined: all but the last decliner are eligible again.
    assert (now["tier"], now["chosenUserId"]) == ("all declined", ann.user_id)
    assert now["passedOver"] == [
        {"userId": ann.user_id, "reason": "declined"},
        {"userId": bo.user_id, "reason": "declined"},
    ]
    assert reasons(now) == {ann.user_id: "declined", bo.user_id: "declined"}
    # The real pass decides as the dry run said.
    engine.want_routing()
    engine.route()
    assert [w["workItemId"] for w in ann.works()] == [case]
    third = explain(centre.admin, psr)["decisions"][2]
    assert {k: third[k] for k in ("tier", "chosenUserId", "passedOver")} == {
        k: now[k] for k in ("tier", "chosenUserId", "passedOver")
    }


def test_who_may_read_explanations(centre: Centre) -> None:
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    nosy = Supervisor(centre, "nosy", "Omni Supervisors")  # no configuration
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    support = centre.queue("Support", centre.config("C"), [ann])
    billing = centre.queue("Billing", centre.config("B"), [bo])
    french = centre.skill("French")
    supervisor_config(
        centre,
        "Sup",
        users=[boss.user_id],
        queues=[support],
        skills=[french],
        groups=[team(centre, "T", [ann])],
    )
    seen, hidden = centre.case(support), centre.case(billing)
    seen_psr, hidden_psr = psr_of(centre, seen), psr_of(centre, hidden)
    skilled = skills_request(centre, {french: 1})
    secret = skills_request(centre, {centre.skill("Secret"): 1})
    bo.ok("login", statusId=centre.available)
    [bo_work] = bo.works()
    with unchanged(centre.api.org):
        assert explain(boss.caller, seen_psr)["state"] == "Waiting"
        assert explain(boss.caller, skilled)["state"] == "Waiting"
        assert explain(centre.admin, hidden_psr)["state"] == "WithAgent"
        for rid in (hidden_psr, secret, bo_work["workId"]):
            assert_error(boss.caller.get(f"{EXPLAIN}/{rid}"), 403, "INSUFFICIENT_ACCESS")
        for caller in (nosy.caller, ann.caller):
            assert_error(caller.get(f"{EXPLAIN}/{seen_psr}"), 403, "INSUFFICIENT_ACCESS")
        # Ids: malformed, unknown, of another object.
        assert_error(centre.admin.get(f"{EXPLAIN}/not-an-id"), 400, "MALFORMED_ID")
        for rid in (make_id("0JR", 987654), make_id("0Bz", 987654), seen):
            assert_error(centre.admin.get(f"{EXPLAIN}/{rid}"), 404, "NOT_FOUND")
        no_token: httpx.Response = centre.api.client.get(f"{EXPLAIN}/{seen_psr}")
        assert no_token.status_code == 401
        # The agent API's POST /{method} and the explain path do not meet.
        assert_error(ann.call("explain"), 404, "NOT_FOUND", contains="no Omni-Channel method")
    # The work of a visible agent is visible to the supervisor.
    ann.ok("login", statusId=centre.available)
    [ann_work] = ann.works()
    assert explain(boss.caller, ann_work["workId"])["userId"] == ann.user_id
