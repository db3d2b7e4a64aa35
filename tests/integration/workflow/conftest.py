"""Deploying small Workflow packages onto a custom object for engine tests."""

from __future__ import annotations

from pathlib import Path

from workroute.metadata.deploy import DeployResult, run_deploy
from workroute.org import Org

NS = "http://soap.sforce.com/2006/04/metadata"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "deploy"

#: Job__c: the object the engine tests run on.
JOB_OBJECT = f"""<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="{NS}">
    <label>Job</label>
    <pluralLabel>Jobs</pluralLabel>
    <nameField><label>Job Name</label><type>Text</type></nameField>
    <deploymentStatus>Deployed</deploymentStatus>
    <sharingModel>ReadWrite</sharingModel>
    <fields><fullName>Status__c</fullName><label>Status</label><type>Picklist</type>
        <valueSet><valueSetDefinition><sorted>false</sorted>
            <value><fullName>New</fullName><default>false</default><label>New</label></value>
            <value><fullName>Open</fullName><default>false</default><label>Open</label></value>
            <value><fullName>Done</fullName><default>false</default><label>Done</label></value>
        </valueSetDefinition></valueSet></fields>
    <fields><fullName>Step__c</fullName><label>Step</label><type>Number</type>
        <precision>5</precision><scale>0</scale></fields>
    <fields><fullName>Hits__c</fullName><label>Hits</label><type>Number</type>
        <precision>5</precision><scale>0</scale></fields>
    <fields><fullName>Note__c</fullName><label>Note</label><type>Text</type>
        <length>200</length></fields>
    <fields><fullName>Flag__c</fullName><label>Flag</label><type>Checkbox</type>
        <defaultValue>false</defaultValue></fields>
    <fields><fullName>Due__c</fullName><label>Due</label><type>DateTime</type></fields>
    <fields><fullName>Contact_Email__c</fullName><label>Contact Email</label>
        <type>Email</type></fields>
    <fields><fullName>Reviewer__c</fullName><label>Reviewer</label><type>Lookup</type>
        <referenceTo>User</referenceTo><relationshipName>ReviewedJobs</relationshipName></fields>
    <fields><fullName>Account__c</fullName><label>Account</label><type>Lookup</type>
        <referenceTo>Account</referenceTo><relationshipName>Jobs</relationshipName>
        <deleteConstraint>SetNull</deleteConstraint></fields>
</CustomObject>
"""


def write_package(
    root: Path,
    workflow_body: str,
    *,
    obj: str = "Job__c",
    object_xml: str | None = JOB_OBJECT,
    templates: dict[str, tuple[str, str]] | None = None,
) -> Path:
    """A package folder: the object (unless None), ``workflows/<obj>.workflow`` holding
    ``workflow_body`` inside <Workflow>, and templates name -> (subject, body)."""
    root.mkdir(parents=True, exist_ok=True)
    if object_xml is not None:
        (root / "objects").mkdir(exist_ok=True)
        (root / "objects" / f"{obj}.object").write_text(object_xml)
    (root / "workflows").mkdir(exist_ok=True)
    (root / "workflows" / f"{obj}.workflow").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Workflow xmlns="{NS}">\n'
        f"{workflow_body}\n</Workflow>\n"
    )
    for full_name, (subject, body) in (templates or {}).items():
        folder, name = full_name.split("/")
        d = root / "email" / folder
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{name}.email").write_text(body)
        (d / f"{name}.email-meta.xml").write_text(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<EmailTemplate xmlns="{NS}">'
            f"<available>true</available><encodingKey>UTF-8</encodingKey>"
            f"<name>{name}</name><style>none</style><subject>{subject}</subject>"
            f"<type>text</type></EmailTemplate>\n"
        )
    return root


def deploy(org: Org, root: Path) -> DeployResult:
    return run_deploy(org, root, user_id=org.admin_user_id())


def rule(
    name: str,
    *,
    criteria: str = "",
    formula: str | None = None,
    trigger: str = "onCreateOrTriggeringUpdate",
    actions: tuple[tuple[str, str], ...] = (),
    extra: str = "",
    active: bool = True,
) -> str:
    acts = "".join(f"<actions><name>{n}</name><type>{t}</type></actions>" for n, t in actions)
    body = f"<formula>{formula}</formula>" if formula is not None else criteria
    return (
        f"<rules><fullName>{name}</fullName>{acts}<active>{'true' if active else 'false'}"
        f"</active>{body}<triggerType>{trigger}</triggerType>{extra}</rules>"
    )


def item(field: str, op: str, value: str = "") -> str:
    return (
        f"<criteriaItems><field>{field}</field><operation>{op}</operation>"
        f"<value>{value}</value></criteriaItems>"
    )


def field_update(name: str, field: str, op: str, *, reevaluate: bool = False, **extra: str) -> str:
    parts = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    return (
        f"<fieldUpdates><fullName>{name}</fullName><field>{field}</field>{parts}"
        f"<name>{name}</name><notifyAssignee>false</notifyAssignee><operation>{op}</operation>"
        f"<protected>false</protected><reevaluateOnChange>{'true' if reevaluate else 'false'}"
        f"</reevaluateOnChange></fieldUpdates>"
    )


def bump(name: str, field: str = "Hits__c") -> str:
    """A field update adding one to a number field (counts how often a rule fired)."""
    return field_update(name, field, "Formula", formula=f"BLANKVALUE({field}, 0) + 1")
