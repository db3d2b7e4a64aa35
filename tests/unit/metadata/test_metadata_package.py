"""Reading deployments: folders and zips, both layouts, package.xml checks, zip safety."""

from __future__ import annotations

import base64
import io
import stat
import zipfile
from pathlib import Path

import pytest

from workroute.kernel.errors import DeployError, DeployProblem
from workroute.metadata.package import (
    Component,
    Package,
    PackageLimits,
    decode_base64_zip,
    parse_manifest,
    read_package,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "metadata"
MDAPI = FIXTURES / "mdapi_basic"
SFDX = FIXTURES / "sfdx_basic"

MDAPI_COMPONENTS = {
    ("CustomObject", "Invoice__c"),
    ("CustomObject", "Case"),
    ("Workflow", "Case"),
    ("EmailFolder", "Support"),
    ("EmailTemplate", "Support/Case_Closed"),
    ("QueueRoutingConfig", "Support_Routing"),
    ("ServiceChannel", "Case_Channel"),
}


def folder_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_zip(files: dict[str, bytes], prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(prefix + name, data)
    return buf.getvalue()


def kinds(pkg: Package) -> set[tuple[str, str]]:
    return {(c.type, c.full_name) for c in pkg.components}


def messages(exc: pytest.ExceptionInfo[DeployError]) -> list[str]:
    return [p.message for p in exc.value.problems]


def only_problem(exc: pytest.ExceptionInfo[DeployError]) -> DeployProblem:
    [p] = exc.value.problems
    return p


# -- Metadata API layout ------------------------------------------------------------


def test_mdapi_folder() -> None:
    pkg = read_package(MDAPI)
    assert pkg.layout == "mdapi"
    assert pkg.root == ""
    assert kinds(pkg) == MDAPI_COMPONENTS
    assert pkg.unsupported == ()
    assert pkg.manifest is not None
    assert pkg.manifest.version == "60.0"
    assert pkg.manifest.includes("QueueRoutingConfig", "anything")
    assert pkg.manifest.includes("CustomObject", "invoice__c")
    assert not pkg.manifest.includes("CustomObject", "Account")
    obj = pkg.get("CustomObject", "invoice__c")
    assert obj is not None
    assert obj.path == "objects/Invoice__c.object"
    assert obj.content == (MDAPI / "objects/Invoice__c.object").read_bytes()
    assert "Invoice__c.Amount__c" in obj.children["CustomField"]
    assert obj.children["ListView"] == ("Invoice__c.All",)
    wf = pkg.get("Workflow", "Case")
    assert wf is not None
    assert wf.children["WorkflowRule"] == ("Case.Escalate_High_Priority",)


def test_email_template_pairs_body_and_meta() -> None:
    pkg = read_package(MDAPI)
    [tpl] = pkg.of_type("EmailTemplate")
    assert tpl.path == "email/Support/Case_Closed.email"
    assert tpl.meta_path == "email/Support/Case_Closed.email-meta.xml"
    assert tpl.content.startswith(b"Hello {!Case.Contact}")
    assert tpl.meta_content is not None and b"<EmailTemplate" in tpl.meta_content


@pytest.mark.parametrize("prefix", ["", "unpackaged/", "src/"])
def test_zip_bytes_and_zip_file(prefix: str, tmp_path: Path) -> None:
    data = make_zip(folder_files(MDAPI), prefix)
    from_bytes = read_package(data)
    assert from_bytes.root == prefix
    assert kinds(from_bytes) == MDAPI_COMPONENTS
    obj = from_bytes.get("CustomObject", "Invoice__c")
    assert obj is not None and obj.path == prefix + "objects/Invoice__c.object"
    zip_path = tmp_path / "deploy.zip"
    zip_path.write_bytes(data)
    from_file = read_package(zip_path)
    assert from_file == from_bytes
    assert read_package(str(zip_path)) == from_bytes


def test_base64_zip() -> None:
    data = make_zip(folder_files(MDAPI), "unpackaged/")
    encoded = base64.b64encode(data).decode("ascii")
    assert kinds(read_package(decode_base64_zip(encoded))) == MDAPI_COMPONENTS


def test_macos_junk_and_directories_are_ignored() -> None:
    files = folder_files(MDAPI)
    files["__MACOSX/objects/._Invoice__c.object"] = b"\x00\x05junk"
    files["objects/.DS_Store"] = b"\x00"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("objects/", b"")
        for name, data in files.items():
            zf.writestr(name, data)
    pkg = read_package(buf.getvalue())
    assert kinds(pkg) == MDAPI_COMPONENTS
    assert pkg.unsupported == ()


# -- package.xml checks -------------------------------------------------------------

OBJECT = b"""<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <fields>
        <fullName>Score__c</fullName>
        <label>Score</label>
        <precision>3</precision>
        <scale>0</scale>
        <type>Number</type>
    </fields>
</CustomObject>
"""


def manifest(*types: tuple[str, list[str]]) -> bytes:
    body = "".join(
        "    <types>\n"
        + "".join(f"        <members>{m}</members>\n" for m in members)
        + f"        <name>{name}</name>\n    </types>\n"
        for name, members in types
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Package xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        f"{body}    <version>60.0</version>\n</Package>\n"
    ).encode()


def test_component_not_named_in_package_xml() -> None:
    files = folder_files(MDAPI)
    files["serviceChannels/Chat_Channel.serviceChannel"] = files[
        "serviceChannels/Case_Channel.serviceChannel"
    ]
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files, "unpackaged/"))
    p = only_problem(exc)
    assert p.file == "unpackaged/serviceChannels/Chat_Channel.serviceChannel"
    assert p.message == (
        "An object 'Chat_Channel' of type ServiceChannel was found in the zip but not named "
        "in package.xml"
    )
    assert p.component == "Chat_Channel"


def test_member_named_but_missing_has_its_line() -> None:
    files = folder_files(MDAPI)
    del files["workflows/Case.workflow"]
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files))
    p = only_problem(exc)
    assert p.file == "package.xml"
    assert p.line == 9
    assert p.element == "members"
    assert p.message == (
        "An object 'Case' of type Workflow was named in package.xml, but was not found in "
        "zipped directory"
    )


def test_child_members_cover_their_parent_file() -> None:
    files = {
        "package.xml": manifest(("CustomField", ["Case.Score__c"])),
        "objects/Case.object": OBJECT,
    }
    pkg = read_package(make_zip(files))
    assert kinds(pkg) == {("CustomObject", "Case")}


def test_child_member_missing_from_parent_file() -> None:
    files = {
        "package.xml": manifest(("CustomField", ["Case.Score__c", "Case.Missing__c"])),
        "objects/Case.object": OBJECT,
    }
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files))
    p = only_problem(exc)
    assert "'Case.Missing__c' of type CustomField was named" in p.message
    assert p.line == 5


def test_wildcards_and_case_insensitive_names() -> None:
    files = {
        "package.xml": manifest(("CustomObject", ["*"]), ("Workflow", ["case"])),
        "objects/Case.object": OBJECT,
        "objects/Other__c.object": OBJECT,
        "workflows/Case.workflow": (MDAPI / "workflows/Case.workflow").read_bytes(),
    }
    pkg = read_package(make_zip(files))
    assert kinds(pkg) == {
        ("CustomObject", "Case"),
        ("CustomObject", "Other__c"),
        ("Workflow", "Case"),
    }


def test_workflow_child_members() -> None:
    files = {
        "package.xml": manifest(
            ("WorkflowRule", ["Case.Escalate_High_Priority"]),
            ("WorkflowFieldUpdate", ["Case.Set_Tier_2", "Case.Nope"]),
        ),
        "workflows/Case.workflow": (MDAPI / "workflows/Case.workflow").read_bytes(),
    }
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files))
    assert messages(exc) == [
        "An object 'Case.Nope' of type WorkflowFieldUpdate was named in package.xml, but was "
        "not found in zipped directory"
    ]


def test_unsupported_types_named_in_manifest() -> None:
    files = {
        "package.xml": manifest(
            ("CustomObject", ["Case"]), ("ApexClass", ["Foo"]), ("MadeUpType", ["X"])
        ),
        "objects/Case.object": OBJECT,
        "classes/Foo.cls": b"public class Foo {}",
        "classes/Foo.cls-meta.xml": b"<ApexClass><apiVersion>60.0</apiVersion></ApexClass>",
    }
    pkg = read_package(make_zip(files))
    assert kinds(pkg) == {("CustomObject", "Case")}
    assert {(u.type, u.full_name, u.reason) for u in pkg.unsupported} == {
        ("ApexClass", "Foo", "type not supported"),
        ("MadeUpType", "X", "unknown metadata type"),
    }
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files), strict=True)
    assert all(m.startswith("Unsupported metadata type: ") for m in messages(exc))
    assert any("MadeUpType" in m for m in messages(exc))


def test_supported_types_can_be_widened() -> None:
    files = {
        "package.xml": manifest(("ApexClass", ["Foo"])),
        "classes/Foo.cls": b"public class Foo {}",
        "classes/Foo.cls-meta.xml": b"<ApexClass><apiVersion>60.0</apiVersion></ApexClass>",
    }
    pkg = read_package(make_zip(files), supported_types={"ApexClass"})
    [cls] = pkg.components
    assert (cls.type, cls.full_name, cls.meta_path) == (
        "ApexClass",
        "Foo",
        "classes/Foo.cls-meta.xml",
    )


def test_bad_manifest() -> None:
    files = {
        "package.xml": b"<Package><types><members>X</members></types>"
        b"<version>sixty</version></Package>",
        "objects/Case.object": OBJECT,
    }
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files))
    msgs = messages(exc)
    assert "<types> has no <name>" in msgs
    assert "'sixty' is not a valid API version (e.g. 60.0)" in msgs


def test_malformed_manifest_has_a_line() -> None:
    files = {"package.xml": b"<Package>\n<types>\n<name>CustomObject</nam>\n</types></Package>"}
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files))
    p = only_problem(exc)
    assert (p.file, p.line) == ("package.xml", 3)


def test_parse_manifest_directly() -> None:
    m = parse_manifest(manifest(("Flow", ["A", "B"]), ("Queue", ["*"])), "package.xml")
    assert m.types() == ["Flow", "Queue"]
    assert m.names("Flow") == ["A", "B"]
    assert m.includes("Flow", "a")
    assert not m.includes("Flow", "C")
    assert m.includes("Queue", "Anything")


def test_destructive_changes_are_read() -> None:
    files = {
        "package.xml": manifest(),
        "destructiveChanges.xml": manifest(("CustomField", ["Case.Old__c"])),
    }
    pkg = read_package(make_zip(files))
    assert pkg.components == ()
    [d] = pkg.destructive
    assert d.path == "destructiveChanges.xml"
    assert d.names("CustomField") == ["Case.Old__c"]


def test_two_manifests_are_ambiguous() -> None:
    files = {"a/package.xml": manifest(), "b/package.xml": manifest()}
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files))
    assert "More than one package.xml" in only_problem(exc).message


# -- SFDX layout --------------------------------------------------------------------


def test_sfdx_folder() -> None:
    pkg = read_package(SFDX)
    assert pkg.layout == "sfdx"
    assert pkg.manifest is None
    assert kinds(pkg) == {
        ("CustomObject", "Invoice_Line__c"),
        ("CustomField", "Invoice_Line__c.Invoice__c"),
        ("CustomField", "Invoice_Line__c.Quantity__c"),
        ("CustomField", "Invoice_Line__c.Unit_Price__c"),
        ("CustomField", "Invoice_Line__c.Line_Total__c"),
        ("CustomField", "Case.Priority_Score__c"),
        ("Flow", "Route_Case"),
        ("PresenceDeclineReason", "Busy"),
    }
    assert all(c.layout == "sfdx" for c in pkg.components)
    fields = pkg.children_of("invoice_line__c")
    assert [f.full_name for f in fields] == [
        "Invoice_Line__c.Invoice__c",
        "Invoice_Line__c.Line_Total__c",
        "Invoice_Line__c.Quantity__c",
        "Invoice_Line__c.Unit_Price__c",
    ]
    assert {f.parent for f in fields} == {"Invoice_Line__c"}
    obj = pkg.get("CustomObject", "Invoice_Line__c")
    assert obj is not None
    assert obj.children["CustomField"] == tuple(f.full_name for f in fields)
    # README.md and config/ are project files outside the package directory.
    assert {(u.type, u.full_name) for u in pkg.unsupported} == {
        ("ApexClass", "InvoiceService"),
        ("ListView", "Invoice_Line__c.All"),
    }


def test_sfdx_strict_refuses_unsupported_files() -> None:
    with pytest.raises(DeployError) as exc:
        read_package(SFDX, strict=True)
    files = {p.file for p in exc.value.problems}
    assert files == {
        "force-app/main/default/classes/InvoiceService.cls",
        "force-app/main/default/classes/InvoiceService.cls-meta.xml",
        "force-app/main/default/objects/Invoice_Line__c/listViews/All.listView-meta.xml",
    }
    assert all("Unsupported metadata type" in p.message for p in exc.value.problems)


def test_sfdx_project_in_a_zip_under_a_top_folder() -> None:
    pkg = read_package(make_zip(folder_files(SFDX), "project/"))
    assert pkg.layout == "sfdx"
    assert pkg.root == "project/"
    obj = pkg.get("CustomObject", "Invoice_Line__c")
    assert obj is not None
    assert (
        obj.path == "project/force-app/main/default/objects/Invoice_Line__c/"
        "Invoice_Line__c.object-meta.xml"
    )


def test_sfdx_custom_package_directories() -> None:
    files = {
        "sfdx-project.json": b'{"packageDirectories": [{"path": "app"}, {"path": "extra"}]}',
        "app/objects/Case/fields/X__c.field-meta.xml": b"<CustomField/>",
        "extra/flows/F.flow-meta.xml": b"<Flow/>",
        "ignored/flows/G.flow-meta.xml": b"<Flow/>",
    }
    pkg = read_package(make_zip(files))
    assert kinds(pkg) == {("CustomField", "Case.X__c"), ("Flow", "F")}


def test_bare_folders_are_recognised_by_their_files(tmp_path: Path) -> None:
    sfdx_like = {
        "objects/Ticket__c/Ticket__c.object-meta.xml": b"<CustomObject/>",
        "queues/Support.queue-meta.xml": b"<Queue/>",
    }
    pkg = read_package(make_zip(sfdx_like))
    assert pkg.layout == "sfdx"
    assert kinds(pkg) == {("CustomObject", "Ticket__c"), ("Queue", "Support")}

    for name, data in {
        "objects/Ticket__c.object": b"<CustomObject/>",
        "servicePresenceStatuses/Available.servicePresenceStatus": b"<ServicePresenceStatus/>",
        "presenceUserConfigs/Agents.presenceUserConfig": b"<PresenceUserConfig/>",
        "notes/todo.txt": b"later",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    pkg = read_package(tmp_path)
    assert pkg.layout == "mdapi"
    assert kinds(pkg) == {
        ("CustomObject", "Ticket__c"),
        ("ServicePresenceStatus", "Available"),
        ("PresenceUserConfig", "Agents"),
    }
    [u] = pkg.unsupported
    assert (u.path, u.type, u.reason) == ("notes/todo.txt", None, "not in a known metadata folder")


def test_sfdx_email_templates_and_folders() -> None:
    files = {
        "sfdx-project.json": b'{"packageDirectories": [{"path": "force-app"}]}',
        "force-app/main/default/email/Support.emailFolder-meta.xml": b"<EmailFolder/>",
        "force-app/main/default/email/Support/Welcome.email": b"Hi",
        "force-app/main/default/email/Support/Welcome.email-meta.xml": b"<EmailTemplate/>",
    }
    pkg = read_package(make_zip(files))
    assert kinds(pkg) == {("EmailFolder", "Support"), ("EmailTemplate", "Support/Welcome")}


# -- structural problems ------------------------------------------------------------


def test_email_template_without_meta() -> None:
    files = {"email/Support/Orphan.email": b"Hi"}
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files))
    assert only_problem(exc).message == "EmailTemplate Support/Orphan has no -meta.xml file"


def test_same_component_in_both_forms() -> None:
    files = {
        "objects/Ticket__c.object": b"<CustomObject/>",
        "objects/Ticket__c/Ticket__c.object-meta.xml": b"<CustomObject/>",
    }
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files))
    assert "CustomObject Ticket__c is in the package twice" in only_problem(exc).message


def test_problems_can_be_returned_instead_of_raised() -> None:
    files = folder_files(MDAPI)
    del files["workflows/Case.workflow"]
    pkg = read_package(make_zip(files), raise_errors=False)
    assert len(pkg.problems) == 1
    assert kinds(pkg) == MDAPI_COMPONENTS - {("Workflow", "Case")}


def test_unknown_folder_is_listed_or_refused() -> None:
    files = {"widgets/Spinner.widget": b"<Widget/>", "flows/F.flow": b"<Flow/>"}
    pkg = read_package(make_zip(files))
    assert kinds(pkg) == {("Flow", "F")}
    assert [u.path for u in pkg.unsupported] == ["widgets/Spinner.widget"]
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files), strict=True)
    p = only_problem(exc)
    assert p.file == "widgets/Spinner.widget"
    assert p.message.startswith("Unsupported metadata type: unknown")


def test_component_key_and_repr_skip_content() -> None:
    c = Component(type="Flow", full_name="My_Flow", path="flows/My_Flow.flow", content=b"x" * 99)
    assert c.key == ("Flow", "my_flow")
    assert "xxx" not in repr(c)
    assert hash(c) == hash(
        Component(type="Flow", full_name="My_Flow", path="flows/My_Flow.flow", content=b"x" * 99)
    )


# -- zip safety ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../evil.object",
        "objects/../../etc/passwd",
        "/etc/passwd",
        "C:\\Windows\\evil.dll",
        "objects\\..\\..\\evil.object",
    ],
)
def test_zip_slip_entries_are_refused(name: str) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("objects/Case.object", OBJECT)
        zf.writestr(zipfile.ZipInfo(name), b"pwned")
    with pytest.raises(DeployError) as exc:
        read_package(buf.getvalue())
    p = only_problem(exc)
    assert p.file == name
    assert "must be relative" in p.message


def test_symlink_entries_are_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("objects/Link.object")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DeployError) as exc:
        read_package(buf.getvalue())
    assert "symbolic links" in only_problem(exc).message


def test_symlink_out_of_a_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    pkg_dir = tmp_path / "pkg"
    (pkg_dir / "objects").mkdir(parents=True)
    (pkg_dir / "objects" / "Evil__c.object").symlink_to(outside)
    with pytest.raises(DeployError) as exc:
        read_package(pkg_dir)
    assert "points outside the package" in only_problem(exc).message


def test_uncompressed_size_is_capped() -> None:
    bomb = make_zip({"objects/Big__c.object": b"<CustomObject>" + b" " * 50_000})
    assert len(bomb) < 2_000
    limits = PackageLimits(max_total_bytes=10_000)
    with pytest.raises(DeployError) as exc:
        read_package(bomb, limits=limits)
    assert "expands to" in only_problem(exc).message


def test_a_zip_whose_headers_lie_about_sizes_is_refused() -> None:
    data = bytearray(make_zip({"flows/F.flow": b"<Flow>" + b"a" * 20_000 + b"</Flow>"}))
    # Lower the declared size in the central directory (offset 24 of its record).
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (100).to_bytes(4, "little")
    with pytest.raises(DeployError) as exc:
        read_package(bytes(data), limits=PackageLimits(max_total_bytes=5_000))
    p = only_problem(exc)
    assert p.file == "flows/F.flow"
    assert "could not be read" in p.message


def test_entry_count_is_capped() -> None:
    files = {f"flows/F{i}.flow": b"<Flow/>" for i in range(6)}
    with pytest.raises(DeployError) as exc:
        read_package(make_zip(files), limits=PackageLimits(max_entries=5))
    assert "6 entries; at most 5" in only_problem(exc).message


def test_not_a_zip() -> None:
    with pytest.raises(DeployError) as exc:
        read_package(b"this is not a zip file", name="deploy.zip")
    p = only_problem(exc)
    assert p.file == "deploy.zip"
    assert "not a valid zip file" in p.message


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DeployError) as exc:
        read_package(tmp_path / "nope")
    assert "No such file or folder" in only_problem(exc).message


def test_duplicate_zip_entries() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("flows/F.flow", b"<Flow/>")
        zf.writestr("flows/F.flow", b"<Flow/>")
    with pytest.raises(DeployError) as exc:
        read_package(buf.getvalue())
    assert "two entries" in only_problem(exc).message


def test_bundles_are_one_unsupported_entry_each() -> None:
    files = {
        "sfdx-project.json": b'{"packageDirectories": [{"path": "force-app"}]}',
        "force-app/main/default/lwc/caseCard/caseCard.js": b"export default class {}",
        "force-app/main/default/lwc/caseCard/caseCard.html": b"<template></template>",
        "force-app/main/default/lwc/caseCard/caseCard.js-meta.xml": b"<LightningComponentBundle/>",
    }
    pkg = read_package(make_zip(files))
    assert pkg.components == ()
    [u] = pkg.unsupported
    assert (u.path, u.type, u.full_name) == (
        "force-app/main/default/lwc/caseCard",
        "LightningComponentBundle",
        "caseCard",
    )


def test_email_template_outside_a_folder() -> None:
    pkg = read_package(make_zip({"email/Loose.email-meta.xml": b"<EmailTemplate/>"}))
    [u] = pkg.unsupported
    assert u.reason == "an email template must be in a folder"


def test_child_members_of_a_malformed_parent_are_left_to_its_parser() -> None:
    files = {
        "package.xml": manifest(("CustomField", ["Case.Score__c"])),
        "objects/Case.object": b"<CustomObject><fields></CustomObject>",
    }
    pkg = read_package(make_zip(files))
    assert kinds(pkg) == {("CustomObject", "Case")}
