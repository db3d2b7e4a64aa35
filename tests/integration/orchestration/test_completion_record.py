"""Completing a work item reads the run's record only when its screen flow names it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from tests.integration.orchestration.orch_harness import (
    CLOSE,
    SCREEN,
    add_user,
    close_flow_xml,
    deploy,
    run_due,
    screen_flow_xml,
    two_stage,
)
from workroute.metadata.flow import orchestration_to_xml
from workroute.org import Org

COMMENT = "<name>Comment</name>"
SUBJECT_DEFAULT = (
    COMMENT + "<defaultValue><stringValue>{!$Record.Subject}</stringValue></defaultValue>"
)


@contextmanager
def case_reads(org: Org) -> Iterator[list[str]]:
    """The statements that read the case table while the block runs."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "o_case" in statement:
            seen.append(statement)

    event.listen(org.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(org.db.engine, "before_cursor_execute", note)


def _complete(org: Org, tmp_path: Path, screen: bytes) -> tuple[dict[str, Any], list[str]]:
    reviewer_id = add_user(org, "reviewer@example.com")
    orch = two_stage()
    flows = {orch.name: orchestration_to_xml(orch), SCREEN: screen, CLOSE: close_flow_xml()}
    deploy(org, tmp_path / "pkg", flows)
    admin = org.admin_user_id()
    with org.db.write():
        org.store.insert("Case", [{"Subject": "Broken pump", "Status": "New"}], user_id=admin)
    run_due(org)
    reviewer = org.auth.principal(reviewer_id)
    [item] = org.work_items.todo(reviewer)
    with case_reads(org) as reads:
        org.work_items.complete(str(item["Id"]), {"Approved": True}, reviewer)
    return org.store.get("FlowOrchestrationWorkItem", str(item["Id"])), reads


def test_a_form_without_record_completes_without_reading_it(org: Org, tmp_path: Path) -> None:
    done, reads = _complete(org, tmp_path, screen_flow_xml())
    assert reads == []
    assert '"approved": true' in str(done["CompletionOutputs"]).lower()


def test_a_form_naming_record_reads_it_for_its_default(org: Org, tmp_path: Path) -> None:
    screen = screen_flow_xml().decode().replace(COMMENT, SUBJECT_DEFAULT, 1).encode()
    done, reads = _complete(org, tmp_path, screen)
    assert len(reads) == 1
    assert "Broken pump" in str(done["CompletionOutputs"])
