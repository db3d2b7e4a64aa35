"""What flows send out: emails and webhook POSTs, written to the outbox.

A flow's email or webhook becomes an outbox row in the transaction of the step that
ran it, so it leaves only when that step's work commits (and a rolled-back step sends
nothing); the dispatcher delivers it after commit, with retries. Webhooks are POSTed
by :func:`webhook_channel`: any 2xx answer is a delivery.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from workroute.delivery.channels import RETRY
from workroute.delivery.outbox import Channel, OutboxItem, Outcome
from workroute.workflow.actions import EMAIL_KIND

if TYPE_CHECKING:
    from workroute.org import Org

WEBHOOK_KIND = "webhook"


class FlowEffects:
    """The ``send_email`` and ``post_webhook`` a flow context hands to flows."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def send_email(self, request: Any) -> None:
        to = [str(a) for a in request.to]
        if not to:
            return
        sender = request.sender or self._default_sender()
        if sender is None:
            return
        payload: dict[str, Any] = {
            "sender": sender,
            "senderName": None,
            "to": to,
            "cc": [],
            "subject": str(request.subject or ""),
            "body": str(request.body or ""),
            "html": False,
            "messageId": f"<{uuid.uuid4().hex}@workroute.invalid>",
            "source": "flow",
        }
        with self.org.db.write(savepoint=False) as conn:
            self.org.outbox.add(
                conn,
                kind=EMAIL_KIND,
                group_key=payload["messageId"],
                payload=payload,
                now=self.org.clock.now(),
            )

    def _default_sender(self) -> str | None:
        rows = [r for r in self.org.store.find("OrgWideEmailAddress") if r.get("IsVerified")]
        if rows:
            return str(rows[0]["Address"])
        users = self.org.store.get_many("User", [self.org.admin_user_id()])
        return str(users[0]["Email"]) if users and users[0].get("Email") else None

    def post_webhook(self, request: Any) -> None:
        body = request.body
        if isinstance(body, bytes):
            text = body.decode("utf-8")
        elif isinstance(body, str):
            text = body
        else:
            text = json.dumps(body, default=str, sort_keys=True)
        key = uuid.uuid4().hex
        payload: dict[str, Any] = {
            "url": str(request.url),
            "body": text,
            "headers": dict(getattr(request, "headers", None) or {}),
            "id": key,
        }
        with self.org.db.write(savepoint=False) as conn:
            self.org.outbox.add(
                conn,
                kind=WEBHOOK_KIND,
                group_key=key,
                payload=payload,
                now=self.org.clock.now(),
            )


def webhook_channel(org: Org) -> Channel:
    def send(items: Sequence[OutboxItem], now: datetime) -> Outcome:
        (item,) = items
        p = item.payload
        headers = {"Content-Type": "application/json", **dict(p.get("headers") or {})}
        headers["Idempotency-Key"] = str(p["id"])
        try:
            answer = httpx.post(
                str(p["url"]),
                content=str(p["body"]).encode("utf-8"),
                headers=headers,
                timeout=org.outbound_timeout,
            )
        except httpx.HTTPError as exc:
            return Outcome(False, f"POST {p['url']} failed: {exc}")
        if 200 <= answer.status_code < 300:
            return Outcome(True)
        return Outcome(False, f"POST {p['url']} answered {answer.status_code}")

    return Channel(send=send, next_attempt=RETRY.next_attempt, batch_size=1)
