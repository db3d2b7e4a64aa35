"""Extract the Omni-Channel object definitions of a seed text into package data.

The seed is the text of Salesforce's "Set Up Omni-Channel Developer Guide": each
object has a ``Fields`` table whose rows are ``FieldName<TAB>details``, the details
being ``Type X``, ``Properties ...``, ``Description ...`` and, for references,
``Relationship Name`` and ``Refers To`` (sometimes in ``<p>``/``<code>`` markup,
continued on following lines that start with a tab).

What the seed leaves out (reference targets it doesn't name, picklist values given
in prose, key prefixes, labels) is filled in from the tables below.

Usage::

    python tools/extract_seed_objects.py SEED.txt            # writes omni.json
    python tools/extract_seed_objects.py SEED.txt --check    # exit 1 if it differs
    python tools/extract_seed_objects.py SEED.txt --out PATH
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workroute.schema.codec import object_to_json
from workroute.schema.model import FieldDef, FieldType, ObjectDef, PicklistValue

DEFAULT_OUT = (
    Path(__file__).resolve().parents[1] / "src" / "workroute" / "schema" / "standard" / "omni.json"
)

# -- what the seed doesn't say ---------------------------------------------------------

WORK_ITEM_TARGETS = ("Case", "Lead", "Account", "Contact", "Opportunity", "Task", "FlowOrchestrationWorkItem")
ROUTABLE_OBJECTS = WORK_ITEM_TARGETS
QUEUEABLE_OBJECTS = ("Case", "Lead")

LANGUAGES: tuple[tuple[str, str], ...] = (
    ("en_US", "English"),
    ("fr", "French"),
    ("de", "German"),
    ("es", "Spanish"),
    ("ja", "Japanese"),
    ("it", "Italian"),
    ("pt_BR", "Portuguese (Brazil)"),
    ("zh_CN", "Chinese (Simplified)"),
)


@dataclass(frozen=True)
class ObjectInfo:
    key_prefix: str
    label: str
    label_plural: str
    setup: bool = False


OBJECTS: Mapping[str, ObjectInfo] = {
    # Salesforce's own prefixes, except those marked "invented" (not in the published
    # prefix lists we checked; chosen among prefixes those lists leave unused).
    "AgentWork": ObjectInfo("0Bz", "Agent Work", "Agent Work"),
    "AgentWorkSkill": ObjectInfo("0Va", "Agent Work Skill", "Agent Work Skills"),  # invented
    "OmniSupervisorConfig": ObjectInfo(  # invented
        "0Vb", "Omni Supervisor Configuration", "Omni Supervisor Configurations", setup=True
    ),
    "OmniSupervisorConfigAction": ObjectInfo(  # invented
        "0Vc",
        "Omni Supervisor Configuration Action",
        "Omni Supervisor Configuration Actions",
        setup=True,
    ),
    "OmniSupervisorConfigGroup": ObjectInfo(  # invented
        "0Vd",
        "Omni Supervisor Configuration Group",
        "Omni Supervisor Configuration Groups",
        setup=True,
    ),
    "OmniSupervisorConfigProfile": ObjectInfo(  # invented
        "0Ve",
        "Omni Supervisor Configuration Profile",
        "Omni Supervisor Configuration Profiles",
        setup=True,
    ),
    "OmniSupervisorConfigQueue": ObjectInfo(  # invented
        "0Vf",
        "Omni Supervisor Configuration Queue",
        "Omni Supervisor Configuration Queues",
        setup=True,
    ),
    "OmniSupervisorConfigSkill": ObjectInfo(  # invented
        "0Vg",
        "Omni Supervisor Configuration Skill",
        "Omni Supervisor Configuration Skills",
        setup=True,
    ),
    "OmniSupervisorConfigUser": ObjectInfo(  # invented
        "0Vh",
        "Omni Supervisor Configuration User",
        "Omni Supervisor Configuration Users",
        setup=True,
    ),
    "PendingServiceRouting": ObjectInfo(
        "0JR", "Pending Service Routing", "Pending Service Routings"
    ),
    "PresenceConfigDeclineReason": ObjectInfo(
        "0KP",
        "Presence Configuration Decline Reason",
        "Presence Configuration Decline Reasons",
        setup=True,
    ),
    "PresenceDeclineReason": ObjectInfo(
        "0KR", "Presence Decline Reason", "Presence Decline Reasons", setup=True
    ),
    "PresenceUserConfig": ObjectInfo(
        "0Nd", "Presence Configuration", "Presence Configurations", setup=True
    ),
    "PresenceUserConfigProfile": ObjectInfo(
        "0Nf", "Presence Configuration Profile", "Presence Configuration Profiles", setup=True
    ),
    "PresenceUserConfigUser": ObjectInfo(
        "0Ne", "Presence Configuration User", "Presence Configuration Users", setup=True
    ),
    "QueueRoutingConfig": ObjectInfo(
        "0K9", "Routing Configuration", "Routing Configurations", setup=True
    ),
    # The API name is QueueSobject (03g, in setup.json); the guide calls it QueueSubject.
    "QueueSubject": ObjectInfo("0Vm", "Queue Subject", "Queue Subjects", setup=True),  # invented
    "ServiceChannel": ObjectInfo("0N9", "Service Channel", "Service Channels", setup=True),
    "ServiceChannelFieldPriority": ObjectInfo(  # invented
        "0Vj", "Service Channel Field Priority", "Service Channel Field Priorities", setup=True
    ),
    "ServiceChannelStatus": ObjectInfo(
        "0NC", "Service Channel Status", "Service Channel Statuses", setup=True
    ),
    "ServicePresenceStatus": ObjectInfo("0N5", "Presence Status", "Presence Statuses", setup=True),
    "ServiceResource": ObjectInfo("0Hn", "Service Resource", "Service Resources"),
    "SkillRequirement": ObjectInfo("0Hx", "Skill Requirement", "Skill Requirements"),
    "UserServicePresence": ObjectInfo("0R1", "User Presence", "User Presences"),
}

# Reference targets the seed leaves out (or gives as prose), by "Object.Field".
REFERENCE_TO: Mapping[str, tuple[str, ...]] = {
    "AgentWork.OriginalQueueId": ("Group",),
    "AgentWork.WorkItemId": WORK_ITEM_TARGETS,
    "AgentWorkSkill.AgentWorkId": ("AgentWork",),
    "AgentWorkSkill.SkillId": ("Skill",),
    "PendingServiceRouting.GroupId": ("Group",),
    "PendingServiceRouting.OwnerId": ("Group", "User"),
    "PendingServiceRouting.PreferredUserId": ("User",),
    "PendingServiceRouting.QueueId": ("Group",),
    "PendingServiceRouting.ServiceChannelId": ("ServiceChannel",),
    "PendingServiceRouting.WorkItemId": WORK_ITEM_TARGETS,
    "PresenceConfigDeclineReason.PresenceDeclineReasonId": ("PresenceDeclineReason",),
    "PresenceConfigDeclineReason.PresenceUserConfigId": ("PresenceUserConfig",),
    "PresenceUserConfig.PresenceStatusOnDeclineId": ("ServicePresenceStatus",),
    "PresenceUserConfig.PresenceStatusOnPushTimeoutId": ("ServicePresenceStatus",),
    "PresenceUserConfigProfile.PresenceUserConfigId": ("PresenceUserConfig",),
    "PresenceUserConfigProfile.ProfileId": ("Profile",),
    "PresenceUserConfigUser.PresenceUserConfigId": ("PresenceUserConfig",),
    "PresenceUserConfigUser.UserId": ("User",),
    "QueueRoutingConfig.OverflowAssigneeId": ("Group", "User"),
    "QueueRoutingConfig.ServiceChannelId": ("ServiceChannel",),
    "ServiceChannelFieldPriority.ServiceChannelId": ("ServiceChannel",),
    "ServiceChannelStatus.ServiceChannelId": ("ServiceChannel",),
    "ServiceChannelStatus.ServicePresenceStatusId": ("ServicePresenceStatus",),
    "ServiceResource.ServiceCrewId": ("ServiceCrew",),
    # The description names pending service routings; "Refers To" forgets them.
    "SkillRequirement.RelatedRecordId": (
        "PendingServiceRouting",
        "WorkOrder",
        "WorkOrderLineItem",
        "WorkType",
    ),
    "UserServicePresence.OwnerId": ("User",),
    "UserServicePresence.ServicePresenceStatusId": ("ServicePresenceStatus",),
    "UserServicePresence.UserId": ("User",),
}

# Restricted picklists whose values are the org's objects or fields: a save hook checks
# them against the schema (custom objects and fields included), not a fixed list.
SCHEMA_CHECKED = frozenset(
    {
        "ServiceChannel.RelatedEntity",
        "ServiceChannel.StatusField",
        "ServiceChannel.SecRoutingPriorityField",
        "QueueSubject.SubjectType",
    }
)

# Fields whose seed type is wrong or has no FieldType; None drops the field.
TYPE_FIXES: Mapping[str, FieldType | None] = {
    # The guide says string; describe() says reference to User.
    "UserServicePresence.UserId": FieldType.REFERENCE,
}
SKIPPED_SEED_TYPES = frozenset({"location", "address"})  # compound fields: parts are fields

SEED_TYPES: Mapping[str, FieldType] = {
    "string": FieldType.STRING,
    "textarea": FieldType.TEXTAREA,
    "boolean": FieldType.BOOLEAN,
    "int": FieldType.INT,
    "double": FieldType.DOUBLE,
    "percent": FieldType.PERCENT,
    "currency": FieldType.CURRENCY,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "time": FieldType.TIME,
    "picklist": FieldType.PICKLIST,
    "multipicklist": FieldType.MULTIPICKLIST,
    "reference": FieldType.REFERENCE,
    "email": FieldType.EMAIL,
    "phone": FieldType.PHONE,
    "url": FieldType.URL,
}


def _values(*pairs: str | tuple[str, str]) -> tuple[PicklistValue, ...]:
    out = []
    for p in pairs:
        value, label = (p, p) if isinstance(p, str) else p
        out.append(PicklistValue(value=value, label=label))
    return tuple(out)


_LANGUAGE_VALUES = _values(*LANGUAGES)
_ROUTING_MODEL = _values(
    ("ExternalRouting", "External Routing"),
    ("LeastActive", "Least Active"),
    ("MostAvailable", "Most Available"),
)
_ROUTING_TYPE = _values(("QueueBased", "Queue Based"), ("SkillsBased", "Skills Based"))
_CAPACITY_MODEL = _values(("StatusBased", "Status-Based"), ("TabBased", "Tab-Based"))
_MAX_EXTENSIONS = _values(*(str(n) for n in range(1, 11)))
_PRIORITY_FIELDS = _values(
    "Priority",
    "Origin",
    "Status",
    "Type",
    "Reason",
    "Rating",
    "LeadSource",
    "Industry",
    "StageName",
)

# Picklist values the seed gives in prose (or not at all), by "Object.Field" or by
# field name for every object.
PICKLISTS: Mapping[str, tuple[PicklistValue, ...]] = {
    "Language": _LANGUAGE_VALUES,
    "MaxExtensions": _MAX_EXTENSIONS,
    "CapacityModel": _CAPACITY_MODEL,
    "AgentWork.RoutingModel": _ROUTING_MODEL,
    "AgentWork.RoutingType": _ROUTING_TYPE,
    "PendingServiceRouting.RoutingModel": _ROUTING_MODEL,
    "PendingServiceRouting.RoutingType": _ROUTING_TYPE,
    # The guide names two; external routing needs a third (see its Step 1).
    "QueueRoutingConfig.RoutingModel": _values(
        ("LeastActive", "Least Active"),
        ("MostAvailable", "Most Available"),
        ("ExternalRouting", "External Routing"),
    ),
    "QueueSubject.SubjectType": _values(*QUEUEABLE_OBJECTS),
    "ServiceChannel.RelatedEntity": _values(*ROUTABLE_OBJECTS),
    "ServiceChannel.SecRoutingPriorityField": _PRIORITY_FIELDS,
    "ServiceChannel.StatusField": _values("Status", "StageName"),
    "ServiceResource.ResourceType": _values(
        ("T", "Technician"),
        ("D", "Dispatcher"),
        ("C", "Crew"),
        ("S", "Asset"),
        ("A", "Agent"),
        ("P", "Planner"),
    ),
}

# Defaults the seed states in prose, by "Object.Field" (picklist defaults are values).
DEFAULTS: Mapping[str, object] = {
    "AgentWork.Status": "Assigned",  # "When AgentWork records are created, ... Assigned"
    "OmniSupervisorConfig.Language": "en_US",
    "PendingServiceRouting.RoutingType": "QueueBased",
    "PresenceUserConfig.HasAcwExtensionEnabled": True,
    "PresenceUserConfig.OptionsIsRequestSoundEnabled": True,
    "ServiceChannel.Language": "en_US",
    "ServiceResource.ResourceType": "T",
}
# AgentWork gets its Status from the engine on create; say so in describe().
DEFAULTED_ON_CREATE = frozenset({"AgentWork.Status"})

LENGTHS: Mapping[str, int] = {
    "DeveloperName": 80,
    "MasterLabel": 80,
    "ServiceResource.Name": 80,
    "ServiceResource.Description": 32000,
}
AUTONUMBER_LENGTH = 30
DISPLAY_FORMAT = "{00000000}"
# precision, scale by "Object.Field" or field name; other doubles/percents get 18, 2.
NUMBER_SIZES: Mapping[str, tuple[int, int]] = {
    "SkillLevel": (4, 2),  # "from zero to 99.99"
    "LastKnownLatitude": (18, 15),
    "LastKnownLongitude": (18, 15),
}

NAME_FIELDS: Mapping[str, str] = {  # objects whose name field isn't called Name
    "OmniSupervisorConfig": "MasterLabel",
    "PresenceDeclineReason": "MasterLabel",
    "PresenceUserConfig": "MasterLabel",
    "QueueRoutingConfig": "MasterLabel",
    "ServiceChannel": "MasterLabel",
    "ServicePresenceStatus": "MasterLabel",
    "SkillRequirement": "SkillNumber",
}

LABEL_WORDS = {"Id": "ID", "Acw": "ACW", "Convo": "Conversation", "Sec": "Secondary"}
FIELD_LABELS: Mapping[str, str] = {
    "AgentWork.Name": "Agent Work Name",
    "PendingServiceRouting.Name": "Pending Service Routing Name",
    "SkillRequirement.SkillNumber": "Skill Requirement Number",
    "AgentWorkSkill.Name": "Agent Work Skill Name",
}

# -- the seed ----------------------------------------------------------------------------


@dataclass
class SeedField:
    name: str
    seed_type: str
    properties: str
    details: str  # raw text (markup kept), for picklist bullets
    relationship_name: str | None = None
    refers_to: tuple[str, ...] = ()


@dataclass
class SeedObject:
    name: str
    description: str
    calls: frozenset[str]
    fields: list[SeedField] = field(default_factory=list)


_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_ROW = re.compile(r"^(?:<code>)?([A-Za-z][A-Za-z0-9]*)(?:</code>)?\t(.*)$")
_CALL = re.compile(r"(\w+)\(\)")
_SECTION_ENDS = ("Usage", "Associated Objects")


def plain(text: str) -> str:
    return _SPACE.sub(" ", _TAG.sub(" ", text)).strip()


def parse_seed(text: str, names: Iterable[str]) -> list[SeedObject]:
    """The objects named ``names`` as the seed describes them, in seed order."""
    wanted = set(names)
    lines = text.splitlines()
    starts: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        name = line.strip()
        if name in wanted and _next_text(lines, i).startswith("Represents"):
            starts.append((i, name))
    found = [n for _, n in starts]
    missing = wanted - set(found)
    if missing or len(found) != len(set(found)):
        raise ValueError(f"seed sections: missing {sorted(missing)}, found {found}")
    bounds = [*(i for i, _ in starts[1:]), len(lines)]
    return [
        _parse_section(name, lines[start:end])
        for (start, name), end in zip(starts, bounds, strict=True)
    ]


def _next_text(lines: Sequence[str], i: int) -> str:
    for line in lines[i + 1 :]:
        if line.strip():
            return line.strip()
    return ""


def _parse_section(name: str, lines: Sequence[str]) -> SeedObject:
    description = _next_text(lines, 0)
    calls: set[str] = set()
    rows: list[list[str]] = []
    in_fields = False
    for line in lines:
        stripped = line.strip()
        if not in_fields:
            if stripped.startswith("`") and "()" in stripped and not calls:
                calls.update(_CALL.findall(stripped))
            if stripped == "Fields":
                in_fields = True
            continue
        if stripped in _SECTION_ENDS:
            break
        if not stripped or stripped.startswith(("Field\tDetails", "Field Name\tDetails")):
            continue
        if line.startswith("\t"):
            if rows:
                rows[-1].append(stripped)
            continue
        m = _ROW.match(line)
        if m is None:
            raise ValueError(f"{name}: unexpected line in the fields table: {line!r}")
        rows.append([m.group(1), m.group(2)])
    obj = SeedObject(name, _first_sentence(description), frozenset(calls))
    obj.fields = [_parse_field(name, row[0], " ".join(row[1:])) for row in rows]
    return obj


def _first_sentence(text: str) -> str:
    head, _, _ = plain(text).partition(". ")
    return head.rstrip(".") + "."


_DETAIL = re.compile(r"^Type (\S+) Properties (.*?) Description (.*)$")


def _parse_field(obj: str, name: str, details: str) -> SeedField:
    text = plain(details)
    m = _DETAIL.match(text)
    if m is None:
        raise ValueError(f"{obj}.{name}: can't read {text[:80]!r}")
    seed_type, properties, rest = m.group(1).lower(), m.group(2), m.group(3)
    rel = re.search(r"Relationship Name (\S+)", rest)
    refers = re.search(r"Refers To (.+)$", rest)
    targets: tuple[str, ...] = ()
    if refers is not None:
        targets = tuple(t.strip() for t in refers.group(1).split(",") if t.strip())
    return SeedField(
        name=name,
        seed_type=seed_type,
        properties=properties,
        details=details,
        relationship_name=rel.group(1) if rel else None,
        refers_to=targets,
    )


def seed_picklist(details: str) -> tuple[PicklistValue, ...]:
    """Values listed as bullets (or bare words in a list) in a field's description."""
    if "•" in details:
        out = []
        for item in details.split("•")[1:]:
            text = plain(item)
            if not text:
                continue
            value = text.split()[0]
            label = value
            # "Value—Label" (no spaces) names the label; "Value — text" describes it.
            m = re.match(r"^(\S+?)—(\S.*)$", text)
            if m is not None:
                value, label = m.group(1), m.group(2).strip()
            out.append(PicklistValue(value=value, label=label))
        return tuple(out)
    if "<ul" in details:
        inner = details.split("<ul", 1)[1].split(">", 1)[1].split("</ul>", 1)[0]
        return tuple(PicklistValue(value=w, label=w) for w in plain(inner).split())
    return ()


# -- seed -> ObjectDef ------------------------------------------------------------------


def _has(properties: str, word: str) -> bool:
    # Case matters: "Create" is a property, "Defaulted on create" another.
    return re.search(rf"\b{word}\b", properties) is not None


def label_for(name: str) -> str:
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[a-z0-9]+", name)
    return " ".join(LABEL_WORDS.get(w, w) for w in words)


def field_def(obj: str, sf: SeedField) -> FieldDef | None:
    key = f"{obj}.{sf.name}"
    if key in TYPE_FIXES:
        ftype = TYPE_FIXES[key]
        if ftype is None:
            return None
    elif sf.seed_type in SKIPPED_SEED_TYPES:
        return None
    else:
        ftype = SEED_TYPES[sf.seed_type]
    props = sf.properties
    auto = _has(props, "Autonumber")
    createable = _has(props, "Create") and not auto
    updateable = _has(props, "Update") and not auto
    nillable = _has(props, "Nillable") and ftype is not FieldType.BOOLEAN
    defaulted = (
        _has(props, "Defaulted on create")
        or auto
        or ftype is FieldType.BOOLEAN
        or key in DEFAULTED_ON_CREATE
        or sf.name == "OwnerId"  # the save sets the owner
    )
    kw: dict[str, Any] = {
        "name": sf.name,
        "type": ftype,
        "label": FIELD_LABELS.get(key) or label_for(sf.name),
        "nillable": nillable,
        "createable": createable,
        "updateable": updateable,
        "defaulted_on_create": defaulted,
        "required": not nillable
        and createable
        and not defaulted
        and ftype is not FieldType.BOOLEAN,
        "id_lookup": _has(props, "idLookup"),
        "unique": _has(props, "Unique"),
    }
    if auto:
        kw.update(auto_number=True, display_format=DISPLAY_FORMAT, length=AUTONUMBER_LENGTH)
    elif ftype.is_text:
        kw["length"] = LENGTHS.get(key) or LENGTHS.get(sf.name) or 255
    if ftype is FieldType.TEXTAREA and "length" not in kw:
        kw["length"] = 32000
    if ftype in (FieldType.DOUBLE, FieldType.PERCENT, FieldType.CURRENCY):
        kw["precision"], kw["scale"] = NUMBER_SIZES.get(key) or NUMBER_SIZES.get(sf.name, (18, 2))
    if ftype is FieldType.REFERENCE:
        targets = REFERENCE_TO.get(key) or sf.refers_to
        if not targets or any(" " in t for t in targets):
            raise ValueError(f"{key}: no reference targets")
        kw.update(
            length=18,
            reference_to=tuple(targets),
            relationship_name=sf.relationship_name or sf.name.removesuffix("Id"),
        )
    default = DEFAULTS.get(key)
    if ftype is FieldType.BOOLEAN:
        kw["default"] = bool(default) if default is not None else False
    if ftype in (FieldType.PICKLIST, FieldType.MULTIPICKLIST):
        values = PICKLISTS.get(key) or PICKLISTS.get(sf.name) or seed_picklist(sf.details)
        if not values:
            raise ValueError(f"{key}: a picklist without values")
        if default is not None:
            if default not in {v.value for v in values}:
                raise ValueError(f"{key}: default {default!r} is not a value")
            values = tuple(
                PicklistValue(value=v.value, label=v.label, default=v.value == default)
                for v in values
            )
        kw["picklist"] = values
        kw["restricted_picklist"] = (
            re.search(r"Restricted ?[Pp]icklist", props) is not None
            and sf.name != "Language"
            and key not in SCHEMA_CHECKED
        )
    if NAME_FIELDS.get(obj, "Name") == sf.name:
        kw["name_field"] = True
    return FieldDef(**kw)


def object_def(so: SeedObject) -> ObjectDef:
    info = OBJECTS[so.name]
    fields = [f for f in (field_def(so.name, sf) for sf in so.fields) if f is not None]
    return ObjectDef(
        name=so.name,
        key_prefix=info.key_prefix,
        label=info.label,
        label_plural=info.label_plural,
        fields=tuple(fields),
        has_owner=any(f.name == "OwnerId" for f in fields),
        createable="create" in so.calls,
        updateable="update" in so.calls,
        deletable="delete" in so.calls,
        setup=info.setup,
        description=so.description,
    )


def extract(text: str) -> list[ObjectDef]:
    seed = parse_seed(text, OBJECTS)
    return sorted((object_def(so) for so in seed), key=lambda o: o.name)


# -- JSON --------------------------------------------------------------------------------


def dumps(objects: Iterable[ObjectDef]) -> str:
    """The package-data JSON: one object header per line, then one field per line."""
    chunks = []
    for obj in objects:
        data = object_to_json(obj)
        fields = data.pop("fields")
        head = json.dumps(data, ensure_ascii=False)[:-1]
        body = ",\n".join("      " + json.dumps(f, ensure_ascii=False) for f in fields)
        chunks.append(f'    {head}, "fields": [\n{body}\n    ]}}')
    return '{"objects": [\n' + ",\n".join(chunks) + "\n]}\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("seed", type=Path, help="the seed text (Omni-Channel Developer Guide)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = dumps(extract(args.seed.read_text(encoding="utf-8")))
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
