"""The workflow engine: evaluates rules on every save, inside the save's transaction.

Order, as Salesforce's order of execution has it: after the record is written and the
after-save hooks ran, every active rule of the object is evaluated for the whole list
of records. Field updates of the rules that fired are applied first, in memory;
those with ``reevaluateOnChange`` that changed a value make the rules that have not
fired yet in this save be evaluated again (at most :data:`MAX_REEVALUATIONS` times
after the first round). The changed values are then saved once more, which runs the
before- and after-update hooks one more time (and only once: workflow does not
evaluate that nested save). Then the other actions run (tasks, emails and outbound
messages into the outbox, flows), and time triggers are queued, moved or removed.

Trigger types: ``onCreateOnly`` fires when a record is created and meets the
criteria; ``onCreateOrTriggeringUpdate`` also when an edit takes a record from not
meeting them to meeting them; ``onAllChanges`` on creation and on every edit after
which the record meets them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, select

from workroute.kernel.errors import DeployError, WorkrouteError
from workroute.lang.formula.checker import SchemaEnvironment
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.values import FormulaEvaluationError
from workroute.metadata.workflow import (
    FieldUpdateOperation,
    LookupValueType,
    WorkflowActionReference,
    WorkflowFieldUpdate,
    WorkflowFlowAction,
    WorkflowTriggerTypes,
    parse_workflow,
)
from workroute.schema.model import FieldType, ObjectDef
from workroute.store.hooks import Operation, Record, SaveContext
from workroute.store.related import parent_values, parse_path
from workroute.store.store import Store
from workroute.store.timers import Timer, Timers
from workroute.workflow.compiled import (
    Action,
    CompiledFieldUpdate,
    CompiledRule,
    CompiledWorkflow,
    compile_workflow,
    find_action,
    formula_field,
)
from workroute.workflow.criteria import ItemCheck, Subject
from workroute.workflow.recipients import WorkflowActionError

#: Re-evaluations after the first round of field updates (Salesforce's limit).
MAX_REEVALUATIONS = 5
_NONE_FIRED: frozenset[str] = frozenset()
_NO_PARENTS: Mapping[str, object] = MappingProxyType({})
_UNSET = object()
_CONSTANT_OPERATIONS = frozenset({FieldUpdateOperation.LITERAL, FieldUpdateOperation.NULL})
TIMER_KIND = "workflow"

FlowCallable = Callable[[dict[str, object]], None]
ActionSink = Callable[["ActionRun"], None]


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """Why a rule fired or not, for one record (``workflow explain``)."""

    rule: str
    active: bool
    trigger_type: str
    met: bool | None
    met_before: bool | None
    fired: bool
    reason: str
    round: int
    checks: tuple[ItemCheck, ...] = ()
    actions: tuple[str, ...] = ()
    time_triggers: tuple[str, ...] = ()


@dataclass(slots=True)
class ActionRun:
    """One non-field-update action to run for one record, after field updates."""

    engine: WorkflowEngine
    conn: Connection
    obj: ObjectDef
    action: Action
    record: Record
    parents: dict[str, object]
    user_id: str
    now: datetime
    rule: str


@dataclass(slots=True)
class Trace:
    """What workflow did during a traced block, by record id (``workflow explain``)."""

    outcomes: dict[str, list[RuleOutcome]] = field(default_factory=dict)
    #: Field updates staged on each record (field -> new value).
    field_updates: dict[str, dict[str, object]] = field(default_factory=dict)
    #: Cross-object field updates: (object, parent id) -> field -> new value.
    parent_updates: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)


class WorkflowEngine:
    """Compiled workflows by object, evaluated by an after-save hook."""

    def __init__(self, store: Store, timers: Timers) -> None:
        self.store = store
        self.timers = timers
        self._by_object: dict[str, CompiledWorkflow] = {}
        self._local = threading.local()
        self.flows: dict[str, FlowCallable] = {}
        #: Runs alerts, tasks, outbound messages... by action class (set by the org).
        self.action_runners: dict[type, ActionSink] = {}
        store.hooks.after_save_last(self._after_save, wants=lambda obj: obj.key in self._by_object)
        timers.handle(TIMER_KIND, self._run_timer)

    # -- definitions ---------------------------------------------------------------

    def workflows(self) -> list[CompiledWorkflow]:
        return list(self._by_object.values())

    def workflow_for(self, object_name: str) -> CompiledWorkflow | None:
        return self._by_object.get(object_name.lower())

    def install(self, compiled: Sequence[CompiledWorkflow]) -> None:
        by = dict(self._by_object)
        for cw in compiled:
            by[cw.obj.key] = cw
        self._by_object = by

    def load(self, conn: Connection, metadata_table: Any) -> list[str]:
        """(Re)compile every deployed Workflow; returns problems (logged, not fatal:
        a schema change after the deploy can break a rule, which then stays out)."""
        rows = conn.execute(
            select(metadata_table.c.path, metadata_table.c.content).where(
                metadata_table.c.type == "Workflow"
            )
        )
        compiled: dict[str, CompiledWorkflow] = {}
        problems: list[str] = []
        for path, content in rows:
            try:
                wf = parse_workflow(bytes(content), str(path))
            except DeployError as exc:
                problems.extend(p.describe() for p in exc.problems)
                continue
            cw, found = compile_workflow(wf, self.store.schema, self.store.formulas)
            problems.extend(p.describe() for p in found)
            if cw is not None and not found:
                compiled[cw.obj.key] = cw
        self._by_object = compiled
        return problems

    def register_flow(self, name: str, fn: FlowCallable) -> None:
        """A Python callable that stands for a flow of that API name (FlowAction)."""
        self.flows[name.lower()] = fn

    # -- explain -------------------------------------------------------------------

    @contextmanager
    def tracing(self) -> Iterator[Trace]:
        """Record every rule's outcome per record id while the block runs."""
        trace = Trace()
        previous = getattr(self._local, "trace", None)
        self._local.trace = trace
        try:
            yield trace
        finally:
            self._local.trace = previous

    # -- the hook ------------------------------------------------------------------

    def _after_save(self, ctx: SaveContext) -> None:
        cw = self._by_object.get(ctx.obj.key)
        if ctx.operation is Operation.DELETE:
            if cw is not None:
                ids = [str(r["Id"]) for r in ctx.new]
                self.timers.cancel_for_records(ctx.conn, TIMER_KIND, ids)
            return
        if cw is None or ctx.operation is Operation.UNDELETE:
            return
        skip: set[str] | None = getattr(self._local, "skip", None)
        indexes = (
            [i for i, r in enumerate(ctx.new) if str(r["Id"]) not in skip]
            if skip
            else list(range(len(ctx.new)))
        )
        if not indexes or not (cw.active_rules or cw.field_updates):
            return
        _Run(self, cw, ctx, indexes).execute()

    @contextmanager
    def _skipping(self, ids: Sequence[str]) -> Iterator[None]:
        previous: set[str] = getattr(self._local, "skip", set())
        self._local.skip = previous | set(ids)
        try:
            yield
        finally:
            self._local.skip = previous

    # -- time triggers -------------------------------------------------------------

    def _run_timer(self, timer: Timer) -> None:
        """Run the actions of a time trigger that came due (inside its transaction)."""
        p = timer.payload
        cw = self._by_object.get(str(p["object"]).lower())
        if cw is None:
            return  # the workflow was removed: nothing to run
        rule = next((r for r in cw.rules if r.name == p["rule"]), None)
        if rule is None or not rule.active or p["trigger"] >= len(rule.time_triggers):
            return
        trigger = rule.time_triggers[p["trigger"]]
        rows = self.store.get_many(cw.obj.name, [str(timer.record_id)])
        if not rows:
            return
        refs = [
            (ref, a)
            for ref in trigger.spec.actions
            if (a := find_action(cw.workflow, ref)) is not None
        ]
        user_id = timer.created_by_id or str(rows[0].get("LastModifiedById"))
        self.run_actions(cw, rows, refs, user_id=user_id, rule=rule.name)

    def run_actions(
        self,
        cw: CompiledWorkflow,
        records: list[Record],
        refs: Sequence[tuple[WorkflowActionReference, Action]],
        *,
        user_id: str,
        rule: str,
    ) -> None:
        """Run actions for records outside a save (time triggers): field updates are a
        normal update (so rules are evaluated again, as Salesforce does), then the rest."""
        now = self.store.clock.now()
        updates = [a for _, a in refs if isinstance(a, WorkflowFieldUpdate)]
        notices: list[tuple[str, WorkflowFieldUpdate]] = []
        with self.store.db.write() as conn:
            if updates:
                parents = _parents(self.store, cw, records)
                changes: list[dict[str, object]] = []
                parent_changes: dict[str, dict[str, dict[str, object]]] = {}
                for rec, par in zip(records, parents, strict=True):
                    change: dict[str, object] = {}
                    for fu in updates:
                        cfu = cw.field_updates.get(fu.full_name.lower())
                        if cfu is None:
                            continue
                        value = field_update_value(self, cfu, rec, None, par, user_id, now)
                        if _stage(cfu, rec, change, parent_changes, value) and _notifies_owner(cfu):
                            notices.append((str(rec["Id"]), fu))
                    if change:
                        changes.append({"Id": rec["Id"], **change})
                if changes:
                    self.store.update(cw.obj.name, changes, user_id=user_id)
                _save_parents(self.store, parent_changes, user_id)
                records = self.store.get_many(cw.obj.name, [str(r["Id"]) for r in records])
            parents = _parents(self.store, cw, records)
            for rec, par in zip(records, parents, strict=True):
                actions: list[Action] = [
                    fu for rid, fu in notices if rid == str(rec["Id"])
                ]  # owner notices first, as after a save
                actions += [a for _, a in refs if not isinstance(a, WorkflowFieldUpdate)]
                for action in actions:
                    self._dispatch(
                        ActionRun(self, conn, cw.obj, action, rec, par, user_id, now, rule)
                    )

    def _dispatch(self, run: ActionRun) -> None:
        runner = self.action_runners.get(type(run.action))
        if runner is not None:
            runner(run)
        elif isinstance(run.action, WorkflowFlowAction):
            self._run_flow(run)
        else:
            raise WorkflowActionError(f"no runner for {type(run.action).__name__} actions")

    def _run_flow(self, run: ActionRun) -> None:
        action = run.action
        assert isinstance(action, WorkflowFlowAction)
        fn = self.flows.get(action.flow.lower())
        if fn is None:
            raise WorkflowActionError(
                f"Flow '{action.flow}' of flow action {action.full_name} is not available"
            )
        inputs: dict[str, object] = {}
        for param in action.flow_inputs:
            inputs[param.name] = _flow_value(param.value, run)
        fn(inputs)


def _flow_value(text: str, run: ActionRun) -> object:
    """``{!this}`` (the record), ``{!Id}``, ``{!Account.Owner.Email}``,
    ``{!$Organization.Country}`` or a literal."""
    t = text.strip()
    if not (t.startswith("{!") and t.endswith("}")):
        return text
    path = t[2:-1].strip()
    if path.lower() == "this":
        return dict(run.record)
    if path.startswith("$"):
        return run.engine.store.formula_globals([path], run.user_id).get(path)
    f = run.obj.field(path)
    if f is not None:
        return run.record.get(f.name)
    for key, value in run.parents.items():
        if key.lower() == path.lower():
            return value
    try:
        pp = parse_path(run.engine.store.schema, run.obj, path)
    except WorkrouteError:
        raise WorkflowActionError(f"flow input {text} names no field") from None
    return parent_values(run.engine.store, [run.record], [pp])[0][pp.key]


def _formula_met(rule: CompiledRule, ctx: EvalContext) -> bool:
    """Whether a formula rule's formula is true (false for a rule without one)."""
    if rule.formula is None:
        return False
    try:
        return bool(rule.formula.fn(ctx))
    except FormulaEvaluationError:
        return False  # Salesforce: a formula error means the rule is not met


def _parents(
    store: Store, cw: CompiledWorkflow, records: Sequence[Mapping[str, object]]
) -> list[dict[str, object]]:
    if not cw.parent_paths:
        return [{} for _ in records]
    return parent_values(store, records, cw.parent_paths)


# -- one save ----------------------------------------------------------------------


class _Run:
    """Workflow for one bulk save of one object."""

    def __init__(
        self, engine: WorkflowEngine, cw: CompiledWorkflow, ctx: SaveContext, indexes: list[int]
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.cw = cw
        self.ctx = ctx
        self.created = ctx.operation is Operation.INSERT
        self.now = ctx.now
        self.today = ctx.now.date()
        # The saved records, copied before a field update changes one (most are not).
        self.records: list[Record] = [ctx.new[i] for i in indexes]
        self.copied: set[int] = set()
        self.olds: list[Record | None] = [ctx.old[i] for i in indexes]
        #: What the save changed in each record (the store works it out for updates).
        self.saved_changes: list[frozenset[str]] | None = (
            [ctx.changed[i] for i in indexes] if len(ctx.changed) == len(ctx.new) else None
        )
        self.ids = [str(r["Id"]) for r in self.records]
        # Per record (by position) that has any: the rules that fired, the staged
        # field updates, and the other actions to run.
        self.fired: dict[int, set[str]] = {}
        self.changes: dict[int, dict[str, object]] = {}
        self.parent_changes: dict[str, dict[str, dict[str, object]]] = {}
        self.to_run: dict[int, list[tuple[str, Action]]] = {}
        self.trace: Trace | None = getattr(engine._local, "trace", None)
        self.globals = (
            self.store.formula_globals(cw.global_paths, ctx.user_id) if cw.global_paths else {}
        )
        self.user: Mapping[str, object] = {}
        if cw.uses_user:
            users = self.store.get_many("User", [ctx.user_id])
            self.user = users[0] if users else {}
        self.outcomes: dict[int, list[RuleOutcome]] = {}
        #: Values of field updates that write the same value to every record.
        self.constants: dict[str, object] = {}
        self.reference_fields = frozenset(p.hops[0].name for p in cw.parent_paths if p.hops)

    def execute(self) -> None:
        index = self.cw.on_create if self.created else self.cw.on_edit
        if self.trace is not None:
            # explain reports every active rule, onCreateOnly ones on edits too.
            index = self.cw.on_create
        self.index = index
        #: The stored versions as criteria read them, where triggering-update rules
        #: need them: (records, parents).
        self.old_inputs = (
            self._inputs([o or {} for o in self.olds])
            if not self.created
            and any(
                r.trigger is WorkflowTriggerTypes.ON_CREATE_OR_TRIGGERING_UPDATE
                for r in index.rules
            )
            else None
        )
        self.old_subjects = (
            None if self.old_inputs is None or self.trace is None else self._subjects(self.olds)
        )
        self.before: dict[tuple[int, str], tuple[bool, tuple[ItemCheck, ...]]] = {}
        flagged = self._round(0, range(len(self.records)))
        rounds = 0
        while flagged and rounds < MAX_REEVALUATIONS:
            rounds += 1
            flagged = self._round(rounds, sorted(flagged))
        self._save_field_updates()
        self._run_other_actions()
        self._time_triggers(self.cw.active_rules)
        if self.trace is not None:
            for i, rid in enumerate(self.ids):
                self.trace.outcomes.setdefault(rid, []).extend(self.outcomes.get(i, ()))
                if change := self.changes.get(i):
                    self.trace.field_updates.setdefault(rid, {}).update(change)
            for obj_name, by_id in self.parent_changes.items():
                for pid, values in by_id.items():
                    self.trace.parent_updates.setdefault((obj_name, pid), {}).update(values)

    # -- evaluation ----------------------------------------------------------------

    def _subjects(self, records: Sequence[Mapping[str, object] | None]) -> list[Subject]:
        """What criteria read. Without formula fields a subject shares its record: a
        round evaluates every rule of a record before its field updates change it."""
        rows, parents = self._inputs([r or {} for r in records])
        return [
            Subject(record=r, parents=p, user=self.user, today=self.today)
            for r, p in zip(rows, parents, strict=True)
        ]

    def _inputs(
        self, records: Sequence[Mapping[str, object]]
    ) -> tuple[Sequence[Mapping[str, object]], Sequence[Mapping[str, object]]]:
        """The records with their formula fields computed, and their parents' values
        (fetched in bulk): what :meth:`_subjects` are made of."""
        rows: Sequence[Mapping[str, object]] = records
        parents: Sequence[Mapping[str, object]] = [_NO_PARENTS] * len(rows)
        if self.cw.parent_paths:
            parents = _parents(self.store, self.cw, rows)
        if self.cw.formula_fields:
            rows = [self._with_formulas(dict(r), par) for r, par in zip(rows, parents, strict=True)]
        return rows, parents

    def _with_formulas(
        self, row: dict[str, object], parents: Mapping[str, object]
    ) -> dict[str, object]:
        if not row:
            return row
        env = SchemaEnvironment(self.store.schema, self.cw.obj.name)
        for f in self.cw.formula_fields:
            compiled = formula_field(self.store.formulas, env, f)
            try:
                row[f.name] = compiled.fn(
                    EvalContext(row, now=self.now, related=parents, globals=self.globals)
                )
            except FormulaEvaluationError:
                row[f.name] = None
        return row

    def _round(self, round_: int, indexes: Sequence[int]) -> set[int]:
        """Evaluate the rules not fired yet for the records at ``indexes``, then fire
        those that should, applying their field updates in memory; return the records
        whose re-evaluating field updates changed a value.

        Every rule of a record is evaluated before any of its rules fires, so rules of
        one round all see the record as the round began."""
        if self.trace is None:
            return self._fire(indexes, self.saved_changes if round_ == 0 else None)
        subjects = self._subjects([self.records[i] for i in indexes])
        index = self.index
        flagged: set[int] = set()
        for i, s in zip(indexes, subjects, strict=True):
            fired = self.fired.setdefault(i, set())
            for rule, met, checks, before in self._traced(i, s, index.rules, fired):
                fire, reason = self._decide(rule, met, before)
                if fire:
                    fired.add(rule.name)
                    if self._apply_rule(i, rule, s):
                        flagged.add(i)
                if round_ == 0 or met:  # re-evaluations report met rules
                    self._report(i, rule, met, before, fire, reason, round_, checks)
        return flagged

    def _fire(
        self, indexes: Sequence[int], saved_changes: Sequence[frozenset[str]] | None
    ) -> set[int]:
        """:meth:`_round` for a plain save: the index's candidates only, with the
        triggering-update shortcut, and prior values evaluated only where they decide.
        ``saved_changes`` are the fields the save changed, while the records are as
        saved."""
        index = self.index
        edit = not self.created
        flagged: set[int] = set()
        # One subject and one formula context, pointed at each record in turn: making
        # them per record costs about as much as evaluating the rules; the same for
        # the stored versions.
        rows, parents = self._inputs([self.records[i] for i in indexes])
        s = Subject(record=_NO_PARENTS, parents=_NO_PARENTS, user=self.user, today=self.today)
        ctx = EvalContext(now=self.now, globals=self.globals)
        was = Subject(record=_NO_PARENTS, parents=_NO_PARENTS, user=self.user, today=self.today)
        before = EvalContext(now=self.now, globals=self.globals)
        olds = self.old_inputs
        for i, record, par in zip(indexes, rows, parents, strict=True):
            s.record = record
            s.parents = par
            old = self.olds[i]
            fired = self.fired.get(i, _NONE_FIRED)
            changed: frozenset[str] | None = None
            if old is not None:
                changed = saved_changes[i] if saved_changes else index.changed(record, old)
            ctx.record, ctx.prior, ctx.related = record, old, par
            before_set = False
            met: list[CompiledRule] = []
            for c in index.candidates(record):
                if c.name in fired:
                    continue
                triggering = c.triggering and edit
                if triggering and c.reads is not None and changed is not None:
                    if c.reads.isdisjoint(changed):
                        continue  # met before and after alike: cannot trigger
                formula = c.formula
                if formula is None:
                    if c.test is not None and not c.test(s):
                        continue
                else:
                    try:
                        if not formula(ctx):
                            continue
                    except FormulaEvaluationError:
                        continue  # Salesforce: a formula error means the rule is not met
                rule = c.rule
                if triggering:  # fires only if the stored version did not meet it
                    if not before_set:
                        assert olds is not None
                        was.record = before.record = olds[0][i]
                        was.parents = before.related = olds[1][i]
                        before_set = True
                    if rule.criteria is not None:
                        if rule.criteria.met(was):
                            continue
                    elif _formula_met(rule, before):
                        continue
                met.append(rule)
            if met:
                names = {r.name for r in met}
                if (known := self.fired.get(i)) is None:
                    self.fired[i] = names
                else:
                    known |= names
            for rule in met:
                if rule.actions and self._apply_rule(i, rule, s):
                    flagged.add(i)
        return flagged

    def _traced(
        self, i: int, s: Subject, candidates: Sequence[CompiledRule], fired: set[str]
    ) -> list[tuple[CompiledRule, bool, tuple[ItemCheck, ...], bool | None]]:
        """The explain path: every rule evaluated in full, with each item's value."""
        out: list[tuple[CompiledRule, bool, tuple[ItemCheck, ...], bool | None]] = []
        ctx: list[EvalContext] = []
        for rule in candidates:
            if rule.name in fired:
                continue
            met, checks = self._meets(rule, s, self.olds[i], ctx)
            before: bool | None = None
            if (
                rule.trigger is WorkflowTriggerTypes.ON_CREATE_OR_TRIGGERING_UPDATE
                and not self.created
            ):
                before = self._met_before(i, rule)
            out.append((rule, met, checks, before))
        return out

    def _met_before(self, i: int, rule: CompiledRule) -> bool:
        key = (i, rule.name)
        found = self.before.get(key)
        if found is None:
            assert self.old_subjects is not None
            found = self.before[key] = self._meets(rule, self.old_subjects[i], None, [])
        return found[0]

    def _meets(
        self, rule: CompiledRule, s: Subject, prior: Record | None, ctx: list[EvalContext]
    ) -> tuple[bool, tuple[ItemCheck, ...]]:
        if rule.criteria is not None:
            if self.trace is None:
                return rule.criteria.met(s), ()
            met, checks = rule.criteria.evaluate(s)
            return met, tuple(checks)
        if rule.formula is not None:
            if not ctx:
                ctx.append(
                    EvalContext(
                        s.record, now=self.now, prior=prior, related=s.parents, globals=self.globals
                    )
                )
            try:
                return bool(rule.formula.fn(ctx[0])), ()
            except FormulaEvaluationError:
                return False, ()  # Salesforce: a formula error means the rule is not met
        return False, ()

    def _report(
        self,
        i: int,
        rule: CompiledRule,
        met: bool,
        before: bool | None,
        fire: bool,
        reason: str,
        round_: int,
        checks: tuple[ItemCheck, ...],
    ) -> None:
        self.outcomes.setdefault(i, []).append(
            RuleOutcome(
                rule=rule.name,
                active=True,
                trigger_type=rule.trigger.value,
                met=met,
                met_before=before,
                fired=fire,
                reason=reason,
                round=round_,
                checks=checks,
                actions=tuple(f"{r.type.value}:{r.name}" for r, _ in rule.actions) if fire else (),
                time_triggers=tuple(
                    f"{t.delta} after {t.offset_field or 'rule trigger date'}"
                    for t in rule.time_triggers
                )
                if fire
                else (),
            )
        )

    def _decide(self, rule: CompiledRule, met: bool, before: bool | None) -> tuple[bool, str]:
        if not met:
            return False, "criteria not met"
        t = rule.trigger
        if self.created:
            return True, "created and criteria met"
        if t is WorkflowTriggerTypes.ON_CREATE_ONLY:
            return False, "onCreateOnly: not evaluated on edits"
        if t is WorkflowTriggerTypes.ON_ALL_CHANGES:
            return True, "edited and criteria met"
        if before:
            return False, "criteria were already met before this edit"
        return True, "edit took the record from not meeting the criteria to meeting them"

    def _apply_rule(self, i: int, rule: CompiledRule, s: Subject) -> bool:
        """Apply the rule's field updates in memory; queue its other actions."""
        reevaluate = False
        parents = s.parents
        for _ref, action in rule.actions:
            if isinstance(action, WorkflowFieldUpdate):
                cfu = self.cw.field_updates.get(action.full_name.lower())
                if cfu is None:
                    continue
                if i not in self.copied:  # the first change: the saved record stays as it is
                    self.records[i] = dict(self.records[i])
                    self.copied.add(i)
                rec = self.records[i]
                change = self.changes.setdefault(i, {})
                if self.cw.parent_paths and not self.reference_fields.isdisjoint(change):
                    # an earlier field update moved a lookup: read the new parent
                    parents = _parents(self.store, self.cw, [rec])[0]
                key = cfu.spec.full_name
                value = self.constants.get(key, _UNSET)
                if value is _UNSET:
                    value = field_update_value(
                        self.engine, cfu, rec, self.olds[i], parents, self.ctx.user_id, self.now
                    )
                    if cfu.spec.operation in _CONSTANT_OPERATIONS:
                        self.constants[key] = value
                changed = _stage(cfu, rec, change, self.parent_changes, value)
                if changed and action.reevaluate_on_change and cfu.via is None:
                    reevaluate = True
                if changed and _notifies_owner(cfu):
                    self.to_run.setdefault(i, []).append((rule.name, action))  # tell the owner
            else:
                self.to_run.setdefault(i, []).append((rule.name, action))
        return reevaluate

    # -- effects -------------------------------------------------------------------

    def _save_field_updates(self) -> None:
        changes = [
            {"Id": self.ids[i], **change} for i, change in sorted(self.changes.items()) if change
        ]
        if changes:
            ids = [str(c["Id"]) for c in changes]
            with self.engine._skipping(ids):
                self.store.resave(self.ctx, changes)
            # Other actions and time triggers read the records as saved (hooks of the
            # second save may have changed more); without them nothing reads them again.
            if self.to_run or any(r.time_triggers for r in self.cw.active_rules):
                fresh = {str(r["Id"]): r for r in self.store.get_many(self.cw.obj.name, ids)}
                self.records = [
                    fresh.get(rid, rec) for rid, rec in zip(self.ids, self.records, strict=True)
                ]
        _save_parents(self.store, self.parent_changes, self.ctx.user_id)

    def _run_other_actions(self) -> None:
        if not self.to_run:
            return
        parents = _parents(self.store, self.cw, self.records)
        for i, actions in sorted(self.to_run.items()):
            for rule, action in actions:
                self.engine._dispatch(
                    ActionRun(
                        self.engine,
                        self.ctx.conn,
                        self.cw.obj,
                        action,
                        self.records[i],
                        parents[i],
                        self.ctx.user_id,
                        self.now,
                        rule,
                    )
                )

    def _time_triggers(self, rules: Sequence[CompiledRule]) -> None:
        timed = [r for r in rules if r.time_triggers]
        if not timed:
            return
        timers = self.engine.timers
        conn = self.ctx.conn
        pending: dict[str, list[Timer]] = {}
        if not self.created:
            for t in timers.for_records(conn, TIMER_KIND, self.ids):
                pending.setdefault(str(t.record_id), []).append(t)
        subjects = self._subjects(self.records) if pending else None
        for i, rid in enumerate(self.ids):
            rec = self.records[i]
            mine = pending.get(rid, [])
            for rule in timed:
                queued = [t for t in mine if t.payload.get("rule") == rule.name]
                if rule.name in self.fired.get(i, _NONE_FIRED):
                    for trig in rule.time_triggers:
                        self._schedule(rid, rule, trig.index, trig.due(rec, self.now))
                elif queued:
                    assert subjects is not None
                    still, _ = self._meets(rule, subjects[i], self.olds[i], [])
                    if not still:
                        timers.cancel_keys(conn, [t.key for t in queued])
                    else:  # a date the trigger counts from may have moved
                        for t in queued:
                            trig = rule.time_triggers[int(t.payload["trigger"])]
                            if trig.offset_field is None:
                                continue
                            due = trig.due(rec, _trigger_time(t))
                            if due is None:
                                timers.cancel_keys(conn, [t.key])
                            elif due != t.due_at:
                                self._schedule(rid, rule, trig.index, due, t)

    def _schedule(
        self,
        rid: str,
        rule: CompiledRule,
        index: int,
        due: datetime | None,
        existing: Timer | None = None,
    ) -> None:
        key = f"wf:{rid}:{self.cw.obj.name}:{rule.name}:{index}"
        if due is None:
            self.engine.timers.cancel_keys(self.ctx.conn, [key])
            return
        self.engine.timers.schedule(
            self.ctx.conn,
            kind=TIMER_KIND,
            key=key,
            due_at=due,
            payload={
                "object": self.cw.obj.name,
                "rule": rule.name,
                "trigger": index,
                "triggeredAt": (
                    existing.payload.get("triggeredAt") if existing else self.now.isoformat()
                ),
            },
            now=self.now,
            object_name=self.cw.obj.name,
            record_id=rid,
            created_by_id=self.ctx.user_id,
        )


def _trigger_time(t: Timer) -> datetime:
    return datetime.fromisoformat(str(t.payload.get("triggeredAt") or t.created_at.isoformat()))


def _notifies_owner(cfu: CompiledFieldUpdate) -> bool:
    """A field update that changes the owner and asks to tell the new one."""
    return cfu.spec.notify_assignee and cfu.via is None and cfu.field.name == "OwnerId"


def _stage(
    cfu: CompiledFieldUpdate,
    rec: Record,
    change: dict[str, object],
    parent_changes: dict[str, dict[str, dict[str, object]]],
    value: object,
) -> bool:
    """Put a field update's value in place; True when it changed the value."""
    if cfu.via is not None:
        parent_id = rec.get(cfu.via)
        if parent_id:
            per = parent_changes.setdefault(cfu.target.name, {})
            per.setdefault(str(parent_id), {})[cfu.field.name] = value
        return False
    name = cfu.field.name
    changed = rec.get(name) != value
    rec[name] = value
    change[name] = value
    return changed


def _save_parents(
    store: Store, parent_changes: dict[str, dict[str, dict[str, object]]], user_id: str
) -> None:
    """Cross-object field updates: one update per parent object (their own rules run)."""
    for obj_name, by_id in parent_changes.items():
        rows = [{"Id": pid, **values} for pid, values in by_id.items()]
        live = {str(r["Id"]) for r in store.get_many(obj_name, [str(r["Id"]) for r in rows])}
        rows = [r for r in rows if str(r["Id"]) in live]
        if rows:
            store.update(obj_name, rows, user_id=user_id)
    parent_changes.clear()


# -- field update values ------------------------------------------------------------


def field_update_value(
    engine: WorkflowEngine,
    cfu: CompiledFieldUpdate,
    rec: Record,
    prior: Record | None,
    parents: Mapping[str, object],
    user_id: str,
    now: datetime,
) -> object:
    """The value a field update writes (coerced and validated like any save)."""
    fu = cfu.spec
    f = cfu.field
    op = fu.operation
    store = engine.store
    coerce = store.plan(cfu.target).fields[f.key].coerce
    if op is FieldUpdateOperation.NULL:
        return None
    if op is FieldUpdateOperation.LITERAL:
        raw = fu.literal_value
        if raw is None or raw == "":
            return False if f.type is FieldType.BOOLEAN else None
        return coerce(_literal(f.type, raw))
    if op is FieldUpdateOperation.FORMULA:
        assert cfu.formula is not None
        globals_ = store.formula_globals(cfu.formula.global_paths, user_id)
        try:
            value = cfu.formula.fn(
                EvalContext(rec, now=now, prior=prior, related=parents, globals=globals_)
            )
        except FormulaEvaluationError as exc:
            raise WorkflowActionError(
                f"Field update {fu.full_name}: the formula failed: {exc}"
            ) from None
        return None if value is None else coerce(value)
    if op is FieldUpdateOperation.LOOKUP_VALUE:
        return _lookup(store, fu)
    # NextValue / PreviousValue: picklist order; the ends stay where they are.
    values = f.picklist_values()
    current = rec.get(f.name) if cfu.via is None else parents.get(f"{cfu.via}.{f.name}")
    if not values:
        return current
    low = [v.lower() for v in values]
    if current is None or str(current).lower() not in low:
        return values[0] if op is FieldUpdateOperation.NEXT_VALUE else values[-1]
    idx = low.index(str(current).lower())
    step = 1 if op is FieldUpdateOperation.NEXT_VALUE else -1
    return values[min(max(idx + step, 0), len(values) - 1)]


def _literal(t: FieldType, raw: str) -> object:
    if t is FieldType.BOOLEAN:
        return raw.strip().lower() in ("1", "true", "yes")
    if t.is_number:
        return Decimal(raw.strip().replace(",", ""))
    if t is FieldType.DATE:
        return date.fromisoformat(raw.strip())
    return raw


def _lookup(store: Store, fu: WorkflowFieldUpdate) -> str:
    name = fu.lookup_value or ""
    if fu.lookup_value_type in (None, LookupValueType.USER):
        rows = store.find("User", Username=name.strip().lower())
        if rows:
            return str(rows[0]["Id"])
        raise WorkflowActionError(f"Field update {fu.full_name}: no user '{name}'")
    for field_name in ("DeveloperName", "Name"):
        rows = [r for r in store.find("Group", **{field_name: name}) if r.get("Type") == "Queue"]
        if rows:
            return str(rows[0]["Id"])
    raise WorkflowActionError(f"Field update {fu.full_name}: no queue '{name}'")


__all__ = [
    "ActionRun",
    "RuleOutcome",
    "WorkflowEngine",
    "field_update_value",
]
