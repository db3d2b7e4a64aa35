"""Fixtures: clock -> database -> org. Store-level tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workroute.kernel.clock import ManualClock
from workroute.org import Org
from workroute.testing import PostgresServer, find_postgres_bin

T0 = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)
ADMIN = "admin@example.com"
ADMIN_PASSWORD = "Admin-pass-1"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer | None]:
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        if os.environ.get("WORKROUTE_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required (WORKROUTE_REQUIRE_POSTGRES=1) but not installed")
        yield None
        return
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_server: PostgresServer | None
) -> str:
    if request.param == "sqlite":
        return "sqlite+pysqlite:///" + str(tmp_path / "org.db")
    if pg_server is None:
        pytest.skip("PostgreSQL is not installed on this machine (apt-get install postgresql)")
    return pg_server.create_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return "sqlite+pysqlite:///" + str(tmp_path / "org.db")


@pytest.fixture
def org(database_url: str, clock: ManualClock) -> Iterator[Org]:
    org = Org.open(database_url=database_url, clock=clock)
    org.initialize(admin_username=ADMIN, admin_password=ADMIN_PASSWORD)
    try:
        yield org
    finally:
        org.close()


@pytest.fixture
def sqlite_org(sqlite_url: str, clock: ManualClock) -> Iterator[Org]:
    org = Org.open(database_url=sqlite_url, clock=clock)
    org.initialize(admin_username=ADMIN, admin_password=ADMIN_PASSWORD)
    try:
        yield org
    finally:
        org.close()
