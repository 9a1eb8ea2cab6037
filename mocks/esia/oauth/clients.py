"""Registered client systems (ИС): mnemonic, redirect URIs, certificate, allowed scopes — the
record (:class:`ClientSystem`) and the control API's registration of one. Where they are kept:
:mod:`.client_repository`. The certificate's parsed public key is cached per PEM text in process
memory, which is safe because a PEM never changes meaning.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from ...core.problems import Problem
from ...core.settings import SIGNATURE_MODES, SignatureMode
from ..accounts.levels import LEVELS
from ..crypto.certificates import ClientKey, public_key_of
from ..scopes import ALL_SCOPES

CLIENT_ID = re.compile(r"[A-Z0-9][A-Z0-9_\-]{0,63}")
#: How far a request ``timestamp`` may be from the mock's clock (assumed; ESIA does not publish it).
DEFAULT_TIMESTAMP_TOLERANCE = 300
#: How ESIA signs a client's access tokens (the id_token is always RS256).
TOKEN_ALGORITHMS = ("RS256", "GOST3410_2012_256")


@dataclass(frozen=True, kw_only=True)
class ClientSystem:
    client_id: str
    redirect_uris: tuple[str, ...]
    certificate: str | None
    scopes: frozenset[str]
    #: Overrides the replica's ``signature_mode`` for this client (``None``: use the setting).
    signature_mode: SignatureMode | None = None
    timestamp_tolerance: int = DEFAULT_TIMESTAMP_TOLERANCE
    #: The ``alg`` of this client's access tokens (one of :data:`TOKEN_ALGORITHMS`).
    token_algorithm: str = "RS256"
    #: MR: the ``te`` state must be a new UUID, not the ``ac`` one (real clients often reuse it,
    #: so this is off unless asked for); a reused state is then :data:`~..errors.BAD_PARAMETER`.
    strict_state: bool = False
    #: The least account level a person needs to log in here (else :data:`~..errors.ACCOUNT_LEVEL_TOO_LOW`).
    required_level: str = "simplified"
    #: Organisations this client may read with ``client_credentials`` (``None``: any).
    organisations: tuple[int, ...] | None = None
    #: When the consent page is shown: ``remember`` (until the person has granted these scopes
    #: to this client once), ``always``, or ``never``.
    consent: str = "remember"

    @property
    def public_key(self) -> ClientKey | None:
        return None if self.certificate is None else public_key_of(self.certificate)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["redirect_uris"] = list(self.redirect_uris)
        data["scopes"] = sorted(self.scopes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClientSystem:
        """A stored registration; fields added since it was stored take their defaults."""
        return cls(
            client_id=data["client_id"],
            redirect_uris=tuple(data["redirect_uris"]),
            certificate=data["certificate"],
            scopes=frozenset(data["scopes"]),
            signature_mode=data.get("signature_mode"),
            timestamp_tolerance=int(data.get("timestamp_tolerance", DEFAULT_TIMESTAMP_TOLERANCE)),
            token_algorithm=data.get("token_algorithm", "RS256"),
            strict_state=bool(data.get("strict_state", False)),
            required_level=data.get("required_level", "simplified"),
            organisations=None if data.get("organisations") is None else tuple(data["organisations"]),
            consent=data.get("consent", "remember"),
        )


def _is_redirect_uri(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 2000:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


def client_from_registration(body: dict[str, Any]) -> ClientSystem:
    """Validate a ``POST /_gosstand/control/clients`` body; every fault is a 422 pointer."""
    errors: list[dict[str, str]] = []
    client_id = body.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        errors.append({"pointer": "/client_id", "detail": "a mnemonic of capital Latin letters and digits"})
        client_id = ""  # never used: the errors are raised first
    uris = body.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(_is_redirect_uri(u) for u in uris):
        errors.append({"pointer": "/redirect_uris", "detail": "a non-empty list of absolute http(s) URLs"})
        uris = []
    certificate = body.get("certificate")
    if certificate is not None:
        try:
            if not isinstance(certificate, str):
                raise ValueError("not a string")
            public_key_of(certificate)
        except ValueError as exc:
            errors.append(
                {"pointer": "/certificate", "detail": f"an RSA or GOST R 34.10-2012 certificate in PEM: {exc}"}
            )
    scopes = body.get("scopes", sorted(ALL_SCOPES))
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s in ALL_SCOPES for s in scopes):
        errors.append(
            {"pointer": "/scopes", "detail": f"a list of known scopes: {' '.join(sorted(ALL_SCOPES))}"}
        )
    mode = body.get("signature_mode")
    if mode is not None and mode not in SIGNATURE_MODES:
        errors.append({"pointer": "/signature_mode", "detail": f"one of {', '.join(SIGNATURE_MODES)}"})
    tolerance = body.get("timestamp_tolerance", DEFAULT_TIMESTAMP_TOLERANCE)
    if not isinstance(tolerance, int) or isinstance(tolerance, bool) or not 0 < tolerance <= 86400:
        errors.append({"pointer": "/timestamp_tolerance", "detail": "seconds, 1..86400"})
    algorithm = body.get("token_algorithm", "RS256")
    if algorithm not in TOKEN_ALGORITHMS:
        errors.append({"pointer": "/token_algorithm", "detail": f"one of {', '.join(TOKEN_ALGORITHMS)}"})
    options = _options(body, errors)
    if errors:
        raise Problem(422, "the client registration is invalid", errors=errors)
    return ClientSystem(
        client_id=client_id,
        redirect_uris=tuple(uris),
        certificate=certificate,
        scopes=frozenset(scopes) | {"openid"},
        signature_mode=mode,
        timestamp_tolerance=tolerance,
        token_algorithm=algorithm,
        **options,
    )


CONSENT_MODES = ("remember", "always", "never")


def _options(body: dict[str, Any], errors: list[dict[str, str]]) -> dict[str, Any]:
    """The optional behaviours of a registration: strict state, required level, the
    organisations of client_credentials, the consent page."""
    options: dict[str, Any] = {}
    strict = body.get("strict_state", False)
    if not isinstance(strict, bool):
        errors.append({"pointer": "/strict_state", "detail": "true or false"})
    options["strict_state"] = strict is True
    level = body.get("required_level", "simplified")
    if level not in LEVELS:
        errors.append({"pointer": "/required_level", "detail": f"one of {', '.join(LEVELS)}"})
    options["required_level"] = level if level in LEVELS else "simplified"
    organisations = body.get("organisations")
    if organisations is not None:
        if not isinstance(organisations, list) or len(organisations) > 1000 or not all(
            isinstance(o, int) and not isinstance(o, bool) and 0 < o < 2**53 for o in organisations
        ):
            errors.append({"pointer": "/organisations", "detail": "a list of organisation OIDs"})
            organisations = None
        else:
            organisations = tuple(organisations)
    options["organisations"] = organisations
    consent = body.get("consent", "remember")
    if consent not in CONSENT_MODES:
        errors.append({"pointer": "/consent", "detail": f"one of {', '.join(CONSENT_MODES)}"})
    options["consent"] = consent if consent in CONSENT_MODES else "remember"
    return options
