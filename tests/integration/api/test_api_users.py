"""Users over REST, as Salesforce manages them: User records, their passwords, and what a
user without ManageUsers may change."""

from __future__ import annotations

from typing import Any

from tests.integration.api.api_harness import (
    USER_PASSWORD,
    Api,
    Caller,
    assert_error,
    assert_oauth_error,
    unchanged,
)


def _new_user(api: Api, username: str) -> dict[str, Any]:
    return {
        "Username": username,
        "LastName": "Newman",
        "FirstName": "Nell",
        "Email": username,
        "Alias": "nnewman",
        "ProfileId": api.profile_id("Standard User"),
        "TimeZoneSidKey": "GMT",
        "LocaleSidKey": "en_US",
        "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US",
    }


def test_an_admin_creates_a_user_and_sets_their_password(api: Api, admin: Caller) -> None:
    with unchanged(api.org):
        missing = admin.post("/sobjects/User", {"Username": "half@example.com", "LastName": "H"})
        assert_error(
            missing,
            400,
            "REQUIRED_FIELD_MISSING",
            fields=[
                "Email",
                "Alias",
                "ProfileId",
                "TimeZoneSidKey",
                "LocaleSidKey",
                "EmailEncodingKey",
                "LanguageLocaleKey",
            ],
        )
        bad_zone = admin.post(
            "/sobjects/User", {**_new_user(api, "z@example.com"), "TimeZoneSidKey": "Mars/Base"}
        )
        assert_error(
            bad_zone, 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", fields=["TimeZoneSidKey"]
        )
        bad_email = admin.post(
            "/sobjects/User", {**_new_user(api, "e@example.com"), "Email": "not-an-email"}
        )
        assert_error(bad_email, 400, "INVALID_EMAIL_ADDRESS", fields=["Email"])
        taken = admin.post("/sobjects/User", _new_user(api, "Admin@Example.com"))
        assert_error(taken, 400, "DUPLICATE_VALUE", fields=["Username"])

    uid = admin.create("User", _new_user(api, "Nell@Example.com"))
    user = admin.read("User", uid, "Username,Name,IsActive")
    assert (user["Username"], user["Name"], user["IsActive"]) == (
        "nell@example.com",
        "Nell Newman",
        True,
    )
    # No password yet: the user cannot log in, and the password counts as expired.
    assert admin.get(f"/sobjects/User/{uid}/password").json() == {"isExpired": True}
    assert_oauth_error(api.login("nell@example.com", "Anything-123"), "invalid_grant")

    with unchanged(api.org):
        for weak, why in [
            ("short1", "at least 8"),
            ("lettersonly", "letters and numbers"),
            ("1234567890", "letters and numbers"),
            ("a1" * 129, "too long"),
        ]:
            resp = admin.post(f"/sobjects/User/{uid}/password", {"NewPassword": weak})
            assert_error(resp, 400, "INVALID_NEW_PASSWORD", fields=["NewPassword"], contains=why)
        for body in ({}, {"NewPassword": 12345678}, {"NewPassword": None}):
            resp = admin.post(f"/sobjects/User/{uid}/password", body)
            assert_error(resp, 400, "INVALID_FIELD", fields=["NewPassword"])
        not_json = admin.post(f"/sobjects/User/{uid}/password", content=b"Nell-pass-1")
        assert_error(not_json, 400, "JSON_PARSER_ERROR")
        nobody = admin.post(
            "/sobjects/User/005000000000000AAA/password", {"NewPassword": "A-b-c-1-2-3"}
        )
        assert_error(nobody, 404, "NOT_FOUND")
        not_a_user = admin.post(
            f"/sobjects/User/{api.profile_id('Standard User')}/password",
            {"NewPassword": "A-b-c-1-2-3"},
        )
        assert_error(not_a_user, 404, "NOT_FOUND")

    resp = admin.post(f"/sobjects/User/{uid}/password", {"NewPassword": "Nell-pass-1"})
    assert resp.status_code == 204 and resp.content == b""
    assert admin.get(f"/sobjects/User/{uid}/password").json() == {"isExpired": False}
    nell = api.caller("nell@example.com", "Nell-pass-1")
    me = nell.query("SELECT Id FROM User WHERE Username = 'nell@example.com'")
    assert me["records"][0]["Id"] == uid
    # A user may change their own password and read their own password status.
    assert (
        nell.post(f"/sobjects/User/{uid}/password", {"NewPassword": "Nell-pass-2"}).status_code
        == 204
    )
    assert nell.get(f"/sobjects/User/{uid}/password").json() == {"isExpired": False}
    assert_oauth_error(api.login("nell@example.com", "Nell-pass-1"), "invalid_grant")
    assert api.login("nell@example.com", "Nell-pass-2").status_code == 200


def test_a_standard_user_cannot_administer_users(api: Api, admin: Caller) -> None:
    me = api.add_user("std@example.com")
    other = api.add_user("other@example.com")
    admin_id = api.org.admin_user_id()
    std = api.caller("std@example.com", USER_PASSWORD)
    with unchanged(api.org):
        for target in (other, admin_id):
            resp = std.post(f"/sobjects/User/{target}/password", {"NewPassword": "Taken-over-1"})
            assert_error(resp, 403, "INSUFFICIENT_ACCESS")
            assert_error(std.get(f"/sobjects/User/{target}/password"), 403, "INSUFFICIENT_ACCESS")
            assert_error(
                std.patch(f"/sobjects/User/{target}", {"Title": "Boss"}), 403, "INSUFFICIENT_ACCESS"
            )
            assert_error(std.delete(f"/sobjects/User/{target}"), 403, "INSUFFICIENT_ACCESS")
        assert_error(
            std.post("/sobjects/User", _new_user(api, "sneaky@example.com")),
            403,
            "INSUFFICIENT_ACCESS",
        )
        assert_error(std.post("/sobjects/Profile", {"Name": "Sneaky"}), 403, "INSUFFICIENT_ACCESS")
        assert_error(
            std.patch(
                f"/sobjects/Profile/{api.profile_id('Standard User')}",
                {"PermissionsManageUsers": True},
            ),
            403,
            "INSUFFICIENT_ACCESS",
        )
        # Their own record: not the fields that make them someone else.
        for body in (
            {"ProfileId": api.profile_id("System Administrator")},
            {"profileid": api.profile_id("System Administrator")},
            {"IsActive": False},
            {"Username": "boss@example.com"},
            {"Title": "Boss", "UserRoleId": None},
        ):
            assert_error(std.patch(f"/sobjects/User/{me}", body), 403, "INSUFFICIENT_ACCESS")
        # Nor another user's record, by naming it in the body of their own.
        for key in ("Id", "id", "ID"):
            resp = std.patch(f"/sobjects/User/{me}", {key: admin_id, "Title": "Pwned"})
            assert_error(resp, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", fields=["Id"])

    assert std.patch(f"/sobjects/User/{me}", {"Title": "Agent"}).status_code == 204
    assert admin.read("User", me, "Title")["Title"] == "Agent"
    assert admin.read("User", admin_id, "Title")["Title"] is None
    # Users can read users (Salesforce's default), just not change them.
    assert std.read("User", admin_id, "Username")["Username"] == "admin@example.com"
    assert api.login("other@example.com", USER_PASSWORD).status_code == 200
