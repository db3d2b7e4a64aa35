"""Signing in and out of the console, and what the console refuses."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.e2e.console.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    BrowserErrors,
    ConsoleServer,
    OpenPage,
    agent,
)


def test_sign_in_shows_the_console_and_sign_out_ends_the_session(
    open_page: OpenPage, server: ConsoleServer, browser_errors: BrowserErrors
) -> None:
    page = open_page(agent(1), hash="#/agent")
    expect(page.locator("#who-name")).to_have_text("Ada Lovelace")
    expect(page.get_by_role("navigation", name="Console")).to_be_visible()
    cookies = page.context.cookies()
    [session] = [c for c in cookies if c["name"] == "wr_session"]
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login")
    # The token the cookie carried is revoked, not only forgotten by the browser.
    resp = server.session().get(
        f"{server.url}/console/session", headers={"Authorization": f"Bearer {session['value']}"}
    )
    assert resp.status_code == 401
    browser_errors.allow(401, "/console/session")
    page.goto("/console#/agent")
    page.wait_for_url(re.compile(r".*/console/login\?next=.*"))


def test_a_wrong_password_is_refused_with_a_message(
    browser: Browser, server: ConsoleServer
) -> None:
    context = browser.new_context(ignore_https_errors=True, base_url=server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # The refused sign-in's 401 is the one console message this page may log.
    def on_console(m: ConsoleMessage) -> None:
        if m.type == "error" and "status of 401" not in m.text:
            errors.append(m.text)

    page.on("console", on_console)
    page.goto("/console/login")
    page.get_by_label("Username").fill(agent(1))
    page.get_by_label("Password").fill("not-the-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Sign-in failed")
    assert not [c for c in context.cookies() if c["name"] == "wr_session"]
    page.get_by_label("Username").fill("")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Enter your username and password.")
    assert errors == []
    context.close()


def test_a_cookie_session_cannot_change_anything_without_the_console_header(
    server: ConsoleServer,
) -> None:
    s = server.session()
    resp = s.post(
        f"{server.url}/console/session",
        json={"username": ADMIN, "password": ADMIN_PASSWORD},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["isAdmin"] is True
    # A cross-site form post carries the cookie but cannot add the header.
    forged = s.post(f"{server.url}/services/omni/v1/logout", json={})
    assert forged.status_code == 403
    assert forged.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS"
    # Reads are fine with the cookie alone.
    assert s.get(f"{server.url}/console/session").status_code == 200
    # Bad sign-in bodies change nothing and say what is wrong.
    for body in ({"username": ADMIN}, {"username": ADMIN, "password": 5}, {"x": 1}):
        bad = requests.Session()
        bad.trust_env = False
        bad.verify = str(server.ca_path)
        resp = bad.post(
            f"{server.url}/console/session",
            json=body,
            headers={"X-Requested-With": "workroute-console"},
        )
        assert resp.status_code == 400, resp.text
        assert "wr_session" not in resp.cookies


def test_console_pages_carry_a_strict_content_security_policy(server: ConsoleServer) -> None:
    s = server.session()
    for path in ("/console", "/console/login", "/console/omniToolkit.js", "/console/app.js"):
        resp = s.get(f"{server.url}{path}")
        assert resp.status_code == 200, path
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["x-content-type-options"] == "nosniff"
    assert (
        s.get(f"{server.url}/console/omniToolkit.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )
    assert s.get(f"{server.url}/console/no-such-file.js").status_code == 404
