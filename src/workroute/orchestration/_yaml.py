"""Reading YAML nodes for the readable form: mappings with checked keys, values by
type, and located problems (see :mod:`workroute.orchestration.yaml_form`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import yaml  # type: ignore[import-untyped]

from workroute.kernel.errors import DeployProblem
from workroute.orchestration.values import Value, canonical_value
from workroute.orchestration.vocabulary import StepActionType, ValueKind

E = TypeVar("E", bound=StrEnum)
Node = Any  # a yaml node (PyYAML ships no type information)

STR_TAG = "tag:yaml.org,2002:str"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
NULL_TAG = "tag:yaml.org,2002:null"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"

#: Short step types.
STEP_TYPES = {
    "interactive": StepActionType.STEP_INTERACTIVE,
    "background": StepActionType.STEP_BACKGROUND,
}
#: Default condition logic where Flow Builder always writes one.
DEFAULT_LOGIC = "and"


@dataclass
class Ctx:
    file: str
    name: str
    problems: list[DeployProblem] = field(default_factory=list)

    def add(self, message: str, node: Node | None, key: str | None = None) -> None:
        line = None if node is None else node.start_mark.line + 1
        self.problems.append(
            DeployProblem(
                file=self.file, line=line, element=key, message=message, component=self.name
            )
        )


class KeyedMap:
    """A mapping of the form: its keys checked, values read by type."""

    def __init__(self, ctx: Ctx, node: Node, what: str, keys: Mapping[str, str | None]) -> None:
        self.ctx = ctx
        self.node = node
        self.what = what
        self.items: dict[str, tuple[Node, Node]] = {}
        self.lines: dict[str, int] = {"": node.start_mark.line + 1}
        self.ok = isinstance(node, yaml.MappingNode)
        if not self.ok:
            ctx.add(f"{what} must be a mapping (key: value)", node)
            return
        for k, v in node.value:
            key = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
            if key not in keys:
                valid = ", ".join(keys)
                ctx.add(f"'{key}' is not a key of {what}; valid keys: {valid}", k, key)
                continue
            if key in self.items:
                ctx.add(f"'{key}' is given twice in {what}", k, key)
                continue
            self.items[key] = (k, v)
            self.lines[keys[key] or key] = k.start_mark.line + 1

    def has(self, key: str) -> bool:
        return key in self.items

    def get(self, key: str) -> Node | None:
        found = self.items.get(key)
        if found is None or (isinstance(found[1], yaml.ScalarNode) and found[1].tag == NULL_TAG):
            return None
        return found[1]

    def missing(self, key: str) -> None:
        if self.ok:  # else the wrong shape is reported already
            self.ctx.add(f"{self.what} needs '{key}'", self.node, key)

    def text(self, key: str, *, required: bool = False) -> str | None:
        node = self.get(key)
        if node is None:
            if required:
                self.missing(key)
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.ctx.add(f"'{key}' of {self.what} must be text", node, key)
            return None
        return str(node.value)

    def req(self, key: str) -> str:
        return self.text(key, required=True) or ""

    def flag(self, key: str) -> bool | None:
        node = self.get(key)
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL_TAG:
            self.ctx.add(f"'{key}' of {self.what} must be true or false", node, key)
            return None
        return str(node.value).lower() in ("true", "yes", "on", "y")

    def whole(self, key: str) -> int | None:
        node = self.get(key)
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != INT_TAG:
            self.ctx.add(f"'{key}' of {self.what} must be a whole number", node, key)
            return None
        return int(str(node.value))

    def enum(
        self, key: str, kind: type[E], *, required: bool = False, aliases: Mapping[str, E] = {}
    ) -> E | None:
        text = self.text(key, required=required)
        if text is None:
            return None
        if text in aliases:
            return aliases[text]
        try:
            return kind(text)
        except ValueError:
            valid = ", ".join([*aliases, *(m.value for m in kind)])
            self.ctx.add(
                f"'{text}' is not a valid {key} of {self.what}; valid: {valid}",
                self.get(key),
                key,
            )
            return None

    def seq(self, key: str) -> list[Node]:
        node = self.get(key)
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.ctx.add(f"'{key}' of {self.what} must be a list", node, key)
            return []
        return list(node.value)

    def pairs(self, key: str) -> list[tuple[Node, Node]]:
        """A mapping value, as (key node, value node) pairs in order."""
        node = self.get(key)
        if node is None:
            return []
        if not isinstance(node, yaml.MappingNode):
            self.ctx.add(f"'{key}' of {self.what} must be a mapping (name: value)", node, key)
            return []
        seen: set[str] = set()
        out = []
        for k, v in node.value:
            name = str(k.value)
            if name in seen:
                self.ctx.add(f"'{name}' is given twice in '{key}' of {self.what}", k, key)
                continue
            seen.add(name)
            out.append((k, v))
        return out

    def value(self, key: str) -> Value | None:
        node = self.get(key)
        return None if node is None else read_value(self.ctx, node, f"'{key}' of {self.what}")

    def location(self) -> tuple[int, int] | None:
        items = self.seq("location")
        if not items:
            return None
        ok = len(items) == 2 and all(
            isinstance(n, yaml.ScalarNode) and n.tag == INT_TAG for n in items
        )
        if not ok:
            self.ctx.add(f"'location' of {self.what} is [x, y]", self.get("location"), "location")
            return None
        return (int(items[0].value), int(items[1].value))


_VALUE_KEYS = {
    "ref": ValueKind.REFERENCE,
    "string": ValueKind.STRING,
    "boolean": ValueKind.BOOLEAN,
    "number": ValueKind.NUMBER,
    "date": ValueKind.DATE,
    "datetime": ValueKind.DATETIME,
    "time": ValueKind.TIME,
}


def read_value(ctx: Ctx, node: Node, what: str) -> Value | None:
    line = {"": node.start_mark.line + 1}
    if isinstance(node, yaml.ScalarNode):
        kind = {
            BOOL_TAG: ValueKind.BOOLEAN,
            INT_TAG: ValueKind.NUMBER,
            FLOAT_TAG: ValueKind.NUMBER,
            TIMESTAMP_TAG: ValueKind.DATE if len(str(node.value)) == 10 else ValueKind.DATETIME,
            NULL_TAG: None,
        }.get(node.tag, ValueKind.STRING)
        if kind is None:
            return None
        return _made(ctx, node, kind, str(node.value), line, what)
    if isinstance(node, yaml.MappingNode) and len(node.value) == 1:
        k, v = node.value[0]
        kind = _VALUE_KEYS.get(str(k.value))
        if kind is not None and isinstance(v, yaml.ScalarNode):
            return _made(ctx, v, kind, str(v.value), line, what)
    valid = ", ".join(f"{{{k}: ...}}" for k in _VALUE_KEYS)
    ctx.add(f"{what} must be text, true/false, a number, null or one of {valid}", node)
    return None


def _made(
    ctx: Ctx, node: Node, kind: ValueKind, text: str, lines: dict[str, int], what: str
) -> Value | None:
    if kind is ValueKind.BOOLEAN:
        text = "true" if text.lower() in ("true", "yes", "on", "y") else text
        text = "false" if text.lower() in ("false", "no", "off", "n") else text
    canonical = canonical_value(kind, text)
    if canonical is None:
        ctx.add(f"{what}: '{text}' is not a valid {kind.value}", node)
        return None
    return Value(kind=kind, text=canonical, lines=lines)
