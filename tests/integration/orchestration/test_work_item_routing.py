"""A work item for a queue that takes orchestration work items and is routed by
Omni-Channel reaches an agent through the agent API (seed 000: "the queue members
receive notifications based on your defined routing logic in the Omni-Channel widget"),
in addition to the email; the agent who accepts it completes it. When the work item's
work is over (it is Completed, or its run is canceled or fails) the agent's work ends
with it: accepted work is Closed and frees its capacity, offered work is Canceled, and
a request still waiting in the queue is withdrawn (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api.api_harness import Api, Caller
from tests.integration.orchestration.orch_harness import (
    deploy_orchestration,
    review_step,
    run_due,
    two_stage,
)
from tests.integration.routing.omni_harness import Agent
from workroute.kernel.clock import ManualClock
from workroute.orchestration.vocabulary import AssigneeType

V1 = "/services/workroute/v1"
ITEM = "FlowOrchestrationWorkItem"


@dataclass(frozen=True, slots=True)
class Desk:
    """An Omni-Channel queue for work items, with one agent and one idle member."""

    api: Api
    admin: Caller
    channel: str
    status: str
    queue: str
    agent: Agent
    idle: Agent

    def case(self, subject: str = "Approve me") -> str:
        """A case whose run gives its Review work item to the queue."""
        case_id = self.admin.create("Case", {"Subject": subject, "Status": "New"})
        run_due(self.api.org)
        return case_id

    def item(self, case_id: str) -> dict[str, Any]:
        [item] = self.api.org.store.find(ITEM, RelatedRecordId=case_id)
        return item

    def run_id(self, case_id: str) -> str:
        return str(self.item(case_id)["OrchestrationInstanceId"])

    def work(self, item_id: str) -> list[dict[str, Any]]:
        soql = (
            "SELECT Id, Status, UserId, CloseDateTime, CancelDateTime, HandleTime "
            f"FROM AgentWork WHERE WorkItemId = '{item_id}' ORDER BY CreatedDate, Id"
        )
        records: list[dict[str, Any]] = self.admin.query(soql)["records"]
        return records

    def pending(self, item_id: str) -> list[dict[str, Any]]:
        soql = f"SELECT Id FROM PendingServiceRouting WHERE WorkItemId = '{item_id}'"
        records: list[dict[str, Any]] = self.admin.query(soql)["records"]
        return records

    def cancel(self, case_id: str) -> None:
        r = self.admin.post(f"{V1}/runs/{self.run_id(case_id)}/cancel", json={})
        assert r.status_code == 200, r.text
        run_due(self.api.org)


def open_desk(
    api: Api, admin: Caller, tmp_path: Path, *, capacity: int = 5, status_based: bool = False
) -> Desk:
    """The setup an administrator makes; the channel is status-based on the work item's
    Status (Completed frees capacity) when ``status_based``."""
    fields: dict[str, Any] = {
        "DeveloperName": "Orchestration",
        "MasterLabel": "Orchestration",
        "RelatedEntity": ITEM,
    }
    if status_based:
        fields.update(CapacityModel="StatusBased", StatusField="Status")
    channel = admin.create("ServiceChannel", fields)
    if status_based:
        admin.create(
            "ServiceChannelStatusField",
            {"ServiceChannelId": channel, "Type": "Completed", "Value": "Completed"},
        )
    status = admin.create(
        "ServicePresenceStatus", {"DeveloperName": "Available", "MasterLabel": "Available"}
    )
    admin.create(
        "ServiceChannelStatus", {"ServiceChannelId": channel, "ServicePresenceStatusId": status}
    )
    config = admin.create(
        "QueueRoutingConfig",
        {
            "DeveloperName": "Approvals",
            "MasterLabel": "Approvals",
            "RoutingModel": "MostAvailable",
            "RoutingPriority": 1,
            "CapacityWeight": 1,
        },
    )
    queue = admin.create(
        "Group",
        {
            "Name": "Approvals",
            "DeveloperName": "Approvals",
            "Type": "Queue",
            "QueueRoutingConfigId": config,
        },
    )
    admin.create("QueueSobject", {"QueueId": queue, "SobjectType": ITEM})
    agent = Agent(api, "agent@example.com", api.add_user("agent@example.com"))
    idle = Agent(api, "idle@example.com", api.add_user("idle@example.com"))
    for member in (agent, idle):
        admin.create("GroupMember", {"GroupId": queue, "UserOrGroupId": member.user_id})
    presence = admin.create(
        "PresenceUserConfig",
        {"DeveloperName": "Agents", "MasterLabel": "Agents", "Capacity": capacity},
    )
    admin.create(
        "PresenceUserConfigUser", {"PresenceUserConfigId": presence, "UserId": agent.user_id}
    )
    deploy_orchestration(api.org, tmp_path, two_stage(review_step(AssigneeType.QUEUE, "Approvals")))
    return Desk(api, admin, channel, status, queue, agent, idle)


def complete(caller: Caller, item_id: str) -> None:
    done = caller.post(f"{V1}/workItems/{item_id}/complete", json={"values": {"Approved": True}})
    assert done.status_code == 200, done.text


def test_queue_work_item_is_pushed_to_an_agent_and_completed(
    api: Api, admin: Caller, tmp_path: Path
) -> None:
    desk = open_desk(api, admin, tmp_path)
    desk.agent.ok("login", statusId=desk.status)
    case_id = desk.case()
    item = desk.item(case_id)
    assert item["OwnerId"] == desk.queue  # a queue that takes work items owns them

    # Omni-Channel pushed it to the online agent.
    works = desk.agent.works()
    assert [w["workItemId"] for w in works] == [item["Id"]]
    desk.agent.ok("acceptAgentWork", workId=works[0]["workId"])
    [row] = api.org.store.get_many(ITEM, [str(item["Id"])])
    assert row["OwnerId"] == desk.agent.user_id
    # Both queue members see it in their To Do list; the agent completes it.
    idle = desk.idle.caller
    assert [w["id"] for w in idle.get(f"{V1}/workItems").json()["workItems"]] == [item["Id"]]
    complete(desk.agent.caller, str(item["Id"]))
    run_due(api.org)
    assert admin.read("Case", case_id)["Status"] == "Closed"
    assert idle.get(f"{V1}/workItems").json()["workItems"] == []


@pytest.mark.parametrize("status_based", [False, True], ids=["TabBased", "StatusBased"])
def test_completing_the_work_item_closes_the_agents_work(
    api: Api, admin: Caller, tmp_path: Path, status_based: bool
) -> None:
    desk = open_desk(api, admin, tmp_path, capacity=1, status_based=status_based)
    agent = desk.agent
    agent.ok("login", statusId=desk.status)
    first, second = desk.case("First"), desk.case("Second")
    item, waiting = desk.item(first), desk.item(second)
    [offer] = agent.works()
    assert offer["workItemId"] == item["Id"]
    agent.ok("acceptAgentWork", workId=offer["workId"])
    assert agent.workload() == 1
    assert len(desk.pending(str(waiting["Id"]))) == 1  # the agent is full: it waits
    seen = agent.events()[-1]["replayId"]

    complete(agent.caller, str(item["Id"]))
    # Completion is processed by the run: until then the work is still the agent's.
    assert [w["Status"] for w in desk.work(str(item["Id"]))] == ["Opened"]
    run_due(api.org)

    [work] = desk.work(str(item["Id"]))
    assert work["Status"] == "Closed" and work["CloseDateTime"] is not None
    assert work["HandleTime"] is not None
    # The console hears it as when the agent closes the work: closed, workload down.
    heard = [(e["topic"], e["payload"]) for e in agent.events(after=seen)]
    closed = [p for t, p in heard if t == "omni/workClosed"]
    assert closed == [{"workId": offer["workId"], "workItemId": item["Id"]}]
    loads = [p["newWorkload"] for t, p in heard if t == "omni/workloadChanged"]
    assert loads[0] == 0
    # The freed capacity took the waiting work item.
    assert [w["workItemId"] for w in agent.works()] == [waiting["Id"]]
    assert agent.workload() == 1


def test_a_canceled_run_closes_accepted_and_withdraws_offered_work(
    api: Api, admin: Caller, tmp_path: Path
) -> None:
    desk = open_desk(api, admin, tmp_path, capacity=2)
    agent = desk.agent
    agent.ok("login", statusId=desk.status)
    taken, offered = desk.case("Taken"), desk.case("Offered")
    taken_id, offered_id = str(desk.item(taken)["Id"]), str(desk.item(offered)["Id"])
    works = {w["workItemId"]: w["workId"] for w in agent.works()}
    assert set(works) == {taken_id, offered_id}
    agent.ok("acceptAgentWork", workId=works[taken_id])
    assert agent.workload() == 2

    # The work items stay Assigned when their run is canceled (seed 000), but nobody
    # can complete them any more: the agent's work for them ends.
    desk.cancel(offered)
    desk.cancel(taken)
    assert desk.item(taken)["Status"] == desk.item(offered)["Status"] == "Assigned"
    [closed] = desk.work(taken_id)
    assert closed["Status"] == "Closed" and closed["CloseDateTime"] is not None
    [canceled] = desk.work(offered_id)
    assert canceled["Status"] == "Canceled" and canceled["CancelDateTime"] is not None
    assert desk.pending(offered_id) == []
    assert agent.workload() == 0 and agent.works() == []


def test_a_canceled_run_withdraws_the_request_still_waiting_in_the_queue(
    api: Api, admin: Caller, tmp_path: Path
) -> None:
    desk = open_desk(api, admin, tmp_path)
    case_id = desk.case()  # nobody online: it waits in the queue
    item_id = str(desk.item(case_id)["Id"])
    assert len(desk.pending(item_id)) == 1
    desk.cancel(case_id)
    assert desk.pending(item_id) == []
    # It is never pushed.
    desk.agent.ok("login", statusId=desk.status)
    run_due(api.org)
    assert desk.agent.works() == [] and desk.work(item_id) == []


def test_a_work_item_completed_while_waiting_in_the_queue_is_never_pushed(
    api: Api, admin: Caller, tmp_path: Path
) -> None:
    desk = open_desk(api, admin, tmp_path)
    case_id = desk.case()  # nobody online: it waits in the queue
    item_id = str(desk.item(case_id)["Id"])
    assert len(desk.pending(item_id)) == 1
    complete(desk.idle.caller, item_id)  # a queue member completes it from To Do
    run_due(api.org)
    assert desk.item(case_id)["Status"] == "Completed"
    assert desk.pending(item_id) == []
    desk.agent.ok("login", statusId=desk.status)
    run_due(api.org)
    assert desk.agent.works() == [] and desk.work(item_id) == []


def test_completing_the_work_item_ends_the_agents_after_conversation_work(
    api: Api, admin: Caller, tmp_path: Path, clock: ManualClock
) -> None:
    desk = open_desk(api, admin, tmp_path)
    r = admin.patch(
        f"/services/data/v62.0/sobjects/ServiceChannel/{desk.channel}",
        json={"HasAfterConvoWorkTimer": True, "AfterConvoWorkMaxTime": 600},
    )
    assert r.status_code == 204, r.text
    agent = desk.agent
    agent.ok("login", statusId=desk.status)
    item_id = str(desk.item(desk.case())["Id"])
    [offer] = agent.works()
    agent.ok("acceptAgentWork", workId=offer["workId"])
    agent.ok("closeAgentWork", workId=offer["workId"])  # wrap-up begins, capacity held
    assert agent.workload() == 1
    clock.advance(timedelta(seconds=30))
    complete(agent.caller, item_id)
    run_due(api.org)
    row = admin.read("AgentWork", offer["workId"], "Status,AfterConversationActualTime")
    assert row["Status"] == "Closed" and row["AfterConversationActualTime"] == 30
    topics = [e["topic"] for e in agent.events()]
    assert topics.count("omni/afterConversationWorkEnded") == 1
    assert agent.workload() == 0
