"""Workflow metadata: every type, the seed sample, validation rules with locations."""

from __future__ import annotations

import pytest

from workroute.kernel.errors import DeployError, DeployProblem
from workroute.metadata.workflow import (
    ActionEmailRecipientTypes,
    ActionEmailSenderType,
    ActionTaskAssignedToTypes,
    FieldUpdateOperation,
    FilterItem,
    FilterOperation,
    KnowledgeWorkflowAction,
    LookupValueType,
    Workflow,
    WorkflowActionReference,
    WorkflowActionType,
    WorkflowTimeUnits,
    WorkflowTriggerTypes,
    boolean_filter_problems,
    check_action_references,
    defined_actions,
    parse_boolean_filter,
    parse_workflow,
    validate_against_schema,
    validate_workflow,
    workflow_object_name,
    workflow_to_xml,
)
from workroute.schema.model import FieldDef, FieldType, ObjectDef
from workroute.schema.registry import SchemaRegistry

SEED_SAMPLE = """\
<?xml version="1.0" encoding="UTF-8"?>
<Workflow xmlns="http://soap.sforce.com/2006/04/metadata">
    <alerts>
        <fullName>Another_alert</fullName>
        <description>Another alert</description>
        <protected>false</protected>
        <recipients>
            <type>accountOwner</type>
        </recipients>
        <recipients>
            <field>Contact__c</field>
            <type>contactLookup</type>
        </recipients>
        <recipients>
            <field>Email__c</field>
            <type>email</type>
        </recipients>
        <template>TestEmail/Email Test</template>
    </alerts>
    <fieldUpdates>
        <fullName>Enum_Field_Update</fullName>
        <description>Blah</description>
        <field>EnumField__c</field>
        <name>Enum Field Update</name>
        <notifyAssignee>true</notifyAssignee>
        <operation>NextValue</operation>
        <protected>false</protected>
    </fieldUpdates>
    <fieldUpdates>
        <fullName>Enum_Field_Update2</fullName>
        <description>Blah</description>
        <field>EnumField__c</field>
        <literalValue>PLX2</literalValue>
        <name>Enum Field Update2</name>
        <notifyAssignee>true</notifyAssignee>
        <operation>Literal</operation>
        <protected>false</protected>
    </fieldUpdates>
    <fieldUpdates>
        <fullName>Field_Update</fullName>
        <description>TestField update desc</description>
        <field>Name</field>
        <formula>Name &amp; &quot;Updated&quot;</formula>
        <name>Field Update</name>
        <notifyAssignee>false</notifyAssignee>
        <operation>Formula</operation>
        <protected>false</protected>
    </fieldUpdates>
    <fieldUpdates>
        <fullName>Lookup_On_Contact</fullName>
        <field>RealOwner__c</field>
        <lookupValue>admin@acme.com</lookupValue>
        <name>Lookup On Contact</name>
        <notifyAssignee>false</notifyAssignee>
        <operation>LookupValue</operation>
        <protected>false</protected>
    </fieldUpdates>
    <outboundMessages>
        <fullName>Another_Outbound_message</fullName>
        <description>Another Random outbound.</description>
        <endpointUrl>http://www.test.com</endpointUrl>
        <fields>Email__c</fields>
        <fields>Id</fields>
        <fields>Name</fields>
        <includeSessionId>true</includeSessionId>
        <integrationUser>admin@acme.com</integrationUser>
        <name>Another Outbound message</name>
        <protected>false</protected>
    </outboundMessages>
    <rules>
        <fullName>BooleanFilter</fullName>
        <active>false</active>
        <booleanFilter>1 AND 2 OR 3</booleanFilter>
        <criteriaItems>
            <field>CustomObjectForWorkflow__c.CreatedById</field>
            <operation>notEqual</operation>
        </criteriaItems>
        <criteriaItems>
            <field>CustomObjectForWorkflow__c.CreatedById</field>
            <operation>notEqual</operation>
            <value>abc</value>
        </criteriaItems>
        <criteriaItems>
            <field>CustomObjectForWorkflow__c.CreatedById</field>
            <operation>equals</operation>
            <value>xyz</value>
        </criteriaItems>
        <triggerType>onCreateOrTriggeringUpdate</triggerType>
    </rules>
    <rules>
        <fullName>Custom Rule1</fullName>
        <actions>
            <name>Another_alert</name>
            <type>Alert</type>
        </actions>
        <actions>
            <name>Enum_Field_Update2</name>
            <type>FieldUpdate</type>
        </actions>
        <actions>
            <fullName>Field_Update</name>
                <type>FieldUpdate</type>
        </actions>
        <actions>
            <name>Another_Outbound_message</name>
            <type>OutboundMessage</type>
        </actions>
        <actions>
            <name>Role_task_was_completed</name>
            <type>Task</type>
        </actions>
        <active>true</active>
        <criteriaItems>
            <field>CustomObjectForWorkflow__c.Name</field>
            <operation>startsWith</operation>
            <value>ABC</value>
        </criteriaItems>
        <description>Custom Rule1 desc</description>
        <triggerType>onCreateOrTriggeringUpdate</triggerType>
    </rules>
    <rules>
        <fullName>IsChangedFunctionRule</fullName>
        <active>true</active>
        <description>IsChangedDesc</description>
        <formula>ISCHANGED(Name)</formula>
        <triggerType>onAllChanges</triggerType>
    </rules>
    <tasks>
        <fullName>Another_task_was_completed</fullName>
        <assignedToType>owner</assignedToType>
        <description>Random Comment</description>
        <dueDateOffset>20</dueDateOffset>
        <notifyAssignee>true</notifyAssignee>
        <priority>High</priority>
        <protected>false</protected>
        <status>Completed</status>
        <subject>Another task was completed</subject>
    </tasks>
    <tasks>
        <fullName>Role_task_was_completed</fullName>
        <assignedTo>R11</assignedTo>
        <assignedToType>role</assignedToType>
        <dueDateOffset>-2</dueDateOffset>
        <notifyAssignee>true</notifyAssignee>
        <offsetFromField>CustomObjectForWorkflow__c.CreatedDate</offsetFromField>
        <priority>High</priority>
        <protected>false</protected>
        <status>Completed</status>
        <subject>Role task was completed</subject>
    </tasks>
    <tasks>
        <fullName>User_task_was_completed</fullName>
        <assignedTo>admin@acme.com</assignedTo>
        <assignedToType>user</assignedToType>
        <dueDateOffset>-2</dueDateOffset>
        <notifyAssignee>true</notifyAssignee>
        <offsetFromField>User.CreatedDate</offsetFromField>
        <priority>High</priority>
        <protected>false</protected>
        <status>Completed</status>
        <subject>User task was completed</subject>
    </tasks>
</Workflow>
"""
FIXED_SAMPLE = SEED_SAMPLE.replace(
    "<fullName>Field_Update</name>\n                <type>",
    "<name>Field_Update</name>\n            <type>",
)
FILE = "workflows/Case.workflow"


def wf_xml(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Workflow xmlns="http://soap.sforce.com/2006/04/metadata">\n' + body + "</Workflow>\n"
    ).encode()


def rule(inner: str, name: str = "R1") -> str:
    return f"<rules>\n<fullName>{name}</fullName>\n<active>true</active>\n{inner}</rules>\n"


CRIT = (
    "<criteriaItems>\n<field>Case.Status</field>\n<operation>equals</operation>\n"
    "<value>New</value>\n</criteriaItems>\n"
)


def problems(body: str) -> list[DeployProblem]:
    with pytest.raises(DeployError) as exc:
        parse_workflow(wf_xml(body), FILE)
    return exc.value.problems


def roundtrip(wf: Workflow) -> None:
    assert parse_workflow(workflow_to_xml(wf), FILE, object_name=wf.full_name) == wf


def test_object_name_from_file() -> None:
    assert workflow_object_name("workflows/Case.workflow") == "Case"
    assert workflow_object_name("force-app/x/workflows/Foo__c.workflow-meta.xml") == "Foo__c"
    assert parse_workflow(wf_xml(""), "a/Lead.workflow").full_name == "Lead"
    assert parse_workflow(wf_xml(""), "x", object_name="Account").full_name == "Account"


def test_seed_sample_malformed_fails_with_line() -> None:
    with pytest.raises(DeployError) as exc:
        parse_workflow(SEED_SAMPLE.encode(), "workflows/CustomObjectForWorkflow__c.workflow")
    (p,) = exc.value.problems
    assert p.line == 101
    assert "not well formed" in p.message


def test_seed_sample_corrected_parses_and_round_trips() -> None:
    # The documented sample omits <apiVersion>, which the same page marks Required.
    with pytest.raises(DeployError) as exc:
        parse_workflow(FIXED_SAMPLE.encode(), "workflows/CustomObjectForWorkflow__c.workflow")
    assert [(p.element, p.line) for p in exc.value.problems] == [("apiVersion", 58)]
    fixed = FIXED_SAMPLE.replace(
        "<outboundMessages>\n", "<outboundMessages>\n        <apiVersion>52.0</apiVersion>\n"
    )
    wf = parse_workflow(fixed.encode(), "workflows/CustomObjectForWorkflow__c.workflow")
    assert wf.full_name == "CustomObjectForWorkflow__c"
    assert [a.full_name for a in wf.alerts] == ["Another_alert"]
    assert [r.type for r in wf.alerts[0].recipients] == [
        ActionEmailRecipientTypes.ACCOUNT_OWNER,
        ActionEmailRecipientTypes.CONTACT_LOOKUP,
        ActionEmailRecipientTypes.EMAIL,
    ]
    assert [f.operation for f in wf.field_updates] == [
        FieldUpdateOperation.NEXT_VALUE,
        FieldUpdateOperation.LITERAL,
        FieldUpdateOperation.FORMULA,
        FieldUpdateOperation.LOOKUP_VALUE,
    ]
    assert wf.field_updates[2].formula == 'Name & "Updated"'
    assert [r.full_name for r in wf.rules] == [
        "BooleanFilter",
        "Custom Rule1",
        "IsChangedFunctionRule",
    ]
    assert wf.rules[1].actions[2] == WorkflowActionReference(
        name="Field_Update", type=WorkflowActionType.FIELD_UPDATE
    )
    assert wf.rules[2].trigger_type is WorkflowTriggerTypes.ON_ALL_CHANGES
    assert wf.tasks[1].due_date_offset == -2
    assert wf.tasks[1].assigned_to_type is ActionTaskAssignedToTypes.ROLE
    roundtrip(wf)
    # The sample as a whole is valid (the rule name "Custom Rule1" has a space: rule
    # names are labels, not developer names).
    assert validate_workflow(wf) == []
    assert check_action_references(wf) == []


ALL_TYPES = """\
<alerts><fullName>A1</fullName><ccEmails>a@x.com</ccEmails><description>d</description>
<protected>false</protected><recipients><recipient>u@x.com</recipient><type>user</type></recipients>
<senderAddress>s@x.com</senderAddress><senderType>OrgWideEmailAddress</senderType>
<template>T/E</template></alerts>
<fieldUpdates><fullName>F1</fullName><field>OwnerId</field><lookupValue>Q1</lookupValue>
<lookupValueType>Queue</lookupValueType><name>F 1</name><notifyAssignee>false</notifyAssignee>
<operation>LookupValue</operation><protected>false</protected>
<reevaluateOnChange>true</reevaluateOnChange><targetObject>ParentId</targetObject></fieldUpdates>
<flowActions><fullName>FA1</fullName><description>x</description><flow>MyFlow</flow>
<flowInputs><name>rec</name><value>{!this}</value></flowInputs><label>FA 1</label>
<language>en_US</language><protected>false</protected></flowActions>
<knowledgePublishes><fullName>K1</fullName><action>PublishAsNew</action><label>K 1</label>
<language>en_US</language><protected>false</protected></knowledgePublishes>
<outboundMessages><fullName>O1</fullName><apiVersion>52.0</apiVersion>
<endpointUrl>https://x</endpointUrl><fields>Id</fields><fields>Status</fields>
<includeSessionId>false</includeSessionId><integrationUser>u@x.com</integrationUser>
<name>O 1</name><protected>false</protected><useDeadLetterQueue>false</useDeadLetterQueue>
</outboundMessages>
<rules><fullName>R 1</fullName>
<actions><name>A1</name><type>Alert</type></actions>
<actions><name>FA1</name><type>FlowAction</type></actions>
<actions><name>K1</name><type>KnowledgePublish</type></actions>
<actions><name>O1</name><type>OutboundMessage</type></actions>
<active>true</active><booleanFilter>1 OR (2 AND NOT 1)</booleanFilter>
<criteriaItems><field>Case.Status</field><operation>equals</operation><value>New</value>
</criteriaItems><criteriaItems><field>Case.Subject</field><operation>notContain</operation>
<valueField>Case.Description</valueField></criteriaItems>
<failedMigrationToolVersion>54.0</failedMigrationToolVersion>
<triggerType>onCreateOnly</triggerType>
<workflowTimeTriggers><actions><name>T1</name><type>Task</type></actions>
<offsetFromField>Case.CreatedDate</offsetFromField><timeLength>-3</timeLength>
<workflowTimeTriggerUnit>Hours</workflowTimeTriggerUnit></workflowTimeTriggers></rules>
<tasks><fullName>T1</fullName><assignedTo>u@x.com</assignedTo><assignedToType>user</assignedToType>
<dueDateOffset>2</dueDateOffset><notifyAssignee>false</notifyAssignee>
<offsetFromField>Case.CreatedDate</offsetFromField><priority>High</priority>
<protected>false</protected><status>Not Started</status><subject>Do it</subject></tasks>
"""


def test_every_type_parses_and_round_trips() -> None:
    wf = parse_workflow(wf_xml(ALL_TYPES), FILE)
    a = wf.alerts[0]
    assert a.cc_emails == ("a@x.com",)
    assert a.sender_type is ActionEmailSenderType.ORG_WIDE_EMAIL_ADDRESS
    assert a.recipients[0].recipient == "u@x.com"
    f = wf.field_updates[0]
    assert f.lookup_value_type is LookupValueType.QUEUE
    assert f.reevaluate_on_change is True and f.target_object == "ParentId"
    assert f.description is None
    fa = wf.flow_actions[0]
    assert fa.flow_inputs[0].value == "{!this}" and fa.protected is False
    assert wf.knowledge_publishes[0].action is KnowledgeWorkflowAction.PUBLISH_AS_NEW
    o = wf.outbound_messages[0]
    assert o.fields == ("Id", "Status") and o.api_version == "52.0"
    r = wf.rules[0]
    assert r.criteria_items[1] == FilterItem(
        field="Case.Subject",
        operation=FilterOperation.NOT_CONTAIN,
        value_field="Case.Description",
    )
    tt = r.workflow_time_triggers[0]
    assert tt.time_length == -3 and tt.workflow_time_trigger_unit is WorkflowTimeUnits.HOURS
    assert r.failed_migration_tool_version == "54.0"
    assert wf.tasks[0].due_date_offset == 2
    assert ("Task", "T1") in {(t.value, n) for t, n in defined_actions(wf)}
    roundtrip(wf)
    out = workflow_to_xml(wf)
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Workflow xmlns=')
    # Salesforce's order: fullName first, then alphabetical.
    text = out.decode()
    assert text.index("<ccEmails>") < text.index("<description>") < text.index("<template>")
    assert text.index("<alerts>") < text.index("<fieldUpdates>") < text.index("<tasks>")


def test_bad_values_and_unknown_elements_are_located() -> None:
    body = (
        "<fieldUpdates>\n<fullName>F1</fullName>\n<field>Status</field>\n<name>F</name>\n"
        "<notifyAssignee>maybe</notifyAssignee>\n<operation>Sometimes</operation>\n"
        "<protected>false</protected>\n<bogus>1</bogus>\n</fieldUpdates>\n"
    )
    got = {(p.line, p.element) for p in problems(body)}
    assert got == {(7, "notifyAssignee"), (8, "operation"), (10, "bogus")}


def test_required_elements() -> None:
    got = problems("<tasks>\n<fullName>T1</fullName>\n</tasks>\n")
    missing = sorted(p.element or "" for p in got)
    assert missing == [
        "dueDateOffset",
        "notifyAssignee",
        "priority",
        "protected",
        "status",
        "subject",
    ]
    assert all(p.line == 3 and p.component == "Case.T1" for p in got)
    got = problems(rule(CRIT).replace("<active>true</active>\n", ""))
    assert [(p.element, p.line) for p in got] == [("active", 3)]
    got = problems("<alerts>\n<fullName>A</fullName>\n</alerts>\n")
    assert sorted(p.element or "" for p in got) == ["description", "protected", "template"]


def test_full_name_rules() -> None:
    body = "".join(
        f"<tasks>\n<fullName>{n}</fullName>\n<dueDateOffset>0</dueDateOffset>\n"
        "<notifyAssignee>false</notifyAssignee>\n<priority>High</priority>\n"
        "<protected>false</protected>\n<status>Open</status>\n<subject>s</subject>\n</tasks>\n"
        for n in ("1abc", "a___b", "ab_", "a b", "ns__Good_Name", "Good", "good")
    )
    got = [(p.line, p.message) for p in problems(body)]
    assert [line for line, _ in got] == [4, 13, 22, 31, 58]
    assert "Duplicate" in got[-1][1]


def test_cc_emails_at_most_five() -> None:
    cc = "".join(f"<ccEmails>a{i}@x.com</ccEmails>\n" for i in range(6))
    body = (
        f"<alerts>\n<fullName>A</fullName>\n{cc}<description>d</description>\n"
        "<protected>false</protected>\n<template>T/E</template>\n</alerts>\n"
    )
    (p,) = problems(body)
    assert p.element == "ccEmails" and p.line == 5 and "at most 5" in p.message


def test_sender_address_needs_org_wide_sender() -> None:
    body = (
        "<alerts>\n<fullName>A</fullName>\n<description>d</description>\n"
        "<protected>false</protected>\n<senderAddress>s@x.com</senderAddress>\n"
        "<senderType>CurrentUser</senderType>\n<template>T/E</template>\n</alerts>\n"
    )
    (p,) = problems(body)
    assert (p.element, p.line) == ("senderAddress", 7)


def test_outbound_api_version() -> None:
    body = (
        "<outboundMessages>\n<fullName>O</fullName>\n<apiVersion>12.0</apiVersion>\n"
        "<endpointUrl>https://x</endpointUrl>\n<includeSessionId>false</includeSessionId>\n"
        "<integrationUser>u</integrationUser>\n<name>O</name>\n<protected>false</protected>\n"
        "</outboundMessages>\n"
    )
    (p,) = problems(body)
    assert (p.element, p.line) == ("apiVersion", 5)


def test_criteria_and_formula_are_exclusive_and_one_is_needed() -> None:
    (p,) = problems(rule(CRIT + "<formula>true</formula>\n"))
    assert (p.element, p.line) == ("formula", 11)
    (p,) = problems(rule(""))
    assert p.element == "criteriaItems" and "must set" in p.message
    (p,) = problems(rule("<booleanFilter>1</booleanFilter>\n<formula>true</formula>\n"))
    assert (p.element, p.line) == ("booleanFilter", 6)


def test_boolean_filter_parser() -> None:
    assert parse_boolean_filter("(1 AND 2) OR 3") == (1, 2, 3)
    assert parse_boolean_filter("1 and NOT( 2)") == (1, 2)
    assert parse_boolean_filter("3 AND(1 OR 2)") == (3, 1, 2)
    assert boolean_filter_problems("1 AND 2 OR 3", 3) == []
    assert "position 9" in boolean_filter_problems("(1 AND 2", 2)[0]
    assert "unexpected 'XOR'" in boolean_filter_problems("1 XOR 2", 2)[0]
    assert "expected a condition" in boolean_filter_problems("1 AND", 1)[0]
    assert "unexpected '&'" in boolean_filter_problems("1 & 2", 2)[0]
    assert boolean_filter_problems("1 AND 4", 2) == [
        "booleanFilter '1 AND 4' references condition 4; the rule has 2",
        "booleanFilter '1 AND 4' does not use condition(s) 2",
    ]
    (p,) = problems(rule("<booleanFilter>1 OR (2</booleanFilter>\n" + CRIT + CRIT))
    assert (p.element, p.line) == ("booleanFilter", 6)


def test_time_trigger_rules() -> None:
    tt = (
        "<workflowTimeTriggers>\n<timeLength>1000</timeLength>\n"
        "<workflowTimeTriggerUnit>Days</workflowTimeTriggerUnit>\n</workflowTimeTriggers>\n"
    )
    got = problems(rule(CRIT + "<triggerType>onAllChanges</triggerType>\n" + tt))
    assert [(p.element, p.line) for p in got] == [("workflowTimeTriggers", 12), ("timeLength", 13)]
    ok = tt.replace("1000", "-999")
    assert parse_workflow(wf_xml(rule(CRIT + ok)), FILE).rules[0].workflow_time_triggers
    (p,) = problems(rule(CRIT + ok * 11))
    assert "at most 10 time triggers" in p.message


def test_at_most_40_immediate_actions() -> None:
    acts = "<actions>\n<name>X</name>\n<type>Alert</type>\n</actions>\n" * 41
    (p,) = problems(rule(acts + CRIT))
    assert p.element == "actions" and p.line == 6 and "40" in p.message


def test_action_references_are_a_deploy_time_check() -> None:
    body = rule("<actions>\n<name>Elsewhere</name>\n<type>FieldUpdate</type>\n</actions>\n" + CRIT)
    wf = parse_workflow(wf_xml(body), FILE)  # a single file does not fail on it
    (p,) = check_action_references(wf)
    assert (p.element, p.line) == ("name", 7)
    assert "FieldUpdate 'Elsewhere'" in p.message
    assert check_action_references(wf, {(WorkflowActionType.FIELD_UPDATE, "elsewhere")}) == []
    assert check_action_references(wf, {(WorkflowActionType.ALERT, "Elsewhere")}) != []


def _schema() -> SchemaRegistry:
    account = ObjectDef(
        name="Account",
        key_prefix="001",
        fields=(FieldDef(name="Name", type=FieldType.STRING),),
    )
    user = ObjectDef(
        name="User", key_prefix="005", fields=(FieldDef(name="ProfileId", type=FieldType.ID),)
    )
    case = ObjectDef(
        name="Case",
        key_prefix="500",
        fields=(
            FieldDef(name="Status", type=FieldType.PICKLIST),
            FieldDef(
                name="AccountId",
                type=FieldType.REFERENCE,
                reference_to=("Account",),
                relationship_name="Account",
            ),
        ),
    )
    return SchemaRegistry([account, user, case])


def test_validate_against_schema() -> None:
    items = "".join(
        f"<criteriaItems>\n<field>{f}</field>\n<operation>equals</operation>\n</criteriaItems>\n"
        for f in ("Case.Status", "Status", "Case.Account.Name", "User.ProfileId", "Case.Nope")
    )
    fu = (
        "<fieldUpdates>\n<fullName>F</fullName>\n<field>Missing__c</field>\n<name>F</name>\n"
        "<notifyAssignee>false</notifyAssignee>\n<operation>Null</operation>\n"
        "<protected>false</protected>\n</fieldUpdates>\n"
    )
    wf = parse_workflow(wf_xml(fu + rule(items)), FILE)
    got = validate_against_schema(wf, _schema())
    assert [(p.element, p.line) for p in got] == [("field", 31), ("field", 5)]
    assert "Case has no field 'Nope'" in got[0].message
    other = parse_workflow(wf_xml(""), "workflows/Ghost__c.workflow")
    assert "does not exist" in validate_against_schema(other, _schema())[0].message
