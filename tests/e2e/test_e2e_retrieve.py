"""simple-salesforce's Metadata API retrieve against the running server."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from tests.e2e.test_simple_salesforce import _zip

SEED = Path(__file__).parent.parent / "fixtures" / "deploy" / "seed_workflow"


def test_deploy_then_retrieve_gives_the_same_files_back(sf: Any) -> None:
    status = sf.checkDeployStatus(sf.deploy(io.BytesIO(_zip(SEED)), sandbox=False)["asyncId"])
    assert status["state"] == "Succeeded", status
    rid, state = sf.mdapi.retrieve(
        "unused", unpackaged={"Workflow": ["CustomObjectForWorkflow__c"], "EmailTemplate": ["*"]}
    )
    assert state == "Queued" and rid
    state, error, _messages, data = sf.mdapi.retrieve_zip(rid)
    assert state == "Succeeded" and error is None
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        for rel in (
            "workflows/CustomObjectForWorkflow__c.workflow",
            "email/TestEmail/Email_Test.email",
            "email/TestEmail/Email_Test.email-meta.xml",
        ):
            assert zf.read(f"unpackaged/{rel}") == (SEED / rel).read_bytes()
    assert "unpackaged/package.xml" in names
