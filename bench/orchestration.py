"""Record-triggered orchestration runs, through to completion, against SpiffWorkflow.

workroute: a two-stage orchestration (stage 1: an interactive step whose screen flow
takes Approved and Comment; stage 2: a background step whose autolaunched flow closes
the case) deployed as Flow metadata to an org on an SQLite file. N cases are created
(each save starts a run), the runs move on (each creates its work item, with its
history rows), then each work item is completed by its assignee with values checked
against the form, and the runs move on to the end (the background step updates the
case, the run completes). Every step is durable, committed as the server commits it:
the save and the completion are a transaction each per run; the asynchronous start
and finish are timers, run in batches of up to ``store.timers.BATCH`` a transaction,
each timer in its own savepoint (a failing one is rolled back alone).

SpiffWorkflow (bench/_spiff.py): the same process as BPMN (a user task, then a script
task updating the record row), its state serialized to SQLite with its own serializer
at the two points where it waits or ends: two transactions per run.

Both run in this process, one after the other, on the same machine; the figure that
matters is the ratio of runs per second. Aim (issue 6): faster than SpiffWorkflow per
run, with durable state.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from pathlib import Path

from bench._spiff import run_spiff
from workroute.kernel.clock import ManualClock
from workroute.metadata.deploy import run_deploy
from workroute.metadata.flow import orchestration_to_xml
from workroute.orchestration.definition import Orchestration, Stage, Step
from workroute.orchestration.resources import Trigger
from workroute.orchestration.values import Assignee, Connector, Parameter, Value
from workroute.orchestration.vocabulary import (
    AssigneeType,
    FlowStatus,
    RecordTriggerType,
    StepActionType,
)
from workroute.org import NewUser, Org
from workroute.store.timers import BATCH

RUNS = int(os.environ.get("BENCH_RUNS", "10000"))
ADMIN = "bench@example.com"
REVIEWER = "reviewer@example.com"
PASSWORD = "Bench-pass-1"


def _orchestration() -> Orchestration:
    record = Parameter(name="ActionInput__RecordId", value=Value.reference("$Record.Id"))
    rid = Parameter(name="recordId", value=Value.reference("$Record.Id"))
    review = Step(
        name="Review",
        label="Review",
        action_type=StepActionType.STEP_INTERACTIVE,
        action_name="Review_Screen",
        assignee=Assignee(type=AssigneeType.USER, value=Value.string(REVIEWER)),
        inputs=(record, rid),
    )
    close = Step(
        name="Close",
        label="Close",
        action_type=StepActionType.STEP_BACKGROUND,
        action_name="Close_Case",
        inputs=(rid,),
    )
    return Orchestration(
        name="Case_Review",
        label="Case Review",
        status=FlowStatus.ACTIVE,
        api_version="62.0",
        trigger=Trigger(object="Case", record_trigger_type=RecordTriggerType.CREATE),
        start=Connector(target="Reviewing"),
        stages=(
            Stage(
                name="Reviewing",
                label="Reviewing",
                steps=(review,),
                connector=Connector(target="Closing"),
            ),
            Stage(name="Closing", label="Closing", steps=(close,)),
        ),
    )


def _org(folder: Path) -> tuple[Org, str]:
    from tests.integration.orchestration.orch_harness import close_flow_xml, screen_flow_xml

    org = Org.open(database_url=f"sqlite+pysqlite:///{folder / 'org.db'}", clock=ManualClock())
    org.initialize(admin_username=ADMIN, admin_password=PASSWORD)
    reviewer = org.add_user(NewUser(username=REVIEWER, last_name="Reviewer", email=REVIEWER))
    pkg = folder / "pkg" / "flows"
    pkg.mkdir(parents=True)
    (pkg / "Case_Review.flow-meta.xml").write_bytes(orchestration_to_xml(_orchestration()))
    (pkg / "Review_Screen.flow-meta.xml").write_bytes(screen_flow_xml())
    (pkg / "Close_Case.flow-meta.xml").write_bytes(close_flow_xml())
    result = run_deploy(org, folder / "pkg", user_id=org.admin_user_id())
    assert result.success, result.problems
    return org, reviewer


def run_workroute(n: int, folder: Path) -> dict[str, float]:
    org, reviewer_id = _org(folder)
    admin = org.admin_user_id()
    reviewer = org.auth.principal(reviewer_id)
    org.orchestrator.automated_process_user_id()
    gc.collect()
    started = time.perf_counter()
    for i in range(n):
        with org.db.write():
            org.store.insert("Case", [{"Subject": f"Case {i}", "Status": "New"}], user_id=admin)
    saved = time.perf_counter()
    org.dispatcher.run_due()
    assigned = time.perf_counter()
    items = org.work_items.todo(reviewer)
    for item in items:
        org.work_items.complete(str(item["Id"]), {"Approved": True, "Comment": "ok"}, reviewer)
    completed = time.perf_counter()
    org.dispatcher.run_due()
    finished = time.perf_counter()
    # Every run completed, every case closed, every work item completed.
    runs = org.store.find("FlowOrchestrationInstance")
    assert len(runs) == n and all(r["Status"] == "Completed" for r in runs), "runs unfinished"
    cases = org.store.find("Case")
    assert len(cases) == n and all(c["Status"] == "Closed" for c in cases), "cases open"
    assert len(items) == n
    org.close()
    total = finished - started
    return {
        "save": saved - started,
        "start": assigned - saved,
        "complete": completed - assigned,
        "finish": finished - completed,
        "total": total,
        "runs_per_second": n / total,
    }


def main() -> None:
    n = RUNS
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "wr").mkdir()
        (root / "spiff").mkdir()
        ours = run_workroute(n, root / "wr")
        gc.collect()
        peer = run_spiff(n, root / "spiff")
    print(f"\norchestration: {n:,} record-triggered runs of a two-stage orchestration")
    print(
        f"  workroute: save {ours['save']:.2f} s, start {ours['start']:.2f} s, "
        f"complete {ours['complete']:.2f} s, finish {ours['finish']:.2f} s = "
        f"{ours['total']:.2f} s, {ours['runs_per_second']:,.0f} runs/s (2 transactions per run "
        f"+ 2 timers in batches of {BATCH})"
    )
    print(
        f"  SpiffWorkflow: start {peer.seconds_start:.2f} s, complete "
        f"{peer.seconds_complete:.2f} s = {peer.total_seconds:.2f} s, "
        f"{peer.runs_per_second:,.0f} runs/s (2 transactions per run, "
        f"{peer.bytes_per_run_state:,.0f} bytes of state per run)"
    )
    ratio = ours["runs_per_second"] / peer.runs_per_second
    print(f"  workroute / SpiffWorkflow runs per second: {ratio:.2f}x (aim: above 1)")


if __name__ == "__main__":
    from bench.machine import describe

    print(describe())
    main()
