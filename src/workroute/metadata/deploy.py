"""Deploying metadata: read a package, let each type's handler validate it, then apply
everything in one transaction. A deploy with any problem changes nothing.

Handlers are registered on the org (``org.deploy_handlers``); this module knows
CustomObject/CustomField, and the automation packages add their own types.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, delete, insert, select

from workroute.kernel.errors import DeployError, DeployProblem, NotFoundError
from workroute.kernel.ids import make_id
from workroute.lang.formula.checker import SchemaEnvironment
from workroute.lang.formula.compiler import compile_formula
from workroute.lang.formula.errors import FormulaError
from workroute.lang.formula.types import type_for_field
from workroute.metadata.custom_object import CustomObjectSpec, objects_from_package
from workroute.metadata.package import DEFAULT_SUPPORTED_TYPES, Component, Package, read_package
from workroute.metadata.xmlio import ProblemLog
from workroute.schema.model import FieldType, ObjectDef
from workroute.schema.registry import SchemaRegistry

if TYPE_CHECKING:
    from workroute.org import Org

DEPLOY_KEY_PREFIX = "0Af"
META_SUFFIX = "-meta"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeployedComponent:
    type: str
    full_name: str
    file: str
    created: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DeployResult:
    id: str
    success: bool
    check_only: bool
    created_at: datetime
    completed_at: datetime
    created_by_id: str
    components: tuple[DeployedComponent, ...] = ()
    problems: tuple[DeployProblem, ...] = ()
    skipped: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "Succeeded" if self.success else "Failed"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "success": self.success,
            "checkOnly": self.check_only,
            "createdAt": self.created_at.isoformat(),
            "completedAt": self.completed_at.isoformat(),
            "createdById": self.created_by_id,
            "components": [
                {"type": c.type, "fullName": c.full_name, "file": c.file, "created": c.created}
                for c in self.components
            ],
            "problems": [
                {
                    "file": p.file,
                    "line": p.line,
                    "element": p.element,
                    "component": p.component,
                    "message": p.message,
                }
                for p in self.problems
            ],
            "skipped": list(self.skipped),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeployResult:
        return cls(
            id=data["id"],
            success=data["success"],
            check_only=data["checkOnly"],
            created_at=datetime.fromisoformat(data["createdAt"]),
            completed_at=datetime.fromisoformat(data["completedAt"]),
            created_by_id=data["createdById"],
            components=tuple(
                DeployedComponent(
                    type=c["type"], full_name=c["fullName"], file=c["file"], created=c["created"]
                )
                for c in data["components"]
            ),
            problems=tuple(
                DeployProblem(
                    file=p["file"],
                    line=p["line"],
                    element=p["element"],
                    component=p["component"],
                    message=p["message"],
                )
                for p in data["problems"]
            ),
            skipped=tuple(data.get("skipped", ())),
        )


class Staged(Protocol):
    """A handler's validated plan, applied inside the deploy transaction."""

    def apply(self, org: Org, conn: Connection) -> list[DeployedComponent]: ...


class DeployHandler(Protocol):
    """Validates and stages the components of the metadata types it owns."""

    types: frozenset[str]

    def stage(self, org: Org, pkg: Package, log: ProblemLog) -> Staged | None: ...


# -- CustomObject ------------------------------------------------------------------


@dataclass
class _StagedObjects:
    objects: list[tuple[ObjectDef, CustomObjectSpec, bool]] = field(default_factory=list)

    def apply(self, org: Org, conn: Connection) -> list[DeployedComponent]:
        done = []
        for obj, spec, created in self.objects:
            org.save_object(obj)
            done.append(
                DeployedComponent(
                    type="CustomObject", full_name=obj.name, file=spec.file, created=created
                )
            )
        return done


class CustomObjectHandler:
    types = frozenset({"CustomObject", "CustomField"})

    def stage(self, org: Org, pkg: Package, log: ProblemLog) -> Staged | None:
        specs = objects_from_package(pkg, log=log)
        if not specs:
            return None
        staged = _StagedObjects()
        taken: set[str] = set()
        incoming = {s.full_name.lower() for s in specs}
        for spec in specs:
            existing = org.schema.find(spec.full_name)
            if existing is not None:
                obj = spec.merge_into(existing)
                created = False
            elif spec.is_standard:
                log.add(
                    spec.file, f"Unknown standard object {spec.full_name}", component=spec.full_name
                )
                continue
            elif not spec.has_definition:
                log.add(
                    spec.file,
                    f"Object {spec.full_name} does not exist; deploy its "
                    f"{spec.full_name}.object-meta.xml with its fields",
                    component=spec.full_name,
                )
                continue
            else:
                prefix = org.schema.next_custom_prefix(frozenset(taken))
                taken.add(prefix)
                obj = spec.to_object_def(prefix)
                created = True
            for f in spec.fields:
                target = f.reference_to
                if target:
                    if target.lower() not in incoming and org.schema.find(target) is None:
                        log.add(
                            f.file or spec.file,
                            f"Field {spec.full_name}.{f.full_name} refers to {target}, "
                            "which does not exist",
                            line=f.line,
                            element="referenceTo",
                            component=f"{spec.full_name}.{f.full_name}",
                        )
            staged.objects.append((obj, spec, created))
        _check_formulas(org, staged, log)
        return staged


def _check_formulas(org: Org, staged: _StagedObjects, log: ProblemLog) -> None:
    """Every formula field must compile against the schema as it will be after the deploy."""
    future = SchemaRegistry(list(org.schema))
    for obj, _spec, _created in staged.objects:
        future.put(obj)
    for obj, spec, _created in staged.objects:
        fields = {f.full_name.lower(): f for f in spec.fields}
        for f in obj.fields:
            if f.formula is None or f.name.lower() not in fields:
                continue
            try:
                compile_formula(
                    f.formula,
                    SchemaEnvironment(future, obj.name),
                    blank_as_zero=f.formula_blank_as_zero,
                    result_kind=type_for_field(f).kind,
                )
            except FormulaError as exc:
                source = fields[f.name.lower()]
                log.add(
                    source.file or spec.file,
                    f"Field {obj.name}.{f.name}: {exc.located}",
                    line=source.line,
                    element="formula",
                    component=f"{obj.name}.{f.name}",
                )


# -- the deploy itself -------------------------------------------------------------


def default_handlers() -> list[DeployHandler]:
    return [CustomObjectHandler()]


def deploy_source(
    org: Org,
    source: str | Path | bytes,
    *,
    user_id: str,
    check_only: bool = False,
) -> DeployResult:
    """Deploy a folder, zip file or zip bytes; raises DeployError (and records it)."""
    result = run_deploy(org, source, user_id=user_id, check_only=check_only)
    if not result.success:
        raise DeployError(list(result.problems))
    return result


def run_deploy(
    org: Org,
    source: str | Path | bytes,
    *,
    user_id: str,
    check_only: bool = False,
) -> DeployResult:
    """Deploy and record the outcome; never raises for problems in the package."""
    started = org.clock.now()
    deploy_id = make_id(DEPLOY_KEY_PREFIX, org.db.reserve_block("deploy"))
    handlers: Sequence[DeployHandler] = org.deploy_handlers
    supported = frozenset(DEFAULT_SUPPORTED_TYPES).union(*(h.types for h in handlers))
    log = ProblemLog()
    components: list[DeployedComponent] = []
    skipped: list[str] = []
    try:
        pkg = read_package(
            source if isinstance(source, bytes) else Path(source),
            supported_types=supported,
            raise_errors=False,
        )
    except DeployError as exc:
        log.extend(list(exc.problems))
        pkg = None
    if pkg is not None:
        log.extend(list(pkg.problems))
        handled = frozenset().union(*(h.types for h in handlers))
        skipped = [u.describe() for u in pkg.unsupported]
        skipped += [
            f"{c.path}: {c.type} {c.full_name} is not supported by workroute yet"
            for c in pkg.components
            if c.type not in handled
        ]
        staged = [s for h in handlers if (s := h.stage(org, pkg, log)) is not None]
        if not log.problems and not check_only:
            snapshot = org.schema.snapshot()
            try:
                with org.db.write() as conn:
                    for s in staged:
                        components.extend(s.apply(org, conn))
                    _keep_files(org, conn, pkg, started)
            except BaseException:
                org.schema.restore(snapshot)
                org.store.forget_plans()
                raise
        elif not log.problems:
            components = [
                DeployedComponent(type=c.type, full_name=c.full_name, file=c.path)
                for c in pkg.components
                if c.type in handled
            ]
    result = DeployResult(
        id=deploy_id,
        success=not log.problems,
        check_only=check_only,
        created_at=started,
        completed_at=org.clock.now(),
        created_by_id=user_id,
        components=tuple(components),
        problems=tuple(log.problems),
        skipped=tuple(skipped),
    )
    _record(org, result)
    return result


def _keep_files(org: Org, conn: Connection, pkg: Package, now: datetime) -> None:
    """Keep what was deployed, so a retrieve gives the same XML back."""
    table = org.db.system["metadata_file"]
    for c in pkg.components:
        files = [(c.type, c.path, c.content)]
        if c.meta_content is not None:
            # A separate -meta.xml (EmailTemplate) is kept beside its body.
            files.append(
                (c.type + META_SUFFIX, c.meta_path or c.path + "-meta.xml", c.meta_content)
            )
        for kind, path, content in files:
            conn.execute(
                delete(table).where(table.c.type == kind, table.c.full_name == c.full_name)
            )
            conn.execute(
                insert(table).values(
                    type=kind, full_name=c.full_name, path=path, content=content, deployed_at=now
                )
            )


def deployed_components(org: Org, conn: Connection, type_: str) -> list[Component]:
    """The components of one type as last deployed (with their -meta.xml, if any)."""
    table = org.db.system["metadata_file"]
    rows = conn.execute(
        select(table.c.type, table.c.full_name, table.c.path, table.c.content).where(
            table.c.type.in_([type_, type_ + META_SUFFIX])
        )
    ).all()
    metas = {r.full_name: r for r in rows if r.type != type_}
    out = []
    for r in rows:
        if r.type != type_:
            continue
        meta = metas.get(r.full_name)
        out.append(
            Component(
                type=type_,
                full_name=r.full_name,
                path=r.path,
                content=bytes(r.content),
                meta_path=None if meta is None else meta.path,
                meta_content=None if meta is None else bytes(meta.content),
            )
        )
    return out


def _record(org: Org, result: DeployResult) -> None:
    table = org.db.system["deploy"]
    with org.db.write() as conn:
        conn.execute(
            insert(table).values(
                id=result.id,
                status=result.status,
                created_at=result.created_at,
                completed_at=result.completed_at,
                result=json.dumps(result.to_json()),
                created_by_id=result.created_by_id,
            )
        )


def deploy_status(org: Org, deploy_id: str) -> DeployResult:
    table = org.db.system["deploy"]
    with org.db.read() as conn:
        row = conn.execute(select(table.c.result).where(table.c.id == deploy_id)).first()
    if row is None:
        raise NotFoundError(f"no deployment with id {deploy_id}")
    return DeployResult.from_json(json.loads(row[0]))


def is_reference(t: FieldType) -> bool:
    return t is FieldType.REFERENCE
