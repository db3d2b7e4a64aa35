"""Fixtures for the in-process HTTP API tests of every package (helpers: api/api_harness)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.api.api_harness import Api, Caller, TestClient
from workroute.api.app import create_app
from workroute.org import Org


@pytest.fixture
def api(org: Org) -> Iterator[Api]:
    """The app over the ``org`` fixture (SQLite and PostgreSQL)."""
    with TestClient(create_app(org), raise_server_exceptions=False) as client:
        yield Api(org, client)


@pytest.fixture
def admin(api: Api) -> Caller:
    """The org's administrator, logged in with the password grant."""
    return api.caller()
