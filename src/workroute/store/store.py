"""The store: the narrow port every engine part writes and reads records through.

Saves follow Salesforce's order of execution in one transaction: coerce and default,
before-save hooks, system validation (required, references, uniqueness), write,
after-save hooks, commit. Lists of records are the unit of work.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Executable, String, Table, bindparam, func, select, update

from workroute.kernel.clock import Clock
from workroute.kernel.errors import (
    DuplicateValueError,
    EntityIsDeletedError,
    FieldIntegrityError,
    InvalidCrossReferenceKeyError,
    InvalidFieldError,
    MalformedIdError,
    MultipleRecordsError,
    NotFoundError,
)
from workroute.kernel.ids import normalize_id
from workroute.lang.formula.checker import SchemaEnvironment
from workroute.lang.formula.compiler import FormulaCache
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.types import type_for_field
from workroute.lang.formula.values import FormulaEvaluationError
from workroute.schema.model import FieldDef, FieldType, ObjectDef
from workroute.schema.registry import SchemaRegistry
from workroute.store.hooks import Hook, Hooks, Operation, Record, SaveContext
from workroute.store.idalloc import IdAllocator
from workroute.store.plan import SavePlan
from workroute.store.sql.database import Database

MAX_HOOK_DEPTH = 16


class Store:
    """Records of every object, saved through the pipeline."""

    def __init__(
        self, *, db: Database, schema: SchemaRegistry, clock: Clock, hooks: Hooks | None = None
    ) -> None:
        self.db = db
        self.schema = schema
        self.clock = clock
        self.hooks = hooks or Hooks()
        self.ids = IdAllocator(db.reserve_block("id_block"))
        self._plans: dict[str, SavePlan] = {}
        # Compiled formulas by text and object; cleared whenever the schema changes.
        self.formulas = FormulaCache()
        self._depth = 0
        #: Per thread, the hook depths at which :meth:`trusted` was entered.
        self._local = threading.local()
        #: Statements built once per table (and shape), so a save does not build SQL.
        self._stmts: dict[tuple[object, ...], Executable] = {}
        #: Writes of records so far (see :meth:`resave`).
        self._writes = 0

    @contextmanager
    def trusted(self) -> Iterator[None]:
        """Saves made directly in this block are the engine's own rows, typed and
        consistent by construction (router writes): they skip coercion and the
        required, reference and uniqueness checks, but run every hook. Saves that
        those hooks make (a workflow field update, say) are checked as usual."""
        stack: list[int] = self._local.__dict__.setdefault("trusted", [])
        stack.append(self._depth)
        try:
            yield
        finally:
            stack.pop()

    def _is_trusted(self) -> bool:
        stack: list[int] | None = getattr(self._local, "trusted", None)
        return bool(stack) and stack[-1] == self._depth  # type: ignore[index]

    def stmt(self, key: tuple[object, ...], build: Callable[[], Executable]) -> Executable:
        """A statement built once for ``key`` (which names the table object it uses,
        so a changed table gets new statements)."""
        found = self._stmts.get(key)
        if found is None:
            if len(self._stmts) > 5_000:
                self._stmts.clear()
            found = self._stmts[key] = build()
        return found

    # -- schema ---------------------------------------------------------------

    def plan(self, obj: ObjectDef) -> SavePlan:
        plan = self._plans.get(obj.key)
        if plan is None or plan.obj is not obj:
            plan = SavePlan(obj)
            self._plans[obj.key] = plan
        return plan

    def forget_plans(self) -> None:
        self._plans.clear()
        self.formulas.clear()

    def table(self, obj: ObjectDef) -> Table:
        return self.db.table(obj)

    def apply_object(self, conn: Connection, obj: ObjectDef) -> ObjectDef:
        """Register ``obj`` (new or changed) and bring its table up to date, keeping rows."""
        obj = self.schema.put(obj)
        self.db.sync_object(conn, obj)
        self._plans.pop(obj.key, None)
        self.formulas.clear()
        return obj

    # -- writes ---------------------------------------------------------------

    def insert(
        self,
        object_name: str,
        records: Sequence[Mapping[str, object]],
        *,
        user_id: str,
        from_api: bool = False,
    ) -> list[str]:
        """Create records; returns their ids in input order. All or nothing."""
        obj = self.schema.get(object_name)
        plan = self.plan(obj)
        if not records:
            return []
        now = self.clock.now()
        trusted = self._is_trusted()
        rows: list[Record] = []
        givens: list[Record] = []
        for rec in records:
            given = (
                plan.trusted(rec)
                if trusted
                else plan.coerce(rec, inserting=True, from_api=from_api)
            )
            row = dict(plan.defaults)
            row.update(given)
            rows.append(row)
            givens.append(given)
        fresh = iter(self.ids.allocate(obj.key_prefix, sum(1 for r in rows if "Id" not in r)))
        ids = [str(r["Id"]) if "Id" in r else next(fresh) for r in rows]
        with self.db.write(savepoint=not trusted) as conn:
            for row, rid in zip(rows, ids, strict=True):
                row["Id"] = rid
                row["IsDeleted"] = False
                row["CreatedDate"] = row["LastModifiedDate"] = row["SystemModstamp"] = now
                row["CreatedById"] = row["LastModifiedById"] = user_id
                if plan.has_owner and row.get("OwnerId") is None:
                    row["OwnerId"] = user_id
            for f in plan.auto_numbers:
                first = self.db.next_sequence(conn, f"autonumber:{obj.name}.{f.name}", len(rows))
                for i, row in enumerate(rows):
                    row[f.name] = format_auto_number(f, first + i)
            if plan.formula_defaults:
                self._formula_defaults(plan, rows, givens, user_id, now)
            ctx = self._context(conn, obj, Operation.INSERT, rows, [None] * len(rows), user_id, now)
            self._run_hooks(ctx, before=True)
            if not trusted:
                for row in rows:
                    plan.check_required(row)
                self._check_references(conn, plan, rows, None)
                self._check_unique(conn, plan, rows, None)
            self.db.insert_rows(conn, self.table(obj), rows, plan.columns)
            self._writes += 1
            ctx.written = self._writes
            self._run_hooks(ctx, before=False)
        return ids

    def update(
        self,
        object_name: str,
        changes: Sequence[Mapping[str, object]],
        *,
        user_id: str,
        from_api: bool = False,
        standing_in_for: Collection[Hook] = (),
        current: Sequence[Record] | None = None,
    ) -> None:
        """Apply partial changes; each mapping holds ``Id`` and the fields to change.

        A trusted caller that does itself what some of the object's hooks would do (an
        engine writing its own records, with the values those hooks would set) names
        them in ``standing_in_for``: when no other hook has to see the save, the fields
        are written without reading the stored rows.

        ``current``: the whole stored rows of the changed records as the caller read
        them inside this write transaction, with nothing saved since; the update then
        need not read them again. (Rows read before the transaction began may be stale:
        another writer may have committed in between.)"""
        obj = self.schema.get(object_name)
        plan = self.plan(obj)
        if not changes:
            return
        coerced: list[tuple[str, Record]] = []
        seen: set[str] = set()
        trusted = self._is_trusted()
        if standing_in_for and not trusted:
            raise ValueError("only a trusted save may stand in for hooks")
        for change in changes:
            if trusted:
                rid = str(change["Id"])
                given = plan.trusted(change)
            else:
                rid = _id_of(change)
                given = plan.coerce(change, inserting=False, from_api=from_api)
            if rid in seen:
                raise DuplicateValueError(f"Duplicate id in list: {rid}", fields=["Id"])
            seen.add(rid)
            coerced.append((rid, given))
        now = self.clock.now()
        if trusted and not self.hooks.has_any(obj, besides=standing_in_for):
            self._update_unseen(plan, coerced, user_id, now)
            return
        held = (
            self._held_rows([rid for rid, _ in coerced], current) if current is not None else None
        )
        self._update(
            plan, coerced, user_id, now, trusted=trusted, savepoint=not trusted, stored=held
        )

    def resave(self, ctx: SaveContext, changes: Sequence[Mapping[str, object]]) -> None:
        """Update records that the save ``ctx`` has just written, from one of its
        after-save hooks: workflow field updates, which Salesforce's order of execution
        saves once more. A full update (values coerced and checked, before- and
        after-save hooks run), which joins that save's transaction, so that its
        failure fails the save; the records' stored versions are the rows the save
        wrote, unless something wrote since (then they are read again)."""
        if ctx.operation not in (Operation.INSERT, Operation.UPDATE):
            raise ValueError(f"a {ctx.operation.value} wrote no records to save again")
        plan = self.plan(ctx.obj)
        if not changes:
            return
        written = {str(r["Id"]): r for r in ctx.new}
        coerced: list[tuple[str, Record]] = []
        seen: set[str] = set()
        for change in changes:
            rid = str(change["Id"])
            if rid not in written:
                raise ValueError(f"{rid} is not a record of this save")
            if rid in seen:
                raise DuplicateValueError(f"Duplicate id in list: {rid}", fields=["Id"])
            seen.add(rid)
            coerced.append((rid, plan.coerce(change, inserting=False, from_api=False)))
        stored = [written[rid] for rid, _ in coerced] if ctx.written == self._writes else None
        now = self.clock.now()
        self._update(plan, coerced, ctx.user_id, now, trusted=False, savepoint=False, stored=stored)

    def _update(
        self,
        plan: SavePlan,
        coerced: list[tuple[str, Record]],
        user_id: str,
        now: datetime,
        *,
        trusted: bool,
        savepoint: bool,
        stored: list[Record] | None = None,
    ) -> None:
        obj = plan.obj
        with self.db.write(savepoint=savepoint) as conn:
            olds = stored or self._load_for_write(conn, obj, [rid for rid, _ in coerced])
            news: list[Record] = []
            for (_, given), old in zip(coerced, olds, strict=True):
                new = dict(old)
                new.update(given)
                new["LastModifiedDate"] = new["SystemModstamp"] = now
                new["LastModifiedById"] = user_id
                news.append(new)
            ctx = self._context(conn, obj, Operation.UPDATE, news, list(olds), user_id, now)
            self._run_hooks(ctx, before=True)
            if not trusted:
                for new in news:
                    plan.check_required(new)
                self._check_references(conn, plan, news, olds)
                self._check_unique(conn, plan, news, olds)
            ctx.changed = [_changed(n, o) for n, o in zip(news, olds, strict=True)]
            self._write_updates(conn, plan, news, ctx.changed)
            ctx.written = self._writes
            self._run_hooks(ctx, before=False)

    def delete(self, object_name: str, ids: Sequence[str], *, user_id: str) -> None:
        """Move records to the recycle bin (IsDeleted = true)."""
        self._set_deleted(object_name, ids, user_id=user_id, deleted=True)

    def undelete(self, object_name: str, ids: Sequence[str], *, user_id: str) -> None:
        self._set_deleted(object_name, ids, user_id=user_id, deleted=False)

    def upsert(
        self,
        object_name: str,
        external_field: str,
        records: Sequence[Mapping[str, object]],
        *,
        user_id: str,
        from_api: bool = False,
    ) -> list[tuple[str, bool]]:
        """Insert or update by an external id field; returns (id, created) per record."""
        obj = self.schema.get(object_name)
        plan = self.plan(obj)
        f = obj.field(external_field)
        if f is None or not (f.external_id or f.id_lookup or f.key == "id"):
            raise NotFoundError(
                f"Provided external ID field does not exist or is not accessible: {external_field}"
            )
        out: list[tuple[str, bool]] = []
        keys_seen: set[object] = set()
        with self.db.write():
            for rec in records:
                value = _get_ci(rec, f.name)
                if value is None:
                    raise InvalidFieldError(
                        f"{f.name} not specified in the upsert record", fields=[f.name]
                    )
                key = plan.fields[f.key].coerce(value)
                folded = key.lower() if isinstance(key, str) and not f.case_sensitive else key
                if folded in keys_seen:
                    raise DuplicateValueError(
                        f"Duplicate external id specified: {value}", fields=[f.name]
                    )
                keys_seen.add(folded)
                matches = self.select_ids(obj, f.name, key)
                body = {k: v for k, v in rec.items() if k.lower() != f.key or f.key != "id"}
                if len(matches) > 1:
                    raise MultipleRecordsError(
                        f"More than one record found for external id field {f.name}: {value}"
                    )
                if matches:
                    body = {k: v for k, v in body.items() if k.lower() != f.key}
                    self.update(
                        object_name,
                        [{**body, "Id": matches[0]}],
                        user_id=user_id,
                        from_api=from_api,
                    )
                    out.append((matches[0], False))
                else:
                    if f.key == "id":
                        raise NotFoundError(f"Provided Id does not exist: {value}")
                    new_id = self.insert(object_name, [body], user_id=user_id, from_api=from_api)
                    out.append((new_id[0], True))
        return out

    def formula_globals(self, paths: Iterable[str], user_id: str | None) -> dict[str, object]:
        """Values of $User, $Profile, $UserRole, $Organization and $System paths for a user."""
        wanted = set(paths)
        if not wanted:
            return {}
        users = self.get_many("User", [user_id]) if user_id else []
        user = users[0] if users else {}
        orgs = self.find("Organization")

        def first(object_name: str, record_id: object) -> Record:
            rows = self.get_many(object_name, [str(record_id)]) if record_id else []
            return rows[0] if rows else {}

        sources: dict[str, Record] = {
            "$user": user,
            "$organization": orgs[0] if orgs else {},
            "$profile": first("Profile", user.get("ProfileId")),
            "$userrole": first("UserRole", user.get("UserRoleId")),
        }
        out: dict[str, object] = {}
        for path in wanted:
            head, _, name = path.partition(".")
            if head.lower() == "$system" and name.lower() == "origindatetime":
                out[path] = datetime(1900, 1, 1, tzinfo=UTC)  # Salesforce's origin
            elif "." not in name:
                out[path] = sources.get(head.lower(), {}).get(name)
        return out

    def _formula_defaults(
        self,
        plan: SavePlan,
        rows: list[Record],
        given: list[Record],
        user_id: str,
        now: datetime,
    ) -> None:
        """Fill fields whose default value is a formula (TODAY(), $User.Email...)."""
        for f in plan.formula_defaults:
            compiled = self.formulas.get(
                f.default_formula or "",
                SchemaEnvironment(self.schema, plan.obj.name),
                result_kind=type_for_field(f).kind,
                result_scale=f.scale if f.type.is_number else None,
                result_length=f.length or None,
            )
            globals_ = self.formula_globals(compiled.global_paths, user_id)
            coerce = plan.fields[f.key].coerce
            for row, values in zip(rows, given, strict=True):
                if f.name in values:
                    continue
                try:
                    value = compiled.fn(EvalContext(row, now=now, globals=globals_))
                except FormulaEvaluationError:
                    value = None
                row[f.name] = None if value is None else coerce(value)

    # -- reads ----------------------------------------------------------------

    def get(
        self,
        object_name: str,
        record_id: str,
        fields: Iterable[str] | None = None,
        *,
        include_deleted: bool = False,
    ) -> Record:
        """One record; NOT_FOUND when it doesn't exist (or is deleted, unless asked)."""
        obj = self.schema.get(object_name)
        rid = normalize_id(record_id)
        rows = self.get_many(obj.name, [rid], fields, include_deleted=include_deleted)
        if not rows:
            raise NotFoundError("The requested resource does not exist")
        return rows[0]

    def get_many(
        self,
        object_name: str,
        ids: Sequence[str],
        fields: Iterable[str] | None = None,
        *,
        include_deleted: bool = False,
    ) -> list[Record]:
        obj = self.schema.get(object_name)
        table = self.table(obj)
        names = None if fields is None else tuple(fields)

        def build() -> Executable:
            stmt = select(*self._columns(obj, table, names)).where(
                table.c.Id.in_(bindparam("ids", expanding=True))
            )
            return stmt if include_deleted else stmt.where(table.c.IsDeleted.is_(False))

        with self.db.read() as conn:
            if names is None:  # whole rows: the driver-level reader
                rows = self.db.rows_by_id(conn, table, list(dict.fromkeys(ids)))
                if not include_deleted:
                    rows = [r for r in rows if not r["IsDeleted"]]
            else:
                stmt = self.stmt(("get_many", table, names, include_deleted), build)
                rows = [dict(r._mapping) for r in conn.execute(stmt, {"ids": list(ids)})]
        order = {rid: i for i, rid in enumerate(ids)}
        rows.sort(key=lambda r: order.get(str(r["Id"]), 0))
        return rows

    def select_ids(self, obj: ObjectDef, field: str, value: object) -> list[str]:
        table = self.table(obj)
        f = obj.field(field)
        assert f is not None
        col = table.c[f.name]
        cond = (
            func.lower(col) == value.lower()
            if isinstance(value, str) and f.type.is_text and not f.case_sensitive
            else col == value
        )
        stmt = select(table.c.Id).where(cond, table.c.IsDeleted.is_(False)).limit(2)
        with self.db.read() as conn:
            return [str(r[0]) for r in conn.execute(stmt)]

    def find(self, object_name: str, **equals: object) -> list[Record]:
        """Live records whose fields equal the given values (engine-side lookups)."""
        obj = self.schema.get(object_name)
        table = self.table(obj)
        if len(equals) == 1:
            [(name, value)] = equals.items()
            f = obj.field(name)
            if f is not None and isinstance(value, str):
                return self.find_in(obj.name, f.name, [value])  # on the driver
        if not equals:  # every live row: on the driver
            with self.db.read() as conn:
                return self.db.rows_where(conn, table, "IsDeleted", False)
        stmt = select(table).where(table.c.IsDeleted.is_(False))
        for name, value in equals.items():
            f = obj.field(name)
            if f is None:
                raise InvalidFieldError(f"No such column '{name}' on entity '{obj.name}'")
            stmt = stmt.where(table.c[f.name] == value)
        with self.db.read() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def find_in(
        self,
        object_name: str,
        field: str,
        values: Iterable[object],
        *,
        columns: Sequence[str] | None = None,
    ) -> list[Record]:
        """Live records whose ``field`` is one of ``values`` (one query per 500); with
        ``columns``, only those columns (and Id and IsDeleted) of each, for a caller that
        looks at few of them."""
        obj = self.schema.get(object_name)
        f = obj.field(field)
        if f is None:
            raise InvalidFieldError(f"No such column '{field}' on entity '{obj.name}'")
        table = self.table(obj)
        wanted = list(dict.fromkeys(values))
        cols = None if columns is None else tuple(dict.fromkeys(("Id", "IsDeleted", *columns)))
        if isinstance(table.c[f.name].type, String) and all(isinstance(v, str) for v in wanted):
            # Ids and names, the common case: on the driver (bulk.RowReader), as the
            # values need no conversion.
            with self.db.read() as conn:
                rows = self.db.rows_where_in(conn, table, f.name, wanted, cols)
            return [r for r in rows if not r["IsDeleted"]]
        picked: list[Any] = [table.c[c] for c in cols] if cols else [table]
        stmt = self.stmt(
            ("find_in", table, f.name, cols),
            lambda: select(*picked).where(
                table.c.IsDeleted.is_(False),
                table.c[f.name].in_(bindparam("values", expanding=True)),
            ),
        )
        out: list[Record] = []
        with self.db.read() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                out.extend(dict(r._mapping) for r in conn.execute(stmt, {"values": chunk}))
        return out

    def count(self, object_name: str) -> int:
        obj = self.schema.get(object_name)
        table = self.table(obj)
        with self.db.read() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(table).where(table.c.IsDeleted.is_(False))
                ).scalar_one()
            )

    # -- internals ------------------------------------------------------------

    def _context(
        self,
        conn: Connection,
        obj: ObjectDef,
        op: Operation,
        new: list[Record],
        old: list[Record | None],
        user_id: str,
        now: datetime,
    ) -> SaveContext:
        return SaveContext(
            obj=obj,
            operation=op,
            new=new,
            old=old,
            user_id=user_id,
            now=now,
            conn=conn,
            store=self,
            depth=self._depth,
        )

    def _run_hooks(self, ctx: SaveContext, *, before: bool) -> None:
        hooks = self.hooks.for_save(ctx.obj, before=before)
        if not hooks:
            return
        if self._depth >= MAX_HOOK_DEPTH:
            raise RecursionError("save hooks nested too deeply")
        self._depth += 1
        try:
            for hook in hooks:
                hook(ctx)
        finally:
            self._depth -= 1

    def _columns(self, obj: ObjectDef, table: Table, fields: Iterable[str] | None) -> list[Any]:
        if fields is None:
            return list(table.columns)
        cols: list[Any] = [table.c.Id]
        for name in fields:
            f = obj.field(name.strip())
            if f is None:
                raise InvalidFieldError(
                    f"No such column '{name.strip()}' on sobject of type {obj.name}",
                    fields=[name.strip()],
                )
            if f.calculated or f.name == "Id":
                continue
            cols.append(table.c[f.name])
        return cols

    def _load_for_write(self, conn: Connection, obj: ObjectDef, ids: list[str]) -> list[Record]:
        found = {str(r["Id"]): r for r in self.db.rows_by_id(conn, self.table(obj), ids)}
        out = []
        for rid in ids:
            row = found.get(rid)
            if row is None:
                raise NotFoundError(f"entity not found: {rid}")
            if row["IsDeleted"]:
                raise EntityIsDeletedError(f"entity is deleted: {rid}")
            out.append(row)
        return out

    @staticmethod
    def _held_rows(ids: list[str], current: Sequence[Record]) -> list[Record] | None:
        """The stored rows of ``ids`` among ``current`` (None: some are not there, or
        deleted, and the update reads them as usual)."""
        by_id = {str(r.get("Id")): r for r in current}
        rows = [by_id.get(rid) for rid in ids]
        if any(r is None or r.get("IsDeleted") for r in rows):
            return None
        return rows  # type: ignore[return-value]

    def _update_unseen(
        self, plan: SavePlan, coerced: list[tuple[str, Record]], user_id: str, now: datetime
    ) -> None:
        """A trusted update no hook has to see: the given fields are written as they
        are, without reading the stored rows first (only hooks and checks need them).
        An id that matches no row fails the update, as the read would have."""
        audit = {"LastModifiedDate": now, "SystemModstamp": now, "LastModifiedById": user_id}
        # The engine's rows of one save mostly name the same fields: one group each.
        groups: dict[tuple[str, ...], list[Record]] = defaultdict(list)
        for rid, given in coerced:  # each ``given`` is this save's own copy
            key = tuple(given)
            given.update(audit)
            given["Id"] = rid
            groups[key].append(given)
        table = self.table(plan.obj)
        with self.db.write(savepoint=False) as conn:
            self._writes += 1
            matched = 0
            for news in groups.values():
                cols = plan.columns_among(frozenset(news[0]))
                matched += self.db.update_rows(conn, table, cols, news)
            if matched < len(coerced):
                ids = [rid for rid, _ in coerced]
                found = {str(r["Id"]) for r in self.db.rows_by_id(conn, self.table(plan.obj), ids)}
                missing = next(rid for rid in ids if rid not in found)
                raise NotFoundError(f"entity not found: {missing}")

    def _write_updates(
        self,
        conn: Connection,
        plan: SavePlan,
        news: list[Record],
        changed: Sequence[frozenset[str]],
    ) -> int:
        """Write each row's changed columns; returns the rows the database matched."""
        self._writes += 1
        table = self.table(plan.obj)
        groups: dict[tuple[str, ...], list[dict[str, object]]] = defaultdict(list)
        for new, names in zip(news, changed, strict=True):
            groups[plan.columns_among(names)].append(new)
        matched = 0
        for cols, params in groups.items():
            if cols:
                matched += self.db.update_rows(conn, table, cols, params)
            else:
                matched += len(params)  # nothing to write: the rows were read, so they exist
        return matched

    def _set_deleted(
        self, object_name: str, ids: Sequence[str], *, user_id: str, deleted: bool
    ) -> None:
        obj = self.schema.get(object_name)
        norm = [normalize_id(i) for i in ids]
        table = self.table(obj)
        now = self.clock.now()
        with self.db.write() as conn:
            rows = {
                str(r._mapping["Id"]): dict(r._mapping)
                for r in conn.execute(select(table).where(table.c.Id.in_(norm)))
            }
            olds: list[Record | None] = []
            for rid in norm:
                row = rows.get(rid)
                if row is None:
                    raise NotFoundError(f"entity not found: {rid}")
                if bool(row["IsDeleted"]) == deleted:
                    if deleted:
                        raise EntityIsDeletedError(f"entity is deleted: {rid}")
                    raise InvalidFieldError(f"entity is not in the recycle bin: {rid}")
                olds.append(row)
            news = [{**o, "IsDeleted": deleted, "SystemModstamp": now} for o in olds if o]
            op = Operation.DELETE if deleted else Operation.UNDELETE
            ctx = self._context(conn, obj, op, news, olds, user_id, now)
            self._run_hooks(ctx, before=True)
            conn.execute(
                update(table)
                .where(table.c.Id.in_(norm))
                .values(IsDeleted=deleted, SystemModstamp=now)
            )
            self._writes += 1
            self._run_hooks(ctx, before=False)

    def _check_references(
        self,
        conn: Connection,
        plan: SavePlan,
        rows: Sequence[Record],
        olds: Sequence[Record] | None,
    ) -> None:
        wanted: dict[str, dict[str, FieldDef]] = defaultdict(dict)
        for i, row in enumerate(rows):
            for f in plan.references:
                value = row.get(f.name)
                if value is None or (olds is not None and olds[i].get(f.name) == value):
                    continue
                rid = str(value)
                target = self.schema.by_prefix(rid[:3])
                if target is None or (
                    f.reference_to and target.name not in f.reference_to and not _poly_ok(f, target)
                ):
                    raise MalformedIdError(
                        f"{f.label or f.name}: id value of incorrect type: {rid}", fields=[f.name]
                    )
                wanted[target.key][rid] = f
        for key, refs in wanted.items():
            target = self.schema.get(key)
            table = self.table(target)
            found = self.db.live_ids(conn, table, list(refs))
            for rid, f in refs.items():
                if rid not in found:
                    raise InvalidCrossReferenceKeyError(
                        f"invalid cross reference id: {f.name} = {rid}", fields=[f.name]
                    )
            if target.key == "group":
                self._check_group_owners(conn, table, refs)

    @staticmethod
    def _check_group_owners(conn: Connection, table: Table, refs: dict[str, FieldDef]) -> None:
        """A group can own records only when it is a queue (Salesforce's rule)."""
        owned = [rid for rid, f in refs.items() if f.key == "ownerid"]
        if not owned:
            return
        rows = conn.execute(select(table.c.Id, table.c.Type).where(table.c.Id.in_(owned)))
        for rid, kind in rows:
            if kind != "Queue":
                raise FieldIntegrityError(
                    f"Owner ID: owner cannot be a group that is not a queue: {rid}",
                    fields=["OwnerId"],
                )

    def _check_unique(
        self,
        conn: Connection,
        plan: SavePlan,
        rows: Sequence[Record],
        olds: Sequence[Record] | None,
    ) -> None:
        table = self.table(plan.obj)
        for f in plan.unique:
            fold = f.type.is_text and not f.case_sensitive

            def norm(v: object, fold: bool = fold) -> object:
                return v.lower() if fold and isinstance(v, str) else v

            seen: dict[object, str] = {}
            for i, row in enumerate(rows):
                value = row.get(f.name)
                if value is None or (olds is not None and olds[i].get(f.name) == value):
                    continue
                key = norm(value)
                if key in seen:
                    raise DuplicateValueError(
                        f"duplicate value found: {f.name} duplicates value on record with id: "
                        f"{seen[key]}",
                        fields=[f.name],
                    )
                seen[key] = str(row["Id"])
            if not seen:
                continue
            col = func.lower(table.c[f.name]) if fold else table.c[f.name]
            keys = list(seen)
            for start in range(0, len(keys), 500):
                stmt = select(table.c.Id, col.label("v")).where(
                    col.in_(keys[start : start + 500]), table.c.IsDeleted.is_(False)
                )
                for r in conn.execute(stmt):
                    if str(r[0]) != seen.get(r[1]):
                        raise DuplicateValueError(
                            f"duplicate value found: {f.name} duplicates value on record with "
                            f"id: {r[0]}",
                            fields=[f.name],
                        )


def format_auto_number(f: FieldDef, n: int) -> str:
    """Render an autonumber with its display format, e.g. 'CASE-{0000}' -> 'CASE-0042'."""
    fmt = f.display_format or "{00000000}"
    start = fmt.find("{0")
    end = fmt.find("}", start)
    if start < 0 or end < 0:
        return f"{fmt}{n}"
    width = end - start - 1
    return fmt[:start] + str(n).zfill(width) + fmt[end + 1 :]


def _poly_ok(f: FieldDef, target: ObjectDef) -> bool:
    # Polymorphic "what" references also take custom objects (Task.WhatId, WorkItemId).
    return target.custom and f.polymorphic


def _changed(new: Record, old: Record | None) -> frozenset[str]:
    if old is None:
        return frozenset(new)
    get = old.get
    # ``new`` starts as a copy of ``old``: most values are the very same objects, so
    # the identity test settles them before any comparison.
    return frozenset([k for k, v in new.items() if v is not get(k) and v != get(k)])


def _get_ci(rec: Mapping[str, object], name: str) -> object:
    low = name.lower()
    for k, v in rec.items():
        if k.lower() == low:
            return v
    return None


def _id_of(change: Mapping[str, object]) -> str:
    keys = [k for k in change if k.lower() == "id"]
    if len(keys) > 1:
        # {"Id": a, "id": b} must never let one spelling redirect the write.
        raise InvalidFieldError("the record names its Id more than once", fields=["Id"])
    rid = change[keys[0]] if keys else None
    if rid is None:
        raise MalformedIdError("Id not specified in an update call", fields=["Id"])
    return normalize_id(rid)


def is_reference(f: FieldDef) -> bool:
    return f.type is FieldType.REFERENCE
