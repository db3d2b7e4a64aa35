"""Case and Task IsClosed follow Status; a Case's ClosedDate is stamped when it closes."""

from __future__ import annotations

from datetime import timedelta

from workroute.kernel.clock import ManualClock
from workroute.org import Org


def test_task_is_closed_when_completed(org: Org) -> None:
    admin = org.admin_user_id()
    [tid] = org.store.insert("Task", [{"Subject": "Call"}], user_id=admin)
    assert org.store.get("Task", tid)["IsClosed"] is False
    org.store.update("Task", [{"Id": tid, "Status": "Completed"}], user_id=admin)
    assert org.store.get("Task", tid)["IsClosed"] is True
    org.store.update("Task", [{"Id": tid, "Status": "In Progress"}], user_id=admin)
    assert org.store.get("Task", tid)["IsClosed"] is False


def test_case_closed_date_is_stamped_once_and_cleared_on_reopen(
    org: Org, clock: ManualClock
) -> None:
    admin = org.admin_user_id()
    [cid] = org.store.insert("Case", [{"Subject": "Broken", "Status": "New"}], user_id=admin)
    case = org.store.get("Case", cid)
    assert case["IsClosed"] is False and case["ClosedDate"] is None
    org.store.update("Case", [{"Id": cid, "Status": "Closed"}], user_id=admin)
    closed_at = clock.now()
    case = org.store.get("Case", cid)
    assert case["IsClosed"] is True and case["ClosedDate"] == closed_at
    clock.advance(timedelta(hours=1))
    org.store.update("Case", [{"Id": cid, "Subject": "Broken badly"}], user_id=admin)
    assert org.store.get("Case", cid)["ClosedDate"] == closed_at  # still the first close
    org.store.update("Case", [{"Id": cid, "Status": "Working"}], user_id=admin)
    case = org.store.get("Case", cid)
    assert case["IsClosed"] is False and case["ClosedDate"] is None
