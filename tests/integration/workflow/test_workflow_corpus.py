"""Every public .workflow file of the corpus, deployed through the real deploy path.

Each file is deployed into its own copy of a fresh org, together with what
``corpus_scaffold`` reads from the file: its custom object, the custom fields it names
(typed from how it uses them), the email templates its alerts name and the org-wide
addresses they send from. A file then either deploys, or every problem the deploy
reports falls into one of the reasons below, each a precise message of the deploy:
the file is invalid, or it needs something this org does not have. Anything else
fails the test, naming the file and the message.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.workflow.corpus_scaffold import scaffold_for
from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import DeployError
from workroute.metadata.deploy import run_deploy
from workroute.metadata.workflow import parse_workflow
from workroute.org import Org

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"
NS = "http://soap.sforce.com/2006/04/metadata"

#: Why a file may fail, as the deploy words it; checked in this order.
REASONS: list[tuple[str, re.Pattern[str]]] = [
    ("invalid: not well-formed XML",
     re.compile(r"XML is not well formed \(line \d+, column \d+\)")),
    ("needs record types", re.compile(r"RecordType")),
    ("needs a managed package (namespaced names)",
     re.compile(r"\b[A-Za-z0-9_]+?__[A-Za-z0-9_]+__(c|r)\b|Invalid (field|object) API name")),
    ("needs a standard object this org lacks",
     re.compile(r"Unknown standard object \w+|Object '[A-Z][A-Za-z]+' does not exist")),
    ("needs person accounts (__pc)", re.compile(r"__pc\b")),
    ("needs custom settings ($Setup)", re.compile(r"\$Setup\.")),
    ("recipient type not supported in this org", re.compile(r"is not supported in this org")),
    ("time trigger offset from another object's field",
     re.compile(r"<offsetFromField>: Field '\w+\.\w+' does not exist on")),
    ("needs a standard field this org lacks",
     re.compile(r"has no (field|relationship) '[A-Za-z]+'|Field [A-Za-z]+ does not exist")),
    # What the scaffold cannot know from the file alone: a custom field's type where
    # the file's use of it is ambiguous, or fields and lookups on other objects.
    ("scaffold: field type not inferable",
     re.compile(r"Formula: (Formula result is data type|Incorrect parameter type"
                r"|Field \w+ is a picklist field)")),
    ("scaffold: fields or lookups on other objects",
     re.compile(r"targetObject '\w+' is not a reference field"
                r"|has no (field|relationship) '\w+__[cr]'|Field \w+__r\.")),
]  # fmt: skip

#: The outcome of the whole corpus, so a change in any direction is seen.
#: A file may have several reasons; each is counted.
EXPECTED = {
    "deployed": 73,
    "invalid: not well-formed XML": 2,
    "needs record types": 55,
    "needs a standard field this org lacks": 37,
    "needs a standard object this org lacks": 29,
    "needs a managed package (namespaced names)": 24,
    "needs person accounts (__pc)": 4,
    "needs custom settings ($Setup)": 2,
    "recipient type not supported in this org": 4,
    "time trigger offset from another object's field": 1,
    "scaffold: fields or lookups on other objects": 23,
    "scaffold: field type not inferable": 7,
}


@dataclass(frozen=True)
class Outcome:
    deployed: bool
    reasons: frozenset[str]
    unexplained: tuple[str, ...]


def _files() -> list[tuple[str, str]]:
    """(corpus file, the object it is for) from SOURCES.tsv."""
    sources = CORPUS / "SOURCES.tsv"
    if not sources.exists():
        return []
    with sources.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        (r["local_file"], re.sub(r"\.workflow(-meta\.xml)?$", "", r["path"].rsplit("/", 1)[-1]))
        for r in rows
        if r["local_file"].startswith("workflows/")
    ]


FILES = _files()
pytestmark = pytest.mark.skipif(not FILES, reason="the shared corpus is not beside this checkout")


def _deploy_one(template: Path, work: Path, local_file: str, obj: str) -> Outcome:
    data = (CORPUS / local_file).read_bytes()
    db = work / "org.db"
    shutil.copy(template, db)
    org = Org.open(
        database_url=f"sqlite+pysqlite:///{db}", clock=ManualClock(datetime(2024, 1, 1, tzinfo=UTC))
    )
    try:
        pkg = work / "pkg"
        shutil.rmtree(pkg, ignore_errors=True)
        (pkg / "workflows").mkdir(parents=True)
        (pkg / "workflows" / f"{obj}.workflow").write_bytes(data)
        try:
            wf = parse_workflow(data, local_file)
        except DeployError:
            wf = None  # the deploy reports it
        if wf is not None:
            s = scaffold_for(wf, obj)
            exists = org.schema.find(obj) is not None
            if s.kinds or (not exists and obj.endswith(("__c", "__kav"))):
                (pkg / "objects").mkdir()
                (pkg / "objects" / f"{obj}.object").write_text(s.object_xml(create=not exists))
            if (user_xml := s.user_xml()) is not None:
                (pkg / "objects").mkdir(exist_ok=True)
                (pkg / "objects" / "User.object").write_text(user_xml)
            for address in sorted(s.sender_addresses):
                org.store.insert(
                    "OrgWideEmailAddress",
                    [{"Address": address, "DisplayName": address}],
                    user_id=org.admin_user_id(),
                )
            for template_name in sorted(s.templates):
                folder, _, name = template_name.partition("/")
                if not name:
                    continue  # the deploy reports a template name without a folder
                d = pkg / "email" / folder
                d.mkdir(parents=True, exist_ok=True)
                (d / f"{name}.email").write_text("Hello {!Name}")
                (d / f"{name}.email-meta.xml").write_text(
                    f'<?xml version="1.0" encoding="UTF-8"?><EmailTemplate xmlns="{NS}">'
                    "<available>true</available><encodingKey>UTF-8</encodingKey>"
                    f"<name>{name}</name><style>none</style><subject>S</subject>"
                    "<type>text</type></EmailTemplate>"
                )
        result = run_deploy(org, pkg, user_id=org.admin_user_id())
    finally:
        org.close()
    reasons: set[str] = set()
    unexplained: list[str] = []
    for problem in result.problems:
        for reason, pattern in REASONS:
            if pattern.search(problem.describe()):
                reasons.add(reason)
                break
        else:
            unexplained.append(problem.describe())
    return Outcome(result.success, frozenset(reasons), tuple(unexplained))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    root = tmp_path_factory.mktemp("corpus")
    template = root / "template.db"
    org = Org.open(database_url=f"sqlite+pysqlite:///{template}")
    org.initialize(admin_username="admin@corpus.example.com", admin_password="Corpus-admin-1")
    org.close()
    yield {f: _deploy_one(template, root, f, obj) for f, obj in FILES}


@pytest.mark.parametrize(("local_file", "obj"), FILES, ids=[f for f, _ in FILES])
def test_file_deploys_or_is_refused_for_a_precise_reason(
    outcomes: dict[str, Outcome], local_file: str, obj: str
) -> None:
    outcome = outcomes[local_file]
    assert not outcome.unexplained, outcome.unexplained
    assert outcome.deployed or outcome.reasons


def test_how_many_files_deploy(outcomes: dict[str, Outcome]) -> None:
    counts: Counter[str] = Counter()
    for outcome in outcomes.values():
        if outcome.deployed:
            counts["deployed"] += 1
        for reason in outcome.reasons:
            counts[reason] += 1
    summary = ", ".join(f"{k}: {v}" for k, v in counts.most_common())
    print(f"\n{len(outcomes)} corpus workflow files; {summary}")
    assert dict(counts) == EXPECTED, summary
