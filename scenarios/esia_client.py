"""A reference ESIA relying party: the parameters a client system sends to ``ac`` and ``te``,
with ``client_secret`` signed the way real client libraries sign it — v1 with an RSA or a GOST
certificate, and v2 (``/v2/ac``, ``/v3/te``) with a GOST one.

Independent of the mock's code on purpose (it imports nothing from ``mocks``): it is the
client the mock is tested against, and what a load run or a user's script logs in with.

``client_secret`` is a CMS/PKCS#7 SignedData over ``scope + timestamp + client_id + state``
made by ``cryptography``'s :class:`~cryptography.hazmat.primitives.serialization.pkcs7.PKCS7SignatureBuilder`.
:class:`SecretFormat` reproduces the variants real clients send: detached (default) or
attached content, url-safe (default) or standard base64, padding kept or stripped, with or
without signed attributes.

With a GOST identity (:func:`scenarios.gost.make_gost_identity`) the v1 CMS is made by OpenSSL's
gost engine, and ``protocol="v2"`` switches to v2: a raw 64-byte GOST signature over the v2
strings, base64 url-safe, plus ``client_certificate_hash`` (Streebog-256 of the DER
certificate) and the optional ``scope_org``. ``signature_order="cryptopro"`` sends the raw
signature as CryptoPro CSP hands it out (all 64 bytes reversed) — what a client that forgot
to reverse it sends, which ESIA refuses.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from .gost import GostCertificate, GostKey, cryptopro_to_engine

TIMESTAMP_FORMAT = "%Y.%m.%d %H:%M:%S %z"


@dataclass(frozen=True, kw_only=True)
class SecretFormat:
    """How ``client_secret`` is packed; the defaults are what most clients send."""

    detached: bool = True
    url_safe: bool = True
    strip_padding: bool = False
    signed_attributes: bool = True


def esia_timestamp(epoch: float, *, utc_offset_hours: int = 3) -> str:
    """``yyyy.MM.dd HH:mm:ss Z`` as ESIA wants it, e.g. ``2025.09.02 13:00:29 +0300``."""
    zone = dt.timezone(dt.timedelta(hours=utc_offset_hours))
    return dt.datetime.fromtimestamp(epoch, zone).strftime(TIMESTAMP_FORMAT)


def sign_cms(
    message: bytes, *, certificate: x509.Certificate, private_key: rsa.RSAPrivateKey, fmt: SecretFormat
) -> str:
    """A base64 CMS SignedData of ``message`` (RSA PKCS#1 v1.5, SHA-256), packed per ``fmt``."""
    options = [pkcs7.PKCS7Options.Binary]
    if fmt.detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    if not fmt.signed_attributes:
        options.append(pkcs7.PKCS7Options.NoAttributes)
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(message)
        .add_signer(certificate, private_key, hashes.SHA256())
        .sign(serialization.Encoding.DER, options)
    )
    encoded = (base64.urlsafe_b64encode if fmt.url_safe else base64.b64encode)(der).decode()
    return encoded.rstrip("=") if fmt.strip_padding else encoded


@dataclass
class RelyingParty:
    """A client system registered at ESIA: its mnemonic, redirect URI and signing identity.

    ``clock`` gives the time written into ``timestamp`` (wall clock by default; tests that move
    the mock's clock pass one that follows it)."""

    client_id: str
    redirect_uri: str
    certificate: x509.Certificate | GostCertificate
    private_key: rsa.RSAPrivateKey | GostKey
    secret_format: SecretFormat = field(default_factory=SecretFormat)
    clock: Callable[[], float] = time.time
    #: ``v1`` (``/ac``, ``/te``, CMS) or ``v2`` (``/v2/ac``, ``/v3/te``, raw GOST signature).
    protocol: str = "v1"
    #: v2's optional ``scope_org`` (sent and signed when not ``None``).
    scope_org: str | None = None
    #: ``engine`` (what ESIA reads) or ``cryptopro`` (CryptoPro CSP's reversed bytes, refused).
    signature_order: str = "engine"

    @property
    def certificate_pem(self) -> str:
        if isinstance(self.certificate, GostCertificate):
            return self.certificate.pem
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def authorize_path(self) -> str:
        return "/aas/oauth2/v2/ac" if self.protocol == "v2" else "/aas/oauth2/ac"

    @property
    def token_path(self) -> str:
        return "/aas/oauth2/v3/te" if self.protocol == "v2" else "/aas/oauth2/te"

    def client_secret(self, *, scope: str, timestamp: str, state: str, fmt: SecretFormat | None = None) -> str:
        """v1: CMS over ``scope + timestamp + client_id + state``."""
        message = f"{scope}{timestamp}{self.client_id}{state}".encode()
        fmt = fmt or self.secret_format
        if isinstance(self.private_key, GostKey):
            assert isinstance(self.certificate, GostCertificate)
            der = self.private_key.sign_cms(
                message, self.certificate, detached=fmt.detached, signed_attributes=fmt.signed_attributes
            )
            encoded = (base64.urlsafe_b64encode if fmt.url_safe else base64.b64encode)(der).decode()
            return encoded.rstrip("=") if fmt.strip_padding else encoded
        assert isinstance(self.certificate, x509.Certificate)
        return sign_cms(message, certificate=self.certificate, private_key=self.private_key, fmt=fmt)

    def v2_secret(self, message: str) -> str:
        """v2: the raw GOST signature of ``message``, base64 url-safe."""
        if not isinstance(self.private_key, GostKey):
            raise TypeError("ESIA v2 needs a GOST key (scenarios.gost.make_gost_identity)")
        signature = self.private_key.sign(message.encode())
        if self.signature_order == "cryptopro":
            signature = cryptopro_to_engine(signature)
        return base64.urlsafe_b64encode(signature).decode()

    @property
    def certificate_hash(self) -> str:
        """v2's ``client_certificate_hash``."""
        if not isinstance(self.certificate, GostCertificate):
            raise TypeError("ESIA v2 needs a GOST certificate")
        return self.certificate.streebog_hex

    def _signed(
        self, scope: str, state: str | None, *, code: str | None = None, grant: str | None = None
    ) -> dict[str, str]:
        state = state or str(uuid.uuid4())
        timestamp = esia_timestamp(self.clock())
        params = {
            "client_id": self.client_id,
            "scope": scope,
            "timestamp": timestamp,
            "state": state,
            "redirect_uri": self.redirect_uri,
        }
        if self.protocol != "v2":
            params["client_secret"] = self.client_secret(scope=scope, timestamp=timestamp, state=state)
            return params
        scope_org = "" if grant == "client_credentials" else (self.scope_org or "")
        message = f"{self.client_id}{scope}{scope_org}{timestamp}{state}{self.redirect_uri}{code or ''}"
        params["client_secret"] = self.v2_secret(message)
        params["client_certificate_hash"] = self.certificate_hash
        if self.scope_org is not None and grant != "client_credentials":
            params["scope_org"] = self.scope_org
        return params

    def authorization_params(
        self, scope: str = "openid fullname", *, access_type: str = "online", state: str | None = None
    ) -> dict[str, str]:
        """Query parameters of ``GET /aas/oauth2/ac``."""
        return {**self._signed(scope, state), "response_type": "code", "access_type": access_type}

    def token_form(self, code: str, scope: str = "openid fullname", *, state: str | None = None) -> dict[str, str]:
        """Form of ``POST /aas/oauth2/te`` exchanging an authorization code (new ``state``)."""
        return {
            **self._signed(scope, state, code=code, grant="authorization_code"),
            "grant_type": "authorization_code",
            "code": code,
            "token_type": "Bearer",
        }

    def client_credentials_form(self, scope: str, *, state: str | None = None) -> dict[str, str]:
        """Form of ``POST /aas/oauth2/te`` with ``grant_type=client_credentials``: the client
        system reads an organisation's data itself; ``scope`` names it, e.g.
        ``http://esia.gosuslugi.ru/org_fullname?org_oid=1000000123``."""
        signed = self._signed(scope, state)
        signed.pop("redirect_uri")
        return {**signed, "grant_type": "client_credentials", "token_type": "Bearer"}

    def refresh_form(
        self, refresh_token: str, scope: str = "openid fullname", *, state: str | None = None
    ) -> dict[str, str]:
        """Form of ``POST /aas/oauth2/te`` with ``grant_type=refresh_token``."""
        return {
            **self._signed(scope, state, grant="refresh_token"),
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "token_type": "Bearer",
        }


def make_test_identity(
    common_name: str = "gosstand test client", *, key_size: int = 2048
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A self-signed RSA certificate and its key, for registering a test client system."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "RU"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return certificate, key
