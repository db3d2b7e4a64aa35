"""Ending Omni-Channel's work for records whose business is over, whatever the
channel's capacity model.

The caller says when (an orchestration work item is Completed, or its run ended:
orchestration/work_items.py); this module says what ends, each the way Omni-Channel
ends it elsewhere:

- **opened** work is Closed as the agent's own close would close it (CloseDateTime,
  HandleTime, the capacity freed, omni/workClosed and omni/workloadChanged); work in
  after-conversation work ends it now, as the agent's "All Done" would;
- work **offered** and not yet accepted is Canceled and frees the capacity it held
  (seed 003, AgentWork.Status: Canceled, "the item no longer needs to be routed");
- a **PendingServiceRouting** still waiting for the record is deleted, so it is never
  pushed.

Work already ended is left as it is, so a second call (the status-based model may
have closed the work in the same save) changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from workroute.routing import acw
from workroute.routing.console import close_work
from workroute.routing.direct import held_work
from workroute.routing.entry import withdraw_assigned
from workroute.routing.model import WorkStatus

if TYPE_CHECKING:
    from workroute.routing.engine import OmniEngine


def end_work(
    engine: OmniEngine,
    conn: Connection,
    record_ids: Sequence[str],
    *,
    user_id: str,
    now: datetime,
) -> None:
    """End the agent work and routing requests of ``record_ids`` (module docstring);
    ``user_id`` withdraws what no agent holds."""
    ids = sorted(set(record_ids))
    if not ids:
        return
    engine.ensure(conn)
    for held in held_work(engine, conn, ids).values():
        for h in held:
            if not h.opened:
                withdraw_assigned(engine, conn, h.work_id, user_id=user_id, now=now)
                continue
            works = engine.store.get_many("AgentWork", [h.work_id])
            if not works or works[0].get("Status") != WorkStatus.OPENED.value:
                continue  # closing another work of the record ended this one already
            timer = acw.timer_of(engine, conn, h.work_id)
            if timer is not None:
                acw.finish(engine, conn, works[0], timer, h.user_id, now)
            else:
                close_work(engine, conn, works[0], h.user_id, now, {})
    waiting = [
        str(r["Id"]) for r in engine.store.find_in("PendingServiceRouting", "WorkItemId", ids)
    ]
    if waiting:
        for psr_id in waiting:
            engine.forget_item(conn, psr_id)
        with engine.internal():
            engine.store.delete("PendingServiceRouting", waiting, user_id=user_id)
