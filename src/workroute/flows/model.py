"""The body of a flow a step calls (screen, evaluation or autolaunched), as frozen values.

Read from the Metadata API elements by :mod:`workroute.flows.reader`, as far as the
engine runs them: screens and their fields, choices, formulas, constants, text
templates, assignments, decisions, record updates and creates, action calls, and the
connectors between them. Conditions, values, parameters and decisions are the
orchestration model's own types (the Metadata API shares them across flow types).
Elements the engine does not run (loops, lookups, subflows...) are not modelled; their
names are kept in :attr:`FlowBody.other_elements`, so references to them read and a run
that reaches one says which it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from types import MappingProxyType

from workroute.flows.vocabulary import AssignmentOperator, ScreenFieldType
from workroute.orchestration.definition import Decision
from workroute.orchestration.resources import Constant, Formula, RecordFilter, TextTemplate
from workroute.orchestration.types import Lines, no_lines
from workroute.orchestration.values import Connector, OutputParameter, Parameter, Value
from workroute.orchestration.vocabulary import FlowDataType

__all__ = [
    "ActionCall",
    "Assignment",
    "AssignmentItem",
    "Choice",
    "ChoiceSource",
    "Element",
    "FieldValue",
    "FlowBody",
    "PicklistChoiceSet",
    "RecordChoiceSet",
    "RecordCreate",
    "RecordUpdate",
    "Screen",
    "ScreenField",
]


# -- screens ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """A FlowChoice: one option; ``value`` None means its label is its value."""

    name: str
    label: str
    data_type: FlowDataType | None = None
    value: Value | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class PicklistChoiceSet:
    """A FlowDynamicChoiceSet over a picklist field: one option per active value."""

    name: str
    object: str
    field: str
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordChoiceSet:
    """A FlowDynamicChoiceSet over records: one option per record matching ``filters``
    (``display_field`` its label, ``value_field`` its value, Id by default)."""

    name: str
    object: str
    display_field: str | None = None
    value_field: str | None = None
    filters: tuple[RecordFilter, ...] = ()
    filter_logic: str | None = None
    sort_field: str | None = None
    descending: bool = False
    limit: int | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


ChoiceSource = Choice | PicklistChoiceSet | RecordChoiceSet


@dataclass(frozen=True, slots=True, kw_only=True)
class ScreenField:
    """A FlowScreenField. Its value is referenced by ``name`` once the screen is done.

    ``label`` is ``fieldText`` (for display text, the text shown). ``choices`` name
    Choices and choice sets, in order; ``default_choice`` is
    ``defaultSelectedChoiceReference``. ``validation`` is the formula of
    ``validationRule`` (true: the value is valid) with its ``error_message``.
    """

    name: str
    field_type: ScreenFieldType
    data_type: FlowDataType | None = None
    label: str | None = None
    help_text: str | None = None
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Value | None = None
    default_choice: str | None = None
    scale: int | None = None
    validation: str | None = None
    error_message: str | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)

    @property
    def is_input(self) -> bool:
        return self.field_type.is_input

    @property
    def value_type(self) -> FlowDataType:
        """The type of the field's value (text for choices without a data type)."""
        if self.field_type is ScreenFieldType.INPUT_FIELD and self.data_type is not None:
            return self.data_type
        if self.field_type.is_choice and not self.field_type.is_multi and self.data_type:
            return self.data_type
        return FlowDataType.STRING


@dataclass(frozen=True, slots=True, kw_only=True)
class Screen:
    """A FlowScreen: its fields (sections flattened, in order), then ``connector``."""

    name: str
    label: str
    fields: tuple[ScreenField, ...] = ()
    connector: Connector | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


# -- logic --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignmentItem:
    """``target operator value``: ``target`` is a variable, ``var.Field`` or
    ``$Record.Field``."""

    target: str
    operator: AssignmentOperator
    value: Value | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    name: str
    label: str
    items: tuple[AssignmentItem, ...] = ()
    connector: Connector | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


# -- records and actions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldValue:
    """A FlowInputFieldAssignment: ``field`` of the record gets ``value``."""

    field: str
    value: Value | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordUpdate:
    """A FlowRecordUpdate: either the record in ``input_reference`` (``$Record`` or an
    SObject variable, with the fields assignments changed), or the ``object`` records
    matching ``filters``, which get ``assignments``."""

    name: str
    label: str
    input_reference: str | None = None
    object: str | None = None
    filters: tuple[RecordFilter, ...] = ()
    filter_logic: str | None = None
    assignments: tuple[FieldValue, ...] = ()
    connector: Connector | None = None
    fault_connector: Connector | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordCreate:
    """A FlowRecordCreate: a record of ``object`` from ``assignments`` (or the SObject
    variable ``input_reference``). Its Id goes to ``assign_id_to``, and with
    ``store_output`` is what the element's own name refers to."""

    name: str
    label: str
    object: str | None = None
    input_reference: str | None = None
    assignments: tuple[FieldValue, ...] = ()
    assign_id_to: str | None = None
    store_output: bool = False
    connector: Connector | None = None
    fault_connector: Connector | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionCall:
    """A FlowActionCall. ``action_type`` emailSimple sends an email; apex (or
    externalService) calls what is registered as ``action_name``
    (:class:`~workroute.flows.FlowCallables`). Outputs go to ``outputs`` targets, and
    with ``store_output`` are referenced as ``Name.output``."""

    name: str
    label: str
    action_type: str
    action_name: str
    inputs: tuple[Parameter, ...] = ()
    outputs: tuple[OutputParameter, ...] = ()
    store_output: bool = False
    connector: Connector | None = None
    fault_connector: Connector | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


Element = Screen | Assignment | Decision | RecordUpdate | RecordCreate | ActionCall


def _no_others() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowBody:
    """What a screen, evaluation or autolaunched flow does.

    ``start`` names the first element (``<start><connector>``, or the older
    ``<startElementReference>``); None: the flow does nothing. Each element kind is
    kept in document order; :meth:`element` finds one by name (any case).
    ``other_elements`` maps the name of each element the engine does not run to its
    Metadata API element name (``recordLookups``...).
    """

    start: Connector | None = None
    screens: tuple[Screen, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    decisions: tuple[Decision, ...] = ()
    record_updates: tuple[RecordUpdate, ...] = ()
    record_creates: tuple[RecordCreate, ...] = ()
    action_calls: tuple[ActionCall, ...] = ()
    choices: tuple[ChoiceSource, ...] = ()
    formulas: tuple[Formula, ...] = ()
    constants: tuple[Constant, ...] = ()
    text_templates: tuple[TextTemplate, ...] = ()
    other_elements: Mapping[str, str] = dc_field(default_factory=_no_others)
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)

    def elements(self) -> Iterator[Element]:
        yield from self.screens
        yield from self.assignments
        yield from self.decisions
        yield from self.record_updates
        yield from self.record_creates
        yield from self.action_calls

    def element(self, name: str) -> Element | None:
        key = name.lower()
        return next((e for e in self.elements() if e.name.lower() == key), None)

    def other(self, name: str) -> str | None:
        """The element kind of ``name`` when it is an element the engine does not run."""
        key = name.lower()
        return next((k for n, k in self.other_elements.items() if n.lower() == key), None)

    def choice(self, name: str) -> ChoiceSource | None:
        key = name.lower()
        return next((c for c in self.choices if c.name.lower() == key), None)

    def formula(self, name: str) -> Formula | None:
        key = name.lower()
        return next((f for f in self.formulas if f.name.lower() == key), None)

    def constant(self, name: str) -> Constant | None:
        key = name.lower()
        return next((c for c in self.constants if c.name.lower() == key), None)

    def text_template(self, name: str) -> TextTemplate | None:
        key = name.lower()
        return next((t for t in self.text_templates if t.name.lower() == key), None)

    def fields(self) -> Iterator[tuple[Screen, ScreenField]]:
        """Every screen field, screen by screen in document order."""
        for screen in self.screens:
            for f in screen.fields:
                yield screen, f

    def field(self, name: str) -> ScreenField | None:
        key = name.lower()
        return next((f for _, f in self.fields() if f.name.lower() == key), None)
