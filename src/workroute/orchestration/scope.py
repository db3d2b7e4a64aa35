"""What a run's references mean while it runs, and whether its conditions hold.

A run sees the triggering record (``$Record`` and its parents, ``$Record.Account.Name``),
the running user (``$User``), its variables (and the fields of a record variable),
its constants, each step's ``Status`` and ``Outputs.<name>``, and each stage's
``Status``. :class:`RunScope` resolves them; :func:`criteria_hold` evaluates a
step's or stage's requirements (up to 10 conditions, combined by AND, OR or custom
logic) with Flow's comparison operators. Nothing here evaluates user text as code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from workroute.kernel.errors import WorkrouteError
from workroute.orchestration.logic import logic_holds, logic_tree
from workroute.orchestration.values import Condition, Criteria, Value
from workroute.orchestration.vocabulary import ComparisonOperator, ValueKind
from workroute.store.related import parent_values, parse_path

if TYPE_CHECKING:
    from workroute.store.store import Store


class RunError(WorkrouteError):
    """A run cannot go on: the reason is kept on the run, its stage and its step."""

    code = "ORCHESTRATION_ERROR"
    http_status = 400


@dataclass(slots=True)
class RunScope:
    """The values a run's references resolve to (names compare ignoring case)."""

    store: Store
    record: Mapping[str, object] | None = None
    record_object: str | None = None
    user: Mapping[str, object] | None = None
    #: Reads ``user`` when a reference first names ``$User`` (most runs never do, and
    #: need not read the running user's row).
    load_user: Callable[[], Mapping[str, object] | None] | None = None
    variables: dict[str, object] = field(default_factory=dict)
    outputs: dict[str, dict[str, object]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)

    def value(self, v: Value | None) -> object:
        """A literal's value, or what a reference names."""
        if v is None:
            return None
        if v.kind is ValueKind.REFERENCE:
            return self.reference(v.text)
        return literal(v)

    def reference(self, name: str) -> object:
        head, _, rest = name.partition(".")
        key = head.lower()
        if key == "$record":
            return self._record_path(rest)
        if key == "$user":
            if self.load_user is not None:
                self.user, self.load_user = self.load_user(), None
            return _field(self.user, rest) if rest else (self.user or {}).get("Id")
        if rest.lower() == "status" and key in self.statuses:
            return self.statuses[key]
        if rest.lower().startswith("outputs.") and key not in self.variables:
            return self.outputs.get(key, {}).get(rest.partition(".")[2].lower())
        if key in self.variables:
            held = self.variables[key]
            if not rest:
                return held
            if isinstance(held, Mapping):
                return _field(held, rest)
            raise RunError(f"{head} is not a record: {name} cannot be read")
        if rest.lower() == "status":
            return None  # a step or stage that has not started yet
        raise RunError(f"The reference {name} names nothing this run knows")

    def _record_path(self, rest: str) -> object:
        if self.record is None:
            return None
        if not rest:
            return self.record.get("Id")
        if "." not in rest:
            return _field(self.record, rest)
        if self.record_object is None:
            return None
        obj = self.store.schema.get(self.record_object)
        path = parse_path(self.store.schema, obj, rest)
        return parent_values(self.store, [self.record], [path])[0].get(path.key)


def _field(rec: Mapping[str, object] | None, name: str) -> object:
    if rec is None:
        return None
    if name in rec:
        return rec[name]
    key = name.lower()
    return next((v for k, v in rec.items() if k.lower() == key), None)


def literal(v: Value) -> object:
    """A literal Value as a Python value."""
    if v.kind is ValueKind.BOOLEAN:
        return v.text == "true"
    if v.kind is ValueKind.NUMBER:
        return Decimal(v.text)
    if v.kind is ValueKind.DATE:
        return date.fromisoformat(v.text)
    if v.kind is ValueKind.DATETIME:
        return datetime.fromisoformat(v.text.replace("Z", "+00:00"))
    return v.text


def criteria_hold(criteria: Criteria, scope: RunScope) -> bool:
    """Whether ``criteria`` hold (no conditions: they do)."""
    conditions = criteria.conditions
    if not conditions:
        return True
    tree = logic_tree(criteria.logic, len(conditions))
    return logic_holds(tree, lambda i: condition_holds(conditions[i - 1], scope))


def condition_holds(c: Condition, scope: RunScope) -> bool:
    left = scope.reference(c.left)
    right = scope.value(c.right)
    op = c.operator
    if op is ComparisonOperator.IS_NULL:
        return (left is None or left == "") == bool(right)
    if op is ComparisonOperator.IS_BLANK:
        return (left is None or str(left).strip() == "") == bool(right)
    if op is ComparisonOperator.EQUAL_TO:
        return _equal(left, right)
    if op is ComparisonOperator.NOT_EQUAL_TO:
        return not _equal(left, right)
    if op in _ORDERED:
        a, b = _comparable(left, right)
        if a is None or b is None:
            return False
        return bool(_ORDERED[op](a, b))
    text, other = ("" if left is None else str(left)), ("" if right is None else str(right))
    if op is ComparisonOperator.STARTS_WITH:
        return text.startswith(other)
    if op is ComparisonOperator.ENDS_WITH:
        return text.endswith(other)
    if op is ComparisonOperator.CONTAINS:
        return other in text
    raise RunError(f"The operator {op.value} is not supported in orchestration conditions")


_ORDERED = {
    ComparisonOperator.GREATER_THAN: lambda a, b: a > b,
    ComparisonOperator.LESS_THAN: lambda a, b: a < b,
    ComparisonOperator.GREATER_THAN_OR_EQUAL_TO: lambda a, b: a >= b,
    ComparisonOperator.LESS_THAN_OR_EQUAL_TO: lambda a, b: a <= b,
}


def _equal(left: object, right: object) -> bool:
    if left is None or right is None:
        return (left is None or left == "") and (right is None or right == "")
    if isinstance(right, bool) or isinstance(left, bool):
        return _truth(left) == _truth(right)
    a, b = _comparable(left, right)
    if a is not None and b is not None:
        return bool(a == b)
    return str(left) == str(right)


def _truth(v: object) -> bool:
    if isinstance(v, str):
        return v.strip().lower() == "true"
    return bool(v)


def _comparable(left: object, right: object) -> tuple[object, object]:
    """Both sides as numbers when both read as numbers, else as they are when they
    are of one kind (dates, text); (None, None) when they cannot be compared."""
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return a, b
    if isinstance(left, datetime) and isinstance(right, datetime):
        return left, right
    if isinstance(left, date) and isinstance(right, date):
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    return None, None


def _number(v: object) -> Decimal | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float | Decimal):
        return Decimal(str(v))
    if isinstance(v, str):
        try:
            return Decimal(v)
        except InvalidOperation:
            return None
    return None
