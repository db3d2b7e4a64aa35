"""The registry of object definitions: standard objects plus deployed custom ones."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from workroute.kernel.errors import InvalidTypeError
from workroute.kernel.ids import BASE62
from workroute.schema.model import SYSTEM_FIELD_NAMES, FieldDef, FieldType, ObjectDef


def system_fields() -> tuple[FieldDef, ...]:
    """Fields every object has, written only by the save pipeline."""
    ro: dict[str, Any] = {"createable": False, "updateable": False}
    return (
        FieldDef(
            name="Id",
            type=FieldType.ID,
            label="Record ID",
            length=18,
            nillable=False,
            id_lookup=True,
            defaulted_on_create=True,
            **ro,
        ),
        FieldDef(
            name="IsDeleted",
            type=FieldType.BOOLEAN,
            label="Deleted",
            nillable=False,
            defaulted_on_create=True,
            default=False,
            **ro,
        ),
        FieldDef(
            name="CreatedDate",
            type=FieldType.DATETIME,
            label="Created Date",
            nillable=False,
            defaulted_on_create=True,
            **ro,
        ),
        FieldDef(
            name="CreatedById",
            type=FieldType.REFERENCE,
            label="Created By ID",
            length=18,
            nillable=False,
            defaulted_on_create=True,
            reference_to=("User",),
            relationship_name="CreatedBy",
            **ro,
        ),
        FieldDef(
            name="LastModifiedDate",
            type=FieldType.DATETIME,
            label="Last Modified Date",
            nillable=False,
            defaulted_on_create=True,
            **ro,
        ),
        FieldDef(
            name="LastModifiedById",
            type=FieldType.REFERENCE,
            label="Last Modified By ID",
            length=18,
            nillable=False,
            defaulted_on_create=True,
            reference_to=("User",),
            relationship_name="LastModifiedBy",
            **ro,
        ),
        FieldDef(
            name="SystemModstamp",
            type=FieldType.DATETIME,
            label="System Modstamp",
            nillable=False,
            defaulted_on_create=True,
            **ro,
        ),
    )


def owner_field(reference_to: tuple[str, ...] = ("Group", "User")) -> FieldDef:
    return FieldDef(
        name="OwnerId",
        type=FieldType.REFERENCE,
        label="Owner ID",
        length=18,
        nillable=False,
        defaulted_on_create=True,
        reference_to=reference_to,
        relationship_name="Owner",
    )


def complete(obj: ObjectDef) -> ObjectDef:
    """``obj`` with the system fields (and OwnerId when it has owners) in front."""
    own = [f for f in obj.fields if f.name not in SYSTEM_FIELD_NAMES]
    head = list(system_fields())
    if obj.has_owner and not any(f.key == "ownerid" for f in own):
        head.append(owner_field())
    return obj.with_fields((*head, *own))


class SchemaRegistry:
    """Every object the org knows, by API name (any case) and by key prefix."""

    def __init__(self, objects: Iterable[ObjectDef] = ()) -> None:
        self._by_key: dict[str, ObjectDef] = {}
        self._by_prefix: dict[str, ObjectDef] = {}
        for obj in objects:
            self.put(obj)

    def put(self, obj: ObjectDef) -> ObjectDef:
        """Add or replace an object definition; returns the completed definition."""
        obj = complete(obj)
        old = self._by_key.get(obj.key)
        if old is not None:
            self._by_prefix.pop(old.key_prefix, None)
        clash = self._by_prefix.get(obj.key_prefix)
        if clash is not None and clash.key != obj.key:
            raise ValueError(f"key prefix {obj.key_prefix} of {obj.name} is used by {clash.name}")
        self._by_key[obj.key] = obj
        self._by_prefix[obj.key_prefix] = obj
        return obj

    def get(self, name: str) -> ObjectDef:
        """The object named ``name`` (any case); raises INVALID_TYPE if there is none."""
        obj = self._by_key.get(name.lower())
        if obj is None:
            raise InvalidTypeError(f"sObject type '{name}' is not supported.")
        return obj

    def find(self, name: str) -> ObjectDef | None:
        return self._by_key.get(name.lower())

    def by_prefix(self, prefix: str) -> ObjectDef | None:
        return self._by_prefix.get(prefix)

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        return self._by_prefix.get(record_id[:3])

    def __iter__(self) -> Iterator[ObjectDef]:
        return iter(sorted(self._by_key.values(), key=lambda o: o.name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_key

    def __len__(self) -> int:
        return len(self._by_key)

    def snapshot(self) -> tuple[dict[str, ObjectDef], dict[str, ObjectDef]]:
        """The registry's state, to restore if a transaction that changed it rolls back."""
        return dict(self._by_key), dict(self._by_prefix)

    def restore(self, state: tuple[dict[str, ObjectDef], dict[str, ObjectDef]]) -> None:
        self._by_key, self._by_prefix = dict(state[0]), dict(state[1])

    def next_custom_prefix(self, taken: frozenset[str] = frozenset()) -> str:
        """A free key prefix for a new custom object: a00..a0z, a10..., as Salesforce."""
        for second in BASE62:
            for third in BASE62:
                prefix = "a" + second + third
                if prefix not in self._by_prefix and prefix not in taken:
                    return prefix
        raise ValueError("no key prefixes left for custom objects")
