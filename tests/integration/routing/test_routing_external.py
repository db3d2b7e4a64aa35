"""External routing (seed 003, "Expected Behavior"): Omni-Channel keeps the
PendingServiceRouting up to date and publishes its changes; the external router
creates AgentWork through the REST API, with capacity checked unless skipped."""

from __future__ import annotations

from typing import Any

from tests.integration.api.api_harness import assert_error, unchanged
from tests.integration.routing.omni_harness import Agent, Centre


def _psr_events(centre: Centre) -> list[dict[str, Any]]:
    found = centre.api.org.events.read(topic_prefix="omni/PendingServiceRouting")
    return [e.payload for e in found]


def _route(centre: Centre, agent: Agent, case: str, psr: str, **extra: Any) -> str:
    return centre.admin.create(
        "AgentWork",
        {
            "UserId": agent.user_id,
            "WorkItemId": case,
            "ServiceChannelId": centre.channel,
            "PendingServiceRoutingId": psr,
            **extra,
        },
    )


def test_accept_decline_and_reroute_as_the_seed_lists_them(centre: Centre) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    queue = centre.queue("External", centre.config("Ext", RoutingModel="ExternalRouting"), [])
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    case = centre.case(queue)
    [psr] = centre.pending(case)
    assert psr["IsPushed"] is False and centre.work() == []  # Omni-Channel leaves it
    created = _psr_events(centre)[-1]
    assert created["type"] == "created" and created["sobject"]["Id"] == psr["Id"]
    assert created["sobject"]["RoutingModel"] == "ExternalRouting"

    first = _route(centre, ann, case, psr["Id"])
    assert centre.work(Id=first)[0]["Status"] == "Assigned"
    assert centre.pending(case)[0]["IsPushed"] is True
    ann.ok("declineAgentWork", workId=first)
    [after] = centre.pending(case)
    assert after["IsPushed"] is False and after["LastDeclinedAgentSession"]
    update = _psr_events(centre)[-1]
    assert update["type"] == "updated" and update["sobject"]["IsPushed"] is False
    assert centre.work(Status="Assigned") == []  # not re-routed by Omni-Channel

    second = _route(centre, bo, case, psr["Id"])
    bo.ok("acceptAgentWork", workId=second)
    assert centre.pending(case) == []
    assert _psr_events(centre)[-1]["type"] == "deleted"


def test_capacity_is_checked_unless_skipped_and_bad_work_is_refused(centre: Centre) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("One", [ann, bo], Capacity=1)
    queue = centre.queue("External", centre.config("Ext", RoutingModel="ExternalRouting"), [])
    ann.ok("login", statusId=centre.available)
    cases = [centre.case(queue) for _ in range(3)]
    psrs = [centre.pending(c)[0]["Id"] for c in cases]
    _route(centre, ann, cases[0], psrs[0])
    fields = {"WorkItemId": cases[1], "ServiceChannelId": centre.channel}
    with unchanged(centre.api.org):
        full = {**fields, "UserId": ann.user_id, "PendingServiceRoutingId": psrs[1]}
        assert_error(
            centre.admin.post("/sobjects/AgentWork", full), 400, "FIELD_INTEGRITY_EXCEPTION"
        )
        offline = {**fields, "UserId": bo.user_id, "PendingServiceRoutingId": psrs[1]}
        assert_error(
            centre.admin.post("/sobjects/AgentWork", offline), 400, "FIELD_INTEGRITY_EXCEPTION"
        )
        mismatch = {**fields, "UserId": ann.user_id, "PendingServiceRoutingId": psrs[2]}
        assert_error(
            centre.admin.post("/sobjects/AgentWork", {**mismatch, "ShouldSkipCapacityCheck": True}),
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            fields=["WorkItemId"],
        )
        again = {"UserId": ann.user_id, "WorkItemId": cases[0],
                 "ServiceChannelId": centre.channel, "PendingServiceRoutingId": psrs[0],
                 "ShouldSkipCapacityCheck": True}  # fmt: skip
        assert_error(
            centre.admin.post("/sobjects/AgentWork", again), 400, "FIELD_INTEGRITY_EXCEPTION"
        )
        missing = {"UserId": ann.user_id, "ServiceChannelId": centre.channel}
        assert_error(
            centre.admin.post("/sobjects/AgentWork", missing), 400, "REQUIRED_FIELD_MISSING"
        )
    _route(centre, ann, cases[1], psrs[1], ShouldSkipCapacityCheck=True)
    assert ann.workload() == 2  # over capacity, as the seed allows when skipped


def test_closed_work_can_be_deleted(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    centre.case(queue)
    work = ann.works()[0]["workId"]
    ann.ok("acceptAgentWork", workId=work)
    ann.ok("closeAgentWork", workId=work)
    assert centre.admin.delete(f"/sobjects/AgentWork/{work}").status_code == 204
    assert centre.work(Id=work) == []


def test_requests_omni_channel_routes_itself_publish_no_request_events(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    case = centre.case(queue)  # created, pushed to ann
    [work] = ann.works()
    ann.ok("acceptAgentWork", workId=work["workId"])  # request deleted
    assert centre.pending(case) == []
    assert _psr_events(centre) == []  # an external router's business only
