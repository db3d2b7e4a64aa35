"""``workroute retrieve``: deployed files back into a folder or a zip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.integration.cli.test_cli import cli, init_org

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "deploy" / "seed_workflow"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    db = tmp_path / "org.db"
    init_org(db)
    assert cli("deploy", SEED, "--db", db).exit_code == 0
    return db


def test_retrieve_into_a_folder_and_a_zip(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("retrieve", "--type", "Workflow", "--member", "*", "--out", out, "--db", db)
    assert result.exit_code == 0, result.output
    rel = "workflows/CustomObjectForWorkflow__c.workflow"
    assert (out / rel).read_bytes() == (SEED / rel).read_bytes()
    manifest = tmp_path / "package.xml"
    manifest.write_bytes((SEED / "package.xml").read_bytes())
    zipped = tmp_path / "all.zip"
    result = cli("retrieve", "--manifest", manifest, "--zip", zipped, "--db", db)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(zipped) as zf:
        assert zf.read(f"unpackaged/{rel}") == (SEED / rel).read_bytes()
    again = cli("deploy", zipped, "--db", db)  # what comes back deploys again
    assert again.exit_code == 0, again.output


def test_missing_members_warn(db: Path, tmp_path: Path) -> None:
    result = cli(
        "retrieve", "--type", "Workflow", "--member", "Nope__c", "--out", tmp_path / "o", "--db", db
    )
    assert result.exit_code == 0
    assert "Entity of type 'Workflow' named 'Nope__c' cannot be found" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "ApexClass", "--member", "*", "--out", "o"], "names the type ApexClass"),
        (["--type", "Workflow", "--member", "*"], "give one of --out DIR or --zip FILE"),
        (["--out", "o"], "give --manifest, or --type with --member"),
        (["--manifest", "missing.xml", "--out", "o"], "no file missing.xml"),
        (["--type", "Workflow", "--out", "o"], "give one --type and at least one --member"),
    ],
)
def test_bad_input_is_refused(db: Path, args: list[str], message: str) -> None:
    result = cli("retrieve", *args, "--db", db)
    assert result.exit_code == 1
    assert message in result.stderr


def test_a_malformed_manifest_names_its_line(db: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "package.xml"
    manifest.write_text("<Package>\n<types><members>X</members>\n")
    result = cli("retrieve", "--manifest", manifest, "--out", tmp_path / "o", "--db", db)
    assert result.exit_code == 1
    assert "package.xml" in result.stderr and "line" in result.stderr
