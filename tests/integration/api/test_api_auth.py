"""Authentication over HTTP: the OAuth token endpoint, bearer tokens, revocation, expiry,
connected apps, and how credentials are kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.integration.api.api_harness import (
    ADMIN,
    ADMIN_PASSWORD,
    BASE,
    REVOKE_URL,
    TOKEN_URL,
    USER_PASSWORD,
    Api,
    Caller,
    assert_error,
    assert_oauth_error,
    db_snapshot,
    unchanged,
)

from workroute.kernel.clock import ManualClock


def _invalid_session(api: Api, caller: Caller) -> None:
    """The caller's token is refused on a read and on a write, and nothing is written."""
    with unchanged(api.org):
        assert_error(caller.get("/sobjects"), 401, "INVALID_SESSION_ID", fields=[])
        assert_error(
            caller.post("/sobjects/Account", {"Name": "Sneaky"}), 401, "INVALID_SESSION_ID"
        )


def test_only_live_tokens_are_accepted(api: Api, admin: Caller, clock: ManualClock) -> None:
    client = api.client
    with unchanged(api.org):
        for headers in (
            {},
            {"Authorization": ""},
            {"Authorization": "Bearer"},
            {"Authorization": "Bearer    "},
            {"Authorization": "Basic YWRtaW46cGFzcw=="},
            {"Authorization": "Bearer 00D!forged"},
            {"Authorization": admin.token},  # no scheme
            {"Authorization": f"Bearer {admin.token}x"},
            {"Authorization": f"Bearer {admin.token[:-1]}"},
        ):
            for resp in (
                client.get(f"{BASE}/sobjects", headers=headers),
                client.get(f"{BASE}/query", params={"q": "SELECT Id FROM User"}, headers=headers),
                client.post(f"{BASE}/sobjects/Account", json={"Name": "x"}, headers=headers),
                client.get(BASE, headers=headers),
            ):
                err = assert_error(resp, 401, "INVALID_SESSION_ID", fields=[])
                assert err["message"] == "Session expired or invalid"
    # Both schemes Salesforce clients use are accepted.
    for scheme in ("Bearer", "OAuth", "bearer"):
        ok = client.get(f"{BASE}/sobjects", headers={"Authorization": f"{scheme} {admin.token}"})
        assert ok.status_code == 200, (scheme, ok.text)

    # Tokens expire with the clock, to the second.
    ttl = api.org.auth.tokens.ttl
    assert ttl > timedelta(minutes=1)
    second = api.caller()
    clock.advance(ttl - timedelta(seconds=1))
    assert admin.get("/sobjects").status_code == 200
    fresh = api.caller()  # issued a second before the first ones expire
    clock.advance(timedelta(seconds=1))
    _invalid_session(api, admin)
    _invalid_session(api, second)
    assert fresh.get("/sobjects").status_code == 200
    clock.advance(ttl - timedelta(seconds=2))  # the fresh token's last second
    assert fresh.get("/sobjects").status_code == 200
    clock.advance(timedelta(seconds=1))
    _invalid_session(api, fresh)

    # Revoking one token leaves the user's other tokens alone.
    keep, drop = api.caller(), api.caller()
    resp = api.client.post(REVOKE_URL, data={"token": drop.token})
    assert resp.status_code == 200, resp.text
    _invalid_session(api, drop)
    assert keep.get("/sobjects").status_code == 200
    again = api.client.post(REVOKE_URL, data={"token": "00D!never-issued"})
    assert_oauth_error(again, "unsupported_token_type")
    assert_oauth_error(api.client.post(REVOKE_URL, data={}), "unsupported_token_type")


def test_the_password_grant_refuses_bad_logins(api: Api, admin: Caller) -> None:
    std = api.add_user("std@example.com")
    api.add_user("min@example.com", profile="Minimum Access")
    client = api.client
    with unchanged(api.org):
        for username, password in [
            (ADMIN, "Wrong-pass-1"),
            (ADMIN, ""),
            (ADMIN, ADMIN_PASSWORD.lower()),
            ("nobody@example.com", ADMIN_PASSWORD),
            ("std@example.com", ADMIN_PASSWORD),  # someone else's password
        ]:
            desc = assert_oauth_error(api.login(username, password), "invalid_grant")
            assert desc == "authentication failure"  # the same whether or not the user exists
        # A profile without PermissionsApiEnabled cannot use the API at all.
        desc = assert_oauth_error(api.login("min@example.com", USER_PASSWORD), "invalid_grant")
        assert "API" in desc
        for form in (
            {"grant_type": "authorization_code", "code": "x"},
            {"grant_type": "PASSWORD", "username": ADMIN, "password": ADMIN_PASSWORD},
            {"username": ADMIN, "password": ADMIN_PASSWORD},
        ):
            assert_oauth_error(client.post(TOKEN_URL, data=form), "unsupported_grant_type")
        assert_oauth_error(
            client.post(TOKEN_URL, data={"grant_type": "password", "username": ADMIN}),
            "invalid_request",
        )
    # Usernames are case-insensitive.
    assert api.login(" STD@Example.com ", USER_PASSWORD).status_code == 200

    # An admin deactivates the user through the API: their tokens die, logins fail.
    user = api.caller("std@example.com", USER_PASSWORD)
    assert admin.patch(f"/sobjects/User/{std}", {"IsActive": False}).status_code == 204
    _invalid_session(api, user)
    assert_oauth_error(api.login("std@example.com", USER_PASSWORD), "invalid_grant")
    # Reactivated, they can log in again; the revoked token stays dead.
    assert admin.patch(f"/sobjects/User/{std}", {"IsActive": True}).status_code == 204
    assert api.caller("std@example.com", USER_PASSWORD).get("/sobjects").status_code == 200
    _invalid_session(api, user)


def test_the_client_credentials_grant_runs_as_the_apps_user(api: Api, admin: Caller) -> None:
    runner = api.add_user("runner@example.com")
    app = api.org.auth.add_connected_app("Integration", runner)
    form = {
        "grant_type": "client_credentials",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }
    resp = api.client.post(TOKEN_URL, data=form)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["id"].endswith("/" + runner)
    robot = api.with_token(body["access_token"])
    made = robot.create("Account", {"Name": "By the app"})
    assert admin.read("Account", made, "CreatedById")["CreatedById"] == runner

    # One character off (the secret is hex, so flip its last digit).
    wrong_secret = app.client_secret[:-1] + ("1" if app.client_secret.endswith("0") else "0")
    with unchanged(api.org):
        for bad in (
            {**form, "client_secret": wrong_secret},
            {**form, "client_secret": ""},
            {**form, "client_id": "3MVGunknown"},
            {k: v for k, v in form.items() if k != "client_secret"},
        ):
            assert_oauth_error(api.client.post(TOKEN_URL, data=bad), "invalid_client")

    # The run-as user's profile must allow the API, and the user must be active.
    lacking = api.add_user("lacking@example.com", profile="Minimum Access")
    no_api = api.org.auth.add_connected_app("No API", lacking)
    refused = api.client.post(
        TOKEN_URL,
        data={**form, "client_id": no_api.client_id, "client_secret": no_api.client_secret},
    )
    assert_oauth_error(refused, "invalid_client")
    assert admin.patch(f"/sobjects/User/{runner}", {"IsActive": False}).status_code == 204
    _invalid_session(api, robot)
    assert_oauth_error(api.client.post(TOKEN_URL, data=form), "invalid_client")


def test_passwords_tokens_and_secrets_are_never_stored_in_clear(api: Api, admin: Caller) -> None:
    password = "Clear-text-99"
    user = api.add_user("clear@example.com", password=password)
    token = api.token("clear@example.com", password)
    app = api.org.auth.add_connected_app("Secretive", user)
    creds = api.org.db.system["credential"]
    with api.org.db.read() as conn:
        hashes = dict(conn.execute(select(creds.c.user_id, creds.c.password_hash)).all())
    assert set(hashes) == {api.org.admin_user_id(), user}
    assert all(h.startswith("scrypt$") for h in hashes.values())
    assert hashes[user] != hashes[api.org.admin_user_id()]
    cells = "\n".join(
        repr(cell) for rows in db_snapshot(api.org).values() for row in rows for cell in row
    )
    for secret in (password, ADMIN_PASSWORD, token, admin.token, app.client_secret):
        assert secret not in cells
    # Setting the same password again gives a new salt, hence a new hash.
    resp = admin.post(f"/sobjects/User/{user}/password", {"NewPassword": password})
    assert resp.status_code == 204, resp.text
    with api.org.db.read() as conn:
        rehashed = conn.execute(
            select(creds.c.password_hash).where(creds.c.user_id == user)
        ).scalar_one()
    assert rehashed.startswith("scrypt$") and rehashed != hashes[user]
    assert api.login("clear@example.com", password).status_code == 200
