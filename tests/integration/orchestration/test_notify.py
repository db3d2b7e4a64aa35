"""Work item emails as seeds 000 and 001 set them, received by a real loopback SMTP
server after commit: each assignee type's email and link (every row of the seeds'
notification table), inactive sites ignored, each link of the sender fall-back chain,
system context, the disable-all setting, the custom email for the initial assignee and
the default one on reassignment, nothing after a rollback. Runs on SQLite and
PostgreSQL. Most tests go through the orchestration runtime; the ``assign`` helper
calls :func:`notify_assignment` directly for the cases a run can't easily set up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import workroute.web
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
from workroute.orchestration.notify import Assignment, Notice, notify_assignment, set_setting
from workroute.orchestration.values import Parameter, Value
from workroute.orchestration.vocabulary import AssigneeType
from workroute.org import Org

V1 = "/services/workroute/v1"
APP_JS = Path(workroute.web.__file__).parent / "static" / "app.js"


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
def inbox(org: Org, smtp: tuple[Inbox, int]) -> Inbox:
    box, port = smtp
    org.smtp = SmtpSettings.from_url(f"smtp://127.0.0.1:{port}")
    return box


# -- helpers ----------------------------------------------------------------------------


def mail(inbox: Inbox, count: int = 1) -> list[Message]:
    inbox.wait_for(count)
    assert len(inbox.messages) == count, [m[1] for m in inbox.messages]
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


def visitor(org: Org, username: str, user_type: str = "PowerCustomerSuccess") -> str:
    """A user of another type (UserType can't be written through the API)."""
    uid = add_user(org, username)
    with org.db.write(), org.store.trusted():
        org.store.update("User", [{"Id": uid, "UserType": user_type}], user_id=uid)
    return uid


def site(admin: Caller, clock: ManualClock, name: str, status: str = "Live") -> str:
    clock.advance(timedelta(minutes=1))  # sites are ordered by age
    return admin.create("Network", {"Name": name, "UrlPathPrefix": name.lower(), "Status": status})


def group(admin: Caller, members: list[str], kind: str = "Regular", name: str = "Team") -> str:
    gid = admin.create("Group", {"Name": name, "DeveloperName": name, "Type": kind})
    for uid in members:
        admin.create("GroupMember", {"GroupId": gid, "UserOrGroupId": uid})
    return gid


def org_wide(org: Org, fields: dict[str, object]) -> None:
    """An organization-wide address, verified or not as Salesforce's setup would
    leave it (IsVerified is not writable through the API)."""
    with org.db.write(), org.store.trusted():
        org.store.insert("OrgWideEmailAddress", [fields], user_id=org.admin_user_id())


def assign(
    org: Org,
    assignee_id: str,
    *,
    record_id: str | None = None,
    run_user_id: str | None = None,
    **extra: object,
) -> list[Notice]:
    """notify_assignment in a transaction of its own, as the runtime calls it."""
    a = Assignment(
        work_item_id="0jE000000000001AAA",
        assignee_id=assignee_id,
        related_record_id=record_id,
        label="Review",
        orchestration_label="Case Review",
        run_user_id=run_user_id,
        **extra,  # type: ignore[arg-type]
    )
    with org.db.write() as conn:
        return notify_assignment(org, conn, a, org.clock.now())


def a_case(org: Org) -> str:
    return org.store.insert("Case", [{"Subject": "x"}], user_id=org.admin_user_id())[0]


# -- who gets what ------------------------------------------------------------------------


def test_internal_user_gets_a_personalized_email_with_the_internal_link(
    api: Api, admin: Caller, inbox: Inbox, tmp_path: Path
) -> None:
    org = api.org
    add_user(org, "reviewer@example.com")
    deploy_orchestration(org, tmp_path, two_stage())
    case_id = start_case(org, admin)
    [m] = mail(inbox)
    assert m["To"] == "reviewer@example.com"
    assert m["Subject"].endswith("Review is assigned to you")
    text = body(m)
    assert text.startswith("Hello reviewer,")
    assert f"{org.public_url}/console#/record/{case_id}" in text
    # No org-wide address and no setting: the running user (the admin who saved the case).
    assert inbox.messages[0][0] == "admin@example.com"


def console_record_route() -> re.Pattern[str]:
    """The record route of the console's router (``web/static/app.js``, ROUTES)."""
    [line] = [ln for ln in APP_JS.read_text().splitlines() if 'page: "record"' in ln]
    found = re.search(r"pattern: /(.+)/, page:", line)
    assert found is not None, line
    return re.compile(found.group(1))


def test_the_internal_link_opens_the_record_in_the_console(
    api: Api, admin: Caller, inbox: Inbox, tmp_path: Path
) -> None:
    """The link of a real email: a page the server serves (the console, which loads its
    router), and a fragment the router's record route takes, naming the case."""
    org = api.org
    add_user(org, "reviewer@example.com")
    deploy_orchestration(org, tmp_path, two_stage())
    case_id = start_case(org, admin)
    [m] = mail(inbox)
    [link] = [word for word in body(m).split() if word.startswith(org.public_url)]
    url = urlsplit(link)
    assert f"{url.scheme}://{url.netloc}" == org.public_url
    page = api.client.get(url.path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/console/app.js">' in page.text
    route = console_record_route().fullmatch(f"#{url.fragment}")
    assert route is not None, link
    assert route.group(1) == case_id


@pytest.mark.parametrize("kind", ["Queue", "Regular"])
def test_group_or_queue_members_each_get_the_general_email(
    api: Api, admin: Caller, inbox: Inbox, tmp_path: Path, kind: str
) -> None:
    org = api.org
    a, b = add_user(org, "a@example.com"), add_user(org, "b@example.com")
    group(admin, [a, b], kind)
    assignee = AssigneeType.QUEUE if kind == "Queue" else AssigneeType.GROUP
    deploy_orchestration(org, tmp_path, two_stage(review_step(assignee, "Team")))
    case_id = start_case(org, admin)
    first, second = mail(inbox, 2)
    assert sorted(r for m in inbox.messages for r in m[1]) == ["a@example.com", "b@example.com"]
    assert all(len(m[1]) == 1 for m in inbox.messages)  # one message per member
    assert first["Subject"] == second["Subject"]
    assert first["Subject"].endswith("is assigned to your group or queue")
    assert body(first) == body(second)
    assert "group or queue you belong to" in body(first) and "Hello" not in body(first)
    assert f"/console#/record/{case_id}" in body(first)


#: Seed 000's table, and inactive sites: members -> the sites they're in, and the site
#: whose record page the email links to (None: the internal page). "gone" is the oldest
#: site of all, but not live.
SITE_ROWS = [
    pytest.param({"v1": ["gone", "old", "new"]}, "old", id="visitor-in-two-live-sites-oldest"),
    pytest.param({"v1": ["gone", "new"]}, "new", id="visitor-inactive-site-ignored"),
    pytest.param({"v1": ["gone"]}, None, id="visitor-in-no-live-site-internal"),
    pytest.param({"v1": ["new"], "v2": ["new"]}, "new", id="visitors-all-in-one-site"),
    pytest.param(
        {"v1": ["gone", "old", "new"], "v2": ["gone", "old", "new"]},
        "old",
        id="visitors-common-sites-oldest",
    ),
    pytest.param({"v1": ["gone", "old"], "v2": ["gone", "new"]}, None, id="no-live-site-in-common"),
    pytest.param({"v1": ["old"], "v2": ["new"]}, None, id="no-site-in-common"),
    pytest.param({"v1": ["old"], "internal": []}, None, id="internal-and-visitors"),
]


#: Each row with a queue, and (for groups of several) with a public group as well.
SITE_CASES = [
    pytest.param(*row.values, kind, id=f"{row.id}-{kind}")
    for row in SITE_ROWS
    for kind in ("Queue", "Regular")
    if kind == "Queue" or len(row.values[0]) > 1  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("members", "expected", "kind"), SITE_CASES)
def test_site_visitor_links(
    api: Api,
    admin: Caller,
    inbox: Inbox,
    tmp_path: Path,
    clock: ManualClock,
    members: dict[str, list[str]],
    expected: str | None,
    kind: str,
) -> None:
    org = api.org
    sites = {
        "gone": site(admin, clock, "Gone", status="DownForMaintenance"),
        "old": site(admin, clock, "Old"),
        "new": site(admin, clock, "New"),
    }
    ids = []
    for name, in_sites in members.items():
        username = f"{name}@example.com"
        uid = add_user(org, username) if name == "internal" else visitor(org, username)
        ids.append(uid)
        for s in in_sites:
            admin.create("NetworkMember", {"NetworkId": sites[s], "MemberId": uid})
    if len(members) == 1:
        step = review_step(AssigneeType.USER, "v1@example.com")
    else:
        group(admin, ids, kind)
        step = review_step(AssigneeType.QUEUE if kind == "Queue" else AssigneeType.GROUP, "Team")
    deploy_orchestration(org, tmp_path, two_stage(step))
    case_id = start_case(org, admin)
    messages = mail(inbox, len(members))
    for m in messages:
        text = body(m)
        if expected is None:
            assert f"{org.public_url}/console#/record/{case_id}" in text
            assert "/s/detail/" not in text
        else:
            assert f"{org.public_url}/{expected}/s/detail/{case_id}" in text
        assert text.startswith("Hello ") is (len(members) == 1)


def test_chatter_free_and_inactive_users(org: Org) -> None:
    """Chatter Free users are internal (their group gets the internal link even when
    the visitors share a site); inactive members get nothing; the same address twice
    gets one message."""
    live = org.store.insert(
        "Network", [{"Name": "S", "Status": "Live"}], user_id=org.admin_user_id()
    )
    v = visitor(org, "v@example.com")
    chatter = visitor(org, "c@example.com", "CsnOnly")
    gone = add_user(org, "gone@example.com")
    twin = add_user(org, "twin@example.com")
    with org.db.write():
        org.store.update("User", [{"Id": gone, "IsActive": False}], user_id=org.admin_user_id())
        org.store.update("User", [{"Id": twin, "Email": "v@example.com"}], user_id=twin)
        org.store.insert(
            "NetworkMember",
            [{"NetworkId": live[0], "MemberId": uid} for uid in (v, chatter)],
            user_id=org.admin_user_id(),
        )
        [team] = org.store.insert(
            "Group", [{"Name": "T", "DeveloperName": "T"}], user_id=org.admin_user_id()
        )
        org.store.insert(
            "GroupMember",
            [{"GroupId": team, "UserOrGroupId": uid} for uid in (v, chatter, gone, twin)],
            user_id=org.admin_user_id(),
        )
    case_id = a_case(org)
    notices = assign(org, team, record_id=case_id, run_user_id=org.admin_user_id())
    assert sorted(n.to for n in notices) == [("c@example.com",), ("v@example.com",)]
    assert all(not n.personalized for n in notices)
    assert {n.link for n in notices} == {f"{org.public_url}/console#/record/{case_id}"}
    [one] = assign(org, v, record_id=case_id, run_user_id=org.admin_user_id())
    assert one.personalized and one.link == f"{org.public_url}/s/detail/{case_id}"
    assert assign(org, gone, record_id=case_id, run_user_id=org.admin_user_id()) == []


# -- the sender -----------------------------------------------------------------------------


def test_sender_fall_back_chain(api: Api, admin: Caller, inbox: Inbox, tmp_path: Path) -> None:
    org = api.org
    add_user(org, "reviewer@example.com")
    deploy_orchestration(org, tmp_path, two_stage())
    start_case(org, admin)  # 1. no address anywhere: the running user's email
    org_wide(org, {"Address": "unverified@example.com", "DisplayName": "Not yet"})
    start_case(org, admin)  # 2. an unverified user-selection address is no sender
    org_wide(org, {"Address": "any@example.com", "DisplayName": "Any", "IsVerified": True})
    start_case(org, admin)  # 3. any verified org-wide address
    org_wide(
        org,
        {
            "Address": "noreply@example.com",
            "DisplayName": "No Reply",
            "Purpose": "UserSelectionAndDefaultNoReply",
            "IsVerified": True,
        },
    )
    start_case(org, admin)  # 4. the Default No-Reply address
    r = admin.patch(
        f"{V1}/orchestration/settings", json={"automatedProcessUserEmail": "any@example.com"}
    )
    assert r.status_code == 200, r.text
    start_case(org, admin)  # 5. the Automated Process User email setting
    messages = mail(inbox, 5)
    assert [m[0] for m in inbox.messages] == [
        "admin@example.com",
        "admin@example.com",
        "any@example.com",
        "noreply@example.com",
        "any@example.com",
    ]
    assert [m["From"] for m in messages[2:]] == [
        "Any <any@example.com>",
        "No Reply <noreply@example.com>",
        "Any <any@example.com>",  # the setting's address has its org-wide display name
    ]


def test_default_no_reply_purpose_value(org: Org) -> None:
    """Salesforce's stored value is DefaultNoreply; it outranks an older verified one."""
    reviewer = add_user(org, "reviewer@example.com")
    org_wide(org, {"Address": "any@example.com", "DisplayName": "Any", "IsVerified": True})
    org_wide(org, {"Address": "nr@example.com", "DisplayName": "NR", "Purpose": "DefaultNoreply"})
    [n] = assign(org, reviewer, run_user_id=org.admin_user_id())
    assert (n.sender, n.sender_name) == ("nr@example.com", "NR")


def test_system_context(api: Api, admin: Caller, inbox: Inbox, tmp_path: Path) -> None:
    """No running user: the chain ends without a sender, so no email; an org-wide
    address or the setting still sends."""
    org = api.org
    reviewer = add_user(org, "reviewer@example.com")
    deploy_orchestration(org, tmp_path, two_stage())
    case_id = admin.create("Case", {"Subject": "x"})  # the trigger's run: admin's email
    org.orchestrator.start("Case_Review", user_id=None, record_id=case_id)  # system context
    run_due(org)
    assert len(org.outbox.list()) == 1
    assert assign(org, reviewer, record_id=case_id) == []
    set_setting(org, "automatedProcessUserEmail", "robot@example.com")
    [n] = assign(org, reviewer, record_id=case_id)
    assert (n.sender, n.sender_name) == ("robot@example.com", None)
    org.dispatcher.run_due()
    mail(inbox, 2)
    assert inbox.messages[1][0] == "robot@example.com"


def test_no_email_when_disabled(api: Api, admin: Caller, inbox: Inbox, tmp_path: Path) -> None:
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
    r = admin.patch(f"{V1}/orchestration/settings", json={"disableWorkItemEmails": True})
    assert r.status_code == 200, r.text
    assert admin.get(f"{V1}/orchestration/settings").json() == {
        "automatedProcessUserEmail": None,
        "disableWorkItemEmails": True,
    }
    start_case(org, admin)
    assert org.store.find("FlowOrchestrationWorkItem")  # the work is assigned ...
    assert org.outbox.list() == [] and inbox.messages == []  # ... but nobody is told
    set_setting(org, "disableWorkItemEmails", False)
    start_case(org, admin)
    mail(inbox)


# -- custom and default emails ------------------------------------------------------------


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
    assert first["Subject"] == "Please look" and body(first).splitlines()[0] == "Help"
    assert f"/console#/record/{case_id}" in body(first)
    [item] = org.store.find("FlowOrchestrationWorkItem", RelatedRecordId=case_id)
    r = admin.post(f"{V1}/workItems/{item['Id']}/reassign", json={"assigneeId": other})
    assert r.status_code == 200, r.text
    org.dispatcher.run_due()
    second = mail(inbox, 2)[1]
    assert second["To"] == "other@example.com"
    assert second["Subject"].endswith("Review is reassigned to you")
    assert body(second).startswith("Hello other,") and "reassigned to you" in body(second)


def test_custom_email_is_ignored_on_reassignment(org: Org) -> None:
    reviewer = add_user(org, "reviewer@example.com")
    custom = {"custom_subject": "S", "custom_body": "B"}
    [n] = assign(org, reviewer, run_user_id=org.admin_user_id(), **custom)
    assert (n.subject, n.body.split("\n")[0]) == ("S", "B")
    [d] = assign(org, reviewer, run_user_id=org.admin_user_id(), reassigned=True, **custom)
    assert d.subject == "Case Review: Review is reassigned to you" and "B" not in d.body


# -- the outbox ------------------------------------------------------------------------------


def test_emails_leave_only_after_commit(org: Org, inbox: Inbox) -> None:
    reviewer = add_user(org, "reviewer@example.com")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), org.db.write() as conn:
        a = Assignment(
            work_item_id="0jE000000000001AAA",
            assignee_id=reviewer,
            related_record_id=None,
            label="Review",
            orchestration_label="Case Review",
            run_user_id=org.admin_user_id(),
        )
        assert len(notify_assignment(org, conn, a, org.clock.now())) == 1
        raise Boom
    org.dispatcher.run_due()
    assert org.outbox.list() == [] and inbox.messages == []
    assign(org, reviewer, run_user_id=org.admin_user_id())
    assert inbox.messages == []  # queued, not sent: delivery runs after commit
    org.dispatcher.run_due()
    mail(inbox)


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
