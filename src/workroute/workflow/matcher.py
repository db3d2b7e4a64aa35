"""Which rules a record can meet, found without evaluating every rule.

An object may have 50 active rules, and most rules test a picklist or text field for
equality (``Status equals Escalated,New``). Indexing those rules by the values they
accept turns 50 evaluations per save into one dictionary lookup per indexed field plus
the rules that cannot be indexed, as a Rete network's alpha memory prunes patterns on
constant tests. The index only prunes: a candidate is still evaluated in full, so the
index can never make a rule fire that would not fire without it.

Triggering-update rules get a second shortcut: an edit that changed none of the fields
a rule reads leaves the rule's outcome as it was (old and new values are evaluated at
the same moment, by the same user, against the same parents), so the rule cannot go
from not meeting its criteria to meeting them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workroute.metadata.workflow import FilterAnd, FilterRef, WorkflowTriggerTypes
from workroute.schema.model import ObjectDef
from workroute.workflow.criteria import CompiledCriteria, CompiledItem, equality_key

if TYPE_CHECKING:
    from workroute.workflow.compiled import CompiledRule

_TRIGGERING = WorkflowTriggerTypes.ON_CREATE_OR_TRIGGERING_UPDATE


@dataclass(frozen=True, slots=True)
class RuleIndex:
    """Rules in declared order, with an equality index over some of them."""

    rules: tuple[CompiledRule, ...]
    #: Positions of the rules every record is a candidate for.
    unindexed: tuple[int, ...]
    #: (record field, equality key -> positions of rules that need that value).
    keyed: tuple[tuple[str, Mapping[str, tuple[int, ...]]], ...]
    #: Per rule name: the record fields whose change can change a triggering-update
    #: rule's outcome, or None when that is not known (formula fields read others).
    reads_of: Mapping[str, frozenset[str] | None]
    read_by_any: frozenset[str]

    @classmethod
    def build(cls, obj: ObjectDef, rules: Sequence[CompiledRule]) -> RuleIndex:
        unindexed: list[int] = []
        keyed: dict[str, dict[str, list[int]]] = {}
        for pos, rule in enumerate(rules):
            item = _index_item(rule.criteria) if rule.criteria is not None else None
            if item is None or item.equals_keys is None:
                unindexed.append(pos)
                continue
            table = keyed.setdefault(item.operand.key, {})
            for key in item.equals_keys:
                table.setdefault(key, []).append(pos)
        reads = tuple(_reads(obj, r) for r in rules)
        return cls(
            rules=tuple(rules),
            unindexed=tuple(unindexed),
            keyed=tuple(
                (name, {k: tuple(v) for k, v in table.items()}) for name, table in keyed.items()
            ),
            reads_of={r.name: read for r, read in zip(rules, reads, strict=True)},
            read_by_any=frozenset(f for r in reads if r is not None for f in r),
        )

    def candidates(self, record: Mapping[str, object]) -> list[CompiledRule]:
        """The rules ``record`` may meet, in declared order."""
        if not self.keyed:
            return list(self.rules)
        hits = list(self.unindexed)
        for name, table in self.keyed:
            key = equality_key(record.get(name))
            if key is not None:
                found = table.get(key)
                if found:
                    hits.extend(found)
        hits.sort()
        rules = self.rules
        return [rules[p] for p in hits]

    def changed(self, record: Mapping[str, object], old: Mapping[str, object]) -> frozenset[str]:
        """The fields triggering-update rules read that an edit changed: a rule that
        reads none of them cannot trigger."""
        return frozenset(f for f in self.read_by_any if record.get(f) != old.get(f))


def _index_item(criteria: CompiledCriteria) -> CompiledItem | None:
    """An equality item every match must satisfy: any item when the criteria are all
    ANDed, else one ANDed at the top of the booleanFilter."""
    items = criteria.items
    if criteria.expr is None:
        required = list(items)
    elif isinstance(criteria.expr, FilterRef):
        required = [items[criteria.expr.n - 1]]
    elif isinstance(criteria.expr, FilterAnd):
        required = [items[e.n - 1] for e in criteria.expr.operands if isinstance(e, FilterRef)]
    else:
        return None
    indexable = [i for i in required if i.equals_keys is not None]
    if not indexable:
        return None
    return min(indexable, key=lambda i: len(i.equals_keys or ()))


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


__all__ = ["RuleIndex"]
