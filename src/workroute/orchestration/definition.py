"""Orchestration definitions: one version of an Orchestrator flow, as frozen values.

An orchestration (Flow metadata with ``processType`` Orchestrator, seeds 000 and 001) is
started by a record save (:class:`Trigger`) or through the API, then walks a graph of
:class:`Stage` and :class:`Decision` nodes from its start connector. A stage holds
:class:`Step` s that run side by side: an interactive step creates a work item for its
:class:`Assignee` and completes when the screen flow ``action_name`` is completed (or
its completion requirements or evaluation flow say so); a background step runs the
autolaunched flow ``action_name``. A stage is complete when all its steps are (or its
exit requirements or evaluation flow say so).

Everything here is a definition: immutable, validated once at deploy
(:mod:`workroute.orchestration.validate`) and addressed by name and version. Runs and
work items are separate runtime records that point at the version they started with.

Enum values are the strings Salesforce stores. Every model object remembers the lines
it came from (``lines``: element name -> line, ``""`` for its own start; excluded from
equality), so problems found after parsing still name the line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import TYPE_CHECKING

from workroute.orchestration.resources import Constant, Formula, TextTemplate, Trigger, Variable
from workroute.orchestration.types import Lines, no_lines
from workroute.orchestration.values import (
    NO_CRITERIA,
    Assignee,
    Connector,
    Criteria,
    EvaluationFlow,
    OutputParameter,
    Parameter,
    Value,
)
from workroute.orchestration.vocabulary import (
    RECORD_ID_INPUT,
    FlowProcessType,
    FlowRunInMode,
    FlowStatus,
    StageCompletion,
    StepActionType,
    StepCompletion,
    StepKind,
    StepStart,
)

if TYPE_CHECKING:  # the flow body model builds on this module's Decision
    from workroute.flows.model import FlowBody

# -- steps, stages, decisions ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One FlowStageStep. ``action_name`` is the flow it runs: a screen flow for an
    interactive step, an autolaunched flow for a background step."""

    name: str
    label: str
    action_type: StepActionType
    action_name: str
    description: str | None = None
    assignee: Assignee | None = None
    entry: Criteria = NO_CRITERIA
    entry_flow: EvaluationFlow | None = None
    exit: Criteria = NO_CRITERIA
    exit_flow: EvaluationFlow | None = None
    inputs: tuple[Parameter, ...] = ()
    outputs: tuple[OutputParameter, ...] = ()
    can_assignee_edit: bool | None = None
    debug_simulate_step: bool | None = None
    requires_async_processing: bool | None = None
    run_as_user: bool | None = None
    should_lock: bool | None = None
    step_subtype: str | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)

    @property
    def kind(self) -> StepKind:
        if self.action_type in (StepActionType.STEP_INTERACTIVE, StepActionType.CREATE_WORK_ITEM):
            return StepKind.INTERACTIVE
        return StepKind.BACKGROUND

    @property
    def is_interactive(self) -> bool:
        return self.kind is StepKind.INTERACTIVE

    @property
    def start(self) -> StepStart:
        if self.entry_flow is not None:
            return StepStart.EVALUATION_FLOW
        conditions = self.entry.conditions
        if not conditions:
            return StepStart.STAGE_STARTS
        if (self.entry.logic or "and").strip().lower() == "and" and all(
            c.completed_step() is not None for c in conditions
        ):
            return StepStart.STEPS_COMPLETED
        return StepStart.REQUIREMENTS

    @property
    def waits_for(self) -> tuple[str, ...]:
        """The steps that must be Completed before this one starts
        (:attr:`StepStart.STEPS_COMPLETED`); empty otherwise."""
        if self.start is not StepStart.STEPS_COMPLETED:
            return ()
        return tuple(n for c in self.entry.conditions if (n := c.completed_step()) is not None)

    @property
    def completion(self) -> StepCompletion:
        if self.exit_flow is not None:
            return StepCompletion.EVALUATION_FLOW
        if self.exit.conditions:
            return StepCompletion.REQUIREMENTS
        if self.is_interactive:
            return StepCompletion.SCREEN_FLOW_COMPLETED
        return StepCompletion.FLOW_FINISHED

    def input(self, name: str) -> Parameter | None:
        """The input parameter called ``name`` (any case)."""
        key = name.lower()
        return next((p for p in self.inputs if p.name.lower() == key), None)

    @property
    def record_id(self) -> Value | None:
        """The value of ``ActionInput__RecordId``: the record the work item is about."""
        p = self.input(RECORD_ID_INPUT)
        return None if p is None else p.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    """One FlowOrchestratedStage: steps that run side by side, then ``connector``."""

    name: str
    label: str
    description: str | None = None
    steps: tuple[Step, ...] = ()
    exit: Criteria = NO_CRITERIA
    exit_flow: EvaluationFlow | None = None
    connector: Connector | None = None
    fault_connector: Connector | None = None
    location: tuple[int, int] | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)

    @property
    def completion(self) -> StageCompletion:
        if self.exit_flow is not None:
            return StageCompletion.EVALUATION_FLOW
        if self.exit.conditions:
            return StageCompletion.REQUIREMENTS
        return StageCompletion.ALL_STEPS_COMPLETED

    def step(self, name: str) -> Step | None:
        key = name.lower()
        return next((s for s in self.steps if s.name.lower() == key), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRule:
    """An outcome of a decision: taken when ``criteria`` hold (rules are tried in order)."""

    name: str
    label: str
    criteria: Criteria = NO_CRITERIA
    connector: Connector | None = None
    description: str | None = None
    does_require_record_changed: bool | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """A FlowDecision between stages; ``default_connector`` when no rule holds (no
    connector: the run ends)."""

    name: str
    label: str
    rules: tuple[DecisionRule, ...] = ()
    default_connector: Connector | None = None
    default_connector_label: str | None = None
    description: str | None = None
    location: tuple[int, int] | None = None
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)


# -- the versions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Orchestration:
    """One version of an orchestration (Flow ``processType`` Orchestrator).

    ``name`` is the flow's fullName. ``version`` is given by the deploy (None until
    then); ``status`` is the version's FlowVersionStatus. ``trigger`` None means the
    orchestration is started through the API (``is_input`` variables are its
    inputs). ``start`` connects to the first stage or decision; ``stages`` and
    ``decisions`` are kept in document order (the run follows the connectors).
    """

    name: str
    label: str
    status: FlowStatus = FlowStatus.DRAFT
    version: int | None = None
    api_version: str | None = None
    description: str | None = None
    interview_label: str | None = None
    run_in_mode: FlowRunInMode | None = None
    trigger: Trigger | None = None
    start: Connector | None = None
    start_location: tuple[int, int] | None = None
    stages: tuple[Stage, ...] = ()
    decisions: tuple[Decision, ...] = ()
    variables: tuple[Variable, ...] = ()
    formulas: tuple[Formula, ...] = ()
    constants: tuple[Constant, ...] = ()
    text_templates: tuple[TextTemplate, ...] = ()
    file: str = dc_field(default="", compare=False, repr=False)
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)

    process_type = FlowProcessType.ORCHESTRATOR

    @property
    def is_active(self) -> bool:
        return self.status is FlowStatus.ACTIVE

    @property
    def is_record_triggered(self) -> bool:
        return self.trigger is not None

    def stage(self, name: str) -> Stage | None:
        key = name.lower()
        return next((s for s in self.stages if s.name.lower() == key), None)

    def decision(self, name: str) -> Decision | None:
        key = name.lower()
        return next((d for d in self.decisions if d.name.lower() == key), None)

    def node(self, name: str) -> Stage | Decision | None:
        """The stage or decision a connector names."""
        return self.stage(name) or self.decision(name)

    def steps(self) -> Iterator[tuple[Stage, Step]]:
        for stage in self.stages:
            for step in stage.steps:
                yield stage, step

    def find_step(self, name: str) -> tuple[Stage, Step] | None:
        key = name.lower()
        return next(((g, s) for g, s in self.steps() if s.name.lower() == key), None)

    def variable(self, name: str) -> Variable | None:
        key = name.lower()
        return next((v for v in self.variables if v.name.lower() == key), None)

    @property
    def inputs(self) -> tuple[Variable, ...]:
        """The variables a run can be started with."""
        return tuple(v for v in self.variables if v.is_input)

    @property
    def outputs(self) -> tuple[Variable, ...]:
        return tuple(v for v in self.variables if v.is_output)

    def first_node(self) -> Stage | Decision | None:
        return None if self.start is None else self.node(self.start.target)


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowSummary:
    """A flow that is not an orchestration (a screen, autolaunched or evaluation flow a
    step calls): its name, type, status and variables, so a step's ``action_name``
    resolves to it, and its ``body`` (screens, logic, actions: what
    :mod:`workroute.flows` runs; None when built without one). The body is read from
    the same file, so it takes no part in equality."""

    name: str
    label: str
    process_type: str
    status: FlowStatus = FlowStatus.DRAFT
    version: int | None = None
    api_version: str | None = None
    variables: tuple[Variable, ...] = ()
    body: FlowBody | None = dc_field(default=None, compare=False, repr=False)
    file: str = dc_field(default="", compare=False, repr=False)
    lines: Lines = dc_field(default_factory=no_lines, compare=False, repr=False)

    @property
    def is_active(self) -> bool:
        return self.status is FlowStatus.ACTIVE

    @property
    def is_screen_flow(self) -> bool:
        return self.process_type == FlowProcessType.FLOW

    @property
    def is_autolaunched(self) -> bool:
        return self.process_type == FlowProcessType.AUTOLAUNCHED_FLOW

    @property
    def is_evaluation_flow(self) -> bool:
        return self.process_type == FlowProcessType.EVALUATION_FLOW


FlowVersion = Orchestration | FlowSummary
"""Whatever one deployed Flow version is."""
