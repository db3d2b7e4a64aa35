"""Flow logic on a real org (SQLite): decisions and assignment operators, SObject
variables saved by record elements, fault connectors, what a run refuses (elements the
engine does not run, endless loops, saves in evaluation flows), record choice sets,
flows without a body, and a broken body refused by the deploy with its lines."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import T0
from workroute.flows import FlowContext, FlowRunError, evaluate, run_autolaunched, screen_form
from workroute.metadata.deploy import run_deploy
from workroute.metadata.flow import parse_flow
from workroute.orchestration.definition import FlowSummary
from workroute.orchestration.resources import Variable
from workroute.orchestration.values import Value
from workroute.orchestration.vocabulary import FlowDataType
from workroute.org import Org

NS = "http://soap.sforce.com/2006/04/metadata"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "flows"


def flow(body: str, process_type: str = "AutoLaunchedFlow") -> FlowSummary:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><Flow xmlns="{NS}"><label>T</label>'
        f"<processType>{process_type}</processType>{body}<status>Active</status></Flow>"
    ).encode()
    model = parse_flow(content, "flows/T.flow-meta.xml")
    assert isinstance(model, FlowSummary)
    return model


def start(target: str) -> str:
    return f"<start><connector><targetReference>{target}</targetReference></connector></start>"


def var(name: str, data_type: str, *, output: bool = True, extra: str = "") -> str:
    return (
        f"<variables><name>{name}</name><dataType>{data_type}</dataType>"
        f"<isInput>true</isInput><isOutput>{str(output).lower()}</isOutput>{extra}</variables>"
    )


def item(target: str, operator: str, value: str) -> str:
    return (
        f"<assignmentItems><assignToReference>{target}</assignToReference>"
        f"<operator>{operator}</operator><value>{value}</value></assignmentItems>"
    )


def ref(name: str) -> str:
    return f"<elementReference>{name}</elementReference>"


def assignment(name: str, items: str, then: str | None = None) -> str:
    connector = f"<connector><targetReference>{then}</targetReference></connector>" if then else ""
    return f"<assignments><name>{name}</name><label>{name}</label>{items}{connector}</assignments>"


@pytest.fixture
def ctx(sqlite_org: Org) -> Iterator[FlowContext]:
    with sqlite_org.db.write() as conn:
        yield FlowContext(store=sqlite_org.store, conn=conn, user_id=None, now=T0)


def test_decisions_and_assignment_operators(ctx: FlowContext) -> None:
    f = flow(
        start("Route") + "<decisions><name>Route</name><label>Route</label>"
        "<defaultConnector><targetReference>Small</targetReference></defaultConnector>"
        "<rules><name>Big</name><label>Big</label><conditionLogic>1 AND (2 OR 3)</conditionLogic>"
        "<conditions><leftValueReference>amount</leftValueReference><operator>GreaterThan"
        "</operator><rightValue><numberValue>100</numberValue></rightValue></conditions>"
        "<conditions><leftValueReference>tier</leftValueReference><operator>EqualTo</operator>"
        "<rightValue><stringValue>Gold</stringValue></rightValue></conditions>"
        "<conditions><leftValueReference>tier</leftValueReference><operator>IsNull</operator>"
        "<rightValue><booleanValue>true</booleanValue></rightValue></conditions>"
        "<connector><targetReference>Large</targetReference></connector></rules></decisions>"
        + assignment("Small", item("label", "Assign", "<stringValue>small</stringValue>"), "Count")
        + assignment(
            "Large",
            item("label", "Assign", "<stringValue>large</stringValue>")
            + item("amount", "Add", "<numberValue>0.5</numberValue>")
            + item("label", "Add", "<stringValue> order</stringValue>"),
            "Count",
        )
        + assignment(
            "Count",
            item("tags", "AddItem", ref("label"))
            + item("tags", "AddItem", "<stringValue>x</stringValue>")
            + item("tags", "RemoveAll", "<stringValue>x</stringValue>")
            + item("count", "AssignCount", ref("tags"))
            + item("due", "Subtract", "<numberValue>1</numberValue>")
            + item("flag", "Assign", ref("$GlobalConstant.True")),
        )
        + "<constants><name>Start_Day</name><dataType>Date</dataType><value><dateValue>"
        "2024-03-01</dateValue></value></constants>"
        + var("amount", "Number", extra="<scale>2</scale>")
        + var("tier", "String")
        + var("label", "String")
        + var("tags", "String", extra="<isCollection>true</isCollection>")
        + var("count", "Number")
        + var("due", "Date", extra=f"<value>{ref('Start_Day')}</value>")
        + var("flag", "Boolean"),
    )
    big = run_autolaunched(f, {"amount": 150}, ctx)
    assert big == {
        "amount": Decimal("150.5"),
        "tier": None,
        "label": "large order",
        "tags": ["large order"],
        "count": Decimal(1),
        "due": big["due"],
        "flag": True,
    }
    assert str(big["due"]) == "2024-02-29"
    assert run_autolaunched(f, {"amount": 150, "tier": "Gold"}, ctx)["label"] == "large order"
    assert run_autolaunched(f, {"amount": 150, "tier": "Silver"}, ctx)["label"] == "small"
    assert run_autolaunched(f, {"amount": 50}, ctx)["label"] == "small"


SOBJECT = var("task", "SObject", extra="<objectType>Task</objectType>") + var("taskId", "String")


def test_sobject_variables_are_created_and_updated(sqlite_org: Org, ctx: FlowContext) -> None:
    f = flow(
        start("Fill")
        + assignment(
            "Fill",
            item("task.Subject", "Assign", "<stringValue>Call {!who}</stringValue>")
            + item("task.priority", "Assign", "<stringValue>High</stringValue>"),
            "Create",
        )
        + "<recordCreates><name>Create</name><label>Create</label>"
        "<connector><targetReference>Change</targetReference></connector>"
        "<inputReference>task</inputReference></recordCreates>"
        + assignment(
            "Change",
            item("task.Status", "Assign", "<stringValue>In Progress</stringValue>")
            + item("taskId", "Assign", ref("task.Id")),
            "Save",
        )
        + "<recordUpdates><name>Save</name><label>Save</label><inputReference>task"
        "</inputReference></recordUpdates>" + SOBJECT + var("who", "String"),
    )
    out = run_autolaunched(f, {"who": "Ann"}, ctx)
    task = sqlite_org.store.get("Task", str(out["taskId"]))
    assert (task["Subject"], task["Priority"], task["Status"]) == (
        "Call Ann",
        "High",
        "In Progress",
    )
    # System context: written as the org's first administrator.
    assert task["CreatedById"] == sqlite_org.admin_user_id()


def test_a_fault_connector_takes_the_failure(sqlite_org: Org, ctx: FlowContext) -> None:
    before = sqlite_org.store.count("Task")
    f = flow(
        start("Create") + "<recordCreates><name>Create</name><label>Create</label>"
        "<faultConnector><targetReference>Note</targetReference></faultConnector>"
        "<inputAssignments><field>Nope__c</field><value><stringValue>Whenever</stringValue>"
        "</value></inputAssignments><object>Task</object></recordCreates>"
        + assignment("Note", item("error", "Assign", ref("$Flow.FaultMessage")))
        + var("error", "String"),
    )
    error = run_autolaunched(f, {}, ctx)["error"]
    assert error == "No such column 'Nope__c' on sobject of type Task"
    assert sqlite_org.store.count("Task") == before


@pytest.mark.parametrize(
    ("body", "process_type", "reason"),
    [
        (
            start("Get") + "<recordLookups><name>Get</name><label>Get</label><object>Case</object>"
            "</recordLookups>",
            "AutoLaunchedFlow",
            "flow T, element Get: recordLookups elements are not run by workroute",
        ),
        (
            start("A")
            + assignment("A", item("n", "Add", "<numberValue>1</numberValue>"), "B")
            + assignment("B", item("n", "Add", "<numberValue>1</numberValue>"), "A")
            + var("n", "Number"),
            "AutoLaunchedFlow",
            "flow T, element A: the flow executed more than 2000 elements (a loop?)",
        ),
        (
            start("Post")
            + "<actionCalls><name>Post</name><label>Post</label><actionName>chatterPost"
            "</actionName><actionType>chatterPost</actionType></actionCalls>",
            "AutoLaunchedFlow",
            "flow T, element Post: actionType chatterPost (chatterPost) is not run by workroute",
        ),
        (
            start("Ask") + "<screens><name>Ask</name><label>Ask</label></screens>",
            "Flow",
            "flow T, element Ask: this flow shows screens; run it as a form",
        ),
        (
            start("F")
            + assignment("F", item("n", "Assign", ref("bad")))
            + var("n", "Number")
            + "<formulas><name>bad</name><dataType>Number</dataType><expression>1 / 0"
            "</expression></formulas>",
            "AutoLaunchedFlow",
            "flow T, element F: formula bad failed (#Error!)",
        ),
    ],
)
def test_what_a_run_refuses(ctx: FlowContext, body: str, process_type: str, reason: str) -> None:
    with pytest.raises(FlowRunError) as exc:
        run_autolaunched(flow(body, process_type), {}, ctx)
    assert exc.value.message.startswith(reason), exc.value.message


def test_an_evaluation_flow_cannot_save(sqlite_org: Org, ctx: FlowContext) -> None:
    f = flow(
        start("Create") + "<recordCreates><name>Create</name><label>Create</label>"
        "<inputAssignments><field>Subject</field><value><stringValue>x</stringValue>"
        "</value></inputAssignments><object>Task</object></recordCreates>",
        "EvaluationFlow",
    )
    with pytest.raises(FlowRunError, match="an evaluation flow only decides; it cannot save"):
        evaluate(f, {}, ctx)


def test_record_choice_sets_list_matching_records(sqlite_org: Org, ctx: FlowContext) -> None:
    admin = sqlite_org.admin_user_id()
    ids = sqlite_org.store.insert(
        "Case",
        [
            {"Subject": "Alpha", "Status": "New"},
            {"Subject": "Beta", "Status": "Closed"},
            {"Subject": "Gamma", "Status": "Working"},
        ],
        user_id=admin,
    )
    f = flow(
        start("Pick") + "<dynamicChoiceSets><name>Open_Cases</name><dataType>String</dataType>"
        "<displayField>Subject</displayField><filterLogic>and</filterLogic>"
        "<filters><field>Status</field><operator>NotEqualTo</operator>"
        "<value><stringValue>Closed</stringValue></value></filters>"
        "<object>Case</object><sortField>Subject</sortField><sortOrder>Desc</sortOrder>"
        "<valueField>Id</valueField></dynamicChoiceSets>"
        "<screens><name>Pick</name><label>Pick</label><fields><name>Case</name>"
        "<choiceReferences>Open_Cases</choiceReferences><dataType>String</dataType>"
        "<fieldText>Case</fieldText><fieldType>DropdownBox</fieldType></fields></screens>",
        "Flow",
    )
    [field] = screen_form(f, {}, ctx).fields
    assert [(o.value, o.label) for o in field.options] == [(ids[2], "Gamma"), (ids[0], "Alpha")]


def test_a_flow_without_a_body_runs_no_elements(ctx: FlowContext) -> None:
    bare = FlowSummary(
        name="Bare",
        label="Bare",
        process_type="AutoLaunchedFlow",
        variables=(
            Variable(name="n", data_type=FlowDataType.NUMBER, is_input=True, is_output=True),
            Variable(
                name="s",
                data_type=FlowDataType.STRING,
                is_output=True,
                value=Value.string("default"),
            ),
        ),
    )
    assert run_autolaunched(bare, {"n": "2"}, ctx) == {"n": Decimal(2), "s": "default"}
    assert screen_form(bare, {}, ctx).fields == ()
    assert evaluate(bare, {}, ctx) is False


def test_a_broken_body_is_refused_by_the_deploy(sqlite_org: Org, tmp_path: Path) -> None:
    pkg = tmp_path / "pkg" / "flows"
    pkg.mkdir(parents=True)
    (pkg / "Broken_Body.flow-meta.xml").write_bytes(
        (FIXTURES / "Broken_Body.flow-meta.xml").read_bytes()
    )
    result = run_deploy(sqlite_org, pkg.parent, user_id=sqlite_org.admin_user_id())
    assert not result.success
    located = [(p.file, p.line, p.element) for p in result.problems]
    assert located == [
        ("flows/Broken_Body.flow-meta.xml", 38, "dataType"),
        ("flows/Broken_Body.flow-meta.xml", 45, "choiceReferences"),
        ("flows/Broken_Body.flow-meta.xml", 14, "connector"),
        ("flows/Broken_Body.flow-meta.xml", 11, "value"),
        ("flows/Broken_Body.flow-meta.xml", 21, "expression"),
        ("flows/Broken_Body.flow-meta.xml", 26, "expression"),
    ]
    assert sqlite_org.flows.flow("Broken_Body") is None


def test_record_read_on_first_use_is_the_record_as_the_run_began(sqlite_org: Org) -> None:
    """A context may give ``$Record`` as a loader (read on first use). It is read
    before the first element that can write, so ``$Record`` is the record as the run
    began plus what the flow's own elements saved, as when it is read up front (a
    write by anything else the save sets off, such as a trigger, is not in it)."""
    admin = sqlite_org.admin_user_id()
    with sqlite_org.db.write():
        [cid] = sqlite_org.store.insert("Case", [{"Subject": "Original"}], user_id=admin)
    f = flow(
        start("Change")
        + "<recordUpdates><name>Change</name><label>Change</label><connector><targetReference>"
        "Read</targetReference></connector><filterLogic>and</filterLogic><filters><field>Id"
        "</field><operator>EqualTo</operator><value>" + ref("caseId") + "</value></filters>"
        "<inputAssignments><field>Subject</field><value><stringValue>Changed</stringValue>"
        "</value></inputAssignments><object>Case</object></recordUpdates>"
        + assignment("Read", item("seen", "Assign", ref("$Record.Subject")))
        + var("caseId", "String")
        + var("seen", "String"),
    )
    loads: list[object] = []

    def load() -> dict[str, object]:
        row = sqlite_org.store.get("Case", cid)
        loads.append(row["Subject"])
        return row

    with sqlite_org.db.write() as conn:
        context = FlowContext(
            store=sqlite_org.store, conn=conn, user_id=None, now=T0, record_object="Case",
            load_record=load,
        )  # fmt: skip
        out = run_autolaunched(f, {"caseId": cid}, context)
    assert loads == ["Original"]  # read once, before the update
    assert out["seen"] == "Changed"  # the element's own change, as Salesforce shows it
    assert sqlite_org.store.get("Case", cid)["Subject"] == "Changed"
