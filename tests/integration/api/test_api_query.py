"""/query and /queryAll over HTTP: located SOQL errors, paging with query locators, and
the semantics clients rely on (nulls, case, counts, groups, deleted rows)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.integration.api.api_harness import (
    USER_PASSWORD,
    Api,
    Caller,
    assert_error,
    unchanged,
)

from workroute.kernel.clock import ManualClock

BAD_SOQL: list[tuple[str, int, str, str]] = [
    # (query, status, errorCode, where and what the message says)
    ("SELECT Name FORM Account", 400, "MALFORMED_QUERY", "Row:1:Column:13"),
    ("SELECT", 400, "MALFORMED_QUERY", "Row:1:Column:7"),
    ("SELECT Id FROM Account WHERE", 400, "MALFORMED_QUERY", "Row:1:Column:29"),
    ("SELECT Id FROM Account LIMIT x", 400, "MALFORMED_QUERY", "Row:1:Column:30"),
    ("SELECT Id FROM Account; DELETE", 400, "MALFORMED_QUERY", "Row:1:Column:23"),
    ("SELECT Id FROM Account WHERE Name = 'open", 400, "MALFORMED_QUERY", "Row:1:Column:37"),
    ("SELECT Id FROM Account WHERE CreatedDate = NEXT_WEEKK", 400, "MALFORMED_QUERY", "Column:44"),
    ("SELECT Nme FROM Account", 400, "INVALID_FIELD", "Row:1:Column:8"),
    ("SELECT Id,\n  Nme FROM Account", 400, "INVALID_FIELD", "Row:2:Column:3"),
    ("SELECT Id FROM Account ORDER BY Nme", 400, "INVALID_FIELD", "Row:1:Column:33"),
    ("SELECT Parent.Nme FROM Account", 400, "INVALID_FIELD", "No such column 'Nme'"),
    ("SELECT Foo.Name FROM Account", 400, "INVALID_FIELD", "relationship 'Foo'"),
    ("SELECT Id FROM Account WHERE Id = 'abc'", 400, "INVALID_QUERY_FILTER_OPERATOR", "Column:30"),
    (
        "SELECT Id FROM Account WHERE ParentId IN ('001000000000000', 'x')",
        400,
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid ID field: x",
    ),
    (
        "SELECT Id FROM Account WHERE CreatedDate = 2024-01-01",
        400,
        "MALFORMED_QUERY",
        "Row:1:Column:30",
    ),
    (
        "SELECT Id FROM Contact WHERE Birthdate = 2024-01-01T00:00:00Z",
        400,
        "MALFORMED_QUERY",
        "date field Birthdate",
    ),
    ("SELECT Id FROM Account WHERE Name = 5", 400, "MALFORMED_QUERY", "string field Name"),
    ("SELECT Id FROM Account WHERE IsDeleted = 'true'", 400, "MALFORMED_QUERY", "boolean"),
    ("SELECT Name, COUNT(Id) FROM Account", 400, "MALFORMED_QUERY", "grouped or aggregated"),
    ("SELECT SUM(Name) FROM Account", 400, "MALFORMED_QUERY", "SUM"),
    ("SELECT Id FROM Nope__c", 404, "INVALID_TYPE", "Row:1:Column:16"),
]


def test_soql_errors_are_located_and_change_nothing(api: Api, admin: Caller) -> None:
    admin.create("Account", {"Name": "Acme"})
    with unchanged(api.org):
        for soql, status, code, where in BAD_SOQL:
            for endpoint in ("/query", "/queryAll"):
                resp = admin.get(endpoint, params={"q": soql})
                assert_error(resp, status, code, fields=[], contains=where)
        for params in ({}, {"q": ""}, {"q": "   "}):
            assert_error(admin.get("/query", params=params), 400, "MALFORMED_QUERY")


def _insert_accounts(api: Api, count: int) -> None:
    api.org.store.insert(
        "Account",
        [{"Name": f"Row {i:03d}", "NumberOfEmployees": i} for i in range(count)],
        user_id=api.org.admin_user_id(),
    )


def _page(caller: Caller, url: str, **headers: str) -> dict[str, Any]:
    resp = caller.get(url, headers=headers)
    assert resp.status_code == 200, resp.text
    page: dict[str, Any] = resp.json()
    return page


def test_query_locators_page_and_expire(api: Api, admin: Caller, clock: ManualClock) -> None:
    _insert_accounts(api, 450)
    soql = "SELECT Name FROM Account ORDER BY Name"
    batch = {"Sforce-Query-Options": "batchSize=200"}
    first = _page(admin, f"/query?q={soql}", **batch)
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 200)
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-200")
    second = _page(admin, first["nextRecordsUrl"])
    assert (second["done"], len(second["records"])) == (False, 200)
    assert second["nextRecordsUrl"].endswith("-400")
    third = _page(admin, second["nextRecordsUrl"])
    assert (third["totalSize"], third["done"], len(third["records"])) == (450, True, 50)
    assert "nextRecordsUrl" not in third
    names = [r["Name"] for p in (first, second, third) for r in p["records"]]
    assert names == [f"Row {i:03d}" for i in range(450)]

    # Without the header one batch holds up to 2000 rows; below 200 is raised to 200.
    assert len(_page(admin, f"/query?q={soql}")["records"]) == 450
    small = _page(admin, f"/query?q={soql}", **{"Sforce-Query-Options": "batchSize=10"})
    assert len(small["records"]) == 200
    everything = _page(admin, f"/queryAll?q={soql}", **batch)
    assert everything["nextRecordsUrl"].startswith("/services/data/v62.0/queryAll/01g")

    # Bad, foreign and expired locators.
    locator = first["nextRecordsUrl"].rsplit("/", 1)[1]
    name = locator.rsplit("-", 1)[0]
    api.add_user("std@example.com")
    std = api.caller("std@example.com", USER_PASSWORD)
    with unchanged(api.org):
        for caller, url in [
            (std, first["nextRecordsUrl"]),  # another user's cursor
            (admin, "/query/garbage"),
            (admin, f"/query/{name}"),  # no position
            (admin, f"/query/{name}-x"),
            (admin, f"/query/{name}-451"),  # past the end
            (admin, "/query/01g0000000000000000-200"),  # never opened
        ]:
            assert_error(caller.get(url), 400, "INVALID_QUERY_LOCATOR", fields=[])

    # A locator lives 15 minutes after its last use.
    clock.advance(timedelta(minutes=14))
    assert len(_page(admin, first["nextRecordsUrl"])["records"]) == 200
    clock.advance(timedelta(minutes=14))
    assert len(_page(admin, second["nextRecordsUrl"])["records"]) == 50
    clock.advance(timedelta(minutes=15, seconds=1))
    expired = admin.get(first["nextRecordsUrl"])
    assert_error(expired, 400, "INVALID_QUERY_LOCATOR", contains="expired")
    assert_error(admin.get(second["nextRecordsUrl"]), 400, "INVALID_QUERY_LOCATOR")


def test_query_semantics(api: Api, admin: Caller) -> None:
    acme = admin.create("Account", {"Name": "Acme", "Industry": "Energy", "NumberOfEmployees": 10})
    admin.create("Account", {"Name": "ACME Two", "Industry": "Energy", "NumberOfEmployees": 5})
    admin.create("Account", {"Name": "Blue_Co", "Industry": "Retail", "NumberOfEmployees": 7})
    admin.create("Account", {"Name": "Bluebird"})
    gone = admin.create("Account", {"Name": "Gone", "Industry": "Retail", "ParentId": acme})
    assert admin.delete(f"/sobjects/Account/{gone}").status_code == 204

    def names(soql: str, *, all_rows: bool = False) -> list[str]:
        rows = admin.query(soql, all_rows=all_rows)["records"]
        return sorted(r["Name"] for r in rows)

    count = admin.query("SELECT COUNT() FROM Account")
    assert count == {"totalSize": 4, "done": True, "records": []}
    where = "SELECT COUNT() FROM Account WHERE Industry = 'Energy'"
    assert admin.query(where)["totalSize"] == 2
    assert admin.query("SELECT COUNT() FROM Account", all_rows=True)["totalSize"] == 5

    grouped = admin.query(
        "SELECT Industry, COUNT(Id), SUM(NumberOfEmployees) total, MAX(NumberOfEmployees) "
        "FROM Account GROUP BY Industry"
    )
    rows = sorted(grouped["records"], key=lambda r: (r["Industry"] is None, str(r["Industry"])))
    assert [{k: v for k, v in r.items() if k != "attributes"} for r in rows] == [
        {"Industry": "Energy", "expr0": 2, "total": 15, "expr1": 10},
        {"Industry": "Retail", "expr0": 1, "total": 7, "expr1": 7},
        {"Industry": None, "expr0": 1, "total": None, "expr1": None},
    ]
    assert grouped["totalSize"] == 3 and grouped["done"] is True
    assert all(r["attributes"] == {"type": "AggregateResult"} for r in rows)

    # != and NOT IN keep the rows where the field is null, as Salesforce does.
    assert names("SELECT Name FROM Account WHERE Industry != 'Energy'") == [
        "Blue_Co",
        "Bluebird",
    ]
    assert names("SELECT Name FROM Account WHERE Industry NOT IN ('Retail')") == [
        "ACME Two",
        "Acme",
        "Bluebird",
    ]
    assert names("SELECT Name FROM Account WHERE Industry = null") == ["Bluebird"]
    # Text comparisons and LIKE ignore case; LIKE's _ and % are wildcards.
    assert names("SELECT Name FROM Account WHERE Name = 'acme'") == ["Acme"]
    assert names("SELECT Name FROM Account WHERE Name LIKE 'acme%'") == ["ACME Two", "Acme"]
    assert names("SELECT Name FROM Account WHERE Name LIKE 'BLUE_CO'") == ["Blue_Co"]
    assert names("SELECT Name FROM Account WHERE Name LIKE '%E%'") == [
        "ACME Two",
        "Acme",
        "Blue_Co",
        "Bluebird",
    ]
    # queryAll sees the recycle bin; query does not.
    assert "Gone" not in names("SELECT Name FROM Account")
    deleted = admin.query(
        "SELECT Name, IsDeleted FROM Account WHERE IsDeleted = true", all_rows=True
    )
    assert [(r["Name"], r["IsDeleted"]) for r in deleted["records"]] == [("Gone", True)]
    assert names("SELECT Name FROM Account WHERE Parent.Name = 'Acme'", all_rows=True) == ["Gone"]
