"""Before- and after-save hooks: the extension point every automation plugs into."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
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
    #: The store's count of record writes just after this save wrote its rows: while
    #: it has not moved, ``new`` is what is stored (see ``Store.resave``).
    written: int = -1


Hook = Callable[[SaveContext], None]
#: Whether a hook for every object has anything to do with saves of this one now
#: (None: always). A hook that would return at once for the object says no, so a
#: save nobody wants can skip what only hooks need (the stored rows, for updates).
Wants = Callable[[ObjectDef], bool]


class Hooks:
    """Hooks by object (``None`` = every object), run in registration order."""

    def __init__(self) -> None:
        self._before: dict[str | None, list[Hook]] = defaultdict(list)
        self._after: dict[str | None, list[Hook]] = defaultdict(list)
        self._last: list[Hook] = []
        self._wants: dict[Hook, Wants] = {}

    def before_save(
        self, object_name: str | None, hook: Hook, *, wants: Wants | None = None
    ) -> None:
        self._before[object_name.lower() if object_name else None].append(hook)
        self._note_wants(object_name, hook, wants)

    def after_save(
        self, object_name: str | None, hook: Hook, *, wants: Wants | None = None
    ) -> None:
        self._after[object_name.lower() if object_name else None].append(hook)
        self._note_wants(object_name, hook, wants)

    def after_save_last(self, hook: Hook, *, wants: Wants | None = None) -> None:
        """A hook for every object that runs after all other after-save hooks
        (workflow rules come after triggers in Salesforce's order of execution)."""
        self._last.append(hook)
        self._note_wants(None, hook, wants)

    def _note_wants(self, object_name: str | None, hook: Hook, wants: Wants | None) -> None:
        if wants is not None:
            if object_name:
                raise ValueError("only a hook for every object says which objects it wants")
            self._wants[hook] = wants

    def _wanted(self, hooks: list[Hook], obj: ObjectDef) -> list[Hook]:
        return [h for h in hooks if (w := self._wants.get(h)) is None or w(obj)]

    def for_save(self, obj: ObjectDef, *, before: bool) -> list[Hook]:
        """The hooks a save of ``obj`` runs now, before or after its write, in order
        (each hook's ``wants`` is asked once)."""
        if before:
            return [*self._wanted(self._before.get(None, []), obj), *self._before.get(obj.key, ())]
        return [
            *self._wanted(self._after.get(None, []), obj),
            *self._after.get(obj.key, ()),
            *self._wanted(self._last, obj),
        ]

    def has_any(self, obj: ObjectDef, *, besides: Collection[Hook] = ()) -> bool:
        """Whether any hook has to see saves of ``obj`` now, apart from ``besides``."""
        if besides:
            return any(h not in besides for h in self.for_save(obj, before=True)) or any(
                h not in besides for h in self.for_save(obj, before=False)
            )
        if self._before.get(obj.key) or self._after.get(obj.key):
            return True
        return any(
            self._wanted(hooks, obj)
            for hooks in (self._before[None], self._after[None], self._last)
        )
