"""A save plan: everything about one object the pipeline needs, computed once.

Plans are rebuilt when the object's definition changes, so a bulk save only looks
fields up in dictionaries and calls precompiled coercers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workroute.kernel.errors import (
    InvalidFieldError,
    InvalidFieldForInsertUpdateError,
    RequiredFieldMissingError,
)
from workroute.schema.model import FieldDef, FieldType, ObjectDef
from workroute.store.values import Coercer, coercer_for, default_for

Record = dict[str, object]

# Written by the pipeline itself, never by a caller.
PIPELINE_FIELDS = frozenset(
    {
        "id",
        "isdeleted",
        "createddate",
        "createdbyid",
        "lastmodifieddate",
        "lastmodifiedbyid",
        "systemmodstamp",
    }
)


@dataclass(frozen=True, slots=True)
class FieldPlan:
    field: FieldDef
    coerce: Coercer
    # Precomputed so the per-value loop does no string work or lookups.
    name: str
    system: bool
    createable: bool
    updateable: bool
    null_value: object

    @classmethod
    def of(cls, f: FieldDef) -> FieldPlan:
        return cls(
            field=f,
            coerce=coercer_for(f),
            name=f.name,
            system=f.key in PIPELINE_FIELDS,
            createable=f.createable,
            updateable=f.updateable,
            # A checkbox is never null: Salesforce stores an explicit null as false.
            null_value=False if f.type is FieldType.BOOLEAN else None,
        )


class SavePlan:
    def __init__(self, obj: ObjectDef) -> None:
        self.obj = obj
        self.fields: dict[str, FieldPlan] = {
            f.key: FieldPlan.of(f) for f in obj.fields if not f.calculated
        }
        # Input keys seen so far, as written (callers repeat the same spelling).
        self._by_input_name: dict[str, FieldPlan] = {}
        self.columns = [f.name for f in obj.fields if not f.calculated]
        self.defaults: dict[str, object] = {}
        for f in obj.fields:
            if f.calculated or f.key in PIPELINE_FIELDS:
                continue
            value = default_for(f)
            self.defaults[f.name] = value
        self.required = [
            f
            for f in obj.fields
            if (f.required or (not f.nillable and f.createable and f.type is not FieldType.BOOLEAN))
            and f.key not in PIPELINE_FIELDS
            and f.key != "ownerid"
            and not f.auto_number
            and not f.defaulted_on_create
            and not f.calculated
        ]
        self.references = [
            f
            for f in obj.fields
            if f.type is FieldType.REFERENCE and f.key not in PIPELINE_FIELDS and not f.calculated
        ]
        self.unique = [f for f in obj.fields if f.unique and not f.calculated]
        self.auto_numbers = [f for f in obj.fields if f.auto_number]
        self.formula_defaults = [f for f in obj.fields if f.default_formula and not f.calculated]
        self.has_owner = obj.field("OwnerId") is not None
        self._column_set = frozenset(self.columns)
        self._column_index = {c: i for i, c in enumerate(self.columns)}
        self._among: dict[frozenset[str], tuple[str, ...]] = {}

    def columns_among(self, names: frozenset[str]) -> tuple[str, ...]:
        """The columns (but Id) among ``names``, in table order (saves repeat the same
        few sets, so the answers are kept)."""
        found = self._among.get(names)
        if found is None:
            index = self._column_index
            found = tuple(
                sorted((n for n in names if n in index and n != "Id"), key=index.__getitem__)
            )
            if len(self._among) < 1_000:
                self._among[names] = found
        return found

    def trusted(self, record: Mapping[str, object]) -> Record:
        """The engine's own values, already typed and canonically named (see
        ``Store.trusted``): only the names are checked, so a typo fails loudly."""
        out = dict(record)
        if not out.keys() <= self._column_set:  # Id is a column
            unknown = sorted(out.keys() - self._column_set)
            raise InvalidFieldError(
                f"No such column '{unknown[0]}' on sobject of type {self.obj.name}",
                fields=unknown,
            )
        return out

    def coerce(self, record: Mapping[str, object], *, inserting: bool, from_api: bool) -> Record:
        """Input values by canonical field name, coerced; unknown or read-only fields fail."""
        out: Record = {}
        denied: list[str] = []
        by_input = self._by_input_name
        for name, value in record.items():
            plan = by_input.get(name)
            if plan is None:
                plan = self.fields.get(name.lower())
                if plan is not None and len(by_input) < 10_000:
                    by_input[name] = plan
            if plan is None:
                if name == "attributes":
                    continue
                raise InvalidFieldError(
                    f"No such column '{name}' on sobject of type {self.obj.name}", fields=[name]
                )
            if plan.system:
                f = plan.field
                if f.key == "id":
                    if inserting and from_api:
                        raise InvalidFieldForInsertUpdateError(
                            "cannot specify Id in an insert call", fields=["Id"]
                        )
                    if inserting and value is not None:
                        out["Id"] = plan.coerce(value)  # engine-internal bootstrap only
                    continue
                denied.append(f.name)
                continue
            if from_api and not (plan.createable if inserting else plan.updateable):
                denied.append(plan.name)
                continue
            out[plan.name] = plan.null_value if value is None else plan.coerce(value)
        if denied:
            raise InvalidFieldForInsertUpdateError(
                f"Unable to create/update fields: {', '.join(denied)}. Please check the security "
                "settings of this field and verify that it is read/write for your profile or "
                "permission set.",
                fields=denied,
            )
        return out

    def check_required(self, record: Record) -> None:
        missing = [f.name for f in self.required if record.get(f.name) is None]
        if missing:
            raise RequiredFieldMissingError(
                f"Required fields are missing: [{', '.join(missing)}]", fields=missing
            )

    def field_named(self, name: str) -> FieldDef:
        plan = self.fields.get(name.lower())
        if plan is None:
            raise InvalidFieldError(
                f"No such column '{name}' on sobject of type {self.obj.name}", fields=[name]
            )
        return plan.field
