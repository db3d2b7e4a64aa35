"""Sending one email through an SMTP relay.

:class:`SmtpSettings` says where and how to connect (``smtp://``, ``smtp+starttls://``
or ``smtps://`` URLs), :class:`OutgoingEmail` is one message, validated when built, and
:func:`send_email` delivers it with the standard library's :mod:`smtplib`.

Every failure of a delivery attempt is an :class:`SmtpDeliveryError` (a
:class:`DeliveryError`) whose ``permanent`` flag tells the caller whether retrying can
help: 5xx replies and configuration problems (certificate not trusted, no STARTTLS,
no AUTH) are permanent; connection errors, timeouts and 4xx replies are transient. The
caller gives the Message-ID, so a retry after a crash sends the same Message-ID and
receivers can drop the duplicate.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime
from enum import StrEnum
from types import MappingProxyType
from urllib.parse import unquote, urlsplit

from workroute.kernel.errors import (
    ConfigurationError,
    DeliveryError,
    FieldValidationError,
    InvalidEmailAddressError,
)

__all__ = [
    "OutgoingEmail",
    "SmtpDeliveryError",
    "SmtpSecurity",
    "SmtpSettings",
    "send_email",
]


class SmtpSecurity(StrEnum):
    """How the connection to the relay is protected."""

    PLAIN = "plain"
    STARTTLS = "starttls"
    SSL = "ssl"


#: URL scheme -> (security, default port).
_SCHEMES: Mapping[str, tuple[SmtpSecurity, int]] = MappingProxyType(
    {
        "smtp": (SmtpSecurity.PLAIN, 25),
        "smtp+starttls": (SmtpSecurity.STARTTLS, 587),
        "smtps": (SmtpSecurity.SSL, 465),
    }
)
_PORT_RE = re.compile(r"^\d{1,5}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    """Where and how to reach the SMTP relay.

    ``ssl_context`` is used for STARTTLS and implicit TLS (default: the system's
    trusted CAs, with host name checking). ``helo_name`` is the name sent in EHLO
    (default: this machine's fully qualified name).
    """

    host: str
    port: int
    security: SmtpSecurity = SmtpSecurity.PLAIN
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    helo_name: str | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ConfigurationError("The SMTP host is empty")
        if isinstance(self.port, bool) or not 0 < self.port < 65536:
            raise ConfigurationError(f"The SMTP port {self.port} is not between 1 and 65535")
        if not self.timeout > 0:
            raise ConfigurationError("The SMTP timeout must be more than 0 seconds")
        if (self.username is None) != (self.password is None):
            raise ConfigurationError("An SMTP user name and password must be given together")
        if self.username is not None and not self.username:
            raise ConfigurationError("The SMTP user name is empty")

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        helo_name: str | None = None,
    ) -> SmtpSettings:
        """Settings from ``smtp://``, ``smtp+starttls://`` or ``smtps://[user:pass@]host[:port]``.

        User name and password are percent-decoded. Without a port: 25, 587 and 465.
        Messages about a bad URL never repeat the URL (it may hold a password).
        """
        try:
            parts = urlsplit(url.strip())
        except ValueError as exc:  # e.g. an unclosed [IPv6 literal
            raise ConfigurationError(f"The SMTP URL is not a valid URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            shown = f"scheme '{scheme}'" if scheme else "no scheme"
            raise ConfigurationError(
                f"The SMTP URL has {shown}; use smtp://, smtp+starttls:// or smtps://"
            )
        security, default_port = _SCHEMES[scheme]
        if parts.query or url.rstrip().endswith("?"):
            raise ConfigurationError("The SMTP URL must not have a query string (?...)")
        if parts.fragment or "#" in url:
            raise ConfigurationError("The SMTP URL must not have a fragment (#...)")
        if parts.path not in ("", "/"):
            raise ConfigurationError("The SMTP URL must not have a path after the host")
        host = parts.hostname
        if not host:
            raise ConfigurationError("The SMTP URL has no host")
        hostport = parts.netloc.rpartition("@")[2]
        after_host = hostport.partition("]")[2] if hostport.startswith("[") else hostport
        _, colon, port_text = after_host.partition(":")
        if colon and not port_text:
            raise ConfigurationError("The SMTP URL has ':' but no port number")
        if port_text and not _PORT_RE.match(port_text):
            raise ConfigurationError(f"The SMTP URL port '{port_text}' is not a number")
        port = int(port_text) if port_text else default_port
        if not 0 < port < 65536:
            raise ConfigurationError(f"The SMTP URL port {port} is not between 1 and 65535")
        username = password = None
        if "@" in parts.netloc:
            userinfo = parts.netloc.rpartition("@")[0]
            raw_user, has_password, raw_password = userinfo.partition(":")
            if not raw_user:
                raise ConfigurationError("The SMTP URL has credentials but no user name")
            if not has_password:
                raise ConfigurationError("The SMTP URL has a user name but no password")
            username, password = unquote(raw_user), unquote(raw_password)
        return cls(
            host=host,
            port=port,
            security=security,
            username=username,
            password=password,
            timeout=timeout,
            ssl_context=ssl_context,
            helo_name=helo_name,
        )


# -- the message ---------------------------------------------------------------------

# A pragmatic addr-spec: no quoted local parts, comments or display names.
_ADDRESS_RE = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\.][^\s@<>,;:\"()\[\]\\]*$")
_HEADER_NAME_RE = re.compile(r"^[!-9;-~]+$")
_LINE_BREAKS = ("\r", "\n", "\0")
#: Headers :meth:`OutgoingEmail.to_message` writes itself; extra headers may not set them.
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "reply-to",
        "message-id",
        "date",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)


def _check_address(address: str, field_name: str) -> None:
    if any(c in address for c in _LINE_BREAKS):
        raise InvalidEmailAddressError(
            f"The {field_name} address contains a line break: {address!r}", fields=[field_name]
        )
    if "@" not in address:
        raise InvalidEmailAddressError(
            f"The {field_name} address {address!r} has no '@'", fields=[field_name]
        )
    if not _ADDRESS_RE.match(address) or address.endswith("."):
        raise InvalidEmailAddressError(
            f"The {field_name} address {address!r} is not a valid email address",
            fields=[field_name],
        )


def _check_line(value: str, field_name: str) -> None:
    if any(c in value for c in _LINE_BREAKS):
        raise FieldValidationError(
            f"The {field_name} must not contain line breaks", fields=[field_name]
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingEmail:
    """One email to send, validated when built.

    ``message_id`` comes from the caller and is kept across retries (with or without
    the angle brackets). ``date`` (from the clock) becomes the Date header; without
    it the relay adds one. ``headers`` are extra headers (``X-...``, ``Auto-Submitted``);
    they may not replace the ones built from the other fields.
    """

    sender: str
    message_id: str
    subject: str
    text_body: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    sender_name: str | None = None
    html_body: str | None = None
    reply_to: str | None = None
    date: datetime | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        for name in ("to", "cc", "bcc"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))
        _check_address(self.sender, "sender")
        if self.reply_to is not None:
            _check_address(self.reply_to, "reply_to")
        for name in ("to", "cc", "bcc"):
            for address in getattr(self, name):
                _check_address(address, name)
        if not self.recipients():
            raise InvalidEmailAddressError(
                "The email has no recipients (to, cc and bcc are empty)",
                fields=["to", "cc", "bcc"],
            )
        _check_line(self.subject, "subject")
        if self.sender_name is not None:
            _check_line(self.sender_name, "sender_name")
        _check_line(self.message_id, "message_id")
        bare = self.message_id.strip().removeprefix("<").removesuffix(">")
        if "@" not in bare or any(c.isspace() or c in "<>" for c in bare):
            raise FieldValidationError(
                f"The message_id {self.message_id!r} must look like 'unique@domain'",
                fields=["message_id"],
            )
        if self.date is not None and self.date.tzinfo is None:
            raise FieldValidationError("The date must be timezone-aware", fields=["date"])
        for key, value in self.headers.items():
            if not _HEADER_NAME_RE.match(key):
                raise FieldValidationError(
                    f"{key!r} is not a valid header name", fields=["headers"]
                )
            if key.lower() in _RESERVED_HEADERS:
                raise FieldValidationError(
                    f"The {key} header is built from the email's fields; it cannot be "
                    f"given in headers",
                    fields=["headers"],
                )
            _check_line(value, f"{key} header")

    def recipients(self) -> tuple[str, ...]:
        """The envelope recipients: to, cc and bcc, without duplicates, in order."""
        first: dict[str, str] = {}
        for address in (*self.to, *self.cc, *self.bcc):
            first.setdefault(address.lower(), address)
        return tuple(first.values())

    def to_message(self) -> EmailMessage:
        """The message as MIME (Bcc recipients are not in the headers)."""
        msg = EmailMessage(policy=default_policy)
        msg["From"] = Address(display_name=self.sender_name or "", addr_spec=self.sender)
        if self.to:
            msg["To"] = ", ".join(self.to)
        if self.cc:
            msg["Cc"] = ", ".join(self.cc)
        if self.reply_to is not None:
            msg["Reply-To"] = self.reply_to
        msg["Subject"] = self.subject
        bare = self.message_id.strip().removeprefix("<").removesuffix(">")
        msg["Message-ID"] = f"<{bare}>"
        if self.date is not None:
            msg["Date"] = format_datetime(self.date)
        for key, value in self.headers.items():
            msg[key] = value
        msg.set_content(self.text_body)
        if self.html_body is not None:
            msg.add_alternative(self.html_body, subtype="html")
        return msg


# -- sending -------------------------------------------------------------------------


class SmtpDeliveryError(DeliveryError):
    """An email could not be delivered (this attempt)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        smtp_code: int | None = None,
        refused: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        self.permanent = permanent
        self.smtp_code = smtp_code
        #: Recipients the relay refused: address -> (code, reply text).
        self.refused: Mapping[str, tuple[int, str]] = MappingProxyType(dict(refused or {}))
        hint = "retrying will not help" if permanent else "retrying may help"
        super().__init__(f"{message}; {hint}")

    @property
    def retryable(self) -> bool:
        return not self.permanent


def send_email(settings: SmtpSettings, email: OutgoingEmail) -> None:
    """Deliver ``email`` to the relay in ``settings``; raise :class:`SmtpDeliveryError`.

    When the relay accepts some recipients and refuses others, the message has gone to
    the accepted ones; the error lists the refused ones in ``refused``.
    """
    message = email.to_message()
    recipients = email.recipients()
    with _map_errors(settings), _connect(settings) as client:
        if settings.username is not None and settings.password is not None:
            if not client.has_extn("auth"):
                raise SmtpDeliveryError(
                    f"The SMTP server {_where(settings)} does not offer AUTH "
                    f"(a user name is configured)",
                    permanent=True,
                )
            client.login(settings.username, settings.password)
        refused = client.send_message(message, from_addr=email.sender, to_addrs=recipients)
    if refused:
        raise _refused_error(
            {k: (code, _text(reply)) for k, (code, reply) in refused.items()},
            accepted=len(recipients) - len(refused),
        )


@contextmanager
def _connect(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    client: smtplib.SMTP
    if settings.security is SmtpSecurity.SSL:
        client = smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            local_hostname=settings.helo_name,
            timeout=settings.timeout,
            context=settings.ssl_context or ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(
            settings.host,
            settings.port,
            local_hostname=settings.helo_name,
            timeout=settings.timeout,
        )
    try:
        client.ehlo()
        if settings.security is SmtpSecurity.STARTTLS:
            if not client.has_extn("starttls"):
                raise SmtpDeliveryError(
                    f"The SMTP server {_where(settings)} does not offer STARTTLS",
                    permanent=True,
                )
            client.starttls(context=settings.ssl_context or ssl.create_default_context())
            client.ehlo()
        yield client
    finally:
        _close(client)


def _close(client: smtplib.SMTP) -> None:
    # Not smtplib's ``with``: its __exit__ raises when QUIT fails, which would report a
    # message the relay already accepted as failed (and cause a duplicate on retry).
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _where(settings: SmtpSettings) -> str:
    return f"{settings.host}:{settings.port}"


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def _refused_error(refused: Mapping[str, tuple[int, str]], *, accepted: int) -> SmtpDeliveryError:
    details = ", ".join(f"{addr} ({code} {text})" for addr, (code, text) in refused.items())
    outcome = f"sent to {accepted} other recipient(s)" if accepted else "not sent"
    return SmtpDeliveryError(
        f"The SMTP server refused recipient(s) {details}; the message was {outcome}",
        permanent=all(_permanent(code) for code, _ in refused.values()),
        smtp_code=next(iter(refused.values()))[0],
        refused=refused,
    )


@contextmanager
def _map_errors(settings: SmtpSettings) -> Iterator[None]:
    """smtplib and socket errors become :class:`SmtpDeliveryError` (the one boundary)."""
    where = _where(settings)
    try:
        yield
    except SmtpDeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        refused = {k: (code, _text(reply)) for k, (code, reply) in exc.recipients.items()}
        raise _refused_error(refused, accepted=0) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise SmtpDeliveryError(
            f"The SMTP server {where} refused the user name or password "
            f"({exc.smtp_code} {_text(exc.smtp_error)})",
            permanent=_permanent(exc.smtp_code),
            smtp_code=exc.smtp_code,
        ) from exc
    except smtplib.SMTPSenderRefused as exc:
        raise SmtpDeliveryError(
            f"The SMTP server {where} refused the sender {exc.sender} "
            f"({exc.smtp_code} {_text(exc.smtp_error)})",
            permanent=_permanent(exc.smtp_code),
            smtp_code=exc.smtp_code,
        ) from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise SmtpDeliveryError(
            f"The SMTP server {where} closed the connection: {exc}", permanent=False
        ) from exc
    except smtplib.SMTPResponseException as exc:  # data, connect, HELO and other replies
        raise SmtpDeliveryError(
            f"The SMTP server {where} replied {exc.smtp_code} {_text(exc.smtp_error)}",
            permanent=_permanent(exc.smtp_code),
            smtp_code=exc.smtp_code,
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:  # e.g. SMTPUTF8 needed but not offered
        raise SmtpDeliveryError(
            f"The SMTP server {where} does not support what this email needs: {exc}",
            permanent=True,
        ) from exc
    except smtplib.SMTPException as exc:  # e.g. no AUTH mechanism in common
        raise SmtpDeliveryError(f"SMTP with {where} failed: {exc}", permanent=True) from exc
    except ssl.SSLCertVerificationError as exc:
        raise SmtpDeliveryError(
            f"The TLS certificate of {where} is not trusted: {exc.verify_message}",
            permanent=True,
        ) from exc
    except ssl.SSLError as exc:
        raise SmtpDeliveryError(
            f"The TLS handshake with {where} failed: {exc.reason or exc}", permanent=False
        ) from exc
    except ConnectionRefusedError as exc:
        raise SmtpDeliveryError(
            f"Connection to the SMTP server {where} was refused", permanent=False
        ) from exc
    except socket.gaierror as exc:
        raise SmtpDeliveryError(
            f"The SMTP host {settings.host} could not be resolved: {exc.strerror}",
            permanent=False,
        ) from exc
    except TimeoutError as exc:
        raise SmtpDeliveryError(
            f"The SMTP server {where} did not answer within {settings.timeout:g} seconds",
            permanent=False,
        ) from exc
    except OSError as exc:
        raise SmtpDeliveryError(
            f"Network error talking to the SMTP server {where}: {exc.strerror or exc}",
            permanent=False,
        ) from exc
