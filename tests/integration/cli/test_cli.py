"""The ``workroute`` command: what it prints, what it exits with, and what it leaves in the
database. Most commands run in-process through typer's CliRunner (fast); the real
``python -m workroute`` runs where the entry point itself matters, and ``deploy --url``
talks to a real server over HTTPS with a test CA."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme
from sqlalchemy import select
from typer.testing import CliRunner, Result

from workroute.cli.main import app
from workroute.kernel.errors import AuthenticationError
from workroute.org import Org
from workroute.store.sql.database import sqlite_url
from workroute.testing import PostgresServer, ServerProcess, free_port

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "deploy"
ADMIN = "Admin@Example.com"
PASSWORD = "Admin-pass-1"


@pytest.fixture(autouse=True)
def _no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKROUTE_DATABASE_URL", raising=False)


def cli(*args: str | Path, env: dict[str, str | None] | None = None) -> Result:
    """The command in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def real_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it (output piped, so no terminal width)."""
    env = {k: v for k, v in os.environ.items() if k not in ("WORKROUTE_DATABASE_URL", "COLUMNS")}
    return subprocess.run(
        [sys.executable, "-m", "workroute", *[str(a) for a in args]],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


@contextmanager
def opened(db: Path | str) -> Iterator[Org]:
    org = Org.open(database_url=db if isinstance(db, str) else sqlite_url(str(db)))
    try:
        yield org
    finally:
        org.close()


def init_org(db: Path, *extra: str) -> Result:
    result = cli(
        "init", "--db", db, "--admin-username", ADMIN, "--admin-password", PASSWORD, *extra
    )
    assert result.exit_code == 0, result.output
    return result


# -- init ----------------------------------------------------------------------------------


def test_init_creates_an_org_and_refuses_a_second(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "org.db"  # missing folders are made
    first = real_cli("init", "--db", db, "--admin-username", ADMIN, "--admin-password", PASSWORD)
    assert first.returncode == 0, first.stderr
    assert "Created the org with administrator admin@example.com." in first.stdout
    with opened(db) as org:
        assert org.is_initialized()
        admin = org.user_id_by_username("admin@example.com")
        assert admin is not None and admin == org.admin_user_id()
        assert org.auth.login_password("ADMIN@example.com", PASSWORD).token

    again = cli(
        "init", "--db", db, "--admin-username", "x@example.com", "--admin-password", "Other-pass-2"
    )
    assert again.exit_code == 1
    assert lines(again.stderr) == ["error: this database already holds an org"]
    assert again.stdout == ""

    ok = cli(
        "init",
        "--db",
        db,
        "--admin-username",
        "x@example.com",
        "--admin-password",
        "Other-pass-2",
        "--exists-ok",
    )
    assert ok.exit_code == 0
    assert "already exists; nothing to do" in ok.stdout
    with opened(db) as org:
        assert org.user_id_by_username("x@example.com") is None
        assert org.store.count("Organization") == 1
        with pytest.raises(AuthenticationError):
            org.auth.login_password(ADMIN, "Other-pass-2")


def test_init_with_demo_data(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    init_org(db, "--demo")
    with opened(db) as org:
        queues = {str(g["Name"]) for g in org.store.find("Group", Type="Queue")}
        assert queues == {"Support", "Billing"}
        agents = [u for u in org.store.find("User") if str(u["Username"]).startswith("agent")]
        assert len(agents) == 4
        assert org.store.count("Case") == 3
        assert org.store.count("ServiceChannel") == 1
        assert org.user_id_by_username("supervisor@demo.workroute") is not None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "Your password must be at least 8 characters long."),
        ("lettersonly", "Your password must include letters and numbers."),
    ],
)
def test_init_with_a_bad_password_leaves_no_org(
    tmp_path: Path, password: str, message: str
) -> None:
    db = tmp_path / "org.db"
    result = cli("init", "--db", db, "--admin-username", ADMIN, "--admin-password", password)
    assert result.exit_code == 1
    assert lines(result.stderr) == [f"error: {message}"]
    assert "Created" not in result.stdout
    with opened(db) as org:
        assert not org.is_initialized()
        for name in ("Organization", "Profile", "User"):
            assert org.store.count(name) == 0, name
        with org.db.read() as conn:
            assert list(conn.execute(select(org.db.system["credential"]))) == []
    # the same file takes a good init afterwards
    init_org(db)
    with opened(db) as org:
        assert org.store.count("User") == 1


# -- users and connected apps ------------------------------------------------------------------


def test_user_add(tmp_path: Path) -> None:
    db = tmp_path / "org.db"
    init_org(db)
    added = cli(
        "user", "add", "--db", db, "--username", "Bob@Example.com", "--password", "Bob-pass-123"
    )
    assert added.exit_code == 0, added.output
    with opened(db) as org:
        bob = org.user_id_by_username("bob@example.com")
        assert bob is not None
        assert f"Created user bob@example.com ({bob})." in added.stdout
        assert org.auth.principal(bob).profile_name == "Standard User"
        assert org.auth.login_password("bob@example.com", "Bob-pass-123").token
        users = org.store.count("User")

    dup = cli(
        "user", "add", "--db", db, "--username", "BOB@example.com", "--password", "Bob-pass-456"
    )
    assert dup.exit_code == 1
    [line] = lines(dup.stderr)
    assert line.startswith("error: duplicate value found: Username duplicates value on record")

    unknown = cli(
        "user",
        "add",
        "--db",
        db,
        "--username",
        "carol@example.com",
        "--password",
        "Carol-pass-1",
        "--profile",
        "Wizard",
    )
    assert unknown.exit_code == 1
    assert lines(unknown.stderr) == ["error: no profile named 'Wizard'"]

    weak = cli("user", "add", "--db", db, "--username", "dave@example.com", "--password", "weak")
    assert weak.exit_code == 1
    assert "at least 8 characters" in weak.stderr

    admin2 = cli(
        "user",
        "add",
        "--db",
        db,
        "--username",
        "eve@example.com",
        "--password",
        "Eve-pass-123",
        "--profile",
        "System Administrator",
        "--last-name",
        "Adams",
    )
    assert admin2.exit_code == 0, admin2.output
    with opened(db) as org:
        assert org.store.count("User") == users + 1  # no half-made carol or dave
        assert org.user_id_by_username("carol@example.com") is None
        assert org.user_id_by_username("dave@example.com") is None
        eve = org.user_id_by_username("eve@example.com")
        assert eve is not None
        assert org.auth.principal(eve).profile_name == "System Administrator"
        assert org.store.get("User", eve)["LastName"] == "Adams"
        # the password of the refused duplicate did not replace Bob's
        assert org.auth.login_password("bob@example.com", "Bob-pass-123").token


def _app_credentials(output: str) -> tuple[str, str]:
    values = dict(line.split("=", 1) for line in lines(output) if "=" in line)
    return values["client_id"], values["client_secret"]


def test_app_add_prints_working_client_credentials(tmp_path: Path) -> None:
    db = tmp_path / "org.db"
    init_org(db)
    result = cli("app", "add", "--db", db, "--name", "CI", "--run-as", "admin@example.com")
    assert result.exit_code == 0, result.output
    client_id, secret = _app_credentials(result.stdout)
    assert client_id.startswith("3MVG") and len(secret) >= 32
    with opened(db) as org:
        issued = org.auth.login_client_credentials(client_id, secret)
        assert org.auth.authenticate(issued.token).user_id == org.admin_user_id()
        with pytest.raises(AuthenticationError):
            org.auth.login_client_credentials(
                client_id, secret[:-1] + ("1" if secret[-1] == "0" else "0")
            )

    nobody = cli("app", "add", "--db", db, "--name", "CI2", "--run-as", "nobody@example.com")
    assert nobody.exit_code == 1
    assert lines(nobody.stderr) == ["error: no user named nobody@example.com"]
    dup = cli("app", "add", "--db", db, "--name", "CI", "--run-as", "admin@example.com")
    assert dup.exit_code == 1
    assert dup.stderr.startswith("error: duplicate value found")


# -- deploy --db --------------------------------------------------------------------------


def test_deploy_to_a_database(tmp_path: Path) -> None:
    db = tmp_path / "org.db"
    init_org(db)
    checked = cli("deploy", FIXTURES / "ticket", "--db", db, "--check-only")
    assert checked.exit_code == 0, checked.output
    assert lines(checked.stdout) == ["✓ CustomObject Ticket__c", "Validated 1 component(s)."]
    with opened(db) as org:
        assert org.schema.find("Ticket__c") is None

    done = cli("deploy", FIXTURES / "ticket", "--db", db)
    assert done.exit_code == 0, done.output
    assert lines(done.stdout) == ["✓ CustomObject Ticket__c", "Deployed 1 component(s)."]
    with opened(db) as org:
        ticket = org.schema.get("Ticket__c")
        assert ticket.field("Severity__c") is not None
        org.store.insert("Ticket__c", [{"Name": "t"}], user_id=org.admin_user_id())


def test_a_broken_deploy_prints_every_problem_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "org.db"
    init_org(db)
    with opened(db) as org:
        before = {o.name: o for o in org.schema}

    # the real command, output piped: one problem per line, never wrapped
    result = real_cli("deploy", FIXTURES / "half_bad", "--db", db)
    assert result.returncode == 1
    assert lines(result.stderr) == [
        "✗ objects/Bad__c.object:14 <type>: Field Flavor__c: unknown field type 'Banana'",
        "✗ objects/Bad__c.object:20 <length>: Field Code__c: Text length must be between 1 "
        "and 255, not 900",
        "error: deploy failed with 2 problem(s); nothing was changed",
    ]
    assert result.stdout == ""
    with opened(db) as org:
        assert {o.name: o for o in org.schema} == before
        assert org.schema.find("Good__c") is None
        with org.db.read() as conn:
            assert list(conn.execute(select(org.db.system["custom_object"]))) == []

    missing = cli("deploy", tmp_path / "nowhere", "--db", db)
    assert missing.exit_code == 1
    assert lines(missing.stderr) == [f"error: {tmp_path / 'nowhere'} does not exist"]


# -- deploy --url, against a real server ---------------------------------------------------------


@dataclass
class Server:
    process: ServerProcess
    db: Path
    ca: Path

    @property
    def url(self) -> str:
        return self.process.url

    def verify(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("cli-server")
    db = root / "org.db"
    with opened(db) as org:
        org.initialize(admin_username=ADMIN, admin_password=PASSWORD)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_path, cert_path, key_path = root / "ca.pem", root / "cert.pem", root / "key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    process = ServerProcess(db=db, cert=cert_path, key=key_path)
    process.start()
    try:
        yield Server(process, db, ca_path)
    finally:
        process.stop()


def remote(server: Server, folder: str, *extra: str | Path) -> Sequence[str | Path]:
    return ("deploy", FIXTURES / folder, "--url", server.url, *extra)


def test_deploy_to_a_server(server: Server) -> None:
    login = ("--username", ADMIN, "--password", PASSWORD)
    result = real_cli(*remote(server, "gadget", *login, "--ca-file", server.ca))
    assert result.returncode == 0, result.stderr
    out = lines(result.stdout)
    assert out[0] == "✓ CustomObject Gadget__c"
    assert out[-1].startswith("Deployed 1 component(s) (deploy 0Af")
    with opened(server.db) as org:
        assert org.schema.get("Gadget__c").field("Colors__c") is not None

    # the server uses what it deployed at once
    with httpx.Client(base_url=server.url, verify=server.verify()) as client:
        token = client.post(
            "/services/oauth2/token",
            data={"grant_type": "password", "username": ADMIN, "password": PASSWORD},
        ).json()["access_token"]
        created = client.post(
            "/services/data/v62.0/sobjects/Gadget__c",
            json={"Name": "remote", "Colors__c": "Red;Blue"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert created.status_code == 201, created.text


def test_a_broken_remote_deploy_lists_problems(server: Server) -> None:
    login = ("--username", ADMIN, "--password", PASSWORD)
    result = cli(*remote(server, "half_bad", *login, "--ca-file", server.ca))
    assert result.exit_code == 1
    out = lines(result.stdout)
    assert "✗ objects/Bad__c.object:14: Field Flavor__c: unknown field type 'Banana'" in out
    assert any(line.startswith("✗ objects/Bad__c.object:20: Field Code__c") for line in out)
    assert out[-1].endswith("failed; nothing was changed.")
    with opened(server.db) as org:
        assert org.schema.find("Good__c") is None


def test_remote_deploy_errors_are_clear(server: Server) -> None:
    wrong = cli(
        *remote(
            server,
            "ticket",
            "--username",
            ADMIN,
            "--password",
            "Wrong-pass-1",
            "--ca-file",
            server.ca,
        )
    )
    assert wrong.exit_code == 1
    assert lines(wrong.stderr) == ["error: login failed: authentication failure"]

    no_login = cli(*remote(server, "ticket", "--ca-file", server.ca))
    assert no_login.exit_code == 1
    assert lines(no_login.stderr) == ["error: give --token, or --username and --password"]

    # the server's certificate is not trusted by default
    untrusted = cli(*remote(server, "ticket", "--username", ADMIN, "--password", PASSWORD))
    assert untrusted.exit_code == 1
    [line] = lines(untrusted.stderr)
    assert line.startswith(f"error: cannot reach {server.url}: ")
    assert "CERTIFICATE_VERIFY_FAILED" in line
    assert line.endswith(
        "(trust the server's CA with --ca-file, or skip the check with --insecure)"
    )

    both = cli(*remote(server, "ticket", "--insecure", "--ca-file", server.ca))
    assert both.exit_code == 1
    assert lines(both.stderr) == ["error: choose one of --ca-file or --insecure"]

    bad_ca = cli(
        *remote(
            server, "ticket", "--username", ADMIN, "--password", PASSWORD, "--ca-file", server.db
        )
    )
    assert bad_ca.exit_code == 1
    assert bad_ca.stderr.startswith(f"error: cannot read the CA file {server.db}")

    nobody = cli(
        "deploy",
        FIXTURES / "ticket",
        "--url",
        f"https://127.0.0.1:{free_port()}",
        "--username",
        ADMIN,
        "--password",
        PASSWORD,
    )
    assert nobody.exit_code == 1
    assert lines(nobody.stderr)[0].startswith("error: cannot reach https://127.0.0.1:")

    # nothing was deployed by any of these
    with opened(server.db) as org:
        assert org.schema.find("Ticket__c") is None

    # --insecure skips the check (here with check-only: validated, not deployed)
    insecure = cli(
        *remote(
            server,
            "ticket",
            "--username",
            ADMIN,
            "--password",
            PASSWORD,
            "--insecure",
            "--check-only",
        )
    )
    assert insecure.exit_code == 0, insecure.output
    assert lines(insecure.stdout)[0] == "✓ CustomObject Ticket__c"


def test_app_credentials_work_against_the_server(server: Server) -> None:
    added = cli("app", "add", "--db", server.db, "--name", "Remote CI", "--run-as", ADMIN)
    assert added.exit_code == 0, added.output
    client_id, secret = _app_credentials(added.stdout)
    with httpx.Client(base_url=server.url, verify=server.verify()) as client:
        grant = client.post(
            "/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        assert grant.status_code == 200, grant.text
        token = grant.json()["access_token"]
        query = client.get(
            "/services/data/v62.0/query",
            params={"q": "SELECT Username FROM User"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert query.status_code == 200, query.text
        assert [r["Username"] for r in query.json()["records"]] == ["admin@example.com"]
        refused = client.post(
            "/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": "0" * len(secret),
            },
        )
        assert refused.status_code == 400


# -- the database URL from the environment -------------------------------------------------------


@pytest.mark.postgres
def test_database_url_from_the_environment(
    tmp_path: Path, pg_server: PostgresServer | None
) -> None:
    if pg_server is None:
        pytest.skip("PostgreSQL is not installed on this machine (apt-get install postgresql)")
    url = pg_server.create_database("wr_cli")
    env: dict[str, str | None] = {"WORKROUTE_DATABASE_URL": url}
    ignored = tmp_path / "ignored.db"
    made = cli(
        "init", "--db", ignored, "--admin-username", ADMIN, "--admin-password", PASSWORD, env=env
    )
    assert made.exit_code == 0, made.output
    assert not ignored.exists()  # the environment's URL replaces --db
    added = cli(
        "user", "add", "--username", "bob@example.com", "--password", "Bob-pass-123", env=env
    )
    assert added.exit_code == 0, added.output
    deployed = cli("deploy", FIXTURES / "ticket", env=env)
    assert deployed.exit_code == 0, deployed.output
    again = cli("init", "--admin-username", ADMIN, "--admin-password", PASSWORD, env=env)
    assert again.exit_code == 1
    assert lines(again.stderr) == ["error: this database already holds an org"]

    with opened(url) as org:
        assert org.user_id_by_username("admin@example.com") == org.admin_user_id()
        assert org.user_id_by_username("bob@example.com") is not None
        assert org.schema.find("Ticket__c") is not None


def test_a_bad_database_url_is_a_clear_error() -> None:
    args = ("user", "add", "--username", "a@example.com", "--password", "Pass-word-1")
    unknown = cli(*args, env={"WORKROUTE_DATABASE_URL": "nosuchdb://x"})
    assert unknown.exit_code == 1
    assert lines(unknown.stderr) == [
        "error: cannot open the database nosuchdb://x: Can't load plugin: "
        "sqlalchemy.dialects:nosuchdb"
    ]
    port = free_port()
    down = cli(
        *args,
        env={"WORKROUTE_DATABASE_URL": f"postgresql+psycopg://u:s3cret@127.0.0.1:{port}/db"},
    )
    assert down.exit_code == 1
    [line] = lines(down.stderr)
    assert line.startswith(
        f"error: cannot open the database postgresql+psycopg://u:***@127.0.0.1:{port}/db: "
    )
    assert "s3cret" not in down.output


# -- serve and missing databases ---------------------------------------------------------------


def test_serve_refuses_conflicting_tls_flags(tmp_path: Path) -> None:
    db = tmp_path / "org.db"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    for flags in (
        ["--dev-tls", "--no-tls"],
        [],
        ["--tls-cert", cert, "--tls-key", key, "--no-tls"],
        ["--tls-cert", cert, "--dev-tls"],
    ):
        result = cli("serve", "--db", db, *flags)
        assert result.exit_code == 1, flags
        assert lines(result.stderr) == [
            "error: choose one of --tls-cert/--tls-key, --dev-tls or --no-tls"
        ], flags
    half = cli("serve", "--db", db, "--tls-cert", cert)
    assert half.exit_code == 1
    assert lines(half.stderr) == ["error: --tls-cert and --tls-key go together"]
    assert not db.exists()


def test_serve_refuses_bad_omni_limits_and_event_retention(tmp_path: Path) -> None:
    db = tmp_path / "org.db"
    for flag, value in (
        ("--omni-max-queued", "-1"),
        ("--omni-max-requests", "-5"),
        ("--omni-max-queued", "many"),
        ("--event-retention-hours", "0"),
        ("--event-retention-hours", "forever"),
    ):
        result = cli("serve", "--db", db, "--no-tls", flag, value)
        assert result.exit_code == 2, (flag, value)
        assert flag in result.stderr, result.stderr
    assert not db.exists()


def test_commands_without_a_database(tmp_path: Path) -> None:
    expected = ["error: give --db PATH or set WORKROUTE_DATABASE_URL"]
    for args in (
        ["init", "--admin-username", ADMIN, "--admin-password", PASSWORD],
        ["user", "add", "--username", "a@example.com", "--password", "Pass-word-1"],
        ["app", "add", "--name", "x", "--run-as", ADMIN],
        ["deploy", str(FIXTURES / "ticket")],
        ["serve", "--no-tls"],
    ):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert lines(result.stderr) == expected, args

    missing = tmp_path / "missing.db"
    for args in (
        [
            "user",
            "add",
            "--db",
            str(missing),
            "--username",
            "a@example.com",
            "--password",
            "Pass-word-1",
        ],
        ["serve", "--db", str(missing), "--no-tls"],
        ["deploy", str(FIXTURES / "ticket"), "--db", str(missing)],
    ):
        result = cli(*args)
        assert result.exit_code == 1, args
        assert lines(result.stderr) == [
            f"error: no org at {missing}; create one with 'workroute init --db {missing} ...'"
        ], args
    assert not missing.exists()

    # a database without an org
    empty = tmp_path / "empty.db"
    with opened(empty):
        pass
    result = cli(
        "user", "add", "--db", empty, "--username", "a@example.com", "--password", "Pass-word-1"
    )
    assert result.exit_code == 1
    assert lines(result.stderr) == ["error: the database holds no org; run 'workroute init' first"]
