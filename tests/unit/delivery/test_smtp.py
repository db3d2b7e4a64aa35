"""SMTP delivery against a real aiosmtpd server on 127.0.0.1 (plain, STARTTLS, TLS, AUTH)."""

from __future__ import annotations

import asyncio
import email
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from workroute.delivery.smtp import (
    OutgoingEmail,
    SmtpDeliveryError,
    SmtpSecurity,
    SmtpSettings,
    send_email,
)
from workroute.kernel.errors import (
    ConfigurationError,
    DeliveryError,
    FieldValidationError,
    InvalidEmailAddressError,
)

USER = "relay-user"
PASSWORD = "s3cret:p@ss"


# -- a real SMTP server ---------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    login: bytes | None

    @property
    def message(self) -> EmailMessage:
        # The wire format has CRLF line ends; compare bodies with plain newlines.
        msg = email.message_from_bytes(self.data.replace(b"\r\n", b"\n"), policy=default_policy)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Collector:
    """aiosmtpd handler: keeps every message; refuses the recipients in ``refuse``."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content
        assert isinstance(data, bytes) and isinstance(envelope.mail_from, str)
        auth = session.auth_data
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=data,
                tls=session.ssl is not None,
                login=auth.login if isinstance(auth, LoginPassword) else None,
            )
        )
        return "250 Message accepted for delivery"


class EphemeralController(Controller):
    """Listens on an ephemeral port: the port is read back from the bound socket."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]  # aiosmtpd leaves it untyped


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (
        USER.encode(),
        PASSWORD.encode(),
    )
    # handled=False: aiosmtpd sends the 535 reply itself when the login fails.
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


Server = Callable[..., tuple[Collector, int]]


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    """Start a server with the given aiosmtpd options; returns (collector, port)."""
    controllers: list[Controller] = []

    def start(**options: Any) -> tuple[Collector, int]:
        collector = Collector()
        controller = EphemeralController(
            collector, hostname="127.0.0.1", port=0, server_hostname="localhost", **options
        )
        controller.start()
        controllers.append(controller)
        return collector, controller.port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def settings(port: int, **overrides: Any) -> SmtpSettings:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": port, "timeout": 10.0}
    values["helo_name"] = "workroute.test"
    values.update(overrides)
    return SmtpSettings(**values)


def make_email(**overrides: Any) -> OutgoingEmail:
    values: dict[str, Any] = {
        "sender": "alerts@example.com",
        "sender_name": "Support Desk",
        "to": ("ann@example.com",),
        "cc": ("bob@example.com",),
        "bcc": ("audit@example.com",),
        "subject": "Case 00001001 was escalated",
        "text_body": "Case 00001001 needs you.\nRegards",
        "message_id": "0WF000000000001@workroute.test",
    }
    values.update(overrides)
    return OutgoingEmail(**values)


# -- delivery -------------------------------------------------------------------------


def test_plain_delivery_envelope_and_headers(smtp_server: Server) -> None:
    collector, port = smtp_server()
    send_email(settings(port), make_email(reply_to="desk@example.com"))

    [got] = collector.received
    assert got.mail_from == "alerts@example.com"
    assert got.rcpt_tos == ["ann@example.com", "bob@example.com", "audit@example.com"]
    assert not got.tls
    msg = got.message
    assert msg["From"] == "Support Desk <alerts@example.com>"
    assert msg["To"] == "ann@example.com"
    assert msg["Cc"] == "bob@example.com"
    assert msg["Bcc"] is None
    assert b"audit@example.com" not in got.data
    assert msg["Reply-To"] == "desk@example.com"
    assert msg["Subject"] == "Case 00001001 was escalated"
    assert msg["Message-ID"] == "<0WF000000000001@workroute.test>"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content() == "Case 00001001 needs you.\nRegards\n"


def test_html_alternative_date_extra_headers_and_unicode(smtp_server: Server) -> None:
    collector, port = smtp_server()
    at = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)
    send_email(
        settings(port),
        make_email(
            subject="Fall 00001001 — Überfällig",
            sender_name="Kundendienst Ü",
            html_body="<p>Case <b>00001001</b></p>",
            date=at,
            headers={"Auto-Submitted": "auto-generated", "X-Workroute-Rule": "Escalate"},
            bcc=(),
        ),
    )
    msg = collector.received[0].message
    assert msg["Subject"] == "Fall 00001001 — Überfällig"
    assert msg["From"].addresses[0].display_name == "Kundendienst Ü"
    assert msg["Date"].datetime == at
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Workroute-Rule"] == "Escalate"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    assert "needs you" in text.get_content()
    assert html.get_content() == "<p>Case <b>00001001</b></p>\n"


def test_redelivery_keeps_the_message_id(smtp_server: Server) -> None:
    collector, port = smtp_server()
    outgoing = make_email()
    send_email(settings(port), outgoing)
    send_email(settings(port), outgoing)
    ids = [r.message["Message-ID"] for r in collector.received]
    assert ids == ["<0WF000000000001@workroute.test>"] * 2


def test_duplicate_recipients_are_sent_once(smtp_server: Server) -> None:
    collector, port = smtp_server()
    send_email(settings(port), make_email(cc=("ANN@example.com",), bcc=("ann@example.com",)))
    assert collector.received[0].rcpt_tos == ["ann@example.com"]


def test_starttls(
    smtp_server: Server, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    collector, port = smtp_server(tls_context=server_tls, require_starttls=True)
    send_email(settings(port, security=SmtpSecurity.STARTTLS, ssl_context=client_tls), make_email())
    [got] = collector.received
    assert got.tls
    assert got.message["Subject"] == "Case 00001001 was escalated"


def test_starttls_with_auth(
    smtp_server: Server, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    collector, port = smtp_server(
        tls_context=server_tls, require_starttls=True, authenticator=authenticator
    )
    url = f"smtp+starttls://{USER}:s3cret%3Ap%40ss@127.0.0.1:{port}"
    send_email(SmtpSettings.from_url(url, ssl_context=client_tls), make_email())
    [got] = collector.received
    assert got.tls and got.login == USER.encode()


def test_starttls_untrusted_certificate_is_permanent(
    smtp_server: Server, server_tls: ssl.SSLContext
) -> None:
    collector, port = smtp_server(tls_context=server_tls, require_starttls=True)
    with pytest.raises(SmtpDeliveryError, match="not trusted") as info:
        # The default context trusts the system CAs, not the test CA.
        send_email(settings(port, security=SmtpSecurity.STARTTLS), make_email())
    assert info.value.permanent
    assert collector.received == []


def test_starttls_not_offered_is_permanent(smtp_server: Server, client_tls: ssl.SSLContext) -> None:
    _, port = smtp_server()
    with pytest.raises(SmtpDeliveryError, match="does not offer STARTTLS") as info:
        send_email(
            settings(port, security=SmtpSecurity.STARTTLS, ssl_context=client_tls), make_email()
        )
    assert info.value.permanent


def test_plain_client_against_a_server_requiring_starttls(
    smtp_server: Server, server_tls: ssl.SSLContext
) -> None:
    _, port = smtp_server(tls_context=server_tls, require_starttls=True)
    with pytest.raises(SmtpDeliveryError, match="530") as info:
        send_email(settings(port), make_email())
    assert info.value.permanent
    assert info.value.smtp_code == 530


def test_implicit_tls(
    smtp_server: Server, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    # aiosmtpd counts only STARTTLS as TLS for AUTH, so it must be told AUTH is fine here.
    collector, port = smtp_server(
        ssl_context=server_tls, authenticator=authenticator, auth_require_tls=False
    )
    url = f"smtps://{USER}:s3cret%3Ap%40ss@127.0.0.1:{port}"
    send_email(SmtpSettings.from_url(url, ssl_context=client_tls), make_email())
    [got] = collector.received
    assert got.login == USER.encode()
    assert got.message["Message-ID"] == "<0WF000000000001@workroute.test>"


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_auth_without_tls(smtp_server: Server, mechanism: str) -> None:
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    collector, port = smtp_server(
        authenticator=authenticator, auth_require_tls=False, auth_exclude_mechanism=[other]
    )
    send_email(settings(port, username=USER, password=PASSWORD), make_email())
    assert collector.received[0].login == USER.encode()


def test_wrong_password_is_permanent(smtp_server: Server) -> None:
    collector, port = smtp_server(authenticator=authenticator, auth_require_tls=False)
    with pytest.raises(SmtpDeliveryError) as info:
        send_email(settings(port, username=USER, password="wrong-password"), make_email())
    err = info.value
    assert isinstance(err, DeliveryError)
    assert err.permanent and not err.retryable
    assert err.smtp_code == 535
    assert "refused the user name or password" in err.message
    assert "wrong-password" not in err.message
    assert "retrying will not help" in err.message
    assert err.code == "DELIVERY_FAILED"
    assert collector.received == []


def test_auth_not_offered_is_permanent(smtp_server: Server) -> None:
    _, port = smtp_server()
    with pytest.raises(SmtpDeliveryError, match="does not offer AUTH") as info:
        send_email(settings(port, username=USER, password=PASSWORD), make_email())
    assert info.value.permanent


def test_server_down_is_transient() -> None:
    # A bound socket that does not listen: connecting to its port is refused.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(SmtpDeliveryError, match="refused") as info:
            send_email(settings(port), make_email())
    assert not info.value.permanent and info.value.retryable
    assert "retrying may help" in info.value.message
    assert isinstance(info.value.__cause__, ConnectionRefusedError)


def test_all_recipients_refused_is_permanent(smtp_server: Server) -> None:
    collector, port = smtp_server()
    collector.refuse["ann@example.com"] = "550 5.1.1 No such user"
    with pytest.raises(SmtpDeliveryError, match=r"ann@example.com \(550 5.1.1") as info:
        send_email(settings(port), make_email(cc=(), bcc=()))
    assert info.value.permanent
    assert info.value.smtp_code == 550
    assert dict(info.value.refused) == {"ann@example.com": (550, "5.1.1 No such user")}
    assert collector.received == []


def test_some_recipients_refused(smtp_server: Server) -> None:
    collector, port = smtp_server()
    collector.refuse["bob@example.com"] = "550 5.1.1 No such user"
    with pytest.raises(SmtpDeliveryError, match="sent to 2 other") as info:
        send_email(settings(port), make_email())
    assert info.value.permanent
    assert list(info.value.refused) == ["bob@example.com"]
    assert collector.received[0].rcpt_tos == ["ann@example.com", "audit@example.com"]


def test_recipient_temporarily_refused_is_transient(smtp_server: Server) -> None:
    collector, port = smtp_server()
    collector.refuse["ann@example.com"] = "450 4.2.1 Mailbox busy, try later"
    with pytest.raises(SmtpDeliveryError) as info:
        send_email(settings(port), make_email(cc=(), bcc=()))
    assert not info.value.permanent
    assert info.value.smtp_code == 450


# -- settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", ("mail.example.com", 25, SmtpSecurity.PLAIN, None, None)),
        ("smtp://mail.example.com:2525", ("mail.example.com", 2525, "plain", None, None)),
        ("smtp+starttls://relay.example.com", ("relay.example.com", 587, "starttls", None, None)),
        ("SMTPS://relay.example.com", ("relay.example.com", 465, "ssl", None, None)),
        ("smtps://u:p@relay.example.com:1465/", ("relay.example.com", 1465, "ssl", "u", "p")),
        (
            "smtp://user%40corp:p%3Ass%2Fw%40rd@10.0.0.5:26",
            ("10.0.0.5", 26, "plain", "user@corp", "p:ss/w@rd"),
        ),
        ("smtp://u:@[::1]:25", ("::1", 25, "plain", "u", "")),
        ("smtp://[::1]", ("::1", 25, "plain", None, None)),
    ],
)
def test_from_url(url: str, expected: tuple[object, ...]) -> None:
    s = SmtpSettings.from_url(url, timeout=5)
    assert (s.host, s.port, s.security, s.username, s.password) == expected
    assert s.timeout == 5


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.example.com", "scheme 'http'"),
        ("smtp+ssl://mail.example.com", "scheme 'smtp+ssl'"),
        ("mail.example.com:25", "scheme 'mail.example.com'"),
        ("//mail.example.com", "no scheme"),
        ("", "no scheme"),
        ("smtp://", "no host"),
        ("smtp://:25", "no host"),
        ("smtp://u:secretpw@:25", "no host"),
        ("smtp://mail.example.com:", "no port number"),
        ("smtp://mail.example.com:abc", "port 'abc' is not a number"),
        ("smtp://mail.example.com:-1", "port '-1' is not a number"),
        ("smtp://mail.example.com:99999", "port 99999 is not between"),
        ("smtp://mail.example.com:0", "port 0 is not between"),
        ("smtp://mail.example.com:25?tls=1", "query string"),
        ("smtp://mail.example.com?", "query string"),
        ("smtp://mail.example.com#x", "fragment"),
        ("smtp://mail.example.com/path", "path"),
        ("smtp://user@mail.example.com", "no password"),
        ("smtp://:secretpw@mail.example.com", "no user name"),
        ("smtp://[::1", "not a valid URL"),
    ],
)
def test_from_url_rejects(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(problem)) as info:
        SmtpSettings.from_url(url)
    assert "secretpw" not in info.value.message
    assert info.value.code == "INVALID_CONFIGURATION"


def test_settings_validate_and_hide_the_password() -> None:
    s = SmtpSettings(host="h", port=25, username="u", password="hunter2")
    assert "hunter2" not in repr(s)
    with pytest.raises(ConfigurationError, match="together"):
        SmtpSettings(host="h", port=25, username="u")
    with pytest.raises(ConfigurationError, match="between"):
        SmtpSettings(host="h", port=70000)
    with pytest.raises(ConfigurationError, match="timeout"):
        SmtpSettings(host="h", port=25, timeout=0)
    with pytest.raises(ConfigurationError, match="host"):
        SmtpSettings(host="", port=25)


# -- the message ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field_name", "problem"),
    [
        ({"sender": "alerts@example.com\r\nBcc: x@evil.test"}, "sender", "line break"),
        ({"to": ("ann@example.com\nBcc: x@evil.test",)}, "to", "line break"),
        ({"cc": ("bob.example.com",)}, "cc", "has no '@'"),
        ({"bcc": ("a b@example.com",)}, "bcc", "not a valid"),
        ({"to": ("Ann <ann@example.com>",)}, "to", "not a valid"),
        ({"reply_to": "@example.com"}, "reply_to", "not a valid"),
        ({"to": ("ann@",)}, "to", "not a valid"),
    ],
)
def test_bad_addresses(overrides: dict[str, Any], field_name: str, problem: str) -> None:
    with pytest.raises(InvalidEmailAddressError, match=problem) as info:
        make_email(**overrides)
    assert info.value.fields == [field_name]


def test_no_recipients() -> None:
    with pytest.raises(InvalidEmailAddressError, match="no recipients"):
        make_email(to=(), cc=(), bcc=())


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"subject": "Hi\r\nBcc: x@evil.test"}, "subject must not contain line breaks"),
        ({"sender_name": "Desk\nX: y"}, "sender_name"),
        ({"message_id": "no-at-sign"}, "message_id"),
        ({"message_id": "<a b@c>"}, "message_id"),
        ({"headers": {"Bcc": "x@evil.test"}}, "built from the email's fields"),
        ({"headers": {"Bad Name": "x"}}, "not a valid header name"),
        ({"headers": {"X-Ok": "a\r\nBcc: x@evil.test"}}, "line breaks"),
        ({"date": datetime(2024, 1, 1)}, "timezone-aware"),  # noqa: DTZ001
    ],
)
def test_bad_fields(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(FieldValidationError, match=problem):
        make_email(**overrides)


def test_to_message_accepts_message_id_with_brackets_and_lists() -> None:
    outgoing = make_email(message_id="<abc@host>", to=["a@example.com", "b@example.com"])
    assert outgoing.to == ("a@example.com", "b@example.com")
    msg = outgoing.to_message()
    assert msg["Message-ID"] == "<abc@host>"
    assert msg["To"] == "a@example.com, b@example.com"
    assert msg["Bcc"] is None
