"""Bad input to the REST data API: a Salesforce-shaped error, and nothing changed.

Every refusal is checked twice: the error list ({message, errorCode, fields} with the
matching HTTP status) and a snapshot of every table taken around the requests. Each test
walks a family of bad inputs, because every test pays for a fresh org on two databases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.integration.api.api_harness import (
    BASE,
    Api,
    Caller,
    assert_error,
    deploy_probe,
    deploy_ticket,
    unchanged,
)

from workroute.api import deps

MISSING_ACCOUNT = "001000000000000AAA"  # well-formed, never allocated


@pytest.fixture
def account(admin: Caller) -> str:
    return admin.create("Account", {"Name": "Acme", "NumberOfEmployees": 5})


# -- the JSON body ----------------------------------------------------------------------

BAD_BODIES: list[tuple[bytes, str]] = [
    # (body, a part of the message)
    (b'{"Name": ', "[line:1, column:10]"),
    (b'{\n  "Name": "x",\n}', "[line:3, column:1]"),
    (b'{"Name": "x"} trailing', "[line:1, column:15]"),
    (b"{'Name': 'x'}", "[line:1, column:2]"),
    (b'[{"Name": "x"}]', "from list"),
    (b"42", "from int"),
    (b'"Name"', "from str"),
    (b"null", "from NoneType"),
    (b"", "empty"),
    (b"  \n ", "empty"),
    (b'{"Name": "caf\xe9"}', "not UTF-8"),  # Latin-1
    (b'{"Name": "\xed\xa0\x80"}', "not UTF-8"),  # an encoded lone surrogate
    ('{"Name": "x"}'.encode("utf-16"), "not UTF-8"),
    (b'{"Name": "\\ud800"}', "surrogate"),  # no column can store it
    (b'{"Name": "a\\u0000b"}', "NUL"),  # PostgreSQL text cannot hold it
    (b"[" * 50_000, "nested too deeply"),
]


def test_malformed_or_oversized_json_is_refused_and_changes_nothing(
    api: Api, admin: Caller, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = admin.read("Account", account)
    with unchanged(api.org):
        for raw, hint in BAD_BODIES:
            created = admin.post("/sobjects/Account", content=raw)
            assert_error(created, 400, "JSON_PARSER_ERROR", fields=[], contains=hint)
            updated = admin.patch(f"/sobjects/Account/{account}", content=raw)
            assert_error(updated, 400, "JSON_PARSER_ERROR", fields=[], contains=hint)
    assert admin.read("Account", account) == before
    # Good UTF-8 still works: a byte-order mark, escapes, a surrogate pair, raw UTF-8.
    good = '\ufeff{"Name": "Caf\\u00e9 \\ud83d\\ude00 \u00fc"}'.encode()
    resp = admin.post("/sobjects/Account", content=good)
    assert resp.status_code == 201, resp.text
    assert admin.read("Account", resp.json()["id"], "Name")["Name"] == "Café 😀 ü"

    # Over the size cap: 413, whether or not the client declares the length.
    monkeypatch.setattr(deps, "MAX_JSON_BYTES", 100)
    padding = 100 - len(json.dumps({"Name": "A", "Description": ""}))
    at_cap = json.dumps({"Name": "A", "Description": "d" * padding}).encode()
    assert len(at_cap) == 100
    over = at_cap.replace(b'"A"', b'"AB"')

    def chunked() -> Iterator[bytes]:  # no Content-Length: the stream itself is counted
        yield over[:60]
        yield over[60:]

    with unchanged(api.org):
        assert_error(admin.post("/sobjects/Account", content=over), 413, "REQUEST_TOO_LARGE")
        assert_error(
            admin.patch(f"/sobjects/Account/{MISSING_ACCOUNT}", content=over),
            413,
            "REQUEST_TOO_LARGE",
        )
        resp = api.client.post(
            f"{BASE}/sobjects/Account",
            content=chunked(),
            headers={"Authorization": f"Bearer {admin.token}"},
        )
        assert "content-length" not in resp.request.headers
        assert_error(resp, 413, "REQUEST_TOO_LARGE", contains="100 bytes")
    assert admin.post("/sobjects/Account", content=at_cap).status_code == 201


# -- objects, fields and values -----------------------------------------------------------


def test_unknown_objects_and_fields(api: Api, admin: Caller, account: str) -> None:
    with unchanged(api.org):
        for resp in (
            admin.get("/sobjects/Nope__c"),
            admin.get("/sobjects/Nope__c/describe"),
            admin.post("/sobjects/Nope__c", {"Name": "x"}),
            admin.get(f"/sobjects/Nope__c/{account}"),
            admin.patch(f"/sobjects/Nope__c/{account}", {"Name": "x"}),
            admin.delete(f"/sobjects/Nope__c/{account}"),
        ):
            assert_error(resp, 404, "INVALID_TYPE", contains="sObject type 'Nope__c'")
        q = admin.get("/query", params={"q": "SELECT Id FROM Nope__c"})
        assert_error(q, 404, "INVALID_TYPE", contains="Row:1:Column:16")

        created = admin.post("/sobjects/Account", {"Name": "x", "Colour__c": "red"})
        assert_error(created, 400, "INVALID_FIELD", fields=["Colour__c"], contains="Colour__c")
        updated = admin.patch(f"/sobjects/Account/{account}", {"Name": "y", "Colour__c": 1})
        assert_error(updated, 400, "INVALID_FIELD", fields=["Colour__c"])
        got = admin.get(f"/sobjects/Account/{account}", params={"fields": "Name, Colour__c"})
        assert_error(got, 400, "INVALID_FIELD", fields=["Colour__c"])
    assert admin.read("Account", account, "Name")["Name"] == "Acme"


BAD_VALUES: list[tuple[str, Any, str]] = [
    # (field, on Probe__c unless it names its object; the value; the errorCode)
    ("Account.NumberOfEmployees", "many", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Account.NumberOfEmployees", 1.5, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Account.NumberOfEmployees", True, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Account.NumberOfEmployees", [1], "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Account.AnnualRevenue", "lots", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Account.Name", "n" * 256, "STRING_TOO_LONG"),
    ("Score__c", "abc", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Score__c", False, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Score__c", {"value": 1}, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Flag__c", "yes", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Flag__c", 1, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Day__c", "2024-02-30", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Day__c", "next tuesday", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Day__c", 20240101, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("At__c", "2024-01-01T25:00:00Z", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("At__c", "31/01/2024 10:00", "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("At__c", 1704067200, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Account__c", "not-an-id", "MALFORMED_ID"),
    ("Account__c", 42, "MALFORMED_ID"),
    ("Account__c", "001000000000000AA", "MALFORMED_ID"),  # 17 characters
    ("Code__c", ["a"], "INVALID_TYPE_ON_FIELD_IN_RECORD"),
    ("Code__c", "c" * 11, "STRING_TOO_LONG"),
    ("Level__c", "Medium", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
    ("Level__c", "high", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
    ("Level__c", " High", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
]


def test_bad_values_are_refused_per_field_type(api: Api, admin: Caller, account: str) -> None:
    deploy_probe(api.org)
    probe = admin.create("Probe__c", {"Code__c": "P1", "Level__c": "High"})
    with unchanged(api.org):
        for target, value, code in BAD_VALUES:
            sobject, _, field = target.rpartition(".")
            sobject = sobject or "Probe__c"
            base: dict[str, Any] = {"Name": "x"} if sobject == "Account" else {"Code__c": "P2"}
            created = admin.post(f"/sobjects/{sobject}", {**base, field: value})
            assert_error(created, 400, code, fields=[field])
            rid = account if sobject == "Account" else probe
            updated = admin.patch(f"/sobjects/{sobject}/{rid}", {field: value})
            assert_error(updated, 400, code, fields=[field])
    kept = admin.read("Probe__c", probe, "Code__c,Level__c")
    assert (kept["Code__c"], kept["Level__c"]) == ("P1", "High")
    # At the limits: lengths count characters, not bytes, on both databases.
    rid = admin.create("Probe__c", {"Code__c": "é" * 10, "Level__c": "Low"})
    assert admin.read("Probe__c", rid, "Code__c")["Code__c"] == "é" * 10
    assert admin.create("Account", {"Name": "n" * 255})


def test_read_only_and_required_fields(api: Api, admin: Caller, account: str) -> None:
    deploy_probe(api.org)
    with unchanged(api.org):
        id_in_create = admin.post("/sobjects/Account", {"Name": "x", "Id": account})
        assert_error(id_in_create, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", fields=["Id"])
        system_fields: list[tuple[dict[str, Any], list[str]]] = [
            ({"CreatedDate": "2020-01-01T00:00:00Z"}, ["CreatedDate"]),
            ({"systemmodstamp": None, "CreatedById": None}, ["SystemModstamp", "CreatedById"]),
            ({"IsDeleted": True}, ["IsDeleted"]),
        ]
        for body, denied in system_fields:
            created = admin.post("/sobjects/Account", {"Name": "x", **body})
            assert_error(created, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", fields=denied)
            updated = admin.patch(f"/sobjects/Account/{account}", body)
            assert_error(updated, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", fields=denied)
        # Fields the object computes itself.
        computed: list[tuple[str, dict[str, Any], str]] = [
            ("Contact", {"LastName": "Doe", "Name": "John Doe"}, "Name"),
            ("Case", {"Subject": "s", "CaseNumber": "00001"}, "CaseNumber"),
            ("Opportunity", {"IsWon": True}, "IsWon"),
        ]
        for sobject, body, field in computed:
            assert_error(
                admin.post(f"/sobjects/{sobject}", body),
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                fields=[field],
            )

        no_name: list[dict[str, Any]] = [{}, {"Name": None}, {"Name": ""}, {"Industry": "X"}]
        for body in no_name:
            assert_error(
                admin.post("/sobjects/Account", body),
                400,
                "REQUIRED_FIELD_MISSING",
                fields=["Name"],
                contains="[Name]",
            )
        incomplete: list[tuple[str, dict[str, Any], list[str]]] = [
            ("Opportunity", {"Amount": 10}, ["Name", "StageName", "CloseDate"]),
            ("Probe__c", {"Name": "p"}, ["Code__c"]),
        ]
        for sobject, body, missing in incomplete:
            assert_error(
                admin.post(f"/sobjects/{sobject}", body),
                400,
                "REQUIRED_FIELD_MISSING",
                fields=missing,
            )
        assert_error(
            admin.patch(f"/sobjects/Account/{account}", {"Name": None}),
            400,
            "REQUIRED_FIELD_MISSING",
            fields=["Name"],
        )


def test_references_must_name_a_live_record_of_the_right_object(
    api: Api, admin: Caller, account: str
) -> None:
    contact = admin.create("Contact", {"LastName": "Doe", "AccountId": account})
    gone = admin.create("Account", {"Name": "Gone"})
    assert admin.delete(f"/sobjects/Account/{gone}").status_code == 204
    with unchanged(api.org):
        for parent, code in [
            (MISSING_ACCOUNT, "INVALID_CROSS_REFERENCE_KEY"),
            (gone, "INVALID_CROSS_REFERENCE_KEY"),
            (contact, "MALFORMED_ID"),  # a Contact id where an Account id belongs
        ]:
            created = admin.post("/sobjects/Account", {"Name": "Child", "ParentId": parent})
            assert_error(created, 400, code, fields=["ParentId"], contains=parent)
            moved = admin.patch(f"/sobjects/Contact/{contact}", {"AccountId": parent})
            assert_error(moved, 400, code, fields=["AccountId"])
    assert admin.read("Contact", contact, "AccountId")["AccountId"] == account
    # The 15-character form of a live id is accepted and stored as 18 characters.
    child = admin.create("Account", {"Name": "Child", "ParentId": account[:15]})
    assert admin.read("Account", child, "ParentId")["ParentId"] == account


def test_unique_values_and_upserts_by_external_id(api: Api, admin: Caller) -> None:
    deploy_ticket(api.org)
    url = "/sobjects/Ticket__c/External_Id__c"
    first = admin.patch(f"{url}/T-1", {"Name": "First"}).json()["id"]
    second = admin.patch(f"{url}/T-2", {"Name": "Second"}).json()["id"]
    std = api.add_user("std@example.com")
    with unchanged(api.org):
        dup = admin.post("/sobjects/Ticket__c", {"Name": "T3", "External_Id__c": "t-1"})
        assert_error(dup, 400, "DUPLICATE_VALUE", fields=["External_Id__c"], contains=first)
        renamed = admin.patch(f"/sobjects/Ticket__c/{second}", {"External_Id__c": "T-1"})
        assert_error(renamed, 400, "DUPLICATE_VALUE", fields=["External_Id__c"])
        # Usernames are unique whatever their case.
        taken = admin.patch(f"/sobjects/User/{std}", {"Username": "ADMIN@example.com"})
        assert_error(taken, 400, "DUPLICATE_VALUE", fields=["Username"])

        # An Id in an upsert body would pick a record other than the external id's.
        for key in ("Id", "id"):
            resp = admin.patch(f"{url}/T-1", {key: second, "Name": "Hijacked"})
            assert_error(resp, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", fields=["Id"])
        in_body = admin.patch(f"{url}/T-3", {"External_Id__c": "T-4", "Name": "x"})
        assert_error(in_body, 400, "INVALID_FIELD", fields=["External_Id__c"])
        not_external = admin.patch("/sobjects/Ticket__c/Hours__c/3", {"Name": "x"})
        assert_error(not_external, 404, "NOT_FOUND", contains="Hours__c")
        no_record = admin.patch("/sobjects/Ticket__c/Id/a00000000000000AAA", {"Name": "x"})
        assert_error(no_record, 404, "NOT_FOUND")
        bad_value = admin.patch(f"{url}/T-9", {"Name": "x", "Hours__c": "many"})
        assert_error(bad_value, 400, "INVALID_TYPE_ON_FIELD_IN_RECORD", fields=["Hours__c"])
    assert admin.read("Ticket__c", first, "Name")["Name"] == "First"
    assert admin.read("Ticket__c", second, "Name")["Name"] == "Second"


# -- ids and records in the URL -----------------------------------------------------------


def test_bad_ids_in_the_url_or_the_body_and_deleted_records(
    api: Api, admin: Caller, account: str
) -> None:
    contact = admin.create("Contact", {"LastName": "Doe"})
    other = admin.create("Account", {"Name": "Other"})
    # An Id in an update body must not redirect the update to another record.
    with unchanged(api.org):
        for key in ("Id", "id", "ID"):
            resp = admin.patch(f"/sobjects/Account/{account}", {key: other, "Name": "Hijacked"})
            assert_error(resp, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", fields=["Id"])
        not_an_id = admin.patch(f"/sobjects/Account/{account}", {"id": 5, "Name": "Hijacked"})
        assert_error(not_an_id, 400, "INVALID_FIELD_FOR_INSERT_UPDATE", fields=["Id"])
    # The record's own id (any form) is harmless and ignored: clients send whole records.
    resp = admin.patch(f"/sobjects/Account/{account}", {"id": account[:15], "Name": "Mine"})
    assert resp.status_code == 204, resp.text
    assert admin.read("Account", account, "Name")["Name"] == "Mine"
    assert admin.read("Account", other, "Name")["Name"] == "Other"

    # Ids in the URL.
    bad = [
        "abc",
        "001",
        account + "X",  # 19 characters
        account[:15] + "!!!",
        contact,  # a Contact id under /Account
        contact[:15],
    ]
    with unchanged(api.org):
        for value in bad:
            for resp in (
                admin.get(f"/sobjects/Account/{value}"),
                admin.patch(f"/sobjects/Account/{value}", {"Name": "x"}),
                admin.delete(f"/sobjects/Account/{value}"),
            ):
                err = assert_error(resp, 404, "NOT_FOUND", fields=[])
                assert err["message"] == (
                    f"Provided external ID field does not exist or is not accessible: {value}"
                )
        for resp in (
            admin.get(f"/sobjects/Account/{MISSING_ACCOUNT}"),
            admin.patch(f"/sobjects/Account/{MISSING_ACCOUNT}", {"Name": "x"}),
            admin.delete(f"/sobjects/Account/{MISSING_ACCOUNT}"),
        ):
            assert_error(resp, 404, "NOT_FOUND")
    # The 15-character form, and an 18-character id whose letters lost their case.
    assert admin.read("Account", account[:15])["Id"] == account
    assert admin.read("Account", account.lower())["Id"] == account
    assert admin.patch(f"/sobjects/Account/{account[:15]}", {"Name": "Renamed"}).status_code == 204
    assert admin.read("Account", account, "Name")["Name"] == "Renamed"
    assert admin.delete(f"/sobjects/Account/{account[:15]}").status_code == 204

    with unchanged(api.org):
        assert_error(admin.get(f"/sobjects/Account/{account}"), 404, "NOT_FOUND")
        assert_error(
            admin.patch(f"/sobjects/Account/{account}", {"Name": "Back"}),
            404,
            "ENTITY_IS_DELETED",
            contains=account,
        )
        assert_error(admin.delete(f"/sobjects/Account/{account}"), 404, "ENTITY_IS_DELETED")
    soql = f"SELECT Name, IsDeleted FROM Account WHERE Id = '{account}'"
    rows = admin.query(soql, all_rows=True)["records"]
    assert [(r["Name"], r["IsDeleted"]) for r in rows] == [("Renamed", True)]


# -- versions, routes, slashes --------------------------------------------------------------


def test_versions_routes_and_trailing_slashes(api: Api, admin: Caller, account: str) -> None:
    with unchanged(api.org):
        for version in ("v19.0", "v63.0", "v99.0", "latest", "v62", "62.0", "v62.1", "v620.0"):
            base = f"/services/data/{version}"
            for resp in (
                admin.get(f"{base}/sobjects"),
                admin.get(f"{base}/sobjects/Account/describe"),
                admin.get(f"{base}/query", params={"q": "SELECT Id FROM Account"}),
                admin.post(f"{base}/sobjects/Account", {"Name": "Versioned"}),
            ):
                assert_error(resp, 404, "NOT_FOUND", contains=version)
        for path in (
            "/services/nope",
            "/services/data/v62.0/nope",
            "/services/data/v62.0/sobjects/Account/a/b/c",
            "/favicon.ico",
        ):
            err = assert_error(admin.get(path), 404, "NOT_FOUND", fields=[])
            assert err["message"] == "The requested resource does not exist"
        put = admin.client.put(f"{BASE}/sobjects/Account", headers={"Authorization": "Bearer x"})
        assert_error(put, 405, "METHOD_NOT_ALLOWED", contains="'PUT'")
        assert "GET" in put.headers["allow"]
    versions = api.client.get("/services/data").json()
    assert [v["version"] for v in versions] == [f"{n}.0" for n in range(20, 63)]
    assert admin.get("/services/data/v20.0/sobjects").status_code == 200

    # Salesforce clients add trailing slashes.
    created = admin.post("/sobjects/Account/", {"Name": "Slashed"})
    assert created.status_code == 201, created.text
    q = admin.get("/query/", params={"q": "SELECT Name FROM Account ORDER BY Name"})
    assert q.status_code == 200, q.text
    assert [r["Name"] for r in q.json()["records"]] == ["Acme", "Slashed"]
    assert admin.get("/sobjects/Account/").json()["objectDescribe"]["name"] == "Account"
    assert admin.get(f"/sobjects/Account/{account}/").json()["Id"] == account
    assert admin.get("/sobjects/").status_code == 200
    assert api.client.get("/services/data/").status_code == 200
    assert admin.patch(f"/sobjects/Account/{account}/", {"Name": "Z"}).status_code == 204
