"""sObject collections (/composite/sobjects): bulk create, update, delete, retrieve."""

from __future__ import annotations

from tests.integration.api.api_harness import Api, Caller


def _accounts(n: int, **extra: object) -> list[dict[str, object]]:
    return [{"attributes": {"type": "Account"}, "Name": f"Bulk {i}", **extra} for i in range(n)]


def test_create_update_retrieve_delete_in_bulk(api: Api, admin: Caller) -> None:
    created = admin.post(
        "/composite/sobjects",
        {
            "allOrNone": True,
            "records": [
                *_accounts(3),
                {"attributes": {"type": "Contact"}, "LastName": "Mixed"},
            ],
        },
    )
    assert created.status_code == 200, created.text
    results = created.json()
    assert [r["success"] for r in results] == [True] * 4
    ids = [r["id"] for r in results]
    assert [i[:3] for i in ids] == ["001", "001", "001", "003"]
    updated = admin.patch(
        "/composite/sobjects",
        {
            "records": [
                {"attributes": {"type": "Account"}, "Id": ids[0], "Industry": "Energy"},
                {"attributes": {"type": "Account"}, "Id": ids[1], "Industry": "Retail"},
            ]
        },
    )
    assert [r["success"] for r in updated.json()] == [True, True]
    got = admin.get(
        "/composite/sobjects/Account", params={"ids": ",".join(ids[:3]), "fields": "Name,Industry"}
    ).json()
    assert [g["Industry"] for g in got] == ["Energy", "Retail", None]
    deleted = admin.delete(f"/composite/sobjects?ids={ids[0]},{ids[3]}")
    assert [r["success"] for r in deleted.json()] == [True, True]
    assert admin.query("SELECT COUNT() FROM Account WHERE Name LIKE 'Bulk%'")["totalSize"] == 2


def test_all_or_none_rolls_everything_back_and_names_the_bad_record(
    api: Api, admin: Caller
) -> None:
    records = _accounts(4)
    records[2] = {"attributes": {"type": "Account"}, "Industry": "No name"}
    resp = admin.post("/composite/sobjects", {"allOrNone": True, "records": records})
    results = resp.json()
    assert resp.status_code == 200 and not any(r["success"] for r in results)
    assert results[2]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert {r["errors"][0]["statusCode"] for i, r in enumerate(results) if i != 2} == {
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    }
    assert admin.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_without_all_or_none_each_record_stands_alone(api: Api, admin: Caller) -> None:
    records = _accounts(3)
    records[1] = {"attributes": {"type": "Account"}, "Name": "x" * 300}
    records.append({"attributes": {"type": "NoSuchThing__c"}, "Name": "?"})
    results = admin.post("/composite/sobjects", {"allOrNone": False, "records": records}).json()
    assert [r["success"] for r in results] == [True, False, True, False]
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert results[3]["errors"][0]["statusCode"] == "INVALID_TYPE"
    assert admin.query("SELECT COUNT() FROM Account")["totalSize"] == 2


def test_bad_collection_requests_change_nothing(api: Api, admin: Caller) -> None:
    for body, code in [
        ({"records": "nope"}, "JSON_PARSER_ERROR"),
        ({"records": []}, "INVALID_FIELD"),
        ({"records": _accounts(201)}, "LIMIT_EXCEEDED"),
        ({"records": _accounts(1), "allOrNone": "yes"}, "JSON_PARSER_ERROR"),
        ({"records": [{"Name": "no attributes"}], "allOrNone": True}, None),
    ]:
        resp = admin.post("/composite/sobjects", body)
        if code is None:
            assert resp.json()[0]["errors"][0]["statusCode"] == "INVALID_FIELD"
        else:
            assert resp.status_code == 400, resp.text
            assert resp.json()[0]["errorCode"] == code
    with_id = admin.post(
        "/composite/sobjects",
        {"records": [{"attributes": {"type": "Account"}, "Name": "x", "Id": "001000000000001AAA"}]},
    )
    assert with_id.status_code == 400
    assert admin.query("SELECT COUNT() FROM Account")["totalSize"] == 0
