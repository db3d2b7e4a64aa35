"""What people do with work items: see them, complete them, reassign them.

- The To Do list of a user holds the open work items assigned to them, to their
  groups and to their queues (directly, through nested groups or their role).
- The Work Guide of a record shows the open work items for that record the user may
  complete.
- Completing a work item submits its screen flow's values (checked against the form:
  bad values give field-level errors and change nothing). The first member of a group
  or queue to complete it wins; a second completion, even a concurrent one, is refused
  with WORK_ITEM_COMPLETED and changes nothing. The completion is processed by the run
  asynchronously.
- Reassigning an open work item to a user, group or queue makes it as if newly
  created for the new assignee: owner by the seed's table, the default email,
  Omni-Channel routing for a queue that takes work items, and a Reassign Work Item
  milestone.
- When a work item's work is over, Omni-Channel's work for it ends too, whatever the
  channel's capacity model: once it is Completed (its completion processed, or its
  stage completed or failed), or once its run ends (a canceled or failed run leaves
  open items Assigned, seed 000, but nobody can complete them any more). The agent's
  accepted work is Closed as their own close would close it, offered work is
  Canceled and a request still waiting in the queue is withdrawn
  (routing/closing.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from workroute.auth.access import owners_visible_to
from workroute.auth.principal import Permission
from workroute.kernel.errors import (
    ConflictError,
    InsufficientAccessError,
    NotFoundError,
)
from workroute.kernel.ids import normalize_id
from workroute.orchestration.assignment import (
    WORK_ITEM_OBJECT,
    resolve_assignee,
    work_item_owner,
)
from workroute.orchestration.history import LogEntry, Milestone, write_log
from workroute.orchestration.run_state import dumps
from workroute.orchestration.runs import (
    RESUMES_AS_COMPLETING_USER_UNTIL,
    RUN,
    WORK_ITEM_ASSIGNED,
    WORK_ITEM_CLOSED,
    Orchestrator,
    RunStateError,
)
from workroute.orchestration.status import RunStatus, WorkItemStatus
from workroute.routing.closing import end_work
from workroute.schema.model import ObjectDef
from workroute.store.hooks import Operation, SaveContext

if TYPE_CHECKING:
    from workroute.auth.principal import Principal


class WorkItemCompletedError(ConflictError):
    """The work item was already completed."""

    code = "WORK_ITEM_COMPLETED"
    http_status = 409


class WorkItems:
    """The work item actions of an org's orchestrator."""

    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orch = orchestrator
        self.org = orchestrator.org
        self.store = orchestrator.store
        # One hook for every object that wants work item and run saves only while a
        # channel routes work items: otherwise the engine's updates of both need not
        # read the stored rows (the hooks compare the old status with the new).
        self.store.hooks.after_save(None, self._saved, wants=self._wants)

    # -- reading -------------------------------------------------------------------------

    def assignees_of(self, principal: Principal) -> frozenset[str]:
        """The assignee ids whose work items ``principal`` may complete: themself, their
        groups and their queues."""
        return owners_visible_to(self.store, principal)

    def todo(self, principal: Principal) -> list[dict[str, Any]]:
        """The user's open work items, oldest first."""
        ids = self.assignees_of(principal)
        rows = self.store.find_in(WORK_ITEM_OBJECT, "AssigneeId", sorted(ids))
        return _open_sorted(rows)

    def for_record(self, record_id: str, principal: Principal) -> list[dict[str, Any]]:
        """The Work Guide: the open work items for ``record_id`` the user may complete."""
        rid = normalize_id(record_id)
        ids = self.assignees_of(principal)
        rows = self.store.find(WORK_ITEM_OBJECT, RelatedRecordId=rid)
        return _open_sorted([r for r in rows if str(r["AssigneeId"]) in ids])

    def get(
        self,
        work_item_id: str,
        principal: Principal,
        *,
        assignees: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """A work item its assignee (or an admin) may see (``assignees``: the
        principal's :meth:`assignees_of`, when the caller has read them already)."""
        rows = self.store.get_many(WORK_ITEM_OBJECT, [normalize_id(work_item_id)])
        if not rows:
            raise NotFoundError(f"No work item with id {work_item_id}")
        row = rows[0]
        if not self._may_see(row, principal, assignees):
            raise NotFoundError(f"No work item with id {work_item_id}")
        return row

    def _may_see(
        self, row: Mapping[str, Any], principal: Principal, assignees: frozenset[str] | None
    ) -> bool:
        if principal.has(Permission.MODIFY_ALL_DATA) or principal.has(Permission.VIEW_ALL_DATA):
            return True
        if assignees is None:
            assignees = self.assignees_of(principal)
        return (
            str(row["AssigneeId"]) in assignees
            or str(row.get("CompletedById") or "") == principal.user_id
        )

    def form(self, work_item_id: str, principal: Principal) -> dict[str, Any]:
        """The screen flow of a work item, as a form to fill in."""
        from workroute.flows import screen_form

        row = self.get(work_item_id, principal)
        flow = self._screen_flow(row)
        state = self.orch._load(str(row["OrchestrationInstanceId"]), rows=False)
        assert state is not None
        inputs = json.loads(str(row.get("ScreenFlowInputs") or "{}"))
        ctx = self.orch._flow_context(state, principal.user_id)
        return dict(screen_form(flow, inputs, ctx).to_json())

    def _screen_flow(self, row: Mapping[str, Any]) -> Any:
        name = str(row.get("ScreenFlowDeveloperName") or "")
        flow = self.orch.flows.flow(name)
        if flow is None:
            raise NotFoundError(f"The screen flow {name} is not deployed")
        return flow

    # -- completing ----------------------------------------------------------------------

    def complete(
        self, work_item_id: str, values: Mapping[str, object], principal: Principal
    ) -> dict[str, Any]:
        """Submit the screen flow of a work item; returns the work item."""
        from workroute.flows import submit_form

        with self.org.db.write():
            assignees = self.assignees_of(principal)  # read once for both checks
            row = self.get(work_item_id, principal, assignees=assignees)
            if str(row["AssigneeId"]) not in assignees:
                raise InsufficientAccessError(
                    "Only the work item's assignee (or a member of its group or queue) "
                    "can complete it"
                )
            if row["Status"] == WorkItemStatus.COMPLETED or row.get("CompletedById"):
                raise WorkItemCompletedError(self._completed_message(row))
            state = self.orch._load(str(row["OrchestrationInstanceId"]), rows=False)
            assert state is not None
            if state.run["Status"] != RunStatus.IN_PROGRESS:
                raise RunStateError(
                    f"The orchestration run is {state.run['Status']}; its work items "
                    "can no longer be completed"
                )
            flow = self._screen_flow(row)
            inputs = json.loads(str(row.get("ScreenFlowInputs") or "{}"))
            ctx = self.orch._flow_context(state, principal.user_id)
            outputs = submit_form(flow, inputs, values, ctx)
            now = self.store.clock.now()
            change = {
                "Id": row["Id"],
                "CompletedById": principal.user_id,
                "CompletedDate": now,
                "CompletionOutputs": dumps(dict(outputs)),
            }
            with self.store.trusted():
                self.store.update(WORK_ITEM_OBJECT, [change], user_id=principal.user_id)
            row.update(change)
            api = (
                float(state.orchestration.api_version or "0")
                if _is_number(state.orchestration.api_version)
                else 0.0
            )
            if (
                api
                and api <= RESUMES_AS_COMPLETING_USER_UNTIL
                and not principal.has(Permission.RUN_FLOWS)
            ):
                # Seed 001: the run resumes as the completing user, who cannot run flows.
                if not state.run.get("ResumeBlockedReason"):
                    with self.store.trusted():
                        self.store.update(
                            RUN,
                            [
                                {
                                    "Id": state.id,
                                    "ResumeBlockedReason": (
                                        f"{principal.username} completed a work item but "
                                        "lacks the Run Flows permission; a user with Run "
                                        "Flows can complete another work item, or an "
                                        "admin can resume the run"
                                    ),
                                }
                            ],
                            user_id=principal.user_id,
                        )
            else:
                if state.run.get("ResumeBlockedReason"):
                    with self.store.trusted():
                        self.store.update(
                            RUN,
                            [{"Id": state.id, "ResumeBlockedReason": None}],
                            user_id=principal.user_id,
                        )
                self.orch.schedule(state.id)
        return row

    def _completed_message(self, row: Mapping[str, Any]) -> str:
        who = row.get("CompletedById")
        users = self.store.get_many("User", [str(who)]) if who else []
        by = f" by {users[0]['Username']}" if users else ""
        return f"This work item was already completed{by}"

    # -- reassigning ---------------------------------------------------------------------

    def reassign(self, work_item_id: str, assignee_id: str, principal: Principal) -> dict[str, Any]:
        """Give an open work item to another user, group or queue."""
        with self.org.db.write():
            row = self.get(work_item_id, principal)
            if not (
                principal.has(Permission.MODIFY_ALL_DATA)
                or str(row["AssigneeId"]) in self.assignees_of(principal)
            ):
                raise InsufficientAccessError(
                    "Only the work item's assignee or an admin can reassign it"
                )
            if row["Status"] == WorkItemStatus.COMPLETED or row.get("CompletedById"):
                raise WorkItemCompletedError(self._completed_message(row))
            state = self.orch._load(str(row["OrchestrationInstanceId"]))
            assert state is not None
            if state.run["Status"] != RunStatus.IN_PROGRESS:
                raise RunStateError(
                    f"The orchestration run is {state.run['Status']}; only work items of a "
                    "running orchestration can be reassigned"
                )
            kind = {"005": "User", "00G": "Resource"}.get(str(assignee_id)[:3], "Resource")
            assignee = resolve_assignee(self.store, kind, assignee_id)
            apu = self.orch.automated_process_user_id()
            now = self.store.clock.now()
            change = {
                "Id": row["Id"],
                "AssigneeId": assignee.id,
                "OwnerId": work_item_owner(assignee, apu),
                "AssignedDate": now,
            }
            previous = str(row["AssigneeId"])
            with self.store.trusted():
                self.store.update(WORK_ITEM_OBJECT, [change], user_id=principal.user_id)
            row.update(change)
            self.orch.publish_item(row, WORK_ITEM_CLOSED, previous)
            self.orch.publish_item(row, WORK_ITEM_ASSIGNED, assignee.id)
            step = self.store.get_many(
                "FlowOrchestrationStepInstance", [str(row["StepInstanceId"])]
            )
            entry = LogEntry(
                kind=Milestone.REASSIGN_WORK_ITEM,
                run_id=state.id,
                orchestration=state.orchestration.name,
                version=int(state.orchestration.version or 0),
                stage=str(step[0]["OrchestrationStageName"]) if step else None,
                step=str(step[0]["Name"]) if step else None,
                work_item_id=str(row["Id"]),
                actor=principal.username,
                assignee=assignee.name,
                assignee_type=assignee.kind.value,
                context=str(row.get("RelatedRecordId") or ""),
            )
            with self.store.trusted():
                write_log(self.store, [entry], user_id=apu, now=now)
            self.orch.notify(state, row, assignee, reassigned=True)
        return row

    # -- Omni-Channel ---------------------------------------------------------------------

    def _wants(self, obj: ObjectDef) -> bool:
        return obj.key in _ROUTED_SAVES and self._routed()

    def _saved(self, ctx: SaveContext) -> None:
        if ctx.obj.key == _ROUTED_SAVES[0]:
            self._item_saved(ctx)
        elif ctx.obj.key == _ROUTED_SAVES[1]:
            self._run_saved(ctx)

    def _item_saved(self, ctx: SaveContext) -> None:
        """Work items that became Completed end their Omni-Channel work."""
        if ctx.operation is not Operation.UPDATE:
            return
        done = [
            str(rec["Id"])
            for rec, old in zip(ctx.new, ctx.old, strict=True)
            if rec.get("Status") == WorkItemStatus.COMPLETED
            and old is not None
            and old.get("Status") != WorkItemStatus.COMPLETED
        ]
        self._end_omni_work(ctx, done)

    def _run_saved(self, ctx: SaveContext) -> None:
        """The work items of runs that ended (completed, canceled, failed) end their
        Omni-Channel work, Assigned or not."""
        if ctx.operation is not Operation.UPDATE:
            return
        ended = [
            str(rec["Id"])
            for rec, old in zip(ctx.new, ctx.old, strict=True)
            if old is not None and _is_final(rec.get("Status")) and not _is_final(old.get("Status"))
        ]
        if ended and self._routed():
            rows = self.store.find_in(WORK_ITEM_OBJECT, "OrchestrationInstanceId", ended)
            self._end_omni_work(ctx, [str(r["Id"]) for r in rows])

    def _routed(self) -> bool:
        """Whether a service channel routes work items at all."""
        return WORK_ITEM_OBJECT.lower() in self.org.omni.routed_objects()

    def _end_omni_work(self, ctx: SaveContext, item_ids: list[str]) -> None:
        if item_ids and self._routed():
            end_work(self.org.omni, ctx.conn, item_ids, user_id=ctx.user_id, now=ctx.now)


#: The keys of the objects whose saves end Omni-Channel work: work items, then runs.
_ROUTED_SAVES = (WORK_ITEM_OBJECT.lower(), RUN.lower())


def _is_final(status: object) -> bool:
    return status in _FINAL_RUN


_FINAL_RUN = frozenset(s.value for s in RunStatus if s.is_final)


def _open_sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    live = [
        r for r in rows if r["Status"] == WorkItemStatus.ASSIGNED and not r.get("CompletedById")
    ]
    return sorted(live, key=lambda r: (str(r.get("AssignedDate") or r["CreatedDate"]), r["Id"]))


def _is_number(text: str | None) -> bool:
    try:
        float(text or "")
    except ValueError:
        return False
    return True
