"""Reading a deployment: a folder, a zip file or zip bytes, in either layout.

Two layouts are understood:

* **Metadata API** ("mdapi"): ``package.xml`` at the root or under one top folder
  (``unpackaged/package.xml``, ``src/package.xml``), with ``objects/X__c.object``,
  ``workflows/Case.workflow``, ``email/Folder/Name.email`` (+ ``-meta.xml``) ...
* **SFDX source** ("sfdx"): ``sfdx-project.json`` naming package directories (default
  ``force-app``), with ``objects/X__c/X__c.object-meta.xml``,
  ``objects/X__c/fields/F__c.field-meta.xml``, ``flows/F.flow-meta.xml`` ...

A folder with neither ``package.xml`` nor ``sfdx-project.json`` is read in whichever
layout its files use. Every file becomes part of a :class:`Component` (a supported
type), an :class:`Unsupported` entry (the caller decides; with ``strict=True`` they
are problems) or is ignored (dot files, ``__MACOSX``, project files).

When ``package.xml`` is present, every component must be named in it and every member
it names must be in the zip (``*`` matches all members of a type). Zip entries with
absolute paths, ``..`` segments or symbolic links are refused, and the entry count
and total uncompressed size are capped (:class:`PackageLimits`).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import re
import stat
import zipfile
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from workroute.kernel.errors import DeployError, DeployProblem
from workroute.metadata.xmlio import (
    ProblemLog,
    child_text,
    children,
    element_text,
    iter_elements,
    line_of,
    local_name,
    parse_xml,
)

Layout = Literal["mdapi", "sfdx"]

MANIFEST_NAME = "package.xml"
DESTRUCTIVE_NAMES = (
    "destructiveChanges.xml",
    "destructiveChangesPre.xml",
    "destructiveChangesPost.xml",
)
SFDX_PROJECT_NAME = "sfdx-project.json"


@dataclass(frozen=True, slots=True)
class MetadataTypeInfo:
    """How one Metadata API type is laid out in a package.

    ``suffix`` is the file suffix without the dot (``object`` for ``X.object`` and
    ``X.object-meta.xml``). ``has_body`` types have a content file plus a ``-meta.xml``
    in both layouts (EmailTemplate, ApexClass). ``in_folders`` types live in
    ``folder/Name`` (EmailTemplate). ``bundle`` types are whole folders (lwc, aura).
    """

    name: str
    folder: str
    suffix: str
    has_body: bool = False
    in_folders: bool = False
    bundle: bool = False


def _types(*infos: MetadataTypeInfo) -> Mapping[str, MetadataTypeInfo]:
    return MappingProxyType({i.folder: i for i in infos})


T = MetadataTypeInfo

#: Metadata folders by folder name. Types not in the supported set are still named,
#: so that an unsupported file is reported with its type.
FOLDER_TYPES: Mapping[str, MetadataTypeInfo] = _types(
    T("CustomObject", "objects", "object"),
    T("Workflow", "workflows", "workflow"),
    T("Flow", "flows", "flow"),
    T("FlowDefinition", "flowDefinitions", "flowDefinition"),
    T("EmailTemplate", "email", "email", has_body=True, in_folders=True),
    T("QueueRoutingConfig", "queueRoutingConfigs", "queueRoutingConfig"),
    T("ServiceChannel", "serviceChannels", "serviceChannel"),
    T("ServicePresenceStatus", "servicePresenceStatuses", "servicePresenceStatus"),
    T("PresenceUserConfig", "presenceUserConfigs", "presenceUserConfig"),
    T("PresenceDeclineReason", "presenceDeclineReasons", "presenceDeclineReason"),
    T("Queue", "queues", "queue"),
    T("Group", "groups", "group"),
    T("Role", "roles", "role"),
    T("Skill", "skills", "skill"),
    T("AssignmentRules", "assignmentRules", "assignmentRules"),
    T("AutoResponseRules", "autoResponseRules", "autoResponseRules"),
    T("EscalationRules", "escalationRules", "escalationRules"),
    T("EntitlementProcess", "entitlementProcesses", "entitlementProcess"),
    T("MilestoneType", "milestoneTypes", "milestoneType"),
    T("OmniSupervisorConfig", "omniSupervisorConfigs", "omniSupervisorConfig"),
    T("Layout", "layouts", "layout"),
    T("Profile", "profiles", "profile"),
    T("PermissionSet", "permissionsets", "permissionset"),
    T("PermissionSetGroup", "permissionsetgroups", "permissionsetgroup"),
    T("CustomPermission", "customPermissions", "customPermission"),
    T("SharingRules", "sharingRules", "sharingRules"),
    T("GlobalValueSet", "globalValueSets", "globalValueSet"),
    T("StandardValueSet", "standardValueSets", "standardValueSet"),
    T("CustomLabels", "labels", "labels"),
    T("CustomMetadata", "customMetadata", "md"),
    T("CustomTab", "tabs", "tab"),
    T("CustomApplication", "applications", "app"),
    T("FlexiPage", "flexipages", "flexipage"),
    T("QuickAction", "quickActions", "quickAction"),
    T("Settings", "settings", "settings"),
    T("ApexClass", "classes", "cls", has_body=True),
    T("ApexTrigger", "triggers", "trigger", has_body=True),
    T("ApexPage", "pages", "page", has_body=True),
    T("ApexComponent", "components", "component", has_body=True),
    T("StaticResource", "staticresources", "resource", has_body=True),
    T("LightningComponentBundle", "lwc", "js", bundle=True),
    T("AuraDefinitionBundle", "aura", "cmp", bundle=True),
)
del T

TYPES_BY_NAME: Mapping[str, MetadataTypeInfo] = MappingProxyType(
    {i.name: i for i in FOLDER_TYPES.values()}
)

#: Child types of CustomObject: XML element / SFDX sub-folder -> (type, file suffix).
OBJECT_CHILD_TYPES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "fields": ("CustomField", "field"),
        "listViews": ("ListView", "listView"),
        "validationRules": ("ValidationRule", "validationRule"),
        "recordTypes": ("RecordType", "recordType"),
        "compactLayouts": ("CompactLayout", "compactLayout"),
        "webLinks": ("WebLink", "webLink"),
        "businessProcesses": ("BusinessProcess", "businessProcess"),
        "fieldSets": ("FieldSet", "fieldSet"),
        "sharingReasons": ("SharingReason", "sharingReason"),
        "indexes": ("Index", "index"),
    }
)

#: Child types of Workflow: XML element -> type.
WORKFLOW_CHILD_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "rules": "WorkflowRule",
        "fieldUpdates": "WorkflowFieldUpdate",
        "alerts": "WorkflowAlert",
        "outboundMessages": "WorkflowOutboundMessage",
        "tasks": "WorkflowTask",
        "knowledgePublishes": "WorkflowKnowledgePublish",
        "send": "WorkflowSend",
        "flowActions": "WorkflowFlowAction",
    }
)

#: Child type -> parent type, for package.xml members such as ``CustomField: Case.X__c``.
CHILD_PARENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        **{t: "CustomObject" for t, _ in OBJECT_CHILD_TYPES.values()},
        **{t: "Workflow" for t in WORKFLOW_CHILD_TYPES.values()},
    }
)

#: Types named in package.xml that are not files of their own.
_OTHER_KNOWN_TYPES = frozenset({"EmailFolder", *CHILD_PARENT_TYPES})

#: The types this reader returns as components unless told otherwise.
DEFAULT_SUPPORTED_TYPES: frozenset[str] = frozenset(
    {
        "CustomObject",
        "CustomField",
        "Workflow",
        "Flow",
        "EmailTemplate",
        "EmailFolder",
        "QueueRoutingConfig",
        "ServiceChannel",
        "ServicePresenceStatus",
        "PresenceUserConfig",
        "PresenceDeclineReason",
        "Queue",
    }
)

_IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_VERSION_RE = re.compile(r"^\d{1,3}\.\d$")


@dataclass(frozen=True, slots=True)
class PackageLimits:
    """Caps applied while reading a deployment."""

    max_total_bytes: int = 200 * 1024 * 1024
    max_entries: int = 10_000
    max_zip_bytes: int = 400 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """One metadata component of a deployment.

    ``path`` is the file's path from the root of the zip or folder (posix).
    ``content`` is that file's bytes. Types with a separate body (EmailTemplate) have
    the body in ``content``/``path`` and the ``-meta.xml`` in ``meta_content``/
    ``meta_path``. ``parent`` is set for child components such as SFDX CustomField
    files (``full_name`` ``Obj__c.Field__c``, ``parent`` ``Obj__c``). ``children``
    names the child components a CustomObject or Workflow contains (inline in its XML
    or, in SFDX, as separate files): child type -> qualified names.
    """

    type: str
    full_name: str
    path: str
    content: bytes = field(repr=False)
    layout: Layout = "mdapi"
    meta_path: str | None = None
    meta_content: bytes | None = field(default=None, repr=False)
    parent: str | None = None
    children: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False, repr=False
    )

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.full_name.lower())


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsupported:
    """A file (or package.xml member) of a type this deployment does not handle.

    ``type`` is None when the file is in no known metadata folder.
    """

    path: str
    type: str | None
    full_name: str | None
    reason: str

    def describe(self) -> str:
        what = f"{self.type} {self.full_name}" if self.type else "unknown metadata"
        return f"{self.path}: {what}: {self.reason}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestMember:
    type: str
    name: str
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """A parsed ``package.xml`` (or ``destructiveChanges.xml``)."""

    path: str
    version: str | None
    members: tuple[ManifestMember, ...]

    def types(self) -> list[str]:
        return sorted({m.type for m in self.members})

    def names(self, type_name: str) -> list[str]:
        return [m.name for m in self.members if m.type == type_name]

    def includes(self, type_name: str, full_name: str) -> bool:
        """Whether ``type_name: full_name`` is named (any case) or ``*`` covers it."""
        wanted = full_name.lower()
        return any(
            m.type == type_name and (m.name == "*" or m.name.lower() == wanted)
            for m in self.members
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Package:
    """What a deployment contains."""

    layout: Layout
    root: str
    components: tuple[Component, ...]
    unsupported: tuple[Unsupported, ...] = ()
    manifest: Manifest | None = None
    destructive: tuple[Manifest, ...] = ()
    problems: tuple[DeployProblem, ...] = field(default=(), compare=False)

    def of_type(self, type_name: str) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.type == type_name)

    def get(self, type_name: str, full_name: str) -> Component | None:
        key = (type_name, full_name.lower())
        for c in self.components:
            if c.key == key:
                return c
        return None

    def children_of(self, parent: str, type_name: str = "CustomField") -> tuple[Component, ...]:
        """Separate child components (SFDX) of ``parent``, e.g. an object's field files."""
        p = parent.lower()
        return tuple(
            c
            for c in self.components
            if c.type == type_name and c.parent is not None and c.parent.lower() == p
        )


# -- entry points -------------------------------------------------------------------


def read_package(
    source: str | os.PathLike[str] | bytes,
    *,
    strict: bool = False,
    supported_types: Collection[str] = DEFAULT_SUPPORTED_TYPES,
    limits: PackageLimits = PackageLimits(),
    raise_errors: bool = True,
    name: str | None = None,
) -> Package:
    """Read a deployment from a folder, a zip file path or zip bytes.

    ``strict`` turns every unsupported file into an "Unsupported metadata type"
    problem. With ``raise_errors`` (the default) any problem raises
    :class:`DeployError` with all problems found; otherwise they are returned in
    :attr:`Package.problems`. ``name`` names the zip in problems about the zip itself
    (default: the file name, or ``package.zip`` for bytes).
    """
    log = ProblemLog()
    if isinstance(source, bytes | bytearray | memoryview):
        files = _files_from_zip(bytes(source), name or "package.zip", limits, log)
    else:
        p = Path(source)
        if p.is_dir():
            files = _files_from_dir(p, limits, log)
        elif p.is_file():
            zip_name = name or p.name
            size = p.stat().st_size
            if size > limits.max_zip_bytes:
                log.add(
                    zip_name,
                    f"The zip file is {size} bytes; at most "
                    f"{limits.max_zip_bytes} bytes are accepted",
                )
                files = {}
            else:
                files = _files_from_zip(p.read_bytes(), zip_name, limits, log)
        else:
            log.add(str(source), "No such file or folder")
            files = {}
    if log:
        return _finish(Package(layout="mdapi", root="", components=()), log, raise_errors)
    pkg = _read_files(files, strict=strict, supported=frozenset(supported_types), log=log)
    return _finish(pkg, log, raise_errors)


def decode_base64_zip(data: str | bytes, *, name: str = "package.zip") -> bytes:
    """The zip bytes of a Metadata API ``deploy`` call's base64 ``ZipFile``."""
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise DeployError(
            [DeployProblem(file=name, message=f"The zip file is not valid base64: {exc}")]
        ) from None
    return raw


def parse_manifest(data: bytes, path: str, log: ProblemLog | None = None) -> Manifest:
    """Parse ``package.xml`` (``<types><members/><name/></types>`` and ``<version>``)."""
    own = log if log is not None else ProblemLog()
    root = parse_xml(data, path, root="Package")
    members: list[ManifestMember] = []
    for types_el in children(root, "types"):
        name_el = [c for c in iter_elements(types_el) if local_name(c) == "name"]
        type_name = element_text(name_el[0]) if name_el else ""
        if not type_name:
            own.add(path, "<types> has no <name>", node=types_el)
            continue
        member_els = children(types_el, "members")
        if not member_els:
            own.add(path, f"<types> {type_name} has no <members>", node=types_el)
        for m in member_els:
            member = element_text(m)
            if not member:
                own.add(path, f"An empty <members> in {type_name}", node=m)
                continue
            members.append(ManifestMember(type=type_name, name=member, line=line_of(m)))
    version = child_text(root, "version")
    if version is not None and not _VERSION_RE.match(version):
        version_el = root.find("{*}version")
        own.add(path, f"'{version}' is not a valid API version (e.g. 60.0)", node=version_el)
    if log is None:
        own.raise_if_any()
    return Manifest(path=path, version=version or None, members=tuple(members))


def _finish(pkg: Package, log: ProblemLog, raise_errors: bool) -> Package:
    if log and raise_errors:
        raise DeployError(list(log.problems))
    if log:
        return Package(
            layout=pkg.layout,
            root=pkg.root,
            components=pkg.components,
            unsupported=pkg.unsupported,
            manifest=pkg.manifest,
            destructive=pkg.destructive,
            problems=tuple(log.problems),
        )
    return pkg


# -- gathering files safely ---------------------------------------------------------


def _is_ignored(path: str) -> bool:
    parts = path.split("/")
    if parts[0] == "__MACOSX":
        return True
    return any(p.startswith(".") for p in parts) or parts[-1] in _IGNORED_NAMES


def _safe_entry_name(raw: str) -> str | None:
    """The normalised relative path of a zip entry, or None when it is unsafe."""
    if "\x00" in raw:
        return None
    name = raw.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def _files_from_zip(
    data: bytes, zip_name: str, limits: PackageLimits, log: ProblemLog
) -> dict[str, bytes]:
    if len(data) > limits.max_zip_bytes:
        log.add(
            zip_name,
            f"The zip file is {len(data)} bytes; at most {limits.max_zip_bytes} bytes are accepted",
        )
        return {}
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        log.add(zip_name, f"The deployment is not a valid zip file: {exc}")
        return {}
    files: dict[str, bytes] = {}
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            log.add(
                zip_name,
                f"The zip file has {len(infos)} entries; at most {limits.max_entries} are accepted",
            )
            return {}
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_total_bytes:
            log.add(
                zip_name,
                f"The zip file expands to {declared} bytes; at most "
                f"{limits.max_total_bytes} bytes are accepted",
            )
            return {}
        budget = limits.max_total_bytes
        seen: dict[str, str] = {}
        for info in infos:
            mode = info.external_attr >> 16
            safe = _safe_entry_name(info.filename)
            if safe is None:
                log.add(
                    info.filename,
                    "Zip entry refused: paths must be relative and must not contain '..' segments",
                )
                continue
            if stat.S_ISLNK(mode):
                log.add(safe, "Zip entry refused: symbolic links are not allowed")
                continue
            if info.is_dir() or not safe:
                continue
            if info.flag_bits & 0x1:
                log.add(safe, "Zip entry refused: encrypted entries are not supported")
                continue
            if safe in seen:
                log.add(safe, "Zip entry refused: the zip has two entries for this path")
                continue
            seen[safe] = info.filename
            if _is_ignored(safe):
                continue
            try:
                content = _read_entry(zf, info, budget)
            except _TooLarge:
                log.add(
                    zip_name, f"The zip file expands to more than {limits.max_total_bytes} bytes"
                )
                return {}
            except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError) as exc:
                log.add(safe, f"Zip entry could not be read: {exc}")
                continue
            budget -= len(content)
            files[safe] = content
    return files


class _TooLarge(Exception):
    pass


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """The entry's bytes, counting what is really inflated (headers can lie)."""
    out = bytearray()
    with zf.open(info) as f:
        while True:
            chunk = f.read(min(1 << 20, budget - len(out) + 1))
            if not chunk:
                break
            out += chunk
            if len(out) > budget:
                raise _TooLarge
    return bytes(out)


def _files_from_dir(root: Path, limits: PackageLimits, log: ProblemLog) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    real_root = root.resolve()
    total = 0
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fname in sorted(filenames):
            full = Path(dirpath) / fname
            rel = full.relative_to(root).as_posix()
            if _is_ignored(rel):
                continue
            count += 1
            if count > limits.max_entries:
                log.add(str(root), f"The folder has more than {limits.max_entries} files")
                return {}
            if full.is_symlink():
                target = full.resolve()
                if not target.is_relative_to(real_root) or not target.is_file():
                    log.add(rel, "Symbolic link refused: it points outside the package")
                    continue
            size = full.stat().st_size
            total += size
            if total > limits.max_total_bytes:
                log.add(str(root), f"The folder holds more than {limits.max_total_bytes} bytes")
                return {}
            files[rel] = full.read_bytes()
    return files


# -- classifying files --------------------------------------------------------------


@dataclass(slots=True)
class _Piece:
    type: str
    full_name: str
    path: str
    role: Literal["main", "meta"]
    form: Layout
    parent: str | None = None


@dataclass(slots=True)
class _Group:
    type: str
    full_name: str
    parent: str | None = None
    main: list[_Piece] = field(default_factory=list)
    meta: list[_Piece] = field(default_factory=list)


def _strip(name: str, suffix: str) -> str | None:
    """``name`` without ``suffix`` (the stem), or None when it does not end so."""
    if name.endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)]
    return None


def _classify(path: str, rel: str) -> _Piece | Unsupported:
    """What the file at ``path`` (``rel``: relative to the package root) is."""
    parts = rel.split("/")
    index = next((i for i, p in enumerate(parts[:-1]) if p in FOLDER_TYPES), None)
    if index is None:
        return Unsupported(
            path=path, type=None, full_name=None, reason="not in a known metadata folder"
        )
    info = FOLDER_TYPES[parts[index]]
    rest = parts[index + 1 :]
    fname = rest[-1]

    def odd(reason: str = "unexpected file name in this folder") -> Unsupported:
        return Unsupported(path=path, type=info.name, full_name=None, reason=reason)

    if info.bundle:
        base = path[: len(path) - len(rel)]
        return Unsupported(
            path=base + "/".join(parts[: index + 2]) if len(rest) > 1 else path,
            type=info.name,
            full_name=rest[0] if len(rest) > 1 else None,
            reason="bundle",
        )
    if info.name == "CustomObject":
        return _classify_object(path, rest, odd)
    if info.in_folders:
        if len(rest) == 1:
            stem = _strip(fname, "-meta.xml")
            if stem is not None and stem.endswith(f".{info.suffix}"):
                return odd("an email template must be in a folder")
            if stem is not None:
                folder = _strip(stem, ".emailFolder") or stem
                form: Layout = "sfdx" if folder != stem else "mdapi"
                return _Piece("EmailFolder", folder, path, "main", form)
            return odd()
        folder_path = "/".join(rest[:-1])
        stem = _strip(fname, f".{info.suffix}-meta.xml")
        if stem is not None:
            return _Piece(info.name, f"{folder_path}/{stem}", path, "meta", "mdapi")
        stem = _strip(fname, f".{info.suffix}")
        if stem is not None:
            return _Piece(info.name, f"{folder_path}/{stem}", path, "main", "mdapi")
        stem = _strip(fname, "-meta.xml")
        if stem is not None:
            # a nested folder's own metadata: email/Parent/Child(.emailFolder)-meta.xml
            name = _strip(stem, ".emailFolder") or stem
            return _Piece("EmailFolder", f"{folder_path}/{name}", path, "main", "mdapi")
        return odd()
    if len(rest) != 1:
        return odd("unexpected sub-folder")
    stem = _strip(fname, f".{info.suffix}-meta.xml")
    if stem is not None:
        if info.has_body:
            return _Piece(info.name, stem, path, "meta", "mdapi")
        return _Piece(info.name, stem, path, "main", "sfdx")
    stem = _strip(fname, f".{info.suffix}")
    if stem is not None:
        return _Piece(info.name, stem, path, "main", "mdapi")
    return odd()


def _classify_object(
    path: str, rest: list[str], odd: Callable[..., Unsupported]
) -> _Piece | Unsupported:
    fname = rest[-1]
    if len(rest) == 1:
        stem = _strip(fname, ".object-meta.xml")
        if stem is not None:
            return _Piece("CustomObject", stem, path, "main", "sfdx")
        stem = _strip(fname, ".object")
        if stem is not None:
            return _Piece("CustomObject", stem, path, "main", "mdapi")
        return odd()
    obj = rest[0]
    if len(rest) == 2:
        if fname == f"{obj}.object-meta.xml":
            return _Piece("CustomObject", obj, path, "main", "sfdx")
        return odd()
    if len(rest) == 3 and rest[1] in OBJECT_CHILD_TYPES:
        child_type, suffix = OBJECT_CHILD_TYPES[rest[1]]
        stem = _strip(fname, f".{suffix}-meta.xml")
        if stem is not None:
            return _Piece(child_type, f"{obj}.{stem}", path, "main", "sfdx", parent=obj)
        return odd()
    return odd("unexpected sub-folder of an object folder")


def _detect_root(files: Mapping[str, bytes], log: ProblemLog) -> tuple[Layout | None, str]:
    """The layout named by a package.xml or sfdx-project.json, and the package root."""
    if MANIFEST_NAME in files:
        return "mdapi", ""
    if SFDX_PROJECT_NAME in files:
        return "sfdx", ""
    manifests = sorted(p for p in files if p.count("/") == 1 and p.endswith("/" + MANIFEST_NAME))
    if len(manifests) > 1:
        log.add(manifests[1], f"More than one {MANIFEST_NAME}: {', '.join(manifests)}")
        return "mdapi", manifests[0][: -len(MANIFEST_NAME)]
    if manifests:
        return "mdapi", manifests[0][: -len(MANIFEST_NAME)]
    projects = [p for p in files if p.count("/") == 1 and p.endswith("/" + SFDX_PROJECT_NAME)]
    if len(projects) == 1:
        return "sfdx", projects[0][: -len(SFDX_PROJECT_NAME)]
    return None, ""


def _package_dirs(files: Mapping[str, bytes], root: str, log: ProblemLog) -> list[str]:
    path = root + SFDX_PROJECT_NAME
    try:
        project = json.loads(files[path].decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.add(path, f"{SFDX_PROJECT_NAME} is not valid JSON: {exc}")
        return []
    dirs: list[str] = []
    entries = project.get("packageDirectories") if isinstance(project, dict) else None
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                d = _safe_entry_name(entry["path"])
                if d is None:
                    log.add(path, f"Package directory '{entry['path']}' is not allowed")
                    continue
                dirs.append(root + d + "/" if d else root)
    return dirs or [root + "force-app/"]


def _read_files(
    files: Mapping[str, bytes], *, strict: bool, supported: frozenset[str], log: ProblemLog
) -> Package:
    layout, root = _detect_root(files, log)
    manifest: Manifest | None = None
    destructive: list[Manifest] = []
    if layout == "mdapi":
        manifest = _try_manifest(files, root + MANIFEST_NAME, log)
        for d in DESTRUCTIVE_NAMES:
            if root + d in files:
                m = _try_manifest(files, root + d, log)
                if m is not None:
                    destructive.append(m)
    scan_dirs = _package_dirs(files, root, log) if layout == "sfdx" else [root]
    skip = {root + MANIFEST_NAME, root + SFDX_PROJECT_NAME, *(root + d for d in DESTRUCTIVE_NAMES)}

    unsupported: list[Unsupported] = []
    seen_unsupported: set[Unsupported] = set()
    groups: dict[tuple[str, str], _Group] = {}
    forms: set[Layout] = set()
    for path in sorted(files):
        if path in skip:
            continue
        base = next((d for d in scan_dirs if path.startswith(d)), None)
        if base is None:
            if layout == "mdapi":
                unsupported.append(
                    Unsupported(
                        path=path, type=None, full_name=None, reason="outside the package root"
                    )
                )
            continue  # SFDX project files outside the package directories
        got = _classify(path, path[len(base) :])
        if isinstance(got, Unsupported):
            if got not in seen_unsupported:  # a bundle's files give one entry
                seen_unsupported.add(got)
                unsupported.append(got)
            continue
        forms.add(got.form)
        if got.type not in supported:
            unsupported.append(
                Unsupported(
                    path=path, type=got.type, full_name=got.full_name, reason="type not supported"
                )
            )
            continue
        g = groups.setdefault(
            (got.type, got.full_name.lower()), _Group(got.type, got.full_name, got.parent)
        )
        (g.main if got.role == "main" else g.meta).append(got)

    if layout is None:
        layout = "sfdx" if "sfdx" in forms else "mdapi"
    components = _build_components(groups, files, layout, log)
    if manifest is not None:
        extra = _check_manifest(manifest, components, unsupported, supported, files, log)
        unsupported.extend(extra)
    if strict:
        for u in unsupported:
            what = u.type or "unknown"
            log.add(
                u.path,
                f"Unsupported metadata type: {what}"
                + (f" ({u.full_name})" if u.full_name else "")
                + f": {u.reason}",
                component=u.full_name,
            )
    return Package(
        layout=layout,
        root=root,
        components=tuple(components),
        unsupported=tuple(unsupported),
        manifest=manifest,
        destructive=tuple(destructive),
    )


def _try_manifest(files: Mapping[str, bytes], path: str, log: ProblemLog) -> Manifest | None:
    try:
        return parse_manifest(files[path], path, log)
    except DeployError as exc:
        log.extend(exc.problems)
        return None


def _build_components(
    groups: Mapping[tuple[str, str], _Group],
    files: Mapping[str, bytes],
    layout: Layout,
    log: ProblemLog,
) -> list[Component]:
    built: list[Component] = []
    for g in groups.values():
        info = TYPES_BY_NAME.get(g.type)
        has_body = info is not None and info.has_body
        if len(g.main) > 1:
            paths = ", ".join(p.path for p in g.main)
            log.add(
                g.main[1].path,
                f"{g.type} {g.full_name} is in the package twice: {paths}",
                component=g.full_name,
            )
            continue
        if has_body:
            if not g.main:
                log.add(
                    g.meta[0].path,
                    f"{g.type} {g.full_name} has a -meta.xml file but no content file",
                    component=g.full_name,
                )
                continue
            if not g.meta:
                log.add(
                    g.main[0].path,
                    f"{g.type} {g.full_name} has no -meta.xml file",
                    component=g.full_name,
                )
                continue
        main = g.main[0]
        meta = g.meta[0] if g.meta else None
        built.append(
            Component(
                type=g.type,
                full_name=main.full_name,
                path=main.path,
                content=files[main.path],
                layout=main.form if main.form == "sfdx" else layout,
                meta_path=meta.path if meta else None,
                meta_content=files[meta.path] if meta else None,
                parent=g.parent,
            )
        )
    # Children: inline in the parent's XML, plus separate child files (SFDX).
    by_parent: dict[tuple[str, str], dict[str, list[str]]] = {}
    for c in built:
        parent_type = CHILD_PARENT_TYPES.get(c.type)
        if parent_type and c.parent:
            kids = by_parent.setdefault((parent_type, c.parent.lower()), {})
            kids.setdefault(c.type, []).append(c.full_name)
    result: list[Component] = []
    for c in built:
        kids = {k: list(v) for k, v in _inline_children(c).items()}
        for t, names in by_parent.get(c.key, {}).items():
            kids.setdefault(t, []).extend(names)
        if kids:
            c = Component(
                type=c.type,
                full_name=c.full_name,
                path=c.path,
                content=c.content,
                layout=c.layout,
                meta_path=c.meta_path,
                meta_content=c.meta_content,
                parent=c.parent,
                children=MappingProxyType({k: tuple(v) for k, v in sorted(kids.items())}),
            )
        result.append(c)
    result.sort(key=lambda c: (c.path, c.type))
    return result


def _inline_children(c: Component) -> dict[str, list[str]]:
    """Child components named inside a CustomObject or Workflow file (when it parses)."""
    if c.type == "CustomObject":
        mapping = {el: t for el, (t, _) in OBJECT_CHILD_TYPES.items()}
    elif c.type == "Workflow":
        mapping = dict(WORKFLOW_CHILD_TYPES)
    else:
        return {}
    try:
        root = parse_xml(c.content, c.path)
    except DeployError:
        return {}  # the type's own parser reports it
    kids: dict[str, list[str]] = {}
    for el in iter_elements(root):
        t = mapping.get(local_name(el))
        if t is None:
            continue
        name = child_text(el, "fullName")
        if name:
            qualified = name if "." in name else f"{c.full_name}.{name}"
            kids.setdefault(t, []).append(qualified)
    return kids


def _parses(c: Component) -> bool:
    try:
        parse_xml(c.content, c.path)
    except DeployError:
        return False
    return True


def _check_manifest(
    manifest: Manifest,
    components: Iterable[Component],
    unsupported: list[Unsupported],
    supported: frozenset[str],
    files: Mapping[str, bytes],
    log: ProblemLog,
) -> list[Unsupported]:
    comps = list(components)
    by_key = {c.key: c for c in comps}
    named: dict[str, set[str]] = {}
    for m in manifest.members:
        named.setdefault(m.type, set()).add(m.name.lower())

    def is_named(type_name: str, full_name: str) -> bool:
        names = named.get(type_name, set())
        return "*" in names or full_name.lower() in names

    # Every component must be named (itself, its parent, or one of its children).
    for c in comps:
        ok = is_named(c.type, c.full_name)
        if not ok and c.type == "EmailFolder":
            ok = is_named("EmailTemplate", c.full_name)
        parent_type = CHILD_PARENT_TYPES.get(c.type)
        if not ok and parent_type and c.parent:
            ok = is_named(parent_type, c.parent)
        if not ok:
            prefix = c.full_name.lower() + "."
            ok = any(
                "*" in named.get(t, set()) or any(n.startswith(prefix) for n in named.get(t, ()))
                for t, p in CHILD_PARENT_TYPES.items()
                if p == c.type
            )
        if not ok:
            log.add(
                c.path,
                f"An object '{c.full_name}' of type {c.type} was found in the zip but not "
                f"named in package.xml",
                component=c.full_name,
            )

    # Every member named must be in the zip.
    parses: dict[tuple[str, str], bool] = {}
    extra: list[Unsupported] = []
    known_unsupported = {(u.type, (u.full_name or "").lower()) for u in unsupported}
    for m in manifest.members:
        if m.name == "*":
            continue
        parent_type = CHILD_PARENT_TYPES.get(m.type)
        # Child types (CustomField, WorkflowRule...) live in their parent's file.
        handled = m.type in supported or (parent_type is not None and parent_type in supported)
        if not handled:
            known = m.type in TYPES_BY_NAME or m.type in _OTHER_KNOWN_TYPES
            if (m.type, m.name.lower()) not in known_unsupported:
                extra.append(
                    Unsupported(
                        path=manifest.path,
                        type=m.type,
                        full_name=m.name,
                        reason="type not supported" if known else "unknown metadata type",
                    )
                )
            continue
        if _member_present(m, by_key, parent_type, parses):
            continue
        log.add(
            manifest.path,
            f"An object '{m.name}' of type {m.type} was named in package.xml, but was not "
            f"found in zipped directory",
            line=m.line,
            element="members",
            component=m.name,
        )
    return extra


def _member_present(
    m: ManifestMember,
    by_key: Mapping[tuple[str, str], Component],
    parent_type: str | None,
    parses: dict[tuple[str, str], bool],
) -> bool:
    key = m.name.lower()
    if (m.type, key) in by_key:
        return True
    if m.type == "EmailTemplate" and "/" not in m.name:
        # A folder named as an EmailTemplate member; unfiled$public is built in.
        return key == "unfiled$public" or ("EmailFolder", key) in by_key
    if parent_type is not None:
        parent_name = key.partition(".")[0]
        parent = by_key.get((parent_type, parent_name))
        if parent is None:
            return False
        if parent.key not in parses:
            parses[parent.key] = _parses(parent)
        if not parses[parent.key]:
            return True  # reported by the parent's own parser
        return key in {n.lower() for n in parent.children.get(m.type, ())}
    return False
