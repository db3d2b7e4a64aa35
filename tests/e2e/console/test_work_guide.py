"""The To Do list and the Work Guide in a real browser (seed 000, "Flow Orchestration
Work Items"): an orchestration whose interactive step is assigned to a queue of two
demo agents, with a screen flow holding every kind of field (long text with help
text, radio buttons, a picklist defaulted from the record, a number with a validation
rule, currency, date, date-time, multi-select checkboxes, a required checkbox).

The list follows the work item events; a refused submission shows the server's
messages and changes nothing; two queue members race for one work item and only the
first completion counts; the run then moves on. Also the records pages and the
administrators' automation queues (a time-based workflow action and an outbound
message that cannot be delivered)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    AGENT_PASSWORD,
    PHONE,
    BrowserErrors,
    ConsoleServer,
    OpenPage,
    agent,
)
from workroute.testing import free_port

NS = "http://soap.sforce.com/2006/04/metadata"
QUEUE = "Case_Reviewers"
ORCHESTRATION = "Case_Refund_Review"
STEP = "Review the refund"
RULE_MESSAGE = "Hours must be below 40"
REQUIRED = "Complete this field."
#: Cases with this subject get a time-based workflow action and an outbound message.
FOLLOW_UP = "Follow up"
V1 = "/services/workroute/v1"

# The screen flow of the interactive step. Its Priority defaults to the case's.
SCREEN_FLOW = f"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="{NS}">
    <apiVersion>62.0</apiVersion>
    <choices>
        <name>Choice_Yes</name>
        <choiceText>Yes, approve</choiceText>
        <dataType>String</dataType>
        <value><stringValue>yes</stringValue></value>
    </choices>
    <choices>
        <name>Choice_No</name>
        <choiceText>No</choiceText>
        <dataType>String</dataType>
        <value><stringValue>no</stringValue></value>
    </choices>
    <choices>
        <name>Tag_Billing</name>
        <choiceText>Billing</choiceText>
        <dataType>String</dataType>
    </choices>
    <choices>
        <name>Tag_Hardware</name>
        <choiceText>Hardware</choiceText>
        <dataType>String</dataType>
    </choices>
    <dynamicChoiceSets>
        <name>Priority_Values</name>
        <dataType>Picklist</dataType>
        <picklistField>Priority</picklistField>
        <picklistObject>Case</picklistObject>
    </dynamicChoiceSets>
    <label>Refund Review Form</label>
    <processType>Flow</processType>
    <screens>
        <name>Review</name>
        <label>Review the case</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <allowBack>false</allowBack>
        <allowFinish>true</allowFinish>
        <allowPause>false</allowPause>
        <fields>
            <name>Intro</name>
            <fieldText>&lt;p&gt;Case {{!$Record.CaseNumber}}:
                &lt;b&gt;{{!$Record.Subject}}&lt;/b&gt;&lt;/p&gt;</fieldText>
            <fieldType>DisplayText</fieldType>
        </fields>
        <fields>
            <name>Resolution</name>
            <fieldText>Resolution</fieldText>
            <fieldType>LargeTextArea</fieldType>
            <helpText>What was done for the customer, in a sentence or two</helpText>
            <isRequired>true</isRequired>
        </fields>
        <fields>
            <name>Approval</name>
            <choiceReferences>Choice_Yes</choiceReferences>
            <choiceReferences>Choice_No</choiceReferences>
            <dataType>String</dataType>
            <fieldText>Approve the refund?</fieldText>
            <fieldType>RadioButtons</fieldType>
            <isRequired>true</isRequired>
        </fields>
        <fields>
            <name>Priority</name>
            <choiceReferences>Priority_Values</choiceReferences>
            <dataType>String</dataType>
            <defaultValue><elementReference>$Record.Priority</elementReference></defaultValue>
            <fieldText>Priority</fieldText>
            <fieldType>DropdownBox</fieldType>
            <isRequired>true</isRequired>
        </fields>
        <fields>
            <name>Hours</name>
            <dataType>Number</dataType>
            <fieldText>Hours spent</fieldText>
            <fieldType>InputField</fieldType>
            <isRequired>false</isRequired>
            <scale>1</scale>
            <validationRule>
                <errorMessage>&lt;p&gt;{RULE_MESSAGE}&lt;/p&gt;</errorMessage>
                <formulaExpression>{{!Hours}} &lt; 40</formulaExpression>
            </validationRule>
        </fields>
        <fields>
            <name>Refund</name>
            <dataType>Currency</dataType>
            <fieldText>Refund amount</fieldText>
            <fieldType>InputField</fieldType>
            <isRequired>false</isRequired>
            <scale>2</scale>
        </fields>
        <fields>
            <name>Follow_Up_On</name>
            <dataType>Date</dataType>
            <fieldText>Follow up on</fieldText>
            <fieldType>InputField</fieldType>
            <isRequired>false</isRequired>
        </fields>
        <fields>
            <name>Call_Back_At</name>
            <dataType>DateTime</dataType>
            <fieldText>Call back at</fieldText>
            <fieldType>InputField</fieldType>
            <isRequired>false</isRequired>
        </fields>
        <fields>
            <name>Tags</name>
            <choiceReferences>Tag_Billing</choiceReferences>
            <choiceReferences>Tag_Hardware</choiceReferences>
            <dataType>String</dataType>
            <fieldText>Tags</fieldText>
            <fieldType>MultiSelectCheckboxes</fieldType>
            <isRequired>false</isRequired>
        </fields>
        <fields>
            <name>Confirmed</name>
            <dataType>Boolean</dataType>
            <fieldText>I checked the customer's contract</fieldText>
            <fieldType>InputField</fieldType>
            <isRequired>true</isRequired>
        </fields>
        <showFooter>true</showFooter>
        <showHeader>true</showHeader>
    </screens>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector><targetReference>Review</targetReference></connector>
    </start>
    <status>Active</status>
    <variables>
        <name>recordId</name>
        <dataType>String</dataType>
        <isCollection>false</isCollection>
        <isInput>true</isInput>
        <isOutput>false</isOutput>
    </variables>
</Flow>
"""

# The second stage's background step: close the case.
CLOSE_FLOW = f"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="{NS}">
    <apiVersion>62.0</apiVersion>
    <label>Close Reviewed Case</label>
    <processType>AutoLaunchedFlow</processType>
    <recordUpdates>
        <name>Close_It</name>
        <label>Close it</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <filterLogic>and</filterLogic>
        <filters>
            <field>Id</field>
            <operator>EqualTo</operator>
            <value><elementReference>recordId</elementReference></value>
        </filters>
        <inputAssignments>
            <field>Status</field>
            <value><stringValue>Closed</stringValue></value>
        </inputAssignments>
        <object>Case</object>
    </recordUpdates>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector><targetReference>Close_It</targetReference></connector>
    </start>
    <status>Active</status>
    <variables>
        <name>recordId</name>
        <dataType>String</dataType>
        <isCollection>false</isCollection>
        <isInput>true</isInput>
        <isOutput>false</isOutput>
    </variables>
</Flow>
"""

# Started through the API on a case (its recordId input): review by the queue, then close.
ORCHESTRATION_FLOW = f"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="{NS}">
    <apiVersion>62.0</apiVersion>
    <label>Case Refund Review</label>
    <orchestratedStages>
        <name>Reviewing</name>
        <label>Reviewing</label>
        <connector><targetReference>Closing</targetReference></connector>
        <stageSteps>
            <name>Review</name>
            <actionName>Refund_Review_Form</actionName>
            <actionType>stepInteractive</actionType>
            <assignees>
                <assignee><stringValue>{QUEUE}</stringValue></assignee>
                <assigneeType>Queue</assigneeType>
            </assignees>
            <inputParameters>
                <name>ActionInput__RecordId</name>
                <value><elementReference>recordId</elementReference></value>
            </inputParameters>
            <inputParameters>
                <name>recordId</name>
                <value><elementReference>recordId</elementReference></value>
            </inputParameters>
            <label>{STEP}</label>
        </stageSteps>
    </orchestratedStages>
    <orchestratedStages>
        <name>Closing</name>
        <label>Closing</label>
        <stageSteps>
            <name>Close</name>
            <actionName>Close_Reviewed_Case</actionName>
            <actionType>stepBackground</actionType>
            <inputParameters>
                <name>recordId</name>
                <value><elementReference>recordId</elementReference></value>
            </inputParameters>
            <label>Close the case</label>
        </stageSteps>
    </orchestratedStages>
    <processType>Orchestrator</processType>
    <start><connector><targetReference>Reviewing</targetReference></connector></start>
    <status>Active</status>
    <variables>
        <name>recordId</name>
        <dataType>String</dataType>
        <isInput>true</isInput>
    </variables>
</Flow>
"""


def case_workflow(endpoint: str) -> str:
    """A case whose subject starts with FOLLOW_UP sends an outbound message to
    ``endpoint`` (where nothing listens) and queues a priority raise for in two days."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Workflow xmlns="{NS}">
    <fieldUpdates>
        <fullName>Raise_Priority</fullName>
        <field>Priority</field>
        <literalValue>High</literalValue>
        <name>Raise Priority</name>
        <notifyAssignee>false</notifyAssignee>
        <operation>Literal</operation>
        <protected>false</protected>
        <reevaluateOnChange>false</reevaluateOnChange>
    </fieldUpdates>
    <outboundMessages>
        <fullName>Tell_Billing</fullName>
        <apiVersion>62.0</apiVersion>
        <endpointUrl>{endpoint}</endpointUrl>
        <fields>Id</fields>
        <fields>Subject</fields>
        <includeSessionId>false</includeSessionId>
        <integrationUser>{ADMIN}</integrationUser>
        <name>Tell Billing</name>
        <protected>false</protected>
        <useDeadLetterQueue>true</useDeadLetterQueue>
    </outboundMessages>
    <rules>
        <fullName>Follow_Up_Refunds</fullName>
        <actions>
            <name>Tell_Billing</name>
            <type>OutboundMessage</type>
        </actions>
        <active>true</active>
        <criteriaItems>
            <field>Case.Subject</field>
            <operation>startsWith</operation>
            <value>{FOLLOW_UP}</value>
        </criteriaItems>
        <triggerType>onCreateOnly</triggerType>
        <workflowTimeTriggers>
            <actions>
                <name>Raise_Priority</name>
                <type>FieldUpdate</type>
            </actions>
            <timeLength>2</timeLength>
            <workflowTimeTriggerUnit>Days</workflowTimeTriggerUnit>
        </workflowTimeTriggers>
    </rules>
</Workflow>
"""


def _package() -> bytes:
    files = {
        "package.xml": f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{NS}">'
        f"<types><members>{ORCHESTRATION}</members><members>Refund_Review_Form</members>"
        "<members>Close_Reviewed_Case</members><name>Flow</name></types>"
        "<types><members>Case</members><name>Workflow</name></types>"
        "<version>62.0</version></Package>",
        f"flows/{ORCHESTRATION}.flow-meta.xml": ORCHESTRATION_FLOW,
        "flows/Refund_Review_Form.flow-meta.xml": SCREEN_FLOW,
        "flows/Close_Reviewed_Case.flow-meta.xml": CLOSE_FLOW,
        "workflows/Case.workflow": case_workflow(f"http://127.0.0.1:{free_port()}/billing"),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


@dataclass
class World:
    server: ConsoleServer
    queue: str


@pytest.fixture(scope="module")
def world(server: ConsoleServer) -> World:
    """The queue (Ada and Alan, the first two demo agents; it takes orchestration work
    items, so it owns them) and the metadata, deployed through the REST deploy API."""
    users = {r["Username"]: r["Id"] for r in server.query("SELECT Id, Username FROM User")}
    queue = server.create(
        "Group", {"Name": "Case Reviewers", "DeveloperName": QUEUE, "Type": "Queue"}
    )
    server.create("QueueSobject", {"QueueId": queue, "SobjectType": "FlowOrchestrationWorkItem"})
    for n in (1, 2):
        server.create("GroupMember", {"GroupId": queue, "UserOrGroupId": users[agent(n)]})
    resp = server.session().post(
        f"{server.url}/services/data/v62.0/metadata/deployRequest",
        headers={"Authorization": f"Bearer {server.token(ADMIN, ADMIN_PASSWORD)}"},
        files=[
            ("json", (None, b'{"deployOptions": {"checkOnly": false}}', "application/json")),
            ("file", ("deploy.zip", _package(), "application/zip")),
        ],
    )
    assert resp.status_code == 201, resp.text
    result = resp.json()["deployResult"]
    assert result["success"], result["details"]["componentFailures"]
    return World(server=server, queue=queue)


def items_of(server: ConsoleServer, case: str) -> list[dict[str, Any]]:
    return server.query(
        "SELECT Id, Status, CompletedById, CompletionOutputs FROM FlowOrchestrationWorkItem "
        f"WHERE RelatedRecordId = '{case}'"
    )


def start_review(world: World, subject: str) -> tuple[str, dict[str, Any]]:
    """A new case and a run of the orchestration on it; returns the case and the
    queue's work item (the run moves on after the start commits: the clock's advance
    returns once every due timer has run)."""
    server = world.server
    case = server.create("Case", {"Subject": subject, "Origin": "Web", "Priority": "High"})
    server.call(
        "POST",
        f"{V1}/runs",
        json={"orchestration": ORCHESTRATION, "recordId": case, "inputs": {"recordId": case}},
        expect=201,
    )
    server.advance(1)
    [item] = items_of(server, case)
    assert item["Status"] == "Assigned" and item["CompletedById"] is None
    return case, item


def work_guide_form(page: Page) -> None:
    expect(page.get_by_role("heading", name=STEP)).to_be_visible()
    expect(page.get_by_label("Resolution")).to_be_visible()


def fill_valid(page: Page, *, hours: str = "2.5") -> None:
    page.get_by_label("Resolution").fill("Refund sent; the anvil goes back to the depot.")
    page.get_by_role("radio", name="Yes, approve").check()
    page.get_by_label("Priority").select_option(label="Low")
    page.get_by_label("Hours spent").fill(hours)
    page.get_by_label("Refund amount").fill("19.99")
    page.get_by_label("Follow up on").fill("2030-01-15")
    page.get_by_label("Call back at").fill("2030-01-15T09:30")
    page.get_by_role("checkbox", name="Billing").check()
    page.get_by_label("I checked the customer's contract").check()


def test_to_do_follows_the_queue_and_opens_the_work_guide(
    open_page: OpenPage, world: World, screenshot: Callable[[Page, str], Path]
) -> None:
    ada = open_page(agent(1), hash="#/todo")
    expect(ada.get_by_role("heading", name="To Do", exact=True)).to_be_visible()
    # The work item is assigned while the list is open: it appears without a reload.
    case, item = start_review(world, "Refund for a broken anvil")
    entry = ada.locator(f'[data-work-item-id="{item["Id"]}"]')
    expect(entry).to_be_visible()
    expect(entry.get_by_role("heading", name=STEP)).to_be_visible()
    expect(entry).to_contain_text("Refund for a broken anvil")
    expect(entry).to_contain_text(
        "Case Refund Review \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} Reviewing"
    )
    expect(entry).to_contain_text("Case Reviewers")
    [number] = world.server.query(f"SELECT CaseNumber FROM Case WHERE Id = '{case}'")
    record = entry.get_by_role(
        "link", name=f"Case {number['CaseNumber']} · Refund for a broken anvil", exact=True
    )
    expect(record).to_have_attribute("href", f"#/record/{case}")
    screenshot(ada, "todo-1280")

    entry.get_by_role("link", name=re.compile(f"^Open {STEP}")).click()
    expect(ada).to_have_url(re.compile(f"#/record/{case}$"))
    work_guide_form(ada)
    guide = ada.get_by_role("region", name="Work Guide")
    # The display text, with the record's values merged, as text.
    expect(guide).to_contain_text(f"Case {number['CaseNumber']}: Refund for a broken anvil")
    # Each field is labelled, its widget is the one its type needs.
    resolution = ada.get_by_label("Resolution")
    assert resolution.evaluate("e => e.tagName") == "TEXTAREA"
    expect(resolution).to_have_attribute("required", "")
    help_id = resolution.get_attribute("aria-describedby")
    assert help_id and "help" in help_id
    expect(ada.locator(f"#{help_id}")).to_have_text(
        "What was done for the customer, in a sentence or two"
    )
    expect(ada.get_by_role("radiogroup", name="Approve the refund?")).to_be_visible()
    expect(ada.get_by_label("Priority").locator("option:checked")).to_have_text("High")
    expect(ada.get_by_label("Hours spent")).to_have_attribute("inputmode", "decimal")
    expect(ada.get_by_label("Follow up on")).to_have_attribute("type", "date")
    expect(ada.get_by_label("Call back at")).to_have_attribute("type", "datetime-local")
    expect(ada.get_by_role("group", name="Tags").get_by_role("checkbox")).to_have_count(2)
    expect(ada.get_by_label("I checked the customer's contract")).to_have_attribute(
        "type", "checkbox"
    )
    # The record's details are there too, labelled.
    details = ada.get_by_role("region", name="Details")
    expect(details.locator("dt", has_text="Subject")).to_be_visible()
    expect(details.locator('dd[data-field="Subject"]')).to_have_text("Refund for a broken anvil")
    # The list follows closings too: completed elsewhere, it leaves the list.
    ada.get_by_role("link", name="To Do", exact=True).click()
    expect(entry).to_be_visible()
    world.server.call(
        "POST",
        f"{V1}/workItems/{item['Id']}/complete",
        user=agent(2),
        password=AGENT_PASSWORD,
        json={
            "values": {
                "Resolution": "Done by phone",
                "Approval": "no",
                "Confirmed": True,
            }
        },
    )
    world.server.advance(1)
    expect(entry).to_have_count(0)


def test_a_refused_submission_shows_the_servers_messages_and_changes_nothing(
    open_page: OpenPage,
    world: World,
    browser_errors: BrowserErrors,
    screenshot: Callable[[Page, str], Path],
) -> None:
    server = world.server
    case, _ = start_review(world, "Refund for rocket skates")
    browser_errors.allow(400, "/complete")
    ada = open_page(agent(1), hash=f"#/record/{case}")
    work_guide_form(ada)
    resolution = ada.get_by_label("Resolution")
    hours = ada.get_by_label("Hours spent")
    approval = ada.get_by_role("radiogroup", name="Approve the refund?")
    confirmed = ada.get_by_label("I checked the customer's contract")
    submit = ada.get_by_role("button", name="Submit")

    # Nothing filled in: every required field says so, next to it and in the summary.
    hours.fill("45")
    submit.click()
    summary = ada.get_by_role("alert")
    expect(summary).to_contain_text("The form has 3 problems; nothing was saved.")
    expect(summary).to_contain_text(f"Resolution: {REQUIRED}")
    expect(summary).to_contain_text(f"Approve the refund?: {REQUIRED}")
    expect(summary).to_contain_text(f"I checked the customer's contract: {REQUIRED}")
    expect(summary).to_be_focused()
    for invalid in (resolution, approval, confirmed):
        expect(invalid).to_have_attribute("aria-invalid", "true")
    described = (resolution.get_attribute("aria-describedby") or "").split()
    assert len(described) == 2  # the help text and the error
    expect(ada.locator(f"#{described[1]}")).to_have_text(REQUIRED)
    # The summary's links take the keyboard to the field.
    summary.get_by_role("link", name=f"Resolution: {REQUIRED}").press("Enter")
    expect(resolution).to_be_focused()
    expect(ada).to_have_url(re.compile(f"#/record/{case}$"))  # the router stayed put

    # Required values given, the validation rule broken: its message, on the field;
    # everything typed is still there.
    fill_valid(ada, hours="45")
    submit.click()
    expect(summary).to_contain_text("The form has 1 problem; nothing was saved.")
    expect(summary).to_contain_text(f"Hours spent: {RULE_MESSAGE}")
    expect(hours).to_have_attribute("aria-invalid", "true")
    expect(resolution).not_to_have_attribute("aria-invalid", "true")
    hours_error = (hours.get_attribute("aria-describedby") or "").split()[-1]
    expect(ada.locator(f"#{hours_error}")).to_have_text(RULE_MESSAGE)
    expect(hours).to_have_value("45")
    expect(resolution).to_have_value("Refund sent; the anvil goes back to the depot.")
    expect(ada.get_by_role("radio", name="Yes, approve")).to_be_checked()
    expect(ada.get_by_label("Refund amount")).to_have_value("19.99")
    [still] = items_of(server, case)
    assert (still["Status"], still["CompletedById"]) == ("Assigned", None)
    screenshot(ada, "work-guide-1280")

    # The same refusal on a phone, for Alan, the queue's other member.
    alan = open_page(agent(2), viewport=PHONE, hash=f"#/record/{case}")
    work_guide_form(alan)
    fill_valid(alan, hours="40")
    alan.get_by_role("button", name="Submit").click()
    expect(alan.get_by_role("alert")).to_contain_text(f"Hours spent: {RULE_MESSAGE}")
    screenshot(alan, "work-guide-390")

    # Ada fixes the hours: every kind of value arrives as the flow's type.
    hours.fill("2.5")
    submit.click()
    expect(ada.get_by_text("Completed.", exact=True)).to_be_visible()
    call_back = ada.evaluate("() => new Date('2030-01-15T09:30').toISOString()")
    [done] = items_of(server, case)
    outputs = json.loads(done["CompletionOutputs"])
    assert outputs["Resolution"] == "Refund sent; the anvil goes back to the depot."
    assert (outputs["Approval"], outputs["Priority"], outputs["Tags"]) == ("yes", "Low", "Billing")
    assert (float(outputs["Hours"]), float(outputs["Refund"])) == (2.5, 19.99)
    assert outputs["Follow_Up_On"] == "2030-01-15"
    assert outputs["Call_Back_At"][:16] == call_back[:16]
    assert outputs["Confirmed"] is True


def test_two_queue_members_race_and_only_the_first_completion_counts(
    open_page: OpenPage, world: World, browser_errors: BrowserErrors
) -> None:
    server = world.server
    case, item = start_review(world, "Refund for a faulty magnet")
    ada = open_page(agent(1), hash=f"#/record/{case}")
    alan = open_page(agent(2), viewport=PHONE, hash=f"#/record/{case}")
    work_guide_form(ada)
    work_guide_form(alan)
    # Alan starts typing; Ada completes it first.
    alan.get_by_label("Resolution").fill("Refund approved from my phone")
    fill_valid(ada)
    ada.get_by_role("button", name="Submit").click()
    expect(ada.get_by_text("Completed.", exact=True)).to_be_visible()

    # Alan's form stays (he typed in it) with a notice from the closing event...
    notice = alan.locator(".wg-notice")
    expect(notice).to_contain_text("Ada Lovelace completed this work item.")
    expect(alan.get_by_label("Resolution")).to_have_value("Refund approved from my phone")
    # ...and his submission is refused by the server: who completed it replaces the form.
    browser_errors.allow(409, "/complete")
    fill_valid(alan)
    with alan.expect_response(lambda r: r.url.endswith("/complete")) as answer:
        alan.get_by_role("button", name="Submit").click()
    assert answer.value.status == 409
    alert = alan.get_by_role("alert")
    expect(alert).to_contain_text("Completed by Ada Lovelace")
    expect(alert).to_contain_text("already completed")
    expect(alan.get_by_role("button", name="Submit")).to_have_count(0)
    [done] = items_of(server, case)
    assert json.loads(done["CompletionOutputs"])["Resolution"] != "Refund approved from my phone"
    # On reload there is no work for him, and the completed work says by whom.
    alan.reload()
    guide = alan.get_by_role("region", name="Work Guide")
    expect(guide).to_contain_text("No work for you on this record.")
    expect(guide.get_by_role("listitem").filter(has_text=STEP)).to_contain_text(
        "Completed by Ada Lovelace"
    )
    expect(alan.get_by_role("button", name="Submit")).to_have_count(0)

    # The run moved on: the review step is completed, the second stage closed the case.
    server.advance(1)
    steps = server.query(
        "SELECT Name, Status FROM FlowOrchestrationStepInstance "
        f"WHERE OrchestrationInstanceId = '{item_run(server, item)}'"
    )
    assert sorted((s["Name"], s["Status"]) for s in steps) == [
        ("Close", "Completed"),
        ("Review", "Completed"),
    ]
    [run] = server.query(
        f"SELECT Status FROM FlowOrchestrationInstance WHERE RelatedRecordId = '{case}'"
    )
    assert run["Status"] == "Completed"
    [closed] = server.query(f"SELECT Status FROM Case WHERE Id = '{case}'")
    assert closed["Status"] == "Closed"
    # The record page shows it once it is drawn again.
    ada.reload()
    expect(ada.locator('dd[data-field="Status"]')).to_have_text("Closed")


def item_run(server: ConsoleServer, item: dict[str, Any]) -> str:
    [row] = server.query(
        f"SELECT OrchestrationInstanceId FROM FlowOrchestrationWorkItem WHERE Id = '{item['Id']}'"
    )
    return str(row["OrchestrationInstanceId"])


def test_records_list_and_detail_show_a_demo_case(open_page: OpenPage, world: World) -> None:
    [case] = world.server.query(
        "SELECT Id, CaseNumber FROM Case WHERE Subject = 'Rocket skates misfire'"
    )
    page = open_page(agent(1), hash="#/objects")
    page.get_by_label("Filter objects").fill("cas")
    expect(page.get_by_text(re.compile(r"^\d+ of \d+ objects$"))).to_be_visible()
    expect(page.get_by_role("link", name="Accounts")).to_have_count(0)
    page.get_by_role("link", name="Cases", exact=True).click()
    expect(page).to_have_url(re.compile("#/objects/Case$"))
    expect(page.get_by_role("heading", name="Cases")).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader", name="Case Number")).to_be_visible()
    link = table.get_by_role("link", name=case["CaseNumber"], exact=True)
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(f"#/record/{case['Id']}$"))
    details = page.get_by_role("region", name="Details")
    expect(details.locator('dd[data-field="Subject"]')).to_have_text("Rocket skates misfire")
    expect(details.locator('dd[data-field="Priority"]')).to_have_text("High")
    # References are links to their records, by name.
    expect(details.locator('dd[data-field="AccountId"]').get_by_role("link")).to_have_text(
        "Acme Corporation"
    )
    # Empty fields wait behind a disclosure button.
    description = details.locator('dd[data-field="Description"]')
    expect(description).to_be_hidden()
    toggle = details.get_by_role("button", name=re.compile(r"^(Show|Hide) \d+ empty fields$"))
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_text(re.compile("^Show"))
    toggle.click()
    expect(description).to_have_text("None")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("region", name="Work Guide")).to_contain_text(
        "No work for you on this record."
    )


def test_the_automation_queues_are_for_administrators(
    open_page: OpenPage, world: World, browser_errors: BrowserErrors
) -> None:
    server = world.server
    case = server.create("Case", {"Subject": f"{FOLLOW_UP}: refund not received"})
    server.advance(1)  # the outbound message's first attempt fails: nothing listens
    [queued] = server.call("GET", f"{V1}/workflow/queue?recordId={case}")["records"]
    [message] = [
        m
        for m in server.call("GET", f"{V1}/outbox?kind=outbound")["records"]
        if m["recordId"] == case
    ]

    admin = open_page(ADMIN, ADMIN_PASSWORD, hash="#/admin")
    workflow = admin.get_by_role("region", name="Time-based workflow queue")
    row = workflow.locator(f'tr[data-timer-id="{queued["id"]}"]')
    expect(row).to_contain_text("Follow_Up_Refunds")
    expect(row.get_by_role("link", name=case)).to_have_attribute("href", f"#/record/{case}")
    outbox = admin.get_by_role("region", name=re.compile("outbox"))
    line = outbox.locator(f'tr[data-outbox-id="{message["id"]}"]')
    expect(line).to_contain_text("Tell_Billing (rule Follow_Up_Refunds)")
    expect(line).to_contain_text("pending")

    # Retry sends it again at the next delivery run.
    line.get_by_role("button", name=re.compile("^Retry")).click()
    expect(admin.locator("#announcer")).to_contain_text("will be sent again")
    # Delete asks first, in the page; Cancel keeps it.
    row.get_by_role("button", name=re.compile("^Delete")).click()
    expect(row).to_contain_text("Delete this queued action?")
    row.get_by_role("button", name="Cancel").click()
    expect(row.get_by_role("button", name=re.compile("^Delete"))).to_be_focused()
    row.get_by_role("button", name=re.compile("^Delete")).click()
    row.get_by_role("button", name="Yes, delete").click()
    expect(row).to_have_count(0)
    assert server.call("GET", f"{V1}/workflow/queue?recordId={case}")["records"] == []
    line = outbox.locator(f'tr[data-outbox-id="{message["id"]}"]')
    line.get_by_role("button", name=re.compile("^Delete")).click()
    line.get_by_role("button", name="Yes, delete").click()
    expect(line).to_have_count(0)
    assert message["id"] not in [m["id"] for m in server.call("GET", f"{V1}/outbox")["records"]]

    # An agent is told what it takes; the server refuses them the same.
    browser_errors.allow(403, f"{V1}/")
    grace = open_page(agent(3), hash="#/admin")
    expect(grace.get_by_role("alert")).to_contain_text("Modify All Data")
    expect(grace.get_by_role("table")).to_have_count(0)
    refused = server.call("GET", f"{V1}/outbox", user=agent(3), password=AGENT_PASSWORD, expect=403)
    assert refused[0]["errorCode"] == "INSUFFICIENT_ACCESS"
