"""Values of parent paths (``Account.Owner.Email``) for a list of records, in bulk.

Workflow criteria, formulas and email templates read fields of parent records. This
follows each relationship with one query per object and hop for the whole list, and
reads inside the current write transaction when there is one (so an after-save hook
sees the rows it is saving). Polymorphic relationships (``Owner``) go to the object
the id's key prefix names. Formula fields of parents are not computed here (None).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from workroute.kernel.errors import InvalidFieldError
from workroute.schema.model import FieldDef, ObjectDef
from workroute.schema.registry import SchemaRegistry
from workroute.store.hooks import Record
from workroute.store.store import Store


@dataclass(frozen=True, slots=True)
class ParentPath:
    """A path resolved against the schema: reference fields to follow, then a field.

    ``key`` is the canonical spelling (``Account.Owner.Email``), as formulas and
    criteria use it.
    """

    key: str
    hops: tuple[FieldDef, ...]
    field: FieldDef

    @property
    def field_name(self) -> str:
        return self.field.name


def parse_path(schema: SchemaRegistry, obj: ObjectDef, path: str) -> ParentPath:
    """Resolve ``Rel.Rel.Field`` from ``obj``; raises INVALID_FIELD naming the part."""
    parts = path.split(".")
    current = obj
    hops: list[FieldDef] = []
    spelled: list[str] = []
    for rel in parts[:-1]:
        ref = current.relationship(rel)
        if ref is None or not ref.reference_to:
            raise InvalidFieldError(f"{current.name} has no relationship '{rel}'")
        hops.append(ref)
        spelled.append(ref.relationship_name or rel)
        current = _follow(schema, current, ref, parts[len(hops)])
    f = current.field(parts[-1])
    if f is None:
        raise InvalidFieldError(f"{current.name} has no field '{parts[-1]}'")
    spelled.append(f.name)
    return ParentPath(key=".".join(spelled), hops=tuple(hops), field=f)


def _follow(schema: SchemaRegistry, obj: ObjectDef, ref: FieldDef, next_part: str) -> ObjectDef:
    """The object a reference leads to; for a polymorphic one (Owner: User or Queue)
    the first target that has the next part of the path, User preferred."""
    targets = sorted(ref.reference_to, key=lambda name: name != "User")
    found = [t for name in targets if (t := schema.find(name)) is not None]
    if not found:
        raise InvalidFieldError(f"{obj.name}.{ref.relationship_name} points to an unknown object")
    for t in found:
        if t.field(next_part) is not None or t.relationship(next_part) is not None:
            return t
    return found[0]


def parent_values(
    store: Store, records: Sequence[Mapping[str, object]], paths: Iterable[ParentPath]
) -> list[dict[str, object]]:
    """For each record, ``{path.key: value}`` for every path (None where a link is empty)."""
    out: list[dict[str, object]] = [{} for _ in records]
    cache: dict[str, Record] = {}
    for path in paths:
        current: list[Mapping[str, object] | None] = list(records)
        for hop in path.hops:
            ids = {str(r[hop.name]) for r in current if r is not None and r.get(hop.name)}
            _load(store, ids - cache.keys(), cache)
            current = [
                cache.get(str(r[hop.name])) if r is not None and r.get(hop.name) else None
                for r in current
            ]
        for i, row in enumerate(current):
            out[i][path.key] = None if row is None else row.get(path.field_name)
    return out


def _load(store: Store, ids: set[str], cache: dict[str, Record]) -> None:
    by_prefix: dict[str, list[str]] = {}
    for rid in ids:
        by_prefix.setdefault(rid[:3], []).append(rid)
    for prefix, chunk in by_prefix.items():
        target = store.schema.by_prefix(prefix)
        if target is None:
            continue
        for start in range(0, len(chunk), 500):
            for row in store.get_many(target.name, chunk[start : start + 500]):
                cache[str(row["Id"])] = row
