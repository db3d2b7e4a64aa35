"""The record trigger and the resources (variables, formulas, constants, text
templates) of an orchestration."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

from workroute.orchestration.types import Lines, no_lines
from workroute.orchestration.values import Value
from workroute.orchestration.vocabulary import (
    FlowDataType,
    FlowTriggerType,
    RecordFilterOperator,
    RecordTriggerType,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordFilter:
    """An entry condition of a record trigger: ``$Record.field operator value``."""

    field: str
    operator: RecordFilterOperator
    value: Value | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trigger:
    """A record trigger: the orchestration starts after a record of ``object`` is saved
    (created, updated or either) and its entry criteria hold: ``filters`` combined by
    ``filter_logic``, or the formula ``filter_formula``. With
    ``requires_record_changed`` it starts only when an update makes the criteria true
    (they were false before)."""

    object: str
    record_trigger_type: RecordTriggerType
    trigger_type: FlowTriggerType = FlowTriggerType.RECORD_AFTER_SAVE
    filters: tuple[RecordFilter, ...] = ()
    filter_logic: str | None = None
    filter_formula: str | None = None
    requires_record_changed: bool | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)

    @property
    def on_create(self) -> bool:
        return self.record_trigger_type in (
            RecordTriggerType.CREATE,
            RecordTriggerType.CREATE_AND_UPDATE,
        )

    @property
    def on_update(self) -> bool:
        return self.record_trigger_type in (
            RecordTriggerType.UPDATE,
            RecordTriggerType.CREATE_AND_UPDATE,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Variable:
    """A FlowVariable; ``is_input`` ones can be set when the run is started."""

    name: str
    data_type: FlowDataType
    is_collection: bool | None = None
    is_input: bool | None = None
    is_output: bool | None = None
    object_type: str | None = None
    scale: int | None = None
    value: Value | None = None
    description: str | None = None
    apex_class: str | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Formula:
    """A FlowFormula: ``expression`` in the formula language, with ``{!name}`` merge
    fields for resources."""

    name: str
    expression: str
    data_type: FlowDataType | None = None
    scale: int | None = None
    description: str | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Constant:
    name: str
    data_type: FlowDataType
    value: Value | None = None
    description: str | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class TextTemplate:
    """A FlowTextTemplate: text with ``{!name}`` merge fields (custom emails use them)."""

    name: str
    text: str
    is_viewed_as_plain_text: bool | None = None
    description: str | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)
