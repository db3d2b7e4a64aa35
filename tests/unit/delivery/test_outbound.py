"""SOAP outbound messages: the envelope Salesforce sends, posted to a real loopback HTTP
listener; Ack parsing; the retry schedule."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from workroute.delivery.outbound import (
    MAX_NOTIFICATIONS,
    OUTBOUND_NS,
    SOAP_ENV,
    SOBJECT_NS,
    XSI,
    DeliveryAttempt,
    OutboundNotification,
    RetryPolicy,
    build_envelope,
    format_value,
    parse_ack,
    post_envelope,
)

ORG_ID = "00D000000000001AAA"
ACTION_ID = "04k000000000001AAA"
ENTERPRISE_URL = "https://example.test/services/Soap/c/60.0/00D000000000001"
PARTNER_URL = "https://example.test/services/Soap/u/60.0/00D000000000001"
T0 = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)


def _ack_body(ack: str, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}" if prefix else "xmlns"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soapenv:Body><{p}notificationsResponse {xmlns}="{OUTBOUND_NS}">'
        f"<{p}Ack>{ack}</{p}Ack></{p}notificationsResponse></soapenv:Body></soapenv:Envelope>"
    ).encode()


_FAULT = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode>"
    b"<faultstring>listener is down</faultstring></soapenv:Fault></soapenv:Body>"
    b"</soapenv:Envelope>"
)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Listener:
    """A loopback SOAP listener; ``mode`` decides its answer."""

    server: ThreadingHTTPServer
    release: threading.Event
    mode: str = "ack-true"
    requests: list[Request] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/notify"


def _handler(listener_ref: list[Listener]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            lst = listener_ref[0]
            body = self.rfile.read(int(self.headers["Content-Length"]))
            lst.requests.append(Request(self.path, dict(self.headers.items()), body))
            if lst.mode == "block":
                lst.release.wait()
                return
            status, answer = {
                "ack-true": (200, _ack_body("true")),
                "ack-false": (200, _ack_body("false")),
                "http-500": (500, _FAULT),
                "garbage": (200, b"<<this is not xml"),
            }[lst.mode]
            self.send_response(status)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def listener() -> Iterator[Listener]:
    ref: list[Listener] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    lst = Listener(server=server, release=threading.Event())
    ref.append(lst)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield lst
    finally:
        lst.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def _note(nid: str = "04l000000000001AAA", /, **fields: object) -> OutboundNotification:
    return OutboundNotification(
        notification_id=nid,
        object_name="Account",
        fields=fields or {"Id": "001000000000001AAA", "Name": "Acme"},
    )


def _envelope(notifications: list[OutboundNotification], session_id: str | None = None) -> bytes:
    return build_envelope(
        organization_id=ORG_ID,
        action_id=ACTION_ID,
        session_id=session_id,
        enterprise_url=ENTERPRISE_URL,
        partner_url=PARTNER_URL,
        notifications=notifications,
    )


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _parse(body: bytes) -> etree._Element:
    return etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))


def _notifications(body: bytes) -> etree._Element:
    root = _parse(body)
    assert root.tag == f"{{{SOAP_ENV}}}Envelope"
    (soap_body,) = root
    assert soap_body.tag == f"{{{SOAP_ENV}}}Body"
    (notifications,) = soap_body
    assert notifications.tag == f"{{{OUTBOUND_NS}}}notifications"
    return notifications


def _sobject_values(notification: etree._Element) -> tuple[str, dict[str, str]]:
    nid = notification.find(f"{{{OUTBOUND_NS}}}Id")
    sobj = notification.find(f"{{{OUTBOUND_NS}}}sObject")
    assert nid is not None and sobj is not None
    values = {}
    for el in sobj:
        assert etree.QName(el).namespace == SOBJECT_NS
        values[_local(el)] = el.text or ""
    return nid.text or "", values


# -- the envelope, posted to a real listener ----------------------------------------------


def test_posted_envelope_has_salesforce_structure_and_headers(listener: Listener) -> None:
    note = _note(
        "04l000000000001AAA",
        Name="Acme <&> Co",
        Id="001000000000001AAA",
        Description=None,
        IsActive__c=True,
        AnnualRevenue=Decimal("1.5E+6"),
        LastReview__c=datetime(2024, 1, 2, 4, 4, 5, 123456, tzinfo=timezone(timedelta(hours=1))),
        Founded__c=date(1999, 12, 31),
        NumberOfEmployees=42,
    )
    body = _envelope([note])
    attempt = post_envelope(listener.url, body, timeout=5)
    assert attempt == DeliveryAttempt(acknowledged=True, status_code=200, error=None)

    (request,) = listener.requests
    assert request.path == "/notify"
    assert request.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert request.headers["SOAPAction"] == '""'
    assert request.body == body
    assert request.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope')

    notifications = _notifications(request.body)
    assert [_local(c) for c in notifications] == [
        "OrganizationId",
        "ActionId",
        "SessionId",
        "EnterpriseUrl",
        "PartnerUrl",
        "Notification",
    ]
    org, action, session, enterprise, partner, notification = notifications
    assert (org.text, action.text) == (ORG_ID, ACTION_ID)
    assert (enterprise.text, partner.text) == (ENTERPRISE_URL, PARTNER_URL)
    assert session.get(f"{{{XSI}}}nil") == "true" and session.text is None and len(session) == 0

    sobj = notification.find(f"{{{OUTBOUND_NS}}}sObject")
    assert sobj is not None
    assert sobj.get(f"{{{XSI}}}type") == "sf:Account"
    assert sobj.nsmap["sf"] == SOBJECT_NS  # the xsi:type prefix resolves to the sObject ns
    nid, values = _sobject_values(notification)
    assert nid == "04l000000000001AAA"
    assert list(values) == [  # Id first, then the caller's order; null Description omitted
        "Id",
        "Name",
        "IsActive__c",
        "AnnualRevenue",
        "LastReview__c",
        "Founded__c",
        "NumberOfEmployees",
    ]
    assert values == {
        "Id": "001000000000001AAA",
        "Name": "Acme <&> Co",
        "IsActive__c": "true",
        "AnnualRevenue": "1500000",
        "LastReview__c": "2024-01-02T03:04:05.123Z",
        "Founded__c": "1999-12-31",
        "NumberOfEmployees": "42",
    }
    assert b"Acme &lt;&amp;&gt; Co" in request.body  # escaped by lxml, not concatenated


def test_session_id_is_sent_when_included(listener: Listener) -> None:
    post_envelope(listener.url, _envelope([_note()], session_id="00D!AQ<token>"), timeout=5)
    session = _notifications(listener.requests[0].body)[2]
    assert session.text == "00D!AQ<token>" and session.get(f"{{{XSI}}}nil") is None


def test_many_notifications_share_one_message_in_order(listener: Listener) -> None:
    notes = [
        _note(f"04l{i:015d}", Id=f"001{i:015d}", Name=f"N{i}") for i in range(MAX_NOTIFICATIONS)
    ]
    assert post_envelope(listener.url, _envelope(notes), timeout=5).acknowledged
    notifications = _notifications(listener.requests[0].body)
    sent = [_sobject_values(n) for n in notifications.iterfind(f"{{{OUTBOUND_NS}}}Notification")]
    assert [nid for nid, _ in sent] == [n.notification_id for n in notes]
    assert [v["Name"] for _, v in sent] == [f"N{i}" for i in range(MAX_NOTIFICATIONS)]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("ack-false", DeliveryAttempt(False, 200, "Ack false")),
        ("http-500", DeliveryAttempt(False, 500, "HTTP 500: listener is down")),
        ("garbage", DeliveryAttempt(False, 200, "no Ack in the answer")),
    ],
)
def test_unacknowledged_answers_are_recorded_not_raised(
    listener: Listener, mode: str, expected: DeliveryAttempt
) -> None:
    listener.mode = mode
    assert post_envelope(listener.url, _envelope([_note()]), timeout=5) == expected
    assert len(listener.requests) == 1


def test_a_caller_supplied_client_is_used(listener: Listener) -> None:
    with httpx.Client(trust_env=False) as client:
        attempt = post_envelope(listener.url, _envelope([_note()]), timeout=5, client=client)
        assert attempt.acknowledged
        assert not client.is_closed  # the caller's client stays open for reuse


def test_connection_refused_is_recorded() -> None:
    # A bound socket that does not listen: connecting to its port is refused, no race.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        attempt = post_envelope(f"http://127.0.0.1:{port}/notify", b"<x/>", timeout=5)
    assert not attempt.acknowledged and attempt.status_code is None
    assert attempt.error is not None and attempt.error.startswith("connection failed")
    assert "refused" in attempt.error.lower()


def test_a_listener_that_never_answers_times_out(listener: Listener) -> None:
    listener.mode = "block"
    attempt = post_envelope(listener.url, _envelope([_note()]), timeout=0.5)
    assert attempt == DeliveryAttempt(False, None, "timed out after 0.5s")


def test_an_invalid_url_is_recorded() -> None:
    attempt = post_envelope("ftp://127.0.0.1/notify", b"<x/>", timeout=1)
    assert not attempt.acknowledged and attempt.error is not None


# -- building: validation and value formats ----------------------------------------------


@pytest.mark.parametrize("count", [0, MAX_NOTIFICATIONS + 1])
def test_zero_or_more_than_100_notifications_are_refused(count: int) -> None:
    with pytest.raises(ValueError, match="1 to 100 notifications"):
        _envelope([_note(f"04l{i:015d}") for i in range(count)])


def test_notifications_of_two_objects_are_refused() -> None:
    contact = OutboundNotification(notification_id="04l2", object_name="Contact", fields={})
    with pytest.raises(ValueError, match="one object type"):
        _envelope([_note(), contact])


@pytest.mark.parametrize(
    "fields",
    [
        {"Name": "bell \x07"},
        {"Name": "nul \x00"},
        {"Name": "\ufffe"},
        {"Name": "lone \ud800 surrogate"},
        {"Bad Name": "x"},
        {"Amount": float("nan")},
        {"Amount": Decimal("Infinity")},
    ],
)
def test_values_xml_cannot_carry_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _envelope([_note(Id="001000000000001AAA", **fields)])


def test_a_bad_object_name_is_refused() -> None:
    note = OutboundNotification(notification_id="04l1", object_name="sf:Evil x", fields={})
    with pytest.raises(ValueError, match="object API name"):
        _envelope([note])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05.000Z"),
        # naive (as SQLite returns them) = UTC
        (datetime.fromisoformat("2024-01-02T03:04:05.999999"), "2024-01-02T03:04:05.999Z"),
        (date(2024, 1, 2), "2024-01-02"),
        (time(13, 5, 0, 250000), "13:05:00.250Z"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.00001"), "0.00001"),
        (Decimal("-12.50"), "-12.50"),
        (1e20, "100000000000000000000"),
        (1e-7, "0.0000001"),
        (0.1, "0.1"),
        (12345678901234567890, "12345678901234567890"),
        (b"\x00\xff", "AP8="),
        ("as is ", "as is "),
    ],
)
def test_values_are_formatted_like_the_soap_api(value: object, text: str) -> None:
    assert format_value(value) == text


# -- parse_ack ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        _ack_body("true"),
        _ack_body(" TRUE \n"),
        _ack_body("True", prefix="out"),
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
        b"<notificationsResponse><Ack>true</Ack></notificationsResponse></e:Body></e:Envelope>",
    ],
)
def test_a_true_ack_is_acknowledged(body: bytes) -> None:
    assert parse_ack(body) is True


@pytest.mark.parametrize(
    "body",
    [
        _ack_body("false"),
        _ack_body(""),
        _ack_body("1"),
        _ack_body("true-ish"),
        b"",
        b"<<garbage",
        _ack_body("true")[:-5],  # truncated
        b"<notificationsResponse><Ack>true</Ack></notificationsResponse>",  # no envelope
        _FAULT,
        # an Ack in some other namespace is not the outbound Ack
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
        b'<x:Ack xmlns:x="urn:other">true</x:Ack></e:Body></e:Envelope>',
        # entities are not resolved: neither an internal one ...
        b'<!DOCTYPE e:Envelope [<!ENTITY t "true">]>'
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
        b"<Ack>&t;</Ack></e:Body></e:Envelope>",
        # ... nor an external one
        b'<!DOCTYPE e:Envelope [<!ENTITY t SYSTEM "file:///etc/hostname">]>'
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>'
        b"<Ack>&t;</Ack></e:Body></e:Envelope>",
    ],
)
def test_anything_else_is_not_acknowledged(body: bytes) -> None:
    assert parse_ack(body) is False


# -- the retry schedule -----------------------------------------------------------------


def test_retry_delays_double_from_15_seconds_up_to_two_hours() -> None:
    policy = RetryPolicy()
    minutes = [policy.delay(n) / timedelta(minutes=1) for n in range(1, 13)]
    assert minutes == [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 120, 120, 120]
    assert policy.delay(10_000) == timedelta(hours=2)  # no overflow on huge counts


def test_next_attempt_is_now_plus_the_delay() -> None:
    policy = RetryPolicy()
    now = T0 + timedelta(minutes=3)
    assert policy.next_attempt(T0, 1, now) == now + timedelta(seconds=15)
    assert policy.next_attempt(T0, 4, now) == now + timedelta(minutes=2)
    assert policy.next_attempt(T0, 11, now) == now + timedelta(hours=2)


def test_attempts_that_fail_at_once_follow_the_documented_schedule() -> None:
    policy = RetryPolicy()
    now, attempts, offsets = T0, 0, []
    while True:
        attempts += 1
        nxt = policy.next_attempt(T0, attempts, now)
        if nxt is None:
            break
        offsets.append(nxt - T0)
        now = nxt
    seconds = [int(o.total_seconds()) for o in offsets]
    assert seconds[:9] == [15, 45, 105, 225, 465, 945, 1905, 3825, 7665]
    assert seconds[9:] == [7665 + 7200 * k for k in range(1, 11)]
    assert len(seconds) == 19 and attempts == 20
    assert offsets[-1] == timedelta(hours=22, minutes=7, seconds=45)


def test_give_up_after_24_hours() -> None:
    policy = RetryPolicy()
    day = timedelta(hours=24)
    # a retry landing exactly at 24 h is still made; one a second later is not
    assert policy.next_attempt(T0, 1, T0 + day - timedelta(seconds=15)) == T0 + day
    assert policy.next_attempt(T0, 1, T0 + day - timedelta(seconds=14)) is None
    assert policy.next_attempt(T0, 12, T0 + timedelta(hours=23)) is None
    assert policy.next_attempt(T0, 3, T0 + timedelta(hours=25)) is None


def test_a_custom_policy_and_bad_counts() -> None:
    policy = RetryPolicy(first_delay=timedelta(seconds=1), max_delay=timedelta(seconds=5))
    assert [policy.delay(n).total_seconds() for n in range(1, 6)] == [1, 2, 4, 5, 5]
    with pytest.raises(ValueError, match="counts from 1"):
        policy.delay(0)


# -- property: any XML-representable text round-trips -------------------------------------

_XML_CHAR = st.characters(codec="utf-8").filter(
    lambda c: c in "\t\n\r" or ("\x20" <= c and c not in "\ufffe\uffff")
)
_FIELD_NAME = st.from_regex(re.compile(r"[A-Za-z][A-Za-z0-9_]{0,12}"), fullmatch=True).filter(
    lambda n: n != "Id"
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    notes=st.lists(
        st.tuples(
            st.text(_XML_CHAR, max_size=20),
            st.dictionaries(_FIELD_NAME, st.text(_XML_CHAR, max_size=40), max_size=6),
        ),
        min_size=1,
        max_size=5,
    ),
    session=st.none() | st.text(_XML_CHAR, max_size=20),
)
def test_envelope_round_trips_any_xml_text(
    notes: list[tuple[str, dict[str, str]]], session: str | None
) -> None:
    notifications = [
        OutboundNotification(
            notification_id=nid, object_name="Custom__c", fields={"Id": "a00", **values}
        )
        for nid, values in notes
    ]
    root = _notifications(_envelope(notifications, session_id=session))
    sess = root[2]
    assert (sess.text or "") == (session or "")
    assert (sess.get(f"{{{XSI}}}nil") == "true") is (session is None)
    sent = [_sobject_values(n) for n in root.iterfind(f"{{{OUTBOUND_NS}}}Notification")]
    assert sent == [(nid, {"Id": "a00", **values}) for nid, values in notes]


@given(bad=st.characters(codec="utf-8", max_codepoint=0x1F).filter(lambda c: c not in "\t\n\r"))
def test_control_characters_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"XML 1\.0 cannot carry"):
        _envelope([_note(Id="001", Name=f"a{bad}b")])
