"""Retrieve: the deployed metadata files back, as the Metadata API's ``retrieve`` gives
them, a zip with ``unpackaged/package.xml`` and each file at its Metadata API path.

Every deploy keeps the bytes it was given (``metadata_file``), so a retrieve returns
exactly what was deployed: parse, write and reparse never stand between the two. A
member that was never deployed is a message in the result, as Salesforce reports it
("Entity of type 'Workflow' named 'Nope' cannot be found"); an unknown type or a
malformed manifest is an error and retrieves nothing.
"""

from __future__ import annotations

import io
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from workroute.kernel.errors import InvalidFieldError, NotFoundError
from workroute.kernel.ids import make_id
from workroute.metadata.deploy import deployed_components
from workroute.metadata.package import DEFAULT_SUPPORTED_TYPES, Manifest, parse_manifest

if TYPE_CHECKING:
    from workroute.org import Org

RETRIEVE_KEY_PREFIX = "09S"
NS = "http://soap.sforce.com/2006/04/metadata"
#: Folders of the Metadata API layout: a deployed path is cut to start at one of them.
_TYPE_FOLDERS = frozenset(
    {
        "objects",
        "workflows",
        "email",
        "flows",
        "queues",
        "queueRoutingConfigs",
        "serviceChannels",
        "servicePresenceStatuses",
        "presenceUserConfigs",
        "presenceDeclineReasons",
    }
)
#: Types a retrieve can return: those a deploy keeps files for.
RETRIEVABLE = frozenset(DEFAULT_SUPPORTED_TYPES - {"EmailFolder"})


@dataclass(frozen=True, slots=True)
class FileProperty:
    type: str
    full_name: str
    file_name: str


@dataclass(frozen=True, slots=True)
class RetrieveResult:
    id: str
    zip_file: bytes
    files: tuple[FileProperty, ...]
    #: (file name, problem) for members that could not be retrieved.
    messages: tuple[tuple[str, str], ...]


def manifest_for(members: dict[str, list[str]], version: str = "62.0") -> Manifest:
    """A manifest naming ``type -> members`` (``*`` for all)."""
    types = "".join(
        "<types>"
        + "".join(f"<members>{escape(m)}</members>" for m in names)
        + f"<name>{escape(t)}</name></types>"
        for t, names in members.items()
    )
    return read_manifest(_package_doc(types, version))


def read_manifest(data: bytes, path: str = "package.xml") -> Manifest:
    """Parse a manifest; malformed XML or an unknown type raises and retrieves nothing."""
    manifest = parse_manifest(data, path)  # raises DeployError with the line
    unknown = [t for t in manifest.types() if t not in RETRIEVABLE]
    if unknown:
        raise InvalidFieldError(
            f"package.xml names the type {unknown[0]}, which this org cannot retrieve "
            f"(it retrieves {', '.join(sorted(RETRIEVABLE))})"
        )
    if not manifest.members:
        raise InvalidFieldError("package.xml names no members to retrieve")
    return manifest


def retrieve(org: Org, manifest: Manifest) -> RetrieveResult:
    """The deployed files the manifest names, zipped as the Metadata API returns them."""
    files: list[FileProperty] = []
    messages: list[tuple[str, str]] = []
    contents: dict[str, bytes] = {}
    retrieved: dict[str, list[str]] = {}
    with org.db.read() as conn:
        for type_ in manifest.types():
            found = {c.full_name.lower(): c for c in deployed_components(org, conn, type_)}
            wanted = manifest.names(type_)
            if "*" in wanted:
                names = sorted(found)
            else:
                names = []
                for name in wanted:
                    if name.lower() in found:
                        names.append(name.lower())
                    else:
                        messages.append(
                            (
                                "unpackaged/package.xml",
                                f"Entity of type '{type_}' named '{name}' cannot be found",
                            )
                        )
            for key in dict.fromkeys(names):
                c = found[key]
                path = f"unpackaged/{_mdapi_path(c.path)}"
                contents[path] = c.content
                files.append(FileProperty(type_, c.full_name, path))
                if c.meta_content is not None:
                    contents[f"unpackaged/{_mdapi_path(c.meta_path or c.path + '-meta.xml')}"] = (
                        c.meta_content
                    )
                retrieved.setdefault(type_, []).append(c.full_name)
    package_xml = _package_xml(retrieved, manifest.version or "62.0")
    contents["unpackaged/package.xml"] = package_xml
    files.append(FileProperty("Package", "unpackaged/package.xml", "unpackaged/package.xml"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(contents):
            zf.writestr(path, contents[path])
    rid = make_id(RETRIEVE_KEY_PREFIX, org.db.reserve_block("retrieve"))
    return RetrieveResult(rid, buf.getvalue(), tuple(files), tuple(messages))


def _mdapi_path(path: str) -> str:
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part in _TYPE_FOLDERS:
            return "/".join(parts[i:])
    return path


def _package_xml(members: dict[str, list[str]], version: str) -> bytes:
    types = "".join(
        "<types>"
        + "".join(f"<members>{escape(m)}</members>" for m in sorted(names))
        + f"<name>{escape(t)}</name></types>"
        for t, names in sorted(members.items())
    )
    return _package_doc(types, version)


def _package_doc(types: str, version: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Package xmlns="{NS}">{types}'
        f"<version>{escape(version)}</version></Package>\n"
    ).encode()


class RetrieveResults:
    """The last results, by id, for ``checkRetrieveStatus`` (a retrieve is answered at
    once; clients still ask for it by id, as the asynchronous API has them do)."""

    def __init__(self, keep: int = 100) -> None:
        self._keep = keep
        self._results: OrderedDict[str, RetrieveResult] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, result: RetrieveResult) -> None:
        with self._lock:
            self._results[result.id] = result
            while len(self._results) > self._keep:
                self._results.popitem(last=False)

    def get(self, retrieve_id: str) -> RetrieveResult:
        with self._lock:
            found = self._results.get(retrieve_id)
        if found is None:
            raise NotFoundError(f"no retrieve with id {retrieve_id}")
        return found


__all__ = [
    "FileProperty",
    "RetrieveResult",
    "RetrieveResults",
    "manifest_for",
    "read_manifest",
    "retrieve",
]
