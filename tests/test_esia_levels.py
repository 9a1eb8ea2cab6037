"""Account levels simplified → standard → confirmed: what each may do, and clients that
require a confirmed account (ESIA-007055 in the redirect)."""

from __future__ import annotations

import json

import pytest
from esia_stand import make_stand
from gosstand.scenarios.control import ControlError
from gosstand.scenarios.esia_login import EsiaJourneyError

ORG = {"fullName": "ООО «Вектор»", "ogrn": "1027700132195", "inn": "7707083893", "kpp": "770701001"}


@pytest.fixture
def stand(service_client, control_headers):
    return make_stand(service_client, control_headers)


def simplified(stand) -> int:
    return stand.seed(level="simplified", person={"firstName": "Пётр", "lastName": "Сидоров"}, documents=[])


def test_a_client_requiring_a_confirmed_account_refuses_lower_levels_with_007055(stand):
    confirmed_only = stand.party("GOVSYS", required_level="confirmed")
    low, standard, confirmed = simplified(stand), stand.seed(level="standard"), stand.seed(level="confirmed")
    for oid in (low, standard):
        with pytest.raises(EsiaJourneyError) as refused:
            stand.login(oid, rp=confirmed_only)
        assert refused.value.esia_code == "ESIA-007055" and refused.value.error == "access_denied"
        assert stand.login(oid).oid == oid  # a client without the requirement lets them in
    assert stand.login(confirmed, rp=confirmed_only).oid == confirmed


def test_levels_rise_only_with_the_data_they_need(stand):
    oid = simplified(stand)
    record = stand.control.user(oid)
    assert record["level"] == "simplified" and record["person"]["trusted"] is False
    with pytest.raises(ControlError) as refused:
        stand.control.update_user(oid, level="standard")
    pointers = {e["pointer"] for e in json.loads(refused.value.body)["errors"]}
    assert pointers == {"/person/snils", "/documents"}
    with pytest.raises(ControlError):
        stand.seed(level="confirmed", person={"firstName": "А", "lastName": "Б"}, documents=[])


def test_what_each_level_may_do(stand):
    low = stand.seed(level="simplified")
    standard = stand.seed(level="standard")
    tokens = stand.login(low, "openid id_doc")
    docs = stand.get(f"/rs/prns/{low}/docs", tokens.access_token, embed="(elements)").json()
    assert docs["elements"][0]["vrfStu"] == "NOT_VERIFIED"  # a simplified account's data is unchecked
    tokens = stand.login(standard, "openid id_doc fullname")
    assert (
        stand.get(f"/rs/prns/{standard}/docs", tokens.access_token, embed="(elements)").json()["elements"][0]["vrfStu"]
        == "VERIFIED"
    )
    assert stand.get(f"/rs/prns/{standard}", tokens.access_token).json()["trusted"] is False
    # Only a confirmed account may act for an organisation.
    with pytest.raises(ControlError) as refused:
        stand.control.create_organisation(**ORG, employees=[{"oid": standard, "role": "accountant"}])
    assert "confirmed" in refused.value.body
    raised = stand.control.update_user(standard, level="confirmed")
    assert raised["level"] == "confirmed" and raised["person"]["trusted"] is True
    org = stand.control.create_organisation(**ORG, employees=[{"oid": standard, "role": "accountant"}])
    assert org["employees"][0]["oid"] == standard
    tokens = stand.login(standard, "openid fullname")
    assert stand.get(f"/rs/prns/{standard}", tokens.access_token).json()["trusted"] is True
