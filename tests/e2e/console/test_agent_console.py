"""The agent's Omni-Channel console (#/agent) in a real browser against a real server.

Agents go online, receive cases routed by the demo's Support queue (Most Available,
capacity weight 2 of 6, push timeout 60 s), accept, decline with a reason, close, raise
and lower flags, and see the workload meter and the push-timeout countdown follow the
server's manual clock; a push timeout moves a case from one agent's page to another's.
The server is the module's: each test starts and ends with every demo agent offline and
no case waiting in the Support queue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.console.conftest import (
    ADMIN,
    AGENT_PASSWORD,
    DESKTOP,
    PHONE,
    BrowserErrors,
    ConsoleServer,
    OpenPage,
    agent,
)

AVAILABLE = "Available - Cases"
#: The demo's agents; 1 to 3 are members of the Support queue.
AGENTS = tuple(agent(n) for n in range(1, 5))
#: Support_Routing's PushTimeout in the demo.
PUSH_TIMEOUT = 60
OMNI = "/services/omni/v1"
#: An AudioContext as a browser gives it before the user may start audio: suspended,
#: and resume() refused.
BLOCKED_AUDIO = """
window.AudioContext = class extends window.AudioContext {
  get state() { return "suspended"; }
  resume() { return Promise.reject(new DOMException("not allowed", "NotAllowedError")); }
};
"""


def one(server: ConsoleServer, soql: str) -> dict[str, Any]:
    [record] = server.query(soql)
    return record


def support_queue(server: ConsoleServer) -> str:
    return str(one(server, "SELECT Id FROM Group WHERE DeveloperName = 'Support'")["Id"])


def user_id(server: ConsoleServer, username: str) -> str:
    return str(one(server, f"SELECT Id FROM User WHERE Username = '{username}'")["Id"])


def status_id(server: ConsoleServer, label: str) -> str:
    soql = f"SELECT Id FROM ServicePresenceStatus WHERE MasterLabel = '{label}'"
    return str(one(server, soql)["Id"])


def new_case(server: ConsoleServer, subject: str) -> tuple[str, str]:
    """A case given to the Support queue, which routes it at once: (id, CaseNumber)."""
    case_id = server.create("Case", {"Subject": subject, "OwnerId": support_queue(server)})
    number = one(server, f"SELECT CaseNumber FROM Case WHERE Id = '{case_id}'")["CaseNumber"]
    return case_id, str(number)


def works_of(server: ConsoleServer, case_id: str) -> list[dict[str, Any]]:
    return server.query(
        "SELECT Id, UserId, Status, DeclineReason FROM AgentWork "
        f"WHERE WorkItemId = '{case_id}' ORDER BY CreatedDate, Id"
    )


def omni(server: ConsoleServer, username: str, method: str, **args: Any) -> Any:
    """A toolkit method called as ``username`` through the API (not through a page)."""
    return server.call(
        "POST", f"{OMNI}/{method}", user=username, password=AGENT_PASSWORD, json=args
    )


def reset(server: ConsoleServer) -> None:
    """Nothing waiting in a queue, nothing open, every demo agent offline."""
    admin = user_id(server, ADMIN)
    queues = ", ".join(
        f"'{q['Id']}'" for q in server.query("SELECT Id FROM Group WHERE Type = 'Queue'")
    )
    for case in server.query(f"SELECT Id FROM Case WHERE OwnerId IN ({queues})"):
        # Out of the queue: its request and any work still Assigned are withdrawn.
        server.call(
            "PATCH",
            f"/services/data/v62.0/sobjects/Case/{case['Id']}",
            json={"OwnerId": admin},
            expect=204,
        )
    for username in AGENTS:
        me = user_id(server, username)
        for work in server.query(
            f"SELECT Id FROM AgentWork WHERE UserId = '{me}' AND Status = 'Opened'"
        ):
            omni(server, username, "closeAgentWork", workId=work["Id"])
        server.call(
            "POST",
            f"{OMNI}/logout",
            user=username,
            password=AGENT_PASSWORD,
            json={},
            expect=None,  # 400 NOT_LOGGED_IN when already offline
        )


@pytest.fixture(autouse=True)
def clean_org(server: ConsoleServer) -> Iterator[None]:
    reset(server)
    yield
    reset(server)


def console(open_page: OpenPage, username: str, **kwargs: Any) -> Page:
    page = open_page(username, hash="#/agent", **kwargs)
    expect(page.get_by_role("heading", name="Omni-Channel", level=1)).to_be_visible()
    expect(page.get_by_label("Presence status")).to_have_value("")
    return page


def console_online(open_page: OpenPage, username: str, **kwargs: Any) -> Page:
    """The console of an agent already online."""
    page = open_page(username, hash="#/agent", **kwargs)
    expect(page.locator("#agent-status-now")).to_contain_text(f"You are {AVAILABLE}")
    return page


def go_online(page: Page) -> None:
    status = page.get_by_label("Presence status")
    status.select_option(label=AVAILABLE)
    expect(page.locator("#agent-status-now")).to_contain_text(f"You are {AVAILABLE}")
    expect(status).to_be_enabled()


def requests(page: Page) -> Locator:
    return page.locator(".agent-request")


def open_work(page: Page) -> Locator:
    return page.locator(".agent-open")


def request_for(page: Page, number: str) -> Locator:
    return requests(page).filter(has=page.get_by_role("heading", name=number))


def expect_workload(page: Page, used: int, capacity: int = 6) -> None:
    meter = page.get_by_role("meter", name="Workload")
    expect(meter).to_have_attribute("value", str(used))
    expect(meter).to_have_attribute("max", str(capacity))
    expect(page.locator("#agent-workload-text")).to_have_text(f"{used} of {capacity} capacity used")


def test_an_agent_goes_online_accepts_a_pushed_case_and_closes_it(
    open_page: OpenPage, server: ConsoleServer
) -> None:
    page = console(open_page, agent(1))
    expect(page.locator("#agent-status-now")).to_have_text(
        "You are offline: no work is routed to you."
    )
    go_online(page)
    expect_workload(page, 0)

    case_id, number = new_case(server, "Anvil fell on the wrong coyote")
    request = request_for(page, number)
    expect(request).to_be_visible()
    timer = request.get_by_role("timer")
    expect(timer).to_have_text(re.compile(r"^Respond within (1m 00s|[1-5]?\d+s)$"))
    expect(request.get_by_label(re.compile("^Decline reason"))).to_be_visible()
    expect_workload(page, 2)  # Support work weighs 2 of the agent's 6

    # Keyboard only: from the status picker, Tab reaches Accept; Enter accepts.
    page.get_by_label("Presence status").focus()
    page.keyboard.press("Tab")
    accept = request.get_by_role("button", name="Accept")
    expect(accept).to_be_focused()
    page.keyboard.press("Enter")
    expect(requests(page)).to_have_count(0)
    item = open_work(page).filter(has=page.get_by_role("link", name=number))
    expect(item).to_be_visible()
    expect(item.get_by_role("heading", name=number)).to_be_focused()
    expect_workload(page, 2)
    [work] = works_of(server, case_id)
    assert work["Status"] == "Opened" and work["UserId"] == user_id(server, agent(1))

    # A flag with a message, then lowered.
    item.get_by_label(re.compile(r"^Flag message")).fill("Customer asks for a manager")
    item.get_by_role("button", name="Raise flag").click()
    expect(item.locator(".agent-flag")).to_have_text("Flagged Customer asks for a manager")
    expect(item.get_by_role("button", name="Raise flag")).to_be_hidden()
    item.get_by_role("button", name="Lower flag").click()
    expect(item.locator(".agent-flag")).to_be_hidden()
    expect(item.get_by_role("button", name="Raise flag")).to_be_visible()

    item.get_by_role("button", name="Close").click()
    expect(open_work(page)).to_have_count(0)
    expect(page.get_by_text("No open work.")).to_be_visible()
    expect_workload(page, 0)
    assert [w["Status"] for w in works_of(server, case_id)] == ["Closed"]

    page.get_by_label("Presence status").select_option(label="Offline")
    expect(page.locator("#agent-status-now")).to_contain_text("You are offline")


def test_a_declined_case_records_the_reason_and_goes_to_another_agent(
    open_page: OpenPage, server: ConsoleServer
) -> None:
    page = console(open_page, agent(2))
    go_online(page)
    case_id, number = new_case(server, "Rocket skates go backwards")
    request = request_for(page, number)
    expect(request).to_be_visible()
    # Someone else comes online (through the API), so the declined case has somewhere
    # to go; the router passes over the agent who declined it.
    omni(server, agent(3), "login", statusId=status_id(server, AVAILABLE))

    reason = request.get_by_label(re.compile("^Decline reason"))
    expect(reason.locator("option")).to_have_text(
        ["No reason given", "Busy with a customer", "Not my area"]
    )
    reason.select_option(label="Not my area")
    request.get_by_role("button", name="Decline").click()
    expect(requests(page)).to_have_count(0)
    expect(page.get_by_text("No incoming requests.")).to_be_visible()
    expect_workload(page, 0)
    first, second = works_of(server, case_id)
    assert first["UserId"] == user_id(server, agent(2))
    assert (first["Status"], first["DeclineReason"]) == ("Declined", "Not my area")
    assert (second["UserId"], second["Status"]) == (user_id(server, agent(3)), "Assigned")


def test_the_request_sound_plays_on_a_new_request(
    open_page: OpenPage, server: ConsoleServer
) -> None:
    page = console(open_page, agent(1))
    go_online(page)
    root = page.locator(".agent-console")
    expect(root).to_have_attribute("data-sounds-played", "0")
    _, number = new_case(server, "Sound check")
    expect(request_for(page, number)).to_be_visible()
    expect(root).to_have_attribute("data-sounds-played", "1")
    expect(root).to_have_attribute("data-sounds-muted", "0")
    # A browser that does not let audio start (autoplay policy): the request still
    # shows, the beep is skipped without an error (open_page fails the test on any).
    omni(server, agent(2), "login", statusId=status_id(server, AVAILABLE))
    quiet = console_online(open_page, agent(2))
    quiet.context.add_init_script(script=BLOCKED_AUDIO)
    quiet.reload()
    expect(quiet.locator("#agent-status-now")).to_contain_text(f"You are {AVAILABLE}")
    _, other = new_case(server, "Sound check, audio not allowed")
    expect(request_for(quiet, other)).to_be_visible()
    quiet_root = quiet.locator(".agent-console")
    expect(quiet_root).to_have_attribute("data-sounds-muted", "1")
    expect(quiet_root).to_have_attribute("data-sounds-played", "0")


def test_a_push_timeout_moves_the_case_to_another_agents_page(
    open_page: OpenPage, server: ConsoleServer
) -> None:
    usernames = (agent(1), agent(3))
    pages = {}
    for username in usernames:
        pages[username] = console(open_page, username)
        go_online(pages[username])
        expect_workload(pages[username], 0)
    # The server's manual clock runs ten minutes ahead of the browser's: the countdown
    # is counted from the server's time (the browser's alone would say the time is up).
    server.advance(10 * PUSH_TIMEOUT)
    case_id, number = new_case(server, "Nobody answers")
    [work] = works_of(server, case_id)
    ids = {user_id(server, u): u for u in usernames}
    first = ids[work["UserId"]]
    [second] = [u for u in usernames if u != first]

    request = request_for(pages[first], number)
    expect(request.get_by_role("timer")).to_have_text(
        re.compile(r"^Respond within (1m 00s|[1-5]\ds)$")
    )
    expect(requests(pages[second])).to_have_count(0)

    server.advance(PUSH_TIMEOUT + 1)
    expect(requests(pages[first])).to_have_count(0)
    expect_workload(pages[first], 0)
    expect(request_for(pages[second], number)).to_be_visible()
    expect_workload(pages[second], 2)
    assert [(w["UserId"], w["Status"]) for w in works_of(server, case_id)] == [
        (work["UserId"], "DeclinedOnPushTimeout"),
        (user_id(server, second), "Assigned"),
    ]


def test_a_refused_call_shows_the_servers_message(
    open_page: OpenPage, server: ConsoleServer, browser_errors: BrowserErrors
) -> None:
    page = console(open_page, agent(2))
    go_online(page)
    # The page stops hearing events (the stream is held, never answered), so it still
    # shows a request that has timed out on the server when the agent accepts it.
    page.route("**/services/omni/v1/events*", lambda route: None)
    page.reload()
    expect(page.locator("#agent-status-now")).to_contain_text(f"You are {AVAILABLE}")
    _, number = new_case(server, "Too late")
    page.reload()
    request = request_for(page, number)
    expect(request).to_be_visible()
    late = request.get_attribute("data-work-id")
    server.advance(PUSH_TIMEOUT + 1)
    browser_errors.allow(400, f"{OMNI}/acceptAgentWork")
    request.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("alert")).to_have_text(
        f"Could not accept {number}: AgentWork in status DeclinedOnPushTimeout cannot become Opened"
    )
    # The page read the state again: the timed-out work is gone, and the case is back
    # as new work (the router gives it to the agent who timed out when nobody else is
    # online).
    expect(requests(page)).to_have_count(1)
    expect(request_for(page, number)).not_to_have_attribute("data-work-id", late or "")
    page.unroute("**/services/omni/v1/events*")


def test_screenshots_at_desktop_and_phone_widths(
    open_page: OpenPage, server: ConsoleServer, screenshot: Callable[[Page, str], Path]
) -> None:
    desktop = console(open_page, agent(3), viewport=DESKTOP)
    go_online(desktop)
    _, number = new_case(server, "Rocket skates misfire on the second jump")
    expect(request_for(desktop, number).get_by_role("timer")).to_have_text(
        re.compile("^Respond within")
    )
    _, opened = new_case(server, "Invoice total is wrong")
    request_for(desktop, opened).get_by_role("button", name="Accept").click()
    expect(open_work(desktop)).to_have_count(1)
    screenshot(desktop, "agent-console-1280")

    phone = console_online(open_page, agent(3), viewport=PHONE)
    expect(request_for(phone, number)).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide at {PHONE['width']}px"
    screenshot(phone, "agent-console-390")


@pytest.fixture
def channel_with_acw(server: ConsoleServer) -> Iterator[str]:
    """The demo's Cases channel with 60 s of after-conversation work, extendable once by
    30 s; as it was afterwards."""
    channel = str(one(server, "SELECT Id FROM ServiceChannel WHERE DeveloperName = 'Cases'")["Id"])
    path = f"/services/data/v62.0/sobjects/ServiceChannel/{channel}"
    acw = {
        "HasAfterConvoWorkTimer": True,
        "AfterConvoWorkMaxTime": 60,
        "HasAcwExtensionEnabled": True,
        "AcwExtensionDuration": 30,
        "MaxExtensions": 1,
    }
    server.call("PATCH", path, json=acw, expect=204)
    yield channel
    reset(server)  # any work still in after-conversation work is done first
    server.call(
        "PATCH",
        path,
        json={"HasAfterConvoWorkTimer": False, "HasAcwExtensionEnabled": False},
        expect=204,
    )


def test_after_conversation_work_counts_down_and_can_be_extended(
    open_page: OpenPage, server: ConsoleServer, channel_with_acw: str
) -> None:
    page = console(open_page, agent(2))
    go_online(page)
    case_id, number = new_case(server, "Wrap-up needed")
    request_for(page, number).get_by_role("button", name="Accept").click()
    item = open_work(page).filter(has=page.get_by_role("link", name=number))
    expect(item.locator(".agent-acw")).to_be_hidden()
    item.get_by_role("button", name="Close").click()

    # Closing starts after-conversation work: the work and its capacity stay.
    timer = item.get_by_role("timer")
    expect(timer).to_have_text(re.compile(r"^After-conversation work ends in (1m 00s|[1-5]\ds)$"))
    expect(item.get_by_role("button", name="Done")).to_be_visible()
    expect_workload(page, 2)
    item.get_by_role("button", name="Extend").click()
    expect(timer).to_have_text(re.compile(r"^After-conversation work ends in 1m [0-3]\ds$"))
    expect(item.get_by_role("button", name="Extend")).to_be_hidden()  # once only

    # The timer runs out on the server's clock: the work is closed.
    server.advance(60 + 30 + 1)
    expect(open_work(page)).to_have_count(0)
    expect_workload(page, 0)
    [work] = server.query(
        "SELECT Status, AcwExtensionCount, AfterConversationActualTime FROM AgentWork "
        f"WHERE WorkItemId = '{case_id}'"
    )
    assert (work["Status"], work["AcwExtensionCount"]) == ("Closed", 1)
    assert work["AfterConversationActualTime"] >= 90


@pytest.fixture
def auto_accepting_agent(server: ConsoleServer) -> Iterator[str]:
    """agent4 (Billing) moved to a presence configuration that accepts work itself."""
    username = agent(4)
    me = user_id(server, username)
    [link] = server.query(
        f"SELECT Id, PresenceUserConfigId FROM PresenceUserConfigUser WHERE UserId = '{me}'"
    )
    data = "/services/data/v62.0/sobjects"
    server.call("DELETE", f"{data}/PresenceUserConfigUser/{link['Id']}", expect=204)
    config = server.create(
        "PresenceUserConfig",
        {
            "DeveloperName": "Auto_Accept",
            "MasterLabel": "Auto accept",
            "Capacity": 4,
            "OptionsIsAutoAcceptEnabled": True,
            "OptionsIsDeclineEnabled": False,
            "OptionsIsRequestSoundEnabled": True,
        },
    )
    mine = server.create("PresenceUserConfigUser", {"PresenceUserConfigId": config, "UserId": me})
    yield username
    reset(server)
    server.call("DELETE", f"{data}/PresenceUserConfigUser/{mine}", expect=204)
    server.create(
        "PresenceUserConfigUser",
        {"PresenceUserConfigId": link["PresenceUserConfigId"], "UserId": me},
    )
    server.call("DELETE", f"{data}/PresenceUserConfig/{config}", expect=204)


def test_auto_accepted_work_appears_as_open_work(
    open_page: OpenPage, server: ConsoleServer, auto_accepting_agent: str
) -> None:
    page = console(open_page, auto_accepting_agent)
    go_online(page)
    expect_workload(page, 0, capacity=4)
    billing = str(one(server, "SELECT Id FROM Group WHERE DeveloperName = 'Billing'")["Id"])
    case_id = server.create("Case", {"Subject": "Refund the anvil", "OwnerId": billing})
    number = one(server, f"SELECT CaseNumber FROM Case WHERE Id = '{case_id}'")["CaseNumber"]

    item = open_work(page).filter(has=page.get_by_role("link", name=number))
    expect(item).to_be_visible()
    expect(requests(page)).to_have_count(0)
    expect_workload(page, 1, capacity=4)  # Billing work weighs 1
    expect(page.locator(".agent-console")).to_have_attribute("data-sounds-played", "1")
    expect(page.locator("#announcer")).to_have_text(f"New work opened for you: {number}.")
    [work] = works_of(server, case_id)
    assert work["Status"] == "Opened"
    item.get_by_role("button", name="Close").click()
    expect(open_work(page)).to_have_count(0)
