"""The To Do list and the Work Guide in a real browser: an orchestration's interactive
step assigned to a queue of two agents, its screen flow with a required field and a
validation rule; a refused submission first, then two agents racing for the same
work item (only the first completion counts), and the run moving on. Also the
records pages and the administrators' automation queues."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    PHONE,
    BrowserErrors,
    ConsoleServer,
    OpenPage,
    agent,
    start_console_server,
)
from tests.integration.orchestration.orch_harness import (
    CLOSE,
    SCREEN,
    close_flow_xml,
    review_step,
    screen_flow_xml,
    two_stage,
)
from workroute.metadata.flow import orchestration_to_xml
from workroute.orchestration.vocabulary import AssigneeType

NS = "http://soap.sforce.com/2006/04/metadata"
QUEUE = "Approvals"
RULE = "Say why in at least five characters."


def _screen_flow() -> bytes:
    """The harness's screen flow (a required Approved checkbox, a Comment) with a
    validation rule on the Comment."""
    xml = screen_flow_xml().decode()
    comment = "<fieldText>Comment</fieldText>"
    rule = (
        f"<validationRule><errorMessage>{RULE}</errorMessage>"
        "<formulaExpression>LEN({!Comment}) &gt;= 5</formulaExpression></validationRule>"
    )
    assert comment in xml
    return xml.replace(comment, comment + rule, 1).encode()


def _package() -> bytes:
    orch = two_stage(review_step(AssigneeType.QUEUE, QUEUE), name="Case_Approval")
    files: dict[str, str | bytes] = {
        "package.xml": f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{NS}">'
        f"<types><members>{orch.name}</members><members>{SCREEN}</members>"
        f"<members>{CLOSE}</members><name>Flow</name></types>"
        "<version>62.0</version></Package>",
        f"flows/{orch.name}.flow-meta.xml": orchestration_to_xml(orch),
        f"flows/{SCREEN}.flow-meta.xml": _screen_flow(),
        f"flows/{CLOSE}.flow-meta.xml": close_flow_xml(),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


@dataclass
class World:
    server: ConsoleServer
    queue: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    yield from start_console_server(tmp_path_factory.mktemp("work-guide"))


@pytest.fixture(scope="module")
def world(server: ConsoleServer) -> World:
    users = {r["Username"]: r["Id"] for r in server.query("SELECT Id, Username FROM User")}
    queue = server.create("Group", {"Name": QUEUE, "DeveloperName": QUEUE, "Type": "Queue"})
    server.create("QueueSobject", {"QueueId": queue, "SobjectType": "FlowOrchestrationWorkItem"})
    for n in (1, 2):
        server.create("GroupMember", {"GroupId": queue, "UserOrGroupId": users[agent(n)]})
    body = server.session().post(
        f"{server.url}/services/data/v62.0/metadata/deployRequest",
        headers={"Authorization": f"Bearer {server.token(ADMIN, ADMIN_PASSWORD)}"},
        files=[
            ("json", (None, b'{"deployOptions": {"singlePackage": false}}', "application/json")),
            ("file", ("deploy.zip", _package(), "application/zip")),
        ],
    )
    assert body.status_code in (200, 201), body.text
    deploy_id = body.json()["id"]
    result = server.call("GET", f"/services/data/v62.0/metadata/deployRequest/{deploy_id}")
    assert result["deployResult"]["status"] == "Succeeded", result
    return World(server=server, queue=queue)


def new_case(world: World, subject: str) -> str:
    """A case; saving it starts a run, whose first step gives the queue a work item."""
    return world.server.create("Case", {"Subject": subject, "Origin": "Web"})


def items_of(server: ConsoleServer, case: str) -> list[dict[str, Any]]:
    return server.query(
        "SELECT Id, Status, CompletedById FROM FlowOrchestrationWorkItem "
        f"WHERE RelatedRecordId = '{case}'"
    )


def wait_for_item(server: ConsoleServer, case: str) -> dict[str, Any]:
    """The run starts asynchronously, after the save commits: the clock's advance
    returns once every due timer has run."""
    server.advance(1)
    [item] = items_of(server, case)
    return item


def open_work_guide(page: Page, case: str) -> None:
    page.goto(f"/console#/record/{case}")
    expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible()


def test_to_do_and_work_guide_refuse_bad_values_then_the_first_completion_wins(
    open_page: OpenPage,
    world: World,
    browser_errors: BrowserErrors,
    screenshot: Callable[[Page, str], Path],
) -> None:
    server = world.server
    case = new_case(world, "Approve my refund")
    item = wait_for_item(server, case)
    assert item["Status"] not in ("Completed", "Canceled")

    # Agent 1's To Do list has the queue's work item; Open leads to the Work Guide.
    ada = open_page(agent(1), hash="#/todo")
    todo = ada.locator(f'[data-work-item-id="{item["Id"]}"]')
    expect(todo).to_contain_text("Review")
    screenshot(ada, "todo-1280")
    todo.get_by_role("link", name=re.compile("^Open")).click()
    expect(ada).to_have_url(re.compile(f"#/record/{case}"))
    expect(ada.get_by_role("heading", name="Review", exact=True)).to_be_visible()
    approved = ada.get_by_label("Approved")
    comment = ada.get_by_label("Comment")

    # Missing the required checkbox: the server's message next to it, nothing saved.
    browser_errors.allow(400, "/complete")
    comment.fill("no")
    ada.get_by_role("button", name="Submit").click()
    expect(ada.get_by_role("alert").first).to_contain_text("Approved: Complete this field.")
    expect(approved).to_have_attribute("aria-invalid", "true")
    # Then a comment that breaks the flow's validation rule: its message, what was
    # typed kept, still nothing saved.
    approved.check()
    ada.get_by_role("button", name="Submit").click()
    expect(ada.get_by_role("alert").first).to_contain_text(RULE)
    expect(comment).to_have_attribute("aria-invalid", "true")
    expect(comment).to_have_value("no")
    expect(approved).to_be_checked()
    expect(ada.get_by_role("alert").first).not_to_contain_text("null")
    assert items_of(server, case)[0]["Status"] == item["Status"]
    screenshot(ada, "work-guide-1280")

    # Agent 2 opens the same work item at the same time, on a phone.
    alan = open_page(agent(2), viewport=PHONE, hash=f"#/record/{case}")
    expect(alan.get_by_role("heading", name="Review", exact=True)).to_be_visible()
    alan.get_by_label("Approved").check()
    alan.get_by_label("Comment").fill("x")
    alan.get_by_role("button", name="Submit").click()
    expect(alan.get_by_role("alert").first).to_contain_text(RULE)
    screenshot(alan, "work-guide-390")

    # Ada completes it first.
    approved.check()
    comment.fill("Refund approved: goods returned")
    ada.get_by_role("button", name="Submit").click()
    expect(ada.get_by_text("Completed.", exact=True)).to_be_visible()
    [done] = items_of(server, case)
    assert done["Status"] in ("Completed", "Canceled") or done["CompletedById"]

    # Alan's submission comes second: a clear message instead of the form.
    browser_errors.allow(409, "/complete")
    alan.get_by_label("Comment").fill("Approved from my phone")
    # (He has typed into the form, so it stays when the item closes under him, with
    # a notice; his submission is refused by the server.)
    with alan.expect_response(lambda r: r.url.endswith("/complete")) as answer:
        alan.get_by_role("button", name="Submit").click()
    assert answer.value.status == 409
    expect(alan.get_by_role("alert").first).to_contain_text("Completed by Ada Lovelace")
    # On reload the form is gone for him too.
    alan.reload()
    expect(alan.get_by_text(re.compile("Completed by Ada Lovelace"))).to_be_visible()
    expect(alan.get_by_role("button", name="Submit")).to_have_count(0)

    # The run moved on: its second stage closed the case, the run is complete.
    server.advance(1)
    [run] = server.query(
        f"SELECT Status FROM FlowOrchestrationInstance WHERE RelatedRecordId = '{case}'"
    )
    assert run["Status"] == "Completed"
    [closed] = server.query(f"SELECT Status FROM Case WHERE Id = '{case}'")
    assert closed["Status"] == "Closed"
    # Nothing is left on either To Do list.
    ada.goto("/console#/todo")
    expect(ada.locator(f'[data-work-item-id="{item["Id"]}"]')).to_have_count(0)


def test_records_list_and_detail_show_a_demo_case(open_page: OpenPage, world: World) -> None:
    [case] = world.server.query(
        "SELECT Id, CaseNumber FROM Case WHERE Subject = 'Rocket skates misfire'"
    )
    page = open_page(agent(1), hash="#/objects/Case")
    link = page.get_by_role("link", name=re.compile(case["CaseNumber"]))
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(f"#/record/{case['Id']}"))
    expect(page.locator("dl").first).to_contain_text("Rocket skates misfire")
    expect(page.locator("dl").first).to_contain_text("High")


def test_the_automation_queues_are_for_administrators(
    open_page: OpenPage, world: World, browser_errors: BrowserErrors
) -> None:
    admin = open_page(ADMIN, ADMIN_PASSWORD, hash="#/admin")
    expect(
        admin.get_by_role("heading", name=re.compile("time-based workflow", re.I))
    ).to_be_visible()
    expect(
        admin.get_by_role("heading", name=re.compile("outbox|outbound", re.I)).first
    ).to_be_visible()
    browser_errors.allow(403, "/services/workroute/v1/")
    page = open_page(agent(3), hash="#/admin")
    expect(page.get_by_text(re.compile("Modify All Data"))).to_be_visible()
