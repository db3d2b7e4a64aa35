"""Before- and after-save hooks: the extension point every automation plugs into."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from workroute.schema.model import ObjectDef

if TYPE_CHECKING:
    from workroute.store.store import Store

Record = dict[str, object]


class Operation(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"
    UNDELETE = "undelete"


@dataclass(kw_only=True, slots=True)
class SaveContext:
    """What a hook sees: one bulk save of one object, inside its transaction.

    ``new`` holds the records as they will be (before-save hooks may change them);
    ``old`` the stored versions (None for inserts). ``depth`` counts re-entrant saves
    started by hooks, so automation can bound its own cascades.
    """

    obj: ObjectDef
    operation: Operation
    new: list[Record]
    old: list[Record | None]
    user_id: str
    now: datetime
    conn: Connection
    store: Store
    depth: int = 0
    changed: list[frozenset[str]] = field(default_factory=list)


Hook = Callable[[SaveContext], None]


class Hooks:
    """Hooks by object (``None`` = every object), run in registration order."""

    def __init__(self) -> None:
        self._before: dict[str | None, list[Hook]] = defaultdict(list)
        self._after: dict[str | None, list[Hook]] = defaultdict(list)
        self._last: list[Hook] = []

    def before_save(self, object_name: str | None, hook: Hook) -> None:
        self._before[object_name.lower() if object_name else None].append(hook)

    def after_save(self, object_name: str | None, hook: Hook) -> None:
        self._after[object_name.lower() if object_name else None].append(hook)

    def after_save_last(self, hook: Hook) -> None:
        """A hook for every object that runs after all other after-save hooks
        (workflow rules come after triggers in Salesforce's order of execution)."""
        self._last.append(hook)

    def run_before(self, ctx: SaveContext) -> None:
        for hook in (*self._before.get(None, ()), *self._before.get(ctx.obj.key, ())):
            hook(ctx)

    def run_after(self, ctx: SaveContext) -> None:
        for hook in (*self._after.get(None, ()), *self._after.get(ctx.obj.key, ()), *self._last):
            hook(ctx)

    def has_any(self, obj: ObjectDef) -> bool:
        return bool(self._last) or any(
            self._before.get(k) or self._after.get(k) for k in (None, obj.key)
        )
