"""Record-level sharing: Private and Read objects through the REST API and SOQL."""

from __future__ import annotations

from pathlib import Path

from tests.integration.api.api_harness import USER_PASSWORD, Api, Caller

from workroute.metadata.deploy import deploy_source

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "deploy" / "sharing"


def _names(caller: Caller, soql: str) -> list[str]:
    return sorted(r["Name"] for r in caller.query(soql)["records"])


def test_private_records_reach_owners_queues_and_managers_only(api: Api, admin: Caller) -> None:
    deploy_source(api.org, FIXTURE, user_id=api.org.admin_user_id())
    ann = api.add_user("ann@example.com")
    bob = api.add_user("bob@example.com")
    boss = api.add_user("boss@example.com")
    manager_role = admin.create("UserRole", {"Name": "Manager"})
    agent_role = admin.create("UserRole", {"Name": "Agent", "ParentRoleId": manager_role})
    for user, role in ((ann, agent_role), (boss, manager_role)):
        assert admin.patch(f"/sobjects/User/{user}", {"UserRoleId": role}).status_code == 204
    queue = admin.create("Group", {"Name": "Notes", "DeveloperName": "Notes", "Type": "Queue"})
    admin.create("GroupMember", {"GroupId": queue, "UserOrGroupId": bob})

    as_ann = api.caller("ann@example.com", USER_PASSWORD)
    as_bob = api.caller("bob@example.com", USER_PASSWORD)
    as_boss = api.caller("boss@example.com", USER_PASSWORD)
    mine = as_ann.create("Secret_Note__c", {"Name": "ann's"})
    queued = as_ann.create("Secret_Note__c", {"Name": "queued", "OwnerId": queue})
    everyone = as_ann.create("Notice__c", {"Name": "notice"})

    soql = "SELECT Name FROM Secret_Note__c"
    # Handing a record to a queue she is not in takes it out of Ann's reach.
    assert _names(as_ann, soql) == ["ann's"]
    assert _names(as_bob, soql) == ["queued"]  # a member of the owning queue
    assert _names(as_boss, soql) == ["ann's"]  # above the owner in the role hierarchy
    assert _names(admin, soql) == ["ann's", "queued"]  # ViewAllData
    assert as_bob.get(f"/sobjects/Secret_Note__c/{mine}").status_code == 404
    assert as_bob.get(f"/sobjects/Secret_Note__c/{queued}").status_code == 200
    refused = as_bob.patch(f"/sobjects/Secret_Note__c/{mine}", {"Name": "mine now"})
    assert refused.status_code == 403
    assert refused.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS"
    assert as_bob.delete(f"/sobjects/Secret_Note__c/{mine}").status_code == 403
    assert as_bob.patch(f"/sobjects/Secret_Note__c/{queued}", {"Name": "q2"}).status_code == 204
    assert admin.read("Secret_Note__c", mine)["Name"] == "ann's"

    # Read: everyone reads, only the owner's side changes.
    assert _names(as_bob, "SELECT Name FROM Notice__c") == ["notice"]
    assert as_bob.patch(f"/sobjects/Notice__c/{everyone}", {"Name": "x"}).status_code == 403
    assert as_ann.patch(f"/sobjects/Notice__c/{everyone}", {"Name": "y"}).status_code == 204
