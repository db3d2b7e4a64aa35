"""Object definitions: what objects exist, their fields, types and relationships."""

from workroute.schema.model import FieldDef, FieldType, ObjectDef, PicklistValue
from workroute.schema.registry import SchemaRegistry

__all__ = ["FieldDef", "FieldType", "ObjectDef", "PicklistValue", "SchemaRegistry"]
