"""Record elements (update, create), record filters, and the comparisons decisions and
filters share.

An update of ``$Record`` or of an SObject variable saves the fields the run assigned
to it; an update by filters saves ``inputAssignments`` on every matching record. A
create inserts a record from ``inputAssignments`` (or from an SObject variable's
fields) and gives its Id to ``assignRecordIdToReference`` and to the element's own
name. Saves go through the store as the running user (in system context, the first
administrator), so defaults, validation, hooks and workflow rules run as for any
save. Evaluation flows only decide: they cannot save records.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from workroute.flows.model import RecordCreate, RecordUpdate
from workroute.flows.names import RefKind
from workroute.metadata.workflow import BooleanFilterError
from workroute.metadata.xmlio import parse_bool
from workroute.orchestration.logic import logic_holds, logic_tree
from workroute.orchestration.resources import RecordFilter
from workroute.orchestration.values import Condition, Criteria
from workroute.orchestration.vocabulary import ComparisonOperator
from workroute.schema.model import SYSTEM_FIELD_NAMES, ObjectDef
from workroute.store.hooks import Record

if TYPE_CHECKING:
    from workroute.flows.interview import Interview

__all__ = ["RecordElement", "add", "compare", "criteria_hold", "find_records", "run"]

RecordElement = (RecordUpdate, RecordCreate)
_SYSTEM = frozenset(n.lower() for n in SYSTEM_FIELD_NAMES)


# -- comparing ----------------------------------------------------------------------------


def _align(left: object, right: object) -> tuple[object, object]:
    """Bring a text operand to the other operand's type (as Flow compares them)."""
    if isinstance(left, int | float) and not isinstance(left, bool):
        left = Decimal(str(left))
    if isinstance(right, int | float) and not isinstance(right, bool):
        right = Decimal(str(right))
    if isinstance(left, str) and not isinstance(right, str):
        right, left = _align(right, left)
        return left, right
    if isinstance(right, str) and left is not None:
        try:
            if isinstance(left, bool):
                b = parse_bool(right)
                return left, right if b is None else b
            if isinstance(left, Decimal):
                return left, Decimal(right.strip())
            if isinstance(left, datetime):
                return left, datetime.fromisoformat(right.strip().replace("Z", "+00:00"))
            if isinstance(left, date):
                return left, date.fromisoformat(right.strip())
        except (ValueError, InvalidOperation):
            return left, right
    return left, right


def _ordered(op: str, left: object, right: object) -> bool:
    try:
        if op == "GreaterThan":
            return bool(left > right)  # type: ignore[operator]
        if op == "LessThan":
            return bool(left < right)  # type: ignore[operator]
        if op == "GreaterThanOrEqualTo":
            return bool(left >= right)  # type: ignore[operator]
        return bool(left <= right)  # type: ignore[operator]
    except TypeError:
        return False


def compare(op: str, left: object, right: object) -> bool | None:
    """``left op right`` for the operators decisions and record filters share (None:
    an operator this function does not know)."""
    if op in ("IsNull", "IsBlank", "IsEmpty"):
        blank = left is None or (op != "IsNull" and left in ("", [], {}))
        return blank == (right is not False and right != "false")
    if op in ("In", "NotIn"):
        items = right if isinstance(right, list | tuple) else [right]
        found = any(_align(left, x)[0] == _align(left, x)[1] for x in items)
        return found == (op == "In")
    if op == "Contains" and isinstance(left, list):
        return any(_align(x, right)[0] == _align(x, right)[1] for x in left)
    left, right = _align(left, right)
    if op == "EqualTo":
        return bool(left == right)
    if op == "NotEqualTo":
        return bool(left != right)
    if left is None or right is None:
        return False if op in _KNOWN else None
    if op in ("GreaterThan", "LessThan", "GreaterThanOrEqualTo", "LessThanOrEqualTo"):
        return _ordered(op, left, right)
    if op in ("StartsWith", "EndsWith", "Contains"):
        a, b = str(left), str(right)
        return (
            a.startswith(b) if op == "StartsWith" else a.endswith(b) if op == "EndsWith" else b in a
        )
    return None


_KNOWN = frozenset(
    {
        "GreaterThan",
        "LessThan",
        "GreaterThanOrEqualTo",
        "LessThanOrEqualTo",
        "StartsWith",
        "EndsWith",
        "Contains",
    }
)


def _condition_holds(iv: Interview, c: Condition) -> bool:
    op = c.operator
    right = iv.value(c.right)
    if op is ComparisonOperator.WAS_VISITED:
        return (c.left.lower() in iv.visited) == (right is not False)
    if op is ComparisonOperator.WAS_SELECTED:
        return (c.left.lower() in iv.selected) == (right is not False)
    left = iv.ref_value(c.left)
    if op is ComparisonOperator.WAS_SET:
        return (left is not None) == (right is not False)
    if op is ComparisonOperator.IS_CHANGED:
        return False  # no prior values outside record-triggered flows
    result = compare(op.value, left, right)
    if result is None:
        raise iv.fail(f"the condition operator {op.value} is not supported")
    return result


def criteria_hold(iv: Interview, criteria: Criteria) -> bool:
    conditions = criteria.conditions
    try:
        tree = logic_tree(criteria.logic, len(conditions))
    except BooleanFilterError as exc:
        raise iv.fail(f"condition logic '{criteria.logic}' is not valid: {exc}") from None
    return logic_holds(tree, lambda n: _condition_holds(iv, conditions[n - 1]))


def add(current: object, value: object, *, subtract: bool = False) -> object:
    """``current + value`` (or minus) as an assignment's Add/Subtract does it:
    numbers, text (Add appends), dates and date/times plus days."""
    if value is None:
        return current
    if isinstance(current, datetime | date) and not isinstance(value, datetime | date):
        days = Decimal(str(value)) * (-1 if subtract else 1)
        if isinstance(current, datetime):
            return current + timedelta(days=float(days))
        return current + timedelta(days=int(days))
    if current is None or isinstance(current, Decimal | int | float):
        try:
            a = Decimal(str(current)) if current is not None else Decimal(0)
            b = Decimal(str(value))
        except InvalidOperation:
            return current + value if isinstance(current, str) and not subtract else NotImplemented
        return a - b if subtract else a + b
    if isinstance(current, str) and not subtract:
        return current + str(value)
    return NotImplemented


# -- finding records ----------------------------------------------------------------------


def find_records(
    iv: Interview, object_name: str, filters: Sequence[RecordFilter], logic: str | None
) -> list[Record]:
    """The live records of ``object_name`` matching ``filters`` combined by ``logic``."""
    store = iv.store
    obj = store.schema.find(object_name)
    if obj is None:
        raise iv.fail(f"object '{object_name}' does not exist")
    plan = store.plan(obj)
    wanted: list[tuple[str, str, object]] = []
    for f in filters:
        field = obj.field(f.field)
        if field is None:
            raise iv.fail(f"{obj.name} has no field '{f.field}'")
        value = iv.value(f.value)
        if value is not None and f.operator.value not in ("IsNull", "In", "NotIn"):
            try:
                value = plan.fields[field.key].coerce(value)
            except Exception as exc:  # the store's own field errors
                raise iv.fail(f"filter on {obj.name}.{field.name}: {exc}") from None
        wanted.append((field.name, f.operator.value, value))
    simple = (logic or "and").strip().lower() == "and"
    equals = {n: v for n, op, v in wanted if simple and op == "EqualTo" and v is not None}
    try:
        tree = logic_tree(logic, len(wanted))
    except BooleanFilterError as exc:
        raise iv.fail(f"filter logic '{logic}' is not valid: {exc}") from None
    out: list[Record] = []
    for row in store.find(obj.name, **equals):

        def holds(n: int, row: Record = row) -> bool:
            name, op, value = wanted[n - 1]
            result = compare(op, row.get(name), value)
            if result is None:
                raise iv.fail(f"the filter operator {op} is not supported")
            return result

        if logic_holds(tree, holds):
            out.append(row)
    return out


# -- the elements -------------------------------------------------------------------------


def run(iv: Interview, e: RecordUpdate | RecordCreate) -> None:
    if iv.evaluation:
        raise iv.fail("an evaluation flow only decides; it cannot save records")
    if isinstance(e, RecordUpdate):
        _update(iv, e)
    else:
        _create(iv, e)


def _held_record(
    iv: Interview, reference: str
) -> tuple[str, dict[str, object] | None, ObjectDef | None]:
    ref = iv.resolve(reference)
    if ref.kind is RefKind.RECORD and not ref.rest:
        return "$record", iv.record, iv.record_object
    v = iv.names.flow_variable(ref.head) if ref.kind is RefKind.VARIABLE else None
    if v is None or ref.rest or v.is_collection:
        raise iv.fail(f"'{reference}' is not a record variable (collections are not supported)")
    held = iv.values.get(v.name.lower())
    obj = iv.store.schema.find(v.object_type) if v.object_type else None
    if held is not None and not isinstance(held, dict):
        raise iv.fail(f"'{reference}' holds no record")
    return v.name.lower(), held, obj


def _update(iv: Interview, u: RecordUpdate) -> None:
    store = iv.store
    if u.input_reference is not None:
        key, held, obj = _held_record(iv, u.input_reference)
        if held is None or not held.get("Id"):
            raise iv.fail(f"'{u.input_reference}' holds no saved record (no Id)")
        if obj is None:
            obj = store.schema.by_prefix(str(held["Id"])[:3])
        if obj is None:
            raise iv.fail(f"the object of record {held['Id']} is not known")
        changed = sorted(iv.dirty.get(key, set()))
        if changed:
            store.update(
                obj.name, [{"Id": held["Id"], **{f: held[f] for f in changed}}], user_id=iv.user_id
            )
            iv.dirty[key] = set()
        return
    assert u.object is not None
    # Rows found inside the write transaction are still the stored ones at the update
    # below (nothing runs in between), so the update need not read them again.
    held_rows = store.db.in_write()
    rows = find_records(iv, u.object, u.filters, u.filter_logic)
    fields = {fv.field: iv.value(fv.value) for fv in u.assignments}
    if not rows or not fields:
        return
    store.update(
        u.object,
        [{"Id": r["Id"], **fields} for r in rows],
        user_id=iv.user_id,
        current=rows if held_rows else None,
    )
    record = iv.record
    if record is not None and any(r["Id"] == record.get("Id") for r in rows):
        record.update(fields)  # later elements see what this one saved


def _create(iv: Interview, c: RecordCreate) -> None:
    store = iv.store
    if c.input_reference is not None:
        key, held, obj = _held_record(iv, c.input_reference)
        if held is None:
            raise iv.fail(f"'{c.input_reference}' holds no record to create")
        if obj is None:
            raise iv.fail(f"'{c.input_reference}' has no <objectType>: what should be created?")
        fields = {k: v for k, v in held.items() if k.lower() not in _SYSTEM}
        object_name = obj.name
    else:
        assert c.object is not None
        object_name = c.object
        held, key = None, ""
        fields = {fv.field: iv.value(fv.value) for fv in c.assignments}
    if store.schema.find(object_name) is None:
        raise iv.fail(f"object '{object_name}' does not exist")
    (new_id,) = store.insert(object_name, [fields], user_id=iv.user_id)
    if held is not None:
        held["Id"] = new_id
        iv.dirty[key] = set()
    if c.assign_id_to is not None:
        iv.assign(c.assign_id_to, new_id)
    iv.values[c.name.lower()] = new_id
