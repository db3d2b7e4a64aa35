"""The outbox channels of an org: email by SMTP and SOAP outbound messages.

Both retry with the outbound-message schedule (first retry within seconds, doubling
up to two hours, giving up after 24 hours). Emails that the SMTP server refuses for
good (5xx) fail at once; outbound messages that are given up land in the dead-letter
list when their action says ``useDeadLetterQueue``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from workroute.delivery.outbound import (
    OutboundNotification,
    RetryPolicy,
    build_envelope,
    post_envelope,
)
from workroute.delivery.outbox import Channel, OutboxItem, Outcome
from workroute.delivery.smtp import OutgoingEmail, SmtpDeliveryError, send_email
from workroute.kernel.errors import DeliveryError
from workroute.kernel.ids import make_id

if TYPE_CHECKING:
    from workroute.org import Org

RETRY = RetryPolicy()
NOTIFICATION_PREFIX = "04l"  # Salesforce's key prefix of outbound notification ids
ACTION_PREFIX = "04k"  # ... and of outbound message actions
MAX_NOTIFICATIONS = 100


def email_channel(org: Org) -> Channel:
    def send(items: Sequence[OutboxItem], now: datetime) -> Outcome:
        settings = org.smtp
        if settings is None:
            return Outcome(False, "no SMTP server is configured (WORKROUTE_SMTP_URL)")
        (item,) = items
        p = item.payload
        email = OutgoingEmail(
            sender=p["sender"],
            sender_name=p.get("senderName"),
            to=tuple(p.get("to", ())),
            cc=tuple(p.get("cc", ())),
            subject=p.get("subject", ""),
            text_body=p.get("body", "") if not p.get("html") else "",
            html_body=p.get("body") if p.get("html") else None,
            message_id=p["messageId"],
            date=now,
        )
        try:
            send_email(settings, email)
        except SmtpDeliveryError as exc:
            return Outcome(False, exc.message, permanent=exc.permanent)
        except DeliveryError as exc:
            return Outcome(False, exc.message)
        return Outcome(True)

    return Channel(send=send, next_attempt=RETRY.next_attempt, batch_size=1)


def outbound_channel(org: Org) -> Channel:
    def send(items: Sequence[OutboxItem], now: datetime) -> Outcome:
        first = items[0].payload
        cw = org.workflow.workflow_for(str(first["object"]))
        spec = None
        if cw is not None:
            name = str(first["action"]).lower()
            spec = next(
                (o for o in cw.workflow.outbound_messages if o.full_name.lower() == name), None
            )
        if cw is None or spec is None:
            return Outcome(False, f"outbound message {first['action']} is no longer deployed")
        fields = ["Id", *[f.split(".")[-1] for f in spec.fields if f.split(".")[-1] != "Id"]]
        ids = [str(i.payload["recordId"]) for i in items]
        rows = {
            str(r["Id"]): r
            for r in org.store.get_many(cw.obj.name, ids, fields[1:], include_deleted=True)
        }
        notifications = []
        for item in items:
            row = rows.get(str(item.payload["recordId"]), {"Id": item.payload["recordId"]})
            values = {}
            for f in fields:
                fd = cw.obj.field(f)
                if fd is not None and row.get(fd.name) is not None:
                    values[fd.name] = row[fd.name]
            notifications.append(
                OutboundNotification(
                    notification_id=make_id(NOTIFICATION_PREFIX, item.id),
                    object_name=cw.obj.name,
                    fields=values,
                )
            )
        session_id = None
        if spec.include_session_id:
            user = org.user_id_by_username(spec.integration_user) or org.admin_user_id()
            with org.db.write() as conn:
                session_id = org.auth.tokens.issue(conn, user, now=now).token
        org_id = org.organization_id()
        base = org.public_url.rstrip("/")
        body = build_envelope(
            organization_id=org_id,
            action_id=make_id(ACTION_PREFIX, _stable_number(f"{cw.obj.name}.{spec.full_name}")),
            session_id=session_id,
            enterprise_url=f"{base}/services/Soap/c/{spec.api_version}/{org_id[:15]}",
            partner_url=f"{base}/services/Soap/u/{spec.api_version}/{org_id[:15]}",
            notifications=notifications,
        )
        attempt = post_envelope(spec.endpoint_url, body, timeout=org.outbound_timeout)
        return Outcome(attempt.acknowledged, attempt.error)

    def dead_letter(item: OutboxItem) -> bool:
        cw = org.workflow.workflow_for(str(item.payload["object"]))
        if cw is None:
            return False
        name = str(item.payload["action"]).lower()
        return any(
            bool(o.use_dead_letter_queue)
            for o in cw.workflow.outbound_messages
            if o.full_name.lower() == name
        )

    return Channel(
        send=send,
        next_attempt=RETRY.next_attempt,
        batch_size=MAX_NOTIFICATIONS,
        dead_letter=dead_letter,
    )


def _stable_number(text: str) -> int:
    """A number derived from a name, the same in every process (not ``hash()``)."""
    n = 0
    for ch in text.encode():
        n = (n * 131 + ch) % 1_000_000_007
    return n + 1
