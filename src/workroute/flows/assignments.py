"""Assignment elements: set a variable, or a field of ``$Record`` or of an SObject
variable, with the operators Assign, Add, Subtract, AddItem, AddAtStart, AssignCount,
RemoveAll and RemoveFirst. A field assigned is remembered, so a record element saving
that record saves exactly the fields the run changed."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from workroute.flows import records
from workroute.flows.model import Assignment, AssignmentItem
from workroute.flows.names import RefKind
from workroute.flows.values import coerce, to_text
from workroute.flows.vocabulary import AssignmentOperator
from workroute.orchestration.vocabulary import FlowDataType
from workroute.schema.model import ObjectDef

if TYPE_CHECKING:
    from workroute.flows.interview import Interview

__all__ = ["assign", "run"]


def assign(iv: Interview, target: str, value: object) -> None:
    """Set a variable, or a field of ``$Record`` or of an SObject variable."""
    ref = iv.resolve(target)
    if ref.kind is RefKind.RECORD and len(ref.rest) == 1:
        if iv.record is None:
            raise iv.fail(f"'{target}': this run has no related record")
        _set_field(iv, iv.record, "$record", iv.record_object, ref.rest[0], value)
        return
    if ref.kind is not RefKind.VARIABLE or len(ref.rest) > 1:
        raise iv.fail(f"'{target}' cannot be assigned")
    v = iv.names.flow_variable(ref.head)
    key = ref.head.lower()
    if not ref.rest:
        if v is None:  # isOrchestrationConditionMet, implicit in evaluation flows
            iv.values[key] = iv.coerced(value, FlowDataType.BOOLEAN, ref.head)
            return
        try:
            iv.values[key] = coerce(value, v.data_type, collection=bool(v.is_collection))
        except ValueError as exc:
            raise iv.fail(f"{v.name}: {exc}") from None
        return
    current = iv.values.get(key)
    if current is None:
        current = iv.values[key] = {}
    if not isinstance(current, dict):
        raise iv.fail(f"'{target}': '{ref.head}' holds no record")
    obj = iv.store.schema.find(v.object_type) if v is not None and v.object_type else None
    _set_field(iv, current, key, obj, ref.rest[0], value)


def _set_field(
    iv: Interview,
    record: dict[str, object],
    key: str,
    obj: ObjectDef | None,
    name: str,
    value: object,
) -> None:
    field = obj.field(name) if obj is not None else None
    if obj is not None and field is None:
        raise iv.fail(f"{obj.name} has no field '{name}'")
    canonical = field.name if field is not None else name
    for k in [k for k in record if k.lower() == canonical.lower() and k != canonical]:
        del record[k]
    record[canonical] = value
    iv.dirty.setdefault(key, set()).add(canonical)


def run(iv: Interview, a: Assignment) -> None:
    for item in a.items:
        _item(iv, item)


def _item(iv: Interview, item: AssignmentItem) -> None:
    op = item.operator
    value = iv.value(item.value)
    if op is AssignmentOperator.ASSIGN:
        assign(iv, item.target, value)
        return
    current = iv.ref_value(item.target)
    new: Any
    if isinstance(current, list):
        new = list(current)
        items = value if isinstance(value, list) else [value]
        if op in (AssignmentOperator.ADD, AssignmentOperator.ADD_ITEM):
            new.extend(items)
        elif op is AssignmentOperator.ADD_AT_START:
            new[:0] = items
        elif op is AssignmentOperator.REMOVE_ALL:
            new = [x for x in new if x not in items]
        elif op is AssignmentOperator.REMOVE_FIRST:
            for x in items:
                if x in new:
                    new.remove(x)
                    break
        else:
            raise iv.fail(f"operator {op.value} on collections is not supported")
    elif op is AssignmentOperator.ASSIGN_COUNT:
        new = Decimal(len(value)) if isinstance(value, list) else Decimal(value is not None)
    elif op in (AssignmentOperator.ADD, AssignmentOperator.SUBTRACT):
        new = records.add(current, value, subtract=op is AssignmentOperator.SUBTRACT)
        if new is NotImplemented:
            raise iv.fail(f"cannot {op.value.lower()} {to_text(value)!r} and {item.target}")
    else:
        raise iv.fail(f"operator {op.value} is not supported")
    assign(iv, item.target, new)
