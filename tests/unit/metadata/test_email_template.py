"""Email template metadata (EmailTemplate) and merge fields."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from workroute.metadata.email_template import (
    EmailTemplateSpec,
    EmailTemplateStyle,
    EmailTemplateType,
    format_merge_value,
    merge_fields,
    render,
    template_from_component,
)
from workroute.metadata.package import Component, read_package
from workroute.metadata.xmlio import ProblemLog

META = """\
<?xml version="1.0" encoding="UTF-8"?>
<EmailTemplate xmlns="http://soap.sforce.com/2006/04/metadata">
    <available>true</available>
    <description>Sent to the case owner when a case is escalated</description>
    <encodingKey>UTF-8</encodingKey>
    <name>Case Escalated</name>
    <style>none</style>
    <subject>Case {!Case.CaseNumber} escalated: {!Case.Subject}</subject>
    <type>text</type>
    <uiType>Aloha</uiType>
</EmailTemplate>
"""

BODY = """\
Hello {!Case.OwnerFullName},

Case {!Case.CaseNumber} for {!Case.Account.Name} was escalated on {!Case.LastModifiedDate}.
Priority: {!Case.Priority}   Reopened: {!case.IsReopened__c}
Contact: {!Case.Contact.Email}

{!$Organization.Name}
"""


def component(
    meta: str | None = META, body: bytes = BODY.encode(), name: str = "Support/Case_Escalated"
) -> Component:
    path = f"unpackaged/email/{name}.email"
    return Component(
        type="EmailTemplate",
        full_name=name,
        path=path,
        content=body,
        meta_path=f"{path}-meta.xml" if meta is not None else None,
        meta_content=meta.encode() if meta is not None else None,
    )


def read(
    meta: str | None = META, body: bytes = BODY.encode()
) -> tuple[EmailTemplateSpec | None, ProblemLog]:
    log = ProblemLog()
    return template_from_component(component(meta, body), log), log


def test_reads_a_text_template() -> None:
    spec, log = read()
    assert not log
    assert spec is not None
    assert spec.full_name == "Support/Case_Escalated"
    assert (spec.folder, spec.developer_name) == ("Support", "Case_Escalated")
    assert spec.name == "Case Escalated"
    assert spec.type is EmailTemplateType.TEXT and not spec.is_html
    assert spec.style is EmailTemplateStyle.NONE
    assert spec.available is True
    assert spec.encoding == "UTF-8"
    assert spec.subject == "Case {!Case.CaseNumber} escalated: {!Case.Subject}"
    assert spec.description == "Sent to the case owner when a case is escalated"
    assert spec.body == BODY
    assert spec.path == "unpackaged/email/Support/Case_Escalated.email"
    assert spec.meta_path == spec.path + "-meta.xml"
    assert spec.lines["subject"] == 8 and spec.lines["type"] == 9
    assert spec.merge_fields() == (
        "Case.CaseNumber",
        "Case.Subject",
        "Case.OwnerFullName",
        "Case.Account.Name",
        "Case.LastModifiedDate",
        "Case.Priority",
        "case.IsReopened__c",
        "Case.Contact.Email",
        "$Organization.Name",
    )


def test_reads_a_template_from_a_package_folder(tmp_path: Path) -> None:
    folder = tmp_path / "email" / "Support"
    folder.mkdir(parents=True)
    (folder / "Case_Escalated.email").write_text(BODY)
    (folder / "Case_Escalated.email-meta.xml").write_text(META)
    package = read_package(tmp_path)
    [c] = package.of_type("EmailTemplate")
    log = ProblemLog()
    spec = template_from_component(c, log)
    assert not log
    assert spec is not None
    assert spec.full_name == "Support/Case_Escalated"
    assert spec.body == BODY


def test_html_template_with_text_only() -> None:
    meta = (
        META.replace("<type>text</type>", "<type>custom</type>")
        .replace("<style>none</style>", "<style>freeForm</style>")
        .replace(
            "</EmailTemplate>", "    <textOnly>Case {!Case.CaseNumber}</textOnly>\n</EmailTemplate>"
        )
    )
    spec, log = read(meta, b"\xef\xbb\xbf<p>Case {!Case.CaseNumber}</p>")
    assert not log and spec is not None
    assert spec.is_html and spec.type is EmailTemplateType.CUSTOM
    assert spec.style is EmailTemplateStyle.FREE_FORM
    assert spec.body == "<p>Case {!Case.CaseNumber}</p>"  # the BOM is dropped
    assert spec.text_only == "Case {!Case.CaseNumber}"


def test_missing_required_elements_are_located() -> None:
    meta = META.replace("    <name>Case Escalated</name>\n", "").replace(
        "<encodingKey>UTF-8</encodingKey>", "<encodingKey></encodingKey>"
    )
    spec, log = read(meta)
    assert spec is None
    found = {(p.element, p.line) for p in log.problems}
    assert found == {("name", 2), ("encodingKey", 5)}
    p = log.problems[0]
    assert p.file == "unpackaged/email/Support/Case_Escalated.email-meta.xml"
    assert p.component == "Support/Case_Escalated"
    assert "Required field is missing" in p.message


def test_unknown_type_and_style() -> None:
    meta = META.replace("<type>text</type>", "<type>markdown</type>").replace(
        "<style>none</style>", "<style>fancy</style>"
    )
    spec, log = read(meta)
    assert spec is None
    by_element = {p.element: p for p in log.problems}
    assert "'markdown' is not a valid email template type" in by_element["type"].message
    assert by_element["type"].line == 9
    assert "'fancy' is not a valid email template style" in by_element["style"].message


def test_visualforce_is_not_supported() -> None:
    meta = META.replace("<type>text</type>", "<type>visualforce</type>")
    spec, log = read(meta, b"<messaging:emailTemplate/>")
    assert spec is None
    [p] = log.problems
    assert p.element == "type" and p.line == 9
    assert "not supported" in p.message


def test_bad_boolean_missing_meta_bad_xml_and_bad_body() -> None:
    spec, log = read(META.replace("<available>true", "<available>yes"))
    assert spec is None and log.problems[0].element == "available"

    spec, log = read(None)
    assert spec is None
    assert "has no Case_Escalated.email-meta.xml file" in log.problems[0].message

    spec, log = read(META.replace("</EmailTemplate>", ""))
    assert spec is None and "not well formed" in log.problems[0].message

    spec, log = read(META.replace("EmailTemplate", "Workflow"))
    assert spec is None and "expected <EmailTemplate>" in log.problems[0].message

    spec, log = read(body=b"Caf\xe9")
    assert spec is None and "not valid UTF-8" in log.problems[0].message


# -- merge fields ---------------------------------------------------------------------


def test_merge_fields_in_order_without_duplicates() -> None:
    text = (
        "{!Case.CaseNumber} {!User.Name} {!Organization.Name} {!$Organization.Name} "
        "{!case.casenumber} {! Case.Owner.Email } {!IF(a,b,c)} {!} {!Case. Bad} {!Case.Subject"
    )
    assert merge_fields(text) == (
        "Case.CaseNumber",
        "User.Name",
        "Organization.Name",
        "$Organization.Name",
        "Case.Owner.Email",
    )


def test_render() -> None:
    values: dict[str, object] = {
        "case.casenumber": "00001001",
        "CASE.SUBJECT": "Printer on fire",
        "Case.OwnerFullName": "Ann Agent",
        "Case.Account.Name": None,
        "Case.LastModifiedDate": datetime(2024, 3, 15, 11, 30, tzinfo=timezone(timedelta(hours=2))),
        "Case.Priority": "High",
        "Case.IsReopened__c": False,
        "$Organization.Name": "Acme",
    }
    assert render(BODY, values) == (
        "Hello Ann Agent,\n\n"
        "Case 00001001 for  was escalated on 2024-03-15T09:30:00Z.\n"
        "Priority: High   Reopened: false\n"
        "Contact: \n\n"
        "Acme\n"
    )


def test_render_leaves_malformed_and_non_path_placeholders() -> None:
    values = {"Case.Subject": "x"}
    assert render("a {!Case.Subject b", values) == "a {!Case.Subject b"
    assert render("{!IF(true,1,2)} {!Case.Subject}", values) == "{!IF(true,1,2)} x"
    assert render("{{!Case.Subject}}", values) == "{x}"
    assert render("no fields", values) == "no fields"


def test_render_never_evaluates_and_escapes_html_on_request() -> None:
    values = {"Case.Subject": "<b>{!Case.Other}</b> & co", "Case.Other": "boom"}
    # A value that looks like a merge field is not substituted again.
    assert render("{!Case.Subject}", values) == "<b>{!Case.Other}</b> & co"
    assert render("<p>{!Case.Subject}</p>", values, html_escape=True) == (
        "<p>&lt;b&gt;{!Case.Other}&lt;/b&gt; &amp; co</p>"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (42, "42"),
        ("text", "text"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.00001"), "0.00001"),
        (Decimal("12.50"), "12.50"),
        (1e-7, "0.0000001"),
        (2.5, "2.5"),
        (date(2024, 3, 15), "2024-03-15"),
        (time(9, 5), "09:05:00"),
        (datetime(2024, 3, 15, 9, 30), "2024-03-15T09:30:00"),  # noqa: DTZ001
        (datetime(2024, 3, 15, 9, 30, tzinfo=UTC), "2024-03-15T09:30:00Z"),
    ],
)
def test_format_merge_value(value: object, shown: str) -> None:
    assert format_merge_value(value) == shown
