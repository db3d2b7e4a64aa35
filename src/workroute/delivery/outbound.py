"""Workflow outbound messages: SOAP 1.1 ``notifications()`` calls as Salesforce sends them.

The format follows the outbound messaging WSDL (SOAP API guide, "Understanding the
Outbound Messaging WSDL") and messages Salesforce really sends::

    <soapenv:Envelope xmlns:soapenv=".../soap/envelope/" xmlns:xsd=... xmlns:xsi=...>
     <soapenv:Body>
      <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
       <OrganizationId>00D...</OrganizationId>
       <ActionId>04k...</ActionId>
       <SessionId xsi:nil="true"/>
       <EnterpriseUrl>https://.../services/Soap/c/...</EnterpriseUrl>
       <PartnerUrl>https://.../services/Soap/u/...</PartnerUrl>
       <Notification>
        <Id>04l...</Id>
        <sObject xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
         <sf:Id>001...</sf:Id>
         <sf:Name>...</sf:Name>
        </sObject>
       </Notification>
      </notifications>
     </soapenv:Body>
    </soapenv:Envelope>

One message carries 1 to 100 notifications of one object. The notification ``Id`` stays
the same on every retry so a listener can drop duplicates. The listener answers
``<notificationsResponse><Ack>true</Ack></notificationsResponse>``; anything else is a
failed attempt, retried on the :class:`RetryPolicy` schedule.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

import httpx
from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
#: The WSDL's ``maxOccurs="100"`` on ``Notification``.
MAX_NOTIFICATIONS = 100
#: Salesforce's outbound message timeout (Help, "Outbound Message Considerations").
DEFAULT_TIMEOUT = 60.0
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'

# Characters XML 1.0 cannot carry at all, not even as character references.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# sObject and field API names: Account, Custom__c, ns__Field__c.
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class OutboundNotification:
    """One record in an outbound message.

    ``fields`` maps field API names to values in the order to send; ``Id`` is moved to
    the front when it is not already there, and None values are left out (Salesforce
    sends only non-null fields).
    """

    notification_id: str
    object_name: str
    fields: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """The outcome of one POST: acknowledged, or why not (``error``)."""

    acknowledged: bool
    status_code: int | None = None
    error: str | None = None


def format_value(value: object) -> str:
    """``value`` as Salesforce's SOAP API writes it.

    bool -> ``true``/``false``; datetime -> UTC with milliseconds and ``Z`` (naive
    datetimes are taken as UTC); date -> ``YYYY-MM-DD``; time -> ``HH:MM:SS.sssZ``;
    Decimal, int and float in plain notation (no exponent); bytes -> base64; anything
    else -> ``str(value)``. ValueError for NaN and infinities, which no Salesforce
    number field holds.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        v = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        v = v.astimezone(UTC)
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        d = value if isinstance(value, Decimal) else Decimal(repr(value))
        if not d.is_finite():
            raise ValueError(f"{value!r} cannot be sent: numbers must be finite")
        return format(d, "f")
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _text(value: str, where: str) -> str:
    bad = _NOT_XML_CHAR.search(value)
    if bad is not None:
        raise ValueError(f"{where} contains U+{ord(bad.group()):04X}, which XML 1.0 cannot carry")
    return value


def build_envelope(
    *,
    organization_id: str,
    action_id: str,
    session_id: str | None,
    enterprise_url: str,
    partner_url: str,
    notifications: Sequence[OutboundNotification],
) -> bytes:
    """The SOAP 1.1 request body of one outbound message, UTF-8 with an XML declaration.

    ``session_id`` None is sent as ``<SessionId xsi:nil="true"/>`` (the action does not
    include the session id). Raises ValueError for 0 or more than 100 notifications,
    notifications of different objects, an object or field name that is not an API
    name, a non-finite number, or text with characters XML 1.0 cannot represent (NUL,
    most C0 controls, U+FFFE/U+FFFF, lone surrogates): such text is refused, not
    silently altered, so the listener never gets a value that differs from the record.
    """
    if not 1 <= len(notifications) <= MAX_NOTIFICATIONS:
        raise ValueError(
            f"an outbound message carries 1 to {MAX_NOTIFICATIONS} notifications,"
            f" not {len(notifications)}"
        )
    objects = {n.object_name for n in notifications}
    if len(objects) != 1:
        raise ValueError(
            "the notifications of one message must be of one object type, not "
            + ", ".join(sorted(objects))
        )
    (object_name,) = objects
    if not _API_NAME.match(object_name):
        raise ValueError(f"{object_name!r} is not an object API name")

    # lxml-stubs do not allow the None (default namespace) prefix.
    env = etree.Element(
        f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "xsd": XSD, "xsi": XSI}
    )
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    root = etree.SubElement(
        body, f"{{{OUTBOUND_NS}}}notifications", nsmap=cast(Any, {None: OUTBOUND_NS})
    )

    def add(parent: etree._Element, tag: str, text: str | None) -> None:
        el = etree.SubElement(parent, f"{{{OUTBOUND_NS}}}{tag}")
        if text is None:
            el.set(f"{{{XSI}}}nil", "true")
        else:
            el.text = _text(text, tag)

    add(root, "OrganizationId", organization_id)
    add(root, "ActionId", action_id)
    add(root, "SessionId", session_id)
    add(root, "EnterpriseUrl", enterprise_url)
    add(root, "PartnerUrl", partner_url)
    for n in notifications:
        note = etree.SubElement(root, f"{{{OUTBOUND_NS}}}Notification")
        add(note, "Id", n.notification_id)
        sobj = etree.SubElement(note, f"{{{OUTBOUND_NS}}}sObject", nsmap={"sf": SOBJECT_NS})
        sobj.set(f"{{{XSI}}}type", f"sf:{object_name}")
        # A stable sort: Id first, every other field keeps the caller's order.
        for name, value in sorted(n.fields.items(), key=lambda kv: kv[0] != "Id"):
            if value is None:
                continue
            if not _API_NAME.match(name):
                raise ValueError(f"{name!r} is not a field API name")
            el = etree.SubElement(sobj, f"{{{SOBJECT_NS}}}{name}")
            el.text = _text(format_value(value), f"{object_name}.{name}")
    return XML_DECLARATION + bytes(etree.tostring(env, encoding="UTF-8"))


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers must not be shared between threads.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _ack(body: bytes) -> bool | None:
    """The listener's Ack: True/False, or None when the answer has none or is not XML."""
    try:
        root = etree.fromstring(body, _parser())
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        return None
    soap_body = root.find(f"{{{SOAP_ENV}}}Body")
    if soap_body is None:
        return None
    for el in soap_body.iter(f"{{{OUTBOUND_NS}}}Ack", "Ack"):
        return "".join(str(t) for t in el.itertext()).strip().lower() == "true"
    return None


def parse_ack(body: bytes) -> bool:
    """True only for a well-formed SOAP 1.1 envelope whose Body holds an ``Ack`` (in the
    outbound namespace or none, any prefix) saying ``true`` (trimmed, any case).

    Malformed XML, another root, no Ack, or an Ack of ``false`` give False. Entities
    are not resolved and nothing is fetched from the network.
    """
    return _ack(body) is True


def _fault(body: bytes) -> str | None:
    """The ``faultstring`` of a SOAP fault answer, if there is one."""
    try:
        root = etree.fromstring(body, _parser())
    except (etree.XMLSyntaxError, ValueError):
        return None
    for el in root.iter("faultstring", f"{{{SOAP_ENV}}}faultstring"):
        text = "".join(str(t) for t in el.itertext()).strip()
        return text[:200] or None
    return None


def post_envelope(
    url: str,
    body: bytes,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    client: httpx.Client | None = None,
) -> DeliveryAttempt:
    """POST one message to the listener at ``url`` and read its Ack.

    Never raises for network errors, HTTP errors or a negative Ack: they come back as
    ``error`` ("connection failed: ...", "timed out after 60s", "HTTP 500", "Ack false",
    "no Ack in the answer"). Only a 200 answer with ``Ack`` true is acknowledged.
    Redirects are not followed. ``client`` lets the caller reuse connections; without
    one a client that ignores proxy environment variables is used for this call.
    """
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    try:
        if client is not None:
            response = client.post(url, content=body, headers=headers, timeout=timeout)
        else:
            with httpx.Client(trust_env=False) as own:
                response = own.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        return DeliveryAttempt(False, None, f"timed out after {timeout:g}s")
    except httpx.ConnectError as exc:
        return DeliveryAttempt(False, None, f"connection failed: {exc}")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return DeliveryAttempt(False, None, f"{type(exc).__name__}: {exc}")
    status = response.status_code
    if status != 200:
        fault = _fault(response.content)
        return DeliveryAttempt(False, status, f"HTTP {status}" + (f": {fault}" if fault else ""))
    ack = _ack(response.content)
    if ack is None:
        return DeliveryAttempt(False, status, "no Ack in the answer")
    if not ack:
        return DeliveryAttempt(False, status, "Ack false")
    return DeliveryAttempt(True, status, None)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """When to retry an outbound message that was not acknowledged.

    Salesforce documents the policy, not the numbers (SOAP API guide, "Understanding
    Notifications"; Help, "Outbound Message Considerations"): the interval between
    retries increases exponentially up to a maximum of two hours, and a message still
    undelivered 24 hours after it was queued is dropped (or, with the action's
    ``useDeadLetterQueue``, kept in the dead-letter queue). The first delay is ours:
    15 seconds, "within seconds".

    After failed attempt ``n`` (1-based) at ``now`` the next attempt is at
    ``now + min(first_delay * 2**(n - 1), max_delay)``; None (give up) when that is
    later than ``first_attempt_at + give_up_after``. With the defaults the delays are
    15 s, 30 s, 1 min, 2 min, 4 min, 8 min, 16 min, 32 min, 64 min, then 2 h for every
    later retry (128 min is capped). If every attempt fails at once, retries happen at
    15 s, 45 s, 1:45, 3:45, 7:45, 15:45, 31:45, 1:03:45, 2:07:45 after the first
    attempt, then every 2 h up to 22:07:45 (the 19th retry); the 20th would fall at
    24:07:45, so after 20 attempts the message is given up.
    """

    first_delay: timedelta = timedelta(seconds=15)
    max_delay: timedelta = timedelta(hours=2)
    give_up_after: timedelta = timedelta(hours=24)

    def delay(self, attempts: int) -> timedelta:
        """The wait after ``attempts`` failed attempts (1 or more)."""
        if attempts < 1:
            raise ValueError(f"attempts counts from 1, not {attempts}")
        # Past 2**20 * first_delay any sane cap is reached; keep the factor small.
        grown: timedelta = self.first_delay * (2 ** min(attempts - 1, 20))
        return min(grown, self.max_delay)

    def next_attempt(
        self, first_attempt_at: datetime, attempts: int, now: datetime
    ) -> datetime | None:
        """When to try again after attempt ``attempts`` failed at ``now``; None = give up."""
        nxt = now + self.delay(attempts)
        if nxt > first_attempt_at + self.give_up_after:
            return None
        return nxt
