"""``workroute workflow explain``: every rule for a change, and nothing kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli.test_cli import cli, init_org, real_cli
from tests.integration.workflow.conftest import bump, item, rule, write_package
from workroute.cli.workflow import parse_values
from workroute.org import Org

WORKFLOW = (
    bump("Count")
    + rule(
        "Opened",
        criteria=item("Job__c.Status__c", "equals", "Open")
        + item("Job__c.Step__c", "greaterThan", "2"),
        actions=(("Count", "FieldUpdate"),),
    )
    + rule("Off", criteria=item("Job__c.Status__c", "equals", "New"), active=False)
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    db = tmp_path / "org.db"
    init_org(db)
    deployed = cli("deploy", write_package(tmp_path / "pkg", WORKFLOW), "--db", db)
    assert deployed.exit_code == 0, deployed.output
    return db


def _count(db: Path) -> int:
    org = Org.open(database_url=f"sqlite+pysqlite:///{db}")
    try:
        return len(org.store.find("Job__c"))
    finally:
        org.close()


def test_explain_a_create_as_json(db: Path) -> None:
    result = cli(
        "workflow", "explain", "Job__c", "--db", db, "--json",
        "--set", "Name=Big job", "--set", "Status__c=Open", "--values", '{"Step__c": 5}',
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    rules = {r["rule"]: r for r in body["rules"]}
    assert rules["Opened"]["fired"] is True
    assert [c["actual"] for c in rules["Opened"]["criteria"]] == ["Open", 5]
    assert rules["Off"]["active"] is False
    assert body["fieldUpdates"] == {"Hits__c": 1}
    assert _count(db) == 0  # rolled back


def test_explain_an_edit_for_people(db: Path) -> None:
    org = Org.open(database_url=f"sqlite+pysqlite:///{db}")
    try:
        [rid] = org.store.insert(
            "Job__c",
            [{"Name": "j", "Status__c": "Open", "Step__c": 1}],
            user_id=org.admin_user_id(),
        )
    finally:
        org.close()
    result = real_cli(
        "workflow", "explain", "Job__c", "--id", rid, "--set", "Step__c=3", "--db", db
    )
    assert result.returncode == 0, result.stderr
    assert f"Job__c edit of {rid}" in result.stdout
    lines = result.stdout.splitlines()
    assert "Opened  onCreateOrTriggeringUpdate  round 0  FIRED" in lines
    assert (
        "  why: edit took the record from not meeting the criteria to meeting them"
        " (now met: yes, met before: no)"
    ) in lines
    assert '  [ok] 2. Job__c.Step__c greaterThan "2": is 3' in lines
    assert "  -> FieldUpdate:Count" in lines
    assert "Off  onCreateOrTriggeringUpdate  round 0  inactive" in lines
    assert "field update: Hits__c = 1" in lines


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Nope__c"], "INVALID_TYPE"),
        (["Job__c", "--set", "Nope__c=1"], "INVALID_FIELD"),
        (["Job__c", "--set", "Step__c=many"], "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        (["Job__c", "--set", "novalue"], "--set takes Field=Value"),
        (["Job__c", "--values", "[1]"], "--values must be a JSON object"),
        (["Job__c", "--values", "{"], "--values is not JSON"),
        (["Job__c", "--id", "xyz"], "MALFORMED_ID"),
        (["Job__c", "--as", "nobody@example.com"], "no user 'nobody@example.com'"),
    ],
)
def test_bad_input_is_refused_and_nothing_kept(db: Path, args: list[str], message: str) -> None:
    result = cli("workflow", "explain", *args, "--db", db)
    assert result.exit_code == 1
    assert message in result.stderr
    assert _count(db) == 0


def test_set_values_are_json_when_they_parse() -> None:
    assert parse_values(["A=5", "B=true", "C=hello", "D=null", 'E="5"', "F=[1]"], None) == {
        "A": 5,
        "B": True,
        "C": "hello",
        "D": None,
        "E": "5",
        "F": "[1]",
    }
