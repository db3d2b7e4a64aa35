"""Shared pieces of the store contract suite: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from workroute.metadata.deploy import DeployResult, deploy_source
from workroute.org import NewUser, Org
from workroute.testing import PostgresServer

DEPLOY_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "deploy"


def deploy(org: Org, name: str) -> DeployResult:
    """Deploy one of tests/fixtures/deploy/<name> as the org's administrator."""
    return deploy_source(org, DEPLOY_FIXTURES / name, user_id=org.admin_user_id())


def add_agent(org: Org, username: str, first: str, last: str) -> str:
    """A standard user without a password (no scrypt: keeps the suite fast)."""
    return org.add_user(
        NewUser(username=username, first_name=first, last_name=last, email=username)
    )


def user_row(org: Org, username: str, **extra: object) -> dict[str, object]:
    """A complete User record for ``store.insert``."""
    [profile] = org.store.find("Profile", Name="Standard User")
    row: dict[str, object] = {
        "Username": username,
        "LastName": username.split("@")[0],
        "Email": "someone@example.com",
        "Alias": username[:8],
        "ProfileId": profile["Id"],
        "TimeZoneSidKey": "GMT",
        "LocaleSidKey": "en_US",
        "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US",
    }
    row.update(extra)
    return row


def add_queue(org: Org, name: str) -> str:
    [queue] = org.store.insert(
        "Group",
        [{"Name": name, "DeveloperName": name.replace(" ", "_"), "Type": "Queue"}],
        user_id=org.admin_user_id(),
    )
    return queue


@pytest.fixture
def admin(org: Org) -> str:
    return org.admin_user_id()


class RecycledDatabase:
    """One PostgreSQL database for the whole suite, emptied before each test.

    Creating a database and its ~40 object tables costs ~0.7 s a test; putting one back
    as a fresh ``Org.open`` leaves it (no custom tables or columns, no rows) ~0.03 s.
    SQLite still starts every test from a new file, so both paths of ``Org.open`` run.
    """

    def __init__(self, server: PostgresServer) -> None:
        self.url = server.create_database("wr_store")
        Org.open(database_url=self.url).close()
        self.engine = create_engine(self.url, poolclass=NullPool)
        self.baseline = self._columns()

    def _columns(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for table, column in conn.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public'"
                )
            ):
                out.setdefault(table, set()).add(column)
        return out

    def reset(self) -> str:
        with self.engine.begin() as conn:
            # an Org a failed test left open would hold locks the reset waits on
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        current = self._columns()
        with self.engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote
            for table, cols in current.items():
                if table not in self.baseline:
                    conn.execute(text(f"DROP TABLE {quote(table)}"))
                    continue
                for column in cols - self.baseline[table]:
                    conn.execute(text(f"ALTER TABLE {quote(table)} DROP COLUMN {quote(column)}"))
                conn.execute(text(f"DELETE FROM {quote(table)}"))
        return self.url


@pytest.fixture(scope="session")
def recycled_postgres(pg_server: PostgresServer | None) -> Iterator[RecycledDatabase | None]:
    if pg_server is None:
        yield None
        return
    db = RecycledDatabase(pg_server)
    try:
        yield db
    finally:
        db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, recycled_postgres: RecycledDatabase | None
) -> str:
    """As the session's ``database_url``, with the PostgreSQL database reused (see above)."""
    if request.param == "sqlite":
        return "sqlite+pysqlite:///" + str(tmp_path / "org.db")
    if recycled_postgres is None:
        pytest.skip("PostgreSQL is not installed on this machine (apt-get install postgresql)")
    return recycled_postgres.reset()
