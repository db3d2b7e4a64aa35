"""Queues take records of any object with owners, custom objects included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.workflow.conftest import deploy, write_package
from workroute.kernel.errors import RestrictedPicklistError
from workroute.org import Org


def _queue(org: Org) -> str:
    return org.store.insert(
        "Group", [{"Name": "Desk", "DeveloperName": "Desk", "Type": "Queue"}],
        user_id=org.admin_user_id(),
    )[0]  # fmt: skip


def test_a_queue_takes_a_custom_object(org: Org, tmp_path: Path) -> None:
    assert deploy(org, write_package(tmp_path / "p", "")).success  # Job__c
    queue = _queue(org)
    [row] = org.store.insert(
        "QueueSobject", [{"QueueId": queue, "SobjectType": "job__c"}], user_id=org.admin_user_id()
    )
    assert org.store.get("QueueSobject", row)["SobjectType"] == "Job__c"  # the schema's spelling


@pytest.mark.parametrize("value", ["Nope__c", "QueueSobject", ""])
def test_objects_without_owners_or_unknown_are_refused(org: Org, value: str) -> None:
    queue = _queue(org)
    with pytest.raises(RestrictedPicklistError, match="bad value for restricted picklist field"):
        org.store.insert(
            "QueueSobject", [{"QueueId": queue, "SobjectType": value}], user_id=org.admin_user_id()
        )
    assert org.store.find("QueueSobject", QueueId=queue) == []
