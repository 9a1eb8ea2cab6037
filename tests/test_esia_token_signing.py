"""ESIA's RS256 tokens, put together without PyJWT's encoder, are the very bytes PyJWT makes
(RSASSA-PKCS1-v1_5 is deterministic) and verify with an ordinary JWT library."""

from __future__ import annotations

import jwt
import pytest
from gosstand.mocks.esia.oauth import tokens
from gosstand.mocks.esia.oauth.token_signing import sign

CLAIMS = {
    "access": tokens.access_token_claims(oid=1000000001, client_id="TESTSYS", scopes=["openid", "fullname", "инн"],
                                         issuer="http://esia-portal1.test.gosuslugi.ru/", now=1765000000.5,
                                         session_id="sid-1", organisations=[{"oid": 7, "inn": "7707083893"}]),
    "id": tokens.id_token_claims(oid=1000000001, client_id="TESTSYS", issuer="http://esia.gosuslugi.ru/",
                                 now=1765000000, auth_time=1764999990, session_id="sid-1", trusted=False),
    "authorization_code": tokens.auth_code_claims(oid=1, client_id="TESTSYS", state="s", issuer="i", now=1.0,
                                                  session_id="sid", code_id="c", trusted=True,
                                                  user_agent="Мозилла/5.0 \"x\""),
}


@pytest.mark.parametrize("kind", list(CLAIMS))
@pytest.mark.parametrize("key_id", [None, "kid-1"])
def test_tokens_are_the_bytes_pyjwt_makes(esia_signing_keys, kind, key_id):
    headers = {**tokens.header(kind), **({"kid": key_id} if key_id else {})}
    ours = sign(CLAIMS[kind], kind=kind, key=esia_signing_keys.private_key, key_id=key_id)
    assert ours == jwt.encode(CLAIMS[kind], esia_signing_keys.private_key, algorithm="RS256", headers=headers)
    assert jwt.get_unverified_header(ours) == headers
    assert jwt.decode(ours, esia_signing_keys.public_key, algorithms=["RS256"],
                      options={"verify_exp": False, "verify_aud": False, "verify_nbf": False,
                               "verify_iat": False, "verify_sub": False}) == CLAIMS[kind]
