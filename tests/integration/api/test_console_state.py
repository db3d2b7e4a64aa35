"""GET /services/omni/v1/console: the agent console page's state in one read
(routing/console_state.py), through the REST API on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.api.api_harness import Api, Caller, unchanged
from tests.integration.routing.omni_harness import OMNI, Agent, Centre

from workroute.kernel.clock import ManualClock

CONSOLE = f"{OMNI}/console"
KEYS = {
    "serverTime",
    "userId",
    "online",
    "status",
    "statuses",
    "configuredCapacity",
    "currentWorkload",
    "options",
    "works",
}
WORK_KEYS = {
    "workId",
    "workItemId",
    "workItemName",
    "workItemObject",
    "status",
    "serviceChannelId",
    "channelName",
    "assignedDateTime",
    "acceptDateTime",
    "pushTimeoutSeconds",
    "pushExpiresAt",
    "flag",
    "afterConversationWork",
}


@pytest.fixture
def centre(api: Api, admin: Caller) -> Centre:
    return Centre(api, admin)


def state(agent: Agent) -> dict[str, Any]:
    resp = agent.caller.get(CONSOLE)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert set(body) == KEYS
    for work in body["works"]:
        assert set(work) == WORK_KEYS
    return body


def case_number(centre: Centre, case_id: str) -> str:
    return str(centre.admin.read("Case", case_id, "CaseNumber")["CaseNumber"])


def test_an_offline_agent(centre: Centre, clock: ManualClock) -> None:
    ann = centre.agent("ann")
    reasons = [
        centre.admin.create("PresenceDeclineReason", {"DeveloperName": d, "MasterLabel": d})
        for d in ("Wrong_Skill", "Busy_With_Customer", "Unlinked")
    ]
    config = centre.presence(
        "P",
        [ann],
        OptionsIsDeclineReasonEnabled=True,
        OptionsIsRequestSoundEnabled=False,
        OptionsIsAutoAcceptEnabled=True,
    )
    for r in reasons[:2]:
        centre.admin.create(
            "PresenceConfigDeclineReason",
            {"PresenceUserConfigId": config, "PresenceDeclineReasonId": r},
        )
    clock.advance(90.25)
    with unchanged(centre.api.org):
        body = state(ann)
    assert body["serverTime"] == "2024-03-15T09:31:30.250Z"
    assert body["userId"] == ann.user_id
    assert body["online"] is False and body["status"] is None
    assert body["configuredCapacity"] is None and body["currentWorkload"] is None
    assert body["works"] == []
    assert body["statuses"] == [
        {
            "statusId": centre.available,
            "statusName": "Available",
            "statusApiName": "Available",
            "isOnline": True,
            "channels": [{"channelId": centre.channel, "developerName": "Cases"}],
        },
        {
            "statusId": centre.busy,
            "statusName": "Busy",
            "statusApiName": "Busy",
            "isOnline": False,
            "channels": [],
        },
    ]
    assert body["options"] == {
        "declineEnabled": True,
        "declineReasonEnabled": True,
        "declineReasons": [
            {"id": reasons[1], "label": "Busy_With_Customer"},
            {"id": reasons[0], "label": "Wrong_Skill"},
        ],
        "requestSoundEnabled": False,
        "disconnectSoundEnabled": False,
        "autoAccept": True,
        "afterConversationWork": {"enabled": False, "seconds": None, "channels": []},
    }


def test_an_agent_without_a_presence_configuration_gets_the_defaults(centre: Centre) -> None:
    ann = centre.agent("ann")
    options = state(ann)["options"]
    assert options["declineEnabled"] is True and options["declineReasonEnabled"] is False
    assert options["declineReasons"] == [] and options["autoAccept"] is False
    assert options["requestSoundEnabled"] is True
    ann.ok("login", statusId=centre.available)
    assert state(ann)["configuredCapacity"] == 5  # routing/setup.py DEFAULT_CAPACITY


def test_decline_disabled_by_the_presence_configuration(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("No_Decline", [ann], OptionsIsDeclineEnabled=False)
    options = state(ann)["options"]
    assert options["declineEnabled"] is False and options["declineReasons"] == []


def test_assigned_work_with_a_push_timeout_then_accepted(
    centre: Centre, clock: ManualClock
) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann], Capacity=4)
    queue = centre.queue("Support", centre.config("C", PushTimeout=30, CapacityWeight=2), [ann])
    ann.ok("login", statusId=centre.available)
    clock.advance(10)
    case = centre.case(queue)
    clock.advance(7)
    body = state(ann)
    assert body["serverTime"] == "2024-03-15T09:30:17.000Z"
    assert body["online"] is True
    assert body["status"] == {
        "statusId": centre.available,
        "statusName": "Available",
        "statusApiName": "Available",
        "channels": [{"channelId": centre.channel, "developerName": "Cases"}],
    }
    assert body["configuredCapacity"] == 4 and body["currentWorkload"] == 2
    [work] = body["works"]
    assert work == {
        "workId": work["workId"],
        "workItemId": case,
        "workItemName": case_number(centre, case),
        "workItemObject": "Case",
        "status": "Assigned",
        "serviceChannelId": centre.channel,
        "channelName": "Cases",
        "assignedDateTime": "2024-03-15T09:30:10.000Z",
        "acceptDateTime": None,
        "pushTimeoutSeconds": 30,
        "pushExpiresAt": "2024-03-15T09:30:40.000Z",
        "flag": None,
        "afterConversationWork": None,
    }
    assert [w["workId"] for w in ann.works()] == [work["workId"]]
    ann.ok("acceptAgentWork", workId=work["workId"])
    [opened] = state(ann)["works"]
    assert opened["status"] == "Opened" and opened["pushExpiresAt"] is None
    assert opened["acceptDateTime"] == "2024-03-15T09:30:17.000Z"
    assert opened["pushTimeoutSeconds"] == 30
    # Opened work stays the agent's while they are offline.
    ann.ok("logout")
    body = state(ann)
    assert body["online"] is False and body["status"] is None
    assert [w["workId"] for w in body["works"]] == [work["workId"]]


def test_works_are_oldest_assignment_first_and_without_timeout_never_expire(
    centre: Centre, clock: ManualClock
) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    first = centre.case(queue)
    clock.advance(5)
    second = centre.case(queue, Subject="Second")
    works = state(ann)["works"]
    assert [w["workItemId"] for w in works] == [first, second]
    assert [(w["pushTimeoutSeconds"], w["pushExpiresAt"]) for w in works] == [(0, None)] * 2


def test_a_raised_flag(centre: Centre) -> None:
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    centre.case(queue)
    work = ann.works()[0]["workId"]
    ann.ok("raiseAgentWorkFlag", workId=work, message="Angry customer")
    [w] = state(ann)["works"]
    assert w["flag"] == {
        "isFlagged": True,
        "message": "Angry customer",
        "roleUpdatedBy": "AGENT",
        "updatedBy": ann.user_id,
    }
    ann.ok("lowerAgentWorkFlag", workId=work)
    [w] = state(ann)["works"]
    assert w["flag"] is not None and w["flag"]["isFlagged"] is False


def test_after_conversation_work(centre: Centre, clock: ManualClock) -> None:
    centre.set_channel(
        HasAfterConvoWorkTimer=True,
        AfterConvoWorkMaxTime=60,
        HasAcwExtensionEnabled=True,
        AcwExtensionDuration=30,
        MaxExtensions="1",
    )
    ann = centre.agent("ann")
    centre.presence("P", [ann])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    centre.case(queue)
    work = ann.works()[0]["workId"]
    ann.ok("acceptAgentWork", workId=work)
    body = state(ann)
    assert body["options"]["afterConversationWork"] == {
        "enabled": True,
        "seconds": 60,
        "channels": [
            {
                "channelId": centre.channel,
                "developerName": "Cases",
                "seconds": 60,
                "extensionSeconds": 30,
                "maxExtensions": 1,
            }
        ],
    }
    assert body["works"][0]["afterConversationWork"] is None
    clock.advance(20)
    ann.ok("closeAgentWork", workId=work)
    [w] = state(ann)["works"]
    assert w["status"] == "Opened"
    assert w["afterConversationWork"] == {
        "endsAt": "2024-03-15T09:31:20.000Z",
        "extendable": True,
    }
    ann.ok("extendAfterConversationWork", workId=work)
    [w] = state(ann)["works"]
    assert w["afterConversationWork"] == {
        "endsAt": "2024-03-15T09:31:50.000Z",
        "extendable": False,
    }
    clock.advance(90)
    assert state(ann)["works"] == []


def test_each_agent_sees_only_their_own_console(centre: Centre) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    centre.case(queue)
    assert len(state(ann)["works"]) == 1
    body = state(bo)
    assert body["userId"] == bo.user_id and body["works"] == [] and body["online"] is False


def test_the_caller_must_be_signed_in(centre: Centre, api: Api) -> None:
    assert api.client.get(CONSOLE).status_code == 401
    bad = api.client.get(CONSOLE, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    assert api.client.post(CONSOLE, json={}).status_code == 401
