"""The two Process Automation Settings that work item emails read.

- ``automatedProcessUserEmail``: Setup's "Automated Process User Email Address", the
  first choice of sender (seed 001, "Who Completes the Step");
- ``disableWorkItemEmails``: "Disable All Email Notifications for Work Item
  Assignments" (seeds 000 and 001), which stops every work item email.

Neither appears among the fields of Salesforce's deployable ``FlowSettings`` metadata
type, so they are not deployed as ``settings/Flow.settings``: they live in the org's
settings table (``wr_meta``) and are read and changed through
``GET|PATCH /services/workroute/v1/orchestration/settings`` or :func:`set_setting`.
Both are read through the caller's transaction when there is one, so an assignment
sees a setting changed earlier in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert

from workroute.kernel.errors import InvalidFieldError

if TYPE_CHECKING:
    from workroute.org import Org

__all__ = ["SETTINGS", "WorkItemEmailSettings", "email_settings", "get_settings", "set_setting"]

#: The settings (names as the REST API takes them) and their wr_meta keys.
SETTINGS = {
    "automatedProcessUserEmail": "orchestration.automated_process_user_email",
    "disableWorkItemEmails": "orchestration.disable_work_item_emails",
}
MAX_EMAIL_LENGTH = 254


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkItemEmailSettings:
    automated_process_user_email: str | None = None
    disable_work_item_emails: bool = False


def email_settings(org: Org) -> WorkItemEmailSettings:
    """The settings as they are now (in the current transaction, if any)."""
    meta = org.db.system["meta"]
    keys = list(SETTINGS.values())
    with org.db.read() as conn:  # on the driver: every work item assignment reads them
        rows = {str(r["key"]): r["value"] for r in org.db.rows_where_in(conn, meta, "key", keys)}
    address = rows.get(SETTINGS["automatedProcessUserEmail"])
    return WorkItemEmailSettings(
        automated_process_user_email=str(address) if address else None,
        disable_work_item_emails=rows.get(SETTINGS["disableWorkItemEmails"]) == "true",
    )


def get_settings(org: Org) -> dict[str, Any]:
    """The settings in the REST API's shape."""
    s = email_settings(org)
    return {
        "automatedProcessUserEmail": s.automated_process_user_email,
        "disableWorkItemEmails": s.disable_work_item_emails,
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
        if isinstance(value, str) and len(value) > MAX_EMAIL_LENGTH:
            raise InvalidFieldError(
                f"{name} is longer than {MAX_EMAIL_LENGTH} characters", fields=[name]
            )
        text = value.strip() if isinstance(value, str) else None
    meta = org.db.system["meta"]
    with org.db.write() as conn:
        conn.execute(delete(meta).where(meta.c.key == key))
        if text is not None:
            conn.execute(insert(meta).values(key=key, value=text))
