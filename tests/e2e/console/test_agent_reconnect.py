"""The agent console through a server crash: ``workroute serve`` is SIGKILLed under an
open page and started again on the same port. The page says the connection is lost,
then restored, and a case routed right after the restart reaches it.

This module has a server of its own (conftest's ``server`` is module-scoped), so the
restart does not touch the other console tests.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.console.conftest import WAIT_MS, BrowserErrors, ConsoleServer, OpenPage, agent
from tests.e2e.console.test_agent_console import (
    AVAILABLE,
    console,
    go_online,
    new_case,
    open_work,
    request_for,
    requests,
)

#: What Chromium logs while the server is down: its refused and cut connections.
NETWORK_ERRORS = re.compile(
    r"net::(ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE"
    r"|ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_CONNECTION_CLOSED)"
)


def test_the_console_reconnects_after_a_crash_and_misses_nothing(
    open_page: OpenPage, server: ConsoleServer, browser_errors: BrowserErrors
) -> None:
    page = console(open_page, agent(1))
    go_online(page)
    banner = page.locator("#connection")
    expect(banner).to_be_hidden()

    before = len(browser_errors.messages)
    server.process.kill()
    expect(banner).to_have_text("Connection to the server lost. Reconnecting…", timeout=WAIT_MS)
    server.process.start()
    # Routed at once, most likely before the page's stream is back: the event waits in
    # the server's log and the stream resumes after the last event the page had.
    _, number = new_case(server, "Routed while the console was reconnecting")
    expect(banner).to_have_text("Connection restored.", timeout=WAIT_MS)
    request = request_for(page, number)
    expect(request).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#agent-status-now")).to_contain_text(f"You are {AVAILABLE}")

    # The page's own calls work again, and so do later events.
    request.get_by_role("button", name="Accept").click()
    expect(open_work(page)).to_have_count(1)
    _, later = new_case(server, "Routed after the restart")
    expect(request_for(page, later)).to_be_visible()
    expect(requests(page)).to_have_count(1)

    # The browser logs each connection it could not make while the server was down;
    # those were the point of the test. Anything else still fails it.
    down = browser_errors.messages[before:]
    browser_errors.messages[before:] = [m for m in down if not NETWORK_ERRORS.search(m)]
