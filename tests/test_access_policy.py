"""Who sees what at FTS and UTKO: the access policy's choices in the mocks, and the
organisations ESIA writes into a person's token.

A declaration or an object of an organisation the caller does not act for answers exactly as an
id nobody holds (404, the same problem), so nothing says it exists; a request that itself names
another organisation (a filing, a list, a feed) is a 403 that says why; a token without
``usr_org`` acts for no organisation.
"""

from __future__ import annotations

import uuid

import pytest
from esia_stand import make_stand
from fts_requests import DECLARATIONS, ORGANISATION, PLANS_T0, acting_for, declaration, submit, token
from gosstand.mocks.core.access import ORGANISATIONS_CLAIM, AccessPolicy, Organisation, TokenOrganisations
from gosstand.mocks.core.bearer import Identity
from gosstand.scenarios.esia_login import jwt_claims
from utko_inputs import OBJECT, T0, bearer

STRANGER = {"inn": "7728168971", "kpp": "772801001", "ogrn": "1027700067328", "name": "АО «Альфа-Банк»"}


@pytest.fixture
def stranger(esia_signing_keys) -> dict[str, str]:
    """A person of another organisation, at the FTS test clock."""
    return {"Authorization": f"Bearer {token(esia_signing_keys, now=PLANS_T0, organisations=acting_for(STRANGER))}"}


def test_another_declarants_declaration_answers_as_an_unknown_id(fts, auth, stranger):
    declaration_id = submit(fts, auth)
    unknown = fts.get(f"{DECLARATIONS}/{uuid.uuid4()}", headers=stranger).json()
    for path in ("", "/status", "/documents"):
        hidden = fts.get(f"{DECLARATIONS}/{declaration_id}{path}", headers=stranger)
        assert hidden.status_code == 404
        assert hidden.json()["detail"] == unknown["detail"]
    withdrawn = fts.post(f"{DECLARATIONS}/{declaration_id}/withdrawal", headers={**stranger, "Idempotency-Key": "w"})
    assert withdrawn.status_code == 404
    assert fts.get(f"{DECLARATIONS}/{declaration_id}/status", headers=auth).json()["status"] == "submitted"


def test_naming_another_declarant_is_a_403_that_says_why(fts, stranger):
    listed = fts.get(DECLARATIONS, params={"inn": ORGANISATION["inn"]}, headers=stranger)
    assert listed.status_code == 403
    assert listed.json()["errors"] == [{"parameter": "inn", "detail": "an organisation you act for"}]
    assert fts.get("/api/v1/events", params={"inn": ORGANISATION["inn"]}, headers=stranger).status_code == 403
    filed = fts.post(DECLARATIONS, json=declaration(), headers={**stranger, "Idempotency-Key": "k"})
    assert filed.status_code == 403 and filed.json()["errors"][0]["pointer"] == "/declarant"
    own = fts.post(DECLARATIONS, json=declaration(STRANGER), headers={**stranger, "Idempotency-Key": "k"})
    assert own.status_code == 201, own.text


def test_a_token_without_usr_org_acts_for_no_organisation(fts, auth, esia_signing_keys):
    declaration_id = submit(fts, auth)
    bare = token(esia_signing_keys, scopes=("openid",), now=PLANS_T0, organisations=None)
    reader = {"Authorization": f"Bearer {bare}"}
    assert fts.get(f"{DECLARATIONS}/{declaration_id}", headers=reader).status_code == 404
    assert fts.get(DECLARATIONS, params={"inn": ORGANISATION["inn"]}, headers=reader).status_code == 403


def test_utko_objects_are_their_operators(service_client, control_headers, esia_signing_keys):
    utko = service_client("utko")
    utko.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    owner, other = bearer(esia_signing_keys), bearer(esia_signing_keys, organisations=acting_for(STRANGER))
    object_id = utko.post("/v1/objects", json=OBJECT, headers=owner).json()["id"]
    assert utko.get(f"/v1/objects/{object_id}", headers=other).status_code == 404
    assert utko.delete(f"/v1/objects/{object_id}", headers=other).status_code == 404
    assert utko.get(f"/v1/objects/{object_id}", headers=owner).status_code == 200
    assert utko.get("/v1/objects", params={"operatorInn": OBJECT["operator"]["inn"]}, headers=other).status_code == 403
    assert utko.get("/v1/objects", headers=other).json()["total"] == 0  # its own register: empty
    assert [o["id"] for o in utko.get("/v1/objects", headers=owner).json()["items"]] == [object_id]
    assert utko.post("/v1/objects", json=OBJECT, headers=other).status_code == 403
    both = bearer(esia_signing_keys, organisations=acting_for(OBJECT["operator"], STRANGER))
    several = utko.get("/v1/objects", headers=both)
    assert several.status_code == 400 and several.json()["errors"][0]["parameter"] == "operatorInn"


def test_a_kpp_must_be_the_organisations_or_a_branchs():
    identity = Identity(oid=1, client_id="X", scopes=frozenset({"openid"}), claims={
        ORGANISATIONS_CLAIM: [{"oid": 5, "inn": "7707083893", "kpps": ["773601001", "773643001"]}, "junk", {}]})
    policy = AccessPolicy()
    assert TokenOrganisations().organisations(identity) == (Organisation("7707083893",
                                                                         frozenset({"773601001", "773643001"})),)
    assert policy.acts_for(identity, {"inn": "7707083893", "kpp": "773643001"})
    assert policy.acts_for(identity, {"inn": "7707083893"})
    assert not policy.acts_for(identity, {"inn": "7707083893", "kpp": "773601002"})
    assert not policy.acts_for(identity, {"inn": "7728168971", "kpp": "773601001"})
    assert not policy.acts_for(identity, None)


def test_esia_writes_a_persons_organisations_into_a_usr_org_token(service_client, control_headers):
    stand = make_stand(service_client, control_headers)
    clerk = stand.seed()
    org = stand.control.create_organisation(
        fullName="ООО «Ромашка»", ogrn="1027700132195", inn="7707083893", kpp="773601001",
        branches=[{"name": "Филиал", "kpp": "773643001"}], employees=[{"oid": clerk}])
    with_orgs = jwt_claims(stand.login(clerk, "openid fullname usr_org").access_token)
    assert with_orgs[ORGANISATIONS_CLAIM] == [{"oid": org["oid"], "inn": "7707083893",
                                               "kpps": ["773601001", "773643001"]}]
    assert ORGANISATIONS_CLAIM not in jwt_claims(stand.login(clerk, "openid fullname").access_token)
