"""Metadata XML reading and writing: namespaces, line numbers, safety, pretty output."""

from __future__ import annotations

import pytest
from lxml import etree

from workroute.kernel.errors import DeployError
from workroute.metadata.xmlio import (
    MD_NS,
    ProblemLog,
    Reader,
    add_element,
    add_value,
    child,
    child_text,
    children,
    line_of,
    local_name,
    new_root,
    parse_bool,
    parse_int,
    parse_xml,
    to_bytes,
)

WORKFLOW = b"""<?xml version="1.0" encoding="UTF-8"?>
<Workflow xmlns="http://soap.sforce.com/2006/04/metadata">
    <fieldUpdates>
        <fullName>Field_Update</fullName>
        <field>Status</field>
        <notifyAssignee>false</notifyAssignee>
    </fieldUpdates>
    <fieldUpdates>
        <fullName>Second_Update</fullName>
        <notifyAssignee>true</notifyAssignee>
    </fieldUpdates>
</Workflow>
"""


def problem_of(exc: pytest.ExceptionInfo[DeployError]) -> tuple[str, int | None, str]:
    [p] = exc.value.problems
    return p.file, p.line, p.message


def test_parse_keeps_line_numbers_and_reads_children() -> None:
    root = parse_xml(WORKFLOW, "workflows/Case.workflow", root="Workflow")
    assert local_name(root) == "Workflow"
    updates = children(root, "fieldUpdates")
    assert [child_text(u, "fullName") for u in updates] == ["Field_Update", "Second_Update"]
    assert line_of(updates[0]) == 3
    assert line_of(updates[1]) == 8
    assert child(updates[1], "field") is None
    assert child_text(updates[1], "field") is None


def test_file_without_namespace_reads_the_same() -> None:
    bare = WORKFLOW.replace(b' xmlns="http://soap.sforce.com/2006/04/metadata"', b"")
    root = parse_xml(bare, "workflows/Case.workflow", root="Workflow")
    assert root.tag == f"{{{MD_NS}}}Workflow"
    assert [child_text(u, "fullName") for u in children(root, "fieldUpdates")] == [
        "Field_Update",
        "Second_Update",
    ]


def test_mismatched_tag_is_a_problem_with_its_line() -> None:
    bad = WORKFLOW.replace(b"<fullName>Field_Update</fullName>", b"<fullName>Field_Update</name>")
    with pytest.raises(DeployError) as exc:
        parse_xml(bad, "workflows/Case.workflow")
    file, line, message = problem_of(exc)
    assert file == "workflows/Case.workflow"
    assert line == 4
    assert "not well formed" in message
    assert "line 4, column" in message
    assert "mismatch" in message
    assert "workflows/Case.workflow:4" in str(exc.value)


def test_empty_and_truncated_files() -> None:
    with pytest.raises(DeployError) as exc:
        parse_xml(b"  \n", "a.object")
    assert "empty" in problem_of(exc)[2]
    with pytest.raises(DeployError) as exc:
        parse_xml(WORKFLOW[:120], "a.workflow")
    assert problem_of(exc)[1] is not None


def test_bom_and_crlf() -> None:
    data = b"\xef\xbb\xbf" + WORKFLOW.replace(b"\n", b"\r\n")
    root = parse_xml(data, "Case.workflow")
    updates = children(root, "fieldUpdates")
    assert line_of(updates[1]) == 8
    assert child_text(updates[0], "fullName") == "Field_Update"


def test_other_encodings_are_decoded() -> None:
    data = '<?xml version="1.0" encoding="ISO-8859-1"?><Flow><label>Café</label></Flow>'
    root = parse_xml(data.encode("latin-1"), "x.flow")
    assert child_text(root, "label") == "Café"


def test_external_entities_are_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?>\n<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b"<CustomObject><label>&xxe;</label></CustomObject>"
    )
    with pytest.raises(DeployError) as exc:
        parse_xml(xxe, "objects/X__c.object")
    assert "DOCTYPE" in problem_of(exc)[2]


def test_entity_expansion_is_refused() -> None:
    lol = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<Flow><label>&lol2;</label></Flow>"
    )
    with pytest.raises(DeployError):
        parse_xml(lol, "x.flow")


def test_undeclared_entity_is_not_well_formed() -> None:
    with pytest.raises(DeployError) as exc:
        parse_xml(b"<Flow><label>&nope;</label></Flow>", "x.flow")
    assert "not well formed" in problem_of(exc)[2]


def test_size_cap() -> None:
    with pytest.raises(DeployError) as exc:
        parse_xml(WORKFLOW, "big.workflow", max_bytes=100)
    assert "at most 100 bytes" in problem_of(exc)[2]


def test_wrong_root_and_wrong_namespace() -> None:
    with pytest.raises(DeployError) as exc:
        parse_xml(WORKFLOW, "x.object", root="CustomObject")
    assert "<Workflow>" in problem_of(exc)[2]
    other = WORKFLOW.replace(MD_NS.encode(), b"urn:example")
    with pytest.raises(DeployError) as exc:
        parse_xml(other, "x.workflow")
    assert "urn:example" in problem_of(exc)[2]


def test_scalar_parsers() -> None:
    assert parse_bool("true") is True
    assert parse_bool(" FALSE ") is False
    assert parse_bool("1") is True
    assert parse_bool("yes") is None
    assert parse_int("42") == 42
    assert parse_int("-3") == -3
    assert parse_int("4.2") is None


def test_reader_reports_bad_values_with_location() -> None:
    data = b"""<CustomField>
    <fullName>A__c</fullName>
    <required>maybe</required>
    <length>ten</length>
    <unique>true</unique>
    <precision>18</precision>
</CustomField>"""
    root = parse_xml(data, "fields/A__c.field-meta.xml")
    log = ProblemLog()
    r = Reader("fields/A__c.field-meta.xml", log, "X__c.A__c")
    assert r.boolean(root, "required") is False
    assert r.boolean(root, "unique") is True
    assert r.boolean(root, "missing", True) is True
    assert r.integer(root, "length") is None
    assert r.integer(root, "precision") == 18
    assert r.integer(root, "missing") is None
    assert [(p.line, p.element, p.component) for p in log.problems] == [
        (3, "required", "X__c.A__c"),
        (4, "length", "X__c.A__c"),
    ]
    with pytest.raises(DeployError) as exc:
        log.raise_if_any()
    assert len(exc.value.problems) == 2


def test_writing_is_namespaced_pretty_and_escaped() -> None:
    root = new_root("CustomField")
    add_value(root, "fullName", "Total__c")
    add_value(root, "formula", 'IF(A__c < 1 && B__c > 2, "x", "y")')
    add_value(root, "required", True)
    add_value(root, "length", 80)
    add_value(root, "description", None)
    vs = add_element(root, "valueSet")
    add_value(vs, "restricted", False)
    data = to_bytes(root)
    text = data.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<CustomField xmlns="')
    assert "\n    <fullName>Total__c</fullName>\n" in text
    assert "\n        <restricted>false</restricted>\n" in text
    assert "&lt; 1 &amp;&amp; B__c &gt; 2" in text
    assert "description" not in text
    assert "ns0" not in text
    again = parse_xml(data, "x")
    assert child_text(again, "formula") == 'IF(A__c < 1 && B__c > 2, "x", "y")'
    assert child_text(again, "required") == "true"


def test_writing_leaves_the_input_tree_alone() -> None:
    root = new_root("Flow")
    add_value(root, "label", "L")
    before = etree.tostring(root)
    to_bytes(root)
    assert etree.tostring(root) == before
