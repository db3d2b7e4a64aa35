"""The status-based capacity model through the REST API (routing/status_capacity.py):
Completed closes the work and frees capacity, Paused frees it and keeps the work,
reopened and reassigned records are assigned directly, with or without a capacity
check."""

from __future__ import annotations

from typing import Any

from tests.integration.routing.omni_harness import Agent, Centre
from workroute.kernel.clock import ManualClock

STATUSES: dict[str, Any] = {
    "completed": ["Closed"],
    "in_progress": ["New", "Working"],
    "paused": ["On Hold"],
}


def _set(centre: Centre, case: str, **fields: Any) -> None:
    resp = centre.admin.patch(f"/sobjects/Case/{case}", fields)
    assert resp.status_code == 204, resp.text


def _accept_all(agent: Agent) -> None:
    for w in agent.works():
        if not w["isEngaged"]:
            agent.ok("acceptAgentWork", workId=w["workId"])


def _items(agent: Agent) -> list[str]:
    return [w["workItemId"] for w in agent.works()]


def test_a_completed_status_closes_the_work_and_frees_capacity(
    centre: Centre, clock: ManualClock
) -> None:
    centre.status_based(**STATUSES)
    ann = centre.agent("ann")
    centre.presence("One", [ann], Capacity=1)
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    first, second = centre.case(queue), centre.case(queue)
    _accept_all(ann)
    assert _items(ann) == [first]
    ann.ok("logout")  # status-based: the work stays hers, and holds her capacity
    ann.ok("login", statusId=centre.available)
    assert _items(ann) == [first] and ann.workload() == 1
    clock.advance(300)
    _set(centre, first, Status="Working")  # in progress: nothing changes
    assert ann.workload() == 1
    _set(centre, first, Status="Closed")
    [done] = centre.work(WorkItemId=first)
    assert done["Status"] == "Closed" and done["HandleTime"] == 300
    row = centre.agent_work(done["Id"], "ActiveTime,CapacityModel")
    assert row["ActiveTime"] is None and row["CapacityModel"] == "StatusBased"
    assert _items(ann) == [second]  # the freed capacity took the waiting case
    closed = [e["payload"]["workId"] for e in ann.events() if e["topic"] == "omni/workClosed"]
    assert closed == [done["Id"]]


def test_a_tab_based_channel_ignores_the_status(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("One", [ann], Capacity=1)
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    case = centre.case(queue)
    _accept_all(ann)
    _set(centre, case, Status="Closed")
    assert centre.statuses(case) == [(ann.user_id, "Opened")] and ann.workload() == 1


def test_paused_work_stays_with_the_agent_without_holding_capacity(centre: Centre) -> None:
    centre.status_based(**STATUSES)
    ann = centre.agent("ann")
    centre.presence("One", [ann], Capacity=1)
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    paused, waiting = centre.case(queue), centre.case(queue)
    _accept_all(ann)
    _set(centre, paused, Status="On Hold")
    # Still hers (and among her open items), but her capacity took the next case.
    assert sorted(_items(ann)) == sorted([paused, waiting])
    assert centre.statuses(paused) == [(ann.user_id, "Opened")]
    assert ann.workload() == 1
    centre.api.org.omni._mark_broken()  # memory rebuilt from the rows agrees
    assert ann.workload() == 1 and len(ann.works()) == 2
    _accept_all(ann)
    _set(centre, paused, Status="Working")  # resumed: holds its capacity again
    assert ann.workload() == 2
    _set(centre, waiting, Status="Closed")
    assert ann.workload() == 1 and _items(ann) == [paused]


def test_reopened_work_is_the_agents_again_over_capacity_without_the_check(
    centre: Centre,
) -> None:
    centre.status_based(**STATUSES)
    ann = centre.agent("ann")
    centre.presence("One", [ann], Capacity=1)
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    case = centre.case(queue)
    _accept_all(ann)
    _set(centre, case, Status="Closed")
    other = centre.case(queue)
    _accept_all(ann)
    _set(centre, case, Status="Working")  # the customer wrote back
    assert centre.statuses(case) == [(ann.user_id, "Closed"), (ann.user_id, "Opened")]
    [_, again] = centre.work(WorkItemId=case)
    row = centre.agent_work(again["Id"], "IsStatusChangeInitiated,ShouldSkipCapacityCheck")
    assert row["IsStatusChangeInitiated"] is True and row["ShouldSkipCapacityCheck"] is True
    assert ann.workload() == 2 and sorted(_items(ann)) == sorted([case, other])
    assert centre.pending(case) == []


def test_reopened_work_waits_for_the_agents_capacity_with_the_check(centre: Centre) -> None:
    centre.status_based(**STATUSES, DoesCheckCapOnStatusChange=True)
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("One", [ann, bo], Capacity=1)
    queue = centre.queue("Support", centre.config("C"), [ann, bo])
    ann.ok("login", statusId=centre.available)
    case = centre.case(queue)
    _accept_all(ann)
    _set(centre, case, Status="Closed")
    other = centre.case(queue)
    _accept_all(ann)
    bo.ok("login", statusId=centre.available)  # free, but the reopened case is ann's
    _set(centre, case, Status="Working")
    assert centre.statuses(case) == [(ann.user_id, "Closed")]
    [psr] = centre.admin.query(
        "SELECT PreferredUserId, IsPreferredUserRequired, IsStatusChangeInitiated "
        f"FROM PendingServiceRouting WHERE WorkItemId = '{case}'"
    )["records"]
    assert psr["PreferredUserId"] == ann.user_id and psr["IsPreferredUserRequired"] is True
    assert psr["IsStatusChangeInitiated"] is True
    assert ann.workload() == 1 and bo.works() == []
    _set(centre, other, Status="Closed")  # room again: the case comes back to ann
    assert _items(ann) == [case] and bo.works() == []
    [back] = ann.works()
    assert back["isEngaged"] is True
    assert centre.agent_work(back["workId"], "IsStatusChangeInitiated")["IsStatusChangeInitiated"]


def test_a_record_given_to_an_agent_moves_its_work_and_capacity(centre: Centre) -> None:
    centre.status_based(**STATUSES)
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("One", [ann, bo], Capacity=1)
    queue = centre.queue("Support", centre.config("C"), [ann, bo])
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    mine, bos = centre.case(queue), centre.case(queue)
    _accept_all(ann)
    _accept_all(bo)
    _set(centre, mine, OwnerId=bo.user_id)  # reassigned: no check, over capacity
    assert centre.statuses(mine) == [(ann.user_id, "Transferred"), (bo.user_id, "Opened")]
    assert (ann.workload(), bo.workload()) == (0, 2)
    [_, moved] = centre.work(WorkItemId=mine)
    assert centre.agent_work(moved["Id"], "IsOwnerChangeInitiated")["IsOwnerChangeInitiated"]
    assert sorted(_items(bo)) == sorted([mine, bos])
    # A case Omni-Channel never routed holds no capacity when given to an agent.
    loose = centre.admin.create("Case", {"Subject": "direct", "OwnerId": ann.user_id})
    _set(centre, loose, OwnerId=bo.user_id)
    assert centre.work(WorkItemId=loose) == []


def test_a_record_given_to_a_full_agent_waits_with_the_check(centre: Centre) -> None:
    centre.status_based(**STATUSES, DoesCheckCapOnOwnerChange=True)
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("One", [ann, bo], Capacity=1)
    queue = centre.queue("Support", centre.config("C"), [ann, bo])
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    mine, bos = centre.case(queue), centre.case(queue)
    _accept_all(ann)
    _accept_all(bo)
    _set(centre, mine, OwnerId=bo.user_id)
    assert centre.statuses(mine) == [(ann.user_id, "Transferred")]
    assert (ann.workload(), bo.workload()) == (0, 1)
    _set(centre, bos, Status="Closed")
    # Through the waiting request, as a direct assignment: opened at once, flagged.
    [given] = [w for w in bo.works() if w["workItemId"] == mine]
    assert given["isEngaged"] is True
    assert centre.agent_work(given["workId"], "IsOwnerChangeInitiated")["IsOwnerChangeInitiated"]
    assert ann.works() == []
