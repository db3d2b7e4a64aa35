"""CustomObject and CustomField metadata: parse, validate, write back, and turn into schema.

Both layouts are read: ``objects/X__c.object`` with inline ``<fields>`` (Metadata API)
and ``objects/X__c/X__c.object-meta.xml`` plus ``fields/F__c.field-meta.xml`` files
(SFDX). The result is a :class:`CustomObjectSpec` — the metadata as deployed, with
every value needed to write it back — and :meth:`CustomObjectSpec.to_object_def` /
:meth:`CustomObjectSpec.merge_into` turn it into the schema's :class:`ObjectDef`.

A standard object (``objects/Case.object``) is not a new object: its spec has
``is_standard`` set and only its custom fields are added by :meth:`merge_into`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Protocol

from workroute.kernel.errors import DeployError
from workroute.metadata.package import Component, Package
from workroute.metadata.xmlio import (
    Element,
    ProblemLog,
    Reader,
    add_element,
    add_value,
    child,
    child_or,
    children,
    line_of,
    new_root,
    parse_bool,
    parse_xml,
    to_bytes,
)
from workroute.schema.model import (
    API_NAME_RE,
    SYSTEM_FIELD_NAMES,
    FieldDef,
    FieldType,
    ObjectDef,
    PicklistValue,
)

# -- vocabulary ---------------------------------------------------------------------

#: Metadata API field type -> describe() type, for ordinary (not formula) fields.
FIELD_TYPES: Mapping[str, FieldType] = MappingProxyType(
    {
        "Text": FieldType.STRING,
        "EncryptedText": FieldType.STRING,
        "TextArea": FieldType.TEXTAREA,
        "LongTextArea": FieldType.TEXTAREA,
        "Html": FieldType.TEXTAREA,
        "Email": FieldType.EMAIL,
        "Phone": FieldType.PHONE,
        "Url": FieldType.URL,
        "Checkbox": FieldType.BOOLEAN,
        "Number": FieldType.DOUBLE,
        "Currency": FieldType.CURRENCY,
        "Percent": FieldType.PERCENT,
        "Date": FieldType.DATE,
        "DateTime": FieldType.DATETIME,
        "Time": FieldType.TIME,
        "Picklist": FieldType.PICKLIST,
        "MultiselectPicklist": FieldType.MULTIPICKLIST,
        "Lookup": FieldType.REFERENCE,
        "MasterDetail": FieldType.REFERENCE,
        "AutoNumber": FieldType.STRING,
    }
)

#: Result types a formula field may have (its ``<type>``) -> describe() type.
FORMULA_RESULT_TYPES: Mapping[str, FieldType] = MappingProxyType(
    {
        "Checkbox": FieldType.BOOLEAN,
        "Currency": FieldType.CURRENCY,
        "Date": FieldType.DATE,
        "DateTime": FieldType.DATETIME,
        "Number": FieldType.DOUBLE,
        "Percent": FieldType.PERCENT,
        "Text": FieldType.STRING,
        "Time": FieldType.TIME,
    }
)

#: Field types Salesforce has that this engine does not implement.
UNSUPPORTED_FIELD_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "Summary": "roll-up summary fields",
        "Location": "geolocation fields",
        "Geolocation": "geolocation fields",
        "ExternalLookup": "external lookup relationships",
        "IndirectLookup": "indirect lookup relationships",
        "Hierarchy": "hierarchical relationships",
        "MetadataRelationship": "metadata relationships",
        "File": "file fields",
    }
)

SHARING_MODELS = frozenset(
    {"Private", "Read", "ReadWrite", "ReadWriteTransfer", "FullAccess", "ControlledByParent"}
)
DEPLOYMENT_STATUSES = frozenset({"Deployed", "InDevelopment"})
DELETE_CONSTRAINTS = frozenset({"Cascade", "Restrict", "SetNull"})
FORMULA_BLANKS = frozenset({"BlankAsBlank", "BlankAsZero"})

_NUMBER_TYPES = frozenset({"Number", "Currency", "Percent"})
_TEXT_DEFAULT_TYPES = frozenset(
    {
        "Text",
        "TextArea",
        "LongTextArea",
        "Html",
        "Email",
        "Phone",
        "Url",
        "Picklist",
        "MultiselectPicklist",
        "EncryptedText",
    }
)
_EXTERNAL_ID_TYPES = frozenset({"Text", "Number", "Email", "AutoNumber"})
_FIXED_LENGTHS: Mapping[str, int] = MappingProxyType(
    {
        "TextArea": 255,
        "Email": 80,
        "Phone": 40,
        "Url": 255,
        "Picklist": 255,
        "MultiselectPicklist": 4099,
        "Lookup": 18,
        "MasterDetail": 18,
        "AutoNumber": 30,
    }
)
FORMULA_TEXT_LENGTH = 1300
NAME_FIELD_LENGTH = 80
MAX_NAME_LENGTH = 40  # without the __c suffix
MAX_LABEL_LENGTH = 40
MAX_MASTER_DETAIL = 2

#: Non-custom field names a custom object's file may mention; they are not (re)defined.
_STANDARD_FIELD_NAMES = frozenset(
    n.lower()
    for n in (
        *SYSTEM_FIELD_NAMES,
        "Name",
        "OwnerId",
        "RecordTypeId",
        "CurrencyIsoCode",
        "LastActivityDate",
        "LastViewedDate",
        "LastReferencedDate",
    )
)
_AUTONUMBER_FORMAT_RE = re.compile(r"\{0+\}")
_NUMBER_LITERAL_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_OTHER_SUFFIX_RE = re.compile(r"__(?!(?:c|kav)$)[A-Za-z]+$")
#: Knowledge article types (``FAQ__kav``): custom objects whose records are article
#: versions, with Salesforce's standard knowledge fields instead of a Name field.
KNOWLEDGE_SUFFIX = "__kav"


def _knowledge_fields() -> tuple[FieldDef, ...]:
    return (
        FieldDef(name="Title", type=FieldType.STRING, label="Title", length=255,
                 nillable=False, name_field=True),
        FieldDef(name="UrlName", type=FieldType.STRING, label="URL Name", length=255),
        FieldDef(name="Summary", type=FieldType.TEXTAREA, label="Summary", length=1000),
        FieldDef(name="Language", type=FieldType.STRING, label="Language", length=40,
                 default="en_US", defaulted_on_create=True),
        FieldDef(
            name="PublishStatus", type=FieldType.PICKLIST, label="Publication Status",
            nillable=False, default="Draft", defaulted_on_create=True, restricted_picklist=True,
            picklist=(PicklistValue(value="Draft", default=True),
                      PicklistValue(value="Online"), PicklistValue(value="Archived")),
        ),
        FieldDef(name="VersionNumber", type=FieldType.DOUBLE, label="Version Number",
                 precision=9, scale=0, default=1, defaulted_on_create=True),
        FieldDef(name="IsLatestVersion", type=FieldType.BOOLEAN, label="Is Latest Version",
                 default=True, defaulted_on_create=True, nillable=False),
    )  # fmt: skip


class FormulaDefault(str):
    """A ``defaultValue`` that is a formula (``TODAY()``, ``$User.Id``...), as raw text.

    It is a ``str``; the save pipeline must evaluate it (or skip it) rather than store
    it as a literal. Literal defaults are plain ``bool``/``int``/``float``/``str``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"FormulaDefault({str(self)!r})"


# -- the model ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomFieldSpec:
    """One CustomField as deployed. ``type`` is the Metadata API type (``Text``,
    ``MasterDetail``...); for a formula field it is the result type. ``full_name`` is
    the field's own name (``Amount__c``), not qualified by the object."""

    full_name: str
    type: str = ""
    label: str = ""
    description: str = ""
    inline_help_text: str = ""
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    visible_lines: int | None = None
    required: bool = False
    unique: bool = False
    external_id: bool = False
    case_sensitive: bool = False
    default_value: str | None = None
    formula: str | None = None
    formula_treat_blanks_as: str | None = None
    picklist: tuple[PicklistValue, ...] = ()
    restricted: bool = False
    sorted_values: bool = False
    value_set_name: str | None = None
    reference_to: str | None = None
    relationship_name: str | None = None
    relationship_label: str | None = None
    delete_constraint: str | None = None
    reparentable: bool = False
    write_requires_master_read: bool = False
    display_format: str | None = None
    starting_number: int | None = None
    mask_char: str | None = None
    mask_type: str | None = None
    file: str = field(default="", compare=False)
    line: int | None = field(default=None, compare=False)

    @property
    def is_custom(self) -> bool:
        return self.full_name.endswith("__c")

    @property
    def is_formula(self) -> bool:
        return self.formula is not None

    def default(self) -> object:
        """The default as a Python value (:class:`FormulaDefault` for formulas)."""
        if self.type == "Checkbox" and self.default_value is None and self.formula is None:
            return False
        if self.default_value is None:
            if self.type in ("Picklist", "MultiselectPicklist"):
                chosen = [p.value for p in self.picklist if p.default and p.active]
                if chosen:
                    return chosen[0] if self.type == "Picklist" else ";".join(chosen)
            return None
        return parse_default(self.type, self.default_value)

    def to_field_def(self) -> FieldDef:
        """The describe()-level definition of this field."""
        common: dict[str, object] = {
            "name": self.full_name,
            "label": self.label,
            "description": self.description,
            "custom": self.is_custom,
            "unique": self.unique,
            "case_sensitive": self.case_sensitive,
            "external_id": self.external_id,
            "id_lookup": self.external_id,
        }
        if self.formula is not None:
            ftype = FORMULA_RESULT_TYPES.get(self.type)
            if ftype is None:
                raise ValueError(f"{self.full_name}: formula result type {self.type!r}")
            return FieldDef(
                type=ftype,
                length=FORMULA_TEXT_LENGTH if ftype is FieldType.STRING else 0,
                precision=(self.precision or 0) if ftype.is_number else 0,
                scale=(self.scale or 0) if ftype.is_number else 0,
                nillable=True,
                createable=False,
                updateable=False,
                formula=self.formula,
                formula_blank_as_zero=self.formula_treat_blanks_as == "BlankAsZero",
                **common,  # type: ignore[arg-type]
            )
        ftype = FIELD_TYPES.get(self.type)
        if ftype is None:
            raise ValueError(f"{self.full_name}: field type {self.type!r} is not supported")
        default = self.default()
        defaulted = default is not None
        nillable = not self.required
        createable = updateable = True
        extra: dict[str, object] = {}
        length = _FIXED_LENGTHS.get(self.type, self.length or 0)
        if self.type == "Checkbox":
            nillable, defaulted = False, True
        elif self.type == "MasterDetail":
            nillable = False
            updateable = self.reparentable
        elif self.type == "AutoNumber":
            nillable, defaulted = False, True
            createable = updateable = False
            extra = {"auto_number": True, "display_format": self.display_format}
        if self.type in ("Lookup", "MasterDetail"):
            extra = {
                "reference_to": (self.reference_to,) if self.reference_to else (),
                # Metadata's <relationshipName> names the child side (Account.Tickets__r);
                # the parent path from this object is the field's name with __r.
                "relationship_name": _parent_relationship(self.full_name),
                "child_relationship": (
                    f"{self.relationship_name}__r" if self.relationship_name else None
                ),
            }
        if self.type in ("Picklist", "MultiselectPicklist"):
            extra = {
                "picklist": tuple(
                    p if p.label is not None else replace(p, label=p.value) for p in self.picklist
                ),
                "restricted_picklist": self.restricted or self.value_set_name is not None,
            }
        return FieldDef(
            type=ftype,
            length=length,
            precision=(self.precision or 0) if self.type in _NUMBER_TYPES else 0,
            scale=(self.scale or 0) if self.type in _NUMBER_TYPES else 0,
            nillable=nillable,
            required=not nillable and not defaulted,
            createable=createable,
            updateable=updateable,
            default=None if isinstance(default, FormulaDefault) else default,
            default_formula=str(default) if isinstance(default, FormulaDefault) else None,
            defaulted_on_create=defaulted,
            **extra,  # type: ignore[arg-type]
            **common,  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class NameFieldSpec:
    """An object's ``<nameField>``: the Name field, Text or AutoNumber."""

    label: str
    type: str = "Text"
    display_format: str | None = None
    starting_number: int | None = None
    description: str = ""

    def to_field_def(self) -> FieldDef:
        if self.type == "AutoNumber":
            return FieldDef(
                name="Name",
                type=FieldType.STRING,
                label=self.label,
                length=30,
                nillable=False,
                createable=False,
                updateable=False,
                defaulted_on_create=True,
                auto_number=True,
                display_format=self.display_format,
                name_field=True,
                id_lookup=True,
                description=self.description,
            )
        # Salesforce fills a missing Name with the record Id, so it is not "required".
        return FieldDef(
            name="Name",
            type=FieldType.STRING,
            label=self.label,
            length=NAME_FIELD_LENGTH,
            nillable=False,
            defaulted_on_create=True,
            name_field=True,
            id_lookup=True,
            description=self.description,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomObjectSpec:
    """A CustomObject as deployed.

    ``has_definition`` is False when the deployment only carried field files for the
    object (SFDX ``objects/X/fields/*`` without ``X.object-meta.xml``); the object must
    then already exist. ``fields`` keeps file order; for a standard object it may hold
    standard-field entries (no ``__c``) that are kept for writing back but never
    (re)defined. ``notes`` explain what was accepted but not applied.
    """

    full_name: str
    label: str = ""
    plural_label: str = ""
    description: str = ""
    deployment_status: str = ""
    sharing_model: str = ""
    name_field: NameFieldSpec | None = None
    fields: tuple[CustomFieldSpec, ...] = ()
    has_definition: bool = True
    file: str = field(default="", compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_custom(self) -> bool:
        return self.full_name.endswith(("__c", KNOWLEDGE_SUFFIX))

    @property
    def is_knowledge(self) -> bool:
        return self.full_name.endswith(KNOWLEDGE_SUFFIX)

    @property
    def is_standard(self) -> bool:
        return not self.is_custom

    @property
    def effective_sharing_model(self) -> str:
        if self.sharing_model:
            return self.sharing_model
        if any(f.type == "MasterDetail" and f.formula is None for f in self.fields):
            return "ControlledByParent"
        return "ReadWrite"

    @property
    def has_owner(self) -> bool:
        """Detail objects of a master-detail relationship have no OwnerId."""
        return self.effective_sharing_model != "ControlledByParent"

    def custom_fields(self) -> tuple[CustomFieldSpec, ...]:
        """The fields this deployment defines (custom ``__c`` fields)."""
        return tuple(f for f in self.fields if f.is_custom)

    def field_defs(self) -> tuple[FieldDef, ...]:
        """The Name field (custom objects with a definition) and the custom fields."""
        defs = [f.to_field_def() for f in self.custom_fields()]
        if self.is_knowledge and self.has_definition:
            defs[:0] = _knowledge_fields()
        elif self.is_custom and self.has_definition and self.name_field is not None:
            defs.insert(0, self.name_field.to_field_def())
        return tuple(defs)

    def to_object_def(self, key_prefix: str) -> ObjectDef:
        """A new custom object (the registry adds the system fields and OwnerId).

        Raises ValueError for a standard object or a spec without a definition; use
        :meth:`merge_into` with the existing object for those.
        """
        if not self.is_custom:
            raise ValueError(f"{self.full_name} is a standard object; use merge_into()")
        if not self.has_definition:
            raise ValueError(f"{self.full_name}: only fields were deployed; use merge_into()")
        return ObjectDef(
            name=self.full_name,
            key_prefix=key_prefix,
            label=self.label,
            label_plural=self.plural_label,
            fields=self.field_defs(),
            custom=True,
            has_owner=self.has_owner,
            description=self.description,
            sharing_model=self.effective_sharing_model,
        )

    def merge_into(self, existing: ObjectDef) -> ObjectDef:
        """``existing`` with this deployment applied, as Salesforce redeploys.

        Fields in the spec replace same-named fields (keeping their position) or are
        appended; fields the spec does not mention are kept (a deploy never deletes a
        field). A custom object's label, plural label, description and owner flag are
        updated when the spec has a definition; a standard object only gains fields.
        """
        new = self.field_defs()
        pending = {f.key: f for f in new}
        merged = [pending.pop(f.key, f) for f in existing.fields]
        merged.extend(f for f in new if f.key in pending)
        if self.is_custom and self.has_definition:
            return replace(
                existing,
                label=self.label or existing.label,
                label_plural=self.plural_label or existing.label_plural,
                description=self.description,
                has_owner=self.has_owner,
                sharing_model=self.effective_sharing_model,
                fields=tuple(merged),
                _by_key={},
                _by_relationship={},
            )
        return existing.with_fields(tuple(merged))


# -- default values -----------------------------------------------------------------


def _parent_relationship(field_name: str) -> str:
    return field_name[:-3] + "__r" if field_name.endswith("__c") else field_name.removesuffix("Id")


def parse_default(field_type: str, raw: str) -> object:
    """A ``defaultValue`` as a Python value.

    Literals: ``true``/``false`` (Checkbox), quoted strings (text and picklist types),
    numbers (Number, Currency, Percent), ``NULL``. Anything else is a formula and comes
    back as :class:`FormulaDefault` with the raw text.
    """
    text = raw.strip()
    if text.upper() == "NULL" or text == "":
        return None
    if field_type == "Checkbox":
        value = parse_bool(text)
        return FormulaDefault(raw) if value is None else value
    if field_type in _TEXT_DEFAULT_TYPES:
        literal = _string_literal(text)
        return FormulaDefault(raw) if literal is None else literal
    if field_type in _NUMBER_TYPES and _NUMBER_LITERAL_RE.match(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return FormulaDefault(raw)


def _string_literal(text: str) -> str | None:
    """The value of a formula string literal ``"..."`` or ``'...'``, or None."""
    if len(text) < 2 or text[0] not in "\"'" or text[-1] != text[0]:
        return None
    quote = text[0]
    out: list[str] = []
    i = 1
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
    while i < len(text) - 1:
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text) - 1:
                return None
            out.append(escapes.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        if ch == quote:
            return None  # e.g. "a" & "b": a formula, not one literal
        out.append(ch)
        i += 1
    return "".join(out)


# -- parsing ------------------------------------------------------------------------


def object_name_from_path(path: str) -> str:
    """``objects/X__c.object`` or ``objects/X__c/X__c.object-meta.xml`` -> ``X__c``."""
    name = path.rsplit("/", 1)[-1]
    for suffix in (".object-meta.xml", ".object"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def parse_custom_object(
    content: bytes,
    file: str,
    *,
    full_name: str | None = None,
    field_files: Sequence[tuple[bytes, str]] = (),
) -> CustomObjectSpec:
    """Parse a CustomObject file (and, for SFDX, its CustomField files).

    ``full_name`` defaults to the file's name. ``field_files`` are ``(content, path)``
    pairs of separate field files. Raises :class:`DeployError` with every problem found.
    """
    log = ProblemLog()
    spec = _parse_object(content, file, full_name or object_name_from_path(file), field_files, log)
    log.raise_if_any()
    assert spec is not None
    return spec


def parse_custom_field(content: bytes, file: str, *, object_name: str) -> CustomFieldSpec:
    """Parse one CustomField file (SFDX ``F__c.field-meta.xml``)."""
    log = ProblemLog()
    ctx = _ObjectContext(object_name)
    spec = _parse_field_file(content, file, ctx, log)
    log.raise_if_any()
    assert spec is not None
    return spec


def objects_from_package(pkg: Package, *, log: ProblemLog | None = None) -> list[CustomObjectSpec]:
    """Every CustomObject of a package with its fields, in both layouts.

    SFDX field files whose object file is not in the package give a spec with
    ``has_definition=False``. Raises :class:`DeployError` with every problem, unless
    ``log`` is given: then problems go there and only objects without problems are
    returned.
    """
    own = ProblemLog()
    specs: list[CustomObjectSpec] = []
    seen: set[str] = set()

    def take(spec: CustomObjectSpec | None, before: int) -> None:
        if spec is not None and len(own) == before:
            specs.append(spec)

    for comp in pkg.of_type("CustomObject"):
        seen.add(comp.full_name.lower())
        field_files = [(f.content, f.path) for f in pkg.children_of(comp.full_name)]
        before = len(own)
        take(_parse_object(comp.content, comp.path, comp.full_name, field_files, own), before)

    orphans: dict[str, list[Component]] = {}
    for comp in pkg.of_type("CustomField"):
        parent = comp.parent or comp.full_name.partition(".")[0]
        if parent.lower() not in seen:
            orphans.setdefault(parent, []).append(comp)
    for parent, comps in orphans.items():
        before = len(own)
        ctx = _ObjectContext(parent)
        _check_object_name(parent, comps[0].path, None, own)
        parsed = [_parse_field_file(c.content, c.path, ctx, own) for c in comps]
        fields = tuple(f for f in parsed if f is not None)
        _check_duplicates(fields, own)
        _check_master_details(parent, fields, own)
        take(
            CustomObjectSpec(
                full_name=parent,
                fields=fields,
                has_definition=False,
                file=comps[0].path,
                notes=tuple(ctx.notes),
            ),
            before,
        )

    if log is not None:
        log.extend(own.problems)
    else:
        own.raise_if_any()
    return specs


@dataclass
class _ObjectContext:
    name: str
    notes: list[str] = field(default_factory=list)

    @property
    def standard(self) -> bool:
        return not self.name.endswith(("__c", KNOWLEDGE_SUFFIX))


def _parse_object(
    content: bytes,
    file: str,
    full_name: str,
    field_files: Sequence[tuple[bytes, str]],
    log: ProblemLog,
) -> CustomObjectSpec | None:
    try:
        root = parse_xml(content, file, root="CustomObject", component=full_name)
    except DeployError as exc:
        log.extend(exc.problems)
        return None
    r = Reader(file, log, full_name)
    ctx = _ObjectContext(full_name)
    _check_object_name(full_name, file, root, log)
    declared = r.text(root, "fullName")
    if declared and declared != full_name:
        ctx.notes.append(
            f"{file}: <fullName>{declared}</fullName> ignored; the file name gives {full_name}"
        )

    label = r.text(root, "label") or ""
    plural = r.text(root, "pluralLabel") or ""
    sharing = r.text(root, "sharingModel") or ""
    status = r.text(root, "deploymentStatus") or ""
    name_field = _parse_name_field(root, r)
    if not ctx.standard:
        _check_custom_object(
            root, r, label, plural, sharing, status, name_field,
            needs_name=not full_name.endswith(KNOWLEDGE_SUFFIX),
        )  # fmt: skip

    fields: list[CustomFieldSpec] = []
    for el in children(root, "fields"):
        f = _parse_field(el, file, ctx, log)
        if f is not None:
            fields.append(f)
    for data, path in field_files:
        f = _parse_field_file(data, path, ctx, log)
        if f is not None:
            fields.append(f)
    _check_duplicates(fields, log)
    _check_master_details(full_name, fields, log)
    if (
        not ctx.standard
        and sharing
        and sharing != "ControlledByParent"
        and any(f.type == "MasterDetail" and f.formula is None for f in fields)
    ):
        r.problem(
            f"sharingModel must be ControlledByParent on an object with a master-detail "
            f"field (it is {sharing})",
            child(root, "sharingModel"),
        )
    return CustomObjectSpec(
        full_name=full_name,
        label=label,
        plural_label=plural,
        description=r.text(root, "description", strip=False) or "",
        deployment_status=status,
        sharing_model=sharing,
        name_field=name_field,
        fields=tuple(fields),
        file=file,
        notes=tuple(ctx.notes),
    )


def _check_object_name(name: str, file: str, root: Element | None, log: ProblemLog) -> None:
    node = root
    if _OTHER_SUFFIX_RE.search(name):
        log.add(
            file,
            f"Object {name}: only custom objects (__c), knowledge article types (__kav) "
            "and standard objects can be deployed",
            node=node,
            component=name,
        )
        return
    base = re.sub(r"__(c|kav)$", "", name)
    if not API_NAME_RE.match(name) or "__" in base:
        log.add(
            file,
            f"Invalid object API name '{name}': it must start with a letter, use "
            f"only letters, digits and single underscores, not end with an underscore, "
            f"and a custom object's name ends in __c",
            node=node,
            component=name,
        )
    elif len(base) > MAX_NAME_LENGTH:
        log.add(
            file,
            f"Object name '{name}' is longer than {MAX_NAME_LENGTH} characters (without __c)",
            node=node,
            component=name,
        )


def _check_custom_object(
    root: Element,
    r: Reader,
    label: str,
    plural: str,
    sharing: str,
    status: str,
    name_field: NameFieldSpec | None,
    *,
    needs_name: bool = True,
) -> None:
    if not label:
        r.problem("A custom object needs a <label>", root, "label")
    elif len(label) > MAX_LABEL_LENGTH:
        r.problem(f"label is longer than {MAX_LABEL_LENGTH} characters", child(root, "label"))
    if not plural:
        r.problem("A custom object needs a <pluralLabel>", root, "pluralLabel")
    elif len(plural) > MAX_LABEL_LENGTH:
        r.problem(
            f"pluralLabel is longer than {MAX_LABEL_LENGTH} characters", child(root, "pluralLabel")
        )
    if sharing and sharing not in SHARING_MODELS:
        r.problem(
            f"'{sharing}' is not a valid sharingModel (one of {', '.join(sorted(SHARING_MODELS))})",
            child(root, "sharingModel"),
        )
    if status and status not in DEPLOYMENT_STATUSES:
        r.problem(
            f"'{status}' is not a valid deploymentStatus (Deployed or InDevelopment)",
            child(root, "deploymentStatus"),
        )
    nf = child(root, "nameField")
    if not needs_name:
        return  # a knowledge article type has Title instead
    if nf is None or name_field is None:
        r.problem("A custom object needs a <nameField>", root, "nameField")
        return
    if not name_field.label:
        r.problem("<nameField> needs a <label>", nf, "label")
    if name_field.type not in ("Text", "AutoNumber"):
        r.problem(
            f"The name field's type must be Text or AutoNumber, not '{name_field.type}'",
            child_or(nf, "type"),
        )
    if name_field.type == "AutoNumber":
        fmt = name_field.display_format
        if not fmt:
            r.problem("An AutoNumber name field needs a <displayFormat>", nf, "displayFormat")
        elif not _AUTONUMBER_FORMAT_RE.search(fmt):
            r.problem(
                f"displayFormat '{fmt}' has no {{0}} number placeholder", child(nf, "displayFormat")
            )


def _parse_name_field(root: Element, r: Reader) -> NameFieldSpec | None:
    nf = child(root, "nameField")
    if nf is None:
        return None
    return NameFieldSpec(
        label=r.text(nf, "label") or "",
        type=r.text(nf, "type") or "Text",
        display_format=r.text(nf, "displayFormat"),
        starting_number=r.integer(nf, "startingNumber"),
        description=r.text(nf, "description", strip=False) or "",
    )


def _parse_field_file(
    content: bytes, file: str, ctx: _ObjectContext, log: ProblemLog
) -> CustomFieldSpec | None:
    stem = file.rsplit("/", 1)[-1].removesuffix(".field-meta.xml")
    try:
        root = parse_xml(content, file, root="CustomField", component=f"{ctx.name}.{stem}")
    except DeployError as exc:
        log.extend(exc.problems)
        return None
    return _parse_field(root, file, ctx, log, file_stem=stem)


def _parse_field(
    el: Element,
    file: str,
    ctx: _ObjectContext,
    log: ProblemLog,
    *,
    file_stem: str | None = None,
) -> CustomFieldSpec | None:
    r = Reader(file, log, ctx.name)
    name = r.text(el, "fullName") or ""
    if name.lower().startswith(ctx.name.lower() + "."):
        name = name[len(ctx.name) + 1 :]
    if file_stem is not None:
        if name and name != file_stem:
            ctx.notes.append(
                f"{file}: <fullName>{name}</fullName> ignored; the file name gives {file_stem}"
            )
        name = file_stem
    if not name:
        r.problem("A field has no <fullName>", el, "fullName")
        return None
    r = r.for_component(f"{ctx.name}.{name}")
    ftype = r.text(el, "type") or r.text(el, "returnType") or ""
    formula = r.text(el, "formula", strip=False)
    spec = CustomFieldSpec(
        full_name=name,
        type=ftype,
        label=r.text(el, "label") or "",
        description=r.text(el, "description", strip=False) or "",
        inline_help_text=r.text(el, "inlineHelpText", strip=False) or "",
        length=r.integer(el, "length"),
        precision=r.integer(el, "precision"),
        scale=r.integer(el, "scale"),
        visible_lines=r.integer(el, "visibleLines"),
        required=r.boolean(el, "required"),
        unique=r.boolean(el, "unique"),
        external_id=r.boolean(el, "externalId"),
        case_sensitive=r.boolean(el, "caseSensitive"),
        default_value=r.text(el, "defaultValue", strip=False),
        formula=formula.strip() if formula is not None and formula.strip() else None,
        formula_treat_blanks_as=r.text(el, "formulaTreatBlanksAs"),
        reference_to=r.text(el, "referenceTo"),
        relationship_name=r.text(el, "relationshipName"),
        relationship_label=r.text(el, "relationshipLabel"),
        delete_constraint=r.text(el, "deleteConstraint"),
        reparentable=r.boolean(el, "reparentableMasterDetail"),
        write_requires_master_read=r.boolean(el, "writeRequiresMasterRead"),
        display_format=r.text(el, "displayFormat"),
        starting_number=r.integer(el, "startingNumber"),
        mask_char=r.text(el, "maskChar"),
        mask_type=r.text(el, "maskType"),
        file=file,
        line=line_of(el),
    )
    if ftype in ("Picklist", "MultiselectPicklist"):
        spec = _with_picklist(spec, el, r)
    if spec.is_custom:
        _check_field(spec, el, r, ctx)
    elif ctx.standard or name.lower() in _STANDARD_FIELD_NAMES:
        if not API_NAME_RE.match(name) or "__" in name:
            r.problem(f"Invalid field API name '{name}'", child_or(el, "fullName"), "fullName")
        else:
            ctx.notes.append(f"{ctx.name}.{name}: a standard field; its settings are not applied")
    else:
        r.problem(
            f"Invalid field API name '{name}': custom field names end in __c",
            child_or(el, "fullName"),
            "fullName",
        )
    return spec


def _with_picklist(spec: CustomFieldSpec, el: Element, r: Reader) -> CustomFieldSpec:
    values: list[PicklistValue] = []
    restricted = sorted_values = False
    value_set_name: str | None = None
    value_els: list[Element] = []
    vs = child(el, "valueSet")
    if vs is not None:
        restricted = r.boolean(vs, "restricted")
        value_set_name = r.text(vs, "valueSetName") or None
        vsd = child(vs, "valueSetDefinition")
        if vsd is not None:
            sorted_values = r.boolean(vsd, "sorted")
            value_els = children(vsd, "value")
    else:
        old = child(el, "picklist")
        if old is not None:
            restricted = r.boolean(old, "restrictedPicklist")
            sorted_values = r.boolean(old, "sorted")
            value_els = children(old, "picklistValues")
    for v in value_els:
        label = r.text(v, "label")
        values.append(
            PicklistValue(
                value=r.text(v, "fullName") or "",
                label=label,
                default=r.boolean(v, "default"),
                active=r.boolean(v, "isActive", True),
            )
        )
    return replace(
        spec,
        picklist=tuple(values),
        restricted=restricted,
        sorted_values=sorted_values,
        value_set_name=value_set_name,
    )


# -- validation ---------------------------------------------------------------------


def _check_field(spec: CustomFieldSpec, el: Element, r: Reader, ctx: _ObjectContext) -> None:
    name = spec.full_name
    base = name[:-3]
    at = child_or(el, "fullName")

    def bad(message: str, element: str, node: Element | None = None) -> None:
        r.problem(message, node if node is not None else (child_or(el, element)), element)

    if not API_NAME_RE.match(name) or "__" in base:
        bad(
            f"Invalid field API name '{name}': it must start with a letter, use only "
            f"letters, digits and single underscores, not end with an underscore, and end "
            f"in __c",
            "fullName",
            at,
        )
    elif len(base) > MAX_NAME_LENGTH:
        bad(
            f"Field name '{name}' is longer than {MAX_NAME_LENGTH} characters (without __c)",
            "fullName",
            at,
        )
    if not spec.label:
        bad(f"Field {name} needs a <label>", "label", el)
    elif len(spec.label) > MAX_LABEL_LENGTH:
        bad(f"Field {name}: label is longer than {MAX_LABEL_LENGTH} characters", "label")
    t = spec.type
    if not t:
        bad(f"Field {name} needs a <type>", "type", el)
        return
    if spec.formula is not None:
        _check_formula(spec, bad)
        return
    if t in UNSUPPORTED_FIELD_TYPES:
        bad(f"Field {name}: type {t} ({UNSUPPORTED_FIELD_TYPES[t]}) is not supported", "type")
        return
    if t not in FIELD_TYPES:
        bad(f"Field {name}: unknown field type '{t}'", "type")
        return
    if t == "Text":
        _check_range(spec.length, 1, 255, f"Field {name}: Text length", "length", bad)
    elif t == "EncryptedText":
        _check_range(spec.length, 1, 175, f"Field {name}: EncryptedText length", "length", bad)
    elif t in ("LongTextArea", "Html"):
        _check_range(spec.length, 256, 131072, f"Field {name}: {t} length", "length", bad)
    elif t in _NUMBER_TYPES:
        _check_number(spec, bad)
    elif t in ("Picklist", "MultiselectPicklist"):
        _check_picklist(spec, el, r)
    elif t in ("Lookup", "MasterDetail"):
        _check_reference(spec, bad)
    elif t == "AutoNumber":
        if not spec.display_format:
            bad(f"Field {name}: an AutoNumber field needs a <displayFormat>", "displayFormat", el)
        elif not _AUTONUMBER_FORMAT_RE.search(spec.display_format):
            bad(
                f"Field {name}: displayFormat '{spec.display_format}' has no {{0}} number "
                f"placeholder",
                "displayFormat",
            )
    if spec.external_id and t not in _EXTERNAL_ID_TYPES:
        bad(
            f"Field {name}: a {t} field cannot be an External ID (only Text, Number, Email "
            f"and AutoNumber)",
            "externalId",
        )
    if spec.default_value is not None and spec.default_value.strip():
        if t == "Checkbox" and parse_bool(spec.default_value) is None:
            bad(
                f"Field {name}: a Checkbox defaultValue must be true or false, not "
                f"'{spec.default_value.strip()}'",
                "defaultValue",
            )
        elif t in ("AutoNumber", "MasterDetail"):
            bad(f"Field {name}: a {t} field cannot have a defaultValue", "defaultValue")
        else:
            value = parse_default(t, spec.default_value)
            if isinstance(value, FormulaDefault):
                ctx.notes.append(
                    f"{ctx.name}.{name}: defaultValue {value.strip()!r} is a "
                    f"formula; it is kept as FormulaDefault"
                )


def _check_range(
    value: int | None,
    low: int,
    high: int,
    what: str,
    element: str,
    bad: _Bad,
) -> None:
    if value is None:
        bad(f"{what} is required ({low} to {high})", element)
    elif not low <= value <= high:
        bad(f"{what} must be between {low} and {high}, not {value}", element)


def _check_number(spec: CustomFieldSpec, bad: _Bad) -> None:
    name = spec.full_name
    if spec.precision is None:
        bad(f"Field {name}: a {spec.type} field needs a <precision> (1 to 18)", "precision")
        return
    if not 1 <= spec.precision <= 18:
        bad(f"Field {name}: precision must be between 1 and 18, not {spec.precision}", "precision")
    scale = spec.scale or 0
    if scale < 0 or scale > spec.precision:
        bad(
            f"Field {name}: scale must be between 0 and the precision ({spec.precision}), "
            f"not {scale}",
            "scale",
        )


def _check_formula(spec: CustomFieldSpec, bad: _Bad) -> None:
    name = spec.full_name
    if spec.type not in FORMULA_RESULT_TYPES:
        bad(
            f"Field {name}: a formula cannot return {spec.type} (one of "
            f"{', '.join(sorted(FORMULA_RESULT_TYPES))})",
            "type",
        )
        return
    if spec.type in _NUMBER_TYPES:
        _check_number(spec, bad)
    if spec.formula_treat_blanks_as and spec.formula_treat_blanks_as not in FORMULA_BLANKS:
        bad(
            f"Field {name}: formulaTreatBlanksAs must be BlankAsZero or BlankAsBlank",
            "formulaTreatBlanksAs",
        )
    if spec.default_value:
        bad(f"Field {name}: a formula field cannot have a defaultValue", "defaultValue")
    if spec.required or spec.unique or spec.external_id:
        bad(
            f"Field {name}: a formula field cannot be required, unique or an External ID", "formula"
        )


def _check_picklist(spec: CustomFieldSpec, el: Element, r: Reader) -> None:
    name = spec.full_name
    vs = child(el, "valueSet")
    value_els: list[Element] = []
    if vs is not None:
        vsd = child(vs, "valueSetDefinition")
        value_els = children(vsd, "value") if vsd is not None else []
    else:
        old = child(el, "picklist")
        value_els = children(old, "picklistValues") if old is not None else []
    if spec.value_set_name:
        return  # a global value set, resolved by whoever knows it
    if not spec.picklist:
        r.problem(
            f"Field {name}: a {spec.type} field needs at least one value",
            vs if vs is not None else el,
            "valueSet",
        )
        return
    seen: set[str] = set()
    for value, v_el in zip(spec.picklist, value_els, strict=True):
        node = child_or(v_el, "fullName")
        if not value.value:
            r.problem(f"Field {name}: a picklist value has no <fullName>", node, "fullName")
            continue
        if len(value.value) > 255:
            r.problem(
                f"Field {name}: picklist value '{value.value[:40]}...' is longer than "
                f"255 characters",
                node,
                "fullName",
            )
        key = value.value.lower()
        if key in seen:
            r.problem(f"Field {name}: duplicate picklist value '{value.value}'", node, "fullName")
        seen.add(key)
    defaults = [v for v in spec.picklist if v.default]
    if spec.type == "Picklist" and len(defaults) > 1:
        r.problem(
            f"Field {name}: a picklist can have only one default value "
            f"({', '.join(v.value for v in defaults)})",
            el,
            "default",
        )


def _check_reference(spec: CustomFieldSpec, bad: _Bad) -> None:
    name = spec.full_name
    if not spec.reference_to:
        bad(f"Field {name}: a {spec.type} field needs <referenceTo>", "referenceTo")
    elif not API_NAME_RE.match(spec.reference_to):
        bad(
            f"Field {name}: referenceTo '{spec.reference_to}' is not a valid object name",
            "referenceTo",
        )
    rel = spec.relationship_name
    if not rel:
        bad(f"Field {name}: a {spec.type} field needs a <relationshipName>", "relationshipName")
    elif not API_NAME_RE.match(rel) or "__" in rel:
        bad(
            f"Field {name}: relationshipName '{rel}' must start with a letter and use only "
            f"letters, digits and single underscores (no __r suffix)",
            "relationshipName",
        )
    if spec.delete_constraint and spec.delete_constraint not in DELETE_CONSTRAINTS:
        bad(
            f"Field {name}: deleteConstraint must be Cascade, Restrict or SetNull",
            "deleteConstraint",
        )
    if spec.type == "Lookup" and spec.required and spec.delete_constraint == "SetNull":
        bad(
            f"Field {name}: a required lookup cannot use deleteConstraint SetNull",
            "deleteConstraint",
        )


class _Bad(Protocol):
    def __call__(self, message: str, element: str, node: Element | None = None) -> None: ...


def _check_duplicates(fields: Iterable[CustomFieldSpec], log: ProblemLog) -> None:
    seen: dict[str, CustomFieldSpec] = {}
    for f in fields:
        key = f.full_name.lower()
        first = seen.get(key)
        if first is not None:
            where = f"{first.file}:{first.line}" if first.line else first.file
            log.add(
                f.file,
                f"Field {f.full_name} is defined twice (first at {where})",
                line=f.line,
                element="fullName",
                component=f.full_name,
            )
        else:
            seen[key] = f


def _check_master_details(obj: str, fields: Sequence[CustomFieldSpec], log: ProblemLog) -> None:
    mds = [f for f in fields if f.type == "MasterDetail" and f.formula is None]
    if len(mds) > MAX_MASTER_DETAIL:
        extra = mds[MAX_MASTER_DETAIL]
        log.add(
            extra.file,
            f"Object {obj} has {len(mds)} master-detail fields; at most "
            f"{MAX_MASTER_DETAIL} are allowed",
            line=extra.line,
            element="type",
            component=f"{obj}.{extra.full_name}",
        )


# -- writing ------------------------------------------------------------------------


def to_xml(spec: CustomObjectSpec, *, include_fields: bool = True) -> bytes:
    """The CustomObject file (Metadata API layout, fields inline unless told not to)."""
    root = new_root("CustomObject")
    if spec.has_definition:
        add_value(root, "deploymentStatus", spec.deployment_status or None)
        add_value(root, "description", spec.description or None)
    if include_fields:
        for f in spec.fields:
            _write_field(add_element(root, "fields"), f)
    if spec.has_definition:
        add_value(root, "label", spec.label or None)
        if spec.name_field is not None:
            nf = add_element(root, "nameField")
            n = spec.name_field
            add_value(nf, "description", n.description or None)
            add_value(nf, "displayFormat", n.display_format)
            add_value(nf, "label", n.label)
            add_value(nf, "startingNumber", n.starting_number)
            add_value(nf, "type", n.type)
        add_value(root, "pluralLabel", spec.plural_label or None)
        add_value(root, "sharingModel", spec.sharing_model or None)
    return to_bytes(root)


def field_to_xml(spec: CustomFieldSpec) -> bytes:
    """One CustomField file (SFDX ``fields/F__c.field-meta.xml``)."""
    root = new_root("CustomField")
    _write_field(root, spec)
    return to_bytes(root)


def _write_field(el: Element, f: CustomFieldSpec) -> None:
    add_value(el, "fullName", f.full_name)
    add_value(el, "caseSensitive", f.case_sensitive or None)
    add_value(el, "defaultValue", f.default_value)
    add_value(el, "deleteConstraint", f.delete_constraint)
    add_value(el, "description", f.description or None)
    add_value(el, "displayFormat", f.display_format)
    add_value(el, "externalId", f.external_id or None)
    add_value(el, "formula", f.formula)
    add_value(el, "formulaTreatBlanksAs", f.formula_treat_blanks_as)
    add_value(el, "inlineHelpText", f.inline_help_text or None)
    add_value(el, "label", f.label or None)
    add_value(el, "length", f.length)
    add_value(el, "maskChar", f.mask_char)
    add_value(el, "maskType", f.mask_type)
    add_value(el, "precision", f.precision)
    add_value(el, "referenceTo", f.reference_to)
    add_value(el, "relationshipLabel", f.relationship_label)
    add_value(el, "relationshipName", f.relationship_name)
    add_value(el, "reparentableMasterDetail", f.reparentable or None)
    add_value(el, "required", f.required or None)
    add_value(el, "scale", f.scale)
    add_value(el, "startingNumber", f.starting_number)
    add_value(el, "type", f.type or None)
    add_value(el, "unique", f.unique or None)
    if f.type in ("Picklist", "MultiselectPicklist") and (f.picklist or f.value_set_name):
        vs = add_element(el, "valueSet")
        add_value(vs, "restricted", f.restricted or None)
        if f.value_set_name:
            add_value(vs, "valueSetName", f.value_set_name)
        if f.picklist:
            vsd = add_element(vs, "valueSetDefinition")
            add_value(vsd, "sorted", f.sorted_values)
            for p in f.picklist:
                v = add_element(vsd, "value")
                add_value(v, "fullName", p.value)
                add_value(v, "default", p.default)
                add_value(v, "isActive", None if p.active else False)
                add_value(v, "label", p.label)
    add_value(el, "visibleLines", f.visible_lines)
    add_value(el, "writeRequiresMasterRead", f.write_requires_master_read or None)


__all__ = [
    "FIELD_TYPES",
    "FORMULA_RESULT_TYPES",
    "UNSUPPORTED_FIELD_TYPES",
    "CustomFieldSpec",
    "CustomObjectSpec",
    "FormulaDefault",
    "NameFieldSpec",
    "field_to_xml",
    "object_name_from_path",
    "objects_from_package",
    "parse_custom_field",
    "parse_custom_object",
    "parse_default",
    "to_xml",
]
