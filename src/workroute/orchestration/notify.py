"""Work item notifications (seed 000 "Who Gets Email Notifications When Work Is
Assigned", seed 001 "Who Completes the Step"), written to the outbox.

- A single user gets a *personalized* email (addressed to them by name); a group or
  queue gets a *general* email, one message to every member with an email address.
- The link is the internal record page, ``{public_url}/lightning/r/{Object}/{id}/view``,
  except for credentialed site visitors (users whose UserType is not Standard) when
  there is a live Experience Cloud site (Network, Status Live) they are a member of
  (NetworkMember): one visitor gets the record page of the oldest such site; a group
  or queue of visitors only, the oldest live site *all* of them are members of. No
  common site, or internal users among them: the internal link.
  A site's record page is ``{public_url}/{UrlPathPrefix}/s/detail/{id}``.
- The sender (seed 001): the Automated Process User email address setting; else the
  organization-wide address whose Purpose is DefaultNoReply; else any verified
  organization-wide address; else the running user's email. A run in system context
  (no running user) sends nothing.
- The initial assignee gets the step's custom email (ActionInput__CustomEmailSubject /
  ...Body) when it has one; a reassignment always gets the default email.
- The org setting that disables all work item emails stops every one of them.

Settings live in the org's settings table (``wr_meta``), set by :func:`set_setting`
(the REST API's ``/services/workroute/v1/orchestration/settings``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select

from workroute.kernel.errors import InvalidFieldError
from workroute.workflow.actions import EMAIL_KIND
from workroute.workflow.recipients import Directory

if TYPE_CHECKING:
    from workroute.org import Org

#: The settings (names as the REST API takes them) and their wr_meta keys.
SETTINGS = {
    "automatedProcessUserEmail": "orchestration.automated_process_user_email",
    "disableWorkItemEmails": "orchestration.disable_work_item_emails",
}
INTERNAL = "Standard"
DEFAULT_NO_REPLY = "DefaultNoReply"


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    work_item_id: str
    assignee_id: str
    related_record_id: str | None
    label: str
    orchestration_label: str
    run_user_id: str | None
    reassigned: bool = False
    custom_subject: str | None = None
    custom_body: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    to: tuple[str, ...]
    subject: str
    body: str
    sender: str
    sender_name: str | None
    link: str
    personalized: bool


# -- settings ------------------------------------------------------------------------------


def get_settings(org: Org) -> dict[str, Any]:
    meta = org.db.system["meta"]
    with org.db.read() as conn:
        rows = {str(k): v for k, v in conn.execute(select(meta.c.key, meta.c.value))}
    return {
        "automatedProcessUserEmail": rows.get(SETTINGS["automatedProcessUserEmail"]) or None,
        "disableWorkItemEmails": rows.get(SETTINGS["disableWorkItemEmails"]) == "true",
    }


def set_setting(org: Org, name: str, value: object) -> None:
    """Set one setting (None clears the email address); INVALID_FIELD for an unknown
    name or a value of the wrong type."""
    key = SETTINGS.get(name)
    if key is None:
        raise InvalidFieldError(f"No orchestration setting {name}", fields=[name])
    if name == "disableWorkItemEmails":
        if not isinstance(value, bool):
            raise InvalidFieldError(f"{name} must be true or false", fields=[name])
        text: str | None = "true" if value else "false"
    else:
        if value is not None and (not isinstance(value, str) or "@" not in value):
            raise InvalidFieldError(f"{name} must be an email address", fields=[name])
        if isinstance(value, str) and len(value) > 254:
            raise InvalidFieldError(f"{name} is longer than 254 characters", fields=[name])
        text = value if isinstance(value, str) else None
    meta = org.db.system["meta"]
    with org.db.write() as conn:
        conn.execute(delete(meta).where(meta.c.key == key))
        if text is not None:
            conn.execute(insert(meta).values(key=key, value=text))


# -- the notice ----------------------------------------------------------------------------


def notify_assignment(org: Org, conn: Connection, a: Assignment, now: datetime) -> list[Notice]:
    """Queue the assignment email(s) in the caller's transaction; returns what was
    queued (nothing when disabled, in system context, or nobody has an email)."""
    settings = get_settings(org)
    if settings["disableWorkItemEmails"] or a.run_user_id is None:
        return []
    store = org.store
    users = _recipients(org, a.assignee_id)
    to = tuple(dict.fromkeys(str(u["Email"]) for u in users if u.get("Email")))
    if not to:
        return []
    sender, sender_name = _sender(org, settings, a.run_user_id)
    if sender is None:
        return []
    personalized = a.assignee_id.startswith("005")
    link = _link(org, users, a.related_record_id)
    if a.custom_subject and not a.reassigned:
        subject = a.custom_subject
    else:
        subject = f"{a.orchestration_label}: {a.label} is assigned to you"
        if not personalized:
            subject = f"{a.orchestration_label}: {a.label} is assigned to your group"
    if a.custom_body and not a.reassigned:
        body = f"{a.custom_body}\n\n{link}\n"
    elif personalized:
        name = str(users[0].get("Name") or users[0].get("Username") or "")
        verb = "reassigned" if a.reassigned else "assigned"
        body = (
            f'Hello {name},\n\nThe work item "{a.label}" of {a.orchestration_label} '
            f"has been {verb} to you. Complete it here:\n{link}\n"
        )
    else:
        verb = "reassigned" if a.reassigned else "assigned"
        body = (
            f'The work item "{a.label}" of {a.orchestration_label} has been {verb} to a '
            f"group or queue you belong to. The first member to complete it completes it "
            f"for everyone:\n{link}\n"
        )
    notice = Notice(to, subject, body, sender, sender_name, link, personalized)
    payload: dict[str, Any] = {
        "sender": sender,
        "senderName": sender_name,
        "to": list(to),
        "cc": [],
        "subject": subject,
        "body": body,
        "html": False,
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
    del store
    return [notice]


def _recipients(org: Org, assignee_id: str) -> list[dict[str, Any]]:
    store = org.store
    if assignee_id.startswith("005"):
        return [u for u in store.get_many("User", [assignee_id]) if u.get("IsActive", True)]
    ids = Directory(store).group_user_ids(assignee_id)
    users = store.get_many("User", sorted(ids)) if ids else []
    return [u for u in users if u.get("IsActive", True)]


def _sender(org: Org, settings: dict[str, Any], run_user_id: str) -> tuple[str | None, str | None]:
    configured = settings["automatedProcessUserEmail"]
    if configured:
        return str(configured), None
    addresses = org.store.find("OrgWideEmailAddress")
    no_reply = [a for a in addresses if a.get("Purpose") == DEFAULT_NO_REPLY]
    verified = [a for a in addresses if a.get("IsVerified")]
    for group in (no_reply, verified):
        if group:
            first = min(group, key=lambda a: (str(a["CreatedDate"]), str(a["Id"])))
            return str(first["Address"]), _str(first.get("DisplayName"))
    users = org.store.get_many("User", [run_user_id])
    if users and users[0].get("Email"):
        return str(users[0]["Email"]), _str(users[0].get("Name"))
    return None, None


def _link(org: Org, users: list[dict[str, Any]], record_id: str | None) -> str:
    base = org.public_url.rstrip("/")
    rid = record_id or ""
    obj = org.store.schema.by_prefix(rid[:3]) if rid else None
    internal = f"{base}/lightning/r/{obj.name if obj else 'Record'}/{rid}/view"
    if not users or any(str(u.get("UserType") or INTERNAL) == INTERNAL for u in users):
        return internal
    site = _oldest_common_site(org, [str(u["Id"]) for u in users])
    if site is None:
        return internal
    prefix = str(site.get("UrlPathPrefix") or "").strip("/")
    return f"{base}/{prefix}/s/detail/{rid}" if prefix else f"{base}/s/detail/{rid}"


def _oldest_common_site(org: Org, user_ids: list[str]) -> dict[str, Any] | None:
    """The oldest live site every one of ``user_ids`` is a member of."""
    store = org.store
    if store.schema.find("Network") is None:
        return None
    members = store.find_in("NetworkMember", "MemberId", user_ids)
    sites_of: dict[str, set[str]] = {}
    for m in members:
        sites_of.setdefault(str(m["MemberId"]), set()).add(str(m["NetworkId"]))
    common = set.intersection(*(sites_of.get(u, set()) for u in user_ids)) if user_ids else set()
    if not common:
        return None
    live = [n for n in store.get_many("Network", sorted(common)) if n.get("Status") == "Live"]
    if not live:
        return None
    return min(live, key=lambda n: (str(n["CreatedDate"]), str(n["Id"])))


def _str(v: object) -> str | None:
    return None if v is None else str(v)
