"""Formula fields are computed when records are read: SOQL, REST retrieve."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.integration.store.conftest import deploy
from workroute.api.app import create_app
from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import DeployError, InvalidFieldError
from workroute.metadata.deploy import deploy_source
from workroute.org import Org
from workroute.store.soql import SoqlEngine


def test_formula_fields_in_soql(org: Org, admin: str, clock: ManualClock) -> None:
    deploy(org, "formulas")
    [acme] = org.store.insert("Account", [{"Name": "Acme"}], user_id=admin)
    today = clock.now().date()
    org.store.insert(
        "Invoice__c",
        [
            {
                "Name": "INV-1",
                "Amount__c": 200,
                "Discount__c": 10,
                "Account__c": acme,
                "Due__c": today - timedelta(days=3),
            },
            {
                "Name": "INV-2",
                "Amount__c": None,
                "Discount__c": 5,
                "Due__c": today + timedelta(days=10),
            },
        ],
        user_id=admin,
    )
    engine = SoqlEngine(org.store, user_id=admin)
    rows = engine.records(
        "SELECT Name, Net__c, Net_Blank__c, Title__c, Overdue__c, Days_Left__c, Seen_By__c "
        "FROM Invoice__c ORDER BY Name"
    )
    first, second = rows
    # Percent fields are fractions in formulas: 10% is 0.1.
    assert first["Net__c"] == 180.0 and first["Net_Blank__c"] == 180.0
    assert first["Title__c"] == "INV-1 for Acme (180)"
    assert first["Overdue__c"] is True and first["Days_Left__c"] == -3
    assert first["Seen_By__c"] == ADMIN
    # Blank as zero gives 0; blank as blank gives null.
    assert second["Net__c"] == 0.0 and second["Net_Blank__c"] is None
    assert second["Title__c"] == "INV-2 for nobody (0)"
    assert second["Overdue__c"] is False and second["Days_Left__c"] == 10
    clock.advance(timedelta(days=11))  # TODAY() moves with the org's clock
    later = engine.records("SELECT Overdue__c, Days_Left__c FROM Invoice__c ORDER BY Name")
    assert [r["Overdue__c"] for r in later] == [True, True]
    assert [r["Days_Left__c"] for r in later] == [-14, -1]


def test_formula_fields_are_not_filterable_yet(org: Org) -> None:
    deploy(org, "formulas")
    with pytest.raises(InvalidFieldError, match="formula field Net__c cannot be used in WHERE"):
        SoqlEngine(org.store).compile("SELECT Name FROM Invoice__c WHERE Net__c > 5")


def test_rest_retrieve_computes_formula_fields(sqlite_org: Org) -> None:
    org = sqlite_org
    admin = org.admin_user_id()
    deploy_source(org, "tests/fixtures/deploy/formulas", user_id=admin)
    [inv] = org.store.insert(
        "Invoice__c",
        [{"Name": "INV-9", "Amount__c": 50, "Due__c": date(2024, 1, 1)}],
        user_id=admin,
    )
    client = TestClient(create_app(org))
    token = client.post(
        "/services/oauth2/token",
        data={"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD},
    ).json()["access_token"]
    got = client.get(
        f"/services/data/v62.0/sobjects/Invoice__c/{inv}",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert got["Net__c"] == 50.0 and got["Title__c"] == "INV-9 for nobody (50)"
    assert got["Overdue__c"] is True


def test_a_formula_that_does_not_compile_fails_the_deploy(org: Org) -> None:
    with pytest.raises(DeployError) as failed:
        deploy(org, "bad_formula")
    [problem] = failed.value.problems
    assert problem.file.endswith("Broken_Formula__c.object")
    assert problem.line == 18 and "Nope__c" in problem.message  # the <fields> element
    assert "(line 1, column 11)" in problem.message  # and where in the formula
    assert org.schema.find("Broken_Formula__c") is None


def test_formula_default_values_apply_on_create(org: Org, admin: str, clock: ManualClock) -> None:
    deploy(org, "formulas")
    today = clock.now().date()
    given = date(2020, 5, 1)
    ids = org.store.insert(
        "Invoice__c",
        [{"Name": "defaulted"}, {"Name": "given", "Issued__c": given, "Issuer__c": "x@y.io"}],
        user_id=admin,
    )
    defaulted, explicit = org.store.get_many("Invoice__c", ids)
    assert defaulted["Issued__c"] == today
    assert defaulted["Pay_By__c"] == today + timedelta(days=30)
    assert defaulted["Issuer__c"] == ADMIN  # $User.Email of the saving user
    assert explicit["Issued__c"] == given and explicit["Issuer__c"] == "x@y.io"
    # Defaults apply on create only.
    clock.advance(timedelta(days=2))
    org.store.update("Invoice__c", [{"Id": ids[0], "Name": "renamed"}], user_id=admin)
    assert org.store.get("Invoice__c", ids[0])["Issued__c"] == today
