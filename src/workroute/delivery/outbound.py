"""Workflow outbound messages: SOAP 1.1 notifications as Salesforce sends them.

The envelope holds one ``notifications`` element (namespace
``http://soap.sforce.com/2005/09/outbound``) with OrganizationId, ActionId, SessionId
(nil unless the action includes it), EnterpriseUrl, PartnerUrl and 1 to 100
``Notification`` elements, each an ``Id`` (the notification id, stable per record
change so a listener can drop duplicates) and an ``sObject`` of ``xsi:type`` ``sf:Obj``
with its non-null fields. The listener acknowledges with
``<notificationsResponse><Ack>true</Ack></notificationsResponse>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100


@dataclass(frozen=True, slots=True)
class OutboundNotification:
    notification_id: str
    object_name: str
    #: Field API name -> value, in the order to send (Id first).
    fields: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    acknowledged: bool
    status_code: int | None = None
    error: str | None = None


def format_value(value: object) -> str:
    """A value as Salesforce's SOAP API writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        v = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        v = v.astimezone(UTC)
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def build_envelope(
    *,
    organization_id: str,
    action_id: str,
    session_id: str | None,
    enterprise_url: str,
    partner_url: str,
    notifications: Sequence[OutboundNotification],
) -> bytes:
    """The SOAP request body; ValueError for 0 or more than 100 notifications, mixed
    object types, or text XML 1.0 cannot carry (control characters)."""
    if not 1 <= len(notifications) <= MAX_NOTIFICATIONS:
        raise ValueError(f"an outbound message carries 1 to {MAX_NOTIFICATIONS} notifications")
    if len({n.object_name for n in notifications}) != 1:
        raise ValueError("the notifications of one message must be of one object type")
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "xsi": XSI})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    root = etree.SubElement(
        body,
        f"{{{OUTBOUND_NS}}}notifications",
        nsmap={None: OUTBOUND_NS},  # type: ignore[dict-item]  # lxml: None = default ns
    )

    def add(parent: etree._Element, tag: str, text: str | None) -> etree._Element:
        el = etree.SubElement(parent, f"{{{OUTBOUND_NS}}}{tag}")
        if text is None:
            el.set(f"{{{XSI}}}nil", "true")
        else:
            el.text = text
        return el

    add(root, "OrganizationId", organization_id)
    add(root, "ActionId", action_id)
    add(root, "SessionId", session_id)
    add(root, "EnterpriseUrl", enterprise_url)
    add(root, "PartnerUrl", partner_url)
    for n in notifications:
        note = etree.SubElement(root, f"{{{OUTBOUND_NS}}}Notification")
        add(note, "Id", n.notification_id)
        sobj = etree.SubElement(note, f"{{{OUTBOUND_NS}}}sObject", nsmap={"sf": SOBJECT_NS})
        sobj.set(f"{{{XSI}}}type", f"sf:{n.object_name}")
        ordered = sorted(n.fields.items(), key=lambda kv: kv[0] != "Id")
        for name, value in ordered:
            if value is None:
                continue
            el = etree.SubElement(sobj, f"{{{SOBJECT_NS}}}{name}")
            el.text = format_value(value)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def parse_ack(body: bytes) -> bool:
    """True only for a well-formed answer whose ``Ack`` says true."""
    try:
        root = etree.fromstring(body, _SAFE_PARSER)
    except etree.XMLSyntaxError:
        return False
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname == "Ack":
            return (el.text or "").strip().lower() == "true"
    return False


def post_envelope(
    url: str, body: bytes, *, timeout: float = 60.0, client: httpx.Client | None = None
) -> DeliveryAttempt:
    """POST one message; never raises for network errors, HTTP errors or a nack."""
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
    except httpx.HTTPError as exc:
        return DeliveryAttempt(False, None, f"{type(exc).__name__}: {exc}")
    if response.status_code != 200:
        return DeliveryAttempt(False, response.status_code, f"HTTP {response.status_code}")
    if not parse_ack(response.content):
        return DeliveryAttempt(False, 200, "Ack false (or no Ack in the answer)")
    return DeliveryAttempt(True, 200, None)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Salesforce's outbound message retries: the first retry comes within seconds,
    then the interval doubles, up to ``max_delay`` (two hours) between attempts;
    after ``give_up_after`` (24 hours) from the first attempt the message is dropped,
    or moved to the dead-letter queue when the action asks for it.

    Attempt n (1-based) failed at ``now``: the next one is at
    ``now + min(first_delay * 2**(n-1), max_delay)``, unless that is past
    ``first_attempt_at + give_up_after`` (then None: give up).
    """

    first_delay: timedelta = timedelta(seconds=15)
    max_delay: timedelta = timedelta(hours=2)
    give_up_after: timedelta = timedelta(hours=24)

    def delay(self, attempts: int) -> timedelta:
        if attempts < 1:
            raise ValueError("attempts counts from 1")
        # 2**20 * 15 s is far past the cap; keep the exponent small.
        grown: timedelta = self.first_delay * (2 ** min(attempts - 1, 20))
        return min(grown, self.max_delay)

    def next_attempt(
        self, first_attempt_at: datetime, attempts: int, now: datetime
    ) -> datetime | None:
        nxt = now + self.delay(attempts)
        if nxt > first_attempt_at + self.give_up_after:
            return None
        return nxt
