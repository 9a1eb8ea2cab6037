"""The ESIA mock against its own contract: schemathesis fuzzes every operation of
mocks/esia/openapi.yaml (positive and negative data, missing credentials) in-process and
every answer must be declared, match its schema, and never be a 5xx.

A smoke-sized run (a few examples per operation); the conformance suite runs the full one.
"""

from __future__ import annotations

import pytest
import schemathesis
from gosstand.conformance.overrides import contract_config
from gosstand.mocks.core.app import create_app
from hypothesis import HealthCheck, settings


@pytest.fixture
def esia_schema(make_settings):
    app = create_app(make_settings("esia", store_url="memory:", public_url="http://localhost"))
    return schemathesis.openapi.from_asgi("/_gosstand/openapi.json", app, config=contract_config("esia"))


schema = schemathesis.pytest.from_fixture("esia_schema")


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case):
    case.call_and_validate()
