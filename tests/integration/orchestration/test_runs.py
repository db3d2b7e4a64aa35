"""Orchestration runs through the REST API: a record-triggered run walked to completion,
the work item status and ownership tables of seed 000, the start and completion
conditions of seed 001, concurrent completion, reassignment history, cancel and resume
(SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN
from tests.integration.api.api_harness import Api, Caller, assert_error, unchanged
from tests.integration.orchestration.orch_harness import (
    PASSWORD,
    add_user,
    after,
    close_step,
    deploy_orchestration,
    review_step,
    run_due,
    two_stage,
)
from workroute.kernel.clock import ManualClock
from workroute.orchestration.definition import Stage
from workroute.orchestration.values import Condition, Criteria, Value
from workroute.orchestration.vocabulary import AssigneeType, ComparisonOperator
from workroute.org import Org

V1 = "/services/workroute/v1"
REVIEWER = "reviewer@example.com"


@pytest.fixture
def reviewer(api: Api) -> Caller:
    add_user(api.org, REVIEWER)
    return api.caller(REVIEWER, PASSWORD)


def new_case(admin: Caller, subject: str = "Broken") -> str:
    return admin.create("Case", {"Subject": subject, "Status": "New"})


def run_of(org: Org, case_id: str) -> dict[str, Any]:
    [run] = org.store.find("FlowOrchestrationInstance", RelatedRecordId=case_id)
    return run


def items_of(org: Org, run_id: str) -> list[dict[str, Any]]:
    return org.store.find("FlowOrchestrationWorkItem", OrchestrationInstanceId=run_id)


def steps_of(org: Org, run_id: str) -> dict[str, str]:
    rows = org.store.find("FlowOrchestrationStepInstance", OrchestrationInstanceId=run_id)
    return {str(r["Name"]): str(r["Status"]) for r in rows}


def stages_of(org: Org, run_id: str) -> dict[str, str]:
    rows = org.store.find("FlowOrchestrationStageInstance", OrchestrationInstanceId=run_id)
    return {str(r["Name"]): str(r["Status"]) for r in rows}


def milestones(org: Org, run_id: str) -> list[str]:
    rows = org.store.find("FlowOrchestrationLog", OrchestrationInstanceId=run_id)
    rows.sort(key=lambda r: (r["CreatedDate"], r["Id"]))
    return [str(r["Kind"]) for r in rows]


def deactivate(admin: Caller, user_id: str) -> None:
    r = admin.patch(f"/services/data/v62.0/sobjects/User/{user_id}", json={"IsActive": False})
    assert r.status_code == 204, r.text


def complete(caller: Caller, item_id: str, values: dict[str, Any]) -> Any:
    return caller.post(f"{V1}/workItems/{item_id}/complete", json={"values": values})


# -- a record-triggered run, end to end ----------------------------------------------------


def test_record_triggered_run_to_completion(
    api: Api, admin: Caller, reviewer: Caller, tmp_path: Path, clock: ManualClock
) -> None:
    org = api.org
    deploy_orchestration(org, tmp_path, two_stage())
    case_id = new_case(admin)
    run = run_of(org, case_id)
    assert run["Status"] == "InProgress" and run["OrchestrationVersion"] == 1
    # Interactive steps are processed asynchronously: nothing yet in the request.
    assert items_of(org, str(run["Id"])) == []
    run_due(org)
    [item] = items_of(org, str(run["Id"]))
    reviewer_id = org.user_id_by_username(REVIEWER)
    assert item["Status"] == "Assigned"
    assert item["AssigneeId"] == reviewer_id and item["OwnerId"] == reviewer_id
    assert item["RelatedRecordId"] == case_id
    assert steps_of(org, str(run["Id"])) == {"Review": "InProgress"}
    assert stages_of(org, str(run["Id"])) == {"Reviewing": "InProgress"}

    # The To Do list and the Work Guide show it; the form is the screen flow's.
    todo = reviewer.get(f"{V1}/workItems").json()["workItems"]
    assert [w["id"] for w in todo] == [item["Id"]]
    guide = reviewer.get(f"{V1}/records/{case_id}/workItems").json()["workItems"]
    assert [w["id"] for w in guide] == [item["Id"]]
    form = reviewer.get(f"{V1}/workItems/{item['Id']}/screen").json()
    names = [f["name"] for f in form["fields"]]
    assert names == ["Approved", "Comment"]

    # Bad values: field-level errors, nothing changes.
    with unchanged(org):
        bad = complete(reviewer, str(item["Id"]), {"Comment": "no approval given"})
    assert_error(
        bad,
        400,
        "FIELD_INTEGRITY_EXCEPTION",
        fields=["Approved"],
        contains="Approved: Complete this field",
    )

    clock.advance(timedelta(seconds=90))
    ok = complete(reviewer, str(item["Id"]), {"Approved": True, "Comment": "fine"})
    assert ok.status_code == 200, ok.text
    again = complete(reviewer, str(item["Id"]), {"Approved": True})
    # The second to complete hears who was first.
    assert_error(again, 409, "WORK_ITEM_COMPLETED", contains=f"already completed by {REVIEWER}")

    run_due(org)
    run = run_of(org, case_id)
    assert run["Status"] == "Completed"
    assert steps_of(org, str(run["Id"])) == {"Review": "Completed", "Close": "Completed"}
    assert stages_of(org, str(run["Id"])) == {"Reviewing": "Completed", "Closing": "Completed"}
    [item] = items_of(org, str(run["Id"]))
    assert item["Status"] == "Completed" and item["CompletedById"] == reviewer_id
    assert admin.read("Case", case_id)["Status"] == "Closed"
    assert milestones(org, str(run["Id"])) == [
        "Start Orchestration",
        "Start Stage",
        "Start Step",
        "Start Work Item",
        "End Work Item",
        "End Step",
        "End Stage",
        "Start Stage",
        "Start Step",
        "End Step",
        "End Stage",
        "End Orchestration",
    ]
    [end] = org.store.find("FlowOrchestrationLog", Kind="End Work Item")
    assert end["Actor"] == REVIEWER and end["Duration"] == 90
    # The step's outputs are kept on the step run.
    [review] = org.store.find("FlowOrchestrationStepInstance", Name="Review")
    assert '"comment": "fine"' in str(review["InProgressStepOutputs"]).lower()

    # The reviewer's console stream heard of the item, then of its end.
    events = reviewer.get("/services/omni/v1/events").json()["events"]
    mine = [(e["topic"], e["payload"]["workItemId"]) for e in events]
    assert mine == [
        ("omni/orchestrationWorkItemAssigned", item["Id"]),
        ("omni/orchestrationWorkItemClosed", item["Id"]),
    ]
    # Runs are records: SOQL reads them.
    q = admin.query(f"SELECT Id, Status FROM FlowOrchestrationInstance WHERE Id = '{run['Id']}'")
    assert q["records"][0]["Status"] == "Completed"
    listed = admin.get(f"{V1}/runs/{run['Id']}").json()
    assert [s["status"] for s in listed["stages"]] == ["Completed", "Completed"]


def test_only_active_versions_start_and_runs_keep_their_version(
    api: Api, admin: Caller, reviewer: Caller, tmp_path: Path
) -> None:
    org = api.org
    deploy_orchestration(org, tmp_path, two_stage())
    first = run_of(org, new_case(admin))
    changed = two_stage(second=close_step(name="Close_Again"))
    deploy_orchestration(org, tmp_path, changed)
    second = run_of(org, new_case(admin, "Second"))
    assert (first["OrchestrationVersion"], second["OrchestrationVersion"]) == (1, 2)
    run_due(org)
    for run in (first, second):
        [item] = items_of(org, str(run["Id"]))
        assert complete(reviewer, str(item["Id"]), {"Approved": True}).status_code == 200
    run_due(org)
    assert steps_of(org, str(first["Id"]))["Close"] == "Completed"
    assert steps_of(org, str(second["Id"]))["Close_Again"] == "Completed"


# -- concurrency --------------------------------------------------------------------------


def test_two_queue_members_complete_at_once_only_one_wins(
    api: Api, admin: Caller, tmp_path: Path
) -> None:
    org = api.org
    a, b = add_user(org, "a@example.com"), add_user(org, "b@example.com")
    queue = admin.create(
        "Group", {"Name": "Reviewers", "DeveloperName": "Reviewers", "Type": "Queue"}
    )
    for uid in (a, b):
        admin.create("GroupMember", {"GroupId": queue, "UserOrGroupId": uid})
    deploy_orchestration(org, tmp_path, two_stage(review_step(AssigneeType.QUEUE, "Reviewers")))
    case_id = new_case(admin)
    run_due(org)
    [item] = items_of(org, str(run_of(org, case_id)["Id"]))
    callers = [api.caller("a@example.com", PASSWORD), api.caller("b@example.com", PASSWORD)]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def go(c: Caller) -> None:
        barrier.wait()
        results.append(complete(c, str(item["Id"]), {"Approved": True}).status_code)

    threads = [threading.Thread(target=go, args=(c,)) for c in callers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    [row] = org.store.get_many("FlowOrchestrationWorkItem", [str(item["Id"])])
    assert row["CompletedById"] in (a, b)


# -- ownership (seed 000) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "takes_items", "owner"),
    [
        ("user", False, "assignee"),
        ("group", False, "automated"),
        ("queue", True, "queue"),
        ("queue", False, "automated"),
    ],
)
def test_ownership_table(
    api: Api,
    admin: Caller,
    reviewer: Caller,
    tmp_path: Path,
    kind: str,
    takes_items: bool,
    owner: str,
) -> None:
    org = api.org
    group_type = {"group": "Regular", "queue": "Queue"}.get(kind)
    target = REVIEWER
    if group_type is not None:
        gid = admin.create("Group", {"Name": "Team", "DeveloperName": "Team", "Type": group_type})
        admin.create(
            "GroupMember", {"GroupId": gid, "UserOrGroupId": org.user_id_by_username(REVIEWER)}
        )
        if takes_items:
            admin.create(
                "QueueSobject", {"QueueId": gid, "SobjectType": "FlowOrchestrationWorkItem"}
            )
        target = "Team"
    atype = {"user": AssigneeType.USER, "group": AssigneeType.GROUP, "queue": AssigneeType.QUEUE}
    deploy_orchestration(org, tmp_path, two_stage(review_step(atype[kind], target)))
    case_id = new_case(admin)
    run_due(org)
    [item] = items_of(org, str(run_of(org, case_id)["Id"]))
    apu = org.orchestrator.automated_process_user_id()
    expected = {
        "assignee": org.user_id_by_username(REVIEWER),
        "automated": apu,
        "queue": item["AssigneeId"],
    }[owner]
    assert item["OwnerId"] == expected
    # The member sees it in their To Do list either way.
    assert [w["id"] for w in reviewer.get(f"{V1}/workItems").json()["workItems"]] == [item["Id"]]
    # Reassigned to a user: owned by that user (and the same rules back to a group).
    other = add_user(org, "other@example.com")
    r = admin.post(f"{V1}/workItems/{item['Id']}/reassign", json={"assigneeId": other})
    assert r.status_code == 200, r.text
    [row] = org.store.get_many("FlowOrchestrationWorkItem", [str(item["Id"])])
    assert row["OwnerId"] == other and row["AssigneeId"] == other
    [log] = org.store.find("FlowOrchestrationLog", Kind="Reassign Work Item")
    assert log["Assignee"] == "other@example.com" and log["Actor"] == ADMIN


# -- statuses (seed 000) ------------------------------------------------------------------


def _interactive_pair(tmp_path: Path, org: Org, admin: Caller) -> tuple[str, list[dict[str, Any]]]:
    """A run whose first stage holds two interactive steps for the reviewer."""
    stage = Stage(
        name="Reviewing",
        label="Reviewing",
        steps=(review_step(name="First"), review_step(name="Second")),
    )
    orch = two_stage()
    orch = type(orch)(**{**_fields(orch), "stages": (stage,)})
    deploy_orchestration(org, tmp_path, orch)
    case_id = new_case(admin)
    run_due(org)
    run_id = str(run_of(org, case_id)["Id"])
    return run_id, sorted(items_of(org, run_id), key=lambda w: str(w["Label"]))


def _fields(obj: Any) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in obj.__dataclass_fields__}


def test_cancel_keeps_open_items_assigned_and_processed_ones_completed(
    api: Api, admin: Caller, reviewer: Caller, tmp_path: Path
) -> None:
    org = api.org
    run_id, (first, second) = _interactive_pair(tmp_path, org, admin)
    assert complete(reviewer, str(first["Id"]), {"Approved": True}).status_code == 200
    run_due(org)  # First's completion is processed: Completed
    assert complete(reviewer, str(second["Id"]), {"Approved": True}).status_code == 200
    # Second's completion is submitted but not processed when the run is canceled.
    r = admin.post(f"{V1}/runs/{run_id}/cancel", json={})
    assert r.status_code == 200, r.text
    run_due(org)
    rows = {str(w["Label"]): str(w["Status"]) for w in items_of(org, run_id)}
    assert rows == {"First": "Completed", "Second": "Assigned"}
    assert run_of_id(org, run_id)["Status"] == "Canceled"
    assert stages_of(org, run_id) == {"Reviewing": "Canceled"}
    assert steps_of(org, run_id) == {"First": "Completed", "Second": "Discontinued"}


def run_of_id(org: Org, run_id: str) -> dict[str, Any]:
    return org.store.get_many("FlowOrchestrationInstance", [run_id])[0]


def test_cancel_with_nothing_completed_leaves_item_assigned(
    api: Api, admin: Caller, reviewer: Caller, tmp_path: Path
) -> None:
    org = api.org
    deploy_orchestration(org, tmp_path, two_stage())
    case_id = new_case(admin)
    run_due(org)
    run_id = str(run_of(org, case_id)["Id"])
    assert admin.post(f"{V1}/runs/{run_id}/cancel", json={}).status_code == 200
    [item] = items_of(org, run_id)
    assert item["Status"] == "Assigned"
    # A canceled run's work item cannot be completed, and the refusal changes nothing.
    with unchanged(org):
        r = complete(reviewer, str(item["Id"]), {"Approved": True})
    assert_error(r, 409, "INVALID_RUN_STATE")
    # Only admins cancel; a second cancel is refused.
    assert_error(admin.post(f"{V1}/runs/{run_id}/cancel", json={}), 409, "INVALID_RUN_STATE")
    assert_error(reviewer.post(f"{V1}/runs/{run_id}/cancel", json={}), 403, "INSUFFICIENT_ACCESS")


def test_stage_completed_by_exit_condition_completes_open_items(
    api: Api, admin: Caller, reviewer: Caller, tmp_path: Path
) -> None:
    org = api.org
    exit_when_closed = Criteria(
        logic="and",
        conditions=(
            Condition(
                left="$Record.Priority",
                operator=ComparisonOperator.EQUAL_TO,
                right=Value.string("Low"),
            ),
        ),
    )
    orch = two_stage()
    first = orch.stages[0]
    stage = type(first)(**{**_fields(first), "exit": exit_when_closed})
    orch = type(orch)(**{**_fields(orch), "stages": (stage, orch.stages[1])})
    deploy_orchestration(org, tmp_path, orch)
    case_id = new_case(admin)
    run_due(org)
    run_id = str(run_of(org, case_id)["Id"])
    admin.patch(f"/services/data/v62.0/sobjects/Case/{case_id}", json={"Priority": "Low"})
    run_due(org)
    [item] = items_of(org, run_id)
    assert item["Status"] == "Completed" and item["CompletedById"] is None
    assert steps_of(org, run_id)["Review"] == "Discontinued"
    assert run_of_id(org, run_id)["Status"] == "Completed"


def test_step_error_completes_items_of_its_stage_and_can_be_resumed(
    api: Api, admin: Caller, reviewer: Caller, tmp_path: Path, clock: ManualClock
) -> None:
    org = api.org
    stage = Stage(
        name="Reviewing",
        label="Reviewing",
        steps=(
            review_step(name="Review"),
            review_step(AssigneeType.USER, "nobody@example.com", name="Broken"),
        ),
    )
    orch = two_stage()
    orch = type(orch)(**{**_fields(orch), "stages": (stage,)})
    gone = add_user(org, "nobody@example.com")
    deploy_orchestration(org, tmp_path, orch)
    deactivate(admin, gone)
    case_id = new_case(admin)
    run_due(org)
    run_id = str(run_of(org, case_id)["Id"])
    run = run_of_id(org, run_id)
    assert run["Status"] == "Error" and "nobody@example.com" in str(run["ErrorMessage"])
    assert steps_of(org, run_id) == {"Review": "Discontinued", "Broken": "Error"}
    assert stages_of(org, run_id) == {"Reviewing": "Error"}
    [item] = items_of(org, run_id)
    assert item["Status"] == "Completed"  # not completed, and its stage hit an error

    # Resume once the user is active again: the stage runs again.
    reactivate = admin.patch(f"/services/data/v62.0/sobjects/User/{gone}", json={"IsActive": True})
    assert reactivate.status_code == 204, reactivate.text
    assert admin.post(f"{V1}/runs/{run_id}/resume", json={}).status_code == 200
    run_due(org)
    assert run_of_id(org, run_id)["Status"] == "InProgress"
    assert steps_of(org, run_id) == {"Review": "InProgress", "Broken": "InProgress"}
    assert len([w for w in items_of(org, run_id) if w["Status"] == "Assigned"]) == 2


def test_resume_is_refused_after_fourteen_days(
    api: Api, admin: Caller, tmp_path: Path, clock: ManualClock
) -> None:
    org = api.org
    ghost = add_user(org, "ghost@example.com")
    deploy_orchestration(
        org, tmp_path, two_stage(review_step(AssigneeType.USER, "ghost@example.com"))
    )
    deactivate(admin, ghost)
    case_id = new_case(admin)
    run_due(org)
    run_id = str(run_of(org, case_id)["Id"])
    assert run_of_id(org, run_id)["Status"] == "Error"
    clock.advance(timedelta(days=14, seconds=1))
    admin = api.caller()  # the old session has expired meanwhile
    with unchanged(org):
        r = admin.post(f"{V1}/runs/{run_id}/resume", json={})
    assert_error(r, 400, "CANNOT_RESUME")


# -- start conditions (seed 001) ----------------------------------------------------------


def test_step_starts_when_another_is_completed(
    api: Api, admin: Caller, reviewer: Caller, tmp_path: Path
) -> None:
    org = api.org
    stage = Stage(
        name="Reviewing",
        label="Reviewing",
        steps=(review_step(name="First"), review_step(name="Second", entry=after("First"))),
        connector=None,
    )
    orch = two_stage()
    orch = type(orch)(**{**_fields(orch), "stages": (stage,)})
    deploy_orchestration(org, tmp_path, orch)
    case_id = new_case(admin)
    run_due(org)
    run_id = str(run_of(org, case_id)["Id"])
    assert steps_of(org, run_id) == {"First": "InProgress", "Second": "NotStarted"}
    [first] = items_of(org, run_id)
    assert complete(reviewer, str(first["Id"]), {"Approved": True}).status_code == 200
    run_due(org)
    assert steps_of(org, run_id) == {"First": "Completed", "Second": "InProgress"}


def test_step_starts_when_requirements_hold(
    api: Api, admin: Caller, reviewer: Caller, tmp_path: Path
) -> None:
    org = api.org
    high = Criteria(
        logic="or",
        conditions=(
            Condition(
                left="$Record.Priority",
                operator=ComparisonOperator.EQUAL_TO,
                right=Value.string("High"),
            ),
            Condition(
                left="$Record.Subject",
                operator=ComparisonOperator.STARTS_WITH,
                right=Value.string("URGENT"),
            ),
        ),
    )
    orch = two_stage(review_step(entry=high))
    deploy_orchestration(org, tmp_path, orch)
    calm = new_case(admin, "calm")
    urgent = new_case(admin, "URGENT: down")
    run_due(org)
    assert steps_of(org, str(run_of(org, calm)["Id"])) == {"Review": "NotStarted"}
    assert steps_of(org, str(run_of(org, urgent)["Id"])) == {"Review": "InProgress"}


def test_interactive_step_completes_when_requirements_hold(
    api: Api, admin: Caller, reviewer: Caller, tmp_path: Path
) -> None:
    org = api.org
    done_when = Criteria(
        logic="and",
        conditions=(
            Condition(
                left="$Record.Status",
                operator=ComparisonOperator.EQUAL_TO,
                right=Value.string("Working"),
            ),
        ),
    )
    deploy_orchestration(org, tmp_path, two_stage(review_step(exit=done_when)))
    case_id = new_case(admin)
    run_due(org)
    run_id = str(run_of(org, case_id)["Id"])
    assert steps_of(org, run_id) == {"Review": "InProgress"}
    admin.patch(f"/services/data/v62.0/sobjects/Case/{case_id}", json={"Status": "Working"})
    run_due(org)
    assert steps_of(org, run_id)["Review"] == "Completed"
    assert run_of_id(org, run_id)["Status"] == "Completed"


# -- API refusals -------------------------------------------------------------------------


def test_api_refusals_change_nothing(
    api: Api, admin: Caller, reviewer: Caller, tmp_path: Path
) -> None:
    org = api.org
    deploy_orchestration(org, tmp_path, two_stage(trigger=False))
    stranger = add_user(org, "stranger@example.com")
    del stranger
    outsider = api.caller("stranger@example.com", PASSWORD)
    case_id = new_case(admin)
    with unchanged(org):
        assert_error(admin.post(f"{V1}/runs", json={"orchestration": "Nope"}), 404, "NOT_FOUND")
        assert_error(
            admin.post(f"{V1}/runs", json={"orchestration": "Case_Review", "bogus": 1}),
            400,
            "INVALID_FIELD",
        )
        assert_error(
            admin.post(
                f"{V1}/runs",
                json={"orchestration": "Case_Review", "inputs": {"unknown": 1}},
            ),
            400,
            "INVALID_INPUT",
        )
        assert_error(admin.post(f"{V1}/runs", json=[]), 400, "JSON_PARSER_ERROR")
    r = admin.post(
        f"{V1}/runs",
        json={"orchestration": "Case_Review", "recordId": case_id, "inputs": {"recordId": case_id}},
    )
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    run_due(org)
    [item] = items_of(org, run_id)
    with unchanged(org):
        # Someone who is not the assignee neither sees nor completes it.
        assert_error(outsider.get(f"{V1}/workItems/{item['Id']}"), 404, "NOT_FOUND")
        assert_error(complete(outsider, str(item["Id"]), {"Approved": True}), 404, "NOT_FOUND")
        assert outsider.get(f"{V1}/workItems").json()["workItems"] == []
        assert_error(outsider.get(f"{V1}/runs"), 403, "INSUFFICIENT_ACCESS")
        # Wrong types and unknown fields are field errors.
        r = complete(reviewer, str(item["Id"]), {"Approved": "yes please"})
        assert r.status_code == 400 and "Approved" in r.text
        r = complete(reviewer, str(item["Id"]), {"Approved": True, "Nope": 1})
        assert r.status_code == 400 and "Nope" in r.text
        assert_error(
            reviewer.post(f"{V1}/workItems/{item['Id']}/reassign", json={"assigneeId": "ghost"}),
            400,
            "INVALID_ASSIGNEE",
        )
        assert_error(reviewer.post(f"{V1}/workItems/nope/complete", json={}), 400, "MALFORMED_ID")
