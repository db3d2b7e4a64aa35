"""Flow values (coercion, merge-field text), the comparisons and arithmetic of
decisions and assignments, registered callables, and the public names."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

import workroute.flows
from workroute.flows import FlowCallables, FlowContext, FlowRunError, FormError, WebhookRequest
from workroute.flows.records import add, compare
from workroute.flows.values import coerce, to_text
from workroute.kernel.errors import FieldIntegrityError, WorkrouteError
from workroute.orchestration.vocabulary import FlowDataType as T


@pytest.mark.parametrize(
    ("value", "data_type", "expected"),
    [
        ("1.50", T.NUMBER, Decimal("1.50")),
        (3, T.CURRENCY, Decimal(3)),
        (2.5, T.NUMBER, Decimal("2.5")),
        ("true", T.BOOLEAN, True),
        (False, T.BOOLEAN, False),
        ("2024-03-20", T.DATE, date(2024, 3, 20)),
        ("2024-03-20T10:00:00Z", T.DATETIME, datetime(2024, 3, 20, 10, tzinfo=UTC)),
        (
            datetime(2024, 3, 20, 12, tzinfo=timezone(timedelta(hours=2))),
            T.DATETIME,
            datetime(2024, 3, 20, 10, tzinfo=UTC),
        ),
        ("09:30:00", T.TIME, time(9, 30)),
        (["a", "b"], T.MULTIPICKLIST, "a;b"),
        (Decimal("2.0"), T.STRING, "2.0"),
        ({"Id": "x"}, T.SOBJECT, {"Id": "x"}),
        (None, T.NUMBER, None),
    ],
)
def test_values_are_coerced_to_their_type(value: object, data_type: T, expected: object) -> None:
    assert coerce(value, data_type) == expected


@pytest.mark.parametrize(
    ("value", "data_type", "reason"),
    [
        ("abc", T.NUMBER, "'abc' is not a number"),
        (True, T.NUMBER, "a number is expected, not true/false"),
        ("NaN", T.NUMBER, "'NaN' is not a number"),
        ("maybe", T.BOOLEAN, "'maybe' is not true or false"),
        ("20.3.2024", T.DATE, "'20.3.2024' is not a date (YYYY-MM-DD)"),
        (datetime(2024, 1, 1, tzinfo=UTC), T.DATE, "a date is expected, not a date and time"),
        ("2024-01-01T00:00:00", T.DATETIME, "has no time zone (add Z or an offset)"),
        (["a"], T.STRING, "text is expected, not list"),
        ("x", T.SOBJECT, "a record is expected, not str"),
    ],
)
def test_values_that_do_not_fit_say_why(value: object, data_type: T, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        coerce(value, data_type)


def test_collections() -> None:
    assert coerce(["1", 2], T.NUMBER, collection=True) == [Decimal(1), Decimal(2)]
    with pytest.raises(ValueError, match="a list is expected"):
        coerce("1", T.NUMBER, collection=True)


def test_merge_field_text() -> None:
    assert to_text(None) == ""
    assert to_text(True) == "true"
    assert to_text(Decimal("1.50")) == "1.50"
    assert to_text(datetime(2024, 3, 20, 10, tzinfo=UTC)) == "2024-03-20T10:00:00Z"
    assert to_text(date(2024, 3, 20)) == "2024-03-20"
    assert to_text(["a", Decimal(1)]) == "a, 1"


@pytest.mark.parametrize(
    ("op", "left", "right", "expected"),
    [
        ("EqualTo", Decimal(3), "3", True),
        ("EqualTo", "High", "high", False),  # text compares exactly
        ("NotEqualTo", None, "x", True),
        ("GreaterThan", Decimal(9), Decimal(8), True),
        ("GreaterThan", None, Decimal(8), False),
        ("LessThanOrEqualTo", date(2024, 1, 1), "2024-01-01", True),
        ("StartsWith", "Printer on fire", "Printer", True),
        ("EndsWith", "Printer on fire", "fire", True),
        ("Contains", "Printer on fire", "on", True),
        ("Contains", ["a", "b"], "b", True),
        ("IsNull", None, True, True),
        ("IsNull", "", True, False),
        ("IsBlank", "", True, True),
        ("IsNull", "x", False, True),
        ("In", "b", ["a", "b"], True),
        ("NotIn", "c", ["a", "b"], True),
        ("EqualTo", True, "true", True),
        ("Matches", "a", "a", None),
    ],
)
def test_comparisons(op: str, left: object, right: object, expected: bool | None) -> None:
    assert compare(op, left, right) is expected


def test_assignment_arithmetic() -> None:
    assert add(Decimal(1), Decimal("2.5")) == Decimal("3.5")
    assert add(None, 2) == Decimal(2)
    assert add(Decimal(5), 2, subtract=True) == Decimal(3)
    assert add("ab", "c") == "abc"
    assert add(date(2024, 3, 1), Decimal(30)) == date(2024, 3, 31)
    assert add(date(2024, 3, 1), 1, subtract=True) == date(2024, 2, 29)
    moment = datetime(2024, 3, 1, tzinfo=UTC)
    assert add(moment, Decimal("0.5")) == moment + timedelta(hours=12)
    assert add("ab", "c", subtract=True) is NotImplemented


def test_callables_and_webhooks_are_registered_by_name() -> None:
    callables = FlowCallables()

    def fn(inputs: dict[str, object], ctx: FlowContext) -> dict[str, object]:
        return inputs

    callables.register("Score_Case", fn)
    callables.register_webhook("Chat", "https://chat.example.com/h", headers={"X-A": "1"})
    assert callables.function("score_case") is fn
    hook = callables.webhook("CHAT")
    assert hook is not None and hook.url == "https://chat.example.com/h"
    assert dict(hook.headers) == {"X-A": "1"}
    assert callables.names() == ["Chat", "Score_Case"]
    with pytest.raises(ValueError, match="registered as a webhook"):
        callables.register("chat", fn)
    with pytest.raises(ValueError, match="registered as a Python callable"):
        callables.register_webhook("score_case", "https://x.example.com")
    with pytest.raises(ValueError, match="is not an http"):
        callables.register_webhook("Other", "ftp://x.example.com")
    callables.unregister("Chat")
    assert callables.webhook("Chat") is None
    request = WebhookRequest(url="https://x.example.com", body=b'{"a": 1}')
    assert request.json() == {"a": 1} and dict(request.headers) == {}


def test_errors_are_in_the_one_hierarchy() -> None:
    form = FormError({"Subject": "Complete this field."})
    assert isinstance(form, FieldIntegrityError) and form.code == "FIELD_INTEGRITY_EXCEPTION"
    assert form.message == "The form has errors: Subject: Complete this field."
    assert form.to_salesforce()["fields"] == ["Subject"]
    run = FlowRunError("it broke", flow="F", element="E")
    assert isinstance(run, WorkrouteError) and run.code == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert (run.message, run.reason, run.element) == (
        "flow F, element E: it broke",
        "it broke",
        "E",
    )


def test_the_public_names() -> None:
    assert sorted(workroute.flows.__all__) == [
        "CONDITION_MET",
        "EmailRequest",
        "FlowBody",
        "FlowCallable",
        "FlowCallables",
        "FlowContext",
        "FlowRunError",
        "Form",
        "FormError",
        "FormField",
        "FormOption",
        "FormScreen",
        "Webhook",
        "WebhookRequest",
        "evaluate",
        "run_autolaunched",
        "screen_form",
        "submit_form",
    ]
    for name in workroute.flows.__all__:
        assert hasattr(workroute.flows, name)
