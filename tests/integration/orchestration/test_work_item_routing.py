"""A work item for a queue that takes orchestration work items and is routed by
Omni-Channel reaches an agent through the agent API (seed 000: "the queue members
receive notifications based on your defined routing logic in the Omni-Channel widget"),
in addition to the email; the agent who accepts it completes it (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.api.api_harness import USER_PASSWORD, Api, Caller
from tests.integration.orchestration.orch_harness import (
    deploy_orchestration,
    review_step,
    run_due,
    two_stage,
)
from workroute.orchestration.vocabulary import AssigneeType

V1 = "/services/workroute/v1"


def test_queue_work_item_is_pushed_to_an_agent_and_completed(
    api: Api, admin: Caller, tmp_path: Path
) -> None:
    org = api.org
    channel = admin.create(
        "ServiceChannel",
        {
            "DeveloperName": "Orchestration",
            "MasterLabel": "Orchestration",
            "RelatedEntity": "FlowOrchestrationWorkItem",
        },
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
    admin.create("QueueSobject", {"QueueId": queue, "SobjectType": "FlowOrchestrationWorkItem"})
    agent_id = api.add_user("agent@example.com")
    idle_id = api.add_user("idle@example.com")
    for uid in (agent_id, idle_id):
        admin.create("GroupMember", {"GroupId": queue, "UserOrGroupId": uid})
    presence = admin.create(
        "PresenceUserConfig", {"DeveloperName": "Agents", "MasterLabel": "Agents", "Capacity": 5}
    )
    admin.create("PresenceUserConfigUser", {"PresenceUserConfigId": presence, "UserId": agent_id})
    agent = api.caller("agent@example.com", USER_PASSWORD)

    deploy_orchestration(org, tmp_path, two_stage(review_step(AssigneeType.QUEUE, "Approvals")))
    r = agent.post("/services/omni/v1/login", json={"statusId": status})
    assert r.status_code == 200, r.text
    case_id = admin.create("Case", {"Subject": "Approve me", "Status": "New"})
    run_due(org)
    [item] = org.store.find("FlowOrchestrationWorkItem", RelatedRecordId=case_id)
    assert item["OwnerId"] == queue  # a queue that takes work items owns them

    # Omni-Channel pushed it to the online agent.
    works = json.loads(agent.post("/services/omni/v1/getAgentWorks", json={}).json()["works"])
    assert [w["workItemId"] for w in works] == [item["Id"]]
    assert (
        agent.post(
            "/services/omni/v1/acceptAgentWork", json={"workId": works[0]["workId"]}
        ).status_code
        == 200
    )
    [row] = org.store.get_many("FlowOrchestrationWorkItem", [str(item["Id"])])
    assert row["OwnerId"] == agent_id
    # Both queue members see it in their To Do list; the agent completes it.
    idle = api.caller("idle@example.com", USER_PASSWORD)
    assert [w["id"] for w in idle.get(f"{V1}/workItems").json()["workItems"]] == [item["Id"]]
    done = agent.post(f"{V1}/workItems/{item['Id']}/complete", json={"values": {"Approved": True}})
    assert done.status_code == 200, done.text
    run_due(org)
    assert admin.read("Case", case_id)["Status"] == "Closed"
    assert idle.get(f"{V1}/workItems").json()["workItems"] == []
