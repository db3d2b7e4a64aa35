"""Workflow actions other than field updates: email alerts, tasks, outbound messages,
Knowledge publishing. Each runs inside the save's transaction; emails and outbound
messages only become outbox rows there, and leave after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from workroute.metadata.email_template import EmailTemplateSpec, merge_fields, render
from workroute.metadata.workflow import (
    ActionEmailSenderType,
    WorkflowAlert,
    WorkflowFieldUpdate,
    WorkflowKnowledgePublish,
    WorkflowOutboundMessage,
    WorkflowTask,
)
from workroute.store.related import parent_values, parse_path
from workroute.workflow.engine import ActionRun
from workroute.workflow.recipients import (
    Directory,
    WorkflowActionError,
    recipient_emails,
    task_assignee,
)

if TYPE_CHECKING:
    from workroute.org import Org

EMAIL_KIND = "email"
OUTBOUND_KIND = "outbound"


class WorkflowActions:
    """Runners for the action types the engine hands over, bound to an org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        #: Deployed email templates by full name ("Folder/Name"), lower-case.
        self.templates: dict[str, EmailTemplateSpec] = {}

    def install(self) -> None:
        runners = self.org.workflow.action_runners
        runners[WorkflowAlert] = self.alert
        runners[WorkflowTask] = self.task
        runners[WorkflowOutboundMessage] = self.outbound_message
        runners[WorkflowKnowledgePublish] = self.knowledge_publish
        # A field update reaches the runners only when it changed OwnerId and has
        # notifyAssignee: it is then the notice to the new owner, sent after the save.
        runners[WorkflowFieldUpdate] = self.owner_notice

    # -- email alerts --------------------------------------------------------------

    def alert(self, run: ActionRun) -> None:
        alert = run.action
        assert isinstance(alert, WorkflowAlert)
        template = self.templates.get(alert.template.lower())
        if template is None:
            raise WorkflowActionError(
                f"Email alert {alert.full_name}: template {alert.template} is not deployed"
            )
        d = Directory(self.org.store)
        to: list[str] = []
        for rc in alert.recipients:
            to.extend(recipient_emails(d, rc, run.record, run.parents))
        to = _unique(to)
        cc = [c for c in _unique(list(alert.cc_emails)) if c.lower() not in {t.lower() for t in to}]
        if not to and not cc:
            return  # nobody to tell: Salesforce sends nothing
        sender, sender_name = self._sender(alert, run)
        values = self.merge_values(template, run)
        self.queue_email(
            run,
            sender=sender,
            sender_name=sender_name,
            to=to,
            cc=cc,
            subject=render(template.subject, values),
            body=render(template.body, values, html_escape=template.is_html),
            html=template.is_html,
            source=f"alert:{alert.full_name}",
        )

    def _sender(self, alert: WorkflowAlert, run: ActionRun) -> tuple[str, str | None]:
        store = self.org.store
        kind = alert.sender_type or ActionEmailSenderType.CURRENT_USER
        if kind is ActionEmailSenderType.ORG_WIDE_EMAIL_ADDRESS:
            rows = [
                r
                for r in store.find("OrgWideEmailAddress")
                if str(r.get("Address", "")).lower() == (alert.sender_address or "").lower()
            ]
            if not rows:
                raise WorkflowActionError(
                    f"Email alert {alert.full_name}: no organization-wide address "
                    f"{alert.sender_address}"
                )
            return str(rows[0]["Address"]), _str(rows[0].get("DisplayName"))
        user_id = (
            self.org.admin_user_id()
            if kind is ActionEmailSenderType.DEFAULT_WORKFLOW_USER
            else run.user_id
        )
        users = store.get_many("User", [user_id])
        if not users or not users[0].get("Email"):
            raise WorkflowActionError(f"Email alert {alert.full_name}: the sender has no email")
        return str(users[0]["Email"]), _str(users[0].get("Name"))

    def merge_values(self, template: EmailTemplateSpec, run: ActionRun) -> dict[str, object]:
        """Values of the template's merge fields for the record (missing ones: blank)."""
        store = self.org.store
        out: dict[str, object] = {}
        wanted = merge_fields(template.subject + "\n" + template.body)
        globals_needed = [p for p in wanted if p.startswith("$")]
        globals_ = store.formula_globals(globals_needed, run.user_id) if globals_needed else {}
        user = None
        for path in wanted:
            head, _, rest = path.partition(".")
            if path.startswith("$"):
                out[path] = globals_.get(path)
            elif head.lower() == run.obj.name.lower() and rest:
                f = run.obj.field(rest) if "." not in rest else None
                if f is not None:
                    out[path] = run.record.get(f.name)
                else:
                    try:
                        pp = parse_path(store.schema, run.obj, rest)
                    except Exception:
                        continue
                    out[path] = parent_values(store, [run.record], [pp])[0][pp.key]
            elif head.lower() == "user" and rest:
                if user is None:
                    rows = store.get_many("User", [run.user_id])
                    user = rows[0] if rows else {}
                out[path] = _ci(user, rest)
            elif head.lower() == "organization" and rest:
                out[path] = store.formula_globals([f"$Organization.{rest}"], run.user_id).get(
                    f"$Organization.{rest}"
                )
        return out

    def queue_email(
        self,
        run: ActionRun,
        *,
        sender: str,
        sender_name: str | None,
        to: list[str],
        cc: list[str],
        subject: str,
        body: str,
        html: bool,
        source: str,
    ) -> None:
        payload: dict[str, Any] = {
            "sender": sender,
            "senderName": sender_name,
            "to": to,
            "cc": cc,
            "subject": subject,
            "body": body,
            "html": html,
            # Fixed now, so a redelivery after a crash carries the same Message-ID.
            "messageId": f"<{uuid.uuid4().hex}@workroute.invalid>",
            "source": source,
            "rule": run.rule,
        }
        self.org.outbox.add(
            run.conn,
            kind=EMAIL_KIND,
            group_key=payload["messageId"],
            payload=payload,
            now=run.now,
            record_id=str(run.record["Id"]),
        )

    # -- owner change notices ------------------------------------------------------

    def owner_notice(self, run: ActionRun) -> None:
        spec = run.action
        assert isinstance(spec, WorkflowFieldUpdate)
        owner = run.record.get("OwnerId")
        emails = Directory(self.org.store).owner_emails(owner)
        if not emails:
            return
        sender, sender_name = self._user_sender(run.user_id)
        rid = str(run.record["Id"])
        name = run.record.get("Name") or run.record.get("CaseNumber") or rid
        label = run.obj.label or run.obj.name
        self.queue_email(
            run,
            sender=sender,
            sender_name=sender_name,
            to=emails,
            cc=[],
            subject=f"{label} {name} has been assigned to you",
            body=(
                f"{label} {name} has been assigned to you.\n"
                f"{self.org.public_url.rstrip('/')}/{rid}\n"
            ),
            html=False,
            source=f"fieldUpdate:{spec.full_name}",
        )

    # -- tasks ---------------------------------------------------------------------

    def task(self, run: ActionRun) -> None:
        spec = run.action
        assert isinstance(spec, WorkflowTask)
        store = self.org.store
        d = Directory(store)
        owner = task_assignee(
            d, spec.assigned_to_type, spec.assigned_to, run.record, run.parents, run.user_id
        )
        base = run.now.date()
        if spec.offset_from_field:
            name = spec.offset_from_field.split(".")[-1]
            value = run.record.get(name)
            base = value.date() if hasattr(value, "date") else value or base  # type: ignore[assignment]
        due = base + timedelta(days=spec.due_date_offset)
        row: dict[str, object] = {
            "Subject": spec.subject,
            "Status": spec.status,
            "Priority": spec.priority,
            "Description": spec.description,
            "OwnerId": owner,
            "ActivityDate": due,
        }
        rid = str(run.record["Id"])
        if run.obj.name in ("Contact", "Lead"):
            row["WhoId"] = rid
        else:
            row["WhatId"] = rid
        store.insert("Task", [row], user_id=run.user_id)
        if spec.notify_assignee:
            emails = d.email_of_user(owner)
            if emails:
                sender, sender_name = self._user_sender(run.user_id)
                self.queue_email(
                    run,
                    sender=sender,
                    sender_name=sender_name,
                    to=emails,
                    cc=[],
                    subject=f"New Task: {spec.subject}",
                    body=(
                        f"You have been assigned a task: {spec.subject}\n"
                        f"Due date: {due.isoformat()}\nPriority: {spec.priority}\n"
                        f"Related to: {run.obj.name} {rid}\n"
                    ),
                    html=False,
                    source=f"task:{spec.full_name}",
                )

    def _user_sender(self, user_id: str) -> tuple[str, str | None]:
        users = self.org.store.get_many("User", [user_id])
        if users and users[0].get("Email"):
            return str(users[0]["Email"]), _str(users[0].get("Name"))
        admin = self.org.store.get_many("User", [self.org.admin_user_id()])
        return str(admin[0]["Email"]), _str(admin[0].get("Name"))

    # -- outbound messages ---------------------------------------------------------

    def outbound_message(self, run: ActionRun) -> None:
        spec = run.action
        assert isinstance(spec, WorkflowOutboundMessage)
        self.org.outbox.add(
            run.conn,
            kind=OUTBOUND_KIND,
            group_key=f"{run.obj.name}.{spec.full_name}",
            payload={
                "object": run.obj.name,
                "action": spec.full_name,
                "recordId": str(run.record["Id"]),
                "rule": run.rule,
            },
            now=run.now,
            record_id=str(run.record["Id"]),
        )

    # -- Knowledge -----------------------------------------------------------------

    def knowledge_publish(self, run: ActionRun) -> None:
        spec = run.action
        assert isinstance(spec, WorkflowKnowledgePublish)
        if run.obj.field("PublishStatus") is None:
            raise WorkflowActionError(
                f"Knowledge action {spec.full_name}: {run.obj.name} is not a knowledge "
                "article version (it has no PublishStatus)"
            )
        change: dict[str, object] = {"Id": run.record["Id"], "PublishStatus": "Online"}
        version = run.obj.field("VersionNumber")
        if spec.action.value == "PublishAsNew" and version is not None:
            change["VersionNumber"] = int(Decimal(str(run.record.get("VersionNumber") or 0))) + 1
        self.org.store.update(run.obj.name, [change], user_id=run.user_id)


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _ci(row: Mapping[str, object], name: str) -> object:
    low = name.lower()
    return next((v for k, v in row.items() if k.lower() == low), None)
