"""A deployed Workflow compiled for the engine: rules with their criteria or formula
compiled once, actions looked up by name, and everything a save must fetch in bulk.

Compiling is also the deploy-time check of what needs the org: field paths, formulas
(ISCHANGED/PRIORVALUE only on onAllChanges rules), picklist operations, lookup values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workroute.kernel.errors import DeployProblem
from workroute.lang.formula.checker import SchemaEnvironment
from workroute.lang.formula.compiler import CompiledFormula, FormulaCache
from workroute.lang.formula.errors import FormulaError
from workroute.lang.formula.types import Kind, type_for_field
from workroute.metadata.workflow import (
    ActionEmailRecipientTypes,
    ActionTaskAssignedToTypes,
    FieldUpdateOperation,
    Lines,
    LookupValueType,
    Workflow,
    WorkflowActionReference,
    WorkflowActionType,
    WorkflowAlert,
    WorkflowFieldUpdate,
    WorkflowFlowAction,
    WorkflowKnowledgePublish,
    WorkflowOutboundMessage,
    WorkflowProblems,
    WorkflowRule,
    WorkflowTask,
    WorkflowTimeTrigger,
    WorkflowTimeUnits,
    WorkflowTriggerTypes,
)
from workroute.schema.model import FieldDef, FieldType, ObjectDef
from workroute.schema.registry import SchemaRegistry
from workroute.store.related import ParentPath, parse_path
from workroute.workflow.criteria import CompiledCriteria, CriteriaError, compile_criteria
from workroute.workflow.matcher import RuleIndex

Action = (
    WorkflowAlert
    | WorkflowFieldUpdate
    | WorkflowFlowAction
    | WorkflowKnowledgePublish
    | WorkflowOutboundMessage
    | WorkflowTask
)

#: Recipient types this org can resolve (it has users, roles, groups, contacts and
#: accounts, but no teams, portals or campaigns).
SUPPORTED_RECIPIENTS = frozenset(
    {
        ActionEmailRecipientTypes.OWNER,
        ActionEmailRecipientTypes.CREATOR,
        ActionEmailRecipientTypes.USER,
        ActionEmailRecipientTypes.USER_LOOKUP,
        ActionEmailRecipientTypes.EMAIL,
        ActionEmailRecipientTypes.CONTACT_LOOKUP,
        ActionEmailRecipientTypes.GROUP,
        ActionEmailRecipientTypes.ROLE,
        ActionEmailRecipientTypes.ROLE_SUBORDINATES,
        ActionEmailRecipientTypes.ROLE_SUBORDINATES_INTERNAL,
        ActionEmailRecipientTypes.ACCOUNT_OWNER,
    }
)
SUPPORTED_ASSIGNEES = frozenset(
    {
        ActionTaskAssignedToTypes.OWNER,
        ActionTaskAssignedToTypes.CREATOR,
        ActionTaskAssignedToTypes.USER,
        ActionTaskAssignedToTypes.ROLE,
        ActionTaskAssignedToTypes.ACCOUNT_OWNER,
        ActionTaskAssignedToTypes.ACCOUNT_CREATOR,
    }
)
MAX_ACTIVE_RULES_PER_OBJECT = 50


@dataclass(frozen=True, slots=True)
class TimeTrigger:
    index: int
    spec: WorkflowTimeTrigger
    #: The date/dateTime field the offset counts from; None = the rule trigger date.
    offset_field: str | None
    delta: timedelta

    def due(self, record: dict[str, object], trigger_time: datetime) -> datetime | None:
        """When the trigger fires for ``record``; None when its date field is blank."""
        if self.offset_field is None:
            return trigger_time + self.delta
        value = record.get(self.offset_field)
        if isinstance(value, datetime):
            base = value
        elif isinstance(value, date):
            base = datetime(value.year, value.month, value.day, tzinfo=trigger_time.tzinfo)
        else:
            return None
        return base + self.delta


@dataclass(frozen=True, slots=True)
class CompiledRule:
    name: str
    rule: WorkflowRule
    trigger: WorkflowTriggerTypes
    criteria: CompiledCriteria | None
    formula: CompiledFormula | None
    actions: tuple[tuple[WorkflowActionReference, Action], ...]
    time_triggers: tuple[TimeTrigger, ...]

    @property
    def active(self) -> bool:
        return self.rule.active


@dataclass(slots=True)
class CompiledWorkflow:
    obj: ObjectDef
    workflow: Workflow
    rules: tuple[CompiledRule, ...]
    field_updates: dict[str, CompiledFieldUpdate]
    #: Parent paths any rule, field update or template reads.
    parent_paths: tuple[ParentPath, ...]
    #: Formula fields of the object the rules read (computed before evaluating).
    formula_fields: tuple[FieldDef, ...]
    global_paths: frozenset[str]
    uses_user: bool
    active_rules: tuple[CompiledRule, ...] = dataclasses.field(init=False)
    #: The active rules indexed for a create, and for an edit (no onCreateOnly rules).
    on_create: RuleIndex = dataclasses.field(init=False)
    on_edit: RuleIndex = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.active_rules = tuple(r for r in self.rules if r.active)
        self.on_create = RuleIndex.build(self.obj, self.active_rules)
        self.on_edit = RuleIndex.build(
            self.obj,
            [r for r in self.active_rules if r.trigger is not WorkflowTriggerTypes.ON_CREATE_ONLY],
        )


@dataclass(frozen=True, slots=True)
class CompiledFieldUpdate:
    spec: WorkflowFieldUpdate
    #: The object whose field changes (the parent for a cross-object update).
    target: ObjectDef
    field: FieldDef
    #: The reference field on the rule's object pointing to the parent (targetObject).
    via: str | None
    formula: CompiledFormula | None = None


def compile_workflow(
    wf: Workflow,
    schema: SchemaRegistry,
    formulas: FormulaCache,
    *,
    extra_actions: Iterable[tuple[WorkflowActionType, str, Action]] = (),
) -> tuple[CompiledWorkflow | None, list[DeployProblem]]:
    """Compile ``wf`` against ``schema``; returns (compiled, problems)."""
    p = WorkflowProblems(wf)
    obj = schema.find(wf.full_name)
    if obj is None:
        p.add(f"Object '{wf.full_name}' does not exist", {}, "fullName", None)
        return None, p.out
    by_key: dict[tuple[WorkflowActionType, str], Action] = {}
    for t, name, action in extra_actions:
        by_key[(t, name.lower())] = action
    kinds: list[tuple[WorkflowActionType, tuple[Action, ...]]] = [
        (WorkflowActionType.ALERT, wf.alerts),
        (WorkflowActionType.FIELD_UPDATE, wf.field_updates),
        (WorkflowActionType.FLOW_ACTION, wf.flow_actions),
        (WorkflowActionType.KNOWLEDGE_PUBLISH, wf.knowledge_publishes),
        (WorkflowActionType.OUTBOUND_MESSAGE, wf.outbound_messages),
        (WorkflowActionType.TASK, wf.tasks),
    ]
    for t, defined in kinds:
        for a in defined:
            by_key[(t, a.full_name.lower())] = a
    env = SchemaEnvironment(schema, obj.name)
    paths: dict[str, ParentPath] = {}
    record_fields: set[str] = set()
    global_paths: set[str] = set()
    uses_user = False

    def note_formula(compiled: CompiledFormula) -> None:
        record_fields.update(compiled.fields | compiled.prior_fields)
        global_paths.update(compiled.global_paths)
        for key in compiled.related_paths:
            paths[key] = _formula_path(schema, obj, key)

    fus: dict[str, CompiledFieldUpdate] = {}
    for fu in wf.field_updates:
        cfu = _compile_field_update(fu, obj, schema, formulas, p)
        if cfu is not None:
            fus[fu.full_name.lower()] = cfu
            if cfu.formula is not None:
                note_formula(cfu.formula)
    for a in wf.alerts:
        for rc in a.recipients:
            if rc.type not in SUPPORTED_RECIPIENTS:
                p.add(
                    f"Recipient type '{rc.type.value}' is not supported in this org "
                    "(it has no teams, portals or campaigns)",
                    rc.lines,
                    "type",
                    a.full_name,
                )
    for task in wf.tasks:
        if task.assigned_to_type is not None and task.assigned_to_type not in SUPPORTED_ASSIGNEES:
            p.add(
                f"Task assignee type '{task.assigned_to_type.value}' is not supported in this org",
                task.lines,
                "assignedToType",
                task.full_name,
            )
        if task.offset_from_field:
            _date_field(
                obj, task.offset_from_field, p, task.lines, "offsetFromField", task.full_name
            )
    account_kinds = {ActionEmailRecipientTypes.ACCOUNT_OWNER.value, "accountCreator"}
    uses_account = any(rc.type.value in account_kinds for a in wf.alerts for rc in a.recipients)
    uses_account |= any(
        t.assigned_to_type is not None and t.assigned_to_type.value in account_kinds
        for t in wf.tasks
    )
    if uses_account and obj.relationship("Account") is not None:
        for name in ("Account.OwnerId", "Account.CreatedById"):
            paths[name] = parse_path(schema, obj, name)
    rules: list[CompiledRule] = []
    for rule in wf.rules:
        trigger = rule.trigger_type or WorkflowTriggerTypes.ON_CREATE_ONLY
        criteria: CompiledCriteria | None = None
        formula: CompiledFormula | None = None
        if rule.criteria_items:
            try:
                criteria = compile_criteria(schema, obj, rule.criteria_items, rule.boolean_filter)
            except CriteriaError as exc:
                p.add(str(exc), rule.lines, "criteriaItems", rule.full_name)
            else:
                for pp in criteria.parent_paths:
                    paths[pp.key] = pp
                record_fields.update(criteria.record_fields)
                uses_user = uses_user or criteria.uses_user
        elif rule.formula and rule.formula.strip():
            try:
                formula = formulas.get(rule.formula, env, result_kind=Kind.CHECKBOX)
            except FormulaError as exc:
                p.add(f"Formula: {exc.located}", rule.lines, "formula", rule.full_name)
            else:
                if formula.prior_fields and trigger is not WorkflowTriggerTypes.ON_ALL_CHANGES:
                    p.add(
                        "ISCHANGED and PRIORVALUE may be used only in rules whose triggerType "
                        f"is onAllChanges; this rule's is {trigger.value}",
                        rule.lines,
                        "formula",
                        rule.full_name,
                    )
                note_formula(formula)
        actions: list[tuple[WorkflowActionReference, Action]] = []
        for ref in rule.actions:
            found_action = by_key.get((ref.type, ref.name.lower()))
            if found_action is None:
                p.add(
                    f"Rule '{rule.full_name}' references {ref.type.value} '{ref.name}', "
                    "which is not defined",
                    ref.lines,
                    "name",
                    rule.full_name,
                )
            else:
                actions.append((ref, found_action))
        triggers = []
        for i, tt in enumerate(rule.workflow_time_triggers):
            for ref in tt.actions:
                if (ref.type, ref.name.lower()) not in by_key:
                    p.add(
                        f"Rule '{rule.full_name}' time trigger references {ref.type.value} "
                        f"'{ref.name}', which is not defined",
                        ref.lines,
                        "name",
                        rule.full_name,
                    )
            offset_field = None
            if tt.offset_from_field:
                offset_field = _date_field(
                    obj, tt.offset_from_field, p, tt.lines, "offsetFromField", rule.full_name
                )
                if offset_field:
                    record_fields.add(offset_field)
            length = tt.time_length or 0
            unit = tt.workflow_time_trigger_unit or WorkflowTimeUnits.HOURS
            delta = (
                timedelta(hours=length)
                if unit is WorkflowTimeUnits.HOURS
                else timedelta(days=length)
            )
            triggers.append(TimeTrigger(i, tt, offset_field, delta))
        rules.append(
            CompiledRule(
                name=rule.full_name,
                rule=rule,
                trigger=trigger,
                criteria=criteria,
                formula=formula,
                actions=tuple(actions),
                time_triggers=tuple(triggers),
            )
        )
    active = sum(1 for r in wf.rules if r.active)
    if active > MAX_ACTIVE_RULES_PER_OBJECT:
        p.add(
            f"An object may have at most {MAX_ACTIVE_RULES_PER_OBJECT} active workflow rules; "
            f"{obj.name} would have {active}",
            {},
            "rules",
            None,
        )
    formula_fields = _formula_fields(obj, record_fields, schema, formulas, paths, global_paths)
    compiled = CompiledWorkflow(
        obj=obj,
        workflow=wf,
        rules=tuple(rules),
        field_updates=fus,
        parent_paths=tuple(paths.values()),
        formula_fields=formula_fields,
        global_paths=frozenset(global_paths),
        uses_user=uses_user,
    )
    return compiled, p.out


def find_action(wf: Workflow, ref: WorkflowActionReference) -> Action | None:
    """The action of ``wf`` a rule or time trigger names (names ignore case)."""
    pools: dict[WorkflowActionType, tuple[Action, ...]] = {
        WorkflowActionType.ALERT: wf.alerts,
        WorkflowActionType.FIELD_UPDATE: wf.field_updates,
        WorkflowActionType.FLOW_ACTION: wf.flow_actions,
        WorkflowActionType.KNOWLEDGE_PUBLISH: wf.knowledge_publishes,
        WorkflowActionType.OUTBOUND_MESSAGE: wf.outbound_messages,
        WorkflowActionType.TASK: wf.tasks,
    }
    low = ref.name.lower()
    for a in pools.get(ref.type, ()):
        if a.full_name.lower() == low:
            return a
    return None


def _formula_path(schema: SchemaRegistry, obj: ObjectDef, key: str) -> ParentPath:
    pp = parse_path(schema, obj, key)
    return ParentPath(key=key, hops=pp.hops, field=pp.field)


def _formula_fields(
    obj: ObjectDef,
    names: set[str],
    schema: SchemaRegistry,
    formulas: FormulaCache,
    paths: dict[str, ParentPath],
    global_paths: set[str],
) -> tuple[FieldDef, ...]:
    """The formula fields among ``names`` and the formula fields they read, inner
    first, noting the parent paths and globals they need."""
    env = SchemaEnvironment(schema, obj.name)
    order: list[FieldDef] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        f = obj.field(name)
        if f is None or f.formula is None or f.key in seen:
            return
        seen.add(f.key)
        try:
            compiled = formula_field(formulas, env, f)
        except FormulaError:
            return  # the deploy of the field itself reports it
        for inner in compiled.fields:
            visit(inner)
        global_paths.update(compiled.global_paths)
        for key in compiled.related_paths:
            paths[key] = _formula_path(schema, obj, key)
        order.append(f)

    for name in sorted(names):
        visit(name)
    return tuple(order)


def formula_field(formulas: FormulaCache, env: SchemaEnvironment, f: FieldDef) -> CompiledFormula:
    return formulas.get(
        f.formula or "",
        env,
        blank_as_zero=f.formula_blank_as_zero,
        result_kind=type_for_field(f).kind,
    )


def _date_field(
    obj: ObjectDef, path: str, p: WorkflowProblems, lines: Lines, element: str, component: str
) -> str | None:
    parts = path.split(".")
    if len(parts) == 2 and parts[0].lower() == obj.name.lower():
        parts = parts[1:]
    elif len(parts) == 2 and parts[0].lower() == "user":
        # Salesforce's own sample counts a task's due date from User.CreatedDate; the
        # record's field of that name is used.
        parts = parts[1:]
    f = obj.field(parts[0]) if len(parts) == 1 else None
    if f is None:
        p.add(f"Field '{path}' does not exist on {obj.name}", lines, element, component)
        return None
    if f.type not in (FieldType.DATE, FieldType.DATETIME):
        p.add(f"Field '{path}' is not a date or dateTime field", lines, element, component)
        return None
    return f.name


def _compile_field_update(
    fu: WorkflowFieldUpdate,
    obj: ObjectDef,
    schema: SchemaRegistry,
    formulas: FormulaCache,
    p: WorkflowProblems,
) -> CompiledFieldUpdate | None:
    target = obj
    via = None
    if fu.target_object:
        ref = obj.field(fu.target_object)
        if ref is None or ref.type is not FieldType.REFERENCE or not ref.reference_to:
            p.add(
                f"targetObject '{fu.target_object}' is not a reference field of {obj.name}",
                fu.lines,
                "targetObject",
                fu.full_name,
            )
            return None
        parent = schema.find(ref.reference_to[0])
        if parent is None:
            return None
        target, via = parent, ref.name
    name = fu.field.split(".")[-1] if "." in fu.field else fu.field
    if "." in fu.field and fu.field.split(".")[0].lower() != target.name.lower():
        p.add(
            f"Field '{fu.field}' is not a field of {target.name}", fu.lines, "field", fu.full_name
        )
        return None
    f = target.field(name)
    if f is None:
        p.add(f"{target.name} has no field '{name}'", fu.lines, "field", fu.full_name)
        return None
    if f.calculated or f.auto_number or f.name in ("Id", "CreatedDate", "CreatedById"):
        p.add(f"Field {target.name}.{f.name} cannot be updated", fu.lines, "field", fu.full_name)
        return None
    op = fu.operation
    compiled: CompiledFormula | None = None
    if op in (FieldUpdateOperation.NEXT_VALUE, FieldUpdateOperation.PREVIOUS_VALUE):
        if f.type is not FieldType.PICKLIST:
            p.add(
                f"{op.value} is allowed only on picklist fields; {f.name} is {f.type.value}",
                fu.lines,
                "operation",
                fu.full_name,
            )
    elif (
        op is FieldUpdateOperation.LITERAL
        and fu.literal_value is None
        and f.type is not (FieldType.BOOLEAN)
    ):
        pass  # a blank literal sets the field to null, as Setup does
    elif op is FieldUpdateOperation.FORMULA:
        if not fu.formula:
            p.add("operation Formula needs a formula", fu.lines, "formula", fu.full_name)
            return None
        try:
            compiled = formulas.get(
                fu.formula,
                SchemaEnvironment(schema, obj.name),
                result_kind=type_for_field(f).kind,
            )
        except FormulaError as exc:
            p.add(f"Formula: {exc.located}", fu.lines, "formula", fu.full_name)
            return None
    elif op is FieldUpdateOperation.LOOKUP_VALUE:
        if not fu.lookup_value:
            p.add(
                "operation LookupValue needs a lookupValue", fu.lines, "lookupValue", fu.full_name
            )
            return None
        if fu.lookup_value_type is LookupValueType.RECORD_TYPE:
            p.add(
                "lookupValueType RecordType is not supported: this org has no record types",
                fu.lines,
                "lookupValueType",
                fu.full_name,
            )
        elif f.type is not FieldType.REFERENCE:
            p.add(
                f"LookupValue needs a lookup field; {f.name} is {f.type.value}",
                fu.lines,
                "field",
                fu.full_name,
            )
    return CompiledFieldUpdate(spec=fu, target=target, field=f, via=via, formula=compiled)
