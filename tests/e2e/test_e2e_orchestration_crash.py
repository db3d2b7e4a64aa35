"""Nothing is lost in Flow Orchestration: ``workroute serve`` is killed (SIGKILL) with a
run waiting on a work item whose notification email could not be sent yet (the SMTP
server is down), and again straight after the work item is completed. After each
restart the run is where it was: the work item and its email are still there, the
email is delivered once the SMTP server is up, and the completed step's run moves on
to its next stage and finishes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller

from tests.e2e.conftest import ADMIN, ADMIN_PASSWORD, LiveServer, serve
from tests.integration.orchestration.orch_harness import (
    CLOSE,
    SCREEN,
    close_flow_xml,
    review_step,
    screen_flow_xml,
    two_stage,
)
from tests.unit.delivery.test_smtp import Collector
from workroute.metadata.flow import orchestration_to_xml
from workroute.testing.server import free_port

NS = "http://soap.sforce.com/2006/04/metadata"
REVIEWER = "reviewer@e2e-orch.example.com"
PASSWORD = "E2e-orch-pass-1"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[LiveServer, int]]:
    smtp_port = free_port()  # nothing listens here until the test starts the SMTP server
    yield from (
        (server, smtp_port)
        for server in serve(
            tmp_path,
            [(REVIEWER, PASSWORD)],
            ["--clock", "manual", "--smtp-url", f"smtp://127.0.0.1:{smtp_port}"],
        )
    )


def _package() -> bytes:
    orch = two_stage(review_step(assignee=REVIEWER), name="Crash_Review")
    files: dict[str, str | bytes] = {
        "package.xml": f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{NS}">'
        f"<types><members>{orch.name}</members><members>{SCREEN}</members>"
        f"<members>{CLOSE}</members><name>Flow</name></types>"
        "<version>62.0</version></Package>",
        f"flows/{orch.name}.flow-meta.xml": orchestration_to_xml(orch),
        f"flows/{SCREEN}.flow-meta.xml": screen_flow_xml(),
        f"flows/{CLOSE}.flow-meta.xml": close_flow_xml(),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def _settle(admin: Api, seconds: float = 0) -> None:
    """Move the server's manual clock: when the call returns, every timer due by then
    (the run's steps are timers) has run and every delivery due has been attempted,
    so the test looks at the state straight after, without polling."""
    admin.call("POST", "/services/workroute/v1/clock/advance", {"seconds": seconds})


class Api:
    def __init__(self, server: LiveServer, username: str, password: str) -> None:
        self.server, self.username, self.password = server, username, password

    def call(self, method: str, path: str, json: Any = None, expect: int = 200) -> Any:
        # A new token each time: tokens are rows, but the point is the server's state.
        s = self.server.session()
        s.headers["Authorization"] = f"Bearer {self.server.token(self.username, self.password)}"
        resp = s.request(method, f"{self.server.url}{path}", json=json)
        assert resp.status_code == expect, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp.json() if resp.content else None

    def query(self, soql: str) -> list[dict[str, Any]]:
        q = requests.utils.quote(soql)  # type: ignore[attr-defined]
        records: list[dict[str, Any]] = self.call("GET", f"/services/data/v62.0/query?q={q}")[
            "records"
        ]
        return records


def _restart(server: LiveServer) -> None:
    server.process.kill()
    server.process.start()


def test_runs_work_items_and_emails_survive_sigkill(world: tuple[LiveServer, int]) -> None:
    server, smtp_port = world
    admin = Api(server, ADMIN, ADMIN_PASSWORD)
    reviewer = Api(server, REVIEWER, PASSWORD)
    sf: Any = server.client()  # simple-salesforce's deploy result is loosely typed
    status = sf.checkDeployStatus(sf.deploy(io.BytesIO(_package()), sandbox=False)["asyncId"])
    assert status["state"] == "Succeeded", status

    case_id = admin.call(
        "POST", "/services/data/v62.0/sobjects/Case", {"Subject": "Crash me"}, expect=201
    )["id"]
    _settle(admin)
    [item] = reviewer.call("GET", "/services/workroute/v1/workItems")["workItems"]
    assert item["relatedRecordId"] == case_id
    # The notification could not be sent: the SMTP server is not up.
    [attempted] = [
        i
        for i in admin.call("GET", "/services/workroute/v1/outbox")["records"]
        if i["kind"] == "email"
    ]
    assert attempted["attempts"] >= 1 and attempted["status"] != "delivered", attempted

    _restart(server)  # SIGKILL: no shutdown code runs

    [again] = reviewer.call("GET", "/services/workroute/v1/workItems")["workItems"]
    assert again["id"] == item["id"] and again["status"] == item["status"]
    [run] = admin.query(
        f"SELECT Id, Status FROM FlowOrchestrationInstance WHERE RelatedRecordId = '{case_id}'"
    )
    assert run["Status"] == "InProgress"
    pending = [
        i
        for i in admin.call("GET", "/services/workroute/v1/outbox")["records"]
        if i["kind"] == "email"
    ]
    assert len(pending) == 1 and pending[0]["status"] != "delivered"

    collector = Collector()
    smtp = Controller(collector, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        # Past any retry delay: the outbox tries again and the email goes out, once.
        _settle(admin, 3600)
        assert [r.rcpt_tos for r in collector.received] == [[REVIEWER]]

        reviewer.call(
            "POST",
            f"/services/workroute/v1/workItems/{item['id']}/complete",
            {"values": {"Approved": True, "Comment": "fine"}},
        )
        _restart(server)  # before or after the run moved on: either way it must finish

        _settle(admin)
        [finished] = admin.query(
            f"SELECT Status FROM FlowOrchestrationInstance WHERE Id = '{run['Id']}'"
        )
        assert finished["Status"] == "Completed"
        [case] = admin.query(f"SELECT Status FROM Case WHERE Id = '{case_id}'")
        assert case["Status"] == "Closed"
        steps = admin.query(
            "SELECT Name, Status FROM FlowOrchestrationStepInstance "
            f"WHERE OrchestrationInstanceId = '{run['Id']}'"
        )
        assert sorted((s["Name"], s["Status"]) for s in steps) == [
            ("Close", "Completed"),
            ("Review", "Completed"),
        ]
        assert len(collector.received) == 1  # delivered once, not again after the restart
    finally:
        smtp.stop()
