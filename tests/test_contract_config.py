"""The conformance suite's schemathesis settings (``conformance/overrides.py``) judge the stand's
answers as the stand means them, in-process and on the command line alike.

FTS refuses a declaration over its route's body limit (1 MiB) with 413 problem+json before
reading it. Schema-violating data refused that way is refused all the same: schemathesis's own
negative-data check (ST201) must not call the 413 an acceptance — its default list of refusals
has no 413, and a clean-clone CI run failed at random when Hypothesis drew such a body.
"""

from __future__ import annotations

from pathlib import Path

import fts_requests
import pytest
import schemathesis
from gosstand.conformance.overrides import contract_config, contract_config_toml
from gosstand.mocks.fts.handlers import MAX_BODY_BYTES
from hypothesis import HealthCheck, Phase, find, settings
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup
from starlette.testclient import TestClient

CONTRACTS = Path(__file__).resolve().parent.parent / "mocks"
#: Run alone: the question is what this one check makes of the answer.
NEGATIVE_DATA_REJECTION = schemathesis.checks.negative_data_rejection


def oversized_invalid_submission(fts: TestClient, auth: dict[str, str],
                                 config: schemathesis.Config) -> tuple[schemathesis.Case, schemathesis.Response]:
    """A negative-mode case of ``POST /api/v1/declarations`` judged under ``config``, sent to
    ``fts``: a declaration whose ``senderReference`` breaks its ``maxLength`` by more than the
    route's body limit, with a valid token and ``Idempotency-Key`` so that only the body is
    wrong and FTS gets as far as reading it.

    schemathesis draws the case (so its metadata is what a run's would be), negating the body —
    the only part not given — and the drawn body is then replaced; schemathesis re-judges a
    replaced body against the schema when the case is sent. The draw is derandomised, and which
    invalid body it drew does not matter: it never reaches the server."""
    schema = schemathesis.openapi.from_asgi("/_gosstand/openapi.json", fts.app, config=config)
    strategy = schema[fts_requests.DECLARATIONS]["POST"].as_strategy(
        generation_mode=schemathesis.GenerationMode.NEGATIVE, headers={**auth, "Idempotency-Key": "key-1"})
    # The first draw, unshrunk (shrinking a case that needs no smaller form takes a minute).
    case: schemathesis.Case = find(strategy, lambda drawn: True, settings=settings(
        database=None, derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    case.body = fts_requests.declaration(senderReference="x" * (MAX_BODY_BYTES + 1))
    response = case.call()
    return case, response


def assert_refused_by_the_body_limit(case: schemathesis.Case, response: schemathesis.Response) -> None:
    """The case went out as schema-violating data and FTS refused it for its size."""
    assert case.meta is not None and case.meta.generation.mode is schemathesis.GenerationMode.NEGATIVE
    assert len(response.request.body or b"") > MAX_BODY_BYTES
    assert response.status_code == 413, response.text
    assert response.headers["content-type"][0].startswith("application/problem+json")
    assert response.json()["maxBodyBytes"] == MAX_BODY_BYTES


def test_a_413_for_invalid_data_over_the_body_limit_counts_as_refusing_it(
        fts: TestClient, auth: dict[str, str]) -> None:
    case, response = oversized_invalid_submission(fts, auth, contract_config("fts"))
    assert_refused_by_the_body_limit(case, response)
    case.validate_response(response, checks=[NEGATIVE_DATA_REJECTION])  # no failure: 413 is a refusal


def test_schemathesis_defaults_call_that_413_an_acceptance(fts: TestClient, auth: dict[str, str]) -> None:
    """Why the suite lists 413: without it the same answer fails the contract."""
    case, response = oversized_invalid_submission(fts, auth, schemathesis.Config())
    assert_refused_by_the_body_limit(case, response)
    with pytest.raises(FailureGroup) as failures:
        case.validate_response(response, checks=[NEGATIVE_DATA_REJECTION])
    [failure] = failures.value.exceptions
    assert isinstance(failure, AcceptedNegativeData) and failure.status_code == 413


def judgements(schema: schemathesis.BaseSchema) -> dict[str, dict[str, list[str]]]:
    """Per operation, the statuses that count as refusing invalid data and accepting valid data."""
    judged: dict[str, dict[str, list[str]]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        checks = schema.config.checks_config_for(operation=operation, phase="fuzzing")
        judged[operation.label] = {"refusals": checks.negative_data_rejection.expected_statuses,
                                   "acceptances": checks.positive_data_acceptance.expected_statuses}
    return judged


@pytest.mark.parametrize("service", ["esia", "fts", "utko"])
def test_the_command_line_config_judges_as_the_in_process_one(service: str) -> None:
    """The TOML written for ``schemathesis run`` reads back as the in-process config: 413 among
    the refusals of schema-violating data, and the same per-operation overrides."""
    contract = str(CONTRACTS / service / "openapi.yaml")
    written = judgements(schemathesis.openapi.from_path(
        contract, config=schemathesis.Config.from_str(contract_config_toml(service))))
    in_process = judgements(schemathesis.openapi.from_path(contract, config=contract_config(service)))
    assert written == in_process
    assert all("413" in judged["refusals"] for judged in written.values())


@pytest.mark.parametrize(("service", "overridden"), [
    ("esia", {"POST /aas/oauth2/v3/te"}),
    ("fts", {"POST /api/v1/declarations/{id}/documents"}),
    ("utko", {"GET /v1/objects", "PUT /v1/objects/{id}", "DELETE /v1/objects/{id}"}),
])
def test_each_override_relaxes_its_own_operation_only(service: str, overridden: set[str]) -> None:
    """Filing a declaration is not judged like uploading a document to it: every other
    operation accepts only what schemathesis accepts by default for valid data."""
    contract = str(CONTRACTS / service / "openapi.yaml")
    judged = judgements(schemathesis.openapi.from_path(contract, config=contract_config(service)))
    defaults = schemathesis.Config().projects.default.checks.positive_data_acceptance.expected_statuses
    assert {label for label, statuses in judged.items() if statuses["acceptances"] != defaults} == overridden
