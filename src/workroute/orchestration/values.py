"""Values, conditions, parameters and connectors: the parts steps and stages are made of."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from workroute.metadata.xmlio import parse_bool
from workroute.orchestration.types import Lines, no_lines
from workroute.orchestration.vocabulary import (
    COMPLETED,
    AssigneeType,
    ComparisonOperator,
    EvaluationActionType,
    ValueKind,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Value:
    """A FlowElementReferenceOrValue: a reference to a resource or a literal.

    ``text`` is the value as written, made canonical by the readers
    (:func:`canonical_value`), so equal values compare equal whatever form they were
    read from.
    """

    kind: ValueKind
    text: str
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)

    @classmethod
    def reference(cls, name: str) -> Value:
        return cls(kind=ValueKind.REFERENCE, text=name)

    @classmethod
    def string(cls, text: str) -> Value:
        return cls(kind=ValueKind.STRING, text=text)

    @classmethod
    def boolean(cls, value: bool) -> Value:
        return cls(kind=ValueKind.BOOLEAN, text="true" if value else "false")

    @property
    def is_reference(self) -> bool:
        return self.kind is ValueKind.REFERENCE


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    """An input parameter (of a step, or of an entry/exit evaluation flow)."""

    name: str
    value: Value | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputParameter:
    """An output of the called flow, stored into the resource ``assign_to``."""

    name: str
    assign_to: str
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One FlowCondition: ``left`` (a resource reference) ``operator`` ``right``.

    ``Step_A.Status EqualTo "Completed"`` is how "when another step is Completed" is
    stored. ``condition_type`` is kept as written (``EntryCondition`` in some files).
    """

    left: str
    operator: ComparisonOperator
    right: Value | None = None
    condition_type: str | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)

    def completed_step(self) -> str | None:
        """The step this condition waits for, when it is ``X.Status = Completed``."""
        head, dot, tail = self.left.partition(".")
        if (
            dot
            and tail == "Status"
            and self.operator is ComparisonOperator.EQUAL_TO
            and self.right is not None
            and self.right.kind is ValueKind.STRING
            and self.right.text == COMPLETED
        ):
            return head
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Criteria:
    """Conditions and how they combine: ``and``, ``or`` or custom logic such as
    ``1 AND (2 OR 3)`` (parsed by :func:`workroute.orchestration.logic.logic_tree`)."""

    logic: str | None = None
    conditions: tuple[Condition, ...] = ()
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


NO_CRITERIA = Criteria()


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationFlow:
    """An evaluation flow whose ``isOrchestrationConditionMet`` output decides a
    condition (a step's start or completion, a stage's exit)."""

    name: str
    action_type: EvaluationActionType
    inputs: tuple[Parameter, ...] = ()
    outputs: tuple[OutputParameter, ...] = ()
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignee:
    """Who completes an interactive step. ``value`` is a username (User), a group or
    queue developer name (Group, Queue), or a reference to a resource holding one of
    them at run time (any type; always for Resource)."""

    type: AssigneeType
    value: Value | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Connector:
    target: str
    is_go_to: bool = False
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


def canonical_value(kind: ValueKind, text: str) -> str | None:
    """``text`` as the canonical text of a ``kind`` value (booleans ``true``/``false``,
    numbers in plain decimal notation without trailing zeros: ``1.50`` is ``1.5``);
    None when it is not one."""
    if kind is ValueKind.BOOLEAN:
        b = parse_bool(text)
        return None if b is None else ("true" if b else "false")
    if kind is ValueKind.NUMBER:
        try:
            d = Decimal(text)
        except InvalidOperation:
            return None
        return format(d.normalize(), "f") if d.is_finite() else None
    if kind is ValueKind.DATE:
        try:
            date.fromisoformat(text)
        except ValueError:
            return None
    if kind is ValueKind.DATETIME:
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if kind is ValueKind.REFERENCE and not text:
        return None
    return text
