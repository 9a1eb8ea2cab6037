"""A reference ESIA v1 relying party: the parameters a client system sends to ``ac`` and ``te``,
with ``client_secret`` signed the way real client libraries sign it.

Independent of the mock's code on purpose (it imports nothing from ``mocks``): it is the
client the mock is tested against, and what a load run or a user's script logs in with.

``client_secret`` is a CMS/PKCS#7 SignedData over ``scope + timestamp + client_id + state``
made by ``cryptography``'s :class:`~cryptography.hazmat.primitives.serialization.pkcs7.PKCS7SignatureBuilder`.
:class:`SecretFormat` reproduces the variants real clients send: detached (default) or
attached content, url-safe (default) or standard base64, padding kept or stripped, with or
without signed attributes.
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
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey
    secret_format: SecretFormat = field(default_factory=SecretFormat)
    clock: Callable[[], float] = time.time

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def client_secret(
        self, *, scope: str, timestamp: str, state: str, fmt: SecretFormat | None = None
    ) -> str:
        message = f"{scope}{timestamp}{self.client_id}{state}".encode()
        return sign_cms(
            message, certificate=self.certificate, private_key=self.private_key, fmt=fmt or self.secret_format
        )

    def _signed(self, scope: str, state: str | None) -> dict[str, str]:
        state = state or str(uuid.uuid4())
        timestamp = esia_timestamp(self.clock())
        return {
            "client_id": self.client_id,
            "scope": scope,
            "timestamp": timestamp,
            "state": state,
            "client_secret": self.client_secret(scope=scope, timestamp=timestamp, state=state),
            "redirect_uri": self.redirect_uri,
        }

    def authorization_params(
        self, scope: str = "openid fullname", *, access_type: str = "online", state: str | None = None
    ) -> dict[str, str]:
        """Query parameters of ``GET /aas/oauth2/ac``."""
        return {**self._signed(scope, state), "response_type": "code", "access_type": access_type}

    def token_form(
        self, code: str, scope: str = "openid fullname", *, state: str | None = None
    ) -> dict[str, str]:
        """Form of ``POST /aas/oauth2/te`` exchanging an authorization code (new ``state``)."""
        return {
            **self._signed(scope, state),
            "grant_type": "authorization_code",
            "code": code,
            "token_type": "Bearer",
        }

    def refresh_form(
        self, refresh_token: str, scope: str = "openid fullname", *, state: str | None = None
    ) -> dict[str, str]:
        """Form of ``POST /aas/oauth2/te`` with ``grant_type=refresh_token``."""
        return {
            **self._signed(scope, state),
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
