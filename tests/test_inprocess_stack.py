"""The stack inside the test process: code that talks httpx to the mocks' URLs reaches them with
no server and no port, and a request to anywhere else fails instead of leaving the machine."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import respx
from gosstand.scenarios import declarations, esia_login
from gosstand.scenarios.http import HttpxClient
from gosstand.scenarios.identities import russian_faker
from gosstand.stand.inprocess import InProcessStack
from relying_parties import registered_person

SCOPE = "openid fullname snils usr_org"


@pytest.fixture
def stack(gosstand_inprocess):  # the plugin's fixture, as a user's test would take it
    return gosstand_inprocess


def test_a_login_and_a_declaration_run_on_a_plain_client_without_a_server(stack):
    control, rp, person = registered_person(stack, "INPROC", SCOPE, seed=5)
    body = declarations.sample_declaration(russian_faker(seed=6))
    declarant = body["declarant"]
    control.create_organisation(fullName=declarant["name"], ogrn=declarant["ogrn"], inn=declarant["inn"],
                                kpp=declarant["kpp"], employees=[{"oid": person["oid"]}])  # the person files for it
    with HttpxClient() as http:  # an ordinary httpx.Client: nothing tells it about the mocks
        tokens = esia_login.login(http, esia_url=stack.urls["esia"], rp=rp, login=person["phone"],
                                  password=person["password"], read_sms=control.read_sms, scope=SCOPE)
        me = esia_login.person(http, esia_url=stack.urls["esia"], tokens=tokens)
        assert (me["lastName"], me["snils"]) == (person["lastName"], person["snils"])
        submitted = declarations.submit(http, fts_url=stack.urls["fts"], token=tokens.access_token,
                                        declaration=body, idempotency_key=str(uuid.uuid4()))
    assert submitted.status == "submitted"

    async def read_status() -> httpx.Response:
        async with httpx.AsyncClient() as client:  # async clients are routed too
            return await client.get(f"{stack.urls['fts']}/api/v1/declarations/{submitted.id}/status",
                                    headers={"Authorization": f"Bearer {tokens.access_token}"})

    status = asyncio.run(read_status())
    assert status.status_code == 200 and status.json()["id"] == submitted.id
    assert status.headers["x-gosstand-replica"] == "fts-1"


def test_a_request_to_anywhere_else_fails_instead_of_leaving_the_process(stack):
    with pytest.raises(respx.models.AllMockedAssertionError):
        httpx.get("https://nalog.ru/")
    with pytest.raises(respx.models.AllMockedAssertionError):  # a service's URL is matched whole
        httpx.get(stack.urls["fts"] + ".evil.example/api/v1/declarations")


def test_after_close_nothing_is_routed():
    stack = InProcessStack(services=("utko",), urls={"utko": "http://127.0.0.1:9"}).start()
    assert httpx.get(stack.urls["utko"] + "/_gosstand/health").json()["service"] == "utko"
    stack.close()
    with pytest.raises(httpx.ConnectError):  # now a real request to a closed loopback port
        httpx.get(stack.urls["utko"] + "/_gosstand/health", timeout=2.0)


def test_fts_wants_an_esia_token(gosstand_inprocess):  # the README's example, verbatim
    fts = gosstand_inprocess.urls["fts"]          # https://fts.gosstand.test
    answer = httpx.post(f"{fts}/api/v1/declarations", json={}, headers={"Idempotency-Key": "k-1"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
