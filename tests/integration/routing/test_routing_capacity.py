"""Queue-based routing through the REST API: capacity, models, tie-breaks."""

from __future__ import annotations

from tests.integration.api.api_harness import assert_error, unchanged
from tests.integration.routing.omni_harness import Centre
from workroute.kernel.clock import ManualClock


def test_capacity_six_weight_two_takes_three_and_the_fourth_waits(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("Six", [ann], Capacity=6)
    queue = centre.queue("Support", centre.config("Weight2", CapacityWeight=2), [ann])
    ann.ok("login", statusId=centre.available)
    cases = [centre.case(queue) for _ in range(4)]

    works = ann.works()
    assert [w["workItemId"] for w in works] == cases[:3]
    assert not any(w["isEngaged"] for w in works)
    assert ann.workload() == 6
    assert centre.pending(cases[3])[0]["IsPushed"] is False

    ann.ok("acceptAgentWork", workId=works[0]["workId"])
    ann.ok("closeAgentWork", workId=works[0]["workId"])
    assert [w["workItemId"] for w in ann.works()] == cases[1:]
    assert ann.workload() == 6


def test_percentage_100_blocks_further_work(centre: Centre) -> None:
    bo = centre.agent("bo")
    centre.presence("Phone", [bo], Capacity=10)
    calls = centre.queue(
        "Calls", centre.config("Full", CapacityWeight=None, CapacityPercentage=100), [bo]
    )
    chats = centre.queue("Chats", centre.config("Light", CapacityWeight=1), [bo])
    bo.ok("login", statusId=centre.available)
    first = centre.case(calls)
    centre.case(chats)
    assert [w["workItemId"] for w in bo.works()] == [first]
    assert bo.workload() == 10


def test_most_available_picks_most_free_capacity(centre: Centre, clock: ManualClock) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("Big", [ann], Capacity=10)
    centre.presence("Small", [bo], Capacity=3)
    queue = centre.queue("Support", centre.config("MA", RoutingModel="MostAvailable"), [ann, bo])
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    for _ in range(8):
        clock.advance(1)
        centre.case(queue)
    # ann has 10 free, bo 3: ann takes items until her free capacity is down to bo's;
    # at 3 against 3 the tie goes to bo, who has received nothing since logging in.
    assert (len(ann.works()), len(bo.works())) == (7, 1)
    assert (ann.workload(), bo.workload()) == (7, 1)


def test_least_active_picks_fewest_open_items_then_longest_idle(
    centre: Centre, clock: ManualClock
) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("Big", [ann], Capacity=10)
    centre.presence("Small", [bo], Capacity=3)
    queue = centre.queue("Support", centre.config("LA", RoutingModel="LeastActive"), [ann, bo])
    bo.ok("login", statusId=centre.available)
    clock.advance(5)
    ann.ok("login", statusId=centre.available)
    first = centre.case(queue)
    # Both have no work; bo has been idle longer (online earlier): bo gets it.
    assert [w["workItemId"] for w in bo.works()] == [first]
    clock.advance(1)
    second = centre.case(queue)
    assert [w["workItemId"] for w in ann.works()] == [second]
    clock.advance(5)
    third = centre.case(queue)
    # Tie again (one item each): bo received work longest ago.
    assert [w["workItemId"] for w in bo.works()][-1] == third


def test_past_the_org_limits_work_overflows_or_is_refused(centre: Centre) -> None:
    bo = centre.agent("bo")
    org = centre.api.org
    org.omni.limits.max_queued_items = 1
    try:
        spill = centre.queue("Spill", centre.config("Spill", OverflowAssigneeId=bo.user_id), [])
        first = centre.case(spill)
        second = centre.case(spill)
        assert len(centre.pending(first)) == 1
        assert centre.pending(second) == []
        assert centre.admin.read("Case", second, "OwnerId")["OwnerId"] == bo.user_id
        strict = centre.queue("Strict", centre.config("Strict"), [])
        with unchanged(org):
            resp = centre.admin.post("/sobjects/Case", {"Subject": "x", "OwnerId": strict})
            assert_error(resp, 400, "LIMIT_EXCEEDED")
    finally:
        org.omni.limits.max_queued_items = None
