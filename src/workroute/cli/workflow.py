"""``workroute workflow ...``: explain a change, and the time-based workflow queue.

``explain`` saves the change and rolls it back (see :mod:`workroute.workflow.explain`),
so the org is left as it was. Values come as ``--set Field=Value`` (the value is read
as JSON when it parses, else as text: ``--set Step__c=5 --set Name=Big job``) or as
one JSON object with ``--values``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from workroute.kernel.errors import WorkrouteError

MAX_VALUES_BYTES = 1024 * 1024

DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite file of the org (WORKROUTE_DATABASE_URL replaces it)."),
]

workflow_app = typer.Typer(
    help="Explain what workflow rules do, and manage the time-based workflow queue.",
    no_args_is_help=True,
)


def parse_values(sets: list[str], values_json: str | None) -> dict[str, Any]:
    """The field values of ``--values`` and ``--set``; ValueError names what is wrong."""
    out: dict[str, Any] = {}
    if values_json is not None:
        if len(values_json) > MAX_VALUES_BYTES:
            raise ValueError(f"--values is longer than {MAX_VALUES_BYTES} bytes")
        try:
            data = json.loads(values_json)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--values is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError("--values must be a JSON object of field values")
        out.update(data)
    for item in sets:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set takes Field=Value, not {item!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if isinstance(value, dict | list):
            value = raw  # only plain values: a field holds no structure
        out[name.strip()] = value
    return out


@workflow_app.command("explain")
def explain_command(
    object_name: Annotated[str, typer.Argument(metavar="OBJECT", help="The object, e.g. Case.")],
    record_id: Annotated[
        str | None, typer.Option("--id", help="Explain an edit of this record (else a create).")
    ] = None,
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="Field=Value (repeatable).")
    ] = None,
    values: Annotated[
        str | None, typer.Option("--values", help="Field values as one JSON object.")
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="Username making the change (default: the administrator)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: DbOpt = None,
) -> None:
    """Show every rule on the object for a change: fired or not, why, and what it queues.

    Nothing is kept: the change is saved in a transaction that is rolled back."""
    from workroute.cli.main import fail, open_org, out
    from workroute.workflow.explain import explain_change

    try:
        fields = parse_values(sets or [], values)
    except ValueError as exc:
        fail(str(exc))
    org = open_org(db)
    try:
        user_id = org.admin_user_id()
        if as_user is not None:
            found = org.user_id_by_username(as_user)
            if found is None:
                fail(f"no user '{as_user}'")
            user_id = found
        result = explain_change(org, object_name, fields, user_id=user_id, record_id=record_id)
    except WorkrouteError as exc:
        fail(f"{exc.code}: {exc.message}")
    finally:
        org.close()
    data = result.to_json()
    if as_json:
        out.print_json(json.dumps(data))
        return
    _print(data)


def _print(data: dict[str, Any]) -> None:
    """One block per rule outcome, then what the change would queue: plain lines that
    read well in a terminal and in a pipe."""
    from workroute.cli.main import out

    def line(text: str) -> None:
        out.print(text, markup=False, highlight=False)

    what = f"edit of {data['recordId']}" if data["operation"] == "edit" else "create"
    line(f"{data['object']} {what}")
    for r in data["rules"]:
        state = "FIRED" if r["fired"] else ("inactive" if not r["active"] else "not fired")
        line("")
        line(f"{r['rule']}  {r['triggerType']}  round {r['round']}  {state}")
        met = "" if r["met"] is None else f" (now met: {_yes(r['met'])}"
        if met and r["metBefore"] is not None:
            met += f", met before: {_yes(r['metBefore'])}"
        line(f"  why: {r['reason']}{met}{')' if met else ''}")
        if r.get("formula"):
            line(f"  formula: {r['formula']}")
        for c in r["criteria"]:
            mark = "ok" if c["met"] else "no"
            line(
                f"  [{mark}] {c['index']}. {c['field']} {c['operation']} "
                f"{_shown(c['value'])}: is {_shown(c['actual'])}"
            )
        for a in r["actions"]:
            line(f"  -> {a}")
        for t in r["timeTriggers"]:
            line(f"  -> time trigger {t}")
    line("")
    for name, value in data["fieldUpdates"].items():
        line(f"field update: {name} = {_shown(value)}")
    for p in data["parentUpdates"]:
        line(f"field update on {p['object']} {p['id']}: {json.dumps(p['fields'])}")
    for e in data["emails"]:
        to = ", ".join(e["to"] + e["cc"])
        line(f"email ({e['rule']}): {_shown(e['subject'])} to {to}")
    for m in data["outboundMessages"]:
        line(f"outbound message ({m['rule']}): {m['action']}")
    for t in data["tasks"]:
        line(f"task: {_shown(t['Subject'])} for {t['OwnerId']}, due {t['ActivityDate']}")
    for t in data["timeTriggers"]:
        verb = "moved to" if t["moved"] else "queued for"
        line(f"time trigger ({t['rule']} #{t['trigger']}): {verb} {t['dueAt']}")
    for t in data["removedTimeTriggers"]:
        line(f"time trigger ({t['rule']} #{t['trigger']}): removed")


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _shown(value: object) -> str:
    """A JSON value as people read it: text quoted, whole numbers without ``.0``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value)


# -- the time-based workflow queue ------------------------------------------------------


@workflow_app.command("queue")
def queue_command(
    record_id: Annotated[
        str | None, typer.Option("--record-id", help="Only this record's queued actions.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    db: DbOpt = None,
) -> None:
    """List the time-based workflow queue: actions waiting for their time."""
    from workroute.cli.main import fail, open_org, out
    from workroute.cli.output import print_rows
    from workroute.kernel.ids import normalize_id
    from workroute.workflow.engine import TIMER_KIND

    org = open_org(db)
    try:
        rid = None
        if record_id is not None:
            try:
                rid = normalize_id(record_id)
            except WorkrouteError as exc:
                fail(exc.message)
        timers = org.timers.list(kind=TIMER_KIND, record_id=rid)
    finally:
        org.close()
    if as_json:
        out.print_json(json.dumps([t.to_json() for t in timers]))
        return
    if not timers:
        out.print("The time-based workflow queue is empty.")
        return
    print_rows(
        out,
        ("id", "due", "object", "record", "rule", "trigger", "failed"),
        [
            (
                str(t.id),
                t.due_at.isoformat(),
                t.object_name or "",
                t.record_id or "",
                str(t.payload.get("rule", "")),
                str(t.payload.get("trigger", "")),
                t.failed or "",
            )
            for t in timers
        ],
    )


@workflow_app.command("dequeue")
def dequeue_command(
    ids: Annotated[list[int], typer.Argument(metavar="ID...", help="Queue entry ids.")],
    db: DbOpt = None,
) -> None:
    """Remove queued time-based actions. All or nothing: an unknown id removes none."""
    from workroute.cli.main import fail, open_org, out
    from workroute.workflow.engine import TIMER_KIND

    org = open_org(db)
    try:
        unknown = [i for i in ids if (t := org.timers.get(i)) is None or t.kind != TIMER_KIND]
        ids = list(dict.fromkeys(ids))
        if unknown:
            fail(f"no queued workflow action with id {', '.join(map(str, unknown))}; none removed")
        with org.db.write():
            for i in ids:
                org.timers.delete(i)
    finally:
        org.close()
    out.print(f"Removed {len(set(ids))} queued workflow action(s).")
