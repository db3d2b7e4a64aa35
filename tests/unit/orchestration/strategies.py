"""Hypothesis strategies for orchestration definitions (any shape the model can hold and
both forms can write: canonical values, labels without surrounding blanks)."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from hypothesis import strategies as st

from workroute.orchestration.definition import Decision, DecisionRule, Orchestration, Stage, Step
from workroute.orchestration.resources import (
    Constant,
    Formula,
    RecordFilter,
    TextTemplate,
    Trigger,
    Variable,
)
from workroute.orchestration.values import (
    NO_CRITERIA,
    Assignee,
    Condition,
    Connector,
    Criteria,
    EvaluationFlow,
    OutputParameter,
    Parameter,
    Value,
    canonical_value,
)
from workroute.orchestration.vocabulary import (
    AssigneeType,
    ComparisonOperator,
    EvaluationActionType,
    FlowDataType,
    FlowRunInMode,
    FlowStatus,
    FlowTriggerType,
    RecordFilterOperator,
    RecordTriggerType,
    StepActionType,
    ValueKind,
)

names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}(_[A-Za-z0-9]{1,4}){0,2}", fullmatch=True)
references = st.builds(".".join, st.lists(names, min_size=1, max_size=3)) | st.sampled_from(
    ["$Record.Id", "$User.Username", "Step_1.Outputs.ok", "Step_1.Status"]
)
# Text as XML and YAML can both hold it: printable characters, spaces, tabs and newlines.
_chars = st.characters(
    codec="utf-8", categories=("L", "N", "P", "S", "Zs"), exclude_characters="\u3000\xa0"
)
free_text = st.text(st.one_of(_chars, st.sampled_from(" \t\n")), max_size=20)
# Texts the readers strip (labels, logic...): no blanks around them.
labels = st.text(_chars, min_size=1, max_size=15).map(str.strip).filter(bool)
optional_text = st.none() | free_text


def _number(d: Decimal) -> Value:
    text = canonical_value(ValueKind.NUMBER, str(d))
    assert text is not None
    return Value(kind=ValueKind.NUMBER, text=text)


values = st.one_of(
    st.builds(Value.reference, references),
    st.builds(Value.string, free_text),
    st.builds(Value.boolean, st.booleans()),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(_number),
    st.dates().map(lambda d: Value(kind=ValueKind.DATE, text=d.isoformat())),
    st.datetimes(timezones=st.just(UTC)).map(
        lambda d: Value(kind=ValueKind.DATETIME, text=d.isoformat())
    ),
    st.times().map(lambda t: Value(kind=ValueKind.TIME, text=t.isoformat())),
)
logic = st.sampled_from([None, "and", "or", "1 AND 2", "(1 OR 2) AND NOT 3"])
conditions = st.builds(
    Condition,
    left=references,
    operator=st.sampled_from(ComparisonOperator),
    right=st.none() | values,
    condition_type=st.none() | st.just("EntryCondition"),
)
after = st.lists(names, min_size=1, max_size=2).map(
    lambda ns: Criteria(
        logic="and",
        conditions=tuple(
            Condition(
                left=f"{n}.Status",
                operator=ComparisonOperator.EQUAL_TO,
                right=Value.string("Completed"),
            )
            for n in ns
        ),
    )
)
criteria = (
    st.just(NO_CRITERIA)
    | after
    | st.builds(Criteria, logic=logic, conditions=st.lists(conditions, max_size=3).map(tuple))
)
rule_criteria = st.builds(
    Criteria, logic=logic.filter(bool), conditions=st.lists(conditions, max_size=3).map(tuple)
)


parameters = st.lists(
    st.builds(Parameter, name=names, value=st.none() | values),
    max_size=3,
    unique_by=lambda p: p.name,
).map(tuple)
outputs = st.lists(
    st.builds(OutputParameter, name=names, assign_to=references),
    max_size=2,
    unique_by=lambda p: p.name,
).map(tuple)
evaluations = st.none() | st.builds(
    EvaluationFlow,
    name=names,
    action_type=st.sampled_from(EvaluationActionType),
    inputs=parameters,
    outputs=outputs,
)
connectors = st.none() | st.builds(Connector, target=names, is_go_to=st.booleans())
locations = st.none() | st.tuples(st.integers(0, 2000), st.integers(0, 2000))
flags = st.none() | st.booleans()
assignees = st.none() | st.builds(
    Assignee, type=st.sampled_from(AssigneeType), value=st.none() | values
)
steps = st.builds(
    Step,
    name=names,
    label=labels,
    action_type=st.sampled_from(StepActionType),
    action_name=names,
    description=optional_text,
    assignee=assignees,
    entry=criteria,
    entry_flow=evaluations,
    exit=criteria,
    exit_flow=evaluations,
    inputs=parameters,
    outputs=outputs,
    can_assignee_edit=flags,
    debug_simulate_step=flags,
    requires_async_processing=flags,
    run_as_user=flags,
    should_lock=flags,
    step_subtype=st.none() | st.sampled_from(["InteractiveStep", "BackgroundStep"]),
)
stages = st.builds(
    Stage,
    name=names,
    label=labels,
    description=optional_text,
    steps=st.lists(steps, max_size=3).map(tuple),
    exit=criteria,
    exit_flow=evaluations,
    connector=connectors,
    fault_connector=connectors,
    location=locations,
)
decisions = st.builds(
    Decision,
    name=names,
    label=labels,
    rules=st.lists(
        st.builds(
            DecisionRule,
            name=names,
            label=labels,
            criteria=rule_criteria,
            connector=connectors,
            description=optional_text,
            does_require_record_changed=flags,
        ),
        max_size=2,
    ).map(tuple),
    default_connector=connectors,
    default_connector_label=st.none() | labels,
    description=optional_text,
    location=locations,
)
triggers = st.none() | st.builds(
    Trigger,
    object=names,
    record_trigger_type=st.sampled_from(RecordTriggerType),
    trigger_type=st.sampled_from(FlowTriggerType),
    filters=st.lists(
        st.builds(
            RecordFilter,
            field=names,
            operator=st.sampled_from(RecordFilterOperator),
            value=st.none() | values,
        ),
        max_size=2,
    ).map(tuple),
    filter_logic=logic,
    filter_formula=st.none() | labels,
    requires_record_changed=flags,
)
data_types = st.sampled_from(FlowDataType)
variables = st.builds(
    Variable,
    name=names,
    data_type=data_types,
    is_collection=flags,
    is_input=flags,
    is_output=flags,
    object_type=st.none() | names,
    scale=st.none() | st.integers(0, 8),
    value=st.none() | values,
    description=optional_text,
    apex_class=st.none() | names,
)
formulas = st.builds(
    Formula,
    name=names,
    expression=labels,
    data_type=st.none() | data_types,
    scale=st.none() | st.integers(0, 8),
    description=optional_text,
)
constants = st.builds(
    Constant, name=names, data_type=data_types, value=st.none() | values, description=optional_text
)
templates = st.builds(
    TextTemplate,
    name=names,
    text=labels,
    is_viewed_as_plain_text=flags,
    description=optional_text,
)
orchestrations = st.builds(
    Orchestration,
    name=names,
    label=labels,
    status=st.sampled_from(FlowStatus),
    api_version=st.none() | st.sampled_from(["52.0", "62.0"]),
    description=optional_text,
    interview_label=optional_text,
    run_in_mode=st.none() | st.sampled_from(FlowRunInMode),
    trigger=triggers,
    start=connectors,
    start_location=locations,
    stages=st.lists(stages, max_size=3).map(tuple),
    decisions=st.lists(decisions, max_size=2).map(tuple),
    variables=st.lists(variables, max_size=3).map(tuple),
    formulas=st.lists(formulas, max_size=2).map(tuple),
    constants=st.lists(constants, max_size=2).map(tuple),
    text_templates=st.lists(templates, max_size=2).map(tuple),
)
