"""Work item emails (seed 000 "Who Gets Email Notifications When Work Is Assigned",
seed 001 "Who Completes the Step"), written to the transactional outbox in the
caller's transaction: a rollback sends nothing, and they leave by SMTP after commit.

- A single user gets a *personalized* email, addressed to them by name; a group or
  queue gets a *general* email. Each member with an email address gets a message of
  their own rather than one message to all: members don't see each other's
  addresses, and one member's temporarily refused address is retried without sending
  the message again to everyone the relay accepted.
- The link: the internal record page, or a site's record page for credentialed site
  visitors (:mod:`workroute.orchestration.sites`).
- The sender: the Automated Process User email address setting; else the
  organization-wide address whose Purpose is a Default No-Reply one; else any
  verified organization-wide address; else the running user's email. A run in system
  context has no running user, so when the chain reaches that last link no email is
  sent (seed 001 names that case as the end of the chain).
- The initial assignee gets the step's custom subject and body
  (ActionInput__CustomEmailSubject / ...Body, resolved by the caller) when the step
  has them; a reassignment always gets the default email.
- The "Disable All Email Notifications for Work Item Assignments" setting stops all.

Settings: :mod:`workroute.orchestration.settings` (re-exported here for the API).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from workroute.kernel.errors import InvalidSessionError
from workroute.orchestration.settings import (
    SETTINGS,
    WorkItemEmailSettings,
    email_settings,
    get_settings,
    set_setting,
)
from workroute.orchestration.sites import record_link
from workroute.workflow.actions import EMAIL_KIND
from workroute.workflow.recipients import Directory

if TYPE_CHECKING:
    from workroute.org import Org

__all__ = [
    "SETTINGS",
    "Assignment",
    "Notice",
    "get_settings",
    "notify_assignment",
    "sender_for",
    "set_setting",
]

#: OrgWideEmailAddress.Purpose values that make an address the Default No-Reply one.
DEFAULT_NO_REPLY_PURPOSES = frozenset({"defaultnoreply", "userselectionanddefaultnoreply"})
USER_PREFIX = "005"


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    """A work item just assigned (or reassigned), as the runtime hands it over."""

    work_item_id: str
    #: A User id, or a Group id (Type Regular or Queue).
    assignee_id: str
    related_record_id: str | None
    #: The step's label (the work item's Label).
    label: str
    orchestration_label: str
    #: The user the run runs as; None in system context.
    run_user_id: str | None
    reassigned: bool = False
    #: The step's custom email, merge fields resolved; used only when not reassigned.
    custom_subject: str | None = None
    custom_body: str | None = None
    #: The assigned user's row, when the caller has just read it (else it is read).
    assignee_row: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Notice:
    """One email queued in the outbox."""

    to: tuple[str, ...]
    subject: str
    body: str
    sender: str
    sender_name: str | None
    link: str
    personalized: bool


def notify_assignment(org: Org, conn: Connection, a: Assignment, now: datetime) -> list[Notice]:
    """Queue the assignment email(s) in the caller's transaction ``conn``; returns
    what was queued (nothing when disabled, with no sender, or nobody has an email)."""
    settings = email_settings(org)
    if settings.disable_work_item_emails:
        return []
    personalized = a.assignee_id.startswith(USER_PREFIX)
    users = _assignees(org, a.assignee_id, a.assignee_row)
    addresses = _addresses(users)
    if not addresses:
        return []
    sender = sender_for(org, settings, a.run_user_id)
    if sender is None:
        return []
    link = record_link(org.store, org.public_url, users, a.related_record_id)
    subject, body = _message(a, users, link, personalized=personalized)
    notices = []
    for to in addresses:
        notice = Notice((to,), subject, body, sender[0], sender[1], link, personalized)
        _queue(org, conn, a, notice, now)
        notices.append(notice)
    return notices


def sender_for(
    org: Org, settings: WorkItemEmailSettings, run_user_id: str | None
) -> tuple[str, str | None] | None:
    """(address, display name) of the sender, or None: no email (seed 001)."""
    addresses = org.store.find("OrgWideEmailAddress")
    configured = settings.automated_process_user_email
    if configured:
        same = [o for o in addresses if str(o.get("Address") or "").lower() == configured.lower()]
        return configured, _str(same[0].get("DisplayName")) if same else None
    no_reply = [
        o for o in addresses if str(o.get("Purpose") or "").lower() in DEFAULT_NO_REPLY_PURPOSES
    ]
    verified = [o for o in addresses if o.get("IsVerified")]
    for candidates in (no_reply, verified):
        if candidates:
            first = min(candidates, key=lambda o: (str(o["CreatedDate"]), str(o["Id"])))
            return str(first["Address"]), _str(first.get("DisplayName"))
    if run_user_id is None:
        return None  # system context: no running user to send as
    try:  # the running user's principal is usually at hand (the org keeps them)
        user = org.auth.principal(run_user_id)
    except InvalidSessionError:
        return None  # the running user is gone
    return (user.email, user.name or None) if user.email else None


def _assignees(
    org: Org, assignee_id: str, row: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The assigned user (``row``, when the caller has it), or the active members of
    the group or queue (nested groups and roles included), in id order."""
    store = org.store
    if row is not None:
        users = [dict(row)]
    elif assignee_id.startswith(USER_PREFIX):
        users = store.get_many("User", [assignee_id])
    else:
        ids = sorted(Directory(store).group_user_ids(assignee_id))
        users = store.get_many("User", ids) if ids else []
    return [u for u in users if u.get("IsActive", True)]


def _addresses(users: Sequence[Mapping[str, object]]) -> list[str]:
    seen: dict[str, str] = {}
    for u in users:
        email = str(u.get("Email") or "").strip()
        if email:
            seen.setdefault(email.lower(), email)
    return list(seen.values())


def _message(
    a: Assignment, users: Sequence[Mapping[str, object]], link: str, *, personalized: bool
) -> tuple[str, str]:
    custom = not a.reassigned
    verb = "reassigned" if a.reassigned else "assigned"
    where = "you" if personalized else "your group or queue"
    subject = (
        a.custom_subject
        if custom and a.custom_subject
        else f"{a.orchestration_label}: {a.label} is {verb} to {where}"
    )
    if custom and a.custom_body:
        return subject, f"{a.custom_body}\n\n{link}\n"
    if personalized:
        name = str(users[0].get("Name") or users[0].get("Username") or "")
        return subject, (
            f'Hello {name},\n\nThe work item "{a.label}" of {a.orchestration_label} '
            f"has been {verb} to you. Complete it on the record page:\n{link}\n"
        )
    return subject, (
        f'The work item "{a.label}" of {a.orchestration_label} has been {verb} to a '
        f"group or queue you belong to. The first member to complete it completes it "
        f"for everyone. Complete it on the record page:\n{link}\n"
    )


def _queue(org: Org, conn: Connection, a: Assignment, n: Notice, now: datetime) -> None:
    payload: dict[str, Any] = {
        "sender": n.sender,
        "senderName": n.sender_name,
        "to": list(n.to),
        "cc": [],
        "subject": n.subject,
        "body": n.body,
        "html": False,
        # Fixed now, so a redelivery after a crash carries the same Message-ID.
        "messageId": f"<{uuid.uuid4().hex}@workroute.invalid>",
        "source": f"workitem:{a.work_item_id}",
    }
    org.outbox.add(
        conn,
        kind=EMAIL_KIND,
        group_key=payload["messageId"],
        payload=payload,
        now=now,
        record_id=a.work_item_id,
    )


def _str(v: object) -> str | None:
    return None if v is None else str(v)
