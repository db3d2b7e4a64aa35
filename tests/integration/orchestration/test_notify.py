"""Work item emails as seeds 000 and 001 set them, received by a real loopback SMTP
server: each assignee type's email and link, site visitors' links, the sender
fall-back chain, no email in system context or when disabled, the custom email for the
initial assignee and the default one on reassignment, nothing after a rollback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest

from tests.integration.api.api_harness import Api, Caller, assert_error, unchanged
from tests.integration.orchestration.orch_harness import (
    add_user,
    deploy_orchestration,
    review_step,
    run_due,
    two_stage,
)
from tests.integration.workflow.loopback import Inbox
from tests.unit.delivery.test_smtp import EphemeralController
from workroute.delivery.smtp import SmtpSettings
from workroute.kernel.clock import ManualClock
from workroute.orchestration.definition import Step
from workroute.orchestration.notify import set_setting
from workroute.orchestration.values import Parameter, Value
from workroute.orchestration.vocabulary import AssigneeType
from workroute.org import Org

V1 = "/services/workroute/v1"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = EphemeralController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield inbox, int(controller.port)
    finally:
        controller.stop()


@pytest.fixture
def inbox(sqlite_org: Org, smtp: tuple[Inbox, int]) -> Inbox:
    box, port = smtp
    sqlite_org.smtp = SmtpSettings.from_url(f"smtp://127.0.0.1:{port}")
    return box


@pytest.fixture
def org(sqlite_org: Org) -> Org:
    return sqlite_org


def mail(inbox: Inbox, count: int = 1) -> list[Message]:
    inbox.wait_for(count)
    return [message_from_bytes(m[2]) for m in inbox.messages]


def body(m: Message) -> str:
    payload = m.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def start_case(org: Org, admin: Caller) -> str:
    case_id = admin.create("Case", {"Subject": "Help", "Status": "New"})
    run_due(org)  # the run creates the work item and queues the email
    org.dispatcher.run_due()  # the email leaves
    return case_id


def test_internal_user_gets_a_personalized_email_with_the_internal_link(
    api: Api, admin: Caller, inbox: Inbox, tmp_path: Path
) -> None:
    org = api.org
    add_user(org, "reviewer@example.com")
    deploy_orchestration(org, tmp_path, two_stage())
    case_id = start_case(org, admin)
    [m] = mail(inbox)
    assert m["To"] == "reviewer@example.com"
    text = body(m)
    assert text.startswith("Hello ")
    assert f"/lightning/r/Case/{case_id}/view" in text
    # The sender falls back to the running user (the admin who saved the case).
    assert m["From"].endswith("<admin@example.com>") or "admin@example.com" in m["From"]


def test_queue_members_get_one_general_email(
    api: Api, admin: Caller, inbox: Inbox, tmp_path: Path
) -> None:
    org = api.org
    a, b = add_user(org, "a@example.com"), add_user(org, "b@example.com")
    queue = admin.create("Group", {"Name": "Team", "DeveloperName": "Team", "Type": "Queue"})
    for uid in (a, b):
        admin.create("GroupMember", {"GroupId": queue, "UserOrGroupId": uid})
    deploy_orchestration(org, tmp_path, two_stage(review_step(AssigneeType.QUEUE, "Team")))
    case_id = start_case(org, admin)
    [m] = mail(inbox)
    assert sorted(inbox.messages[0][1]) == ["a@example.com", "b@example.com"]
    assert "group or queue you belong to" in body(m)
    assert f"/lightning/r/Case/{case_id}/view" in body(m)


def _visitor(org: Org, admin: Caller, username: str) -> str:
    uid = add_user(org, username)
    with org.db.write(), org.store.trusted():
        org.store.update("User", [{"Id": uid, "UserType": "PowerCustomerSuccess"}], user_id=uid)
    return uid


def _site(admin: Caller, clock: ManualClock, name: str, prefix: str, status: str = "Live") -> str:
    clock.advance(timedelta(minutes=1))  # sites are ordered by age
    return admin.create("Network", {"Name": name, "UrlPathPrefix": prefix, "Status": status})


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        # one visitor in two live sites (and an older inactive one): the oldest live site
        ({"v1@example.com": ["old", "new"]}, "old"),
        # a group of visitors all in one site
        ({"v1@example.com": ["new"], "v2@example.com": ["new"]}, "new"),
        # a group of visitors with two sites in common: the oldest common one
        ({"v1@example.com": ["old", "new"], "v2@example.com": ["old", "new"]}, "old"),
        # no site in common: the internal link
        ({"v1@example.com": ["old"], "v2@example.com": ["new"]}, None),
        # internal users among the visitors: the internal link
        ({"v1@example.com": ["old"], "internal@example.com": []}, None),
    ],
)
def test_site_visitor_links(
    api: Api,
    admin: Caller,
    inbox: Inbox,
    tmp_path: Path,
    clock: ManualClock,
    members: dict[str, list[str]],
    expected: str | None,
) -> None:
    org = api.org
    _site(admin, clock, "Gone", "gone", status="DownForMaintenance")
    sites = {
        "old": _site(admin, clock, "Old", "oldsite"),
        "new": _site(admin, clock, "New", "newsite"),
    }
    ids = {}
    for username, in_sites in members.items():
        uid = (
            add_user(org, username)
            if username.startswith("internal")
            else _visitor(org, admin, username)
        )
        ids[username] = uid
        for s in in_sites:
            admin.create("NetworkMember", {"NetworkId": sites[s], "MemberId": uid})
    if len(members) == 1:
        [only] = members
        assignee = review_step(AssigneeType.USER, only)
    else:
        team = admin.create("Group", {"Name": "Team", "DeveloperName": "Team", "Type": "Regular"})
        for uid in ids.values():
            admin.create("GroupMember", {"GroupId": team, "UserOrGroupId": uid})
        assignee = review_step(AssigneeType.GROUP, "Team")
    deploy_orchestration(org, tmp_path, two_stage(assignee))
    case_id = start_case(org, admin)
    [m] = mail(inbox)
    text = body(m)
    if expected is None:
        assert f"/lightning/r/Case/{case_id}/view" in text
    else:
        assert f"/{expected}site/s/detail/{case_id}" in text
    assert "/gonesite/" not in text


def org_wide(org: Org, fields: dict[str, object]) -> None:
    """An organization-wide address, verified as Salesforce's setup would (IsVerified
    is not writable through the API)."""
    with org.db.write(), org.store.trusted():
        org.store.insert("OrgWideEmailAddress", [fields], user_id=org.admin_user_id())


def test_sender_fall_back_chain(api: Api, admin: Caller, inbox: Inbox, tmp_path: Path) -> None:
    org = api.org
    add_user(org, "reviewer@example.com")
    deploy_orchestration(org, tmp_path, two_stage())
    start_case(org, admin)  # 1. no address anywhere: the running user's email
    org_wide(org, {"Address": "any@example.com", "DisplayName": "Any", "IsVerified": True})
    start_case(org, admin)  # 2. any verified org-wide address
    org_wide(
        org,
        {
            "Address": "noreply@example.com",
            "DisplayName": "No Reply",
            "Purpose": "DefaultNoReply",
            "IsVerified": True,
        },
    )
    start_case(org, admin)  # 3. the Default No-Reply address
    r = admin.patch(
        f"{V1}/orchestration/settings", json={"automatedProcessUserEmail": "robot@example.com"}
    )
    assert r.status_code == 200, r.text
    start_case(org, admin)  # 4. the Automated Process User email setting
    inbox.wait_for(4)
    senders = [m[0] for m in inbox.messages]
    assert senders == [
        "admin@example.com",
        "any@example.com",
        "noreply@example.com",
        "robot@example.com",
    ]


def test_no_email_when_disabled_or_in_system_context(
    api: Api, admin: Caller, inbox: Inbox, tmp_path: Path
) -> None:
    org = api.org
    add_user(org, "reviewer@example.com")
    deploy_orchestration(org, tmp_path, two_stage())
    with unchanged(org):
        assert_error(
            admin.patch(f"{V1}/orchestration/settings", json={"disableWorkItemEmails": "yes"}),
            400,
            "INVALID_FIELD",
        )
        assert_error(
            admin.patch(f"{V1}/orchestration/settings", json={"nope": True}), 400, "INVALID_FIELD"
        )
    reviewer = api.caller("reviewer@example.com", "Orch-pass-1")
    assert_error(
        reviewer.patch(f"{V1}/orchestration/settings", json={"disableWorkItemEmails": True}),
        403,
        "INSUFFICIENT_ACCESS",
    )
    assert (
        admin.patch(
            f"{V1}/orchestration/settings", json={"disableWorkItemEmails": True}
        ).status_code
        == 200
    )
    assert admin.get(f"{V1}/orchestration/settings").json()["disableWorkItemEmails"] is True
    start_case(org, admin)
    assert org.outbox.list() == []
    set_setting(org, "disableWorkItemEmails", False)
    # A run with no running user (system context) sends nothing.
    case_id = admin.create("Case", {"Subject": "x"})
    org.orchestrator.start("Case_Review", user_id=None, record_id=case_id)
    run_due(org)
    kinds = [i.payload.get("source") for i in org.outbox.list()]
    assert len(kinds) == 1  # only the admin-saved case's run (the trigger) emailed


def test_custom_email_first_default_email_on_reassignment(
    api: Api, admin: Caller, inbox: Inbox, tmp_path: Path
) -> None:
    org = api.org
    add_user(org, "reviewer@example.com")
    other = add_user(org, "other@example.com")
    base = review_step()
    custom = Step(
        **{
            **{f: getattr(base, f) for f in base.__dataclass_fields__ if f != "inputs"},
            "inputs": (
                *base.inputs,
                Parameter(
                    name="ActionInput__CustomEmailSubject", value=Value.string("Please look")
                ),
                Parameter(
                    name="ActionInput__CustomEmailBody", value=Value.reference("$Record.Subject")
                ),
            ),
        }
    )
    deploy_orchestration(org, tmp_path, two_stage(custom))
    case_id = start_case(org, admin)
    [first] = mail(inbox)
    assert first["Subject"] == "Please look" and body(first).startswith("Help")
    [item] = org.store.find("FlowOrchestrationWorkItem", RelatedRecordId=case_id)
    r = admin.post(f"{V1}/workItems/{item['Id']}/reassign", json={"assigneeId": other})
    assert r.status_code == 200, r.text
    org.dispatcher.run_due()
    second = mail(inbox, 2)[1]
    assert second["To"] == "other@example.com"
    assert second["Subject"] != "Please look" and "reassigned to you" in body(second)


def test_a_rolled_back_assignment_sends_nothing(
    api: Api, admin: Caller, inbox: Inbox, tmp_path: Path
) -> None:
    org = api.org
    add_user(org, "reviewer@example.com")
    deploy_orchestration(org, tmp_path, two_stage())

    class Boom(Exception):
        pass

    with pytest.raises(Boom), org.db.write():
        org.store.insert("Case", [{"Subject": "x"}], user_id=org.admin_user_id())
        assert org.timers.list(kind="orchestration")  # the run would move on after commit
        raise Boom
    assert org.timers.list(kind="orchestration") == []
    run_due(org)
    assert org.outbox.list() == [] and inbox.messages == []
    assert org.store.find("FlowOrchestrationInstance") == []
