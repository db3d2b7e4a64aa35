"""A run's state while an advance moves it on: its rows as read, and what the advance
changed or made, written back in one go at its end (``Orchestrator._flush``).

Kept apart from :mod:`.runs` (how runs move) so the rows and their bookkeeping read in
one place; ``dumps`` is how a run's variables and outputs are stored (JSON).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from workroute.orchestration.definition import Orchestration
from workroute.orchestration.history import LogEntry, Milestone
from workroute.orchestration.status import RunStatus

__all__ = ["RunState", "dumps"]


def _json_default(v: object) -> object:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return str(v)


def dumps(value: object) -> str:
    return json.dumps(value, default=_json_default, sort_keys=True)


@dataclass(slots=True)
class RunState:
    """One run's rows, read at the start of an advance and written back as it goes."""

    run: dict[str, Any]
    orchestration: Orchestration
    stages: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    work_items: list[dict[str, Any]]
    variables: dict[str, object]
    outputs: dict[str, dict[str, object]]
    log: list[LogEntry] = field(default_factory=list)
    #: Stage and step rows this advance made, by object: inserted whole, as they are
    #: by then, when the advance writes back (a stage started and finished in one
    #: advance is one insert, not an insert and an update).
    new: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: ``$Record`` and its object as read for this advance (None: not read yet; a
    #: background step's flow may change the record, so it is read again after one).
    context: tuple[dict[str, Any] | None, str | None] | None = None
    #: ``$User``, the running user's row, once a reference has named it.
    user: tuple[dict[str, Any] | None] | None = None

    @property
    def id(self) -> str:
        return str(self.run["Id"])

    def current_stage(self) -> dict[str, Any] | None:
        return next((s for s in self.stages if s["Status"] == RunStatus.IN_PROGRESS), None)

    def step_rows(self, stage_row: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [s for s in self.steps if s["StageInstanceId"] == stage_row["Id"]]

    def items_of(self, step_row: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [w for w in self.work_items if w["StepInstanceId"] == step_row["Id"]]

    def entry(self, kind: Milestone, **kw: Any) -> LogEntry:
        e = LogEntry(
            kind=kind,
            run_id=self.id,
            orchestration=self.orchestration.name,
            version=int(self.orchestration.version or 0),
            **kw,
        )
        self.log.append(e)
        return e
