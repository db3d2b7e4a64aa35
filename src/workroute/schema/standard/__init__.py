"""The standard objects every org has, read from the JSON files beside this module.

``omni.json`` holds the Omni-Channel objects, extracted from Salesforce's Omni-Channel
Developer Guide by ``tools/extract_seed_objects.py``; ``setup.json`` (users, profiles,
groups, queues, skills, ...) and ``core.json`` (accounts, cases, tasks, ...) are kept
by hand. The files use describe()'s camelCase keys and leave out keys that have their
default value (see :mod:`workroute.schema.codec`); system fields and OwnerId are added
by the registry.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from workroute.schema.codec import object_from_json
from workroute.schema.model import ObjectDef
from workroute.schema.registry import SchemaRegistry

__all__ = ["load_standard_objects", "standard_registry"]


@cache
def _load() -> tuple[ObjectDef, ...]:
    objects: dict[str, tuple[str, ObjectDef]] = {}
    folder = files(__name__)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        data = json.loads(entry.read_text(encoding="utf-8"))
        for raw in data["objects"]:
            obj = object_from_json(raw)
            if obj.custom or obj.name.endswith("__c"):
                raise ValueError(f"{entry.name}: {obj.name} is not a standard object")
            seen = objects.get(obj.key)
            if seen is not None:
                raise ValueError(f"{obj.name} is defined in both {seen[0]} and {entry.name}")
            objects[obj.key] = (entry.name, obj)
    if not objects:
        raise ValueError(f"no standard object definitions found in {folder}")
    return tuple(obj for _, obj in sorted(objects.values(), key=lambda p: p[1].name))


def load_standard_objects() -> list[ObjectDef]:
    """Every standard object, sorted by name (read once, then cached)."""
    return list(_load())


def standard_registry() -> SchemaRegistry:
    """A new registry holding the standard objects and nothing else."""
    return SchemaRegistry(_load())
