"""The web console in a real browser: Debian's Chromium driven by Playwright against a
real ``workroute serve`` (HTTPS, manual clock, the demo org).

Every page a test opens records the browser's console errors and uncaught page
errors; a test fails at teardown if there were any. ``screenshot`` saves a picture of
the page under docs/screenshots/, the folder the README links.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import trustme
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    ViewportSize,
    sync_playwright,
)

from workroute.testing import ServerProcess

ADMIN = "admin@demo.workroute"
ADMIN_PASSWORD = "Demo-admin-1"
AGENT_PASSWORD = "Demo-agent-1"
SUPERVISOR = "supervisor@demo.workroute"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 390, "height": 844}
#: How long a browser-side expectation may take (the page reacts to server events).
WAIT_MS = 15_000


def agent(n: int) -> str:
    return f"agent{n}@demo.workroute"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class ConsoleServer:
    process: ServerProcess
    ca_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.process.url

    def session(self) -> requests.Session:
        s = requests.Session()
        s.trust_env = False  # REQUESTS_CA_BUNDLE is set on these machines
        s.verify = str(self.ca_path)
        return s

    def token(self, username: str, password: str) -> str:
        if username not in self.tokens:
            resp = self.session().post(
                f"{self.url}/services/oauth2/token",
                data={"grant_type": "password", "username": username, "password": password},
            )
            assert resp.status_code == 200, resp.text
            self.tokens[username] = str(resp.json()["access_token"])
        return self.tokens[username]

    def call(
        self,
        method: str,
        path: str,
        *,
        user: str = ADMIN,
        password: str = ADMIN_PASSWORD,
        json: Any = None,
        expect: int | None = 200,
    ) -> Any:
        """An API call as ``user`` (the administrator by default), asserting its status."""
        resp = self.session().request(
            method,
            f"{self.url}{path}",
            json=json,
            headers={"Authorization": f"Bearer {self.token(user, password)}"},
        )
        if expect is not None:
            assert resp.status_code == expect, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    def query(self, soql: str) -> list[dict[str, Any]]:
        body = self.call("GET", f"/services/data/v62.0/query?q={quote(soql)}")
        records: list[dict[str, Any]] = body["records"]
        return records

    def create(self, obj: str, fields: dict[str, Any]) -> str:
        body = self.call("POST", f"/services/data/v62.0/sobjects/{obj}", json=fields, expect=201)
        return str(body["id"])

    def advance(self, seconds: float) -> None:
        """Move the server's manual clock; due timers have run when this returns."""
        self.call("POST", "/services/workroute/v1/clock/advance", json={"seconds": seconds})


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "workroute", *args], check=True, capture_output=True)


def start_console_server(root: Path) -> Iterator[ConsoleServer]:
    """The demo org in ``root``, served over HTTPS with a test CA and a manual clock."""
    db = root / "org.db"
    _cli(
        "init",
        "--db",
        str(db),
        "--admin-username",
        ADMIN,
        "--admin-password",
        ADMIN_PASSWORD,
        "--demo",
    )
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path, cert_path, key_path = root / "ca.pem", root / "cert.pem", root / "key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    process = ServerProcess(db=db, cert=cert_path, key=key_path, extra_args=["--clock", "manual"])
    process.start()
    try:
        yield ConsoleServer(process=process, ca_path=ca_path)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    yield from start_console_server(tmp_path_factory.mktemp("console"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module. Not for the session: Playwright's sync API keeps
    an event loop running on the main thread while it is open, and later tests that
    call asyncio.run() (the CometD ones) would fail."""
    path = chromium_path()
    if path is None:
        if os.environ.get("WORKROUTE_REQUIRE_CHROMIUM") == "1":
            pytest.fail("Chromium is required (WORKROUTE_REQUIRE_CHROMIUM=1) but not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        try:
            yield b
        finally:
            b.close()


@dataclass
class BrowserErrors:
    """What went wrong in the browser while a test ran.

    Chromium logs every HTTP error answer as a console error ("Failed to load
    resource: ... status of 409"). A test that makes the server refuse something on
    purpose says so with ``allow(status, path)``; any other console error fails it."""

    messages: list[str] = field(default_factory=list)
    allowed: list[tuple[int, str]] = field(default_factory=list)

    def allow(self, status: int, path: str) -> None:
        self.allowed.append((status, path))

    def _expected(self, msg: ConsoleMessage) -> bool:
        url = str(msg.location.get("url", ""))
        return any(
            f"status of {status}" in msg.text and path in url for status, path in self.allowed
        )

    def watch(self, page: Page) -> None:
        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error" and not self._expected(msg):
                where = msg.location.get("url", page.url)
                self.messages.append(f"console error at {where}: {msg.text}")

        def on_page_error(err: Error) -> None:
            self.messages.append(f"uncaught error on {page.url}: {err}")

        page.on("console", on_console)
        page.on("pageerror", on_page_error)


OpenPage = Callable[..., Page]


@pytest.fixture
def browser_errors() -> BrowserErrors:
    return BrowserErrors()


@pytest.fixture
def open_page(
    browser: Browser, server: ConsoleServer, browser_errors: BrowserErrors
) -> Iterator[OpenPage]:
    """``open_page(username, password, viewport=DESKTOP, hash="#/agent")``: a new browser
    context signed in through the sign-in page, on ``hash``. Console errors fail the test."""
    errors = browser_errors
    contexts: list[BrowserContext] = []

    def _open(
        username: str,
        password: str = AGENT_PASSWORD,
        *,
        viewport: ViewportSize | None = None,
        hash: str = "",
    ) -> Page:
        context = browser.new_context(
            viewport=viewport or DESKTOP, ignore_https_errors=True, base_url=server.url
        )
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        errors.watch(page)
        page.goto(f"/console/login?next={quote('/console' + hash)}")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**/console{hash}")
        page.locator("#who-name").filter(has_text=re.compile(".")).wait_for()
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not errors.messages, "\n".join(errors.messages)


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    def _shot(page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
