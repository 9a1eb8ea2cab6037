"""Contract tests: every operation of ESIA, UTKO and FTS against its OpenAPI 3.1 document, alone and
in chains of calls (UTKO and FTS).

schemathesis generates valid and invalid requests per operation and runs all its default
checks on each answer: no server errors, status codes and content types as declared, response
bodies matching their schemas, invalid data rejected with a 4xx, authentication really enforced
(the request is resent without credentials), undeclared methods answered with 405. The rules the
contracts state in prose (:mod:`gosstand.conformance.checks`: ETags, Retry-After, problem
documents and their pointers, marked replays, Location) run on every answer too.

The documents come from the target itself (``/_gosstand/openapi.yaml``) when it is a gosstand
deployment, else from this repository (``mocks/<service>/openapi.yaml``) — the contract a real
implementation is held to. The custom string formats (inn, kpp, ogrn, snils, tnved, fkko,
dt-number) generate numbers that pass the real checks, judged by the oracle; without them
"valid" requests would carry random digits that a correct server must refuse.

Nothing is excluded: the control API is not part of the contracts, and every public operation
is tested. Examples per operation come from ``--contract-examples``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from gosstand.conformance import checks
from gosstand.conformance.overrides import contract_config, contract_config_toml
from gosstand.conformance.strategies import contract_formats
from gosstand.conformance.targets import EsiaSession, Target, TargetOptions, TargetUnavailable, log_in
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.contract

# Formats must be known before a schema is loaded.
for _name, _strategy in contract_formats().items():
    schemathesis.openapi.format(_name, _strategy)
# The rules the contracts state in prose join schemathesis' own checks on every answer.
checks.register()

#: Network round trips make single examples slow; shrinking a failure still runs.
CONTRACT_SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))


def bearer(token: str) -> type:
    """An auth provider class (schemathesis instantiates it) sending ``token`` as a Bearer."""

    class EsiaBearer:
        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
            return token

        def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
            case.headers["Authorization"] = f"Bearer {data}"  # case-insensitive: replaces a generated one

    return EsiaBearer


def load_contract(
    target: Target, service: str, options: TargetOptions, *, session: EsiaSession | None
) -> schemathesis.BaseSchema:
    """The service's contract, aimed at the target, with the suite's limits and credentials."""
    try:  # a target given without this service's URL (only --fts-url, say) does not test it
        base_url = target.url(service)
        location = target.contract_location(service)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))
    # An explicit config: a stray schemathesis.toml in a parent directory must not steer the run.
    config = contract_config(service)
    if location.startswith(("http://", "https://")):
        schema = schemathesis.openapi.from_url(location, config=config, timeout=10)
    else:
        schema = schemathesis.openapi.from_path(location, config=config)
    schema.config.update(base_url=base_url, request_timeout=10)
    schema.config.generation.update(max_examples=options.contract_examples)
    if session is not None:
        # ``schema.auth()`` returns the registering decorator; ``schema.auth(cls)`` would only
        # decorate a test function, and the schema would send no token at all.
        schema.auth(refresh_interval=None)(bearer(session.access_token))
        assert schema.auth.is_defined
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
        # The person the token belongs to, so /rs answers with data, not only 403/404. The
        # contract is narrowed rather than the parameter fixed: schemathesis applies a fixed
        # parameter to its negative cases too and then takes the valid request for an invalid one.
        oid_parameter = schema.raw_schema["components"]["parameters"]["Oid"]
        oid_parameter["schema"] = {"type": "integer", "enum": [esia_contract_session.oid]}
    return schema


@pytest.fixture(scope="module")
def utko_contract(gosstand_target: Target, gosstand_options: TargetOptions, esia_session: EsiaSession) -> Any:
    return load_contract(gosstand_target, "utko", gosstand_options, session=esia_session)


@pytest.fixture(scope="module")
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


@pytest.mark.parametrize("service", ["utko", "fts"])
def test_chained_calls_keep_the_contract(service: str, gosstand_target: Target, gosstand_options: TargetOptions,
                                         esia_session: EsiaSession, tmp_path: Path) -> None:
    """schemathesis' stateful phase: chains of calls that pass real ids from one answer to the
    next (the contracts' links, and links it infers from the schemas and Location headers),
    every answer checked as above. It reaches what a random id stops short of — an appeal's
    attachments, an object's version check, a cursor's next page — and state a replica kept to
    itself would fail it. ESIA's contract has no links to follow.

    Run through the schemathesis command line: its engine replays a chain against a live
    server, where Hypothesis' own state-machine runner stops about one run in ten as flaky
    (the answers decide which draws a chain makes)."""
    try:
        location = gosstand_target.contract_location(service)
    except TargetUnavailable as exc:
        pytest.skip(str(exc))
    config = tmp_path / "schemathesis.toml"
    config.write_text(contract_config_toml(service))
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "--no-color", "--config-file", str(config),
        "run", location, "--url", gosstand_target.url(service), "--phases", "stateful",
        "--header", f"Authorization: Bearer {esia_session.access_token}",
        "--max-examples", str(2 * gosstand_options.contract_examples), "--request-timeout", "10",
    ]
    if os.environ.get("CI"):
        command.append("--generation-deterministic")  # as the rest of the suite is in CI
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": "gosstand.conformance.schemathesis_hooks"}
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment,
                               cwd=tmp_path)  # no stray schemathesis.toml from a parent directory
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    assert " passed" in completed.stdout and "Stateful" in completed.stdout
