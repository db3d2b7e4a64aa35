"""Presence status access (Salesforce's Service Presence Statuses Access): which
statuses an agent may log in with or switch to, granted by SetupEntityAccess on their
profile, a permission set assigned to them, or the permission set their profile owns;
enforced only once the org grants some status (routing/setup.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.api_harness import Api, assert_error, unchanged
from tests.integration.routing.omni_harness import OMNI, Agent, Centre

REFUSED = "PRESENCE_STATUS_NOT_ALLOWED"


def agent_in(centre: Centre, name: str, profile: str) -> Agent:
    username = f"{name}@agents.example.com"
    return Agent(centre.api, username, centre.api.add_user(username, profile=profile))


def profile(centre: Centre, name: str) -> str:
    return centre.admin.create("Profile", {"Name": name, "PermissionsApiEnabled": True})


def grant(centre: Centre, parent_id: str, status_id: str) -> str:
    return centre.admin.create(
        "SetupEntityAccess",
        {
            "ParentId": parent_id,
            "SetupEntityId": status_id,
            "SetupEntityType": "ServicePresenceStatus",
        },
    )


def permission_set(centre: Centre, name: str, **fields: Any) -> str:
    return centre.admin.create("PermissionSet", {"Name": name, "Label": name, **fields})


def assign(centre: Centre, agent: Agent, permission_set_id: str) -> str:
    return centre.admin.create(
        "PermissionSetAssignment",
        {"AssigneeId": agent.user_id, "PermissionSetId": permission_set_id},
    )


def delete(centre: Centre, sobject: str, record_id: str) -> None:
    resp = centre.admin.delete(f"/sobjects/{sobject}/{record_id}")
    assert resp.status_code == 204, resp.text


def usable(agent: Agent) -> list[str]:
    resp = agent.caller.get(f"{OMNI}/console")
    assert resp.status_code == 200, resp.text
    return [s["statusId"] for s in resp.json()["statuses"]]


def status_of(agent: Agent) -> str:
    return str(agent.ok("getServicePresenceStatusId")["statusId"])


def test_an_org_that_grants_nothing_lets_everyone_use_every_status(centre: Centre) -> None:
    ann = centre.agent("ann")
    ann.ok("login", statusId=centre.busy)
    ann.ok("setServicePresenceStatus", statusId=centre.available)
    assert status_of(ann) == centre.available
    assert set(usable(ann)) == {centre.available, centre.busy}


def test_a_grant_on_the_profile(centre: Centre) -> None:
    phones = profile(centre, "Phone Agents")
    ann, bo = agent_in(centre, "ann", "Phone Agents"), centre.agent("bo")
    grant(centre, phones, centre.available)
    ann.ok("login", statusId=centre.available)
    assert status_of(ann) == centre.available
    assert usable(ann) == [centre.available] and usable(bo) == []
    assert_error(bo.call("login", statusId=centre.available), 403, REFUSED, fields=["statusId"])
    assert_error(ann.call("setServicePresenceStatus", statusId=centre.busy), 403, REFUSED)


def test_a_grant_through_an_assigned_permission_set(centre: Centre) -> None:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    breaks = permission_set(centre, "Breaks", Description="May go on a break")
    grant(centre, breaks, centre.busy)
    assign(centre, ann, breaks)
    ann.ok("login", statusId=centre.busy)
    assert status_of(ann) == centre.busy
    assert usable(ann) == [centre.busy]
    assert_error(ann.call("setServicePresenceStatus", statusId=centre.available), 403, REFUSED)
    assert_error(bo.call("login", statusId=centre.busy), 403, REFUSED)


def test_a_grant_on_the_permission_set_the_profile_owns(centre: Centre) -> None:
    phones = profile(centre, "Phone Agents")
    ann, bo = agent_in(centre, "ann", "Phone Agents"), centre.agent("bo")
    own = permission_set(centre, "X00e_Phone_Agents", IsOwnedByProfile=True, ProfileId=phones)
    grant(centre, own, centre.available)
    # A permission set that names the profile but is not its own grants nothing.
    other = permission_set(centre, "Not_Owned", ProfileId=phones)
    grant(centre, other, centre.busy)
    ann.ok("login", statusId=centre.available)
    assert usable(ann) == [centre.available]
    assert_error(ann.call("setServicePresenceStatus", statusId=centre.busy), 403, REFUSED)
    assert_error(bo.call("login", statusId=centre.available), 403, REFUSED)


def test_the_console_lists_the_granted_statuses_by_label(centre: Centre) -> None:
    ann = centre.agent("ann")
    after = centre.status("After_Call", [])
    ps = permission_set(centre, "All")
    for status in (centre.busy, after, centre.available):
        grant(centre, ps, status)
    grant(centre, ps, centre.busy)  # twice: still once in the list
    assign(centre, ann, ps)
    resp = ann.caller.get(f"{OMNI}/console").json()
    assert [s["statusName"] for s in resp["statuses"]] == ["After_Call", "Available", "Busy"]
    assert [s["isOnline"] for s in resp["statuses"]] == [False, True, False]


def test_a_refused_status_changes_nothing(centre: Centre) -> None:
    ann = centre.agent("ann")
    ps = permission_set(centre, "Available_Only")
    grant(centre, ps, centre.available)
    assign(centre, ann, ps)
    org = centre.api.org
    # Offline: stays offline.
    with unchanged(org):
        assert_error(ann.call("login", statusId=centre.busy), 403, REFUSED)
    assert_error(ann.call("getServicePresenceStatusId"), 400, "NOT_LOGGED_IN")
    assert ann.events() == []
    # Online: keeps the status it had, with no event.
    ann.ok("login", statusId=centre.available)
    seen = ann.events()
    with unchanged(org):
        assert_error(ann.call("setServicePresenceStatus", statusId=centre.busy), 403, REFUSED)
        assert_error(ann.call("login", statusId=centre.busy), 403, REFUSED)
    assert status_of(ann) == centre.available
    assert ann.events() == seen


def test_changed_grants_take_effect_at_once(centre: Centre) -> None:
    phones = profile(centre, "Phone Agents")
    ann = agent_in(centre, "ann", "Phone Agents")
    first = grant(centre, phones, centre.available)  # the org now enforces access
    assert_error(ann.call("login", statusId=centre.busy), 403, REFUSED)
    ps = permission_set(centre, "Breaks")
    busy = grant(centre, ps, centre.busy)
    assert_error(ann.call("login", statusId=centre.busy), 403, REFUSED)  # not assigned yet
    assignment = assign(centre, ann, ps)
    ann.ok("login", statusId=centre.busy)
    delete(centre, "PermissionSetAssignment", assignment)
    assert_error(ann.call("setServicePresenceStatus", statusId=centre.busy), 403, REFUSED)
    ann.ok("setServicePresenceStatus", statusId=centre.available)
    assert status_of(ann) == centre.available
    # A new profile: the old profile's grant no longer counts.
    resp = centre.admin.patch(
        f"/sobjects/User/{ann.user_id}", {"ProfileId": centre.api.profile_id("Standard User")}
    )
    assert resp.status_code == 204, resp.text
    assert_error(ann.call("setServicePresenceStatus", statusId=centre.available), 403, REFUSED)
    assert status_of(ann) == centre.available  # a grant going away leaves the agent be
    # Deleting the permission set voids its grants.
    assign(centre, ann, ps)
    ann.ok("setServicePresenceStatus", statusId=centre.busy)
    delete(centre, "PermissionSet", ps)
    assert_error(ann.call("setServicePresenceStatus", statusId=centre.busy), 403, REFUSED)
    # With no grant left the rule is off again and every status is open.
    delete(centre, "SetupEntityAccess", first)
    delete(centre, "SetupEntityAccess", busy)
    ann.ok("setServicePresenceStatus", statusId=centre.busy)
    ann.ok("setServicePresenceStatus", statusId=centre.available)


def test_the_presence_configuration_may_move_the_agent_to_a_status_they_cannot_pick(
    centre: Centre,
) -> None:
    ann = centre.agent("ann")
    ps = permission_set(centre, "Available_Only")
    grant(centre, ps, centre.available)
    assign(centre, ann, ps)
    centre.presence("P", [ann], PresenceStatusOnDeclineId=centre.busy)
    queue = centre.queue("Support", centre.config("C"), [ann])
    ann.ok("login", statusId=centre.available)
    centre.case(queue)
    ann.ok("declineAgentWork", workId=ann.works()[0]["workId"])
    assert status_of(ann) == centre.busy
    assert_error(ann.call("setServicePresenceStatus", statusId=centre.busy), 403, REFUSED)


def test_unknown_and_malformed_ids(centre: Centre, api: Api) -> None:
    ann = centre.agent("ann")
    ps = permission_set(centre, "Available_Only")
    grant(centre, ps, centre.available)
    assign(centre, ann, ps)
    with unchanged(api.org):
        assert_error(ann.call("login", statusId="0N5000000000000AAA"), 404, "NOT_FOUND")
        assert_error(ann.call("login", statusId="not-a-status-id"), 400, "INVALID_FIELD")
        assert_error(ann.call("login", statusId=ann.user_id), 404, "NOT_FOUND")
        create = centre.admin.post
        for fields, code in (
            ({"ParentId": ann.user_id, "SetupEntityId": centre.available}, "MALFORMED_ID"),
            ({"ParentId": ps, "SetupEntityId": centre.channel}, "MALFORMED_ID"),
            ({"ParentId": ps, "SetupEntityId": "garbage"}, "MALFORMED_ID"),
            (
                {"ParentId": "0PS000000000001", "SetupEntityId": centre.available},
                "INVALID_CROSS_REFERENCE_KEY",
            ),
            ({"ParentId": ps}, "REQUIRED_FIELD_MISSING"),
            (
                {
                    "ParentId": ps,
                    "SetupEntityId": centre.available,
                    "SetupEntityType": "ApexClass",
                },
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            ),
        ):
            assert_error(create("/sobjects/SetupEntityAccess", fields), 400, code)
        assert_error(
            create("/sobjects/PermissionSetAssignment", {"AssigneeId": ps, "PermissionSetId": ps}),
            400,
            "MALFORMED_ID",
        )
    row = grant(centre, permission_set(centre, "Unassigned"), centre.busy)
    assert_error(
        centre.admin.patch(
            f"/sobjects/SetupEntityAccess/{row}", {"SetupEntityId": centre.available}
        ),
        403,
        "INSUFFICIENT_ACCESS",
    )
    # Agents cannot grant themselves a status.
    assert_error(
        ann.caller.post(
            "/sobjects/SetupEntityAccess", {"ParentId": ps, "SetupEntityId": centre.busy}
        ),
        403,
        "INSUFFICIENT_ACCESS",
    )
    assert_error(ann.call("login", statusId=centre.busy), 403, REFUSED)


@pytest.mark.parametrize("how", ["profile", "permission set"])
def test_a_granted_profile_parent_reads_back(centre: Centre, how: str) -> None:
    """SetupEntityAccess rows read back through SOQL with their parent's type."""
    phones = profile(centre, "Phone Agents")
    parent = phones if how == "profile" else permission_set(centre, "Breaks")
    row = grant(centre, parent, centre.available)
    [rec] = centre.admin.query(
        f"SELECT Id, ParentId, SetupEntityId, SetupEntityType FROM SetupEntityAccess "
        f"WHERE Id = '{row}'"
    )["records"]
    assert rec["ParentId"] == parent and rec["SetupEntityId"] == centre.available
    assert rec["SetupEntityType"] == "ServicePresenceStatus"
