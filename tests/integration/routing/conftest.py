"""Fixtures for the routing scenarios: a contact centre over the API of the ``org``."""

from __future__ import annotations

import pytest

from tests.integration.api.api_harness import Api, Caller
from tests.integration.routing.omni_harness import Centre


@pytest.fixture
def centre(api: Api, admin: Caller) -> Centre:
    return Centre(api, admin)
