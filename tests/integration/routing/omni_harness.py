"""A small contact centre built through the REST API, and agents who use the agent API.

:class:`Centre` creates the setup records as an administrator would (channel, routing
configurations, queues, presence statuses and configurations, skills); :class:`Agent`
logs a user in and calls ``/services/omni/v1/{method}`` as them.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2 as httpx

from tests.integration.api.api_harness import USER_PASSWORD, Api, Caller

OMNI = "/services/omni/v1"


class Agent:
    def __init__(self, api: Api, username: str, user_id: str) -> None:
        self.username = username
        self.user_id = user_id
        self.caller = api.caller(username, USER_PASSWORD)

    def call(self, method: str, **args: Any) -> httpx.Response:
        return self.caller.post(f"{OMNI}/{method}", args)

    def ok(self, method: str, **args: Any) -> dict[str, Any]:
        resp = self.call(method, **args)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        assert body["success"] is True, body
        return body

    def works(self) -> list[dict[str, Any]]:
        works: list[dict[str, Any]] = json.loads(self.ok("getAgentWorks")["works"])
        return works

    def workload(self) -> float:
        return float(self.ok("getAgentWorkload")["currentWorkload"])

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        resp = self.caller.get(f"{OMNI}/events", params={"after": after})
        assert resp.status_code == 200, resp.text
        events: list[dict[str, Any]] = resp.json()["events"]
        return events


class Centre:
    """Setup records, created by the administrator through the REST API."""

    def __init__(self, api: Api, admin: Caller) -> None:
        self.api = api
        self.admin = admin
        self.channel = admin.create(
            "ServiceChannel",
            {"DeveloperName": "Cases", "MasterLabel": "Cases", "RelatedEntity": "Case"},
        )
        self.available = self.status("Available", [self.channel])
        self.busy = self.status("Busy", [])
        self._n = 0

    def status(self, name: str, channels: list[str]) -> str:
        sid = self.admin.create(
            "ServicePresenceStatus", {"DeveloperName": name, "MasterLabel": name}
        )
        for ch in channels:
            self.admin.create(
                "ServiceChannelStatus", {"ServiceChannelId": ch, "ServicePresenceStatusId": sid}
            )
        return sid

    def config(self, name: str, **fields: Any) -> str:
        row = {
            "DeveloperName": name,
            "MasterLabel": name,
            "RoutingModel": "MostAvailable",
            "RoutingPriority": 1,
            "CapacityWeight": 1,
            **fields,
        }
        return self.admin.create("QueueRoutingConfig", row)

    def queue(self, name: str, config_id: str | None, members: list[Agent]) -> str:
        qid = self.admin.create(
            "Group",
            {
                "Name": name,
                "DeveloperName": name,
                "Type": "Queue",
                "QueueRoutingConfigId": config_id,
            },
        )
        self.admin.create("QueueSobject", {"QueueId": qid, "SobjectType": "Case"})
        for a in members:
            self.admin.create("GroupMember", {"GroupId": qid, "UserOrGroupId": a.user_id})
        return qid

    def presence(self, name: str, agents: list[Agent], **fields: Any) -> str:
        row = {
            "DeveloperName": name,
            "MasterLabel": name,
            "Capacity": 6,
            "OptionsIsDeclineEnabled": True,
            **fields,
        }
        cid = self.admin.create("PresenceUserConfig", row)
        for a in agents:
            self.admin.create(
                "PresenceUserConfigUser", {"PresenceUserConfigId": cid, "UserId": a.user_id}
            )
        return cid

    def agent(self, name: str) -> Agent:
        username = f"{name}@agents.example.com"
        uid = self.api.add_user(username)
        return Agent(self.api, username, uid)

    def case(self, queue_id: str, **fields: Any) -> str:
        self._n += 1
        return self.admin.create(
            "Case", {"Subject": f"Case {self._n}", "OwnerId": queue_id, **fields}
        )

    def skill(self, name: str) -> str:
        return self.admin.create("Skill", {"DeveloperName": name, "MasterLabel": name})

    def give_skills(self, agent: Agent, levels: dict[str, float]) -> None:
        resource = self.admin.create(
            "ServiceResource",
            {
                "Name": agent.username,
                "RelatedRecordId": agent.user_id,
                "IsActive": True,
                "ResourceType": "A",
            },
        )
        for skill, level in levels.items():
            self.admin.create(
                "ServiceResourceSkill",
                {
                    "ServiceResourceId": resource,
                    "SkillId": skill,
                    "SkillLevel": level,
                    "EffectiveStartDate": "2020-01-01T00:00:00Z",
                },
            )

    def work(self, **where: str) -> list[dict[str, Any]]:
        clauses = " AND ".join(f"{k} = '{v}'" for k, v in where.items())
        soql = (
            "SELECT Id, Status, UserId, WorkItemId, PendingServiceRoutingId, AcceptDateTime, "
            "DeclineReason, CloseDateTime, HandleTime, SpeedToAnswer, AgentCapacityWhenDeclined "
            "FROM AgentWork"
            + (f" WHERE {clauses}" if clauses else "")
            + " ORDER BY CreatedDate, Id"
        )
        records: list[dict[str, Any]] = self.admin.query(soql)["records"]
        return records

    def pending(self, work_item_id: str) -> list[dict[str, Any]]:
        soql = (
            "SELECT Id, Serial, IsPushed, IsPushAttempted, LastDeclinedAgentSession, GroupId, "
            f"RoutingPriority FROM PendingServiceRouting WHERE WorkItemId = '{work_item_id}'"
        )
        records: list[dict[str, Any]] = self.admin.query(soql)["records"]
        return records

    # -- channel settings and AgentWork fields (transfers, capacity models, ACW) ------

    def set_channel(self, **fields: Any) -> None:
        resp = self.admin.patch(f"/sobjects/ServiceChannel/{self.channel}", fields)
        assert resp.status_code == 204, resp.text

    def status_based(
        self, *, completed: list[str], in_progress: list[str], paused: list[str], **fields: Any
    ) -> None:
        """Make the channel status-based on Case.Status with these values."""
        self.set_channel(CapacityModel="StatusBased", StatusField="Status", **fields)
        for kind, values in (
            ("Completed", completed),
            ("InProgress", in_progress),
            ("Paused", paused),
        ):
            for value in values:
                self.admin.create(
                    "ServiceChannelStatusField",
                    {"ServiceChannelId": self.channel, "Type": kind, "Value": value},
                )

    def agent_work(self, work_id: str, fields: str) -> dict[str, Any]:
        return self.admin.read("AgentWork", work_id, fields)

    def statuses(self, work_item_id: str) -> list[tuple[str, str]]:
        """(user id, status) of every AgentWork of the item, oldest first."""
        return [(w["UserId"], w["Status"]) for w in self.work(WorkItemId=work_item_id)]
