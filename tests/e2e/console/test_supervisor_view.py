"""The Omni Supervisor page (#/supervisor) in a real browser, against a real server.

Agents act through the agent API with their own tokens while the supervisor's page is
open; every change shows on the page without a reload, from the supervisor's event
stream or the page's fallback refresh. Every wait is on the page, never on time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.e2e.console.conftest import (
    AGENT_PASSWORD,
    DESKTOP,
    PHONE,
    SUPERVISOR,
    WAIT_MS,
    BrowserErrors,
    ConsoleServer,
    OpenPage,
    agent,
)

HASH = "#/supervisor"
OMNI = "/services/omni/v1"
CHANGE_QUEUES = "AllAgents.ChangeQueues"
#: Backlog changes without an agent event show after the page's 10 s fallback refresh.
FALLBACK_WAIT_MS = WAIT_MS + 10_000


@dataclass(frozen=True)
class Demo:
    """Ids of the demo org this module's tests use."""

    support: str
    billing: str
    available: str
    users: dict[str, str]

    def user(self, n: int) -> str:
        return self.users[agent(n)]


@dataclass
class Agent:
    """An agent working through the agent API with their own token."""

    server: ConsoleServer
    n: int

    @property
    def username(self) -> str:
        return agent(self.n)

    def ok(self, method: str, **args: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.server.call(
            "POST", f"{OMNI}/{method}", user=self.username, password=AGENT_PASSWORD, json=args
        )
        return body

    def works(self) -> list[dict[str, Any]]:
        works: list[dict[str, Any]] = json.loads(self.ok("getAgentWorks")["works"])
        return works

    def finish(self) -> None:
        """Close whatever the agent holds and log out (a test's clean end, even a failed
        one's): accepted first, so no case goes back to the queue for the next test."""
        status = self.server.call(
            "POST",
            f"{OMNI}/getServicePresenceStatusId",
            user=self.username,
            password=AGENT_PASSWORD,
            json={},
            expect=None,
        )
        if not isinstance(status, dict) or not status.get("statusId"):
            return  # logged out already (the call is refused)
        for w in self.works():
            if not w["isEngaged"]:
                self.ok("acceptAgentWork", workId=w["workId"])
            self.ok("closeAgentWork", workId=w["workId"])
        self.ok("logout")


@pytest.fixture(scope="module")
def demo(server: ConsoleServer) -> Demo:
    users = {r["Username"]: r["Id"] for r in server.query("SELECT Id, Username FROM User")}
    queues = {
        r["DeveloperName"]: r["Id"]
        for r in server.query("SELECT Id, DeveloperName FROM Group WHERE Type = 'Queue'")
    }
    [available] = server.query(
        "SELECT Id FROM ServicePresenceStatus WHERE DeveloperName = 'Available_Cases'"
    )
    return Demo(
        support=queues["Support"],
        billing=queues["Billing"],
        available=available["Id"],
        users=users,
    )


@pytest.fixture
def agents(server: ConsoleServer) -> Iterator[Callable[[int], Agent]]:
    """``agents(n)``: demo agent n; every agent used is logged out when the test ends."""
    used: dict[int, Agent] = {}

    def _agent(n: int) -> Agent:
        return used.setdefault(n, Agent(server, n))

    yield _agent
    for a in used.values():
        a.finish()


def open_supervisor(open_page: OpenPage, **kwargs: Any) -> Page:
    page = open_page(SUPERVISOR, hash=HASH, **kwargs)
    expect(page.get_by_role("tab", name="Agents")).to_be_visible()
    return page


def agent_row(page: Page, demo: Demo, n: int) -> Locator:
    return page.locator(f'#sup-panel-agents tr[data-user-id="{demo.user(n)}"]')


def work_row(page: Page, work_id: str) -> Locator:
    return page.locator(f'#sup-panel-work tr[data-work-id="{work_id}"]')


def queue_row(page: Page, queue_id: str) -> Locator:
    return page.locator(f'#sup-panel-queues tr[data-queue-id="{queue_id}"]')


def pushed(page: Page, a: Agent, demo: Demo) -> str:
    """The id of the one piece of work the page shows the agent holding."""
    expect(agent_row(page, demo, a.n).locator(".sup-current li")).to_have_count(1)
    [work] = a.works()
    return str(work["workId"])


def supervisor_work(server: ConsoleServer, work_id: str) -> dict[str, Any]:
    works = server.call("GET", f"{OMNI}/supervisor/work", user=SUPERVISOR, password=AGENT_PASSWORD)[
        "works"
    ]
    [work] = [w for w in works if w["workId"] == work_id]
    found: dict[str, Any] = work
    return found


# -- the live views ----------------------------------------------------------------------


def test_the_supervisor_follows_a_piece_of_work_from_push_to_close(
    open_page: OpenPage,
    server: ConsoleServer,
    demo: Demo,
    agents: Callable[[int], Agent],
) -> None:
    page = open_supervisor(open_page)
    ada = agents(1)
    row = agent_row(page, demo, 1)
    expect(row.locator(".sup-status")).to_have_text("Offline")

    # Online: the status shows, and its time counts up each second.
    ada.ok("login", statusId=demo.available)
    expect(row.locator(".sup-status")).to_have_text("Available - Cases")
    expect(row.locator(".sup-time")).to_have_text(re.compile(r"^[1-9]\d*s$"))
    # The server's clock moves 5 minutes; the next refetch (the push below) shows it.
    server.advance(300)

    # Pushed: the work and the workload (the Support queue's capacity weight is 2).
    server.create("Case", {"Subject": "Supervisor watches this", "OwnerId": demo.support})
    work_id = pushed(page, ada, demo)
    expect(row.locator(".sup-current")).to_contain_text("Supervisor watches this")
    expect(row.locator(".sup-time")).to_have_text(re.compile(r"^5m \d\ds$"))
    meter = page.get_by_role("meter", name="Workload of Ada Lovelace")
    expect(meter).to_have_attribute("value", "2")
    expect(meter).to_have_attribute("max", "6")
    expect(row.locator(".sup-workload")).to_contain_text("2 / 6")

    page.get_by_role("tab", name="Assigned Work").click()
    work = work_row(page, work_id)
    expect(work).to_contain_text("Ada Lovelace")
    expect(work).to_contain_text("Supervisor watches this")
    expect(work.locator(".sup-work-status")).to_have_text("Assigned")
    expect(work.locator(".sup-assigned")).to_have_text(re.compile(r"^\d+s$"))
    expect(work.locator(".sup-accepted")).to_have_text("—")

    # Accepted: Opened, and the time since it was accepted counts.
    ada.ok("acceptAgentWork", workId=work_id)
    expect(work.locator(".sup-work-status")).to_have_text("Opened")
    expect(work.locator(".sup-accepted")).to_have_text(re.compile(r"^\d+s$"))

    # The agent raises a flag with a message: both views show it.
    ada.ok("raiseAgentWorkFlag", workId=work_id, message="Customer asks for a refund")
    expect(work.locator(".sup-flag")).to_contain_text("Flag raised")
    expect(work.locator(".sup-flag-message")).to_have_text("Customer asks for a refund")
    page.get_by_role("tab", name="Agents").click()
    expect(row.locator(".sup-flag")).to_contain_text("by the agent")
    expect(row.locator(".sup-flag-message")).to_have_text("Customer asks for a refund")

    # The supervisor lowers it from the page; the server has it lowered, by them.
    row.get_by_role("button", name=re.compile(r"^Lower flag on .*Supervisor watches this")).click()
    expect(row.locator(".sup-flags")).to_have_text("None")
    expect(page.locator("#announcer")).to_contain_text("Flag lowered")
    flag = supervisor_work(server, work_id)["flag"]
    assert flag["isFlagged"] is False
    assert flag["roleUpdatedBy"] == "SUPERVISOR"
    assert flag["updatedBy"] == demo.users[SUPERVISOR]

    # Closed: the work leaves both views and the workload drops.
    ada.ok("closeAgentWork", workId=work_id)
    expect(row.locator(".sup-current")).to_have_text("No work")
    expect(meter).to_have_attribute("value", "0")
    page.get_by_role("tab", name="Assigned Work").click()
    expect(work).to_have_count(0)
    expect(page.locator("#sup-panel-work")).to_contain_text("No work is assigned")

    # Logged out: offline again.
    ada.ok("logout")
    page.get_by_role("tab", name="Agents").click()
    expect(row.locator(".sup-status")).to_have_text("Offline")


def test_work_waiting_with_nobody_online_shows_in_the_queues_backlog(
    open_page: OpenPage, server: ConsoleServer, demo: Demo
) -> None:
    page = open_supervisor(open_page)
    page.get_by_role("tab", name="Queues Backlog").click()
    billing = queue_row(page, demo.billing)
    expect(billing.locator(".sup-waiting")).to_have_text("0")
    expect(billing.locator(".sup-longest")).to_have_text("—")

    case = server.create("Case", {"Subject": "Nobody is online", "OwnerId": demo.billing})
    try:
        # No agent hears of it: the stream's backlogChanged signal, or else the page's
        # fallback refresh, shows it.
        expect(billing.locator(".sup-waiting")).to_have_text("1", timeout=FALLBACK_WAIT_MS)
        expect(billing).to_contain_text("Priority 2: 1")  # Billing Routing's priority
        expect(billing.locator(".sup-longest")).to_have_text(re.compile(r"^[1-9]\d*s$"))
        # The longest wait follows the server's clock at the next refresh.
        server.advance(600)
        expect(billing.locator(".sup-longest")).to_have_text(
            re.compile(r"^10m \d\ds$"), timeout=FALLBACK_WAIT_MS
        )
        expect(queue_row(page, demo.support).locator(".sup-waiting")).to_have_text("0")
    finally:
        server.call("DELETE", f"/services/data/v62.0/sobjects/Case/{case}", expect=204)
    expect(billing.locator(".sup-waiting")).to_have_text("0", timeout=FALLBACK_WAIT_MS)


def test_the_supervisor_moves_an_agent_between_queues_from_the_keyboard(
    open_page: OpenPage, server: ConsoleServer, demo: Demo
) -> None:
    def in_billing() -> list[str]:
        rows = server.query(
            f"SELECT Id FROM GroupMember WHERE GroupId = '{demo.billing}' "
            f"AND UserOrGroupId = '{demo.user(1)}'"
        )
        return [str(r["Id"]) for r in rows]

    page = open_supervisor(open_page)
    queues = agent_row(page, demo, 1).locator("td").nth(3)
    expect(queues).to_have_text("Support")
    select = page.get_by_label("Queue for Ada Lovelace")
    expect(select).to_have_value(demo.billing)  # the first queue she is not in
    add = page.get_by_role("button", name="Add Ada Lovelace to the queue")
    remove = page.get_by_role("button", name="Remove Ada Lovelace from the queue")
    try:
        select.focus()
        page.keyboard.press("Tab")
        expect(add).to_be_focused()
        page.keyboard.press("Enter")
        expect(queues).to_have_text("Billing, Support")
        expect(page.locator("#announcer")).to_have_text("Ada Lovelace added to Billing.")
        expect(add).to_be_focused()  # the redraw keeps the focus where it was
        assert len(in_billing()) == 1

        # Adding her again is said, not sent.
        add.press("Enter")
        expect(page.get_by_role("alert")).to_have_text(
            re.compile("Ada Lovelace is already in Billing")
        )
        page.get_by_role("button", name="Dismiss").click()
        expect(page.get_by_role("alert")).to_have_count(0)

        remove.focus()
        page.keyboard.press("Space")
        expect(queues).to_have_text("Support")
        expect(page.locator("#announcer")).to_have_text("Ada Lovelace removed from Billing.")
        assert not in_billing()
    finally:  # Ada is in Support only again, whatever happened
        for member in in_billing():
            server.call("DELETE", f"/services/data/v62.0/sobjects/GroupMember/{member}", expect=204)


def test_a_refused_action_shows_the_servers_message_and_the_view_recovers(
    open_page: OpenPage,
    server: ConsoleServer,
    demo: Demo,
    agents: Callable[[int], Agent],
    browser_errors: BrowserErrors,
) -> None:
    page = open_supervisor(open_page)
    edsger = agents(4)
    edsger.ok("login", statusId=demo.available)
    server.create("Case", {"Subject": "Closed behind your back", "OwnerId": demo.billing})
    work_id = pushed(page, edsger, demo)
    edsger.ok("acceptAgentWork", workId=work_id)
    row = agent_row(page, demo, 4)

    # The page's views are held at what it last read while the agent raises the flag
    # and then closes the work, so the page still offers to lower it.
    held: dict[str, bytes] = {}

    def hold(route: Route) -> None:
        if route.request.method != "GET":
            route.fallback()
            return
        if "closed" not in held:
            held[route.request.url] = route.fetch().body()
        route.fulfill(status=200, content_type="application/json", body=held[route.request.url])

    page.route("**/services/omni/v1/supervisor/*", hold)
    edsger.ok("raiseAgentWorkFlag", workId=work_id, message="Please look")
    expect(row.locator(".sup-flag-message")).to_have_text("Please look")
    held["closed"] = b""
    edsger.ok("closeAgentWork", workId=work_id)

    browser_errors.allow(400, f"/supervisor/work/{work_id}/flag")
    row.get_by_role("button", name=re.compile("^Lower flag on")).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Lowering the flag on")
    expect(alert).to_contain_text("the flag of work in status Closed cannot change")

    page.unroute("**/services/omni/v1/supervisor/*")
    expect(row.locator(".sup-current")).to_have_text("No work", timeout=FALLBACK_WAIT_MS)


# -- refusal, keyboard, layout ----------------------------------------------------------------


def test_an_agent_who_is_not_a_supervisor_sees_the_servers_refusal(
    open_page: OpenPage, browser_errors: BrowserErrors
) -> None:
    browser_errors.allow(403, "/supervisor")
    page = open_page(agent(2), hash=HASH)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("You cannot use Omni Supervisor.")
    expect(alert).to_contain_text("Omni Supervisor needs the OmniSupervisor permission")
    expect(page.get_by_role("tab")).to_have_count(0)
    expect(
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Supervisor")
    ).to_have_count(0)


def test_the_tabs_work_from_the_keyboard(open_page: OpenPage, demo: Demo) -> None:
    page = open_supervisor(open_page)
    tabs = page.get_by_role("tablist", name="Omni Supervisor views")
    agents_tab = tabs.get_by_role("tab", name="Agents")
    expect(agents_tab).to_have_attribute("aria-selected", "true")
    agents_tab.focus()
    page.keyboard.press("ArrowRight")
    queues_tab = tabs.get_by_role("tab", name="Queues Backlog")
    expect(queues_tab).to_be_focused()
    expect(queues_tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Queues Backlog")).to_be_visible()
    expect(page.get_by_role("tabpanel", name="Agents")).to_be_hidden()
    page.keyboard.press("End")
    expect(tabs.get_by_role("tab", name="Assigned Work")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(agents_tab).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(tabs.get_by_role("tab", name="Assigned Work")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Home")
    expect(agents_tab).to_have_attribute("aria-selected", "true")
    # Only the selected tab is in the tab order; Tab goes on into its panel.
    page.keyboard.press("Tab")
    expect(page.get_by_role("tabpanel", name="Agents")).to_be_focused()
    page.keyboard.press("ArrowRight")  # the panel does not move the tabs
    expect(agents_tab).to_have_attribute("aria-selected", "true")
    skills = page.get_by_role("tab", name="Skills Backlog")
    skills.click()
    expect(page.get_by_role("tabpanel", name="Skills Backlog")).to_contain_text(
        "This configuration shows no skills."
    )


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "1280"), (PHONE, "390")])
def test_screenshots_with_agents_online_and_work_assigned(
    open_page: OpenPage,
    server: ConsoleServer,
    demo: Demo,
    agents: Callable[[int], Agent],
    screenshot: Callable[[Page, str], Any],
    viewport: Any,
    name: str,
) -> None:
    page = open_supervisor(open_page, viewport=viewport)
    ada, edsger = agents(1), agents(4)
    ada.ok("login", statusId=demo.available)
    edsger.ok("login", statusId=demo.available)
    server.create("Case", {"Subject": "Rocket skates misfire again", "OwnerId": demo.support})
    server.create("Case", {"Subject": "Invoice sent twice", "OwnerId": demo.billing})
    ada_work = pushed(page, ada, demo)
    pushed(page, edsger, demo)
    ada.ok("acceptAgentWork", workId=ada_work)
    ada.ok("raiseAgentWorkFlag", workId=ada_work, message="Customer wants a supervisor")
    expect(agent_row(page, demo, 1).locator(".sup-flag-message")).to_be_visible()
    expect(agent_row(page, demo, 4).locator(".sup-status")).to_have_text("Available - Cases")
    # The page itself never scrolls sideways; wide tables scroll in their own region.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the page is {width}px wide"
    screenshot(page, f"supervisor-{name}")
