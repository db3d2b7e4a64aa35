"""``workroute formula eval`` and ``workroute formula check``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.integration.cli.test_cli import cli, init_org
from workroute.cli.main import app


def _eval(*lines: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(
        app, ["formula", "eval", "--now", "2024-02-29T12:00:00Z"], input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_eval_answers_every_line_in_order_and_goes_on_after_bad_ones() -> None:
    out = _eval(
        json.dumps(
            {
                "id": "a",
                "formula": "ROUND(X * 3, 1)",
                "identifiers": {"X": {"type": "number", "value": 1.25, "scale": 2}},
            }
        ),
        "this is not json",
        json.dumps({"id": "b", "formula": "TODAY() + 1"}),
        json.dumps({"formula": "IF(TRUE)"}),
        json.dumps({"formula": "X", "identifiers": {"X": {"type": "date", "value": "nope"}}}),
        json.dumps({"id": 3, "formula": "ADDMONTHS(DATE(2024, 1, 31), 1)"}),
    )
    assert out == [
        {"type": "number", "value": 3.8, "id": "a"},
        {"error": out[1]["error"], "errorType": "InputError"},
        {"type": "date", "value": "2024-03-01", "id": "b"},
        {
            "error": "Incorrect number of parameters for function 'IF()'. Expected 3, received 1",
            "errorType": "ArgumentError",
        },
        {"error": out[4]["error"], "errorType": "InputError"},
        {"type": "date", "value": "2024-02-29", "id": 3},
    ]


def test_check_prints_the_result_type_or_the_located_error(tmp_path: Path) -> None:
    db = tmp_path / "org.db"
    assert init_org(db).exit_code == 0
    ok = cli(
        "formula",
        "check",
        "--db",
        db,
        "--object",
        "Case",
        'IF(ISPICKVAL(Status, "New"), Account.Owner.Email, Subject)',
    )
    assert ok.exit_code == 0 and ok.stdout.strip() == "Text"
    bad = cli("formula", "check", "--db", db, "--object", "Case", "Subject &\n Nope__c")
    assert bad.exit_code == 1
    assert "ReferenceError at line 2, column 2" in bad.stderr
    assert "Field Nope__c does not exist" in bad.stderr
    unknown = cli("formula", "check", "--db", db, "--object", "Nope", "1")
    assert unknown.exit_code == 1 and "Nope" in unknown.stderr
