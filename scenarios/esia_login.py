"""The ESIA v1 login journey, written once against :class:`scenarios.http.HttpClient`.

A person logs in to a relying party: ``ac`` → password page → SMS code (or TOTP) → the
consent page when new data is asked for → back to the client with a code → the client's back
end exchanges it at ``te``. Each request is named (``esia: ac``, ``esia: login form``,
``esia: login``, ``esia: otp form``, ``esia: otp``, ``esia: consent form``, ``esia: consent``,
``esia: te``, ``esia: refresh``, ``esia: person``, ``esia: logout``) so load statistics group
them. Signing in with an electronic signature instead of the password and code
(:func:`sign_in_with_signature`, :func:`login_with_signature`) names its steps
``esia: signature form`` and ``esia: signature``. Any answer the journey does not expect
raises :class:`EsiaJourneyError` naming the step.

The HTTP client must keep cookies (ESIA's SSO session), as a browser does: with a live
session, ``ac`` answers with the code at once and the password and SMS steps are skipped.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .esia_client import RelyingParty
from .gost import GostCertificate
from .http import HttpClient, HttpResponse

if TYPE_CHECKING:
    from jwt.types import Options


class EsiaJourneyError(Exception):
    """An ESIA answer the journey did not expect. ``error``/``description`` carry ESIA's
    ``error`` and ``error_description`` (``ESIA-0070NN: …``) when it sent them."""

    def __init__(
        self,
        step: str,
        message: str,
        *,
        status: int | None = None,
        error: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.status = status
        self.error = error
        self.description = description

    @property
    def esia_code(self) -> str | None:
        """``ESIA-007011`` from the description, if any."""
        if self.description and self.description.startswith("ESIA-"):
            return self.description.split(":", 1)[0]
        return None


@dataclass(frozen=True, kw_only=True)
class TokenSet:
    access_token: str
    id_token: str
    refresh_token: str
    expires_in: int
    oid: int
    state: str
    token_type: str = "Bearer"


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified (the client reads, the resource server verifies)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise EsiaJourneyError("esia: te", f"not a JWT: {exc}") from None


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def _absolute(esia_url: str, location: str) -> str:
    return location if "://" in location else esia_url.rstrip("/") + location


_ALERT = re.compile(r'role="alert">([^<]*)<')


def _expect(step: str, response: HttpResponse, status: int) -> HttpResponse:
    if response.status != status:
        error = description = None
        said = response.text[:300]
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                body = response.json()
                error, description = body.get("error"), body.get("error_description")
            except (ValueError, AttributeError):
                pass
        elif content_type.startswith("text/html") and (alert := _ALERT.search(response.text)):
            said = html.unescape(alert.group(1))  # the message the page shows the person
        raise EsiaJourneyError(
            step,
            f"expected HTTP {status}, got {response.status}: {said}",
            status=response.status,
            error=error,
            description=description,
        )
    return response


def _returned_to_client(step: str, location: str, redirect_uri: str, state: str) -> str | None:
    """The code if ``location`` is the client's redirect URI; raise on an error redirect."""
    if not location.startswith(redirect_uri):
        return None
    query = _query(location)
    if "error" in query:
        raise EsiaJourneyError(
            step,
            f"ESIA refused: {query.get('error_description')}",
            status=302,
            error=query["error"],
            description=query.get("error_description"),
        )
    if query.get("state") != state:
        raise EsiaJourneyError(step, f"state came back as {query.get('state')!r}, sent {state!r}")
    if not query.get("code"):
        raise EsiaJourneyError(step, "redirected back without a code")
    return query["code"]


def _token_set(step: str, response: HttpResponse) -> TokenSet:
    _expect(step, response, 200)
    try:
        body = response.json()
        oid = int(jwt_claims(body["id_token"])["urn:esia:sbj"]["urn:esia:sbj:oid"])
        return TokenSet(
            access_token=body["access_token"],
            id_token=body["id_token"],
            refresh_token=body["refresh_token"],
            expires_in=int(body["expires_in"]),
            oid=oid,
            state=body["state"],
            token_type=body["token_type"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EsiaJourneyError(step, f"malformed token answer: {exc!r}") from None


def authorize(
    http: HttpClient,
    *,
    esia_url: str,
    rp: RelyingParty,
    login: str,
    password: str,
    read_sms: Callable[[str], str],
    scope: str = "openid fullname",
    access_type: str = "online",
    phone: str | None = None,
) -> str:
    """Run the browser part of the login and return the authorization code."""
    params = rp.authorization_params(scope, access_type=access_type)
    back_to = sign_in(
        http, esia_url=esia_url, authorization_url=f"{esia_url}{rp.authorize_path}?{urlencode(params)}",
        login=login, password=password, read_sms=read_sms, phone=phone,
    )
    return _query(back_to)["code"]


def sign_in(
    http: HttpClient,
    *,
    esia_url: str,
    authorization_url: str,
    login: str,
    password: str,
    read_sms: Callable[[str], str],
    phone: str | None = None,
) -> str:
    """What a person's browser does with any relying party's authorization URL (your system's
    own ``/aas/oauth2/ac?…``): follow it through ESIA's login pages — password, SMS code, the
    consent page when shown — and return the URL ESIA sends the browser back to, the client's
    ``redirect_uri`` with ``code`` and ``state``. A refusal raises :class:`EsiaJourneyError`."""
    query = _query(authorization_url)
    redirect_uri, state = query.get("redirect_uri", ""), query.get("state", "")
    answer = _expect("esia: ac", http.send("GET", authorization_url, name="esia: ac"), 302)
    _, back_to = _through_the_pages(
        http, esia_url, answer.location or "", redirect_uri=redirect_uri, state=state,
        login=login, password=password, read_sms=read_sms, phone=phone,
    )
    return back_to


def _through_the_pages(
    http: HttpClient,
    esia_url: str,
    location: str,
    *,
    redirect_uri: str,
    state: str,
    login: str,
    password: str,
    read_sms: Callable[[str], str],
    phone: str | None,
) -> tuple[str, str]:
    """From ``ac``'s redirect to the client's redirect URI: the code, and the URL the browser
    is sent back to."""

    def back(step: str, to: str) -> str | None:
        return _returned_to_client(step, to, redirect_uri, state)

    code = back("esia: ac", location)
    if code is not None:  # a live SSO session
        return code, location
    if "/aas/oauth2/consent" in location:  # a live SSO session, but new data asked for
        return _consent(http, esia_url=esia_url, location=location, back=back)
    login_url = _absolute(esia_url, location)
    rid = _query(login_url).get("rid")
    if not rid:
        raise EsiaJourneyError("esia: ac", f"no login page to go to: {location!r}")
    _expect("esia: login form", http.send("GET", login_url, name="esia: login form"), 200)
    sent = http.send(
        "POST",
        f"{esia_url}/aas/oauth2/login",
        name="esia: login",
        data={"rid": rid, "login": login, "password": password},
    )
    otp_url = _absolute(esia_url, _expect("esia: login", sent, 302).location or "")
    _expect("esia: otp form", http.send("GET", otp_url, name="esia: otp form"), 200)
    sms_code = read_sms(phone or login)
    confirmed = _expect(
        "esia: otp",
        http.send("POST", f"{esia_url}/aas/oauth2/otp", name="esia: otp", data={"rid": rid, "code": sms_code}),
        302,
    )
    code = back("esia: otp", confirmed.location or "")
    if code is None:
        return _consent(http, esia_url=esia_url, location=confirmed.location or "", back=back)
    return code, confirmed.location or ""


#: A signature tool: the DER CMS SignedData (detached) of the bytes it is given.
Sign = Callable[[bytes], bytes]
_CHALLENGE = re.compile(r'<code id="challenge">([^<]+)</code>')


def _signature_login(http: HttpClient, esia_url: str, rid: str, sign: Sign, certificate_pem: str | None) -> str:
    """The signature page: read the challenge, sign it, send it back; the Location ESIA answers
    with (the client, or the consent page)."""
    page = _expect("esia: signature form", http.send(
        "GET", f"{esia_url}/aas/oauth2/signature?rid={rid}", name="esia: signature form"), 200)
    found = _CHALLENGE.search(page.text)
    if found is None:
        raise EsiaJourneyError("esia: signature form", "the page shows no challenge to sign")
    signature = base64.b64encode(sign(html.unescape(found.group(1)).encode())).decode()
    form = {"rid": rid, "signature": signature, "certificate": certificate_pem or ""}
    sent = http.send("POST", f"{esia_url}/aas/oauth2/signature", name="esia: signature", data=form)
    if sent.status != 302 and (alert := _ALERT.search(sent.text)):
        message = html.unescape(alert.group(1))
        raise EsiaJourneyError("esia: signature", f"refused: {message}", status=sent.status,
                               description=message if message.startswith("ESIA-") else None)
    return _expect("esia: signature", sent, 302).location or ""


def sign_in_with_signature(
    http: HttpClient, *, esia_url: str, authorization_url: str, sign: Sign, certificate_pem: str | None = None
) -> str:
    """:func:`sign_in` with an electronic signature instead of the password and code: follow the
    relying party's authorization URL, choose "Электронная подпись", sign the challenge with
    ``sign`` (:func:`scenarios.gost.cms_signer` of a certificate the stand's CA issued) and
    return the URL ESIA sends the browser back to. ``certificate_pem`` is needed only when the
    signature does not carry the certificate. A refusal raises :class:`EsiaJourneyError` whose
    ``esia_code`` is ESIA's (``ESIA-008008`` for a revoked certificate, …)."""
    query = _query(authorization_url)
    redirect_uri, state = query.get("redirect_uri", ""), query.get("state", "")

    def back(step: str, to: str) -> str | None:
        return _returned_to_client(step, to, redirect_uri, state)

    location = _expect("esia: ac", http.send("GET", authorization_url, name="esia: ac"), 302).location or ""
    if back("esia: ac", location) is not None:  # a live SSO session
        return location
    if "/aas/oauth2/consent" not in location:
        rid = _query(_absolute(esia_url, location)).get("rid")
        if not rid:
            raise EsiaJourneyError("esia: ac", f"no login page to go to: {location!r}")
        location = _signature_login(http, esia_url, rid, sign, certificate_pem)
        if back("esia: signature", location) is not None:
            return location
    _, back_to = _consent(http, esia_url=esia_url, location=location, back=back)
    return back_to


def login_with_signature(
    http: HttpClient,
    *,
    esia_url: str,
    rp: RelyingParty,
    sign: Sign,
    scope: str = "openid fullname",
    access_type: str = "online",
    certificate_pem: str | None = None,
) -> TokenSet:
    """The whole journey with an electronic signature: the browser part, then ``te``."""
    params = rp.authorization_params(scope, access_type=access_type)
    back_to = sign_in_with_signature(http, esia_url=esia_url, sign=sign, certificate_pem=certificate_pem,
                                     authorization_url=f"{esia_url}{rp.authorize_path}?{urlencode(params)}")
    return exchange(http, esia_url=esia_url, rp=rp, code=_query(back_to)["code"], scope=scope)


def consent(
    http: HttpClient, *, esia_url: str, rp: RelyingParty, location: str, state: str, decision: str = "allow"
) -> str:
    """ESIA's consent page (shown when the client asks for data the person has not granted it
    yet): read it, then ``allow`` (or ``deny``); returns the code ESIA sends back with."""
    code, _ = _consent(
        http, esia_url=esia_url, location=location, decision=decision,
        back=lambda step, to: _returned_to_client(step, to, rp.redirect_uri, state),
    )
    return code


def _consent(
    http: HttpClient, *, esia_url: str, location: str, back: Callable[[str, str], str | None], decision: str = "allow"
) -> tuple[str, str]:
    """The consent page, then the code and the URL ESIA sends the browser back to."""
    step = "esia: consent"
    if "/aas/oauth2/consent" not in location:
        raise EsiaJourneyError(step, f"not sent back to the client: {location!r}")
    page_url = _absolute(esia_url, location)
    rid = _query(page_url).get("rid", "")
    _expect("esia: consent form", http.send("GET", page_url, name="esia: consent form"), 200)
    answer = _expect(
        step,
        http.send("POST", f"{esia_url}/aas/oauth2/consent", name=step, data={"rid": rid, "decision": decision}),
        302,
    )
    code = back(step, answer.location or "")
    if code is None:
        raise EsiaJourneyError(step, f"not sent back to the client: {answer.location!r}")
    return code, answer.location or ""


def exchange(
    http: HttpClient, *, esia_url: str, rp: RelyingParty, code: str, scope: str = "openid fullname"
) -> TokenSet:
    """The relying party's back end trades the code for tokens at ``te``."""
    form = rp.token_form(code, scope)
    return _token_set("esia: te", http.send("POST", f"{esia_url}{rp.token_path}", name="esia: te", data=form))


def login(
    http: HttpClient,
    *,
    esia_url: str,
    rp: RelyingParty,
    login: str,
    password: str,
    read_sms: Callable[[str], str],
    scope: str = "openid fullname",
    access_type: str = "online",
    phone: str | None = None,
) -> TokenSet:
    """The whole journey: browser login, then the code exchange. ``read_sms(phone)`` returns
    the code the person received (``phone`` defaults to ``login``)."""
    code = authorize(
        http,
        esia_url=esia_url,
        rp=rp,
        login=login,
        password=password,
        read_sms=read_sms,
        scope=scope,
        access_type=access_type,
        phone=phone,
    )
    return exchange(http, esia_url=esia_url, rp=rp, code=code, scope=scope)


def refresh(
    http: HttpClient, *, esia_url: str, rp: RelyingParty, refresh_token: str, scope: str = "openid fullname"
) -> TokenSet:
    """New tokens for a refresh token (which ESIA rotates: the old one stops working)."""
    form = rp.refresh_form(refresh_token, scope)
    return _token_set("esia: refresh", http.send("POST", f"{esia_url}{rp.token_path}", name="esia: refresh", data=form))


@dataclass(frozen=True, kw_only=True)
class OrganisationToken:
    access_token: str
    expires_in: int
    state: str


def organisation_token(http: HttpClient, *, esia_url: str, rp: RelyingParty, scope: str) -> OrganisationToken:
    """``client_credentials``: a token for an organisation's data (no person, no refresh)."""
    form = rp.client_credentials_form(scope)
    answer = _expect(
        "esia: client credentials",
        http.send("POST", f"{esia_url}/aas/oauth2/te", name="esia: client credentials", data=form),
        200,
    )
    body = answer.json()
    return OrganisationToken(access_token=body["access_token"], expires_in=int(body["expires_in"]), state=body["state"])


GOST_ALGORITHM = "GOST3410_2012_256"
_CHECKS: Options = {"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
           "verify_sub": False}  # ESIA writes the OID as a number; lifetimes are checked below


def _gost_claims(name: str, token: str, certificate_pem: bytes | None) -> dict[str, Any]:
    """The claims of a JWT ESIA signed GOST R 34.10-2012-256 (its ``kid`` names the GOST
    certificate ESIA publishes): 64 signature bytes, gost-engine order, base64url."""
    if certificate_pem is None:
        raise EsiaJourneyError(
            "esia: verify",
            f"{name} is signed {GOST_ALGORITHM}: pass ESIA's GOST certificate "
            "(gost_certificate_pem; the mock publishes /_gosstand/esia/cert-gost.pem)",
        )
    head, _, signature = token.rpartition(".")
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except ValueError as exc:
        raise EsiaJourneyError("esia: verify", f"{name} rejected: the signature is not base64url ({exc})") from None
    if not GostCertificate.from_pem(certificate_pem).verify(raw, head.encode()):
        raise EsiaJourneyError("esia: verify", f"{name} rejected: the GOST signature does not verify")
    try:  # signed by ESIA, so only a broken ESIA gets here
        return dict(json.loads(base64.urlsafe_b64decode(head.split(".")[1] + "===")))
    except (ValueError, IndexError) as exc:
        raise EsiaJourneyError("esia: verify", f"{name} rejected: its claims are not JSON ({exc})") from None


def verify_tokens(
    tokens: TokenSet, *, certificate_pem: bytes, issuer: str, now: float, gost_certificate_pem: bytes | None = None
) -> dict[str, Any]:
    """What a careful relying party checks before it trusts a login: ESIA's signature — RS256
    with ESIA's certificate, or GOST R 34.10-2012-256 with its GOST certificate for a client
    whose access tokens ESIA signs so (the id_token is always RS256) — the issuer, the client,
    and the lifetime of both tokens. Returns the id_token's claims; any fault raises
    :class:`EsiaJourneyError` (step ``esia: verify``)."""
    key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    if not isinstance(key, RSAPublicKey):
        raise EsiaJourneyError("esia: verify", "ESIA's certificate for RS256 holds no RSA key")
    claims: dict[str, Any] = {}
    for name, token in (("access_token", tokens.access_token), ("id_token", tokens.id_token)):
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            if algorithm == GOST_ALGORITHM:
                claims = _gost_claims(name, token, gost_certificate_pem)
                if claims.get("iss") != issuer:
                    raise jwt.InvalidIssuerError("Invalid issuer")
            else:
                claims = jwt.decode(token, key, algorithms=["RS256"], issuer=issuer, leeway=5, options=_CHECKS)
        except jwt.InvalidTokenError as exc:
            raise EsiaJourneyError("esia: verify", f"{name} rejected: {exc}") from None
        if not claims["nbf"] - 5 <= now < claims["exp"]:
            raise EsiaJourneyError(
                "esia: verify", f"{name} is not valid now (nbf {claims['nbf']}, exp {claims['exp']})"
            )
    return claims


def person(http: HttpClient, *, esia_url: str, tokens: TokenSet, path: str = "", embed: str | None = None) -> Any:
    """``GET /rs/prns/{oid}{path}`` with the access token (``path`` such as ``/ctts``)."""
    params = {"embed": embed} if embed else None
    answer = http.send(
        "GET",
        f"{esia_url}/rs/prns/{tokens.oid}{path}",
        name="esia: person",
        params=params,
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    )
    return _expect("esia: person", answer, 200).json()


def logout(http: HttpClient, *, esia_url: str, rp: RelyingParty, redirect_url: str | None = None) -> None:
    """End the SSO session; ESIA sends the browser back to ``redirect_url`` (the RP's URI by default)."""
    target = redirect_url or rp.redirect_uri
    answer = http.send(
        "GET",
        f"{esia_url}/idp/ext/Logout",
        name="esia: logout",
        params={"client_id": rp.client_id, "redirect_url": target},
    )
    if _expect("esia: logout", answer, 302).location != target:
        raise EsiaJourneyError("esia: logout", f"sent to {answer.location!r}, not {target!r}")
