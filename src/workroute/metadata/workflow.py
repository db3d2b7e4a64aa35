"""Workflow metadata (``workflows/Case.workflow``): parse, validate, write back.

One Workflow file holds every workflow rule and action of one object. The model keeps
every element the Metadata API documents for the type (also the ones the engine does
not run: flow triggers, Knowledge publishing, outbound messages), in document order
per kind, so :func:`workflow_to_xml` writes back what was deployed.

Validation comes in three layers:

* :func:`parse_workflow` — well-formedness, unknown/duplicated elements, values of the
  wrong type, enum values, required elements, then :func:`validate_workflow`;
* :func:`validate_workflow` — the file's own rules (names, limits, criteria, filters,
  time triggers); every problem is located (file, line, element);
* deploy-time checks that need more than one file: :func:`check_action_references`
  (rule actions may name actions defined in other files) and
  :func:`validate_against_schema` (field paths need the org's schema).

Model objects remember the lines they came from (``lines``, excluded from equality).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from workroute.kernel.errors import DeployProblem
from workroute.metadata.xmlio import (
    Element,
    ProblemLog,
    Reader,
    add_element,
    add_value,
    child,
    element_text,
    iter_elements,
    line_of,
    local_name,
    new_root,
    parse_bool,
    parse_int,
    parse_xml,
    qname,
    to_bytes,
)
from workroute.schema.model import ObjectDef
from workroute.schema.registry import SchemaRegistry

# -- vocabulary (exact Metadata API strings) ----------------------------------------


class WorkflowActionType(StrEnum):
    ALERT = "Alert"
    FIELD_UPDATE = "FieldUpdate"
    FLOW_ACTION = "FlowAction"
    #: Not in the documented list, but real files reference Knowledge publish actions.
    KNOWLEDGE_PUBLISH = "KnowledgePublish"
    OUTBOUND_MESSAGE = "OutboundMessage"
    TASK = "Task"


class ActionEmailSenderType(StrEnum):
    CURRENT_USER = "CurrentUser"
    DEFAULT_WORKFLOW_USER = "DefaultWorkflowUser"
    ORG_WIDE_EMAIL_ADDRESS = "OrgWideEmailAddress"


class ActionEmailRecipientTypes(StrEnum):
    ACCOUNT_OWNER = "accountOwner"
    ACCOUNT_TEAM = "accountTeam"
    CAMPAIGN_MEMBER_DERIVED_OWNER = "campaignMemberDerivedOwner"
    #: Not in the documented list; real files send to case teams.
    CASE_TEAM = "caseTeam"
    CONTACT_LOOKUP = "contactLookup"
    CREATOR = "creator"
    CUSTOMER_PORTAL_OWNER = "customerPortalOwner"
    EMAIL = "email"
    GROUP = "group"
    OPPORTUNITY_TEAM = "opportunityTeam"
    OWNER = "owner"
    PARTNER_USER = "partnerUser"
    PORTAL_ROLE = "portalRole"
    PORTAL_ROLE_SUBORDINATES = "portalRoleSubordinates"
    ROLE = "role"
    ROLE_SUBORDINATES = "roleSubordinates"
    ROLE_SUBORDINATES_INTERNAL = "roleSubordinatesInternal"
    USER = "user"
    USER_LOOKUP = "userLookup"


class LookupValueType(StrEnum):
    QUEUE = "Queue"
    RECORD_TYPE = "RecordType"
    USER = "User"


class FieldUpdateOperation(StrEnum):
    FORMULA = "Formula"
    LITERAL = "Literal"
    LOOKUP_VALUE = "LookupValue"
    NEXT_VALUE = "NextValue"
    NULL = "Null"
    PREVIOUS_VALUE = "PreviousValue"


class KnowledgeWorkflowAction(StrEnum):
    PUBLISH_AS_NEW = "PublishAsNew"
    PUBLISH = "Publish"


class WorkflowTriggerTypes(StrEnum):
    ON_ALL_CHANGES = "onAllChanges"
    ON_CREATE_ONLY = "onCreateOnly"
    ON_CREATE_OR_TRIGGERING_UPDATE = "onCreateOrTriggeringUpdate"


class ActionTaskAssignedToTypes(StrEnum):
    ACCOUNT_CREATOR = "accountCreator"
    ACCOUNT_OWNER = "accountOwner"
    ACCOUNT_TEAM = "accountTeam"
    CREATOR = "creator"
    OPPORTUNITY_TEAM = "opportunityTeam"
    OWNER = "owner"
    PARTNER_USER = "partnerUser"
    PORTAL_ROLE = "portalRole"
    ROLE = "role"
    USER = "user"


class WorkflowTimeUnits(StrEnum):
    HOURS = "Hours"
    DAYS = "Days"


class FilterOperation(StrEnum):
    """FilterItem operations (the type is shared with list views and reports)."""

    EQUALS = "equals"
    NOT_EQUAL = "notEqual"
    LESS_THAN = "lessThan"
    GREATER_THAN = "greaterThan"
    LESS_OR_EQUAL = "lessOrEqual"
    GREATER_OR_EQUAL = "greaterOrEqual"
    CONTAINS = "contains"
    NOT_CONTAIN = "notContain"
    STARTS_WITH = "startsWith"
    INCLUDES = "includes"
    EXCLUDES = "excludes"
    WITHIN = "within"


MAX_CC_EMAILS = 5
MAX_TIME_TRIGGERS = 10
MAX_IMMEDIATE_ACTIONS = 40
MAX_TIME_LENGTH = 999
#: A developer name, optionally with a managed-package namespace (``ns__Name``).
ACTION_NAME_RE = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__)?[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$"
)
_API_VERSION_RE = re.compile(r"^\d+(?:\.\d+)?$")

Lines = Mapping[str, int]
_NO_LINES: Lines = MappingProxyType({})


def _lines() -> Lines:
    return _NO_LINES


# -- the model ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowActionReference:
    name: str
    type: WorkflowActionType
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class FilterItem:
    field: str
    operation: FilterOperation
    value: str | None = None
    value_field: str | None = None
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowEmailRecipient:
    type: ActionEmailRecipientTypes
    field: str | None = None
    recipient: str | None = None
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowAlert:
    full_name: str
    description: str
    protected: bool
    template: str
    cc_emails: tuple[str, ...] = ()
    recipients: tuple[WorkflowEmailRecipient, ...] = ()
    sender_address: str | None = None
    sender_type: ActionEmailSenderType | None = None
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowFieldUpdate:
    full_name: str
    field: str
    name: str
    notify_assignee: bool
    operation: FieldUpdateOperation
    protected: bool
    description: str | None = None
    formula: str | None = None
    literal_value: str | None = None
    lookup_value: str | None = None
    lookup_value_type: LookupValueType | None = None
    reevaluate_on_change: bool | None = None
    target_object: str | None = None
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowFlowActionParameter:
    name: str
    value: str
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowFlowAction:
    full_name: str
    flow: str
    label: str
    description: str | None = None
    flow_inputs: tuple[WorkflowFlowActionParameter, ...] = ()
    language: str | None = None
    protected: bool | None = None
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowKnowledgePublish:
    full_name: str
    action: KnowledgeWorkflowAction
    label: str
    protected: bool
    description: str | None = None
    language: str | None = None
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowOutboundMessage:
    full_name: str
    api_version: str
    endpoint_url: str
    include_session_id: bool
    integration_user: str
    name: str
    protected: bool
    description: str | None = None
    fields: tuple[str, ...] = ()
    use_dead_letter_queue: bool | None = None
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowTask:
    full_name: str
    due_date_offset: int
    notify_assignee: bool
    priority: str
    protected: bool
    status: str
    subject: str
    assigned_to: str | None = None
    assigned_to_type: ActionTaskAssignedToTypes | None = None
    description: str | None = None
    offset_from_field: str | None = None
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowTimeTrigger:
    actions: tuple[WorkflowActionReference, ...] = ()
    offset_from_field: str | None = None
    #: Negative = before the date; the Metadata API types it as a string.
    time_length: int | None = None
    workflow_time_trigger_unit: WorkflowTimeUnits | None = None
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowRule:
    full_name: str
    active: bool
    actions: tuple[WorkflowActionReference, ...] = ()
    boolean_filter: str | None = None
    criteria_items: tuple[FilterItem, ...] = ()
    description: str | None = None
    failed_migration_tool_version: str | None = None
    formula: str | None = None
    trigger_type: WorkflowTriggerTypes | None = None
    workflow_time_triggers: tuple[WorkflowTimeTrigger, ...] = ()
    lines: Lines = dc_field(default_factory=_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Workflow:
    """The workflow of one object; ``full_name`` is the object's API name."""

    full_name: str
    alerts: tuple[WorkflowAlert, ...] = ()
    field_updates: tuple[WorkflowFieldUpdate, ...] = ()
    flow_actions: tuple[WorkflowFlowAction, ...] = ()
    knowledge_publishes: tuple[WorkflowKnowledgePublish, ...] = ()
    outbound_messages: tuple[WorkflowOutboundMessage, ...] = ()
    rules: tuple[WorkflowRule, ...] = ()
    tasks: tuple[WorkflowTask, ...] = ()
    file: str = dc_field(default="", compare=False, repr=False)

    def actions_by_type(self) -> dict[WorkflowActionType, tuple[str, ...]]:
        """The full names of the actions this file defines, by action type."""
        return {
            WorkflowActionType.ALERT: tuple(a.full_name for a in self.alerts),
            WorkflowActionType.FIELD_UPDATE: tuple(a.full_name for a in self.field_updates),
            WorkflowActionType.FLOW_ACTION: tuple(a.full_name for a in self.flow_actions),
            WorkflowActionType.KNOWLEDGE_PUBLISH: tuple(
                a.full_name for a in self.knowledge_publishes
            ),
            WorkflowActionType.OUTBOUND_MESSAGE: tuple(a.full_name for a in self.outbound_messages),
            WorkflowActionType.TASK: tuple(a.full_name for a in self.tasks),
        }


def defined_actions(wf: Workflow) -> frozenset[tuple[WorkflowActionType, str]]:
    """``(type, fullName)`` of every action ``wf`` defines (to pass to
    :func:`check_action_references` for other files of the same deployment)."""
    return frozenset((t, n) for t, names in wf.actions_by_type().items() for n in names)


# -- parsing ------------------------------------------------------------------------

E = TypeVar("E", bound=StrEnum)


def workflow_object_name(path: str) -> str:
    """``workflows/Case.workflow`` or ``.../Case.workflow-meta.xml`` -> ``Case``."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".workflow-meta.xml", ".workflow"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


class _El:
    """One element being read: checks its children and reads them by name."""

    def __init__(
        self,
        r: Reader,
        el: Element,
        known: Iterable[str],
        *,
        repeated: Iterable[str] = (),
        free_text: Iterable[str] = (),
    ) -> None:
        self.r = r
        self.el = el
        self.free = frozenset(free_text)
        reps = frozenset(repeated)
        allowed = frozenset(known) | reps
        lines: dict[str, int] = {}
        own = line_of(el)
        if own is not None:
            lines[""] = own
        for c in iter_elements(el):
            name = local_name(c)
            if name not in allowed:
                r.problem(f"<{name}> is not a valid element of <{local_name(el)}>", c)
            elif name in lines and name not in reps:
                r.problem(f"<{name}> may appear only once in <{local_name(el)}>", c)
            line = line_of(c)
            if line is not None:
                lines.setdefault(name, line)
        self.lines: Lines = MappingProxyType(lines)

    def missing(self, name: str) -> None:
        self.r.problem(f"<{local_name(self.el)}> requires <{name}>", self.el, element=name)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.r.text(self.el, name, strip=name not in self.free)
        if value is None or (required and not value.strip()):
            if required:
                self.missing(name)
            return None
        return value

    def req(self, name: str) -> str:
        return self.text(name, required=True) or ""

    def texts(self, name: str) -> tuple[str, ...]:
        return tuple(element_text(c) for c in self.el.findall(child_tag(name)))

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        c = child(self.el, name)
        text = element_text(c) if c is not None else ""
        if not text:
            if required:
                self.missing(name)
            return None
        value = parse_bool(text)
        if value is None:
            self.r.problem(f"'{text}' is not a valid value for <{name}>; use true or false", c)
        return value

    def req_bool(self, name: str) -> bool:
        return bool(self.boolean(name, required=True))

    def integer(self, name: str, *, required: bool = False) -> int | None:
        c = child(self.el, name)
        text = element_text(c) if c is not None else ""
        if not text:
            if required:
                self.missing(name)
            return None
        value = parse_int(text)
        if value is None:
            self.r.problem(f"'{text}' is not a valid integer for <{name}>", c)
        return value

    def enum(self, name: str, kind: type[E], *, required: bool = False) -> E | None:
        c = child(self.el, name)
        text = element_text(c) if c is not None else ""
        if not text:
            if required:
                self.missing(name)
            return None
        try:
            return kind(text)
        except ValueError:
            valid = ", ".join(m.value for m in kind)
            self.r.problem(f"'{text}' is not a valid value for <{name}>; valid: {valid}", c)
            return None

    def each(self, name: str) -> list[Element]:
        return list(self.el.findall(child_tag(name)))


def child_tag(name: str) -> str:
    return qname(name)


_TOP = {
    "alerts": "alerts",
    "fieldUpdates": "field_updates",
    "flowActions": "flow_actions",
    "knowledgePublishes": "knowledge_publishes",
    "outboundMessages": "outbound_messages",
    "rules": "rules",
    "tasks": "tasks",
}


def parse_workflow(
    content: bytes, file: str, *, object_name: str | None = None, validate: bool = True
) -> Workflow:
    """Parse one Workflow file; raises :class:`DeployError` with every problem found.

    ``object_name`` defaults to the file's name. With ``validate`` (the default) the
    file's own rules (:func:`validate_workflow`) are checked too.
    """
    name = object_name or workflow_object_name(file)
    log = ProblemLog()
    root = parse_xml(content, file, root="Workflow", component=name)
    r = Reader(file, log, name)
    top = _El(r, root, ("fullName",), repeated=_TOP)
    parts: dict[str, list[object]] = {k: [] for k in _TOP.values()}
    for c in iter_elements(root):
        kind = local_name(c)
        if kind not in _TOP:
            continue
        fn = child(c, "fullName")
        full = element_text(fn) if fn is not None else ""
        cr = r.for_component(f"{name}.{full}" if full else name)
        parts[_TOP[kind]].append(_PARSERS[kind](cr, c))
    full_name = top.text("fullName") or name
    wf = Workflow(
        full_name=full_name,
        alerts=tuple(p for p in parts["alerts"] if isinstance(p, WorkflowAlert)),
        field_updates=tuple(
            p for p in parts["field_updates"] if isinstance(p, WorkflowFieldUpdate)
        ),
        flow_actions=tuple(p for p in parts["flow_actions"] if isinstance(p, WorkflowFlowAction)),
        knowledge_publishes=tuple(
            p for p in parts["knowledge_publishes"] if isinstance(p, WorkflowKnowledgePublish)
        ),
        outbound_messages=tuple(
            p for p in parts["outbound_messages"] if isinstance(p, WorkflowOutboundMessage)
        ),
        rules=tuple(p for p in parts["rules"] if isinstance(p, WorkflowRule)),
        tasks=tuple(p for p in parts["tasks"] if isinstance(p, WorkflowTask)),
        file=file,
    )
    if validate and not log:
        log.extend(validate_workflow(wf))
    log.raise_if_any()
    return wf


def _ref(r: Reader, el: Element) -> WorkflowActionReference:
    e = _El(r, el, ("name", "type"))
    return WorkflowActionReference(
        name=e.req("name"),
        type=e.enum("type", WorkflowActionType, required=True) or WorkflowActionType.ALERT,
        lines=e.lines,
    )


def _alert(r: Reader, el: Element) -> WorkflowAlert:
    e = _El(
        r,
        el,
        ("fullName", "description", "protected", "senderAddress", "senderType", "template"),
        repeated=("ccEmails", "recipients"),
        free_text=("description",),
    )
    recipients = []
    for rc in e.each("recipients"):
        x = _El(r, rc, ("field", "recipient", "type"))
        recipients.append(
            WorkflowEmailRecipient(
                type=x.enum("type", ActionEmailRecipientTypes, required=True)
                or ActionEmailRecipientTypes.OWNER,
                field=x.text("field"),
                recipient=x.text("recipient"),
                lines=x.lines,
            )
        )
    return WorkflowAlert(
        full_name=e.req("fullName"),
        cc_emails=e.texts("ccEmails"),
        description=e.req("description"),
        protected=e.req_bool("protected"),
        recipients=tuple(recipients),
        sender_address=e.text("senderAddress"),
        sender_type=e.enum("senderType", ActionEmailSenderType),
        template=e.req("template"),
        lines=e.lines,
    )


def _field_update(r: Reader, el: Element) -> WorkflowFieldUpdate:
    e = _El(
        r,
        el,
        (
            "fullName",
            "description",
            "field",
            "formula",
            "literalValue",
            "lookupValue",
            "lookupValueType",
            "name",
            "notifyAssignee",
            "operation",
            "protected",
            "reevaluateOnChange",
            "targetObject",
        ),
        free_text=("description", "formula", "literalValue"),
    )
    return WorkflowFieldUpdate(
        full_name=e.req("fullName"),
        description=e.text("description"),
        field=e.req("field"),
        formula=e.text("formula"),
        literal_value=e.text("literalValue"),
        lookup_value=e.text("lookupValue"),
        lookup_value_type=e.enum("lookupValueType", LookupValueType),
        name=e.req("name"),
        notify_assignee=e.req_bool("notifyAssignee"),
        operation=e.enum("operation", FieldUpdateOperation, required=True)
        or FieldUpdateOperation.NULL,
        protected=e.req_bool("protected"),
        reevaluate_on_change=e.boolean("reevaluateOnChange"),
        target_object=e.text("targetObject"),
        lines=e.lines,
    )


def _flow_action(r: Reader, el: Element) -> WorkflowFlowAction:
    e = _El(
        r,
        el,
        ("fullName", "description", "flow", "label", "language", "protected"),
        repeated=("flowInputs",),
        free_text=("description",),
    )
    inputs = []
    for fi in e.each("flowInputs"):
        x = _El(r, fi, ("name", "value"), free_text=("value",))
        inputs.append(
            WorkflowFlowActionParameter(name=x.req("name"), value=x.req("value"), lines=x.lines)
        )
    return WorkflowFlowAction(
        full_name=e.req("fullName"),
        description=e.text("description"),
        flow=e.req("flow"),
        flow_inputs=tuple(inputs),
        label=e.req("label"),
        language=e.text("language"),
        protected=e.boolean("protected"),
        lines=e.lines,
    )


def _knowledge_publish(r: Reader, el: Element) -> WorkflowKnowledgePublish:
    e = _El(
        r,
        el,
        ("fullName", "action", "description", "label", "language", "protected"),
        free_text=("description",),
    )
    return WorkflowKnowledgePublish(
        full_name=e.req("fullName"),
        action=e.enum("action", KnowledgeWorkflowAction, required=True)
        or KnowledgeWorkflowAction.PUBLISH,
        description=e.text("description"),
        label=e.req("label"),
        language=e.text("language"),
        protected=e.req_bool("protected"),
        lines=e.lines,
    )


def _outbound_message(r: Reader, el: Element) -> WorkflowOutboundMessage:
    e = _El(
        r,
        el,
        (
            "fullName",
            "apiVersion",
            "description",
            "endpointUrl",
            "includeSessionId",
            "integrationUser",
            "name",
            "protected",
            "useDeadLetterQueue",
        ),
        repeated=("fields",),
        free_text=("description",),
    )
    return WorkflowOutboundMessage(
        full_name=e.req("fullName"),
        api_version=e.req("apiVersion"),
        description=e.text("description"),
        endpoint_url=e.req("endpointUrl"),
        fields=e.texts("fields"),
        include_session_id=e.req_bool("includeSessionId"),
        integration_user=e.req("integrationUser"),
        name=e.req("name"),
        protected=e.req_bool("protected"),
        use_dead_letter_queue=e.boolean("useDeadLetterQueue"),
        lines=e.lines,
    )


def _task(r: Reader, el: Element) -> WorkflowTask:
    e = _El(
        r,
        el,
        (
            "fullName",
            "assignedTo",
            "assignedToType",
            "description",
            "dueDateOffset",
            "notifyAssignee",
            "offsetFromField",
            "priority",
            "protected",
            "status",
            "subject",
        ),
        free_text=("description", "subject"),
    )
    return WorkflowTask(
        full_name=e.req("fullName"),
        assigned_to=e.text("assignedTo"),
        assigned_to_type=e.enum("assignedToType", ActionTaskAssignedToTypes),
        description=e.text("description"),
        due_date_offset=e.integer("dueDateOffset", required=True) or 0,
        notify_assignee=e.req_bool("notifyAssignee"),
        offset_from_field=e.text("offsetFromField"),
        priority=e.req("priority"),
        protected=e.req_bool("protected"),
        status=e.req("status"),
        subject=e.req("subject"),
        lines=e.lines,
    )


def _rule(r: Reader, el: Element) -> WorkflowRule:
    e = _El(
        r,
        el,
        (
            "fullName",
            "active",
            "booleanFilter",
            "description",
            "failedMigrationToolVersion",
            "formula",
            "triggerType",
        ),
        repeated=("actions", "criteriaItems", "workflowTimeTriggers"),
        free_text=("description", "formula"),
    )
    items = []
    for ci in e.each("criteriaItems"):
        x = _El(r, ci, ("field", "operation", "value", "valueField"), free_text=("value",))
        items.append(
            FilterItem(
                field=x.req("field"),
                operation=x.enum("operation", FilterOperation, required=True)
                or FilterOperation.EQUALS,
                value=x.text("value"),
                value_field=x.text("valueField"),
                lines=x.lines,
            )
        )
    triggers = []
    for tt in e.each("workflowTimeTriggers"):
        x = _El(
            r,
            tt,
            ("offsetFromField", "timeLength", "workflowTimeTriggerUnit"),
            repeated=("actions",),
        )
        triggers.append(
            WorkflowTimeTrigger(
                actions=tuple(_ref(r, a) for a in x.each("actions")),
                offset_from_field=x.text("offsetFromField"),
                time_length=x.integer("timeLength"),
                workflow_time_trigger_unit=x.enum("workflowTimeTriggerUnit", WorkflowTimeUnits),
                lines=x.lines,
            )
        )
    return WorkflowRule(
        full_name=e.req("fullName"),
        actions=tuple(_ref(r, a) for a in e.each("actions")),
        active=e.req_bool("active"),
        boolean_filter=e.text("booleanFilter"),
        criteria_items=tuple(items),
        description=e.text("description"),
        failed_migration_tool_version=e.text("failedMigrationToolVersion"),
        formula=e.text("formula"),
        trigger_type=e.enum("triggerType", WorkflowTriggerTypes),
        workflow_time_triggers=tuple(triggers),
        lines=e.lines,
    )


_PARSERS = {
    "alerts": _alert,
    "fieldUpdates": _field_update,
    "flowActions": _flow_action,
    "knowledgePublishes": _knowledge_publish,
    "outboundMessages": _outbound_message,
    "rules": _rule,
    "tasks": _task,
}


# -- validation (one file) ----------------------------------------------------------


class WorkflowProblems:
    """Located problems of one Workflow file (line from the element's ``lines``)."""

    def __init__(self, wf: Workflow) -> None:
        self.wf = wf
        self.out: list[DeployProblem] = []

    def add(self, message: str, lines: Lines, element: str, component: str | None = None) -> None:
        line = lines.get(element) or lines.get("")
        self.out.append(
            DeployProblem(
                file=self.wf.file,
                line=line,
                element=element,
                message=message,
                component=f"{self.wf.full_name}.{component}" if component else self.wf.full_name,
            )
        )


def _name_problem(name: str) -> str | None:
    if not ACTION_NAME_RE.match(name):
        return (
            f"'{name}' is not a valid name: use letters, digits and single underscores, "
            "start with a letter and do not end with an underscore"
        )
    return None


def validate_workflow(wf: Workflow) -> list[DeployProblem]:
    """The rules the Metadata API states for one Workflow file, as located problems.

    Not checked here: references to actions (see :func:`check_action_references`)
    and field paths (see :func:`validate_against_schema`).
    """
    p = WorkflowProblems(wf)
    kinds: list[tuple[str, Iterable[tuple[str, Lines]]]] = [
        ("alerts", ((a.full_name, a.lines) for a in wf.alerts)),
        ("fieldUpdates", ((a.full_name, a.lines) for a in wf.field_updates)),
        ("flowActions", ((a.full_name, a.lines) for a in wf.flow_actions)),
        ("knowledgePublishes", ((a.full_name, a.lines) for a in wf.knowledge_publishes)),
        ("outboundMessages", ((a.full_name, a.lines) for a in wf.outbound_messages)),
        ("tasks", ((a.full_name, a.lines) for a in wf.tasks)),
    ]
    for kind, items in kinds:
        seen: set[str] = set()
        for name, lines in items:
            bad = _name_problem(name)
            if bad:
                p.add(bad, lines, "fullName", name)
            if name.lower() in seen:
                p.add(f"Duplicate {kind} fullName '{name}'", lines, "fullName", name)
            seen.add(name.lower())
    for a in wf.alerts:
        if len(a.cc_emails) > MAX_CC_EMAILS:
            p.add(
                f"An email alert may have at most {MAX_CC_EMAILS} ccEmails; "
                f"it has {len(a.cc_emails)}",
                a.lines,
                "ccEmails",
                a.full_name,
            )
        if a.sender_address and a.sender_type is not ActionEmailSenderType.ORG_WIDE_EMAIL_ADDRESS:
            p.add(
                "senderAddress may be set only when senderType is OrgWideEmailAddress",
                a.lines,
                "senderAddress",
                a.full_name,
            )
    for o in wf.outbound_messages:
        if not _API_VERSION_RE.match(o.api_version):
            p.add(f"'{o.api_version}' is not an API version", o.lines, "apiVersion", o.full_name)
        else:
            v = float(o.api_version)
            if not (v == 8.0 or v >= 18.0):
                p.add(
                    f"apiVersion {o.api_version} is not valid for outbound messages; "
                    "use 8.0 or 18.0 and later",
                    o.lines,
                    "apiVersion",
                    o.full_name,
                )
    seen_rules: set[str] = set()
    for rule in wf.rules:
        _validate_rule(rule, p)
        if rule.full_name.lower() in seen_rules:
            p.add(f"Duplicate rule fullName '{rule.full_name}'", rule.lines, "fullName")
        seen_rules.add(rule.full_name.lower())
    return p.out


def _validate_rule(rule: WorkflowRule, p: WorkflowProblems) -> None:
    name = rule.full_name
    has_formula = rule.formula is not None and bool(rule.formula.strip())
    if rule.criteria_items and has_formula:
        p.add("A rule sets either criteriaItems or formula, not both", rule.lines, "formula", name)
    elif not rule.criteria_items and not has_formula:
        p.add("A rule must set criteriaItems or formula", rule.lines, "criteriaItems", name)
    if rule.boolean_filter is not None and rule.boolean_filter.strip():
        if not rule.criteria_items:
            p.add("booleanFilter needs criteriaItems", rule.lines, "booleanFilter", name)
        else:
            for message in boolean_filter_problems(rule.boolean_filter, len(rule.criteria_items)):
                p.add(message, rule.lines, "booleanFilter", name)
    triggers = rule.workflow_time_triggers
    if triggers and rule.trigger_type is WorkflowTriggerTypes.ON_ALL_CHANGES:
        p.add(
            "Time triggers are not allowed on a rule whose triggerType is onAllChanges",
            rule.lines,
            "workflowTimeTriggers",
            name,
        )
    if len(triggers) > MAX_TIME_TRIGGERS:
        p.add(
            f"A rule may have at most {MAX_TIME_TRIGGERS} time triggers; it has {len(triggers)}",
            rule.lines,
            "workflowTimeTriggers",
            name,
        )
    if len(rule.actions) > MAX_IMMEDIATE_ACTIONS:
        p.add(
            f"A rule may have at most {MAX_IMMEDIATE_ACTIONS} immediate actions; "
            f"it has {len(rule.actions)}",
            rule.lines,
            "actions",
            name,
        )
    for tt in triggers:
        if tt.time_length is not None and abs(tt.time_length) > MAX_TIME_LENGTH:
            p.add(
                f"timeLength {tt.time_length} is out of range; use -{MAX_TIME_LENGTH} "
                f"to {MAX_TIME_LENGTH} (negative = before the date)",
                tt.lines,
                "timeLength",
                name,
            )


# -- booleanFilter: a tiny recursive-descent parser ---------------------------------

_TOKEN_RE = re.compile(r"\s*(?:(\d+)|(\()|(\))|([A-Za-z]+)|(\S))")


class BooleanFilterError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # NUM, LP, RP, AND, OR, NOT, END
    text: str
    pos: int


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:  # only trailing whitespace is left
            break
        start = m.start(m.lastindex or 0)
        if m.group(1):
            out.append(_Tok("NUM", m.group(1), start))
        elif m.group(2):
            out.append(_Tok("LP", "(", start))
        elif m.group(3):
            out.append(_Tok("RP", ")", start))
        elif m.group(4):
            word = m.group(4).upper()
            if word not in ("AND", "OR", "NOT"):
                raise BooleanFilterError(f"unexpected '{m.group(4)}' at position {start + 1}")
            out.append(_Tok(word, m.group(4), start))
        else:
            raise BooleanFilterError(f"unexpected '{m.group(5)}' at position {start + 1}")
        pos = m.end()
    out.append(_Tok("END", "", len(text)))
    return out


@dataclass(frozen=True, slots=True)
class FilterRef:
    """Condition ``n`` (1-based) of a booleanFilter."""

    n: int


@dataclass(frozen=True, slots=True)
class FilterNot:
    operand: FilterExpr


@dataclass(frozen=True, slots=True)
class FilterAnd:
    operands: tuple[FilterExpr, ...]


@dataclass(frozen=True, slots=True)
class FilterOr:
    operands: tuple[FilterExpr, ...]


FilterExpr = FilterRef | FilterNot | FilterAnd | FilterOr


def filter_refs(expr: FilterExpr) -> tuple[int, ...]:
    """The condition numbers ``expr`` references, in order."""
    if isinstance(expr, FilterRef):
        return (expr.n,)
    if isinstance(expr, FilterNot):
        return filter_refs(expr.operand)
    return tuple(n for op in expr.operands for n in filter_refs(op))


def parse_boolean_filter_expr(text: str) -> FilterExpr:
    """Parse ``(1 AND 2) OR NOT 3`` (AND, OR, NOT in any case, parentheses) into a
    tree. Raises :class:`BooleanFilterError`.

    Grammar: ``or := and (OR and)*``, ``and := term (AND term)*``,
    ``term := NOT term | NUM | ( or )``. Salesforce asks for parentheses when AND and
    OR are mixed, but its own sample (``1 AND 2 OR 3``) and real files do without, so
    mixing is accepted with the usual precedence: AND binds tighter than OR.
    """
    toks = _tokens(text)
    i = 0

    def peek() -> _Tok:
        return toks[i]

    def take() -> _Tok:
        nonlocal i
        t = toks[i]
        i += 1
        return t

    def expected(what: str) -> BooleanFilterError:
        t = peek()
        found = f"'{t.text}'" if t.kind != "END" else "the end"
        return BooleanFilterError(f"expected {what} at position {t.pos + 1}, found {found}")

    def term() -> FilterExpr:
        t = peek()
        if t.kind == "NOT":
            take()
            return FilterNot(term())
        if t.kind == "NUM":
            take()
            return FilterRef(int(t.text))
        if t.kind == "LP":
            take()
            inner = or_expr()
            if peek().kind != "RP":
                raise expected("')'")
            take()
            return inner
        raise expected("a condition number, NOT or '('")

    def and_expr() -> FilterExpr:
        operands = [term()]
        while peek().kind == "AND":
            take()
            operands.append(term())
        return operands[0] if len(operands) == 1 else FilterAnd(tuple(operands))

    def or_expr() -> FilterExpr:
        operands = [and_expr()]
        while peek().kind == "OR":
            take()
            operands.append(and_expr())
        return operands[0] if len(operands) == 1 else FilterOr(tuple(operands))

    tree = or_expr()
    if peek().kind != "END":
        raise expected("AND, OR or the end")
    return tree


def parse_boolean_filter(text: str) -> tuple[int, ...]:
    """The condition numbers a booleanFilter references, in order (see
    :func:`parse_boolean_filter_expr`)."""
    return filter_refs(parse_boolean_filter_expr(text))


def boolean_filter_problems(text: str, conditions: int) -> list[str]:
    """Problems of a booleanFilter over ``conditions`` criteria items."""
    try:
        refs = parse_boolean_filter(text)
    except BooleanFilterError as exc:
        return [f"booleanFilter '{text}' is not valid: {exc}"]
    out = [
        f"booleanFilter '{text}' references condition {n}; the rule has {conditions}"
        for n in sorted(set(refs))
        if not 1 <= n <= conditions
    ]
    unused = sorted(set(range(1, conditions + 1)) - set(refs))
    if unused:
        listed = ", ".join(str(n) for n in unused)
        out.append(f"booleanFilter '{text}' does not use condition(s) {listed}")
    return out


# -- deploy-time checks -------------------------------------------------------------


def check_action_references(
    wf: Workflow, known: Collection[tuple[WorkflowActionType, str]] = frozenset()
) -> list[DeployProblem]:
    """Rule actions (immediate and time-triggered) that name no action of their type,
    neither in ``wf`` nor in ``known`` (actions of the deployment's other Workflow
    files and of the org; see :func:`defined_actions`). Names compare ignoring case."""
    have = {(t, n.lower()) for t, n in defined_actions(wf)} | {(t, n.lower()) for t, n in known}
    p = WorkflowProblems(wf)
    for rule in wf.rules:
        refs = list(rule.actions)
        for tt in rule.workflow_time_triggers:
            refs.extend(tt.actions)
        for ref in refs:
            if (ref.type, ref.name.lower()) not in have:
                p.add(
                    f"Rule '{rule.full_name}' references {ref.type.value} '{ref.name}', "
                    "which is not defined",
                    ref.lines,
                    "name",
                    rule.full_name,
                )
    return p.out


def _resolve(path: str, obj: ObjectDef, schema: SchemaRegistry) -> str | None:
    """None when ``path`` names a field of ``obj``; else why not."""
    parts = path.split(".")
    if len(parts) > 1 and parts[0].lower() == obj.name.lower():
        parts = parts[1:]
    elif len(parts) > 1 and obj.relationship(parts[0]) is None and schema.find(parts[0]):
        # Criteria may test the running user (``User.ProfileId``) or another object
        # the engine knows by name.
        found = schema.find(parts[0])
        assert found is not None
        obj, parts = found, parts[1:]
    current = obj
    for rel in parts[:-1]:
        ref = current.relationship(rel)
        if ref is None or not ref.reference_to:
            return f"{current.name} has no relationship '{rel}'"
        target = schema.find(ref.reference_to[0])
        if target is None:
            return f"{current.name}.{rel} points to unknown object {ref.reference_to[0]}"
        current = target
    if current.field(parts[-1]) is None:
        return f"{current.name} has no field '{parts[-1]}'"
    return None


def validate_against_schema(wf: Workflow, schema: SchemaRegistry) -> list[DeployProblem]:
    """Field paths that need the org's schema: criteria fields, field updates, time
    trigger and task offset fields, outbound message fields, email recipient fields.

    A path is ``Field``, ``Object.Field`` (the workflow's object, or e.g. ``User``)
    or goes through relationships (``Object.Account.Name``). Field updates with a
    ``targetObject`` (cross-object updates) are not checked.
    """
    p = WorkflowProblems(wf)
    obj = schema.find(wf.full_name)
    if obj is None:
        p.add(f"Object '{wf.full_name}' does not exist", {}, "fullName")
        return p.out

    def check(path: str | None, lines: Lines, element: str, component: str) -> None:
        if not path:
            return
        why = _resolve(path, obj, schema)
        if why:
            p.add(f"Field '{path}' does not exist: {why}", lines, element, component)

    for rule in wf.rules:
        for ci in rule.criteria_items:
            check(ci.field, ci.lines, "field", rule.full_name)
            check(ci.value_field, ci.lines, "valueField", rule.full_name)
        for tt in rule.workflow_time_triggers:
            check(tt.offset_from_field, tt.lines, "offsetFromField", rule.full_name)
    for fu in wf.field_updates:
        if fu.target_object is None:
            check(fu.field, fu.lines, "field", fu.full_name)
    for t in wf.tasks:
        check(t.offset_from_field, t.lines, "offsetFromField", t.full_name)
    for o in wf.outbound_messages:
        for f in o.fields:
            check(f, o.lines, "fields", o.full_name)
    for a in wf.alerts:
        for rc in a.recipients:
            check(rc.field, rc.lines, "field", a.full_name)
    return p.out


# -- writing ------------------------------------------------------------------------


def _write_refs(parent: Element, refs: Iterable[WorkflowActionReference]) -> None:
    for ref in refs:
        el = add_element(parent, "actions")
        add_value(el, "name", ref.name)
        add_value(el, "type", ref.type.value)


def _w(parent: Element, name: str, value: str | bool | int | None) -> None:
    add_value(parent, name, value.value if isinstance(value, StrEnum) else value)


def workflow_to_xml(wf: Workflow) -> bytes:
    """The Metadata API XML of ``wf``, elements in the order Salesforce writes them."""
    root = new_root("Workflow")
    for a in wf.alerts:
        el = add_element(root, "alerts")
        _w(el, "fullName", a.full_name)
        for cc in a.cc_emails:
            _w(el, "ccEmails", cc)
        _w(el, "description", a.description)
        _w(el, "protected", a.protected)
        for rc in a.recipients:
            x = add_element(el, "recipients")
            _w(x, "field", rc.field)
            _w(x, "recipient", rc.recipient)
            _w(x, "type", rc.type)
        _w(el, "senderAddress", a.sender_address)
        _w(el, "senderType", a.sender_type)
        _w(el, "template", a.template)
    for f in wf.field_updates:
        el = add_element(root, "fieldUpdates")
        _w(el, "fullName", f.full_name)
        _w(el, "description", f.description)
        _w(el, "field", f.field)
        _w(el, "formula", f.formula)
        _w(el, "literalValue", f.literal_value)
        _w(el, "lookupValue", f.lookup_value)
        _w(el, "lookupValueType", f.lookup_value_type)
        _w(el, "name", f.name)
        _w(el, "notifyAssignee", f.notify_assignee)
        _w(el, "operation", f.operation)
        _w(el, "protected", f.protected)
        _w(el, "reevaluateOnChange", f.reevaluate_on_change)
        _w(el, "targetObject", f.target_object)
    for fa in wf.flow_actions:
        el = add_element(root, "flowActions")
        _w(el, "fullName", fa.full_name)
        _w(el, "description", fa.description)
        _w(el, "flow", fa.flow)
        for fi in fa.flow_inputs:
            x = add_element(el, "flowInputs")
            _w(x, "name", fi.name)
            _w(x, "value", fi.value)
        _w(el, "label", fa.label)
        _w(el, "language", fa.language)
        _w(el, "protected", fa.protected)
    for k in wf.knowledge_publishes:
        el = add_element(root, "knowledgePublishes")
        _w(el, "fullName", k.full_name)
        _w(el, "action", k.action)
        _w(el, "description", k.description)
        _w(el, "label", k.label)
        _w(el, "language", k.language)
        _w(el, "protected", k.protected)
    for o in wf.outbound_messages:
        el = add_element(root, "outboundMessages")
        _w(el, "fullName", o.full_name)
        _w(el, "apiVersion", o.api_version)
        _w(el, "description", o.description)
        _w(el, "endpointUrl", o.endpoint_url)
        for fld in o.fields:
            _w(el, "fields", fld)
        _w(el, "includeSessionId", o.include_session_id)
        _w(el, "integrationUser", o.integration_user)
        _w(el, "name", o.name)
        _w(el, "protected", o.protected)
        _w(el, "useDeadLetterQueue", o.use_dead_letter_queue)
    for r in wf.rules:
        el = add_element(root, "rules")
        _w(el, "fullName", r.full_name)
        _write_refs(el, r.actions)
        _w(el, "active", r.active)
        _w(el, "booleanFilter", r.boolean_filter)
        for ci in r.criteria_items:
            x = add_element(el, "criteriaItems")
            _w(x, "field", ci.field)
            _w(x, "operation", ci.operation)
            _w(x, "value", ci.value)
            _w(x, "valueField", ci.value_field)
        _w(el, "description", r.description)
        _w(el, "failedMigrationToolVersion", r.failed_migration_tool_version)
        _w(el, "formula", r.formula)
        _w(el, "triggerType", r.trigger_type)
        for tt in r.workflow_time_triggers:
            x = add_element(el, "workflowTimeTriggers")
            _write_refs(x, tt.actions)
            _w(x, "offsetFromField", tt.offset_from_field)
            _w(x, "timeLength", tt.time_length)
            _w(x, "workflowTimeTriggerUnit", tt.workflow_time_trigger_unit)
    for t in wf.tasks:
        el = add_element(root, "tasks")
        _w(el, "fullName", t.full_name)
        _w(el, "assignedTo", t.assigned_to)
        _w(el, "assignedToType", t.assigned_to_type)
        _w(el, "description", t.description)
        _w(el, "dueDateOffset", t.due_date_offset)
        _w(el, "notifyAssignee", t.notify_assignee)
        _w(el, "offsetFromField", t.offset_from_field)
        _w(el, "priority", t.priority)
        _w(el, "protected", t.protected)
        _w(el, "status", t.status)
        _w(el, "subject", t.subject)
    return to_bytes(root)
