"""The strings Flow metadata stores for the elements the engine runs: screen field
types, assignment operators, action types, and the reserved names of evaluation flows."""

from __future__ import annotations

from enum import StrEnum

from workroute.orchestration.vocabulary import FlowDataType


class ScreenFieldType(StrEnum):
    """FlowScreenFieldType: every value the Metadata API knows (so real files read)."""

    DISPLAY_TEXT = "DisplayText"
    INPUT_FIELD = "InputField"
    LARGE_TEXT_AREA = "LargeTextArea"
    PASSWORD_FIELD = "PasswordField"
    RADIO_BUTTONS = "RadioButtons"
    DROPDOWN_BOX = "DropdownBox"
    MULTI_SELECT_CHECKBOXES = "MultiSelectCheckboxes"
    MULTI_SELECT_PICKLIST = "MultiSelectPicklist"
    COMPONENT_INSTANCE = "ComponentInstance"
    COMPONENT_INPUT = "ComponentInput"
    COMPONENT_CHOICE = "ComponentChoice"
    COMPONENT_MULTI_CHOICE = "ComponentMultiChoice"
    COMPONENT_DISPLAY = "ComponentDisplay"
    REGION_CONTAINER = "RegionContainer"
    REGION = "Region"
    OBJECT_PROVIDED = "ObjectProvided"

    @property
    def is_input(self) -> bool:
        """Whether workroute shows the field as a form input."""
        return self in _INPUTS

    @property
    def is_choice(self) -> bool:
        return self in _CHOICES

    @property
    def is_multi(self) -> bool:
        return self in (
            ScreenFieldType.MULTI_SELECT_CHECKBOXES,
            ScreenFieldType.MULTI_SELECT_PICKLIST,
        )

    @property
    def is_section(self) -> bool:
        """A section or column whose own ``<fields>`` are read in its place."""
        return self in (ScreenFieldType.REGION_CONTAINER, ScreenFieldType.REGION)

    @property
    def is_runnable(self) -> bool:
        """Display text, inputs and choices; components (Lightning components,
        ObjectProvided record fields) need a browser runtime workroute does not have."""
        return self is ScreenFieldType.DISPLAY_TEXT or self in _INPUTS


_CHOICES = frozenset(
    {
        ScreenFieldType.RADIO_BUTTONS,
        ScreenFieldType.DROPDOWN_BOX,
        ScreenFieldType.MULTI_SELECT_CHECKBOXES,
        ScreenFieldType.MULTI_SELECT_PICKLIST,
    }
)
_INPUTS = frozenset(
    {
        ScreenFieldType.INPUT_FIELD,
        ScreenFieldType.LARGE_TEXT_AREA,
        ScreenFieldType.PASSWORD_FIELD,
        *_CHOICES,
    }
)

#: The data types a screen input may hold (the rest are Flow resource types).
SCREEN_DATA_TYPES = (
    FlowDataType.STRING,
    FlowDataType.NUMBER,
    FlowDataType.CURRENCY,
    FlowDataType.BOOLEAN,
    FlowDataType.DATE,
    FlowDataType.DATETIME,
)


class AssignmentOperator(StrEnum):
    """FlowAssignmentOperator."""

    ASSIGN = "Assign"
    ADD = "Add"
    SUBTRACT = "Subtract"
    ADD_ITEM = "AddItem"
    ADD_AT_START = "AddAtStart"
    ASSIGN_COUNT = "AssignCount"
    REMOVE_ALL = "RemoveAll"
    REMOVE_FIRST = "RemoveFirst"
    REMOVE_AFTER_FIRST = "RemoveAfterFirst"
    REMOVE_BEFORE_FIRST = "RemoveBeforeFirst"
    REMOVE_POSITION = "RemovePosition"
    REMOVE_UNCOMMON = "RemoveUncommon"
    EQUALS = "Equals"


class ActionKind(StrEnum):
    """What an ``actionCalls`` element does in workroute."""

    #: ``actionType`` emailSimple: an :class:`~workroute.flows.EmailRequest`.
    EMAIL = "email"
    #: ``actionType`` apex (or externalService): the registered Python callable or
    #: webhook named ``actionName``.
    REGISTERED = "registered"
    #: Anything else (chatter posts, quick actions, ...): refused when reached.
    OTHER = "other"


#: actionType values that name something registered with FlowCallables.
REGISTERED_ACTION_TYPES = frozenset({"apex", "externalService"})
EMAIL_ACTION_TYPE = "emailSimple"

#: The Boolean output an evaluation flow decides with (seed 001).
CONDITION_MET = "isOrchestrationConditionMet"
#: Salesforce's limit on elements one flow interview executes.
MAX_EXECUTED_ELEMENTS = 2000
