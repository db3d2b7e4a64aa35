"""Which rules a record can meet, found without evaluating every rule.

An object may have 50 active rules, and most rules test a picklist or text field for
equality (``Status equals Escalated,New``). Indexing those rules by the values they
accept turns 50 evaluations per save into one dictionary lookup per indexed field plus
the rules that cannot be indexed, as a Rete network's alpha memory prunes patterns on
constant tests. The index only prunes: a candidate is still evaluated in full, but for
the equality item the index looked up (the lookup is that item's test: an item with
``equals_keys`` accepts those values and nothing else), so the index can never make a
rule fire that would not fire without it. Which candidates a record gets depends only
on what the lookups found, so each combination is worked out once and kept.

Rules that need a number above or below a constant (``Amount greaterThan 1000``, or
a formula ``AND(Amount > 1000, ...)``) are kept sorted by that bound per field, so a
record's value selects them by bisection. The bound test is loosened by a hair so
float and decimal arithmetic cannot disagree about a value at the bound.

Triggering-update rules get a second shortcut: an edit that changed none of the fields
a rule reads leaves the rule's outcome as it was (old and new values are evaluated at
the same moment, by the same user, against the same parents), so the rule cannot go
from not meeting its criteria to meeting them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from workroute.lang.formula.ast import Binary, NumberLit
from workroute.lang.formula.functions import Evaluator
from workroute.lang.formula.types import Typed
from workroute.metadata.workflow import FilterAnd, FilterRef, WorkflowTriggerTypes
from workroute.schema.model import ObjectDef
from workroute.workflow.criteria import (
    Bound,
    CompiledCriteria,
    CompiledItem,
    Predicate,
    Subject,
    equality_key,
)

if TYPE_CHECKING:
    from workroute.workflow.compiled import CompiledRule

_TRIGGERING = WorkflowTriggerTypes.ON_CREATE_OR_TRIGGERING_UPDATE
#: (record field, bounds ascending, the positions of the rules with those bounds)
_Bounds = tuple[str, tuple[float, ...], tuple[int, ...]]
#: Per keyed field the value found (None: none the table has), then per bound group
#: where the record's number cuts the bounds (-1: blank).
_Signature = tuple[str | int | None, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A rule as a plain save evaluates it once the index has found it."""

    rule: CompiledRule
    name: str
    #: What is left to test of the rule's criteria once the index has looked up its
    #: equality item (None: nothing is). Unused by formula rules.
    test: Predicate | None
    #: A formula rule's formula (None for criteria rules).
    formula: Evaluator | None
    triggering: bool
    #: The record fields whose change can change the outcome of a triggering-update
    #: rule (None: not known, or not a triggering-update rule).
    reads: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class RuleIndex:
    """Rules in declared order, with an equality index over some of them."""

    rules: tuple[CompiledRule, ...]
    #: Positions of the rules every record is a candidate for.
    unindexed: tuple[int, ...]
    #: (record field, equality key -> positions of rules that need that value).
    keyed: tuple[tuple[str, Mapping[str, tuple[int, ...]]], ...]
    #: (record field, bounds ascending, positions) of rules needing value >= bound...
    above: tuple[_Bounds, ...]
    #: ... and of rules needing value <= bound.
    below: tuple[_Bounds, ...]
    #: The record fields whose change can change a triggering-update rule's outcome.
    read_by_any: frozenset[str]
    #: Per position, the rule as :meth:`candidates` gives it.
    entries: tuple[Candidate, ...]
    #: Candidates by what the index found for a record (see :meth:`candidates`).
    memo: dict[_Signature, tuple[Candidate, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def build(cls, obj: ObjectDef, rules: Sequence[CompiledRule]) -> RuleIndex:
        unindexed: list[int] = []
        keyed: dict[str, dict[str, list[int]]] = {}
        bounded: dict[tuple[str, bool], list[tuple[Decimal, int]]] = {}
        tests: list[Predicate | None] = []
        for pos, rule in enumerate(rules):
            tests.append(rule.criteria.met if rule.criteria is not None else _never)
            if rule.criteria is not None:
                item = _index_item(rule.criteria)
                if item is not None and item.equals_keys is not None:
                    table = keyed.setdefault(item.operand.key, {})
                    for key in item.equals_keys:
                        table.setdefault(key, []).append(pos)
                    # found only through a value the item accepts: it is met
                    tests[pos] = rule.criteria.met_given(item.index)
                    continue
                bound = _criteria_bound(rule.criteria)
            elif rule.formula is not None:
                bound = _formula_bound(rule.formula.typed)
            else:
                bound = None
            if bound is None:
                unindexed.append(pos)
            else:
                bounded.setdefault((bound.field, bound.above), []).append((bound.value, pos))
        above: list[_Bounds] = []
        below: list[_Bounds] = []
        for (name, is_above), entries in bounded.items():
            entries.sort()
            group = (name, tuple(float(v) for v, _ in entries), tuple(p for _, p in entries))
            (above if is_above else below).append(group)
        reads = tuple(_reads(obj, r) for r in rules)
        return cls(
            rules=tuple(rules),
            unindexed=tuple(unindexed),
            keyed=tuple(
                (name, {k: tuple(v) for k, v in table.items()}) for name, table in keyed.items()
            ),
            above=tuple(above),
            below=tuple(below),
            read_by_any=frozenset(f for r in reads if r is not None for f in r),
            entries=tuple(
                Candidate(
                    rule=r,
                    name=r.name,
                    test=t,
                    formula=r.formula.fn if r.formula is not None else None,
                    triggering=r.trigger is _TRIGGERING,
                    reads=read,
                )
                for r, t, read in zip(rules, tests, reads, strict=True)
            ),
        )

    def candidates(self, record: Mapping[str, object]) -> tuple[Candidate, ...]:
        """The rules ``record`` may meet, in declared order.

        They depend only on which indexed value the record has and where its numbers
        fall among the bounds, so each such combination is worked out once (records
        of a bulk save share a few)."""
        if not (self.keyed or self.above or self.below):
            return self.entries
        sig: list[str | int | None] = []
        for name, table in self.keyed:
            key = equality_key(record.get(name))
            sig.append(key if key in table else None)
        for name, bounds, _ in self.above:
            value = _number(record.get(name))
            sig.append(-1 if value is None else bisect_right(bounds, value + _slack(value)))
        for name, bounds, _ in self.below:
            value = _number(record.get(name))
            sig.append(-1 if value is None else bisect_left(bounds, value - _slack(value)))
        signature = tuple(sig)
        memo = self.memo
        found = memo.get(signature)
        if found is None:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            found = memo[signature] = self._select(signature)
        return found

    def _select(self, signature: _Signature) -> tuple[Candidate, ...]:
        hits = list(self.unindexed)
        k, a = len(self.keyed), len(self.keyed) + len(self.above)
        for (_, table), key in zip(self.keyed, signature[:k], strict=True):
            if isinstance(key, str):
                hits.extend(table[key])
        for (_, _, positions), cut in zip(self.above, signature[k:a], strict=True):
            assert isinstance(cut, int)
            hits.extend(positions if cut < 0 else positions[:cut])  # a blank is for the rule
        for (_, _, positions), cut in zip(self.below, signature[a:], strict=True):
            assert isinstance(cut, int)
            hits.extend(positions if cut < 0 else positions[cut:])
        hits.sort()
        entries = self.entries
        return tuple(entries[p] for p in hits)

    def changed(self, record: Mapping[str, object], old: Mapping[str, object]) -> frozenset[str]:
        """The fields triggering-update rules read that an edit changed: a rule that
        reads none of them cannot trigger."""
        return frozenset(f for f in self.read_by_any if record.get(f) != old.get(f))


def _never(_s: Subject) -> bool:
    """The test of a rule with neither criteria nor a formula: it is never met."""
    return False


def _required(criteria: CompiledCriteria) -> list[CompiledItem]:
    """The items every match must meet: all of them when they are ANDed, else those
    ANDed at the top of the booleanFilter."""
    items = criteria.items
    expr = criteria.expr
    if expr is None:
        return list(items)
    if isinstance(expr, FilterRef):
        return [items[expr.n - 1]]
    if isinstance(expr, FilterAnd):
        return [items[e.n - 1] for e in expr.operands if isinstance(e, FilterRef)]
    return []


def _index_item(criteria: CompiledCriteria) -> CompiledItem | None:
    """The most selective required equality item."""
    indexable = [i for i in _required(criteria) if i.equals_keys is not None]
    if not indexable:
        return None
    return min(indexable, key=lambda i: len(i.equals_keys or ()))


def _number(value: object) -> float | None:
    """A record value as a float for bisection (None when blank or not a number): the
    bounds are loosened far beyond a float's rounding, so floats are exact enough."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN


_EPSILON = 1e-9
#: Candidate lists kept per index: bulk saves repeat a few, and a field with many
#: values must not grow the memo without end.
_MEMO_SIZE = 4096


def _slack(value: float) -> float:
    return abs(value) * _EPSILON + _EPSILON


def _criteria_bound(criteria: CompiledCriteria) -> Bound | None:
    """A bound every match must respect, from a required number comparison item."""
    return next((i.bound for i in _required(criteria) if i.bound is not None), None)


_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


def _formula_bound(typed: Typed) -> Bound | None:
    """A bound from a top-level conjunct ``Field > 10`` (or ``>=``, ``<``, ``<=``,
    either way round) of a formula that is that comparison or an AND of terms."""
    if typed.function == "AND":
        conjuncts: list[Typed] = list(typed.args)
    elif isinstance(typed.node, Binary) and typed.node.op == "&&":
        conjuncts = list(typed.args)
    else:
        conjuncts = [typed]
    for c in conjuncts:
        node = c.node
        if not isinstance(node, Binary) or node.op not in _FLIP or len(c.args) != 2:
            continue
        left, right = c.args
        op: str = node.op
        if isinstance(left.node, NumberLit):
            left, right, op = right, left, _FLIP[op]
        b = left.binding
        if (
            b is None
            or b.source != "record"
            or not b.type.is_number
            or not isinstance(right.node, NumberLit)
        ):
            continue
        return Bound(field=b.key, above=op in (">", ">="), value=right.node.value)
    return None


def _reads(obj: ObjectDef, rule: CompiledRule) -> frozenset[str] | None:
    if rule.trigger is not _TRIGGERING:
        return None  # only triggering-update rules use it
    names: set[str] = set()
    if rule.criteria is not None:
        names.update(rule.criteria.record_fields)
        names.update(p.hops[0].name for p in rule.criteria.parent_paths if p.hops)
    elif rule.formula is not None:
        names.update(rule.formula.fields)
        for binding in rule.formula.bindings.values():
            if binding.source == "related" and binding.hops:
                names.add(binding.hops[0][0])
    else:
        return frozenset()
    for name in names:
        f = obj.field(name)
        if f is None or f.formula is not None:
            return None
    return frozenset(names)


__all__ = ["Candidate", "RuleIndex"]
