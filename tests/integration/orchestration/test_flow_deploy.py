"""Deploying Flow metadata through the real deploy path: versions and activation,
all-or-nothing, the flows steps call, assignees in the org, retrieve, and the versions
read back by a restarted org (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import DeployError
from workroute.metadata.deploy import DeployResult, deploy_source, run_deploy
from workroute.metadata.flow import orchestration_to_xml
from workroute.metadata.retrieve import manifest_for, retrieve
from workroute.orchestration.definition import FlowSummary, Orchestration, Stage, Step
from workroute.orchestration.deploy import FlowHandler
from workroute.orchestration.resources import Trigger
from workroute.orchestration.values import Assignee, Connector, Parameter, Value
from workroute.orchestration.versions import FlowRegistry
from workroute.orchestration.vocabulary import (
    AssigneeType,
    FlowStatus,
    RecordTriggerType,
    StepActionType,
)
from workroute.org import NewUser, Org

NS = "http://soap.sforce.com/2006/04/metadata"
REVIEWER = "reviewer@example.com"


def orchestration(
    *,
    status: FlowStatus = FlowStatus.ACTIVE,
    label: str = "Case Review",
    screen: str = "Review_Screen",
    background: str = "Notify",
    assignee: Assignee | None = None,
) -> Orchestration:
    """Two stages: an interactive step, then a background step."""
    review = Step(
        name="Review",
        label="Review",
        action_type=StepActionType.STEP_INTERACTIVE,
        action_name=screen,
        assignee=assignee or Assignee(type=AssigneeType.USER, value=Value.string(REVIEWER)),
        inputs=(Parameter(name="ActionInput__RecordId", value=Value.reference("$Record.Id")),),
    )
    notify = Step(
        name="Notify_Owner",
        label="Notify owner",
        action_type=StepActionType.STEP_BACKGROUND,
        action_name=background,
    )
    return Orchestration(
        name="Case_Review",
        label=label,
        status=status,
        api_version="62.0",
        trigger=Trigger(object="Case", record_trigger_type=RecordTriggerType.CREATE),
        start=Connector(target="Reviewing"),
        stages=(
            Stage(
                name="Reviewing",
                label="Reviewing",
                steps=(review,),
                connector=Connector(target="Done"),
            ),
            Stage(name="Done", label="Done", steps=(notify,)),
        ),
    )


def flow_xml(process_type: str, status: str, label: str = "A flow") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Flow xmlns="{NS}"><apiVersion>62.0</apiVersion>'
        f"<label>{label}</label><processType>{process_type}</processType>"
        f"<status>{status}</status><variables><name>recordId</name><dataType>String</dataType>"
        "<isInput>true</isInput></variables></Flow>\n"
    ).encode()


def package(root: Path, files: dict[str, bytes]) -> Path:
    """A package folder: ``flows/<name>.flow-meta.xml`` for each name."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "flows").mkdir(exist_ok=True)
    for old in (root / "flows").iterdir():
        old.unlink()
    for name, content in files.items():
        (root / "flows" / f"{name}.flow-meta.xml").write_bytes(content)
    return root


@pytest.fixture
def flows(org: Org) -> FlowHandler:
    [handler] = [h for h in org.deploy_handlers if isinstance(h, FlowHandler)]
    assert handler.registry is org.flows
    org.add_user(NewUser(username=REVIEWER, last_name="Reviewer", email=REVIEWER))
    return handler


def deploy(org: Org, root: Path, files: dict[str, bytes]) -> DeployResult:
    return run_deploy(org, package(root, files), user_id=org.admin_user_id())


def statuses(handler: FlowHandler, name: str = "Case_Review") -> list[tuple[int | None, str]]:
    return [(v.version, v.status.value) for v in handler.registry.versions(name)]


def test_versions_and_activation(org: Org, flows: FlowHandler, tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    draft = orchestration(status=FlowStatus.DRAFT)
    r = deploy(org, root, {"Case_Review": orchestration_to_xml(draft)})
    assert r.success, r.problems
    assert [(c.type, c.full_name, c.created) for c in r.components] == [
        ("Flow", "Case_Review", True)
    ]
    assert statuses(flows) == [(1, "Draft")]
    assert flows.registry.active("Case_Review") is None

    # The same definition deployed as Active activates version 1: no new version.
    r = deploy(
        org, root, {"Case_Review": orchestration_to_xml(replace(draft, status=FlowStatus.ACTIVE))}
    )
    assert r.success and [c.created for c in r.components] == [False]
    assert statuses(flows) == [(1, "Active")]

    # A changed definition is a new version; activating it makes version 1 Obsolete.
    changed = orchestration(label="Case Review 2")
    assert deploy(org, root, {"Case_Review": orchestration_to_xml(changed)}).success
    assert statuses(flows) == [(1, "Obsolete"), (2, "Active")]
    active = flows.registry.active_orchestration("Case_Review")
    assert active is not None and active.version == 2 and active.label == "Case Review 2"
    assert flows.registry.record_triggered("case") == [active]

    # Older versions stay readable, as the runs that started with them need.
    v1 = flows.registry.orchestration("Case_Review", 1)
    assert v1 is not None and v1.label == "Case Review" and v1.status is FlowStatus.OBSOLETE
    assert replace(v1, status=FlowStatus.DRAFT, version=None) == draft

    # Deploying the active definition again changes nothing.
    assert deploy(org, root, {"Case_Review": orchestration_to_xml(changed)}).success
    assert statuses(flows) == [(1, "Obsolete"), (2, "Active")]

    # A new draft leaves version 2 active; then the same draft deployed inactive again
    # adds nothing, and deployed Active it becomes the active version.
    old = orchestration(status=FlowStatus.DRAFT, label="Case Review 3")
    assert deploy(org, root, {"Case_Review": orchestration_to_xml(old)}).success
    assert statuses(flows) == [(1, "Obsolete"), (2, "Active"), (3, "Draft")]
    assert deploy(org, root, {"Case_Review": orchestration_to_xml(old)}).success
    assert statuses(flows) == [(1, "Obsolete"), (2, "Active"), (3, "Draft")]
    live = replace(old, status=FlowStatus.ACTIVE)
    assert deploy(org, root, {"Case_Review": orchestration_to_xml(live)}).success
    assert statuses(flows) == [(1, "Obsolete"), (2, "Obsolete"), (3, "Active")]

    # Deployed inactive, the active definition is deactivated (Obsolete, never a draft again).
    assert deploy(org, root, {"Case_Review": orchestration_to_xml(old)}).success
    assert statuses(flows) == [(1, "Obsolete"), (2, "Obsolete"), (3, "Obsolete")]
    assert flows.registry.active("Case_Review") is None


def test_a_restarted_org_reads_the_versions_back(
    org: Org, flows: FlowHandler, tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    root = tmp_path / "pkg"
    assert deploy(org, root, {"Case_Review": orchestration_to_xml(orchestration())}).success
    changed = orchestration(label="Again")
    assert deploy(org, root, {"Case_Review": orchestration_to_xml(changed)}).success
    again = Org.open(database_url=database_url, clock=clock)
    try:
        registry = FlowRegistry.from_database(again.db)
        assert [(v.version, v.status) for v in registry.versions("case_review")] == [
            (1, FlowStatus.OBSOLETE),
            (2, FlowStatus.ACTIVE),
        ]
        assert registry.versions("Case_Review") == flows.registry.versions("Case_Review")
        assert registry.active_orchestration("Case_Review") == replace(
            changed, version=2, status=FlowStatus.ACTIVE
        )
    finally:
        again.close()


def test_a_deploy_with_any_problem_changes_nothing(
    org: Org, flows: FlowHandler, tmp_path: Path
) -> None:
    good = orchestration_to_xml(orchestration())
    bad = orchestration_to_xml(replace(orchestration(), name="Broken", start=None))
    root = package(tmp_path / "pkg", {"Case_Review": good, "Broken": bad})
    (root / "objects").mkdir()
    (root / "objects" / "Extra__c.object").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="{NS}"><label>Extra</label>'
        "<pluralLabel>Extras</pluralLabel><nameField><label>Name</label><type>Text</type>"
        "</nameField><deploymentStatus>Deployed</deploymentStatus>"
        "<sharingModel>ReadWrite</sharingModel></CustomObject>"
    )
    r = run_deploy(org, root, user_id=org.admin_user_id())
    assert not r.success
    assert [(p.file, p.element, p.message) for p in r.problems] == [
        (
            "flows/Broken.flow-meta.xml",
            "connector",
            "<start> needs a <connector> to the first stage or decision",
        )
    ]
    assert flows.registry.names() == []
    assert org.schema.find("Extra__c") is None
    assert FlowRegistry.from_database(org.db).names() == []


def test_flows_that_steps_call(org: Org, flows: FlowHandler, tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    # Unknown flows are accepted: they are resolved when a step starts.
    assert deploy(org, root, {"Case_Review": orchestration_to_xml(orchestration())}).success

    # Known flows must be of the right kind...
    wrong = orchestration_to_xml(orchestration(label="Wrong", background="Review_Screen"))
    r = deploy(org, root, {"Review_Screen": flow_xml("Flow", "Active"), "Case_Review": wrong})
    assert [(p.line, p.element, p.message) for p in r.problems] == [
        (
            35,
            "actionName",
            "Background step 'Notify_Owner' calls 'Review_Screen', which is a flow of "
            "processType Flow; it must call a flow of processType AutoLaunchedFlow",
        )
    ]
    # ...and active when the orchestration is.
    fine = orchestration_to_xml(orchestration(label="Fine"))
    r = deploy(org, root, {"Review_Screen": flow_xml("Flow", "Draft"), "Case_Review": fine})
    assert [(p.element, p.message) for p in r.problems] == [
        (
            "actionName",
            "Interactive step 'Review' calls 'Review_Screen', which has no active version; "
            "activate it before this orchestration",
        )
    ]
    r = deploy(
        org,
        root,
        {
            "Review_Screen": flow_xml("Flow", "Active"),
            "Notify": flow_xml("AutoLaunchedFlow", "Active"),
            "Case_Review": fine,
        },
    )
    assert r.success, r.problems
    screen = flows.registry.flow("Review_Screen")
    assert isinstance(screen, FlowSummary) and screen.is_screen_flow and screen.is_active
    assert [v.name for v in screen.variables] == ["recordId"]
    assert statuses(flows, "Notify") == [(1, "Active")]

    # A flow deployed again unchanged adds no version; with another status it changes.
    assert deploy(org, root, {"Notify": flow_xml("AutoLaunchedFlow", "Active")}).success
    assert statuses(flows, "Notify") == [(1, "Active")]
    assert deploy(org, root, {"Notify": flow_xml("AutoLaunchedFlow", "Draft")}).success
    assert statuses(flows, "Notify") == [(1, "Obsolete")]
    assert deploy(org, root, {"Notify": flow_xml("AutoLaunchedFlow", "Draft", "New")}).success
    assert statuses(flows, "Notify") == [(1, "Obsolete"), (2, "Draft")]


def _group(org: Org, name: str, kind: str) -> None:
    with org.db.write():
        org.store.insert(
            "Group",
            [{"Name": name, "DeveloperName": name, "Type": kind}],
            user_id=org.admin_user_id(),
        )


def test_assignees_of_an_active_orchestration_exist(
    org: Org, flows: FlowHandler, tmp_path: Path
) -> None:
    root = tmp_path / "pkg"

    def deployed(assignee: Assignee, status: FlowStatus = FlowStatus.ACTIVE) -> list[str]:
        o = orchestration(assignee=assignee, status=status)
        r = deploy(org, root, {"Case_Review": orchestration_to_xml(o)})
        return [p.message for p in r.problems]

    queue = Assignee(type=AssigneeType.QUEUE, value=Value.string("Reviewers"))
    group = Assignee(type=AssigneeType.GROUP, value=Value.string("Managers"))
    gone = Assignee(type=AssigneeType.USER, value=Value.string("gone@example.com"))
    assert deployed(queue) == ["The assignee of step 'Review', queue 'Reviewers', does not exist"]
    assert deployed(group) == ["The assignee of step 'Review', group 'Managers', does not exist"]
    assert deployed(gone) == [
        "The assignee of step 'Review', user 'gone@example.com', does not exist or is inactive"
    ]
    # Salesforce checks assignees when a version is activated, not in drafts.
    assert deployed(gone, FlowStatus.DRAFT) == []
    _group(org, "Reviewers", "Queue")
    _group(org, "Managers", "Regular")
    # A queue is not a group, nor the other way round.
    assert deployed(Assignee(type=AssigneeType.GROUP, value=Value.string("Reviewers"))) == [
        "The assignee of step 'Review', group 'Reviewers', does not exist"
    ]
    assert deployed(queue) == []
    assert deployed(group) == []
    # A resource (or any reference) is resolved when the step runs.
    resource = Assignee(type=AssigneeType.USER, value=Value.reference("$Record.Owner.Username"))
    assert deployed(resource) == []


def test_retrieve_gives_the_deployed_xml_back(org: Org, flows: FlowHandler, tmp_path: Path) -> None:
    corpus = (
        Path(__file__).resolve().parents[4]
        / "shared/corpus/orchestrations"
        / "alexed1__LightningFlowComponents__sampleautoorch.flow-meta.xml"
    )
    sample = corpus.read_bytes() if corpus.exists() else orchestration_to_xml(orchestration())
    root = tmp_path / "pkg"
    files = {"sampleautoorch": sample, "Case_Review": orchestration_to_xml(orchestration())}
    assert deploy(org, root, files).success
    result = retrieve(org, manifest_for({"Flow": ["*"]}))
    with zipfile.ZipFile(io.BytesIO(result.zip_file)) as zf:
        assert zf.read("unpackaged/flows/sampleautoorch.flow-meta.xml") == sample
        assert zf.read("unpackaged/flows/Case_Review.flow-meta.xml") == files["Case_Review"]
        assert b"<members>Case_Review</members>" in zf.read("unpackaged/package.xml")


def test_the_cli_deploy_path_with_a_manifest(org: Org, flows: FlowHandler, tmp_path: Path) -> None:
    """``workroute deploy`` runs deploy_source: the Metadata API layout with package.xml
    (``flows/Name.flow``), raising DeployError with the located problems."""
    root = tmp_path / "mdapi"
    (root / "flows").mkdir(parents=True)
    (root / "package.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><Package xmlns="{NS}"><types>'
        "<members>Case_Review</members><name>Flow</name></types><version>62.0</version></Package>"
    )
    broken = replace(
        orchestration(), stages=orchestration().stages[:1], start=Connector(target="X")
    )
    (root / "flows" / "Case_Review.flow").write_bytes(orchestration_to_xml(broken))
    with pytest.raises(DeployError) as exc:
        deploy_source(org, root, user_id=org.admin_user_id())
    assert [p.describe() for p in exc.value.problems] == [
        "flows/Case_Review.flow:33 <targetReference>: The connector goes to 'X', which is not a "
        "stage or decision of this orchestration",
        "flows/Case_Review.flow:9 <targetReference>: The connector goes to 'Done', which is "
        "not a stage or decision of this orchestration",
    ]
    (root / "flows" / "Case_Review.flow").write_bytes(orchestration_to_xml(orchestration()))
    result = deploy_source(org, root, user_id=org.admin_user_id())
    assert [(c.type, c.full_name, c.file) for c in result.components] == [
        ("Flow", "Case_Review", "flows/Case_Review.flow")
    ]
    assert statuses(flows) == [(1, "Active")]
