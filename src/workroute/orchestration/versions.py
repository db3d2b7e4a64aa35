"""Flow versions: what each deploy of a Flow leaves behind, and which version is active.

Every deploy of a changed Flow adds a version (1, 2, ...) with the status it was
deployed with, as the Metadata API does since API 44.0; a deploy of an unchanged Flow
adds none, and only changes the latest version's status when the deployed status asks
for it (activate, or deactivate). At most one version of a Flow is Active: activating a
version makes the previously active one Obsolete. Older versions stay readable, so a run
keeps the version it started with; a new run starts with the active version.

Status moves follow :data:`STATUS_TRANSITIONS`; :func:`move_status` applies it and
raises on an illegal move.

Versions are kept in the metadata file table beside the deployed files (type
:data:`VERSION_TYPE`, one row per version, named ``Name#3``), behind the narrow
:class:`VersionStore`; :class:`FlowRegistry` is the in-memory index the engine reads,
swapped when a deploy commits.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, insert, select, update

from workroute.kernel.errors import DeployError, MetadataError
from workroute.metadata.flow import parse_flow
from workroute.orchestration.definition import FlowSummary, FlowVersion, Orchestration
from workroute.orchestration.vocabulary import FlowStatus

if TYPE_CHECKING:
    from workroute.store.sql.database import Database

__all__ = [
    "STATUS_TRANSITIONS",
    "VERSION_TYPE",
    "FlowRegistry",
    "IllegalStatusChangeError",
    "StoredVersion",
    "VersionStore",
    "move_status",
    "status_after_deploy",
]

VERSION_TYPE = "FlowVersion"

_S = FlowStatus
#: The status moves of one Flow version.
STATUS_TRANSITIONS: Mapping[FlowStatus, frozenset[FlowStatus]] = MappingProxyType(
    {
        _S.DRAFT: frozenset({_S.ACTIVE}),
        _S.INVALID_DRAFT: frozenset({_S.ACTIVE, _S.DRAFT}),
        _S.UNDER_REVIEW: frozenset({_S.ACTIVE, _S.DRAFT}),
        # An active version is deactivated (by hand, or when another one is activated).
        _S.ACTIVE: frozenset({_S.OBSOLETE}),
        # An obsolete version can be activated again; it never becomes a draft again.
        _S.OBSOLETE: frozenset({_S.ACTIVE}),
    }
)


class IllegalStatusChangeError(MetadataError):
    """This status change is not allowed for a Flow version."""

    code = "INVALID_STATUS"

    def __init__(self, current: FlowStatus, target: FlowStatus) -> None:
        self.current = current
        self.target = target
        super().__init__(f"A {current.value} flow version cannot become {target.value}")


def move_status(current: FlowStatus, target: FlowStatus) -> FlowStatus:
    """``target``, when a version in ``current`` may move there; raises otherwise."""
    if target is current:
        return current
    if target not in STATUS_TRANSITIONS[current]:
        raise IllegalStatusChangeError(current, target)
    return target


def status_after_deploy(current: FlowStatus, deployed: FlowStatus) -> FlowStatus:
    """The status of the latest version after a deploy of the same definition with
    status ``deployed``: Active activates it; any other status deactivates an active
    version (it becomes Obsolete) and leaves an inactive one as it is."""
    if deployed is FlowStatus.ACTIVE:
        return move_status(current, FlowStatus.ACTIVE)
    if current is FlowStatus.ACTIVE:
        return move_status(current, FlowStatus.OBSOLETE)
    if deployed in STATUS_TRANSITIONS[current]:
        return move_status(current, deployed)
    return current


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredVersion:
    """One stored Flow version: the file as deployed and the version's own status."""

    name: str
    version: int
    status: FlowStatus
    path: str
    content: bytes
    deployed_at: datetime


class VersionStore:
    """The rows of Flow versions (the only SQL of this package)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    @staticmethod
    def _key(name: str, version: int) -> str:
        return f"{name}#{version}"

    def load(self, conn: Connection, name: str | None = None) -> list[StoredVersion]:
        """The stored versions (of ``name``, any case), by name and version."""
        t = self.table
        stmt = select(t.c.full_name, t.c.path, t.c.content, t.c.deployed_at).where(
            t.c.type == VERSION_TYPE
        )
        out: list[StoredVersion] = []
        for row in conn.execute(stmt):
            stored_name, _, number = str(row.full_name).rpartition("#")
            if name is not None and stored_name.lower() != name.lower():
                continue
            data: dict[str, Any] = json.loads(bytes(row.content))
            out.append(
                StoredVersion(
                    name=stored_name,
                    version=int(number),
                    status=FlowStatus(data["status"]),
                    path=row.path,
                    content=str(data["content"]).encode("utf-8"),
                    deployed_at=row.deployed_at,
                )
            )
        out.sort(key=lambda v: (v.name.lower(), v.version))
        return out

    def add(self, conn: Connection, v: StoredVersion) -> None:
        t = self.table
        conn.execute(
            insert(t).values(
                type=VERSION_TYPE,
                full_name=self._key(v.name, v.version),
                path=v.path,
                content=self._blob(v.status, v.content),
                deployed_at=v.deployed_at,
            )
        )

    def set_status(self, conn: Connection, v: StoredVersion, status: FlowStatus) -> None:
        t = self.table
        conn.execute(
            update(t)
            .where(t.c.type == VERSION_TYPE, t.c.full_name == self._key(v.name, v.version))
            .values(content=self._blob(status, v.content))
        )

    @staticmethod
    def _blob(status: FlowStatus, content: bytes) -> bytes:
        return json.dumps(
            {"status": status.value, "content": content.decode("utf-8")}, ensure_ascii=False
        ).encode("utf-8")


def read_version(stored: StoredVersion) -> FlowVersion:
    """The model of a stored version, with its number and status."""
    model = parse_flow(stored.content, stored.path, full_name=stored.name)
    return replace(model, version=stored.version, status=stored.status)


class FlowRegistry:
    """The deployed Flow versions, by name (any case), as the engine reads them.

    Readers get immutable tuples; a committed deploy swaps a Flow's whole tuple at once.
    """

    def __init__(self) -> None:
        self._by_name: dict[str, tuple[FlowVersion, ...]] = {}
        self._lock = threading.Lock()
        self.loaded = False
        #: The active orchestrations by the object whose saves start them, for the
        #: ``_by_name`` they were read from (every save of every object asks).
        self._triggers: tuple[object, dict[str, tuple[Orchestration, ...]]] = (None, {})

    @classmethod
    def from_database(cls, db: Database) -> FlowRegistry:
        registry = cls()
        registry.load(db)
        return registry

    def load(self, db: Database) -> list[str]:
        """Read every stored version; returns the problems of versions that no longer
        read (they are left out)."""
        store = VersionStore(db.system["metadata_file"])
        with db.read() as conn:
            stored = store.load(conn)
        problems: list[str] = []
        by_name: dict[str, list[FlowVersion]] = {}
        for s in stored:
            try:
                by_name.setdefault(s.name.lower(), []).append(read_version(s))
            except DeployError as exc:
                problems.append(f"{s.name} version {s.version}: {exc.message}")
        with self._lock:
            self._by_name = {k: tuple(v) for k, v in by_name.items()}
            self.loaded = True
        return problems

    def install(self, name: str, versions: Iterable[FlowVersion]) -> None:
        """Replace the versions of ``name`` (on commit of the deploy that changed them)."""
        with self._lock:
            self._by_name = {**self._by_name, name.lower(): tuple(versions)}

    def names(self) -> list[str]:
        return sorted(v[-1].name for v in self._by_name.values() if v)

    def versions(self, name: str) -> tuple[FlowVersion, ...]:
        """Every version of ``name``, oldest first."""
        return self._by_name.get(name.lower(), ())

    def version(self, name: str, number: int) -> FlowVersion | None:
        return next((v for v in self.versions(name) if v.version == number), None)

    def latest(self, name: str) -> FlowVersion | None:
        found = self.versions(name)
        return found[-1] if found else None

    def active(self, name: str) -> FlowVersion | None:
        """The version a new run of ``name`` starts with (None: it does not start)."""
        return next((v for v in self.versions(name) if v.status is FlowStatus.ACTIVE), None)

    def active_orchestration(self, name: str) -> Orchestration | None:
        found = self.active(name)
        return found if isinstance(found, Orchestration) else None

    def orchestration(self, name: str, version: int) -> Orchestration | None:
        """The version a run started with, active or not."""
        found = self.version(name, version)
        return found if isinstance(found, Orchestration) else None

    def flow(self, name: str) -> FlowSummary | None:
        """The active version of a (non-orchestration) flow a step calls, else its latest."""
        found = self.active(name) or self.latest(name)
        return found if isinstance(found, FlowSummary) else None

    def active_orchestrations(self) -> list[Orchestration]:
        out = []
        for versions in self._by_name.values():
            for v in versions:
                if isinstance(v, Orchestration) and v.status is FlowStatus.ACTIVE:
                    out.append(v)
        return sorted(out, key=lambda o: o.name.lower())

    def record_triggered(self, object_name: str) -> list[Orchestration]:
        """The active orchestrations started by saves of ``object_name``."""
        return list(self._trigger_index().get(object_name.lower(), ()))

    def triggers_on(self, object_key: str) -> bool:
        """Whether saves of the object keyed ``object_key`` (lower case) start a run: the
        question every save's hooks ask, so without copying or lowering anything."""
        return object_key in self._trigger_index()

    def _trigger_index(self) -> dict[str, tuple[Orchestration, ...]]:
        """Active record-triggered orchestrations by lower-case object name, made again
        only when the set of versions changed."""
        by_name, index = self._triggers
        if by_name is not self._by_name:
            by_name = self._by_name
            found: dict[str, list[Orchestration]] = {}
            for o in self.active_orchestrations():
                if o.trigger is not None:
                    found.setdefault(o.trigger.object.lower(), []).append(o)
            index = {k: tuple(v) for k, v in found.items()}
            self._triggers = (by_name, index)
        return index
