"""UTKO and FTS accept ESIA access tokens signed GOST3410_2012_256 as well as RS256.

ESIA signs a client's access tokens with GOST R 34.10-2012-256 when the client is registered
so (``token_algorithm``); such a client calls UTKO and FTS with them. Their replicas verify
them with the GOST certificate ESIA publishes in the shared keys directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fts_requests import DECLARATIONS as BASE
from fts_requests import ORGANISATION, T0, acting_for, declaration
from gosstand.mocks.core.keys import GOST_CERT_FILE, ensure_signing_keys
from gosstand.mocks.core.settings import TEST_STAND_ISSUER
from gosstand.mocks.esia.crypto.gost_keys import gost_signing_keys
from gosstand.mocks.esia.oauth.token_signing import sign_gost
from gosstand.mocks.esia.oauth.tokens import access_token_claims
from gosstand.scenarios.gost import gost_ready

pytestmark = pytest.mark.skipif(gost_ready() is not None, reason=f"no GOST here: {gost_ready()}")


def gost_token(make_settings, *, scopes=("openid", "usr_org"), now: float = T0) -> str:
    """A GOST-signed access token of a person working for the test declarant (the UTKO list
    then shows its objects)."""
    keys = gost_signing_keys(make_settings("esia"))  # what an ESIA replica creates and publishes
    assert keys is not None
    claims = access_token_claims(oid=1000328686, client_id="GOSTSYS", scopes=scopes, issuer=TEST_STAND_ISSUER,
                                 now=now, session_id="sid", organisations=acting_for(ORGANISATION))
    return sign_gost(claims, kind="access", keys=keys)


@pytest.fixture
def fts(service_client, control_headers):
    client = service_client("fts")
    client.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    return client


def test_fts_takes_gost_signed_access_tokens(fts, make_settings):
    auth = {"Authorization": f"Bearer {gost_token(make_settings)}"}
    created = fts.post(BASE, json=declaration(), headers={**auth, "Idempotency-Key": "g-1"})
    assert created.status_code == 201, created.text
    status = fts.get(f"{BASE}/{created.json()['id']}/status", headers=auth)
    assert status.status_code == 200 and status.json()["status"] == "submitted"


@pytest.mark.parametrize("fault", ["tampered", "missing scope", "expired"])
def test_fts_refuses_bad_gost_tokens(fts, make_settings, control_headers, fault):
    token = gost_token(make_settings, scopes=("openid",) if fault == "missing scope" else ("openid", "usr_org"))
    if fault == "tampered":
        head, payload, signature = token.split(".")
        token = f"{head}.{payload}.{signature[::-1]}"
    if fault == "expired":
        fts.post("/_gosstand/control/clock", json={"advance": 2 * 86400}, headers=control_headers)
    response = fts.post(BASE, json=declaration(), headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "g"})
    assert response.status_code == (403 if fault == "missing scope" else 401), response.text
    assert "WWW-Authenticate" in response.headers


def test_utko_takes_gost_signed_access_tokens(service_client, make_settings, control_headers):
    utko = service_client("utko")
    utko.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    listed = utko.get("/v1/objects", headers={"Authorization": f"Bearer {gost_token(make_settings)}"})
    assert listed.status_code == 200, listed.text


def test_gost_tokens_are_accepted_once_esia_publishes_its_certificate(service_client, make_settings,
                                                                      control_headers, tmp_path: Path):
    token = gost_token(make_settings)  # ESIA's GOST key pair now exists in the shared keys dir
    published = make_settings("esia").esia_keys_dir / GOST_CERT_FILE
    fresh_keys = tmp_path / "fresh-keys"
    ensure_signing_keys(fresh_keys)  # the same directory before ESIA wrote its GOST certificate
    fts = service_client("fts", esia_keys_dir=fresh_keys)
    fts.post("/_gosstand/control/clock", json={"freeze": T0}, headers=control_headers).raise_for_status()
    url, auth = f"{BASE}?inn=7707083893", {"Authorization": f"Bearer {token}"}
    refused = fts.get(url, headers=auth)
    assert refused.status_code == 401 and "GOST" in refused.json()["detail"]
    shutil.copy(published, fresh_keys / GOST_CERT_FILE)  # ESIA starts and publishes it
    assert fts.get(url, headers=auth).status_code == 200
