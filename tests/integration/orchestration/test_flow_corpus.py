"""Every Flow file of the shared orchestration corpus, deployed through the real deploy
path (a package folder, ``run_deploy``), with the exact outcome of each file.

Each file is deployed twice, each time into its own fresh org:

* *bare*: the file alone, into an org with only the standard objects and its admin.
  The outcome is what the deploy says: the file deploys, or the exact problems (file,
  line, element, message).
* *prepared*: with what the file expects from the org it came from and that an org
  can be given: the users it assigns work to (created first) and the custom fields and
  objects it names (deployed in the same package). Files that are broken in
  themselves, or need what no deploy can make (the standard object Contract, Salesforce
  CMS), still fail, for the same precise reason.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import DeployError
from workroute.metadata.deploy import DeployResult, run_deploy
from workroute.metadata.flow import orchestration_to_xml, parse_flow
from workroute.orchestration.definition import Orchestration
from workroute.orchestration.deploy import FlowHandler
from workroute.orchestration.vocabulary import FlowStatus
from workroute.orchestration.yaml_form import load_orchestration
from workroute.orchestration.yaml_write import orchestration_to_json, orchestration_to_yaml
from workroute.org import NewUser, Org

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"
NS = "http://soap.sforce.com/2006/04/metadata"


def _fields(*fields: str) -> str:
    body = "".join(fields)
    return f'<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="{NS}">{body}</CustomObject>'


_TEXT = "<type>Text</type><length>80</length>"
OPPORTUNITY_DECISION = _fields(
    "<fields><fullName>Designer_Decision__c</fullName><label>Designer Decision</label>"
    f"{_TEXT}</fields>"
)
OPPORTUNITY_BRANCH = _fields(
    f"<fields><fullName>Cabang__c</fullName><label>Cabang</label>{_TEXT}</fields>"
)
USER_REASSIGNMENT = _fields(
    "<fields><fullName>Reassignment_Requested__c</fullName><label>Reassignment Requested"
    "</label><type>Checkbox</type><defaultValue>false</defaultValue></fields>"
)
ORDER_APPROVAL = (
    f'<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="{NS}">'
    "<label>Order Approval Process</label><pluralLabel>Order Approval Processes</pluralLabel>"
    "<nameField><label>Name</label><type>Text</type></nameField>"
    "<deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel>"
    "</CustomObject>"
)

GUID_STEP = (
    "'43b39932-ea5b-4476-bad0-05ba0a396a0a.Status' refers to "
    "'43b39932-ea5b-4476-bad0-05ba0a396a0a', which is not a variable, formula, constant, "
    "text template, step or stage of this orchestration"
)
NO_CONTRACT = "Object 'Contract' does not exist"
NO_ORDER_APPROVAL = "Object 'OrderApprovalProcess__c' does not exist"


def _no_user(step: str, user: str) -> str:
    return f"The assignee of step '{step}', user '{user}', does not exist or is inactive"


@dataclass(frozen=True)
class Expected:
    """The outcome of one corpus file: ``bare`` problems as ``(line, element,
    message)`` (empty: it deploys, with ``status``), what a prepared org gets
    (``users``, ``objects``), and the problems left there (``prepared``)."""

    status: FlowStatus
    bare: tuple[tuple[int, str, str], ...] = ()
    users: tuple[str, ...] = ()
    objects: dict[str, str] = field(default_factory=dict)
    prepared: tuple[tuple[int, str, str], ...] = ()


ACTIVE, DRAFT, OBSOLETE = FlowStatus.ACTIVE, FlowStatus.DRAFT, FlowStatus.OBSOLETE
INVALID = FlowStatus.INVALID_DRAFT
_ALEX = "alexed1__LightningFlowComponents__"
_KENNY = "gilbertknny__KennyTrailhead__"
_MAIL = "somesh.laheri@thelovingcompanies.com"
EXPECTED: dict[str, Expected] = {
    "MegLogan12__Salesforce__Opportunity_Orchestration.flow-meta.xml": Expected(
        ACTIVE,
        bare=(
            (79, "field", "Opportunity has no field 'Designer_Decision__c'"),
            (18, "assignee", _no_user("Customer_Denied_Reason_Capture_Screen", _MAIL)),
        ),
        users=(_MAIL,),
        objects={"Opportunity": OPPORTUNITY_DECISION},
    ),
    # Orchestrations with no stages, kept as Salesforce keeps them: InvalidDraft.
    f"{_ALEX}Aaron_test.flow-meta.xml": Expected(INVALID),
    f"{_ALEX}Orchestration_Two_Level_Approval_Demo_Opportunity.flow-meta.xml": Expected(INVALID),
    # A step waits for a step that was deleted (named by its id): broken in itself.
    f"{_ALEX}Handle_User_Deactivation.flow-meta.xml": Expected(
        OBSOLETE,
        bare=(
            (165, "field", "User has no field 'Reassignment_Requested__c'"),
            (119, "leftValueReference", GUID_STEP),
        ),
        objects={"User": USER_REASSIGNMENT},
        prepared=((119, "leftValueReference", GUID_STEP),),
    ),
    f"{_ALEX}Handle_User_Deactivation_auto.flow-meta.xml": Expected(
        ACTIVE,
        bare=((141, "leftValueReference", GUID_STEP),),
    ),
    # Contract is a standard object this org does not have (and no deploy can add).
    f"{_ALEX}Orch_Contract_2.flow-meta.xml": Expected(
        OBSOLETE, bare=((113, "object", NO_CONTRACT),)
    ),
    f"{_ALEX}Orchestration_Contract_Approval.flow-meta.xml": Expected(
        OBSOLETE, bare=((113, "object", NO_CONTRACT),)
    ),
    f"{_ALEX}Orchestration_Contract_Processing.flow-meta.xml": Expected(
        OBSOLETE, bare=((113, "object", NO_CONTRACT),)
    ),
    f"{_ALEX}Orchestration_Manage_Contract_Creation.flow-meta.xml": Expected(
        OBSOLETE, bare=((113, "object", NO_CONTRACT),)
    ),
    f"{_ALEX}Orchestration_Parallel_Approvals.flow-meta.xml": Expected(
        ACTIVE,
        bare=(
            (149, "object", NO_CONTRACT),
            (18, "assignee", _no_user("Manager_Approves_or_Rejects", "jaylanmanager@gs0.org")),
            (46, "assignee", _no_user("Supervisor_Approves_or_Rejects", "yukisupervisor@gs0.org")),
            (
                74,
                "assignee",
                _no_user("Complete_Config_If_Both_Approve", "flowadmin@gs0.deved.org"),
            ),
        ),
        users=("jaylanmanager@gs0.org", "yukisupervisor@gs0.org", "flowadmin@gs0.deved.org"),
        prepared=((149, "object", NO_CONTRACT),),
    ),
    # Active orchestrations assign work to users of the org they came from. The second
    # user name has a trailing tab in the file; it names the same user.
    f"{_ALEX}Orchestration_Case.flow-meta.xml": Expected(
        ACTIVE,
        bare=(
            (20, "assignee", _no_user("Request_Approval", "jenmanager@scratch.org")),
            (48, "assignee", _no_user("Report_Results", "test-4amlyek43vmq@example.com")),
        ),
        users=("jenmanager@scratch.org", "test-4amlyek43vmq@example.com"),
    ),
    f"{_ALEX}Orchestrator_Opportunity_Demo_3.flow-meta.xml": Expected(
        ACTIVE,
        bare=(
            (17, "assignee", _no_user("Get_1st_Level_Approval", "jaylanManager@gs0.org")),
            (45, "assignee", _no_user("Get_2nd_Level_Approval", "yukisupervisor@gs0.org")),
        ),
        users=("jaylanManager@gs0.org", "yukisupervisor@gs0.org"),
    ),
    f"{_ALEX}Orchestrator_Order_Demo.flow-meta.xml": Expected(
        ACTIVE,
        bare=(
            (101, "object", NO_ORDER_APPROVAL),
            (17, "assignee", _no_user("Get_1st_Level_Approval", "jaylanmanager@gs0.org")),
            (45, "assignee", _no_user("Get_2nd_Level_Approval", "yukisupervisor@gs0.org")),
        ),
        users=("jaylanmanager@gs0.org", "yukisupervisor@gs0.org"),
        objects={"OrderApprovalProcess__c": ORDER_APPROVAL},
    ),
    f"{_ALEX}Test_Orch3.flow-meta.xml": Expected(
        ACTIVE,
        bare=((18, "assignee", _no_user("Step_1_of_Stage_1", "nbaadmin@gs0.deved.org")),),
        users=("nbaadmin@gs0.deved.org",),
    ),
    f"{_ALEX}Test_Orch_With_Opportunity.flow-meta.xml": Expected(DRAFT),
    f"{_ALEX}Test_Orchestration.flow-meta.xml": Expected(
        ACTIVE,
        bare=(
            (18, "assignee", _no_user("Open_Case", "sahib.gadzhiev-4kxj@force.com")),
            (44, "assignee", _no_user("test_2_step", "sahib.gadzhiev-4kxj@force.com")),
        ),
        users=("sahib.gadzhiev-4kxj@force.com",),
    ),
    # Custom fields and objects of the org they came from.
    f"{_ALEX}User_deactivation_orchestration.flow-meta.xml": Expected(
        OBSOLETE,
        bare=((88, "field", "User has no field 'Reassignment_Requested__c'"),),
        objects={"User": USER_REASSIGNMENT},
    ),
    f"{_ALEX}Virtual_Webinar_Orchestration_2.flow-meta.xml": Expected(DRAFT),
    f"{_ALEX}order4demo.flow-meta.xml": Expected(
        OBSOLETE,
        bare=((66, "object", NO_ORDER_APPROVAL),),
        objects={"OrderApprovalProcess__c": ORDER_APPROVAL},
    ),
    f"{_ALEX}sampleautoorch.flow-meta.xml": Expected(DRAFT),
    f"{_KENNY}Send_To_CA_Cabang.flow-meta.xml": Expected(
        DRAFT,
        bare=((75, "field", "Opportunity has no field 'Cabang__c'"),),
        objects={"Opportunity": OPPORTUNITY_BRANCH},
    ),
    f"{_KENNY}Tgr_OnChange_Stage.flow-meta.xml": Expected(
        DRAFT,
        bare=((127, "field", "Opportunity has no field 'Cabang__c'"),),
        objects={"Opportunity": OPPORTUNITY_BRANCH},
    ),
    # Not an orchestration: a Salesforce CMS approval workflow.
    "sandeep-pani-ar__sfdx-comp-null-error__Test_FB.flow-meta.xml": Expected(
        ACTIVE,
        bare=(
            (
                412,
                "processType",
                "processType ManagedContentAuthoringWorkflow is a Salesforce CMS content "
                "approval workflow; its steps act on CMS content "
                "(managedContentRoleStepInteractive, managedContentVariantSetLockStepBackground, "
                "managedContentVariantSetReadyStepBackground), which workroute does not have; "
                "workroute runs orchestrations of processType Orchestrator",
            ),
        ),
    ),
}

FILES = sorted(p.name for p in (CORPUS / "orchestrations").glob("*.flow-meta.xml"))
pytestmark = pytest.mark.skipif(not FILES, reason="the shared corpus is not beside this checkout")


def _sources() -> dict[str, str]:
    with (CORPUS / "SOURCES.tsv").open(newline="") as fh:
        rows = csv.DictReader(fh, delimiter="\t")
        return {r["local_file"]: r["path"].rsplit("/", 1)[-1] for r in rows}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialized org database, copied for every deploy."""
    path = tmp_path_factory.mktemp("template") / "org.db"
    org = Org.open(database_url=f"sqlite+pysqlite:///{path}", clock=ManualClock(T0))
    org.initialize(admin_username="admin@example.com", admin_password="Admin-pass-1")
    org.close()
    return path


T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def fresh_org(template: Path, tmp_path: Path) -> Iterator[Callable[[str], Org]]:
    orgs: list[Org] = []

    def make(name: str) -> Org:
        db = tmp_path / f"{name}.db"
        shutil.copy(template, db)
        org = Org.open(database_url=f"sqlite+pysqlite:///{db}", clock=ManualClock(T0))
        orgs.append(org)
        return org

    yield make
    for org in orgs:
        org.close()


def deploy_file(
    org: Org, work: Path, local: str, file_name: str, objects: dict[str, str]
) -> DeployResult:
    pkg = work / "pkg"
    shutil.rmtree(pkg, ignore_errors=True)
    (pkg / "flows").mkdir(parents=True)
    (pkg / "flows" / file_name).write_bytes((CORPUS / "orchestrations" / local).read_bytes())
    if objects:
        (pkg / "objects").mkdir()
        for name, xml in objects.items():
            (pkg / "objects" / f"{name}.object").write_text(xml)
    return run_deploy(org, pkg, user_id=org.admin_user_id())


def outcome(result: DeployResult) -> tuple[tuple[int, str, str], ...]:
    return tuple((p.line or 0, p.element or "", p.message) for p in result.problems)


SOURCES = _sources() if FILES else {}


def _file_name(local: str) -> str:
    return SOURCES[f"orchestrations/{local}"]


def _check(
    org: Org, local: str, result: DeployResult, problems: tuple[tuple[int, str, str], ...]
) -> None:
    assert outcome(result) == problems, local
    assert {p.file for p in result.problems} <= {f"flows/{_file_name(local)}"}
    handler = org.deploy_handlers[-1]
    assert isinstance(handler, FlowHandler)
    name = _file_name(local).removesuffix(".flow-meta.xml")
    versions = handler.registry.versions(name)
    if problems:
        assert versions == (), "a failed deploy keeps nothing"
        return
    assert [(v.version, v.status) for v in versions] == [(1, EXPECTED[local].status)]
    flows = [(c.full_name, c.created) for c in result.components if c.type == "Flow"]
    assert flows == [(name, True)]


def test_every_file_has_its_outcome() -> None:
    assert len(FILES) == 23
    assert sorted(EXPECTED) == FILES
    deployed = [f for f in FILES if not EXPECTED[f].bare]
    prepared = [f for f in FILES if EXPECTED[f].bare and (EXPECTED[f].users or EXPECTED[f].objects)]
    assert (len(deployed), len(prepared)) == (5, 12)


@pytest.mark.parametrize("local", FILES)
def test_bare_org(local: str, fresh_org: Callable[[str], Org], tmp_path: Path) -> None:
    org = fresh_org("bare")
    result = deploy_file(org, tmp_path, local, _file_name(local), {})
    _check(org, local, result, EXPECTED[local].bare)


PREPARED = [f for f in FILES if EXPECTED[f].users or EXPECTED[f].objects]


@pytest.mark.parametrize("local", PREPARED)
def test_prepared_org(local: str, fresh_org: Callable[[str], Org], tmp_path: Path) -> None:
    expected = EXPECTED[local]
    org = fresh_org("prepared")
    for username in expected.users:
        org.add_user(NewUser(username=username, last_name="Assignee", email="a@example.com"))
    result = deploy_file(org, tmp_path, local, _file_name(local), expected.objects)
    _check(org, local, result, expected.prepared)


@pytest.mark.parametrize("local", FILES)
def test_every_orchestration_round_trips(local: str) -> None:
    """Read, written back as Flow XML and as the readable YAML and JSON forms, each file
    reads back as the same model (the CMS workflow is refused by the reader)."""
    name = _file_name(local)
    try:
        model = parse_flow((CORPUS / "orchestrations" / local).read_bytes(), f"flows/{name}")
    except DeployError as exc:
        assert local == "sandeep-pani-ar__sfdx-comp-null-error__Test_FB.flow-meta.xml"
        assert [p.element for p in exc.problems] == ["processType"]
        return
    assert isinstance(model, Orchestration)
    assert model.status is EXPECTED[local].status
    assert parse_flow(orchestration_to_xml(model), f"flows/{name}") == model
    assert load_orchestration(orchestration_to_yaml(model), name, validate=False) == model
    assert load_orchestration(orchestration_to_json(model), name, validate=False) == model
