"""SOQL execution: a parsed query compiled to one SQL SELECT over the object tables.

Salesforce semantics kept here, not in SQL's defaults:
- text comparisons (=, !=, <, >, LIKE, IN) are case-insensitive;
- ``!=`` and ``NOT IN`` also match null values (SQL's three-valued logic would not);
- parent paths (``Owner.Name``) become LEFT OUTER JOINs; a polymorphic relationship
  joins every target table and takes the first non-null value;
- date literals resolve against the store's clock, in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    case,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql.selectable import FromClause

from workroute.kernel.errors import (
    InvalidFieldError,
    InvalidQueryFilterOperatorError,
    InvalidTypeError,
    MalformedIdError,
    MalformedQueryError,
    NotFoundError,
    WorkrouteError,
)
from workroute.kernel.ids import normalize_id
from workroute.lang.formula.checker import SchemaEnvironment
from workroute.lang.formula.compiler import CompiledFormula
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.errors import FormulaError
from workroute.lang.formula.types import type_for_field
from workroute.lang.formula.values import FormulaEvaluationError
from workroute.lang.soql import date_literal_bounds, parse_soql
from workroute.lang.soql.ast import (
    Aggregate,
    And,
    BooleanValue,
    Comparison,
    Condition,
    DateLiteral,
    DateTimeValue,
    DateValue,
    FieldPath,
    FieldsFunction,
    Includes,
    InList,
    Not,
    NullValue,
    NumberValue,
    Or,
    Query,
    StringValue,
    Value,
)
from workroute.schema.model import FieldDef, FieldType, ObjectDef
from workroute.store.store import Store
from workroute.store.values import to_json

FIELDS_ALL_LIMIT = 200
MAX_FORMULA_DEPTH = 10


@dataclass(frozen=True, slots=True)
class _Hop:
    """One relationship step: the foreign key and the joined target tables."""

    key: tuple[str, ...]  # canonical relationship names from the root
    fk: ColumnElement[Any]
    targets: tuple[tuple[ObjectDef, FromClause], ...]


@dataclass(frozen=True, slots=True)
class _OutColumn:
    """A selected value and where it goes in the nested output record."""

    label: str
    rels: tuple[str, ...]  # canonical relationship names
    name: str  # canonical field name
    field: FieldDef
    expr: ColumnElement[Any]


@dataclass(frozen=True, slots=True)
class _FormulaColumn:
    """A formula field: computed per row from hidden input columns and globals."""

    label: str
    compiled: CompiledFormula
    inputs: tuple[tuple[str, str, str], ...]  # (source, binding key, input column label)


@dataclass
class CompiledQuery:
    text: str
    ast: Query
    obj: ObjectDef
    table: Table
    columns: list[_OutColumn] = field(default_factory=list)
    hops: dict[tuple[str, ...], _Hop] = field(default_factory=dict)
    where: ColumnElement[bool] | None = None
    order: list[Any] = field(default_factory=list)
    group_order: list[Any] = field(default_factory=list)  # ORDER BY of an aggregate query
    aggregates: list[tuple[str, ColumnElement[Any]]] = field(default_factory=list)
    group_by: list[_OutColumn] = field(default_factory=list)
    include_deleted: bool = False
    hidden: list[_OutColumn] = field(default_factory=list)  # formula inputs
    # Record-level sharing: only records owned by these ids (None: no limit).
    owner_filter: frozenset[str] | None = None
    formulas: list[_FormulaColumn] = field(default_factory=list)  # dependencies first

    @property
    def count_only(self) -> bool:
        return self.ast.count_only

    @property
    def is_aggregate(self) -> bool:
        """Aggregate functions or GROUP BY (which alone lists distinct values)."""
        return bool(self.aggregates or self.group_by) and not self.count_only

    def from_clause(self) -> FromClause:
        joined: FromClause = self.table
        for hop in self.hops.values():
            for _obj, alias in hop.targets:
                joined = joined.outerjoin(alias, hop.fk == alias.c.Id)
        return joined

    def base_where(self) -> ColumnElement[bool]:
        live: ColumnElement[bool] = (
            true() if self.include_deleted else self.table.c.IsDeleted.is_(False)
        )
        if self.owner_filter is not None:
            live = and_(live, self.table.c.OwnerId.in_(sorted(self.owner_filter)))
        return live if self.where is None else and_(live, self.where)


class SoqlEngine:
    """Compiles and runs SOQL against a store."""

    def __init__(self, store: Store, *, user_id: str | None = None) -> None:
        self.store = store
        self.user_id = user_id

    def compile(self, text: str, *, include_deleted: bool = False) -> CompiledQuery:
        ast = parse_soql(text)
        return _Compiler(self.store, text, ast, include_deleted).run()

    def retrieve(
        self,
        object_name: str,
        record_id: str,
        fields: Sequence[str] | None,
        *,
        base: str,
        owner_filter: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """One record in REST form, formula fields computed; NOT_FOUND if it isn't there.

        ``fields`` None means every field. The query is built as a tree, not as text.
        """
        obj = self.store.schema.get(object_name)
        names = [f.name for f in obj.fields] if fields is None else [n.strip() for n in fields]
        for name in names:
            if obj.field(name) is None:
                raise InvalidFieldError(
                    f"No such column '{name}' on sobject of type {obj.name}", fields=[name]
                )
        ast = Query(
            select=tuple(FieldPath(parts=(n,)) for n in names),
            from_=obj.name,
            where=Comparison(
                field=FieldPath(parts=("Id",)), op="=", value=StringValue(value=record_id)
            ),
        )
        q = _Compiler(self.store, "", ast, False).run()
        q.owner_filter = owner_filter
        rows = self.fetch(q, offset=0, limit=1, base=base)
        if not rows:
            raise NotFoundError("The requested resource does not exist")
        return rows[0]

    def count(self, q: CompiledQuery) -> int:
        stmt = select(func.count()).select_from(q.from_clause()).where(q.base_where())
        with self.store.db.read() as conn:
            total = int(conn.execute(stmt).scalar_one())
        total = max(0, total - (q.ast.offset or 0))
        return total if q.ast.limit is None else min(total, q.ast.limit)

    def fetch(
        self, q: CompiledQuery, *, offset: int, limit: int, base: str
    ) -> list[dict[str, Any]]:
        """Rows ``offset``..``offset+limit`` of the query's result, as REST records."""
        start = (q.ast.offset or 0) + offset
        if q.ast.limit is not None:
            limit = max(0, min(limit, q.ast.limit - offset))
        hop_cols = [hop.fk.label(f"__fk{i}") for i, hop in enumerate(q.hops.values())]
        stmt: Select[Any] = (
            select(
                *[c.expr.label(c.label) for c in q.columns],
                *[c.expr.label(c.label) for c in q.hidden],
                *hop_cols,
            )
            .select_from(q.from_clause())
            .where(q.base_where())
            .order_by(*q.order)
            .offset(start)
            .limit(limit)
        )
        with self.store.db.read() as conn:
            rows = list(conn.execute(stmt))
        if q.formulas:
            now = self.store.clock.now()
            globals_ = self._globals(q)
            return [
                self._shape(q, self._computed(q, row._mapping, now, globals_), base) for row in rows
            ]
        return [self._shape(q, row._mapping, base) for row in rows]

    @staticmethod
    def _computed(
        q: CompiledQuery, m: Any, now: datetime, globals_: dict[str, Any]
    ) -> dict[str, Any]:
        """The row with each formula field's value filled in, inner formulas first."""
        values = dict(m)
        for fc in q.formulas:
            record: dict[str, Any] = {}
            related: dict[str, Any] = {}
            for source, key, label in fc.inputs:
                (record if source == "record" else related)[key] = values.get(label)
            ctx = EvalContext(record, now=now, related=related, globals=globals_)
            try:
                values[fc.label] = fc.compiled.fn(ctx)
            except FormulaEvaluationError:
                values[fc.label] = None  # Salesforce shows #Error!; the API gives null
        return values

    def _globals(self, q: CompiledQuery) -> dict[str, Any]:
        """$User, $Profile, $UserRole, $Organization and $System values the formulas use."""
        wanted = {p for fc in q.formulas for p in fc.compiled.global_paths}
        return self.store.formula_globals(wanted, self.user_id)

    def records(self, text: str, *, base: str = "") -> list[dict[str, Any]]:
        """Every record of a query (engine-side use; no paging)."""
        q = self.compile(text)
        return self.fetch(q, offset=0, limit=q.ast.limit or 10**9, base=base)

    def aggregate(self, q: CompiledQuery, *, base: str) -> dict[str, Any]:
        stmt: Select[Any] = (
            select(
                *[c.expr.label(c.label) for c in q.group_by],
                *[e.label(name) for name, e in q.aggregates],
            )
            .select_from(q.from_clause())
            .where(q.base_where())
        )
        if q.group_by:
            stmt = stmt.group_by(*[c.expr for c in q.group_by])
        if q.group_order:
            stmt = stmt.order_by(*q.group_order)
        if q.ast.offset:
            stmt = stmt.offset(q.ast.offset)
        if q.ast.limit is not None:
            stmt = stmt.limit(q.ast.limit)
        with self.store.db.read() as conn:
            rows = list(conn.execute(stmt))
        records = []
        for row in rows:
            m = row._mapping
            rec: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
            for c in q.group_by:
                rec[c.name] = to_json(m[c.label])
            for name, _ in q.aggregates:
                value = m[name]
                rec[name] = float(value) if isinstance(value, Decimal) else to_json(value)
            records.append(rec)
        return {"totalSize": len(records), "done": True, "records": records}

    def _shape(self, q: CompiledQuery, m: Any, base: str) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": _attributes(q.obj.name, m.get("c0_id"), base)}
        fks = {hop.key: m[f"__fk{i}"] for i, hop in enumerate(q.hops.values())}
        for c in q.columns:
            node = out
            alive = True
            for depth in range(1, len(c.rels) + 1):
                key = c.rels[:depth]
                fk = fks[key]
                name = c.rels[depth - 1]
                if fk is None:
                    node[name] = None
                    alive = False
                    break
                child = node.get(name)
                if child is None:
                    target = self.store.schema.object_for_id(str(fk))
                    child = node[name] = {
                        "attributes": _attributes(target.name if target else "Name", fk, base)
                    }
                node = child
            if alive:
                node[c.name] = to_json(m[c.label])
        return out


def _attributes(type_name: str, rid: object, base: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {"type": type_name}
    if rid:
        attrs["url"] = f"{base}/sobjects/{type_name}/{rid}"
    return attrs


class _Compiler:
    def __init__(self, store: Store, text: str, ast: Query, include_deleted: bool) -> None:
        self.store = store
        self.text = text
        self.ast = ast
        obj = store.schema.find(ast.from_)
        if obj is None:
            raise self._located(
                InvalidTypeError,
                f"sObject type '{ast.from_}' is not supported.",
                ast.from_line,
                ast.from_column,
            )
        self.q = CompiledQuery(
            text=text, ast=ast, obj=obj, table=store.table(obj), include_deleted=include_deleted
        )
        self.today = store.clock.now().astimezone(UTC).date()
        self._formula_depth = 0
        self._hidden_count = 0

    def run(self) -> CompiledQuery:
        ast, q = self.ast, self.q
        q.columns.append(self._column(FieldPath(parts=("Id",)), "c0_id"))
        seen: set[tuple[str, ...]] = {("id",)}
        selected: list[tuple[FieldPath, _OutColumn]] = []
        for item in ast.select:
            if isinstance(item, FieldPath):
                key = tuple(p.lower() for p in item.parts)
                if key not in seen:
                    seen.add(key)
                    q.columns.append(self._column(item, f"c{len(q.columns)}"))
                    selected.append((item, q.columns[-1]))
            elif isinstance(item, FieldsFunction):
                if item.kind != "STANDARD" and (ast.limit is None or ast.limit > FIELDS_ALL_LIMIT):
                    raise self._located(
                        MalformedQueryError,
                        f"The SOQL FIELDS function must have a LIMIT of at most {FIELDS_ALL_LIMIT}",
                        item.line,
                        item.column,
                    )
                for f in q.obj.fields:
                    wanted = item.kind == "ALL" or (item.kind == "CUSTOM") == f.custom
                    if wanted and (f.key,) not in seen:
                        seen.add((f.key,))
                        path = FieldPath(parts=(f.name,), line=item.line, column=item.column)
                        q.columns.append(self._column(path, f"c{len(q.columns)}"))
                        selected.append((path, q.columns[-1]))
            else:
                self._aggregate(item)
        for g in ast.group_by:
            group_column = self._column(g, f"g{len(q.group_by)}")
            self._no_formula(group_column, g, "GROUP BY")
            q.group_by.append(group_column)
        grouping = bool(q.aggregates or q.group_by) and not ast.count_only
        grouped = {_same_field(c) for c in q.group_by}
        if grouping:
            for path, col in selected:
                if _same_field(col) not in grouped:
                    raise self._located(
                        MalformedQueryError,
                        f"Field must be grouped or aggregated: {path.dotted}",
                        path.line,
                        path.column,
                    )
            q.columns = q.columns[:1]
        if ast.where is not None:
            q.where = self._condition(ast.where)
        for o in ast.order_by:
            col = self._column(o.field, "o")
            self._no_formula(col, o.field, "ORDER BY")
            if grouping and _same_field(col) not in grouped:
                raise self._located(
                    MalformedQueryError,
                    f"Ordered field must be grouped or aggregated: {o.field.dotted}",
                    o.field.line,
                    o.field.column,
                )
            for expr in _sort_keys(col):
                expr = expr.desc() if o.descending else expr.asc()
                expr = expr.nulls_first() if o.nulls_first else expr.nulls_last()
                (q.group_order if grouping else q.order).append(expr)
        q.order.append(q.table.c.Id.asc())
        return q

    # -- fields -----------------------------------------------------------------

    def _located(
        self, cls: type[WorkrouteError], message: str, line: int, column: int
    ) -> WorkrouteError:
        lines = self.text.splitlines() or [""]
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        pointer = " " * max(column - 1, 0) + "^"
        full = f"\n{src}\n{pointer}\nERROR at Row:{line}:Column:{column}\n{message}"
        return cls(full)

    def _column(self, path: FieldPath, label: str) -> _OutColumn:
        obj = self.q.obj
        table: FromClause = self.q.table
        rels: list[str] = []
        targets: tuple[tuple[ObjectDef, FromClause], ...] = ((obj, table),)
        for part in path.parts[:-1]:
            ref = None
            for o, _ in targets:
                ref = o.relationship(part)
                if ref is not None:
                    break
            if ref is None or (len(targets) > 1 and ref.polymorphic):
                raise self._located(
                    InvalidFieldError,
                    f"Didn't understand relationship '{part}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' "
                    "after the custom relationship name.",
                    path.line,
                    path.column,
                )
            fk = self._first_of(targets, ref.name)
            rels.append(ref.relationship_name or part)
            key = tuple(rels)
            hop = self.q.hops.get(key)
            if hop is None:
                objs = [self.store.schema.find(t) for t in ref.reference_to]
                joined = tuple(
                    (o, self.store.table(o).alias(f"j{len(self.q.hops)}_{i}"))
                    for i, o in enumerate(x for x in objs if x is not None)
                )
                hop = _Hop(key=key, fk=fk, targets=joined)
                self.q.hops[key] = hop
            targets = hop.targets
        name = path.parts[-1]
        found = [(o, t, o.field(name)) for o, t in targets if o.field(name) is not None]
        if not found:
            where = targets[0][0].name if len(targets) == 1 else "Name"
            raise self._located(
                InvalidFieldError,
                f"No such column '{name}' on entity '{where}'. If you are attempting to use a "
                "custom field, be sure to append the '__c' after the custom field name.",
                path.line,
                path.column,
            )
        f = found[0][2]
        assert f is not None
        if f.calculated:
            expr: ColumnElement[Any] = null()
            owner = found[0][0]
            self._formula(owner, f, tuple(path.parts[:-1]), label, path)
        else:
            exprs = [t.c[fd.name] for _o, t, fd in found if fd is not None]
            expr = exprs[0] if len(exprs) == 1 else func.coalesce(*exprs)
        return _OutColumn(label=label, rels=tuple(rels), name=f.name, field=f, expr=expr)

    def _formula(
        self, obj: ObjectDef, f: FieldDef, rels: tuple[str, ...], label: str, path: FieldPath
    ) -> None:
        """Plan a formula field: its inputs become hidden columns of the same SELECT,
        so relationship paths are resolved by joins for the whole page at once."""
        self._formula_depth += 1
        if self._formula_depth > MAX_FORMULA_DEPTH:
            raise self._located(
                InvalidFieldError,
                f"formula fields nest too deeply at {f.name}",
                path.line,
                path.column,
            )
        try:
            compiled = self.store.formulas.get(
                f.formula or "",
                SchemaEnvironment(self.store.schema, obj.name),
                blank_as_zero=f.formula_blank_as_zero,
                result_kind=type_for_field(f).kind,
                result_scale=f.scale if f.type.is_number else None,
                result_length=f.length or None,
            )
        except FormulaError as exc:
            raise self._located(
                InvalidFieldError,
                f"formula field {obj.name}.{f.name} is invalid: {exc.message}",
                path.line,
                path.column,
            ) from exc
        inputs = []
        for key, binding in compiled.bindings.items():
            if binding.source == "global":
                continue
            self._hidden_count += 1
            hidden = f"h{self._hidden_count}"
            parts = (*rels, *key.split("."))
            column = self._column(
                FieldPath(parts=parts, line=path.line, column=path.column), hidden
            )
            self.q.hidden.append(column)
            inputs.append((binding.source, key, hidden))
        self.q.formulas.append(_FormulaColumn(label=label, compiled=compiled, inputs=tuple(inputs)))
        self._formula_depth -= 1

    def _no_formula(self, col: _OutColumn, path: FieldPath, clause: str) -> None:
        if col.field.calculated:
            raise self._located(
                InvalidFieldError,
                f"formula field {col.name} cannot be used in {clause} (not supported by "
                "workroute yet)",
                path.line,
                path.column,
            )

    @staticmethod
    def _first_of(
        targets: tuple[tuple[ObjectDef, FromClause], ...], name: str
    ) -> ColumnElement[Any]:
        cols = [t.c[name] for o, t in targets if o.field(name) is not None]
        return cols[0] if len(cols) == 1 else func.coalesce(*cols)

    def _aggregate(self, item: Aggregate) -> None:
        # Salesforce numbers only the unaliased aggregates: expr0, expr1...
        unaliased = sum(1 for n, _ in self.q.aggregates if n.startswith("expr"))
        name = item.alias or f"expr{unaliased}"
        if item.field is None:
            self.q.aggregates.append((name, func.count()))
            return
        col = self._column(item.field, "a")
        self._no_formula(col, item.field, "an aggregate function")
        fns: dict[str, Any] = {
            "COUNT": func.count,
            "MIN": func.min,
            "MAX": func.max,
            "SUM": func.sum,
            "AVG": func.avg,
        }
        fn = fns.get(item.func)
        if item.func in ("SUM", "AVG") and not col.field.type.is_number:
            raise self._located(
                MalformedQueryError,
                f"Invalid field {item.field.dotted} for {item.func} function",
                item.line,
                item.column,
            )
        expr = func.count(col.expr.distinct()) if fn is None else fn(col.expr)
        self.q.aggregates.append((name, expr))

    # -- conditions -------------------------------------------------------------

    def _condition(self, c: Condition) -> ColumnElement[bool]:
        if isinstance(c, And):
            return and_(*[self._condition(i) for i in c.items])
        if isinstance(c, Or):
            return or_(*[self._condition(i) for i in c.items])
        if isinstance(c, Not):
            return not_(self._condition(c.item))
        if isinstance(c, Includes):
            return self._includes(c)
        if isinstance(c, InList):
            return self._in_list(c)
        return self._comparison(c)

    def _comparison(self, c: Comparison) -> ColumnElement[bool]:
        col = self._column(c.field, "w")
        self._no_formula(col, c.field, "WHERE")
        f, expr = col.field, col.expr
        if isinstance(c.value, NullValue):
            return expr.is_(None) if c.op == "=" else expr.is_not(None)
        if isinstance(c.value, DateLiteral):
            return self._date_literal(c, f, expr)
        value = self._value(f, c.value, c.field)
        if c.op == "LIKE":
            if not f.type.is_text and f.type not in (FieldType.ID, FieldType.REFERENCE):
                raise self._bad_operator(c.field, f"invalid operator on {f.type.value} field")
            return func.lower(expr).like(str(value).lower(), escape="\\")
        if f.type.is_text and isinstance(value, str):
            expr, value = func.lower(expr), value.lower()
        ops: dict[str, Any] = {
            "=": expr.__eq__,
            "!=": expr.__ne__,
            "<": expr.__lt__,
            "<=": expr.__le__,
            ">": expr.__gt__,
            ">=": expr.__ge__,
        }
        result: ColumnElement[bool] = ops[c.op](value)
        if c.op == "!=":
            result = or_(result, col.expr.is_(None))
        return result

    def _in_list(self, c: InList) -> ColumnElement[bool]:
        col = self._column(c.field, "w")
        self._no_formula(col, c.field, "WHERE")
        f, expr = col.field, col.expr
        values = [v for v in c.values if not isinstance(v, NullValue)]
        has_null = len(values) != len(c.values)
        coerced = [self._value(f, v, c.field) for v in values]
        if f.type.is_text:
            expr = func.lower(expr)
            coerced = [v.lower() if isinstance(v, str) else v for v in coerced]
        inside: ColumnElement[bool] = expr.in_(coerced) if coerced else false()
        if has_null:
            inside = or_(inside, col.expr.is_(None))
        if not c.negated:
            return inside
        outside = not_(inside)
        return outside if has_null else or_(outside, col.expr.is_(None))

    def _includes(self, c: Includes) -> ColumnElement[bool]:
        col = self._column(c.field, "w")
        self._no_formula(col, c.field, "WHERE")
        if col.field.type is not FieldType.MULTIPICKLIST:
            raise self._bad_operator(
                c.field, "INCLUDES and EXCLUDES only apply to multi-select picklist fields"
            )
        wrapped = func.lower(literal(";") + col.expr + literal(";"))
        alternatives = [
            and_(*[wrapped.like(f"%;{_like_escape(v.lower())};%", escape="\\") for v in sorted(s)])
            for s in c.value_sets
            if s
        ]
        hit = or_(*alternatives) if alternatives else false()
        if c.negated:
            return or_(not_(hit), col.expr.is_(None))
        return and_(col.expr.is_not(None), hit)

    def _date_literal(
        self, c: Comparison, f: FieldDef, expr: ColumnElement[Any]
    ) -> ColumnElement[bool]:
        assert isinstance(c.value, DateLiteral)
        if f.type not in (FieldType.DATE, FieldType.DATETIME):
            raise self._bad_operator(
                c.field,
                f"value of type date literal is not valid for {f.type.value} field "
                f"{c.field.dotted}",
            )
        if c.op == "LIKE":
            raise self._bad_operator(c.field, "LIKE cannot be used with a date literal")
        bounds = date_literal_bounds(c.op, c.value, today=self.today)
        lower: Any
        upper: Any
        if f.type is FieldType.DATETIME:
            lower, upper = bounds.instants(UTC)
        else:
            lower, upper = bounds.lower, bounds.upper
        parts = []
        if lower is not None:
            parts.append(expr >= lower)
        if upper is not None:
            parts.append(expr < upper)
        inside = and_(expr.is_not(None), *parts)
        if bounds.negated:
            return or_(not_(inside), expr.is_(None))
        return inside

    def _value(self, f: FieldDef, v: Value, path: FieldPath) -> object:
        t = f.type
        if t in (FieldType.ID, FieldType.REFERENCE):
            if not isinstance(v, StringValue):
                raise self._bad_value(path, f, v)
            try:
                return normalize_id(v.value)
            except MalformedIdError:
                raise self._bad_operator(path, f"invalid ID field: {v.value}") from None
        if t.is_text:
            if isinstance(v, StringValue):
                return v.value
            raise self._bad_value(path, f, v)
        if t is FieldType.BOOLEAN:
            if isinstance(v, BooleanValue):
                return v.value
            raise self._bad_value(path, f, v)
        if t.is_number:
            if isinstance(v, NumberValue):
                return int(v.value) if t is FieldType.INT and v.is_integer else float(v.value)
            raise self._bad_value(path, f, v)
        if t is FieldType.DATE:
            if isinstance(v, DateValue):
                return v.value
            raise self._bad_value(path, f, v)
        if t is FieldType.DATETIME:
            if isinstance(v, DateTimeValue):
                return v.value.astimezone(UTC)
            raise self._bad_value(path, f, v)
        if isinstance(v, StringValue):
            return v.value
        raise self._bad_value(path, f, v)

    def _bad_value(self, path: FieldPath, f: FieldDef, v: Value) -> Exception:
        shown = type(v).__name__.removesuffix("Value").lower()
        hint = {
            FieldType.DATETIME: " (a datetime needs a value like 2024-01-31T00:00:00Z)",
            FieldType.DATE: " (a date needs a value like 2024-01-31, without quotes)",
        }.get(f.type, "")
        return self._located(
            MalformedQueryError,
            f"value of type {shown} is not valid for {f.type.value} field {path.dotted}{hint}",
            path.line,
            path.column,
        )

    def _bad_operator(self, path: FieldPath, message: str) -> Exception:
        return self._located(InvalidQueryFilterOperatorError, message, path.line, path.column)


def _same_field(col: _OutColumn) -> tuple[tuple[str, ...], str]:
    return tuple(r.lower() for r in col.rels), col.name.lower()


def _sort_keys(col: _OutColumn) -> list[ColumnElement[Any]]:
    """What ORDER BY sorts a field by: picklists in the order of their values (as
    Salesforce sorts them), text case-insensitively, anything else by its value."""
    f, expr = col.field, col.expr
    values = [p.value for p in f.picklist]
    if f.type is FieldType.PICKLIST and values:
        rank: ColumnElement[Any] = case(
            (expr.is_(None), null()),
            *[(expr == v, i) for i, v in enumerate(values)],
            else_=len(values),
        )
        return [rank, func.lower(expr)]
    if f.type.is_text:
        return [func.lower(expr)]
    return [expr]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def soql_today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def flatten_ids(records: Sequence[dict[str, Any]]) -> list[str]:
    return [str(r["Id"]) for r in records if r.get("Id")]
