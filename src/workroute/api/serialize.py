"""Records as Salesforce returns them: fields in JSON form plus an ``attributes`` block."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workroute.store.values import to_json


def record_json(
    object_name: str,
    record: Mapping[str, object],
    base: str,
    *,
    hidden: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": {"type": object_name}}
    rid = record.get("Id")
    if rid:
        out["attributes"]["url"] = f"{base}/sobjects/{object_name}/{rid}"
    for key, value in record.items():
        if key in hidden:
            continue
        if isinstance(value, dict):
            out[key] = value
        else:
            out[key] = to_json(value)
    return out
