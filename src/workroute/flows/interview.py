"""One run of a flow (a flow *interview*): its values, and the walk over its elements.

The run starts at the body's start connector and follows connectors until an element
has none. Each element kind runs as Salesforce runs it: a screen takes the values
submitted for its fields, an assignment sets variables (or fields of ``$Record`` and
of SObject variables), a decision follows the first outcome whose conditions hold
(else its default), record elements and action calls act
(:mod:`workroute.flows.records`, :mod:`workroute.flows.actions`); a failing record
element or action follows its fault connector, with ``$Flow.FaultMessage`` set, or
fails the run. Formulas run on the formula engine, typed by what the run knows: the
declared types, the schema of the related record's object, and the values.
Salesforce's limit of 2,000 executed elements stops loops that never end.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from workroute.flows import actions, assignments, records
from workroute.flows.context import EmailRequest, FlowContext, WebhookRequest
from workroute.flows.errors import FlowRunError
from workroute.flows.model import Assignment, Choice, Element, FlowBody, Screen
from workroute.flows.names import MERGE_FIELD, FlowEnvironment, Names, Ref, RefKind, declared_type
from workroute.flows.values import coerce, formula_value, literal, to_text, type_of_value
from workroute.flows.vocabulary import CONDITION_MET, MAX_EXECUTED_ELEMENTS
from workroute.kernel.errors import WorkrouteError
from workroute.lang.formula.checker import SchemaEnvironment
from workroute.lang.formula.compiler import CompiledFormula, compile_formula
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.errors import FormulaError
from workroute.lang.formula.parser import parse_formula
from workroute.lang.formula.types import NULL, FormulaType
from workroute.lang.formula.values import FormulaEvaluationError
from workroute.orchestration.definition import Decision, FlowSummary
from workroute.orchestration.references import formula_source, result_kind
from workroute.orchestration.resources import Formula, Variable
from workroute.orchestration.values import Connector, Value
from workroute.orchestration.vocabulary import RESERVED_INPUT_PREFIX, FlowDataType, ValueKind
from workroute.schema.model import ObjectDef
from workroute.store.related import parent_values, parse_path

__all__ = ["Interview"]

_ORIGIN = datetime(1900, 1, 1, tzinfo=UTC)


def _get(record: Mapping[str, object], name: str) -> object:
    if name in record:
        return record[name]
    low = name.lower()
    return next((v for k, v in record.items() if k.lower() == low), None)


class Interview:
    """The state of one run of ``flow`` (see the module docstring)."""

    def __init__(
        self,
        flow: FlowSummary,
        ctx: FlowContext,
        inputs: Mapping[str, object],
        *,
        evaluation: bool = False,
    ) -> None:
        self.flow = flow
        self.body = flow.body or FlowBody()
        self.ctx = ctx
        self.store = ctx.store
        self.evaluation = evaluation
        self.names = Names.of(flow, self.body)
        self.values: dict[str, object] = {}
        self._record: dict[str, object] | None = None if ctx.record is None else dict(ctx.record)
        self._load_record = ctx.load_record if ctx.record is None else None
        self.record_object = self._record_object()
        #: Fields assigned during the run: of ``$Record`` (key ``$record``) and of
        #: SObject variables (key: the variable's name, lower case).
        self.dirty: dict[str, set[str]] = {}
        self.visited: set[str] = set()
        self.selected: set[str] = set()
        self.fault_message: str | None = None
        self.emails: list[EmailRequest] = []
        self.webhooks: list[WebhookRequest] = []
        self._formulas: dict[str, CompiledFormula] = {}
        self._evaluating: set[str] = set()
        self._user: str | None = None
        self.element: str | None = None
        for v in flow.variables:
            self.values[v.name.lower()] = self._initial(v)
        if evaluation and self.names.flow_variable(CONDITION_MET) is None:
            self.values[CONDITION_MET.lower()] = False
        self._inputs(inputs)

    # -- set up -----------------------------------------------------------------------

    @property
    def record(self) -> dict[str, object] | None:
        """``$Record``, read on first use when the context gave a loader."""
        if self._load_record is not None:
            loaded, self._load_record = self._load_record(), None
            self._record = None if loaded is None else dict(loaded)
        return self._record

    def fail(self, reason: str) -> FlowRunError:
        return FlowRunError(reason, flow=self.flow.name, element=self.element)

    def _record_object(self) -> ObjectDef | None:
        schema = self.store.schema
        if self.ctx.record_object:
            return schema.find(self.ctx.record_object)
        rid = None if self.record is None else _get(self.record, "Id")
        return schema.by_prefix(str(rid)[:3]) if rid else None

    def _initial(self, v: Variable) -> object:
        if v.value is not None:
            try:
                return coerce(self.value(v.value), v.data_type, collection=bool(v.is_collection))
            except ValueError as exc:
                raise self.fail(f"variable {v.name}: {exc}") from None
        if v.is_collection:
            return []
        if v.name.lower() == CONDITION_MET.lower():
            return False
        return None

    def _inputs(self, inputs: Mapping[str, object]) -> None:
        for name, value in inputs.items():
            if name.startswith(RESERVED_INPUT_PREFIX):
                continue  # the orchestration's own step inputs (record id, email...)
            v = self.names.flow_variable(name)
            if v is None or not v.is_input:
                inputs_known = ", ".join(x.name for x in self.flow.variables if x.is_input)
                raise self.fail(
                    f"'{name}' is not an input variable of this flow (inputs: "
                    f"{inputs_known or 'none'})"
                )
            try:
                self.values[v.name.lower()] = coerce(
                    value, v.data_type, collection=bool(v.is_collection)
                )
            except ValueError as exc:
                raise self.fail(f"input {v.name}: {exc}") from None

    @property
    def user_id(self) -> str:
        """Who the run's writes are made as: the running user, or in system context
        the org's first administrator."""
        if self.ctx.user_id:
            return self.ctx.user_id
        if self._user is None:
            admins = {
                str(p["Id"])
                for p in self.store.find("Profile")
                if p.get("PermissionsModifyAllData")
            }
            users = [u for u in self.store.find("User") if str(u.get("ProfileId")) in admins]
            if not users:
                raise self.fail("the org has no administrator to run a system-context flow as")
            self._user = str(min(users, key=lambda u: str(u["CreatedDate"]))["Id"])
        return self._user

    # -- values -----------------------------------------------------------------------

    def value(self, v: Value | None) -> object:
        """The value of an element value: a reference, text with merge fields, a literal."""
        if v is None:
            return None
        if v.kind is ValueKind.REFERENCE:
            return self.ref_value(v.text)
        if v.kind is ValueKind.STRING:
            return self.merge(v.text)
        return literal(v)

    def merge(self, text: str) -> str:
        """``text`` with its ``{!name}`` merge fields replaced by their values."""
        return MERGE_FIELD.sub(lambda m: to_text(self.ref_value(m.group(1).strip())), text)

    def resolve(self, ref: str) -> Ref:
        try:
            return self.names.resolve(ref)
        except WorkrouteError as exc:
            raise self.fail(exc.message) from None

    def ref_value(self, text: str) -> object:
        ref = self.resolve(text)
        head = ref.head.lower()
        kind = ref.kind
        if kind is RefKind.VARIABLE:
            value = self.values.get(head)
            if not ref.rest:
                return value
            v = self.names.flow_variable(ref.head)
            obj = v.object_type if v is not None else None
            return self._path(value, obj, ref)
        if kind in (RefKind.SCREEN_FIELD, RefKind.ELEMENT):
            value = self.values.get(head)
            if ref.rest and isinstance(value, Mapping):
                return self._path(value, None, ref)
            if ref.rest:
                other = self.body.other(ref.head)
                if other is not None:
                    raise self.fail(f"'{text}': {other} elements are not run by workroute")
                return None
            return value
        if kind is RefKind.FORMULA:
            f = self.body.formula(ref.head)
            assert f is not None
            return self.formula(f)
        if kind is RefKind.CONSTANT:
            c = self.body.constant(ref.head)
            assert c is not None
            return self.coerced(self.value(c.value), c.data_type, c.name)
        if kind is RefKind.TEXT_TEMPLATE:
            t = self.body.text_template(ref.head)
            assert t is not None
            return self.merge(t.text)
        if kind is RefKind.CHOICE:
            return self.choice_value(ref.head)
        if kind is RefKind.RECORD:
            if not ref.rest:
                return self.record
            return self._path(
                self.record, self.record_object.name if self.record_object else None, ref
            )
        if kind is RefKind.PRIOR_RECORD:
            raise self.fail(f"'{text}': $Record__Prior is only set in record-triggered flows")
        return self._global(ref, text)

    def _global(self, ref: Ref, text: str) -> object:
        kind = ref.kind
        if kind is RefKind.GLOBAL:
            if len(ref.rest) != 1:
                raise self.fail(f"'{text}': only direct fields of {ref.head} can be read")
            return self.store.formula_globals([ref.key], self.ctx.user_id).get(ref.key)
        if kind is RefKind.GLOBAL_CONSTANT:
            return {"True": True, "False": False, "EmptyString": ""}[ref.rest[0]]
        if kind is RefKind.FLOW_GLOBAL:
            name = ref.rest[0]
            now = self.ctx.now
            if name == "CurrentDate":
                return now.astimezone(UTC).date()
            if name in ("CurrentDateTime", "InterviewStartTime"):
                return now
            if name == "CurrentRecord":
                return None if self.record is None else _get(self.record, "Id")
            if name == "FaultMessage":
                return self.fault_message
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.flow.name}:{now.isoformat()}"))
        if ref.head.lower() == "$system" and [p.lower() for p in ref.rest] == ["origindatetime"]:
            return _ORIGIN
        raise self.fail(f"'{text}': {ref.head} is not available in workroute")

    def _path(self, record: object, object_name: str | None, ref: Ref) -> object:
        """A field (or relationship path) of a record held by the run."""
        if record is None:
            return None
        if not isinstance(record, Mapping):
            raise self.fail(f"'{ref.key}': '{ref.head}' holds no record")
        if len(ref.rest) == 1:
            return _get(record, ref.rest[0])
        obj = self.store.schema.find(object_name) if object_name else None
        if obj is None:
            raise self.fail(f"'{ref.key}': the object of '{ref.head}' is not known")
        try:
            path = parse_path(self.store.schema, obj, ".".join(ref.rest))
        except WorkrouteError as exc:
            raise self.fail(f"'{ref.key}': {exc.message}") from None
        return parent_values(self.store, [record], [path])[0][path.key]

    def coerced(self, value: object, data_type: FlowDataType, name: str) -> object:
        try:
            return coerce(value, data_type)
        except ValueError as exc:
            raise self.fail(f"{name}: {exc}") from None

    def choice_value(self, name: str) -> object:
        c = self.body.choice(name)
        if not isinstance(c, Choice):
            raise self.fail(f"'{name}' is a choice set; it has no single value")
        if c.value is None:
            return c.label
        value = self.value(c.value)
        return value if c.data_type is None else self.coerced(value, c.data_type, c.name)

    # -- formulas ---------------------------------------------------------------------

    def type_for(self, ref: Ref) -> FormulaType:
        """A reference's formula type: declared, else from the schema, else its value."""
        t = declared_type(self.names, ref)
        if not t.is_null:
            return t
        schema = self.store.schema
        obj: str | None = None
        if ref.kind is RefKind.RECORD and ref.rest and self.record_object is not None:
            obj = self.record_object.name
        elif ref.kind is RefKind.VARIABLE and ref.rest:
            v = self.names.flow_variable(ref.head)
            obj = v.object_type if v is not None else None
        elif ref.kind is RefKind.GLOBAL and ref.head == "$User":
            obj = "User"
        if obj is not None and schema.find(obj) is not None:
            parts = (ref.head, *ref.rest) if ref.kind is RefKind.GLOBAL else ref.rest
            try:
                return SchemaEnvironment(schema, obj).resolve(parts).type
            except FormulaError:
                pass
        value = self.ref_value(ref.key)
        return NULL if isinstance(value, Mapping | list) else type_of_value(value)

    def compile(
        self, expression: str, data_type: FlowDataType | None, scale: int | None, what: str
    ) -> CompiledFormula:
        try:
            return compile_formula(
                parse_formula(formula_source(expression)),
                FlowEnvironment(self.names, self.type_for),
                result_kind=result_kind(data_type),
                result_scale=scale,
            )
        except FormulaError as exc:
            raise self.fail(f"{what} does not compile: {exc.located}") from None

    def run_formula(self, compiled: CompiledFormula, what: str) -> object:
        values = {key: formula_value(self.ref_value(key)) for key in compiled.global_paths}
        try:
            return compiled(EvalContext(now=self.ctx.now, globals=values))
        except FormulaEvaluationError as exc:
            raise self.fail(f"{what} failed (#Error!): {exc}") from None

    def formula(self, f: Formula) -> object:
        key = f.name.lower()
        if key in self._evaluating:
            raise self.fail(f"formula {f.name} refers to itself")
        compiled = self._formulas.get(key)
        if compiled is None:
            compiled = self.compile(f.expression, f.data_type, f.scale, f"formula {f.name}")
            self._formulas[key] = compiled
        self._evaluating.add(key)
        try:
            return self.run_formula(compiled, f"formula {f.name}")
        finally:
            self._evaluating.discard(key)

    def assign(self, target: str, value: object) -> None:
        """Set a variable, or a field of ``$Record`` or of an SObject variable."""
        assignments.assign(self, target, value)

    # -- the walk ---------------------------------------------------------------------

    def run(self, on_screen: Callable[[Screen], None] | None = None) -> None:
        """Walk the flow from its start; ``on_screen`` takes each screen reached."""
        target: Connector | None = self.body.start
        count = 0
        while target is not None:
            element = self.body.element(target.target)
            self.element = target.target
            if element is None:
                kind = self.body.other(target.target) or "unknown"
                raise self.fail(f"{kind} elements are not run by workroute")
            count += 1
            if count > MAX_EXECUTED_ELEMENTS:
                raise self.fail(
                    f"the flow executed more than {MAX_EXECUTED_ELEMENTS} elements (a loop?)"
                )
            self.visited.add(element.name.lower())
            target = self._execute(element, on_screen)
        self.element = None

    def _execute(self, e: Element, on_screen: Callable[[Screen], None] | None) -> Connector | None:
        if isinstance(e, Screen):
            if on_screen is None:
                raise self.fail("this flow shows screens; run it as a form")
            on_screen(e)
            return e.connector
        if isinstance(e, Assignment):
            assignments.run(self, e)
            return e.connector
        if isinstance(e, Decision):
            for rule in e.rules:
                if records.criteria_hold(self, rule.criteria):
                    return rule.connector
            return e.default_connector
        if self._load_record is not None:
            # $Record is the record as the run began: read it before anything here can
            # write to it (record elements and actions), even if it is read only later.
            _ = self.record
        try:
            if isinstance(e, records.RecordElement):
                records.run(self, e)
            else:
                actions.run(self, e)
        except WorkrouteError as exc:
            reason = exc.reason if isinstance(exc, FlowRunError) else exc.message
            if e.fault_connector is None:
                if isinstance(exc, FlowRunError):
                    raise
                raise self.fail(reason) from exc
            self.fault_message = reason
            return e.fault_connector
        return e.connector

    def outputs(self) -> dict[str, object]:
        """The output variables (``isOutput``) and their values."""
        return {v.name: self.values.get(v.name.lower()) for v in self.flow.variables if v.is_output}

    def send(self) -> None:
        """Hand what the run sends to the context, once every element succeeded."""
        self.element = None
        for email in self.emails:
            if self.ctx.send_email is None:
                raise self.fail("the flow sends email, but this context has no send_email")
            self.ctx.send_email(email)
        for hook in self.webhooks:
            if self.ctx.post_webhook is None:
                raise self.fail("the flow calls a webhook, but this context has no post_webhook")
            self.ctx.post_webhook(hook)
