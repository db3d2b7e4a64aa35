"""After-conversation work through the REST API (routing/acw.py): closing starts ACW,
which holds capacity until the timer (moved with the manual clock) or the agent ends
it; extensions up to MaxExtensions; bad requests change nothing."""

from __future__ import annotations

from tests.integration.api.api_harness import assert_error, unchanged
from tests.integration.routing.omni_harness import Agent, Centre
from workroute.kernel.clock import ManualClock

FIELDS = (
    "Status,CloseDateTime,HandleTime,ActiveTime,AfterConversationActualTime,"
    "AcwExtensionCount,AcwExtensionDuration"
)


def _opened(centre: Centre, agent: Agent, queue: str) -> str:
    centre.case(queue)
    work = str(agent.works()[0]["workId"])
    agent.ok("acceptAgentWork", workId=work)
    return work


def _topics(agent: Agent) -> list[str]:
    return [e["topic"].removeprefix("omni/") for e in agent.events()]


def test_acw_holds_capacity_until_its_timer_ends_it(centre: Centre, clock: ManualClock) -> None:
    centre.set_channel(HasAfterConvoWorkTimer=True, AfterConvoWorkMaxTime=60)
    ann = centre.agent("ann")
    centre.presence("One", [ann], Capacity=1)
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    work = _opened(centre, ann, queue)
    waiting = centre.case(queue)
    clock.advance(100)
    ann.ok("closeAgentWork", workId=work)
    assert centre.agent_work(work, FIELDS)["Status"] == "Opened"  # in ACW
    assert ann.workload() == 1 and [w["workId"] for w in ann.works()] == [work]
    [timer] = centre.api.org.timers.list(record_id=work)
    assert timer.due_at.isoformat().startswith("2024-03-15T09:32:40")
    centre.api.org.omni._mark_broken()  # ACW is a timer row: a rebuild keeps it
    clock.advance(59)
    assert centre.agent_work(work, FIELDS)["Status"] == "Opened" and ann.workload() == 1
    clock.advance(1)
    row = centre.agent_work(work, FIELDS)
    assert row["Status"] == "Closed" and row["CloseDateTime"].startswith("2024-03-15T09:32:40")
    assert (row["HandleTime"], row["ActiveTime"], row["AfterConversationActualTime"]) == (
        160,
        160,
        60,
    )
    assert [w["workItemId"] for w in ann.works()] == [waiting]  # capacity freed
    assert centre.api.org.timers.list(record_id=work) == []
    topics = _topics(ann)
    start = topics.index("afterConversationWorkStarted")
    assert topics[start : start + 4] == [
        "afterConversationWorkStarted",
        "afterConversationWorkEnded",
        "workClosed",
        "workloadChanged",
    ]


def test_the_agent_ends_acw_early_by_closing_again(centre: Centre, clock: ManualClock) -> None:
    centre.set_channel(HasAfterConvoWorkTimer=True, AfterConvoWorkMaxTime=60)
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    work = _opened(centre, ann, queue)
    ann.ok("closeAgentWork", workId=work)
    clock.advance(20)
    ann.ok("closeAgentWork", workId=work)
    row = centre.agent_work(work, FIELDS)
    assert row["Status"] == "Closed" and row["AfterConversationActualTime"] == 20
    assert ann.workload() == 0 and centre.api.org.timers.list(record_id=work) == []
    clock.advance(60)  # the timer is gone: nothing more happens
    assert centre.agent_work(work, FIELDS) == row


def test_acw_is_extended_up_to_the_channels_maximum(centre: Centre, clock: ManualClock) -> None:
    centre.set_channel(
        HasAfterConvoWorkTimer=True,
        AfterConvoWorkMaxTime=60,
        HasAcwExtensionEnabled=True,
        AcwExtensionDuration=30,
        MaxExtensions="2",
    )
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    work = _opened(centre, ann, queue)
    ann.ok("closeAgentWork", workId=work)
    clock.advance(50)
    ends = ann.ok("extendAfterConversationWork", workId=work)["endsAt"]
    assert ends.startswith("2024-03-15T09:31:30")
    ends = ann.ok("extendAfterConversationWork", workId=work)["endsAt"]
    assert ends.startswith("2024-03-15T09:32:00")
    with unchanged(centre.api.org):
        resp = ann.call("extendAfterConversationWork", workId=work)
        assert_error(resp, 400, "LIMIT_EXCEEDED")
    row = centre.agent_work(work, FIELDS)
    assert (row["AcwExtensionCount"], row["AcwExtensionDuration"]) == (2, 30)
    clock.advance(69)
    assert centre.agent_work(work, FIELDS)["Status"] == "Opened"
    clock.advance(1)
    row = centre.agent_work(work, FIELDS)
    assert row["Status"] == "Closed" and row["AfterConversationActualTime"] == 120
    extended = [e for e in ann.events() if e["topic"] == "omni/afterConversationWorkExtended"]
    assert [e["payload"]["extensionCount"] for e in extended] == [1, 2]


def test_bad_acw_requests_change_nothing(centre: Centre) -> None:
    centre.set_channel(HasAfterConvoWorkTimer=True, AfterConvoWorkMaxTime=60)
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    bo.ok("login", statusId=centre.available)
    work = _opened(centre, ann, queue)
    with unchanged(centre.api.org):
        resp = ann.call("extendAfterConversationWork", workId=work)
        assert_error(resp, 400, "OMNI_ERROR")  # not in ACW yet
    ann.ok("closeAgentWork", workId=work)
    with unchanged(centre.api.org):
        resp = ann.call("extendAfterConversationWork", workId=work)
        assert_error(resp, 400, "OMNI_ERROR")  # the channel allows no extension
        resp = bo.call("extendAfterConversationWork", workId=work)
        assert_error(resp, 404, "NOT_FOUND")
        resp = ann.call("extendAfterConversationWork", workId=work, seconds=10)
        assert_error(resp, 400, "INVALID_FIELD")
