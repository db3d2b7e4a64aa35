"""Fixtures for the routing scenarios: the API over the org and a contact centre."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.api.api_harness import Api, Caller, TestClient
from tests.integration.routing.omni_harness import Centre
from workroute.api.app import create_app
from workroute.org import Org


@pytest.fixture
def api(org: Org) -> Iterator[Api]:
    with TestClient(create_app(org), raise_server_exceptions=False) as client:
        yield Api(org, client)


@pytest.fixture
def admin(api: Api) -> Caller:
    return api.caller()


@pytest.fixture
def centre(api: Api, admin: Caller) -> Centre:
    return Centre(api, admin)
