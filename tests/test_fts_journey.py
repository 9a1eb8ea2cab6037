"""The declaration journey (scenarios/declarations.py) against the in-process FTS mock, and its
retry rules against a scripted server."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from faker import Faker
from fts_requests import acting_for
from gosstand.mocks.core import identifiers
from gosstand.mocks.core.keys import SigningKeys
from gosstand.mocks.core.settings import TEST_STAND_ISSUER
from gosstand.mocks.esia.oauth.token_signing import sign
from gosstand.mocks.esia.oauth.tokens import access_token_claims
from gosstand.scenarios import declarations
from gosstand.scenarios.http import HttpResponse, TransportFailure
from scripted_http import ScriptedHttp, answer
from starlette.testclient import TestClient


class InProcessHttp:
    """The journeys' HttpClient over a Starlette TestClient; records request names."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.names: list[str] = []

    def send(self, method: str, url: str, *, name: str, params: Mapping[str, str] | None = None,
             json: Any = None, headers: Mapping[str, str] | None = None, **_: Any) -> HttpResponse:
        self.names.append(name)
        response = self.client.request(method, url, params=params, json=json, headers=headers)
        return HttpResponse(status=response.status_code, headers={k.lower(): v for k, v in response.headers.items()},
                            body=response.content, url=url)


CARD = b'{"id": "d1", "status": "submitted"}'


@pytest.fixture
def faker() -> Faker:
    fake = Faker("ru_RU")
    fake.seed_instance(7)
    return fake


@pytest.fixture
def mint(esia_signing_keys: SigningKeys) -> Callable[[dict[str, Any]], str]:
    """A broker's token acting for ``declarant``."""

    def token(declarant: dict[str, Any]) -> str:
        claims = access_token_claims(oid=1, client_id="BROKER", scopes=["openid", "usr_org"],
                                     issuer=TEST_STAND_ISSUER, now=time.time(), session_id="sid",
                                     organisations=acting_for(declarant))
        return sign(claims, kind="access", key=esia_signing_keys.private_key)

    return token


def test_sample_declarations_pass_the_rules(faker):
    for _ in range(200):
        body = declarations.sample_declaration(faker)
        declarant = body["declarant"]
        assert identifiers.is_valid_inn(declarant["inn"], kind="legal")
        assert identifiers.is_valid_kpp(declarant["kpp"], digits_only=True)
        assert identifiers.is_valid_ogrn(declarant["ogrn"])
        assert identifiers.is_valid_procedure(body["procedure"]["direction"], body["procedure"]["code"])
        assert identifiers.is_valid_customs_office(body["customsOffice"])
        assert all(identifiers.is_valid_tnved(item["tnved"]) for item in body["goods"])


def test_journey_against_the_mock(service_client: Callable[..., TestClient], faker, mint):
    http = InProcessHttp(service_client("fts"))
    payload = declarations.sample_declaration(faker)
    token = mint(payload["declarant"])
    first = declarations.submit(http, fts_url="http://testserver", token=token, declaration=payload,
                                idempotency_key="journey-1")
    assert (first.status, first.attempts, first.replayed) == ("submitted", 1, False)
    again = declarations.submit(http, fts_url="http://testserver", token=token, declaration=payload,
                                idempotency_key="journey-1")
    assert (again.id, again.replayed) == (first.id, True)
    assert declarations.status(http, fts_url="http://testserver", token=token,
                               declaration_id=first.id)["status"] == "submitted"
    assert declarations.card(http, fts_url="http://testserver", token=token,
                             declaration_id=first.id)["senderReference"] == payload["senderReference"]
    for _ in range(4):
        other = dict(declarations.sample_declaration(faker), declarant=payload["declarant"])
        declarations.submit(http, fts_url="http://testserver", token=token, declaration=other,
                            idempotency_key=other["senderReference"])
    listed = list(declarations.list_declarations(http, fts_url="http://testserver", token=token,
                                                 inn=payload["declarant"]["inn"], kpp=payload["declarant"]["kpp"],
                                                 limit=2))
    assert len(listed) == 5 and len({card["id"] for card in listed}) == 5
    assert http.names.count("fts: list") == 3
    assert {"fts: submit", "fts: status", "fts: card"} <= set(http.names)
    with pytest.raises(declarations.DeclarationError) as error:
        declarations.status(http, fts_url="http://testserver", token=token,
                            declaration_id="00000000-0000-4000-8000-000000000000")
    assert error.value.status == 404


def test_submit_retries_with_the_same_key_and_honours_retry_after():
    waits: list[float] = []
    http = ScriptedHttp([TransportFailure("reset"), answer(503, retry_after="2"), answer(500),
                         answer(429, retry_after="120"), answer(201, CARD, idempotent_replayed="true")])
    submitted = declarations.submit(http, fts_url="http://fts", token="t", declaration={}, idempotency_key="k-1",
                                    attempts=5, sleep=waits.append)
    assert (submitted.id, submitted.attempts, submitted.replayed) == ("d1", 5, True)
    assert {sent["headers"]["Idempotency-Key"] for sent in http.sent} == {"k-1"}
    assert waits[1] == 2.0  # Retry-After in seconds
    assert waits[3] == declarations.MAX_RETRY_WAIT  # capped
    assert waits[0] > 0 and waits[2] > 0  # back-off without Retry-After


def test_submit_gives_up_after_its_attempts_and_says_how_many():
    http = ScriptedHttp([answer(503), answer(503)])
    with pytest.raises(declarations.DeclarationError) as error:
        declarations.submit(http, fts_url="http://fts", token="t", declaration={}, idempotency_key="k",
                            attempts=2, sleep=lambda _: None)
    assert (error.value.status, error.value.attempts) == (503, 2)


def test_submit_does_not_retry_a_rejection():
    http = ScriptedHttp([answer(422, b'{"detail": "bad", "errors": [{"pointer": "/goods"}]}')])
    with pytest.raises(declarations.DeclarationError) as error:
        declarations.submit(http, fts_url="http://fts", token="t", declaration={}, idempotency_key="k",
                            sleep=lambda _: pytest.fail("slept"))
    assert error.value.status == 422 and error.value.problem["errors"][0]["pointer"] == "/goods"
    assert len(http.sent) == 1


def test_retry_after_as_http_date():
    response = answer(503, retry_after="Wed, 20 May 2026 09:00:03 GMT")
    now = 1779267600.0  # 2026-05-20T09:00:00Z
    assert declarations.retry_delay(response, 1, now=lambda: now) == pytest.approx(3.0)
