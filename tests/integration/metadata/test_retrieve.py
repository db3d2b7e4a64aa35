"""Retrieve gives back the bytes that were deployed, in the Metadata API layout."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from workroute.kernel.errors import DeployError, InvalidFieldError
from workroute.metadata.deploy import run_deploy
from workroute.metadata.retrieve import manifest_for, read_manifest, retrieve
from workroute.org import Org

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "deploy" / "seed_workflow"


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


@pytest.fixture
def deployed(org: Org) -> Org:
    result = run_deploy(org, SEED, user_id=org.admin_user_id())
    assert result.success, result.problems
    return org


def test_everything_deployed_comes_back_byte_for_byte(deployed: Org) -> None:
    wanted = manifest_for({"CustomObject": ["*"], "Workflow": ["*"], "EmailTemplate": ["*"]})
    result = retrieve(deployed, wanted)
    files = _files(result.zip_file)
    for f in SEED.rglob("*"):
        if f.is_file() and f.name != "package.xml":
            rel = f.relative_to(SEED).as_posix()
            assert files[f"unpackaged/{rel}"] == f.read_bytes(), rel
    manifest = read_manifest(files["unpackaged/package.xml"])
    assert manifest.names("Workflow") == ["CustomObjectForWorkflow__c"]
    assert manifest.names("EmailTemplate") == ["TestEmail/Email_Test"]
    assert result.messages == ()
    assert {(p.type, p.full_name) for p in result.files} >= {
        ("Workflow", "CustomObjectForWorkflow__c"),
        ("CustomObject", "CustomObjectForWorkflow__c"),
    }


def test_the_retrieved_zip_deploys_again(deployed: Org) -> None:
    result = retrieve(deployed, manifest_for({"CustomObject": ["*"], "Workflow": ["*"],
                                               "EmailTemplate": ["*"]}))  # fmt: skip
    again = run_deploy(deployed, result.zip_file, user_id=deployed.admin_user_id())
    assert again.success, again.problems


def test_named_members_ignore_case_and_missing_ones_are_messages(deployed: Org) -> None:
    wanted = manifest_for({"Workflow": ["customobjectforworkflow__c", "Nope__c"]})
    result = retrieve(deployed, wanted)
    assert [p.full_name for p in result.files if p.type == "Workflow"] == [
        "CustomObjectForWorkflow__c"
    ]
    assert result.messages == (
        ("unpackaged/package.xml", "Entity of type 'Workflow' named 'Nope__c' cannot be found"),
    )


def test_nothing_deployed_of_a_type_is_an_empty_package(org: Org) -> None:
    result = retrieve(org, manifest_for({"Workflow": ["*"]}))
    assert list(_files(result.zip_file)) == ["unpackaged/package.xml"]


def test_bad_manifests_are_refused() -> None:
    with pytest.raises(InvalidFieldError, match="names the type ApexClass"):
        manifest_for({"ApexClass": ["*"]})
    with pytest.raises(DeployError) as exc:
        read_manifest(b"<Package><types><members>X</members>")
    assert "line" in exc.value.problems[0].describe()
