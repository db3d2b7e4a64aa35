"""Orchestration runs: starting them, and moving them on.

A run is a FlowOrchestrationInstance row pointing at the orchestration version it
started with; its stages and steps are FlowOrchestrationStageInstance and
FlowOrchestrationStepInstance rows, its work items FlowOrchestrationWorkItem rows and
its history FlowOrchestrationLog rows. Variables and step outputs are kept on the run
(``Variables``, JSON), so a run's whole state is rows, and survives a crash.

A run moves on asynchronously (seed 001: "All interactive steps are processed
asynchronously"): starting it, completing one of its work items, or resuming it sets a
durable timer due at once, and the timer's handler (:meth:`Orchestrator.advance`) does
the work in its own transaction after the one that caused it committed:

1. no stage running: follow the start connector (through decisions) to the first
   stage, or after a stage to the next one; none left: the run is Completed;
2. in the running stage, each NotStarted step whose start condition holds starts (when
   the stage starts; when the named steps are Completed; when up to 10 requirements
   hold; when an evaluation flow returns True). A background step runs its
   autolaunched flow at once and is Completed; an interactive step creates a work item
   and waits;
3. an InProgress interactive step completes when its work item's completion has been
   submitted, or its requirements hold, or its evaluation flow returns True;
4. the stage completes when all its steps are Completed (or its exit requirements or
   evaluation flow say so); steps still waiting are then Discontinued and their
   Assigned work items Completed (seed 000's status table, :mod:`.status`);
5. repeat while anything moved.

An error in a step (its flow failed, its assignee is inactive or unknown) puts the
step, its stage and the run in Error with the reason, discontinues the stage's other
running steps and completes their Assigned work items; such a run can be resumed for
14 days (:meth:`Orchestrator.resume`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from workroute.kernel.errors import (
    InsufficientAccessError,
    InvalidFieldError,
    InvalidSessionError,
    NotFoundError,
    WorkrouteError,
)
from workroute.orchestration.assignment import (
    WORK_ITEM_OBJECT,
    Assignee,
    AssigneeKind,
    resolve_assignee,
    work_item_owner,
)
from workroute.orchestration.definition import Decision, Orchestration, Stage, Step
from workroute.orchestration.history import LogEntry, Milestone, write_log
from workroute.orchestration.run_state import RunState, dumps
from workroute.orchestration.scope import RunError, RunScope, criteria_hold, literal
from workroute.orchestration.status import (
    Completion,
    Ending,
    RunStatus,
    WorkItemStatus,
    work_item_status,
)
from workroute.orchestration.values import EvaluationFlow, Parameter
from workroute.orchestration.vocabulary import (
    RESERVED_INPUT_PREFIX,
    FlowStatus,
    RecordFilterOperator,
    StageCompletion,
    StepCompletion,
    StepStart,
)
from workroute.schema.model import ObjectDef
from workroute.store.hooks import Operation, SaveContext
from workroute.store.timers import Timer, TimerSpec

if TYPE_CHECKING:
    from workroute.auth.principal import Principal
    from workroute.org import Org

log = logging.getLogger(__name__)

RUN = "FlowOrchestrationInstance"
STAGE = "FlowOrchestrationStageInstance"
STEP = "FlowOrchestrationStepInstance"
TIMER_KIND = "orchestration"
#: Seed 001 / the issue: a run in Error can be resumed for 14 days.
RESUME_WINDOW = timedelta(days=14)
#: Passes of one advance before it stops (a definition cannot loop, this is a guard).
MAX_PASSES = 1000
#: The last API version whose runs resume as the user who completed the work item
#: (seed 001, "Interactive Step Work Cycle").
RESUMES_AS_COMPLETING_USER_UNTIL = 57.0
AUTOMATED_PROCESS = "AutomatedProcess"
#: Console events of work items (the console stream carries ``omni/`` topics), one per
#: user who may complete the item: its assignee, or its group's or queue's members.
WORK_ITEM_ASSIGNED = "omni/orchestrationWorkItemAssigned"
WORK_ITEM_CLOSED = "omni/orchestrationWorkItemClosed"


class ResumeError(WorkrouteError):
    """The run cannot be resumed."""

    code = "CANNOT_RESUME"
    http_status = 400


class RunStateError(WorkrouteError):
    """The run is not in a state that allows this."""

    code = "INVALID_RUN_STATE"
    http_status = 409


class InvalidInputError(WorkrouteError):
    """An input variable the orchestration does not have, or of the wrong type."""

    code = "INVALID_INPUT"
    http_status = 400


class Orchestrator:
    """Starts runs and moves them on; bound to an org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.store = org.store
        self.flows = org.flows
        self._apu_id: str | None = None
        self._watched_prefixes: set[str] | None = None
        #: Runs being moved on by this thread's transaction (their own saves do not
        #: wake them again).
        self._advancing: set[str] = set()

    def install(self) -> None:
        self.org.hooks.after_save(None, self._after_save, wants=self._wants)
        self.org.timers.handle(TIMER_KIND, self._on_timer)

    # -- the automated process user ----------------------------------------------------

    def automated_process_user_id(self) -> str:
        """The org's automated process user (created on first need): the owner of runs
        and of work items for groups and for queues that do not take work items."""
        if self._apu_id is not None:
            return self._apu_id
        found = self.store.find("User", UserType=AUTOMATED_PROCESS)
        if found:
            self._apu_id = str(found[0]["Id"])
            return self._apu_id
        org_id = self.org.organization_id()
        admin = self.org.admin_user_id()
        profiles = self.store.find("Profile", Name="Minimum Access")
        row = {
            "Username": f"autoproc@{org_id.lower()}.workroute",
            "LastName": "Automated Process",
            "Email": f"autoproc@{org_id.lower()}.workroute.invalid",
            "Alias": "autoproc",
            "ProfileId": profiles[0]["Id"] if profiles else None,
            "TimeZoneSidKey": "GMT",
            "LocaleSidKey": "en_US",
            "EmailEncodingKey": "UTF-8",
            "LanguageLocaleKey": "en_US",
            "UserType": AUTOMATED_PROCESS,
            "IsActive": True,
        }
        with self.org.db.write():
            with self.store.trusted():
                new_id = self.store.insert("User", [row], user_id=admin)[0]
            self.org.db.on_commit(lambda: self._remember_apu(new_id))
        return new_id

    def _remember_apu(self, user_id: str) -> None:
        self._apu_id = user_id

    # -- starting runs -------------------------------------------------------------------

    def start(
        self,
        name: str,
        *,
        user_id: str | None,
        record_id: str | None = None,
        inputs: Mapping[str, object] | None = None,
    ) -> str:
        """Start the active version of ``name``; returns the run id. The run moves on
        after the current transaction commits."""
        orch = self.flows.active_orchestration(name)
        if orch is None:
            if self.flows.latest(name) is None:
                raise NotFoundError(f"No orchestration named {name}")
            raise RunStateError(f"The orchestration {name} has no active version")
        variables = self._initial_variables(orch, inputs or {})
        record: Mapping[str, object] | None = None
        if record_id is not None:
            record = self._record(record_id)
            if record is None:
                raise NotFoundError(f"No record with id {record_id}")
        with self.org.db.write():
            return self._start(orch, variables, record, user_id)

    def _initial_variables(
        self, orch: Orchestration, inputs: Mapping[str, object]
    ) -> dict[str, object]:
        out: dict[str, object] = {}
        for v in orch.variables:
            if v.value is not None and not v.value.is_reference:
                out[v.name.lower()] = literal(v.value)
        allowed = {v.name.lower(): v for v in orch.inputs}
        for key, value in inputs.items():
            var = allowed.get(key.lower())
            if var is None:
                raise InvalidInputError(f"{orch.name} has no input variable {key}", fields=[key])
            out[key.lower()] = _coerce_input(var.data_type.value, value, key)
        return out

    def _start(
        self,
        orch: Orchestration,
        variables: dict[str, object],
        record: Mapping[str, object] | None,
        user_id: str | None,
    ) -> str:
        now = self.store.clock.now()
        apu = self.automated_process_user_id()
        row = {
            "Name": f"{orch.label} {now.strftime('%Y-%m-%d %H:%M:%S')}"[:255],
            "OrchestrationName": orch.name,
            "OrchestrationLabel": orch.label,
            "OrchestrationVersion": orch.version,
            "FlowType": "Orchestrator",
            "Status": RunStatus.IN_PROGRESS.value,
            "RelatedRecordId": None if record is None else record["Id"],
            "RunAsUserId": user_id,
            "Variables": dumps({"variables": variables, "outputs": {}}),
            "OwnerId": apu,
        }
        with self.store.trusted():
            run_id = self.store.insert(RUN, [row], user_id=user_id or apu)[0]
        entry = LogEntry(
            kind=Milestone.START_ORCHESTRATION,
            run_id=run_id,
            orchestration=orch.name,
            version=int(orch.version or 0),
            context=None if record is None else str(record["Id"]),
        )
        with self.store.trusted():
            write_log(self.store, [entry], user_id=apu, now=now)
        if record is not None:
            self._watched().add(str(record["Id"])[:3])
        self.schedule(run_id, new=True)
        return run_id

    def schedule(self, run_id: str, *, new: bool = False) -> None:
        """Have the run move on once the current transaction commits (``new``: the run
        was made in this transaction, so it has no timer to replace)."""
        with self.org.db.write(savepoint=False) as conn:
            now = self.store.clock.now()
            self.org.timers.schedule_many(
                conn,
                [
                    TimerSpec(
                        kind=TIMER_KIND,
                        key=f"orchestration:{run_id}",
                        due_at=now,
                        payload={},
                        object_name=RUN,
                        record_id=run_id,
                    )
                ],
                now=now,
                replace=not new,
            )

    def _watched(self) -> set[str]:
        """Key prefixes of the records running orchestrations are about: a change to
        one of them may make a run's requirements hold."""
        if self._watched_prefixes is None:
            rows = self.store.find(RUN, Status=RunStatus.IN_PROGRESS.value)
            self._watched_prefixes = {
                str(r["RelatedRecordId"])[:3] for r in rows if r.get("RelatedRecordId")
            }
        return self._watched_prefixes

    def _wake_runs_of(self, record_ids: list[str]) -> None:
        """Have the running orchestrations about ``record_ids`` look again."""
        for run in self.store.find_in(RUN, "RelatedRecordId", record_ids, columns=("Status",)):
            if run["Status"] == RunStatus.IN_PROGRESS and run["Id"] not in self._advancing:
                self.schedule(str(run["Id"]))

    # -- record triggers -----------------------------------------------------------------

    def _wants(self, obj: ObjectDef) -> bool:
        """Saves :meth:`_after_save` looks at: of records running orchestrations are
        about, and of objects whose saves start one."""
        return self.flows.triggers_on(obj.key) or obj.key_prefix in self._watched()

    def _after_save(self, ctx: SaveContext) -> None:
        if ctx.operation not in (Operation.INSERT, Operation.UPDATE):
            return
        if ctx.operation is Operation.UPDATE and ctx.obj.key_prefix in self._watched():
            self._wake_runs_of([str(r["Id"]) for r in ctx.new])
        triggered = self.flows.record_triggered(ctx.obj.name)
        if not triggered:
            return
        for orch in triggered:
            trigger = orch.trigger
            assert trigger is not None
            if ctx.operation is Operation.INSERT and not trigger.on_create:
                continue
            if ctx.operation is Operation.UPDATE and not trigger.on_update:
                continue
            for new, old in zip(ctx.new, ctx.old, strict=True):
                if not self._entry_holds(orch, ctx, new, None):
                    continue
                if (
                    old is not None
                    and trigger.requires_record_changed
                    and self._entry_holds(orch, ctx, old, None)
                ):
                    continue  # met the criteria before the change already
                if old is not None and not trigger.filters and trigger.filter_formula is None:
                    pass
                variables = self._initial_variables(orch, {})
                self._start(orch, variables, new, ctx.user_id)

    def _entry_holds(
        self,
        orch: Orchestration,
        ctx: SaveContext,
        rec: Mapping[str, object],
        old: Mapping[str, object] | None,
    ) -> bool:
        trigger = orch.trigger
        assert trigger is not None
        if trigger.filter_formula:
            raise RunError(
                f"{orch.name}: entry formulas of record-triggered orchestrations are not "
                "supported; use entry conditions"
            )
        if not trigger.filters:
            return True
        scope = RunScope(self.store, record=rec, record_object=ctx.obj.name)
        from workroute.orchestration.logic import logic_holds, logic_tree
        from workroute.orchestration.values import Condition
        from workroute.orchestration.vocabulary import ComparisonOperator

        filters = trigger.filters

        def holds(i: int) -> bool:
            f = filters[i - 1]
            if f.operator is RecordFilterOperator.IS_CHANGED:
                return False if old is None else rec.get(f.field) != old.get(f.field)
            c = Condition(
                left=f"$Record.{f.field}",
                operator=ComparisonOperator(f.operator.value),
                right=f.value,
            )
            from workroute.orchestration.scope import condition_holds

            return condition_holds(c, scope)

        return logic_holds(logic_tree(trigger.filter_logic, len(filters)), holds)

    # -- moving runs on ------------------------------------------------------------------

    def _on_timer(self, timer: Timer) -> None:
        if timer.record_id:  # the timer runs in its own savepoint already
            self.advance(timer.record_id, savepoint=False)

    def advance(self, run_id: str, *, savepoint: bool = True) -> None:
        """Move the run on as far as it goes now (see the module docstring).

        ``savepoint`` False joins the caller's transaction instead of opening a
        savepoint of it, for a caller that undoes everything when this fails."""
        with self.org.db.write(savepoint=savepoint):
            state = self._load(run_id)
            if state is None or state.run["Status"] != RunStatus.IN_PROGRESS:
                return
            if state.run.get("ResumeBlockedReason"):
                return
            status = state.run["Status"]
            self._advancing.add(run_id)
            try:
                for _ in range(MAX_PASSES):
                    if not self._pass(state):
                        break
            except RunError as exc:
                self._fail_run(state, exc.message)
            finally:
                self._advancing.discard(run_id)
            if (
                state.log
                or state.new
                or state.run.get("__dirty__")
                or state.run["Status"] != status
            ):
                self._flush(state)

    def _load(self, run_id: str, *, rows: bool = True) -> RunState | None:
        """The run's state; with ``rows`` False only the run itself (for a work item
        action that needs its status, version and scope, not its stages and steps)."""
        found = self.store.get_many(RUN, [run_id])
        if not found:
            return None
        run = found[0]
        orch = self.flows.orchestration(
            str(run["OrchestrationName"]), _int(run["OrchestrationVersion"])
        )
        if orch is None:
            raise RunStateError(
                f"Version {run['OrchestrationVersion']} of {run['OrchestrationName']} is gone"
            )
        stages: list[dict[str, Any]] = []
        steps: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        if rows:
            stages = sorted(
                self.store.find_in(STAGE, "OrchestrationInstanceId", [run_id]),
                key=lambda s: _int(s["Position"]),
            )
        if stages:  # a run that has not started a stage has neither steps nor items
            steps = self.store.find_in(STEP, "OrchestrationInstanceId", [run_id])
            items = self.store.find_in(WORK_ITEM_OBJECT, "OrchestrationInstanceId", [run_id])
        data = json.loads(str(run.get("Variables") or "{}"))
        return RunState(
            run=run,
            orchestration=orch,
            stages=stages,
            steps=steps,
            work_items=items,
            variables=dict(data.get("variables", {})),
            outputs={k: dict(v) for k, v in data.get("outputs", {}).items()},
        )

    def scope(self, state: RunState) -> RunScope:
        if state.context is None:
            record = None
            record_object = None
            rid = state.run.get("RelatedRecordId")
            if rid:
                record = self._record(str(rid))
                found = self.store.schema.by_prefix(str(rid)[:3])
                record_object = None if found is None else found.name
            state.context = (record, record_object)
        record, record_object = state.context
        statuses = {str(s["Name"]).lower(): str(s["Status"]) for s in state.stages}
        statuses.update({str(s["Name"]).lower(): str(s["Status"]) for s in state.steps})
        return RunScope(
            self.store,
            record=record,
            record_object=record_object,
            user=None if state.user is None else state.user[0],
            load_user=None if state.user is not None else lambda: self._run_user(state),
            variables=state.variables,
            outputs=state.outputs,
            statuses=statuses,
        )

    def _run_user(self, state: RunState) -> dict[str, Any] | None:
        """The running user's row (kept for the rest of the advance)."""
        user = None
        if state.run.get("RunAsUserId"):
            users = self.store.get_many("User", [str(state.run["RunAsUserId"])])
            user = users[0] if users else None
        state.user = (user,)
        return user

    def _record(self, record_id: str) -> dict[str, Any] | None:
        obj = self.store.schema.by_prefix(record_id[:3])
        if obj is None:
            return None
        rows = self.store.get_many(obj.name, [record_id])
        return rows[0] if rows else None

    def _pass(self, state: RunState) -> bool:
        """One look at the run; whether anything moved."""
        stage_row = state.current_stage()
        if stage_row is None:
            return self._next_stage(state)
        stage = state.orchestration.stage(str(stage_row["Name"]))
        if stage is None:
            raise RunError(f"The stage {stage_row['Name']} is not in this version")
        moved = False
        for step in stage.steps:
            row = next(r for r in state.step_rows(stage_row) if r["Name"] == step.name)
            status = row["Status"]
            if status == RunStatus.NOT_STARTED:
                if self._start_holds(state, step):
                    if not self._start_step(state, stage_row, step, row):
                        return False  # the step failed: the run is in Error
                    moved = True
            elif status == RunStatus.IN_PROGRESS and self._step_done(state, step, row):
                moved = True
            if state.run["Status"] != RunStatus.IN_PROGRESS:
                return False
        if self._stage_done(state, stage, stage_row):
            self._end_stage(state, stage, stage_row)
            return True
        return moved

    # -- stages --------------------------------------------------------------------------

    def _next_stage(self, state: RunState) -> bool:
        orch = state.orchestration
        if not state.stages:
            target = orch.start.target if orch.start is not None else None
        else:
            last = orch.stage(str(state.stages[-1]["Name"]))
            if state.stages[-1]["Status"] != RunStatus.COMPLETED or last is None:
                return False
            target = last.connector.target if last.connector is not None else None
        stage = self._follow(state, target)
        if stage is None:
            self._end_run(state)
            return False
        self._begin_stage(state, stage)
        return True

    def _follow(self, state: RunState, target: str | None) -> Stage | None:
        """The stage a connector leads to, through decisions (None: the run ends)."""
        seen: set[str] = set()
        while target is not None:
            if target.lower() in seen:
                raise RunError(f"The decisions loop at {target}")
            seen.add(target.lower())
            node = state.orchestration.node(target)
            if node is None:
                raise RunError(f"The connector names {target}, which is not in this version")
            if isinstance(node, Stage):
                return node
            target = self._decide(state, node)
        return None

    def _decide(self, state: RunState, decision: Decision) -> str | None:
        scope = self.scope(state)
        for rule in decision.rules:
            if criteria_hold(rule.criteria, scope):
                return rule.connector.target if rule.connector is not None else None
        c = decision.default_connector
        return c.target if c is not None else None

    def _begin_stage(self, state: RunState, stage: Stage) -> None:
        now = self.store.clock.now()
        apu = self.automated_process_user_id()
        position = state.orchestration.stages.index(stage) + 1
        stage_row: dict[str, Any] = {
            "Name": stage.name,
            "Label": stage.label[:80],
            "OrchestrationInstanceId": state.id,
            "OrchestrationName": state.orchestration.name,
            "Position": position,
            "Status": RunStatus.IN_PROGRESS.value,
            "OwnerId": apu,
        }
        stage_row["Id"] = self._new_ids(STAGE, 1)[0]
        step_rows: list[dict[str, Any]] = [
            {
                "Id": step_id,
                "Name": step.name,
                "Label": step.label[:80],
                "Description": step.description,
                "OrchestrationInstanceId": state.id,
                "OrchestrationName": state.orchestration.name,
                "OrchestrationStageName": stage.name,
                "StageInstanceId": stage_row["Id"],
                "Status": RunStatus.NOT_STARTED.value,
                "StepType": step.kind.value,
                "OwnerId": apu,
            }
            for step, step_id in zip(
                stage.steps, self._new_ids(STEP, len(stage.steps)), strict=True
            )
        ]
        state.new.setdefault(STAGE, []).append(stage_row)
        state.new.setdefault(STEP, []).extend(step_rows)
        state.stages.append(stage_row)
        state.steps.extend(step_rows)
        state.run["CurrentStage"] = stage.name
        state.entry(Milestone.START_STAGE, stage=stage.name)
        del now

    def _new_ids(self, object_name: str, count: int) -> list[str]:
        """Ids for rows inserted later in this advance (see ``RunState.new``)."""
        return self.store.ids.allocate(self.store.schema.get(object_name).key_prefix, count)

    def _stage_done(self, state: RunState, stage: Stage, stage_row: Mapping[str, Any]) -> bool:
        kind = stage.completion
        if kind is StageCompletion.REQUIREMENTS:
            return criteria_hold(stage.exit, self.scope(state))
        if kind is StageCompletion.EVALUATION_FLOW:
            assert stage.exit_flow is not None
            return self._evaluate(state, stage.exit_flow)
        return all(r["Status"] == RunStatus.COMPLETED for r in state.step_rows(stage_row))

    def _end_stage(self, state: RunState, stage: Stage, stage_row: dict[str, Any]) -> None:
        now = self.store.clock.now()
        for row in state.step_rows(stage_row):
            if row["Status"] in (RunStatus.NOT_STARTED, RunStatus.IN_PROGRESS):
                self._discontinue_step(state, row, Ending.STAGE_COMPLETED)
        stage_row["Status"] = RunStatus.COMPLETED.value
        stage_row["CompletedDate"] = now
        self._dirty(state, STAGE, stage_row, "Status", "CompletedDate")
        state.entry(Milestone.END_STAGE, stage=stage.name)

    # -- steps ---------------------------------------------------------------------------

    def _start_holds(self, state: RunState, step: Step) -> bool:
        kind = step.start
        if kind is StepStart.STAGE_STARTS:
            return True
        if kind is StepStart.STEPS_COMPLETED:
            statuses = {str(s["Name"]).lower(): s["Status"] for s in state.steps}
            return all(statuses.get(n.lower()) == RunStatus.COMPLETED for n in step.waits_for)
        if kind is StepStart.REQUIREMENTS:
            return criteria_hold(step.entry, self.scope(state))
        assert step.entry_flow is not None
        return self._evaluate(state, step.entry_flow)

    def _start_step(
        self, state: RunState, stage_row: dict[str, Any], step: Step, row: dict[str, Any]
    ) -> bool:
        """Start ``step``; False when it failed (the run is then in Error)."""
        now = self.store.clock.now()
        row["Status"] = RunStatus.IN_PROGRESS.value
        row["StartedDate"] = now
        self._dirty(state, STEP, row, "Status", "StartedDate")
        state.entry(Milestone.START_STEP, stage=str(stage_row["Name"]), step=step.name)
        try:
            if step.is_interactive:
                self._create_work_item(state, step, row)
            else:
                outputs = self._run_background(state, step)
                self._complete_step(state, step, row, outputs)
        except RunError:
            raise
        except WorkrouteError as exc:
            self._fail_step(state, stage_row, row, exc.message)
            return False
        return True

    def _inputs(self, state: RunState, params: Sequence[Parameter]) -> dict[str, object]:
        scope = self.scope(state)
        return {
            p.name: scope.value(p.value)
            for p in params
            if not p.name.startswith(RESERVED_INPUT_PREFIX)
        }

    def _flow_context(self, state: RunState, user_id: str | None = None) -> Any:
        from workroute.flows import FlowContext

        run_user = user_id or (
            str(state.run["RunAsUserId"]) if state.run.get("RunAsUserId") else None
        )
        if state.context is not None:
            record, record_object = state.context
        else:  # the flow reads $Record when it first needs it, through the scope
            record = None
            rid = state.run.get("RelatedRecordId")
            found = self.store.schema.by_prefix(str(rid)[:3]) if rid else None
            record_object = None if found is None else found.name
        with self.org.db.read() as conn:
            return FlowContext(
                store=self.store,
                conn=conn,
                user_id=run_user,
                now=self.store.clock.now(),
                record=record,
                record_object=record_object,
                load_record=None if state.context else lambda: self.scope(state).record,
                callables=self.org.flow_callables,
                send_email=self.org.flow_effects.send_email,
                post_webhook=self.org.flow_effects.post_webhook,
            )

    def _run_background(self, state: RunState, step: Step) -> dict[str, object]:
        from workroute.flows import run_autolaunched

        flow = self.flows.flow(step.action_name)
        if flow is None:
            raise RunError(f"The flow {step.action_name} of step {step.name} is not deployed")
        inputs = self._inputs(state, step.inputs)
        ctx = self._flow_context(state)
        try:  # in a savepoint of its own: a failing flow leaves nothing behind
            outputs = dict(run_autolaunched(flow, inputs, ctx))
            state.context = state.user = None  # the flow may have changed them
            return outputs
        except WorkrouteError:
            raise
        except Exception as exc:  # a registered callable's own failure
            raise _StepFailure(f"{step.action_name} failed: {exc}") from exc

    def _evaluate(self, state: RunState, ev: EvaluationFlow) -> bool:
        from workroute.flows import evaluate

        flow = self.flows.flow(ev.name)
        if flow is None:
            raise RunError(f"The evaluation flow {ev.name} is not deployed")
        inputs = self._inputs(state, ev.inputs)
        try:
            return bool(evaluate(flow, inputs, self._flow_context(state)))
        except WorkrouteError as exc:
            raise RunError(f"The evaluation flow {ev.name} failed: {exc.message}") from exc

    def _step_done(self, state: RunState, step: Step, row: dict[str, Any]) -> bool:
        kind = step.completion
        if not step.is_interactive:
            return False
        items = state.items_of(row)
        open_items = [w for w in items if w["Status"] == WorkItemStatus.ASSIGNED]
        if kind is StepCompletion.SCREEN_FLOW_COMPLETED:
            done = next((w for w in open_items if w.get("CompletedById")), None)
            if done is None:
                return False
            outputs = json.loads(str(done.get("CompletionOutputs") or "{}"))
            self._end_work_item(state, step, row, done)
            self._complete_step(state, step, row, outputs)
            return True
        if kind is StepCompletion.REQUIREMENTS:
            holds = criteria_hold(step.exit, self.scope(state))
        else:
            assert step.exit_flow is not None
            holds = self._evaluate(state, step.exit_flow)
        if not holds:
            return False
        outputs = {}
        for w in open_items:
            if w.get("CompletedById"):
                outputs = json.loads(str(w.get("CompletionOutputs") or "{}"))
                self._end_work_item(state, step, row, w)
            else:
                self._close_work_item(state, w, Ending.STAGE_COMPLETED)
        self._complete_step(state, step, row, outputs)
        return True

    def _complete_step(
        self, state: RunState, step: Step, row: dict[str, Any], outputs: Mapping[str, object]
    ) -> None:
        now = self.store.clock.now()
        state.outputs[step.name.lower()] = {k.lower(): v for k, v in outputs.items()}
        for out in step.outputs:
            state.variables[out.assign_to.lower()] = state.outputs[step.name.lower()].get(
                out.name.lower()
            )
        row["Status"] = RunStatus.COMPLETED.value
        row["CompletedDate"] = now
        if outputs:
            row["InProgressStepOutputs"] = dumps(dict(outputs))
        self._dirty(state, STEP, row, "Status", "CompletedDate", "InProgressStepOutputs")
        state.entry(
            Milestone.END_STEP,
            stage=str(row["OrchestrationStageName"]),
            step=step.name,
            duration=_seconds(row.get("StartedDate"), now),
        )

    def _discontinue_step(self, state: RunState, row: dict[str, Any], ending: Ending) -> None:
        row["Status"] = RunStatus.DISCONTINUED.value
        self._dirty(state, STEP, row, "Status")
        for w in state.items_of(row):
            if w["Status"] == WorkItemStatus.ASSIGNED:
                self._close_work_item(state, w, ending)

    def _fail_step(
        self, state: RunState, stage_row: dict[str, Any], row: dict[str, Any], reason: str
    ) -> None:
        now = self.store.clock.now()
        row["Status"] = RunStatus.ERROR.value
        row["ErrorMessage"] = reason
        self._dirty(state, STEP, row, "Status", "ErrorMessage")
        for other in state.step_rows(stage_row):
            if other is not row and other["Status"] == RunStatus.IN_PROGRESS:
                self._discontinue_step(state, other, Ending.STAGE_ERROR)
        for w in state.items_of(row):
            if w["Status"] == WorkItemStatus.ASSIGNED:
                self._close_work_item(state, w, Ending.STAGE_ERROR)
        stage_row["Status"] = RunStatus.ERROR.value
        stage_row["ErrorMessage"] = reason
        self._dirty(state, STAGE, stage_row, "Status", "ErrorMessage")
        state.entry(
            Milestone.STEP_ERROR,
            stage=str(stage_row["Name"]),
            step=str(row["Name"]),
            comments=reason,
        )
        self._set_run(state, RunStatus.ERROR, now, error=reason)

    def _fail_run(self, state: RunState, reason: str) -> None:
        """An error outside any step (a decision, a stage's exit condition)."""
        now = self.store.clock.now()
        stage_row = state.current_stage()
        if stage_row is not None:
            for row in state.step_rows(stage_row):
                if row["Status"] in (RunStatus.NOT_STARTED, RunStatus.IN_PROGRESS):
                    self._discontinue_step(state, row, Ending.RUN_ERROR)
            stage_row["Status"] = RunStatus.ERROR.value
            stage_row["ErrorMessage"] = reason
            self._dirty(state, STAGE, stage_row, "Status", "ErrorMessage")
        state.entry(Milestone.ORCHESTRATION_ERROR, comments=reason)
        self._set_run(state, RunStatus.ERROR, now, error=reason)

    def _end_run(self, state: RunState) -> None:
        now = self.store.clock.now()
        state.entry(
            Milestone.END_ORCHESTRATION, duration=_seconds(state.run.get("CreatedDate"), now)
        )
        self._set_run(state, RunStatus.COMPLETED, now)

    def _set_run(
        self, state: RunState, status: RunStatus, now: datetime, *, error: str | None = None
    ) -> None:
        state.run["Status"] = status.value
        state.run["Duration"] = _seconds(state.run.get("CreatedDate"), now)
        if status is RunStatus.ERROR:
            state.run["ErrorMessage"] = error
            state.run["ErrorDate"] = now
        if status.is_final and status is not RunStatus.ERROR:
            state.run["CompletedDate"] = now

    # -- work items ----------------------------------------------------------------------

    def _create_work_item(self, state: RunState, step: Step, row: dict[str, Any]) -> None:
        from workroute.orchestration.vocabulary import RECORD_ID_INPUT

        scope = self.scope(state)
        if step.assignee is None:
            raise _StepFailure(f"The step {step.name} has no assignee")
        assignee = resolve_assignee(
            self.store, step.assignee.type.value, scope.value(step.assignee.value)
        )
        related = scope.value(step.record_id)
        if related is None or str(related) == "":
            raise _StepFailure(f"The step {step.name} has no record ({RECORD_ID_INPUT})")
        inputs = self._inputs(state, step.inputs)
        now = self.store.clock.now()
        apu = self.automated_process_user_id()
        item: dict[str, Any] = {
            "Name": step.label[:255],
            "Label": step.label[:80],
            "Description": (step.description or "")[:255] or None,
            "AssigneeId": assignee.id,
            "OwnerId": work_item_owner(assignee, apu),
            "RelatedRecordId": str(related),
            "ScreenFlowDeveloperName": step.action_name,
            "ScreenFlowInputs": dumps(inputs),
            "Status": WorkItemStatus.ASSIGNED.value,
            "StepInstanceId": row["Id"],
            "OrchestrationInstanceId": state.id,
            "OrchestrationName": state.orchestration.name,
            "FlowType": "Orchestrator",
            "AssignedDate": now,
        }
        with self.store.trusted():
            item["Id"] = self.store.insert(WORK_ITEM_OBJECT, [item], user_id=apu)[0]
        row["RelatedRecord"] = str(related)
        self._dirty(state, STEP, row, "RelatedRecord")
        state.work_items.append(item)
        state.entry(
            Milestone.START_WORK_ITEM,
            stage=str(row["OrchestrationStageName"]),
            step=step.name,
            work_item_id=item["Id"],
            assignee=assignee.name,
            assignee_type=assignee.kind.value,
            context=str(related),
        )
        self.publish_item(item, WORK_ITEM_ASSIGNED, assignee.id)
        subject = scope.value(_reserved(step, "ActionInput__CustomEmailSubject"))
        body = scope.value(_reserved(step, "ActionInput__CustomEmailBody"))
        self.notify(
            state,
            item,
            assignee,
            reassigned=False,
            subject=None if subject is None else str(subject),
            body=None if body is None else str(body),
        )

    def publish_item(self, item: Mapping[str, Any], topic: str, assignee_id: str) -> None:
        """Tell the consoles of everyone who may complete ``item`` (in the transaction)."""
        from workroute.store.events import Event
        from workroute.workflow.recipients import Directory

        users = (
            {assignee_id}
            if assignee_id.startswith("005")
            else Directory(self.store).group_user_ids(assignee_id)
        )
        payload = {
            "workItemId": str(item["Id"]),
            "label": item.get("Label"),
            "status": item.get("Status"),
            "relatedRecordId": item.get("RelatedRecordId"),
            "assigneeId": assignee_id,
            "orchestrationInstanceId": item.get("OrchestrationInstanceId"),
        }
        events = [Event(topic=topic, user_id=u, payload=payload) for u in sorted(users)]
        with self.org.db.write(savepoint=False) as conn:
            self.org.events.publish(conn, events, self.store.clock.now())

    def notify(
        self,
        state: RunState,
        item: Mapping[str, Any],
        assignee: Assignee,
        *,
        reassigned: bool,
        subject: str | None = None,
        body: str | None = None,
    ) -> None:
        from workroute.orchestration.notify import Assignment, notify_assignment

        run_user = state.run.get("RunAsUserId")
        with self.org.db.write(savepoint=False) as conn:
            notify_assignment(
                self.org,
                conn,
                Assignment(
                    work_item_id=str(item["Id"]),
                    assignee_id=assignee.id,
                    related_record_id=item.get("RelatedRecordId"),
                    label=str(item.get("Label") or ""),
                    orchestration_label=str(state.run.get("OrchestrationLabel") or ""),
                    run_user_id=None if not run_user else str(run_user),
                    reassigned=reassigned,
                    custom_subject=None if reassigned else subject,
                    custom_body=None if reassigned else body,
                    assignee_row=assignee.row,
                ),
                self.store.clock.now(),
            )

    def _end_work_item(
        self, state: RunState, step: Step, row: dict[str, Any], item: dict[str, Any]
    ) -> None:
        """The completion submitted for ``item`` is processed: End Work Item."""
        now = self.store.clock.now()
        item["Status"] = WorkItemStatus.COMPLETED.value
        self._dirty(state, WORK_ITEM_OBJECT, item, "Status")
        self.publish_item(item, WORK_ITEM_CLOSED, str(item["AssigneeId"]))
        state.entry(
            Milestone.END_WORK_ITEM,
            stage=str(row["OrchestrationStageName"]),
            step=step.name,
            work_item_id=str(item["Id"]),
            actor=self._username(str(item["CompletedById"])),
            duration=_seconds(row.get("StartedDate"), item.get("CompletedDate") or now),
        )

    def _username(self, user_id: str) -> str | None:
        """A user's username, through the principals the org keeps (the completing
        user was just authenticated, so theirs is usually at hand)."""
        try:
            return self.org.auth.principal(user_id).username
        except InvalidSessionError:
            return None

    def _close_work_item(self, state: RunState, item: dict[str, Any], ending: Ending) -> None:
        completion = Completion.PENDING if item.get("CompletedById") else Completion.NONE
        status = work_item_status(ending, completion)
        if status != item["Status"]:
            item["Status"] = status.value
            self._dirty(state, WORK_ITEM_OBJECT, item, "Status")
            self.publish_item(item, WORK_ITEM_CLOSED, str(item["AssigneeId"]))

    # -- writing back --------------------------------------------------------------------

    def _dirty(self, state: RunState, obj: str, row: dict[str, Any], *names: str) -> None:
        dirty: dict[tuple[str, str], set[str]] = state.run.setdefault("__dirty__", {})
        dirty.setdefault((obj, str(row["Id"])), set()).update(names)
        state.run.setdefault("__rows__", {})[(obj, str(row["Id"]))] = row

    def _flush(self, state: RunState) -> None:
        apu = self.automated_process_user_id()
        dirty: dict[tuple[str, str], set[str]] = state.run.pop("__dirty__", {})
        rows: dict[tuple[str, str], dict[str, Any]] = state.run.pop("__rows__", {})
        new = {str(r["Id"]) for made in state.new.values() for r in made}
        by_object: dict[str, list[dict[str, Any]]] = {}
        for (obj, rid), names in dirty.items():
            if rid in new:
                continue  # inserted below as it is now
            row = rows[(obj, rid)]
            by_object.setdefault(obj, []).append({"Id": rid, **{n: row.get(n) for n in names}})
        run = state.run
        change = {
            "Id": state.id,
            "Status": run["Status"],
            "CurrentStage": run.get("CurrentStage"),
            "Duration": run.get("Duration"),
            "ErrorMessage": run.get("ErrorMessage"),
            "ErrorDate": run.get("ErrorDate"),
            "CompletedDate": run.get("CompletedDate"),
            "ResumeBlockedReason": run.get("ResumeBlockedReason"),
            "Variables": dumps({"variables": state.variables, "outputs": state.outputs}),
        }
        now = self.store.clock.now()
        with self.store.trusted():
            for obj in (STAGE, STEP):
                if state.new.get(obj):
                    self.store.insert(obj, state.new[obj], user_id=apu)
            state.new.clear()
            for obj in (STAGE, STEP, WORK_ITEM_OBJECT):
                if by_object.get(obj):
                    self.store.update(obj, by_object[obj], user_id=apu)
            self.store.update(RUN, [change], user_id=apu)
            write_log(self.store, state.log, user_id=apu, now=now)
        state.log.clear()

    # -- actions on runs -----------------------------------------------------------------

    def cancel(self, run_id: str, principal: Principal) -> None:
        """Cancel a run: its stage is Canceled, running steps Discontinued, and its
        Assigned work items stay Assigned (seed 000's status table)."""
        _require_manager(principal)
        with self.org.db.write():
            state = self._load(run_id)
            if state is None:
                raise NotFoundError(f"No orchestration run with id {run_id}")
            if RunStatus(state.run["Status"]).is_final:
                raise RunStateError(f"The run is {state.run['Status']} and cannot be canceled")
            now = self.store.clock.now()
            stage_row = state.current_stage()
            if stage_row is not None:
                for row in state.step_rows(stage_row):
                    if row["Status"] in (RunStatus.NOT_STARTED, RunStatus.IN_PROGRESS):
                        self._discontinue_step(state, row, Ending.RUN_CANCELED)
                stage_row["Status"] = RunStatus.CANCELED.value
                self._dirty(state, STAGE, stage_row, "Status")
            state.entry(Milestone.CANCEL_ORCHESTRATION, actor=principal.username)
            self._set_run(state, RunStatus.CANCELED, now)
            self._flush(state)
            with self.org.db.write(savepoint=False) as conn:
                self.org.timers.cancel_keys(conn, [f"orchestration:{run_id}"])

    def resume(self, run_id: str, principal: Principal) -> None:
        """Resume a run in Error from a step (within 14 days), or a run waiting because
        its work item was completed by a user without Run Flows."""
        _require_manager(principal)
        with self.org.db.write():
            state = self._load(run_id)
            if state is None:
                raise NotFoundError(f"No orchestration run with id {run_id}")
            now = self.store.clock.now()
            if state.run["Status"] == RunStatus.IN_PROGRESS and state.run.get(
                "ResumeBlockedReason"
            ):
                state.run["ResumeBlockedReason"] = None
            elif state.run["Status"] == RunStatus.ERROR:
                failed = [s for s in state.steps if s["Status"] == RunStatus.ERROR]
                if not failed:
                    raise ResumeError("Only a run stopped by an error in a step can be resumed")
                since = state.run.get("ErrorDate")
                if isinstance(since, datetime) and now - since > RESUME_WINDOW:
                    raise ResumeError("The run failed more than 14 days ago; it cannot be resumed")
                stage_row = next(s for s in state.stages if s["Id"] == failed[0]["StageInstanceId"])
                for row in state.step_rows(stage_row):
                    if row["Status"] in (RunStatus.ERROR, RunStatus.DISCONTINUED):
                        row["Status"] = RunStatus.NOT_STARTED.value
                        row["ErrorMessage"] = None
                        self._dirty(state, STEP, row, "Status", "ErrorMessage")
                stage_row["Status"] = RunStatus.IN_PROGRESS.value
                stage_row["ErrorMessage"] = None
                self._dirty(state, STAGE, stage_row, "Status", "ErrorMessage")
                state.run["Status"] = RunStatus.IN_PROGRESS.value
                state.run["ErrorMessage"] = None
                state.run["ErrorDate"] = None
            else:
                raise ResumeError(f"The run is {state.run['Status']}; there is nothing to resume")
            state.entry(Milestone.RESUME_ORCHESTRATION, actor=principal.username)
            self._flush(state)
            self.schedule(run_id)


class _StepFailure(WorkrouteError):
    """A step could not run (its reason is kept on the step, stage and run)."""

    code = "ORCHESTRATION_STEP_ERROR"
    http_status = 400


def _int(v: object) -> int:
    return int(v) if isinstance(v, int | float | str | Decimal) else 0


def _reserved(step: Step, name: str) -> Any:
    p = step.input(name)
    return None if p is None else p.value


def _seconds(start: object, end: object) -> int | None:
    if isinstance(start, datetime) and isinstance(end, datetime):
        a = start if start.tzinfo else start.replace(tzinfo=end.tzinfo)
        b = end if end.tzinfo else end.replace(tzinfo=a.tzinfo)
        return max(0, int((b - a).total_seconds()))
    return None


def _require_manager(principal: Principal) -> None:
    from workroute.auth.principal import Permission

    if not principal.has(Permission.MODIFY_ALL_DATA):
        raise InsufficientAccessError(
            "insufficient access rights: managing orchestration runs needs Modify All Data"
        )


def _coerce_input(data_type: str, value: object, name: str) -> object:
    """An input variable's value, checked against its Flow data type."""
    if value is None:
        return None
    try:
        if data_type == "Boolean":
            if isinstance(value, bool):
                return value
            raise TypeError
        if data_type in ("Number", "Currency"):
            if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
                raise TypeError
            return Decimal(str(value))
        if data_type == "Date":
            return date.fromisoformat(str(value))
        if data_type == "DateTime":
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if data_type in ("String", "Picklist", "Multipicklist"):
            if not isinstance(value, str):
                raise TypeError
            return value
        return value
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidInputError(
            f"The input {name} must be a {data_type} value", fields=[name]
        ) from exc


__all__ = [
    "AUTOMATED_PROCESS",
    "RESUME_WINDOW",
    "TIMER_KIND",
    "AssigneeKind",
    "FlowStatus",
    "InvalidFieldError",
    "InvalidInputError",
    "Orchestrator",
    "ResumeError",
    "RunState",
    "RunStateError",
]
