"""Action calls: email (``emailSimple``), registered Python callables and webhooks.

``emailSimple`` becomes an :class:`~workroute.flows.EmailRequest` from its inputs
``emailAddresses`` (comma-separated), ``emailAddressesArray``, ``recipientId`` (a
user, contact or lead: their Email), ``senderAddress``, ``emailSubject``,
``emailBody`` and ``sendRichBody``. An action of ``actionType`` apex (or
externalService) calls what :class:`~workroute.flows.FlowCallables` holds under its
``actionName``: a Python callable runs at once with the inputs and gives its outputs;
a webhook becomes a :class:`~workroute.flows.WebhookRequest` POSTing the inputs as
JSON. Emails and webhooks are handed to the context only when the whole run has
succeeded (as Salesforce sends a flow's email when its transaction commits). Any other
action type is refused when reached, naming it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

from workroute.flows.context import EmailRequest, WebhookRequest
from workroute.flows.model import ActionCall
from workroute.flows.values import to_text
from workroute.flows.vocabulary import EMAIL_ACTION_TYPE, REGISTERED_ACTION_TYPES
from workroute.kernel.errors import WorkrouteError

if TYPE_CHECKING:
    from workroute.flows.interview import Interview

__all__ = ["json_value", "run"]

_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
_EMAIL_OBJECTS = ("User", "Contact", "Lead")


def json_value(value: object) -> object:
    """``value`` as JSON can carry it (numbers stay numbers, dates become ISO text)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return to_text(value)
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def _inputs(iv: Interview, a: ActionCall) -> dict[str, object]:
    return {p.name: iv.value(p.value) for p in a.inputs}


def _input(inputs: Mapping[str, object], name: str) -> object:
    low = name.lower()
    return next((v for k, v in inputs.items() if k.lower() == low), None)


def run(iv: Interview, a: ActionCall) -> None:
    if a.action_type == EMAIL_ACTION_TYPE:
        _email(iv, a)
    elif a.action_type in REGISTERED_ACTION_TYPES:
        _registered(iv, a)
    else:
        raise iv.fail(
            f"actionType {a.action_type} ({a.action_name}) is not run by workroute; it runs "
            "emailSimple, and apex actions registered as Python callables or webhooks"
        )


def _email(iv: Interview, a: ActionCall) -> None:
    if iv.evaluation:
        raise iv.fail("an evaluation flow only decides; it cannot send email")
    inputs = _inputs(iv, a)
    to: list[str] = []
    listed = _input(inputs, "emailAddresses")
    if listed:
        to += [x.strip() for x in re.split(r"[,;]", str(listed)) if x.strip()]
    many = _input(inputs, "emailAddressesArray")
    if isinstance(many, list | tuple):
        to += [str(x).strip() for x in many if x]
    recipient = _input(inputs, "recipientId")
    if recipient:
        to.append(_email_of(iv, str(recipient)))
    bad = [x for x in to if not _EMAIL.match(x)]
    if bad:
        raise iv.fail(f"'{bad[0]}' is not a valid email address")
    if not to:
        raise iv.fail(
            "the email has no recipients (emailAddresses, emailAddressesArray or recipientId)"
        )
    sender = _input(inputs, "senderAddress")
    iv.emails.append(
        EmailRequest(
            to=tuple(dict.fromkeys(to)),
            subject=to_text(_input(inputs, "emailSubject")),
            body=to_text(_input(inputs, "emailBody")),
            sender=str(sender) if sender else None,
            html=_input(inputs, "sendRichBody") is True,
        )
    )


def _email_of(iv: Interview, record_id: str) -> str:
    obj = iv.store.schema.by_prefix(record_id[:3])
    if obj is None or obj.name not in _EMAIL_OBJECTS:
        raise iv.fail(f"recipientId {record_id} is not a user, contact or lead")
    rows = iv.store.get_many(obj.name, [record_id])
    email = rows[0].get("Email") if rows else None
    if not email:
        raise iv.fail(f"recipientId {record_id} has no email address")
    return str(email)


def _registered(iv: Interview, a: ActionCall) -> None:
    callables = iv.ctx.callables
    fn = callables.function(a.action_name) if callables is not None else None
    hook = callables.webhook(a.action_name) if callables is not None else None
    inputs = _inputs(iv, a)
    if hook is not None:
        if iv.evaluation:
            raise iv.fail("an evaluation flow only decides; it cannot call webhooks")
        body = json.dumps(json_value(inputs), sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json", **hook.headers}
        iv.webhooks.append(WebhookRequest(url=hook.url, body=body, headers=headers))
        iv.values[a.name.lower()] = {}
        return
    if fn is None:
        raise iv.fail(
            f"no Python callable or webhook is registered as '{a.action_name}' "
            "(FlowCallables.register / register_webhook)"
        )
    try:
        result = fn(inputs, iv.ctx)
    except WorkrouteError:
        raise
    except Exception as exc:  # the callable's own failure, whatever it is
        raise iv.fail(f"{a.action_name} raised {type(exc).__name__}: {exc}") from exc
    if result is None:
        result = {}
    if not isinstance(result, Mapping):
        raise iv.fail(
            f"{a.action_name} returned {type(result).__name__}; an action returns a mapping "
            "of its outputs"
        )
    outputs = dict(result)
    for o in a.outputs:
        iv.assign(o.assign_to, _input(outputs, o.name))
    iv.values[a.name.lower()] = outputs
