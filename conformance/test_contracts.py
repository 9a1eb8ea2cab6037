"""Contract tests: every operation of ESIA, UTKO and FTS against its OpenAPI 3.1 document.

schemathesis generates valid and invalid requests per operation and runs all its default
checks on each answer: no server errors, status codes and content types as declared, response
bodies matching their schemas, invalid data rejected with a 4xx, authentication really enforced
(the request is resent without credentials), undeclared methods answered with 405.

The documents come from the target itself (``/_gosstand/openapi.yaml``) when it is a gosstand
deployment, else from this repository (``mocks/<service>/openapi.yaml``) — the contract a real
implementation is held to. The custom string formats (inn, kpp, ogrn, snils, tnved, fkko,
dt-number) generate numbers that pass the real checks, judged by the oracle; without them
"valid" requests would carry random digits that a correct server must refuse.

Nothing is excluded: the control API is not part of the contracts, and every public operation
is tested. Examples per operation come from ``--contract-examples``.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from gosstand.conformance.overrides import contract_config
from gosstand.conformance.strategies import contract_formats
from gosstand.conformance.targets import EsiaSession, Target, TargetOptions, TargetUnavailable, log_in
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.contract

# Formats must be known before a schema is loaded.
for _name, _strategy in contract_formats().items():
    schemathesis.openapi.format(_name, _strategy)

#: Network round trips make single examples slow; shrinking a failure still runs.
CONTRACT_SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))


def bearer(token: str) -> type:
    """An auth provider class (schemathesis instantiates it) sending ``token`` as a Bearer."""

    class EsiaBearer:
        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
            return token

        def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return EsiaBearer


def load_contract(
    target: Target, service: str, options: TargetOptions, *, session: EsiaSession | None
) -> schemathesis.BaseSchema:
    """The service's contract, aimed at the target, with the suite's limits and credentials."""
    try:
        location = target.contract_location(service)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))
    # An explicit config: a stray schemathesis.toml in a parent directory must not steer the run.
    config = contract_config(service)
    if location.startswith(("http://", "https://")):
        schema = schemathesis.openapi.from_url(location, config=config, timeout=10)
    else:
        schema = schemathesis.openapi.from_path(location, config=config)
    schema.config.update(base_url=target.url(service), request_timeout=10)
    schema.config.generation.update(max_examples=options.contract_examples)
    if session is not None:
        schema.auth(bearer(session.access_token), refresh_interval=None)
    return schema


def _session_or_none(target: Target) -> EsiaSession | None:
    try:
        return log_in(target)
    except TargetUnavailable:
        return None


@pytest.fixture(scope="session")
def esia_contract_session(gosstand_target: Target) -> EsiaSession | None:
    """ESIA's own operations mostly need no token (``ac``, ``te``); ``/rs`` does. Without one,
    ``/rs`` is still tested for its 401 answers."""
    return _session_or_none(gosstand_target)


@pytest.fixture(scope="session")
def esia_contract(
    gosstand_target: Target, gosstand_options: TargetOptions, esia_contract_session: EsiaSession | None
) -> Any:
    schema = load_contract(gosstand_target, "esia", gosstand_options, session=esia_contract_session)
    if esia_contract_session is not None and esia_contract_session.oid is not None:
        # The person the token belongs to, so /rs answers with data, not only 403/404.
        schema.config.update(parameters={"oid": esia_contract_session.oid})
    return schema


@pytest.fixture(scope="session")
def utko_contract(gosstand_target: Target, gosstand_options: TargetOptions, esia_session: EsiaSession) -> Any:
    return load_contract(gosstand_target, "utko", gosstand_options, session=esia_session)


@pytest.fixture(scope="session")
def fts_contract(gosstand_target: Target, gosstand_options: TargetOptions, esia_session: EsiaSession) -> Any:
    return load_contract(gosstand_target, "fts", gosstand_options, session=esia_session)


esia = schemathesis.pytest.from_fixture("esia_contract")
utko = schemathesis.pytest.from_fixture("utko_contract")
fts = schemathesis.pytest.from_fixture("fts_contract")


@CONTRACT_SETTINGS
@esia.parametrize()
def test_esia_contract(case: schemathesis.Case) -> None:
    case.call_and_validate()


@CONTRACT_SETTINGS
@utko.parametrize()
def test_utko_contract(case: schemathesis.Case) -> None:
    case.call_and_validate()


@CONTRACT_SETTINGS
@fts.parametrize()
def test_fts_contract(case: schemathesis.Case) -> None:
    case.call_and_validate()
