"""Every real Workflow file of the shared corpus parses and round-trips, or fails
for a precise reason (structure only; the corpus's custom fields are not deployed)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from workroute.kernel.errors import DeployError
from workroute.metadata.workflow import (
    check_action_references,
    parse_workflow,
    validate_workflow,
    workflow_object_name,
    workflow_to_xml,
)

CORPUS = (Path(__file__).parents[3] / ".." / "shared" / "corpus").resolve()
WORKFLOWS = CORPUS / "workflows"
MERGE_CONFLICTS = {
    "cabinetoffice__Government-Grants-Information-System-Metadata__Account.workflow": 6,
    "cabinetoffice__Government-Grants-Information-System-Metadata__Grant_Scheme__c.workflow": 51,
}
#: Rules referencing field updates no file of the repository snapshot defines.
CROSS_FILE_REFERENCES = {"SistemasIT-CP__SALESFORCECP__Opportunity.workflow-meta.xml"}


def _sources() -> dict[str, str]:
    with (CORPUS / "SOURCES.tsv").open(encoding="utf-8") as fh:
        return {r["local_file"]: r["path"] for r in csv.DictReader(fh, delimiter="\t")}


def test_corpus() -> None:
    if not WORKFLOWS.is_dir():
        pytest.skip(f"workflow corpus not found at {WORKFLOWS}")
    sources = _sources()
    files = sorted(WORKFLOWS.iterdir())
    ok: list[str] = []
    not_well_formed: dict[str, int | None] = {}
    rejected: dict[str, list[str]] = {}
    unresolved_refs: set[str] = set()
    empty = 0
    for f in files:
        obj = workflow_object_name(sources[f"workflows/{f.name}"])
        data = f.read_bytes()
        try:
            wf = parse_workflow(data, f.name, object_name=obj, validate=False)
        except DeployError as exc:
            assert len(exc.problems) == 1
            problem = exc.problems[0]
            assert "XML is not well formed" in problem.message, problem.describe()
            not_well_formed[f.name] = problem.line
            continue
        assert wf.full_name == obj
        problems = validate_workflow(wf)
        if problems:
            rejected[f.name] = [p.describe() for p in problems]
        if check_action_references(wf):
            unresolved_refs.add(f.name)
        again = parse_workflow(workflow_to_xml(wf), f.name, object_name=obj, validate=False)
        assert again == wf, f.name
        if wf == type(wf)(full_name=obj):
            empty += 1
        ok.append(f.name)
    print(
        f"\n{len(files)} workflow files: {len(ok)} parse and round-trip, "
        f"{len(not_well_formed)} fail as not well-formed, {len(rejected)} rejected by "
        f"validation, {len(unresolved_refs)} with references to actions of other files, "
        f"{empty} empty"
    )
    assert len(files) == 215
    assert len(ok) == 213
    assert not_well_formed == MERGE_CONFLICTS
    assert rejected == {}
    assert unresolved_refs == CROSS_FILE_REFERENCES
    assert empty == 3


def test_crlf_files_parse() -> None:
    if not WORKFLOWS.is_dir():
        pytest.skip(f"workflow corpus not found at {WORKFLOWS}")
    crlf = [f for f in WORKFLOWS.iterdir() if b"\r\n" in f.read_bytes()]
    assert len(crlf) == 15
    for f in crlf:
        parse_workflow(f.read_bytes(), f.name, object_name="X", validate=True)
