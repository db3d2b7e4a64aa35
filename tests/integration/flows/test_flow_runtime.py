"""Running the flows steps call, deployed through the real deploy path into an org on
SQLite: screen flows as forms (every field type, defaults from merge fields, each
validation error with nothing changed, the submitted values and outputs), evaluation
flows (a formula over the record and the inputs, a registered callable), autolaunched
flows (record update and create, the email and webhook requests handed to the context,
a registered callable), and a failing action inside a real transaction that rolls back
everything the flow did."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import T0
from workroute.flows import (
    EmailRequest,
    FlowCallables,
    FlowContext,
    FlowRunError,
    FormError,
    WebhookRequest,
    evaluate,
    run_autolaunched,
    screen_form,
    submit_form,
)
from workroute.metadata.deploy import run_deploy
from workroute.orchestration.definition import FlowSummary
from workroute.org import Org

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "flows"
GOOD = ("Review_Case", "Case_Is_Urgent", "Close_Case")


@dataclass
class Sent:
    emails: list[EmailRequest] = field(default_factory=list)
    webhooks: list[WebhookRequest] = field(default_factory=list)


@pytest.fixture
def deployed(sqlite_org: Org, tmp_path: Path) -> Org:
    pkg = tmp_path / "pkg" / "flows"
    pkg.mkdir(parents=True)
    for name in GOOD:
        (pkg / f"{name}.flow-meta.xml").write_bytes(
            (FIXTURES / f"{name}.flow-meta.xml").read_bytes()
        )
    result = run_deploy(sqlite_org, pkg.parent, user_id=sqlite_org.admin_user_id())
    assert result.success, result.problems
    return sqlite_org


def flow(org: Org, name: str) -> FlowSummary:
    found = org.flows.flow(name)
    assert found is not None and found.body is not None
    return found


@pytest.fixture
def case_id(deployed: Org) -> str:
    with deployed.db.write():
        (cid,) = deployed.store.insert(
            "Case",
            [{"Subject": "Printer on fire", "Priority": "High", "Status": "New"}],
            user_id=deployed.admin_user_id(),
        )
    return cid


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
def callables() -> FlowCallables:
    return FlowCallables()


@pytest.fixture
def context(
    deployed: Org, case_id: str, sent: Sent, callables: FlowCallables
) -> Iterator[FlowContext]:
    """A context over the case, inside an open write transaction (committed after)."""
    record = deployed.store.get("Case", case_id)
    with deployed.db.write() as conn:
        yield FlowContext(
            store=deployed.store,
            conn=conn,
            user_id=deployed.admin_user_id(),
            now=T0,
            record=record,
            record_object="Case",
            callables=callables,
            send_email=sent.emails.append,
            post_webhook=sent.webhooks.append,
        )


# -- screen flows -------------------------------------------------------------------------


def test_the_form_has_every_screen_s_fields_with_defaults(
    deployed: Org, context: FlowContext
) -> None:
    form = screen_form(flow(deployed, "Review_Case"), {"defaultPriority": "Low"}, context)
    assert [(s.name, s.label) for s in form.screens] == [
        ("Review", "Review the case"),
        ("Details", "Details"),
    ]
    assert form.to_json()["screens"] == [
        {"name": s.name, "label": s.label, "fields": list(s.fields)} for s in form.screens
    ]
    by_name = {f.name: f for f in form.fields}
    # Sections are flattened; the Lightning component is left off.
    assert list(by_name) == [
        "Intro",
        "Subject",
        "Comment",
        "Approval",
        "Priority",
        "Hours",
        "Cost",
        "Confirmed",
        "Due",
        "Call_Back_At",
        "Tags",
        "Secret",
    ]
    case_number = deployed.store.get("Case", str(context.record["Id"]))["CaseNumber"]  # type: ignore[index]
    assert by_name["Intro"].type == "display"
    assert by_name["Intro"].label == f"<p>Case {case_number}: Printer on fire</p>"
    subject = by_name["Subject"].to_json()
    assert subject == {
        "name": "Subject",
        "label": "Subject",
        "type": "text",
        "fieldType": "InputField",
        "dataType": "String",
        "required": True,
        "options": [],
        "default": "Printer on fire",  # {!$Record.Subject}
        "scale": None,
        "helpText": None,
        "screen": "Review",
    }
    assert by_name["Comment"].type == "textarea"
    assert by_name["Comment"].help_text == "Why, in a sentence or two"
    approval = by_name["Approval"].to_json()
    assert approval["type"] == "radio"
    assert approval["options"] == [
        {"value": "yes", "label": "Yes, approve"},
        {"value": "no", "label": "No"},
    ]
    assert approval["default"] == "no"  # defaultSelectedChoiceReference
    priority = by_name["Priority"].to_json()
    assert priority["type"] == "picklist"
    assert [o.value for o in by_name["Priority"].options] == ["High", "Medium", "Low"]
    assert priority["default"] == "Low"  # {!defaultPriority}, an input
    assert (by_name["Hours"].type, by_name["Hours"].scale) == ("number", 1)
    assert (by_name["Cost"].type, by_name["Cost"].data_type.value) == ("currency", "Currency")
    assert by_name["Confirmed"].type == "checkbox" and by_name["Confirmed"].default is False
    assert by_name["Due"].type == "date" and by_name["Call_Back_At"].type == "datetime"
    tags = by_name["Tags"].to_json()
    assert tags["type"] == "checkboxes"
    assert tags["options"] == [
        {"value": "Billing", "label": "Billing"},  # no <value>: the label is the value
        {"value": "Hardware", "label": "Hardware"},
    ]
    assert by_name["Secret"].type == "password"


def test_an_input_s_declared_default_is_the_field_default(
    deployed: Org, context: FlowContext
) -> None:
    form = screen_form(flow(deployed, "Review_Case"), {}, context)
    field = form.field("priority")
    assert field is not None and field.default == "Medium"


VALID = {
    "Subject": "Printer on fire, again",
    "Comment": "Replaced the toner",
    "Approval": "yes",
    "Priority": "Low",
    "Hours": "1.5",
    "Cost": 12.25,
    "Confirmed": True,
    "Due": "2024-03-20",
    "Call_Back_At": "2024-03-16T10:00:00Z",
    "Tags": ["Billing", "Hardware"],
}


def test_submitting_runs_the_flow_and_returns_its_outputs(
    deployed: Org, context: FlowContext, case_id: str
) -> None:
    outputs = submit_form(flow(deployed, "Review_Case"), {}, VALID, context)
    assert outputs["approved"] is True
    assert outputs["reviewComment"] == "Replaced the toner (1.5 h)"
    # Every input field's value, typed, where no output variable has its name.
    assert outputs["Hours"] == Decimal("1.5")
    assert outputs["Cost"] == Decimal("12.25")
    assert outputs["Due"] == date(2024, 3, 20)
    assert outputs["Call_Back_At"] == datetime(2024, 3, 16, 10, tzinfo=UTC)
    assert outputs["Tags"] == "Billing;Hardware"
    assert outputs["Secret"] is None
    # The assignment to $Record.Priority was saved by the record update.
    assert deployed.store.get("Case", case_id)["Priority"] == "Low"


def form_errors(org: Org, context: FlowContext, **changes: object) -> dict[str, str]:
    values = {**VALID, **changes}
    values = {k: v for k, v in values.items() if v is not ...}
    with pytest.raises(FormError) as exc:
        submit_form(flow(org, "Review_Case"), {}, values, context)
    assert exc.value.code == "FIELD_INTEGRITY_EXCEPTION"
    assert sorted(exc.value.fields) == sorted(exc.value.field_errors)
    return exc.value.field_errors


def test_each_validation_error(deployed: Org, context: FlowContext, case_id: str) -> None:
    assert form_errors(deployed, context, Subject="") == {"Subject": "Complete this field."}
    assert form_errors(deployed, context, Approval="maybe") == {
        "Approval": "'maybe' is not one of the options"
    }
    assert form_errors(deployed, context, Priority="Urgent") == {
        "Priority": "'Urgent' is not one of the options"
    }
    assert form_errors(deployed, context, Tags=["Billing", "Software"]) == {
        "Tags": "'Software' is not one of the options"
    }
    assert form_errors(deployed, context, Hours="1.25") == {
        "Hours": "'1.25' has too many decimal places; at most 1 decimal places are allowed"
    }
    assert form_errors(deployed, context, Hours="lots") == {"Hours": "'lots' is not a number"}
    assert form_errors(deployed, context, Cost=True) == {
        "Cost": "a number is expected, not true/false"
    }
    assert form_errors(deployed, context, Confirmed=False) == {
        "Confirmed": "Complete this field."  # a required checkbox must be checked
    }
    assert form_errors(deployed, context, Due="20/03/2024") == {
        "Due": "'20/03/2024' is not a date (YYYY-MM-DD)"
    }
    assert form_errors(deployed, context, Call_Back_At="2024-03-16T10:00:00") == {
        "Call_Back_At": "'2024-03-16T10:00:00' has no time zone (add Z or an offset)"
    }
    assert form_errors(deployed, context, Intro="hello", Nope=1) == {
        "Intro": "is display text; it takes no value",
        "Nope": "the form has no field 'Nope' (fields: Subject, Comment, Approval, Priority, "
        "Hours, Cost, Confirmed, Due, Call_Back_At, Tags, Secret)",
    }
    # The validation rule of Hours (below maxHours), with its message's merge field.
    assert form_errors(deployed, context, Hours="40") == {"Hours": "<p>Hours must be below 40</p>"}
    # Several errors at once.
    assert set(form_errors(deployed, context, Subject=None, Priority="Urgent")) == {
        "Subject",
        "Priority",
    }
    # Nothing was changed by any refused submission.
    assert deployed.store.get("Case", case_id)["Priority"] == "High"


def test_a_field_left_out_gets_its_default(deployed: Org, context: FlowContext) -> None:
    values = {k: v for k, v in VALID.items() if k not in ("Approval", "Subject")}
    outputs = submit_form(flow(deployed, "Review_Case"), {}, values, context)
    assert outputs["Approval"] == "no" and outputs["approved"] is False
    assert outputs["Subject"] == "Printer on fire"


# -- evaluation flows ---------------------------------------------------------------------


def test_evaluation_by_formula_over_the_record_and_inputs(
    deployed: Org, context: FlowContext, case_id: str
) -> None:
    urgent = flow(deployed, "Case_Is_Urgent")
    assert evaluate(urgent, {"openHours": 9}, context) is True  # High and 9 > 8
    assert evaluate(urgent, {"openHours": "7.5"}, context) is False
    assert evaluate(urgent, {"openHours": 7, "threshold": 6}, context) is True
    assert context.record is not None
    low = replace(context, record={**context.record, "Priority": "Low"})
    assert evaluate(urgent, {"openHours": 100}, low) is False
    escalated = replace(context, record={**context.record, "IsEscalated": True})
    assert evaluate(urgent, {"openHours": 0}, escalated) is True


def test_evaluation_by_a_registered_callable(
    deployed: Org, context: FlowContext, callables: FlowCallables
) -> None:
    seen: list[dict[str, object]] = []

    def decide(inputs: dict[str, object], ctx: FlowContext) -> bool:
        seen.append(inputs)
        assert ctx.record is not None
        return ctx.record["Priority"] == "High" and inputs["openHours"] == 3

    callables.register("Case_Is_Urgent", decide)
    urgent = flow(deployed, "Case_Is_Urgent")
    assert evaluate(urgent, {"openHours": 3}, context) is True
    assert evaluate(urgent, {"openHours": 4}, context) is False
    assert seen == [{"openHours": 3}, {"openHours": 4}]
    callables.unregister("Case_Is_Urgent")
    callables.register("Case_Is_Urgent", lambda i, c: {"isOrchestrationConditionMet": True})
    assert evaluate(urgent, {}, context) is True
    callables.unregister("Case_Is_Urgent")
    callables.register("Case_Is_Urgent", lambda i, c: "yes")
    with pytest.raises(FlowRunError, match="returned str; an evaluation returns a bool"):
        evaluate(urgent, {}, context)


def test_an_unknown_input_is_refused(deployed: Org, context: FlowContext) -> None:
    with pytest.raises(FlowRunError) as exc:
        evaluate(flow(deployed, "Case_Is_Urgent"), {"hours": 1}, context)
    assert exc.value.message == (
        "flow Case_Is_Urgent: 'hours' is not an input variable of this flow "
        "(inputs: openHours, threshold)"
    )


# -- autolaunched flows -------------------------------------------------------------------


def register_actions(callables: FlowCallables, calls: list[dict[str, object]]) -> None:
    def score(inputs: dict[str, object], ctx: FlowContext) -> dict[str, object]:
        calls.append(inputs)
        return {"score": len(str(inputs["subject"]))}

    callables.register("ScoreCase", score)
    callables.register_webhook(
        "ChatWebhook", "https://chat.example.com/hooks/1", headers={"X-Token": "t"}
    )


def test_an_autolaunched_flow_acts(
    deployed: Org,
    context: FlowContext,
    case_id: str,
    sent: Sent,
    callables: FlowCallables,
) -> None:
    calls: list[dict[str, object]] = []
    register_actions(callables, calls)
    inputs = {"recordId": case_id, "reason": "Breakdown", "customerEmail": "ann@example.com"}
    outputs = run_autolaunched(flow(deployed, "Close_Case"), inputs, context)
    # The record update by filter.
    case = deployed.store.get("Case", case_id)
    assert (case["Status"], case["Reason"]) == ("Closed", "Breakdown")
    # The record create, its Id given to taskId and to the element's name.
    task_id = outputs["taskId"]
    assert isinstance(task_id, str) and task_id.startswith("00T")
    task = deployed.store.get("Task", task_id)
    assert task["Subject"] == "Follow up on Printer on fire"
    assert task["WhatId"] == case_id and task["ActivityDate"] == date(2024, 3, 22)
    # The callable got the created task's id; its output went to `score`.
    assert calls == [{"subject": "Printer on fire", "taskId": task_id}]
    assert outputs == {"score": Decimal(15), "taskId": task_id}
    # The email and the webhook, handed to the context once the run succeeded.
    assert sent.emails == [
        EmailRequest(
            to=("ann@example.com",),
            subject=f"Case {case['CaseNumber']} is closed",
            body='Hello,\n\nyour case "Printer on fire" was closed (Breakdown). We will '
            "follow up on 2024-03-22.",
            sender="support@example.com",
        )
    ]
    [hook] = sent.webhooks
    assert hook.url == "https://chat.example.com/hooks/1"
    assert hook.headers == {"Content-Type": "application/json", "X-Token": "t"}
    assert hook.json() == {"caseId": case_id, "hours": 2.5, "text": "Closed: Printer on fire"}


def test_a_failing_action_changes_nothing(
    deployed: Org, case_id: str, sent: Sent, callables: FlowCallables
) -> None:
    def broken(inputs: dict[str, object], ctx: FlowContext) -> dict[str, object]:
        raise RuntimeError("scoring service down")

    callables.register("ScoreCase", broken)
    callables.register_webhook("ChatWebhook", "https://chat.example.com/hooks/1")
    inputs = {"recordId": case_id, "reason": "Breakdown", "customerEmail": "ann@example.com"}
    record = deployed.store.get("Case", case_id)
    tasks_before = deployed.store.count("Task")

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), deployed.db.write() as conn:
        ctx = FlowContext(
            store=deployed.store,
            conn=conn,
            user_id=None,  # system context
            now=T0,
            record=record,
            callables=callables,
            send_email=sent.emails.append,
            post_webhook=sent.webhooks.append,
        )
        with pytest.raises(FlowRunError) as exc:
            run_autolaunched(flow(deployed, "Close_Case"), inputs, ctx)
        assert exc.value.element == "Score_Case"
        assert exc.value.message == (
            "flow Close_Case, element Score_Case: ScoreCase raised RuntimeError: scoring "
            "service down"
        )
        # Inside the still-open transaction the flow's own writes are already undone.
        assert deployed.store.get("Case", case_id)["Status"] == "New"
        assert deployed.store.count("Task") == tasks_before
        raise Rollback
    assert deployed.store.get("Case", case_id)["Status"] == "New"
    assert deployed.store.count("Task") == tasks_before
    assert sent.emails == [] and sent.webhooks == []


def test_an_unregistered_action_fails_clearly(
    deployed: Org, context: FlowContext, case_id: str
) -> None:
    inputs = {"recordId": case_id, "reason": "Breakdown", "customerEmail": "ann@example.com"}
    with pytest.raises(FlowRunError) as exc:
        run_autolaunched(flow(deployed, "Close_Case"), inputs, context)
    assert exc.value.reason == (
        "no Python callable or webhook is registered as 'ChatWebhook' "
        "(FlowCallables.register / register_webhook)"
    )
    assert deployed.store.get("Case", case_id)["Status"] == "New"
