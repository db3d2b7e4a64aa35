"""What workflow would do for one record change, without doing it.

The change is saved for real inside a transaction, so every hook, formula field,
parent lookup and re-evaluation round behaves exactly as in a real save, with the
engine tracing every rule; then the transaction is rolled back. Nothing is written,
queued or sent: emails and outbound messages reach the outbox only inside the
transaction, and the outbox is delivered only after a commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workroute.kernel.errors import InvalidFieldError
from workroute.kernel.ids import normalize_id
from workroute.store.values import to_json
from workroute.workflow.engine import TIMER_KIND, RuleOutcome

if TYPE_CHECKING:
    from workroute.org import Org


@dataclass(frozen=True, slots=True)
class Explanation:
    """Every rule on the object, whether it fired and why, and what it queued."""

    object_name: str
    operation: str  # "create" or "edit"
    record_id: str | None  # None for a create: the record was never kept
    rules: tuple[RuleOutcome, ...]
    field_updates: dict[str, object] = field(default_factory=dict)
    parent_updates: tuple[tuple[str, str, dict[str, object]], ...] = ()
    emails: tuple[dict[str, Any], ...] = ()
    outbound_messages: tuple[dict[str, Any], ...] = ()
    tasks: tuple[dict[str, Any], ...] = ()
    time_triggers: tuple[dict[str, Any], ...] = ()
    removed_time_triggers: tuple[dict[str, Any], ...] = ()
    #: Rules of other records the change reached (cross-object field updates).
    related: dict[str, tuple[RuleOutcome, ...]] = field(default_factory=dict)
    #: The formula of each formula rule, shown beside its outcome.
    formulas: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "object": self.object_name,
            "operation": self.operation,
            "recordId": self.record_id,
            "rules": [_outcome_json(o, self.formulas) for o in self.rules],
            "fieldUpdates": {k: to_json(v) for k, v in self.field_updates.items()},
            "parentUpdates": [
                {"object": o, "id": pid, "fields": {k: to_json(v) for k, v in values.items()}}
                for o, pid, values in self.parent_updates
            ],
            "emails": list(self.emails),
            "outboundMessages": list(self.outbound_messages),
            "tasks": list(self.tasks),
            "timeTriggers": list(self.time_triggers),
            "removedTimeTriggers": list(self.removed_time_triggers),
            "related": {
                rid: [_outcome_json(o, {}) for o in outs] for rid, outs in self.related.items()
            },
        }


class _Undo(Exception):
    """Raised inside the transaction to roll the explained save back."""


def explain_change(
    org: Org,
    object_name: str,
    values: Mapping[str, object],
    *,
    user_id: str,
    record_id: str | None = None,
) -> Explanation:
    """Explain creating a record with ``values``, or editing ``record_id`` to them.

    Bad input raises the same errors the save would (unknown object or field, wrong
    type, record not found), and nothing is kept either way.
    """
    obj = org.schema.get(object_name)
    if any(k.lower() == "id" for k in values):
        raise InvalidFieldError("give the record to edit as its id, not among the values")
    rid = normalize_id(record_id) if record_id is not None else None
    result: list[Explanation] = []
    try:
        with org.db.write() as conn:
            if rid is not None:
                org.store.get(obj.name, rid)  # NOT_FOUND before anything else
            before_tasks = _task_ids(org, rid) if rid is not None else set()
            before_timers = (
                {t.key: t for t in org.timers.for_records(conn, TIMER_KIND, [rid])}
                if rid is not None
                else {}
            )
            last_outbox = conn.execute(
                select(org.outbox.table.c.id).order_by(org.outbox.table.c.id.desc()).limit(1)
            ).scalar()
            with org.workflow.tracing() as trace:
                if rid is None:
                    saved = org.store.insert(
                        obj.name, [dict(values)], user_id=user_id, from_api=True
                    )
                    rid = saved[0]
                else:
                    org.store.update(
                        obj.name, [{"Id": rid, **values}], user_id=user_id, from_api=True
                    )
            t = org.outbox.table
            queued = conn.execute(
                select(t.c.kind, t.c.payload)
                .where(t.c.id > (last_outbox or 0), t.c.record_id == rid)
                .order_by(t.c.id)
            ).all()
            payloads = [(kind, json.loads(payload)) for kind, payload in queued]
            after_timers = {t.key: t for t in org.timers.for_records(conn, TIMER_KIND, [rid])}
            new_tasks = (
                [r for r in org.store.find("Task", WhatId=rid) if str(r["Id"]) not in before_tasks]
                if org.schema.find("Task") is not None
                else []
            )
            cw = org.workflow.workflow_for(obj.name)
            inactive = tuple(
                RuleOutcome(
                    rule=r.name,
                    active=False,
                    trigger_type=r.trigger.value,
                    met=None,
                    met_before=None,
                    fired=False,
                    reason="inactive: inactive rules are never evaluated",
                    round=0,
                )
                for r in (cw.rules if cw is not None else ())
                if not r.active
            )
            result.append(
                Explanation(
                    object_name=obj.name,
                    operation="create" if record_id is None else "edit",
                    record_id=rid if record_id is not None else None,
                    rules=tuple(trace.outcomes.get(rid, ())) + inactive,
                    field_updates=dict(trace.field_updates.get(rid, {})),
                    parent_updates=tuple(
                        (o, pid, dict(v)) for (o, pid), v in trace.parent_updates.items()
                    ),
                    emails=tuple(_email_json(p) for k, p in payloads if k == "email"),
                    outbound_messages=tuple(
                        {"action": p.get("action"), "rule": p.get("rule")}
                        for k, p in payloads
                        if k == "outbound"
                    ),
                    tasks=tuple(
                        {
                            k: to_json(r.get(k))
                            for k in ("Subject", "Status", "Priority", "OwnerId", "ActivityDate")
                        }
                        for r in new_tasks
                    ),
                    time_triggers=tuple(
                        _timer_json(tm, moved=k in before_timers)
                        for k, tm in after_timers.items()
                        if k not in before_timers or before_timers[k].due_at != tm.due_at
                    ),
                    removed_time_triggers=tuple(
                        _timer_json(tm, moved=False)
                        for k, tm in before_timers.items()
                        if k not in after_timers
                    ),
                    related={
                        other: tuple(outs) for other, outs in trace.outcomes.items() if other != rid
                    },
                    formulas={
                        r.name: r.rule.formula
                        for r in (cw.rules if cw is not None else ())
                        if r.formula is not None and r.rule.formula
                    },
                )
            )
            raise _Undo
    except _Undo:
        pass
    return result[0]


def _task_ids(org: Org, rid: str) -> set[str]:
    if org.schema.find("Task") is None:
        return set()
    return {str(r["Id"]) for r in org.store.find("Task", WhatId=rid)}


def _email_json(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "rule": p.get("rule"),
        "source": p.get("source"),
        "sender": p.get("sender"),
        "to": p.get("to", []),
        "cc": p.get("cc", []),
        "subject": p.get("subject"),
    }


def _timer_json(t: Any, *, moved: bool) -> dict[str, Any]:
    return {
        "rule": t.payload.get("rule"),
        "trigger": t.payload.get("trigger"),
        "dueAt": t.due_at.isoformat(),
        "moved": moved,
    }


def _outcome_json(o: RuleOutcome, formulas: Mapping[str, str]) -> dict[str, Any]:
    return {
        "rule": o.rule,
        "formula": formulas.get(o.rule),
        "active": o.active,
        "triggerType": o.trigger_type,
        "round": o.round,
        "met": o.met,
        "metBefore": o.met_before,
        "fired": o.fired,
        "reason": o.reason,
        "criteria": [
            {
                "index": c.index,
                "field": c.field,
                "operation": c.operation,
                "value": c.value,
                "actual": to_json(c.actual),
                "met": c.met,
            }
            for c in o.checks
        ],
        "actions": list(o.actions),
        "timeTriggers": list(o.time_triggers),
    }


__all__ = ["Explanation", "explain_change"]
