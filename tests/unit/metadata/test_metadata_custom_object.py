"""CustomObject metadata: field types, both layouts, validation, write back, schema."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from workroute.kernel.errors import DeployError, DeployProblem
from workroute.metadata.custom_object import (
    CustomFieldSpec,
    CustomObjectSpec,
    FormulaDefault,
    NameFieldSpec,
    field_to_xml,
    object_name_from_path,
    objects_from_package,
    parse_custom_field,
    parse_custom_object,
    parse_default,
    to_xml,
)
from workroute.metadata.package import read_package
from workroute.metadata.xmlio import ProblemLog
from workroute.schema.model import FieldDef, FieldType, ObjectDef, PicklistValue
from workroute.schema.registry import SchemaRegistry

FIXTURES = Path(__file__).parents[2] / "fixtures" / "metadata"
INVOICE_PATH = "objects/Invoice__c.object"
INVOICE = (FIXTURES / "mdapi_basic" / INVOICE_PATH).read_bytes()
CASE = (FIXTURES / "mdapi_basic" / "objects/Case.object").read_bytes()
SFDX_OBJ = FIXTURES / "sfdx_basic/force-app/main/default/objects"


@pytest.fixture(scope="module")
def invoice() -> CustomObjectSpec:
    return parse_custom_object(INVOICE, INVOICE_PATH)


@pytest.fixture(scope="module")
def invoice_def(invoice: CustomObjectSpec) -> ObjectDef:
    return invoice.to_object_def("a01")


def fdef(obj: ObjectDef, name: str) -> FieldDef:
    f = obj.field(name)
    assert f is not None, name
    return f


# -- the Metadata API layout --------------------------------------------------------


def test_object_attributes(invoice: CustomObjectSpec, invoice_def: ObjectDef) -> None:
    assert invoice.full_name == "Invoice__c"
    assert invoice.is_custom and not invoice.is_standard
    assert invoice.label == "Invoice"
    assert invoice.plural_label == "Invoices"
    assert invoice.description == "Invoices sent to customers."
    assert invoice.deployment_status == "Deployed"
    assert invoice.sharing_model == "ReadWrite"
    assert invoice.has_owner
    assert invoice.file == INVOICE_PATH
    assert invoice_def.name == "Invoice__c"
    assert invoice_def.key_prefix == "a01"
    assert invoice_def.custom and invoice_def.has_owner
    assert (invoice_def.label, invoice_def.label_plural) == ("Invoice", "Invoices")
    assert invoice_def.description == "Invoices sent to customers."
    assert len(invoice.fields) == 23
    assert invoice_def.fields[0].name == "Name"
    assert [f.name for f in invoice_def.fields[1:]] == [f.full_name for f in invoice.fields]


def test_auto_number_name_field(invoice: CustomObjectSpec, invoice_def: ObjectDef) -> None:
    assert invoice.name_field == NameFieldSpec(
        label="Invoice Number", type="AutoNumber", display_format="INV-{0000}"
    )
    name = invoice_def.name_field
    assert name is not None and name.name == "Name"
    assert name.type is FieldType.STRING
    assert name.auto_number and name.display_format == "INV-{0000}"
    assert not name.createable and not name.updateable
    assert not name.nillable and name.defaulted_on_create and not name.required
    assert name.id_lookup and not name.custom


def test_text_name_field() -> None:
    spec = parse_custom_object(
        (SFDX_OBJ / "Invoice_Line__c/Invoice_Line__c.object-meta.xml").read_bytes(),
        "Invoice_Line__c.object-meta.xml",
    )
    name = spec.to_object_def("a02").name_field
    assert name is not None
    assert (name.type, name.length, name.label) == (FieldType.STRING, 80, "Line Description")
    assert name.createable and name.updateable and not name.nillable and not name.required


# name, type, length, precision, scale, nillable, required, default
SIMPLE_FIELDS = [
    ("Amount__c", FieldType.CURRENCY, 0, 16, 2, False, False, 0),
    ("Billing_Email__c", FieldType.EMAIL, 80, 0, 0, True, False, None),
    ("Billing_Phone__c", FieldType.PHONE, 40, 0, 0, True, False, None),
    ("Portal_Link__c", FieldType.URL, 255, 0, 0, True, False, None),
    ("Paid__c", FieldType.BOOLEAN, 0, 0, 0, False, False, False),
    ("Discount__c", FieldType.PERCENT, 0, 5, 2, True, False, None),
    ("Line_Count__c", FieldType.DOUBLE, 0, 18, 0, True, False, None),
    ("Sent_At__c", FieldType.DATETIME, 0, 0, 0, True, False, None),
    ("Cutoff_Time__c", FieldType.TIME, 0, 0, 0, True, False, None),
    ("External_Ref__c", FieldType.STRING, 40, 0, 0, True, False, None),
    ("Memo__c", FieldType.STRING, 120, 0, 0, True, False, "Thank you for your business"),
    ("Notes__c", FieldType.TEXTAREA, 255, 0, 0, True, False, None),
    ("Terms__c", FieldType.TEXTAREA, 32768, 0, 0, True, False, None),
    ("Body_Html__c", FieldType.TEXTAREA, 131072, 0, 0, True, False, None),
]


@pytest.mark.parametrize(
    ("name", "ftype", "length", "precision", "scale", "nillable", "required", "default"),
    SIMPLE_FIELDS,
)
def test_field_types(
    invoice_def: ObjectDef,
    name: str,
    ftype: FieldType,
    length: int,
    precision: int,
    scale: int,
    nillable: bool,
    required: bool,
    default: object,
) -> None:
    f = fdef(invoice_def, name)
    assert f.type is ftype
    assert (f.length, f.precision, f.scale) == (length, precision, scale)
    assert (f.nillable, f.required) == (nillable, required)
    assert f.default == default
    assert type(f.default) is type(default)
    assert f.defaulted_on_create == (default is not None)
    assert f.createable and f.updateable and f.custom and not f.calculated


def test_labels_and_flags(invoice_def: ObjectDef) -> None:
    ext = fdef(invoice_def, "External_Ref__c")
    assert ext.label == "External Ref"
    assert ext.unique and ext.external_id and ext.case_sensitive and ext.id_lookup
    assert not fdef(invoice_def, "Memo__c").unique


def test_formula_default_is_kept_raw(invoice: CustomObjectSpec, invoice_def: ObjectDef) -> None:
    f = fdef(invoice_def, "Invoice_Date__c")
    assert f.type is FieldType.DATE
    # The spec keeps the raw text; the FieldDef carries it as a formula, never as a value.
    spec = next(x for x in invoice.fields if x.full_name == "Invoice_Date__c")
    assert isinstance(spec.default(), FormulaDefault)
    assert f.default is None
    assert f.default_formula == "TODAY()"
    assert f.defaulted_on_create
    assert any("Invoice_Date__c" in n and "formula" in n for n in invoice.notes)


def test_picklist_new_style(invoice: CustomObjectSpec, invoice_def: ObjectDef) -> None:
    f = fdef(invoice_def, "Status__c")
    assert f.type is FieldType.PICKLIST and f.length == 255
    assert f.restricted_picklist
    assert f.picklist == (
        PicklistValue(value="Draft", label="Draft", default=True),
        PicklistValue(value="Sent", label="Sent"),
        PicklistValue(value="Paid", label="Paid in full"),
        PicklistValue(value="Void", label="Void", active=False),
    )
    assert f.picklist_values() == ["Draft", "Sent", "Paid"]
    assert f.default == "Draft" and f.defaulted_on_create
    spec = next(s for s in invoice.fields if s.full_name == "Status__c")
    assert spec.restricted and not spec.sorted_values


def test_multiselect_picklist(invoice: CustomObjectSpec, invoice_def: ObjectDef) -> None:
    f = fdef(invoice_def, "Channels__c")
    assert f.type is FieldType.MULTIPICKLIST and f.length == 4099
    assert not f.restricted_picklist
    assert f.picklist_values() == ["Email", "Post", "Portal"]
    assert f.default == "Email;Post"
    spec = next(s for s in invoice.fields if s.full_name == "Channels__c")
    assert spec.sorted_values and spec.visible_lines == 4


def test_picklist_old_style(invoice_def: ObjectDef) -> None:
    f = fdef(invoice_def, "Region__c")
    assert f.type is FieldType.PICKLIST
    assert not f.restricted_picklist
    assert f.picklist == (
        PicklistValue(value="EMEA", label="EMEA"),
        PicklistValue(value="AMER", label="AMER", default=True),
        PicklistValue(value="APAC", label="APAC"),
    )
    assert f.default == "AMER"


def test_lookup(invoice_def: ObjectDef) -> None:
    f = fdef(invoice_def, "Account__c")
    assert f.type is FieldType.REFERENCE and f.length == 18
    assert f.reference_to == ("Account",)
    # SOQL's parent path is Account__r; <relationshipName> names Account's child list.
    assert f.relationship_name == "Account__r"
    assert f.child_relationship == "Invoices__r"
    assert f.nillable and not f.required and f.updateable
    assert invoice_def.relationship("account__r") is f


def test_auto_number_field(invoice_def: ObjectDef) -> None:
    f = fdef(invoice_def, "Tracking_Number__c")
    assert f.type is FieldType.STRING and f.auto_number
    assert f.display_format == "TRK-{000000}"
    assert not f.createable and not f.updateable and not f.nillable
    assert f.external_id


@pytest.mark.parametrize(
    ("name", "ftype", "length", "formula"),
    [
        ("Total_With_Tax__c", FieldType.CURRENCY, 0, "Amount__c * (1 + Discount__c)"),
        (
            "Is_Overdue__c",
            FieldType.BOOLEAN,
            0,
            "AND(NOT(Paid__c), Invoice_Date__c < TODAY() - 30)",
        ),
        ("Summary_Line__c", FieldType.STRING, 1300, 'Name & " - " & TEXT(Status__c)'),
    ],
)
def test_formula_fields(
    invoice_def: ObjectDef, name: str, ftype: FieldType, length: int, formula: str
) -> None:
    f = fdef(invoice_def, name)
    assert f.type is ftype
    assert f.formula == formula and f.calculated
    assert f.length == length
    assert not f.createable and not f.updateable and f.nillable
    assert f.default is None


def test_formula_number_keeps_precision(invoice_def: ObjectDef) -> None:
    f = fdef(invoice_def, "Total_With_Tax__c")
    assert (f.precision, f.scale) == (18, 2)


def test_registry_accepts_the_object(invoice_def: ObjectDef) -> None:
    reg = SchemaRegistry()
    obj = reg.put(invoice_def)
    names = [f.name for f in obj.fields]
    assert names[:8] == [
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
        "OwnerId",
    ]
    assert names[8] == "Name"
    assert reg.by_prefix("a01") is obj


# -- standard objects ---------------------------------------------------------------


def test_standard_object_only_gains_custom_fields() -> None:
    spec = parse_custom_object(CASE, "objects/Case.object")
    assert spec.is_standard
    assert [f.full_name for f in spec.fields] == ["Origin", "Escalation_Tier__c", "Invoice__c"]
    assert [f.full_name for f in spec.custom_fields()] == ["Escalation_Tier__c", "Invoice__c"]
    assert any("Case.Origin" in n and "standard field" in n for n in spec.notes)
    with pytest.raises(ValueError, match="standard object"):
        spec.to_object_def("500")
    case = ObjectDef(
        name="Case",
        key_prefix="500",
        label="Case",
        label_plural="Cases",
        has_owner=True,
        fields=(
            FieldDef(name="Subject", type=FieldType.STRING, length=255),
            FieldDef(name="Origin", type=FieldType.PICKLIST, length=255),
        ),
    )
    merged = spec.merge_into(case)
    assert [f.name for f in merged.fields] == [
        "Subject",
        "Origin",
        "Escalation_Tier__c",
        "Invoice__c",
    ]
    assert merged.label == "Case" and merged.key_prefix == "500" and not merged.custom
    assert fdef(merged, "Origin") == case.fields[1]
    assert fdef(merged, "Invoice__c").reference_to == ("Invoice__c",)
    assert merged.relationship("Invoice__r") is not None


def test_redeploy_merges_fields(invoice: CustomObjectSpec, invoice_def: ObjectDef) -> None:
    smaller = CustomObjectSpec(
        full_name="Invoice__c",
        label="Bill",
        plural_label="Bills",
        sharing_model="Private",
        name_field=NameFieldSpec(label="Bill Number"),
        fields=(
            CustomFieldSpec(full_name="Memo__c", type="Text", label="Memo", length=200),
            CustomFieldSpec(full_name="Due__c", type="Date", label="Due"),
        ),
    )
    merged = smaller.merge_into(invoice_def)
    assert (merged.label, merged.label_plural, merged.key_prefix) == ("Bill", "Bills", "a01")
    names = [f.name for f in merged.fields]
    assert names == [f.name for f in invoice_def.fields] + ["Due__c"]
    assert fdef(merged, "Memo__c").length == 200
    name = merged.name_field
    assert name is not None and not name.auto_number and name.label == "Bill Number"
    assert fdef(merged, "Amount__c") == fdef(invoice_def, "Amount__c")


# -- SFDX layout --------------------------------------------------------------------


def test_sfdx_package_objects() -> None:
    pkg = read_package(FIXTURES / "sfdx_basic")
    specs = {s.full_name: s for s in objects_from_package(pkg)}
    assert set(specs) == {"Invoice_Line__c", "Case"}
    line = specs["Invoice_Line__c"]
    assert line.has_definition and line.sharing_model == "ControlledByParent"
    assert not line.has_owner
    obj = line.to_object_def("a02")
    assert not obj.has_owner
    md = fdef(obj, "Invoice__c")
    assert md.type is FieldType.REFERENCE and md.reference_to == ("Invoice__c",)
    assert md.relationship_name == "Invoice__r"
    assert md.child_relationship == "Invoice_Lines__r"
    assert not md.nillable and md.required and md.createable and not md.updateable
    qty = fdef(obj, "Quantity__c")
    assert (qty.type, qty.precision, qty.scale, qty.default) == (FieldType.DOUBLE, 10, 0, 1)
    assert not qty.nillable and not qty.required
    total = fdef(obj, "Line_Total__c")
    assert total.formula == "Quantity__c * Unit_Price__c" and not total.createable
    assert SchemaRegistry([obj]).get("invoice_line__c").field("OwnerId") is None

    case = specs["Case"]
    assert case.is_standard and not case.has_definition
    assert [f.full_name for f in case.fields] == ["Priority_Score__c"]
    assert case.fields[0].file.endswith("objects/Case/fields/Priority_Score__c.field-meta.xml")


def test_sfdx_fields_without_object_file_for_a_custom_object() -> None:
    field = (SFDX_OBJ / "Invoice_Line__c/fields/Quantity__c.field-meta.xml").read_bytes()
    pkg = read_package(_zip({"objects/Ticket__c/fields/Quantity__c.field-meta.xml": field}))
    [spec] = objects_from_package(pkg)
    assert spec.is_custom and not spec.has_definition
    with pytest.raises(ValueError, match="only fields"):
        spec.to_object_def("a03")
    existing = ObjectDef(
        name="Ticket__c",
        key_prefix="a03",
        label="Ticket",
        custom=True,
        fields=(FieldDef(name="Name", type=FieldType.STRING, name_field=True),),
    )
    merged = spec.merge_into(existing)
    assert merged.label == "Ticket"
    assert [f.name for f in merged.fields] == ["Name", "Quantity__c"]


def test_parse_custom_field_file() -> None:
    path = SFDX_OBJ / "Invoice_Line__c/fields/Unit_Price__c.field-meta.xml"
    spec = parse_custom_field(path.read_bytes(), path.name, object_name="Invoice_Line__c")
    assert spec == CustomFieldSpec(
        full_name="Unit_Price__c", type="Currency", label="Unit Price", precision=16, scale=2
    )
    assert spec.line == 2


def test_mdapi_package_objects() -> None:
    pkg = read_package(FIXTURES / "mdapi_basic")
    specs = objects_from_package(pkg)
    assert [s.full_name for s in specs] == ["Case", "Invoice__c"]
    assert specs[1] == parse_custom_object(INVOICE, INVOICE_PATH)


def test_object_name_from_path() -> None:
    assert object_name_from_path("objects/X__c.object") == "X__c"
    assert object_name_from_path("a/objects/X__c/X__c.object-meta.xml") == "X__c"


# -- default values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ftype", "raw", "expected"),
    [
        ("Checkbox", "true", True),
        ("Checkbox", "False", False),
        ("Number", "42", 42),
        ("Number", "-1.5", -1.5),
        ("Currency", "0.00", 0.0),
        ("Text", '"hello"', "hello"),
        ("Text", "'it\\'s'", "it's"),
        ("Picklist", '"New"', "New"),
        ("Text", "NULL", None),
        ("Text", "", None),
    ],
)
def test_literal_defaults(ftype: str, raw: str, expected: object) -> None:
    value = parse_default(ftype, raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("ftype", "raw"),
    [
        ("Date", "TODAY()"),
        ("DateTime", "NOW() + 1"),
        ("Text", "$User.Email"),
        ("Text", '"a" & "b"'),
        ("Number", "1 + 2"),
        ("Lookup", "$User.Id"),
    ],
)
def test_formula_defaults(ftype: str, raw: str) -> None:
    value = parse_default(ftype, raw)
    assert isinstance(value, FormulaDefault)
    assert value == raw
    assert repr(value) == f"FormulaDefault({raw!r})"


# -- validation ---------------------------------------------------------------------

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <deploymentStatus>Deployed</deploymentStatus>
    <fields>
"""
FIELD_LINE = 5  # the line of the first element inside <fields>
TAIL = """    </fields>
    <label>Ticket</label>
    <nameField>
        <label>Ticket Name</label>
        <type>Text</type>
    </nameField>
    <pluralLabel>Tickets</pluralLabel>
    <sharingModel>ReadWrite</sharingModel>
</CustomObject>
"""


def ticket(field_xml: str) -> bytes:
    body = "".join(f"        {line.strip()}\n" for line in field_xml.strip().splitlines())
    return (HEAD + body + TAIL).encode()


def problems(data: bytes, name: str = "Ticket__c") -> list[DeployProblem]:
    with pytest.raises(DeployError) as exc:
        parse_custom_object(data, f"objects/{name}.object")
    return exc.value.problems


def one_problem(data: bytes) -> DeployProblem:
    [p] = problems(data)
    return p


def test_valid_ticket_parses() -> None:
    spec = parse_custom_object(
        ticket(
            "<fullName>Code__c</fullName><label>Code</label><length>10</length>"
            "<type>Text</type>".replace("><", ">\n<")
        ),
        "objects/Ticket__c.object",
    )
    assert spec.fields[0].length == 10
    assert spec.fields[0].line == 4


def fieldxml(**elements: str) -> str:
    return "\n".join(f"<{k}>{v}</{k}>" for k, v in elements.items())


# (field elements, expected element, expected line offset from FIELD_LINE, message part)
INVALID_FIELDS = [
    (
        fieldxml(fullName="Foo__Bar__c", label="L", length="5", type="Text"),
        "fullName",
        0,
        "Invalid field API name 'Foo__Bar__c'",
    ),
    (
        fieldxml(fullName="Foo___c", label="L", length="5", type="Text"),
        "fullName",
        0,
        "Invalid field API name",
    ),
    (
        fieldxml(fullName="1Foo__c", label="L", length="5", type="Text"),
        "fullName",
        0,
        "Invalid field API name",
    ),
    (
        fieldxml(fullName="Plain", label="L", length="5", type="Text"),
        "fullName",
        0,
        "custom field names end in __c",
    ),
    (
        fieldxml(fullName="A" * 41 + "__c", label="L", length="5", type="Text"),
        "fullName",
        0,
        "longer than 40",
    ),
    (fieldxml(fullName="Code__c", length="5", type="Text"), "label", -1, "needs a <label>"),
    (fieldxml(fullName="Code__c", label="L", length="5"), "type", -1, "needs a <type>"),
    (
        fieldxml(fullName="Code__c", label="L", length="0", type="Text"),
        "length",
        2,
        "Text length must be between 1 and 255, not 0",
    ),
    (
        fieldxml(fullName="Code__c", label="L", length="256", type="Text"),
        "length",
        2,
        "Text length must be between 1 and 255, not 256",
    ),
    (fieldxml(fullName="Code__c", label="L", type="Text"), "length", -1, "Text length is required"),
    (
        fieldxml(fullName="Code__c", label="L", length="100", type="LongTextArea"),
        "length",
        2,
        "LongTextArea length must be between 256 and 131072",
    ),
    (
        fieldxml(fullName="Code__c", label="L", length="131073", type="Html"),
        "length",
        2,
        "Html length must be between 256 and 131072",
    ),
    (
        fieldxml(fullName="Code__c", label="L", precision="19", scale="0", type="Number"),
        "precision",
        2,
        "precision must be between 1 and 18, not 19",
    ),
    (
        fieldxml(fullName="Code__c", label="L", precision="4", scale="5", type="Number"),
        "scale",
        3,
        "scale must be between 0 and the precision (4), not 5",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Currency"),
        "precision",
        -1,
        "needs a <precision>",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Picklist"),
        "valueSet",
        -1,
        "needs at least one value",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Lookup", relationshipName="Codes"),
        "referenceTo",
        -1,
        "needs <referenceTo>",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Lookup", referenceTo="Account"),
        "relationshipName",
        -1,
        "needs a <relationshipName>",
    ),
    (
        fieldxml(
            fullName="Code__c",
            label="L",
            type="Lookup",
            referenceTo="Account",
            relationshipName="Codes__r",
        ),
        "relationshipName",
        4,
        "no __r suffix",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Hyperspace"),
        "type",
        2,
        "unknown field type 'Hyperspace'",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Summary"),
        "type",
        2,
        "type Summary (roll-up summary fields) is not supported",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Checkbox", defaultValue="yes"),
        "defaultValue",
        3,
        "must be true or false",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="AutoNumber"),
        "displayFormat",
        -1,
        "needs a <displayFormat>",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="AutoNumber", displayFormat="T-#"),
        "displayFormat",
        3,
        "has no {0} number placeholder",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Date", externalId="true"),
        "externalId",
        3,
        "cannot be an External ID",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Text", length="5", required="maybe"),
        "required",
        4,
        "'maybe' is not a valid value for <required>",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Date", length="many"),
        "length",
        3,
        "'many' is not a valid integer",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Picklist", formula="1"),
        "type",
        2,
        "a formula cannot return Picklist",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Number", formula="1"),
        "precision",
        -1,
        "needs a <precision>",
    ),
    (
        fieldxml(fullName="Code__c", label="L", type="Text", formula="'a'", required="true"),
        "formula",
        3,
        "cannot be required",
    ),
]


@pytest.mark.parametrize(("xml", "element", "offset", "message"), INVALID_FIELDS)
def test_invalid_fields(xml: str, element: str, offset: int, message: str) -> None:
    p = one_problem(ticket(xml))
    assert message in p.message
    assert p.element == element
    assert p.file == "objects/Ticket__c.object"
    assert p.line == (FIELD_LINE + offset if offset >= 0 else 4)
    assert p.component is not None and p.component.startswith("Ticket__c")


PICKLIST = """
<fullName>Stage__c</fullName>
<label>Stage</label>
<type>Picklist</type>
<valueSet>
<valueSetDefinition>
<value><fullName>New</fullName><default>true</default></value>
<value><fullName>Open</fullName><default>{default}</default></value>
<value><fullName>{third}</fullName><default>false</default></value>
</valueSetDefinition>
</valueSet>
"""


def test_duplicate_picklist_values() -> None:
    p = one_problem(ticket(PICKLIST.format(default="false", third="new")))
    assert p.message == "Field Stage__c: duplicate picklist value 'new'"
    assert (p.line, p.element, p.component) == (12, "fullName", "Ticket__c.Stage__c")


def test_two_defaults_in_a_picklist() -> None:
    p = one_problem(ticket(PICKLIST.format(default="true", third="Closed")))
    assert "only one default value (New, Open)" in p.message


def test_empty_picklist_value() -> None:
    p = one_problem(ticket(PICKLIST.format(default="false", third="")))
    assert "has no <fullName>" in p.message


def test_global_value_set_needs_no_values() -> None:
    spec = parse_custom_object(
        ticket(
            "<fullName>Stage__c</fullName>\n<label>Stage</label>\n<type>Picklist</type>\n"
            "<valueSet>\n<restricted>true</restricted>\n<valueSetName>Stages</valueSetName>\n"
            "</valueSet>"
        ),
        "objects/Ticket__c.object",
    )
    f = spec.fields[0]
    assert f.value_set_name == "Stages" and f.picklist == ()
    assert f.to_field_def().restricted_picklist
    assert parse_custom_object(to_xml(spec), "objects/Ticket__c.object") == spec


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Bad__Name__c", "Invalid object API name 'Bad__Name__c'"),
        ("Trailing___c", "Invalid object API name"),
        ("Setting__mdt", "only custom objects (__c), knowledge article types (__kav) and standard"),
        ("B" * 41 + "__c", "longer than 40 characters"),
    ],
)
def test_invalid_object_names(name: str, message: str) -> None:
    data = ticket(fieldxml(fullName="Code__c", label="L", length="5", type="Text"))
    found = problems(data, name)
    assert any(message in p.message for p in found)
    assert all(p.file == f"objects/{name}.object" for p in found)


def test_object_level_requirements() -> None:
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <deploymentStatus>Live</deploymentStatus>
    <sharingModel>Everyone</sharingModel>
</CustomObject>
"""
    found = {(p.element, p.line): p.message for p in problems(data)}
    assert found[("label", 2)] == "A custom object needs a <label>"
    assert found[("pluralLabel", 2)] == "A custom object needs a <pluralLabel>"
    assert found[("nameField", 2)] == "A custom object needs a <nameField>"
    assert "not a valid sharingModel" in found[("sharingModel", 4)]
    assert "not a valid deploymentStatus" in found[("deploymentStatus", 3)]


def test_name_field_requirements() -> None:
    data = ticket(fieldxml(fullName="Code__c", label="L", length="5", type="Text")).replace(
        b"<label>Ticket Name</label>\n        <type>Text</type>",
        b"<type>AutoNumber</type>",
    )
    msgs = {p.message for p in problems(data)}
    assert msgs == {
        "<nameField> needs a <label>",
        "An AutoNumber name field needs a <displayFormat>",
    }
    data = ticket(fieldxml(fullName="Code__c", label="L", length="5", type="Text")).replace(
        b"<type>Text</type>\n    </nameField>", b"<type>Number</type>\n    </nameField>"
    )
    assert "must be Text or AutoNumber" in one_problem(data).message


def test_duplicate_fields() -> None:
    one = fieldxml(fullName="Code__c", label="L", length="5", type="Text")
    data = ticket(one + "\n</fields>\n<fields>\n" + one.replace("Code__c", "CODE__c"))
    p = one_problem(data)
    assert "Field CODE__c is defined twice (first at objects/Ticket__c.object:4)" == p.message
    assert p.line == 10


def master_detail(n: int) -> str:
    return fieldxml(
        fullName=f"Parent{n}__c",
        label="P",
        referenceTo="Account",
        relationshipName=f"Kids{n}",
        type="MasterDetail",
    )


def test_at_most_two_master_details() -> None:
    body = "\n</fields>\n<fields>\n".join(master_detail(n) for n in range(3))
    data = ticket(body).replace(b"ReadWrite", b"ControlledByParent")
    p = one_problem(data)
    assert "3 master-detail fields; at most 2" in p.message
    assert p.component == "Ticket__c.Parent2__c"


def test_master_detail_needs_controlled_by_parent() -> None:
    p = one_problem(ticket(master_detail(1)))
    assert "sharingModel must be ControlledByParent" in p.message
    assert p.element == "sharingModel"
    spec = parse_custom_object(
        ticket(master_detail(1)).replace(b"<sharingModel>ReadWrite</sharingModel>\n", b""),
        "objects/Ticket__c.object",
    )
    assert spec.effective_sharing_model == "ControlledByParent" and not spec.has_owner


def test_all_problems_are_reported_together() -> None:
    bad = fieldxml(fullName="A__c", label="A", length="0", type="Text")
    worse = fieldxml(fullName="B__c", label="B", type="Nope")
    ps = problems(ticket(bad + "\n</fields>\n<fields>\n" + worse))
    assert [p.component for p in ps] == ["Ticket__c.A__c", "Ticket__c.B__c"]


def test_malformed_object_xml_has_its_line() -> None:
    data = ticket(fieldxml(fullName="Code__c", label="L", length="5", type="Text")).replace(
        b"<label>L</label>", b"<label>L</labl>"
    )
    p = one_problem(data)
    assert p.file == "objects/Ticket__c.object"
    assert p.line == 6
    assert "not well formed" in p.message


def test_malformed_sfdx_field_file_in_a_package() -> None:
    pkg = read_package(
        _zip(
            {
                "objects/Ticket__c/Ticket__c.object-meta.xml": ticket(
                    fieldxml(fullName="Code__c", label="L", length="5", type="Text")
                ),
                "objects/Ticket__c/fields/Bad__c.field-meta.xml": (
                    b"<CustomField>\n<fullName>Bad__c</fullName>\n<label>Bad</label\n</CustomField>"
                ),
            }
        )
    )
    with pytest.raises(DeployError) as exc:
        objects_from_package(pkg)
    [p] = exc.value.problems
    assert p.file == "objects/Ticket__c/fields/Bad__c.field-meta.xml"
    assert p.line == 4
    log = ProblemLog()
    assert objects_from_package(pkg, log=log) == []
    assert len(log) == 1


def test_field_problem_in_a_package_names_the_field_file() -> None:
    pkg = read_package(
        _zip(
            {
                "objects/Case/fields/Wide__c.field-meta.xml": (
                    b'<?xml version="1.0" encoding="UTF-8"?>\n'
                    b"<CustomField>\n<label>Wide</label>\n<length>999</length>\n<type>Text</type>\n"
                    b"</CustomField>"
                ),
            }
        )
    )
    with pytest.raises(DeployError) as exc:
        objects_from_package(pkg)
    [p] = exc.value.problems
    assert (p.file, p.line, p.element) == (
        "objects/Case/fields/Wide__c.field-meta.xml",
        4,
        "length",
    )
    assert p.component == "Case.Wide__c"


# -- files with and without namespace, CRLF, BOM -------------------------------------


def test_namespace_crlf_and_bom_do_not_change_the_model(invoice: CustomObjectSpec) -> None:
    bare = INVOICE.replace(b' xmlns="http://soap.sforce.com/2006/04/metadata"', b"")
    assert parse_custom_object(bare, INVOICE_PATH) == invoice
    crlf = b"\xef\xbb\xbf" + INVOICE.replace(b"\n", b"\r\n")
    assert parse_custom_object(crlf, INVOICE_PATH) == invoice


# -- writing back -------------------------------------------------------------------


def test_round_trip_mdapi(invoice: CustomObjectSpec) -> None:
    written = to_xml(invoice)
    assert written.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<CustomObject xmlns=')
    again = parse_custom_object(written, INVOICE_PATH)
    assert again == invoice
    assert to_xml(again) == written
    assert again.to_object_def("a01") == invoice.to_object_def("a01")


def test_round_trip_old_style_picklist_becomes_value_set(invoice: CustomObjectSpec) -> None:
    written = to_xml(invoice).decode()
    region = written[written.index("<fullName>Region__c</fullName>") :]
    region = region[: region.index("</fields>")]
    assert "<valueSet>" in region and "<picklistValues>" not in region


def test_round_trip_standard_object() -> None:
    spec = parse_custom_object(CASE, "objects/Case.object")
    written = to_xml(spec)
    assert b"<label>" not in written.split(b"</fields>")[-1]
    assert parse_custom_object(written, "objects/Case.object") == spec


def test_round_trip_sfdx() -> None:
    pkg = read_package(FIXTURES / "sfdx_basic")
    line = next(s for s in objects_from_package(pkg) if s.full_name == "Invoice_Line__c")
    inline = parse_custom_object(to_xml(line), "objects/Invoice_Line__c.object")
    assert inline == line
    bare = to_xml(line, include_fields=False)
    files = [(field_to_xml(f), f"fields/{f.full_name}.field-meta.xml") for f in line.fields]
    split = parse_custom_object(
        bare, "Invoice_Line__c.object-meta.xml", full_name="Invoice_Line__c", field_files=files
    )
    assert split == line


def test_round_trip_of_a_built_spec() -> None:
    spec = CustomObjectSpec(
        full_name="Visit__c",
        label="Visit",
        plural_label="Visits",
        description="Site visits\nby engineers",
        deployment_status="InDevelopment",
        sharing_model="Private",
        name_field=NameFieldSpec(
            label="Visit", type="AutoNumber", display_format="V-{00}", starting_number=100
        ),
        fields=(
            CustomFieldSpec(
                full_name="Secret__c",
                type="EncryptedText",
                label="Secret",
                length=100,
                mask_char="asterisk",
                mask_type="all",
            ),
            CustomFieldSpec(
                full_name="Kind__c",
                type="Picklist",
                label="Kind",
                restricted=True,
                sorted_values=True,
                picklist=(
                    PicklistValue(value="A & B", label="A and B"),
                    PicklistValue(value="C", default=True, active=False),
                ),
            ),
            CustomFieldSpec(
                full_name="Site__c",
                type="Lookup",
                label="Site",
                reference_to="Account",
                relationship_name="Visits",
                relationship_label="Visits",
                delete_constraint="Restrict",
                required=True,
                inline_help_text="Where <we> went",
            ),
            CustomFieldSpec(
                full_name="Score__c",
                type="Number",
                label="Score",
                precision=4,
                scale=1,
                default_value="2.5",
                unique=True,
            ),
        ),
    )
    written = to_xml(spec)
    assert parse_custom_object(written, "objects/Visit__c.object") == spec
    text = written.decode()
    assert "<fullName>A &amp; B</fullName>" in text
    assert "<isActive>false</isActive>" in text
    assert re.search(r"<fullName>Secret__c</fullName>\n\s+<label>Secret</label>", text)
    site = spec.to_object_def("a05").field("Site__c")
    assert site is not None and not site.nillable and site.required
    secret = spec.to_object_def("a05").field("secret__c")
    assert secret is not None and secret.type is FieldType.STRING and secret.length == 100
    score = spec.to_object_def("a05").field("Score__c")
    assert score is not None and score.default == 2.5 and score.unique


def test_field_to_xml_round_trip() -> None:
    path = SFDX_OBJ / "Invoice_Line__c/fields/Invoice__c.field-meta.xml"
    spec = parse_custom_field(path.read_bytes(), path.name, object_name="Invoice_Line__c")
    written = field_to_xml(spec)
    assert written.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<CustomField xmlns=')
    assert parse_custom_field(written, path.name, object_name="Invoice_Line__c") == spec


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()
