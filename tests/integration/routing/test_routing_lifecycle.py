"""The AgentWork lifecycle through the REST API: accept, decline, push timeout,
close, logout with assigned work, and what each does to the PendingServiceRouting."""

from __future__ import annotations

import pytest

from tests.integration.api.api_harness import assert_error, unchanged
from tests.integration.routing.omni_harness import Centre
from workroute.kernel.clock import ManualClock


def test_accept_opens_work_deletes_the_request_and_gives_the_agent_the_case(
    centre: Centre, clock: ManualClock
) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    case = centre.case(queue)
    psr = centre.pending(case)[0]
    assert psr["IsPushed"] is True and psr["IsPushAttempted"] is True and psr["Serial"] == 2
    clock.advance(42)
    work = ann.works()[0]
    ann.ok("acceptAgentWork", workId=work["workId"])
    assert ann.works() == [{**work, "isEngaged": True}]
    [row] = centre.work(Id=work["workId"])
    assert row["Status"] == "Opened" and row["SpeedToAnswer"] == 42
    assert centre.pending(case) == []
    assert centre.admin.read("Case", case, "OwnerId")["OwnerId"] == ann.user_id
    clock.advance(100)
    ann.ok("closeAgentWork", workId=work["workId"])
    [row] = centre.work(Id=work["workId"])
    assert row["Status"] == "Closed" and row["HandleTime"] == 100
    assert ann.works() == [] and ann.workload() == 0


def test_decline_reroutes_to_another_agent_and_the_decliner_is_passed_over(
    centre: Centre, clock: ManualClock
) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    queue = centre.queue("Support", centre.config("C"), [ann, bo])
    ann.ok("login", statusId=centre.available)
    clock.advance(1)
    bo.ok("login", statusId=centre.available)
    case = centre.case(queue)
    work = ann.works()[0]
    ann.ok("declineAgentWork", workId=work["workId"], declineReason="Wrong language")
    [declined] = centre.work(Id=work["workId"])
    assert declined["Status"] == "Declined" and declined["DeclineReason"] == "Wrong language"
    assert declined["AgentCapacityWhenDeclined"] == 1
    assert [w["workItemId"] for w in bo.works()] == [case]
    psr = centre.pending(case)[0]
    assert psr["LastDeclinedAgentSession"] is not None and psr["IsPushed"] is True
    # bo declines too: everyone eligible has declined, so it goes back to ann (not bo).
    bo.ok("declineAgentWork", workId=bo.works()[0]["workId"])
    assert [w["workItemId"] for w in ann.works()] == [case]
    assert bo.works() == []


def test_the_only_agent_gets_declined_work_again(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    case = centre.case(queue)
    first = ann.works()[0]["workId"]
    ann.ok("declineAgentWork", workId=first)
    again = ann.works()
    assert [w["workItemId"] for w in again] == [case] and again[0]["workId"] != first


def test_push_timeout_declines_on_timeout_sets_the_timeout_status_and_reroutes(
    centre: Centre, clock: ManualClock
) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("Ann", [ann], PresenceStatusOnPushTimeoutId=centre.busy)
    centre.presence("Bo", [bo])
    queue = centre.queue("Support", centre.config("C", PushTimeout=30), [ann, bo])
    ann.ok("login", statusId=centre.available)
    clock.advance(1)
    bo.ok("login", statusId=centre.available)
    case = centre.case(queue)
    work = ann.works()[0]["workId"]
    clock.advance(29)
    assert centre.work(Id=work)[0]["Status"] == "Assigned"
    clock.advance(1)
    assert centre.work(Id=work)[0]["Status"] == "DeclinedOnPushTimeout"
    assert [w["workItemId"] for w in bo.works()] == [case]
    assert ann.ok("getServicePresenceStatusId")["statusId"] == centre.busy


def test_logout_makes_assigned_work_unavailable_and_routes_it_again(centre: Centre) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    queue = centre.queue("Support", centre.config("C"), [ann, bo])
    ann.ok("login", statusId=centre.available)
    kept = centre.case(queue)
    ann.ok("acceptAgentWork", workId=ann.works()[0]["workId"])
    loose = centre.case(queue)
    bo.ok("login", statusId=centre.busy)  # online but away: takes nothing
    ann.ok("logout")
    assert ann.call("getAgentWorks").status_code == 400
    assert [w["Status"] for w in centre.work(WorkItemId=loose)] == ["Unavailable"]
    bo.ok("setServicePresenceStatus", statusId=centre.available)
    assert [w["workItemId"] for w in bo.works()] == [loose]
    assert [w["Status"] for w in centre.work(WorkItemId=kept)] == ["Opened"]


def test_priority_then_age_decides_what_goes_first(centre: Centre, clock: ManualClock) -> None:
    ann = centre.agent("ann")
    centre.presence("One", [ann], Capacity=1)
    low = centre.queue("Low", centre.config("Low", RoutingPriority=2), [ann])
    high = centre.queue("High", centre.config("High", RoutingPriority=1), [ann])
    old_low = centre.case(low)
    clock.advance(1)
    new_low = centre.case(low)
    clock.advance(1)
    new_high = centre.case(high)
    ann.ok("login", statusId=centre.available)
    order = []
    for _ in range(3):
        work = ann.works()[0]
        order.append(work["workItemId"])
        ann.ok("acceptAgentWork", workId=work["workId"])
        ann.ok("closeAgentWork", workId=work["workId"])
    assert order == [new_high, old_low, new_low]


def test_agents_act_only_on_their_own_work_and_bad_requests_change_nothing(
    centre: Centre,
) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    centre.case(queue)
    work = ann.works()[0]["workId"]
    org = centre.api.org
    with unchanged(org):
        assert_error(bo.call("acceptAgentWork", workId=work), 404, "NOT_FOUND")
        assert_error(bo.call("declineAgentWork", workId=work), 404, "NOT_FOUND")
        assert_error(ann.call("acceptAgentWork", workId="not-an-id"), 400, "INVALID_FIELD")
        assert_error(ann.call("acceptAgentWork"), 400, "INVALID_FIELD")
        assert_error(ann.call("acceptAgentWork", workId=work, extra=1), 400, "INVALID_FIELD")
        assert_error(ann.call("acceptAgentWork", workId=123), 400, "INVALID_FIELD")
        assert_error(ann.call("closeAgentWork", workId=work), 400, "INVALID_STATUS")
        assert_error(ann.call("noSuchMethod"), 404, "NOT_FOUND")
        assert_error(ann.call("login", statusId="0N5000000000000AAA"), 404, "NOT_FOUND")
        resp = ann.caller.post("/services/omni/v1/login", content=b"{bad json")
        assert_error(resp, 400, "JSON_PARSER_ERROR")
        assert_error(
            centre.admin.patch(f"/sobjects/AgentWork/{work}", {"Status": "Opened"}),
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
        )
        assert_error(centre.admin.delete(f"/sobjects/AgentWork/{work}"), 400, "DELETE_FAILED")
    no_token = centre.api.client.post("/services/omni/v1/getAgentWorks", json={})
    assert no_token.status_code == 401


def test_console_events_are_published_in_order(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann], Capacity=4)
    queue = centre.queue("Support", centre.config("C", CapacityWeight=2), [ann])
    ann.ok("login", statusId=centre.available)
    case = centre.case(queue)
    work = ann.works()[0]["workId"]
    ann.ok("acceptAgentWork", workId=work)
    ann.ok("raiseAgentWorkFlag", workId=work, message="help")
    ann.ok("closeAgentWork", workId=work)
    ann.ok("logout")
    events = ann.events()
    topics = [e["topic"].removeprefix("omni/") for e in events]
    assert topics == [
        "loginSuccess",
        "statusChanged",
        "workAssigned",
        "workloadChanged",
        "workAccepted",
        "workFlagUpdated",
        "workClosed",
        "workloadChanged",
        "logout",
    ]
    assigned = events[2]["payload"]
    assert assigned == {"workId": work, "workItemId": case}
    assert events[3]["payload"] == {
        "configuredCapacity": 4,
        "previousWorkload": 0,
        "newWorkload": 2,
    }
    flag = events[5]["payload"]
    assert flag["isFlagged"] is True and flag["roleUpdatedBy"] == "AGENT"
    assert flag["updatedBy"] == ann.user_id and flag["message"] == "help"
    assert [e["replayId"] for e in events] == sorted(e["replayId"] for e in events)
    assert ann.events(after=events[-2]["replayId"]) == events[-1:]


def test_leaving_the_queue_cancels_assigned_work(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C", PushTimeout=30), [ann])
    ann.ok("login", statusId=centre.available)
    case = centre.case(queue)
    work = ann.works()[0]["workId"]
    resp = centre.admin.patch(f"/sobjects/Case/{case}", {"OwnerId": centre.api.org.admin_user_id()})
    assert resp.status_code == 204, resp.text
    assert centre.work(Id=work)[0]["Status"] == "Canceled"
    assert centre.pending(case) == [] and ann.works() == [] and ann.workload() == 0
    assert centre.api.org.timers.list(record_id=work) == []


def test_decline_needs_the_presence_configuration_to_allow_it(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("NoDecline", [ann], OptionsIsDeclineEnabled=False)
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    centre.case(queue)
    work = ann.works()[0]["workId"]
    with unchanged(centre.api.org):
        assert_error(ann.call("declineAgentWork", workId=work), 400, "OMNI_ERROR")
        long_reason = "x" * 256
        assert_error(
            ann.call("declineAgentWork", workId=work, declineReason=long_reason),
            400,
            "INVALID_FIELD",
        )


def test_a_flag_is_raised_and_lowered(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    centre.case(queue)
    work = ann.works()[0]["workId"]
    ann.ok("raiseAgentWorkFlag", workId=work)
    ann.ok("lowerAgentWorkFlag", workId=work)
    flags = [e["payload"] for e in ann.events() if e["topic"] == "omni/workFlagUpdated"]
    assert [f["isFlagged"] for f in flags] == [True, False]
    assert flags[1]["message"] is None


def test_channels_and_queues_take_only_objects_with_owners(centre: Centre) -> None:
    post = centre.admin.post
    base = {"DeveloperName": "X", "MasterLabel": "X"}
    queue = centre.queue("Support", None, [])
    with unchanged(centre.api.org):
        for related in ("NoSuchObject", "Profile"):
            assert_error(
                post("/sobjects/ServiceChannel", {**base, "RelatedEntity": related}),
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                fields=["RelatedEntity"],
            )
        assert_error(
            post(
                "/sobjects/ServiceChannel",
                {**base, "RelatedEntity": "Lead", "StatusField": "NoSuchField"},
            ),
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            fields=["StatusField"],
        )
        assert_error(
            post("/sobjects/QueueSubject", {"QueueId": queue, "SubjectType": "Nope"}),
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            fields=["SubjectType"],
        )
    channel = centre.admin.create(
        "ServiceChannel", {**base, "RelatedEntity": "lead", "StatusField": "status"}
    )
    stored = centre.admin.read("ServiceChannel", channel, "RelatedEntity,StatusField")
    assert (stored["RelatedEntity"], stored["StatusField"]) == ("Lead", "Status")


@pytest.mark.parametrize("watched", [False, True], ids=["engine-writes", "hooks-run"])
def test_serial_counts_every_change_whether_or_not_other_hooks_watch_the_requests(
    centre: Centre, watched: bool
) -> None:
    # A PushTopic on the requests makes every save of them run the hooks and read the
    # stored rows; without one the engine's own pushes write the next Serial it holds.
    if watched:
        centre.admin.create(
            "PushTopic",
            {
                "Name": "Requests",
                "Query": "SELECT Id, Serial FROM PendingServiceRouting",
                "ApiVersion": 62,
            },
        )
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    queue = centre.queue("Support", centre.config("C"), [ann, bo])
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    case = centre.case(queue)
    serials = [centre.pending(case)[0]["Serial"]]
    for _ in range(3):
        holder = ann if ann.works() else bo
        holder.ok("declineAgentWork", workId=holder.works()[0]["workId"])
        serials.append(centre.pending(case)[0]["Serial"])
    # Created (1), pushed (2); each decline is one change and the push that follows another.
    assert serials == [2, 4, 6, 8]
    engine = centre.api.org.omni
    psr_obj = engine.store.schema.get("PendingServiceRouting")
    assert engine.store.hooks.has_any(psr_obj, besides=engine.psr_hooks) is watched
    [row] = centre.pending(case)
    item = engine.backlog.get(row["Id"])
    assert item is not None and item.serial == row["Serial"]
