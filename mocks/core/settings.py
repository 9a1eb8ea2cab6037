"""Settings of one mock replica, read from the environment.

Every replica of a service is a separate process; the stack runner (or a container's
environment) hands each one its settings as ``GOSSTAND_*`` variables, so a replica can be
started by hand, by the stack runner or by Docker with the same code path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NotRequired, TypedDict, Unpack, get_args

from .crash_points import CrashPoint

SERVICES = ("esia", "utko", "fts")

#: The issuer the ESIA test stand writes into its tokens (plain http, trailing slash).
TEST_STAND_ISSUER = "http://esia-portal1.test.gosuslugi.ru/"

#: How ESIA checks a client's signature (a v1 ``client_secret``, a v2 certificate hash):
#: ``strict`` verifies it with the client's registered key, ``structural`` only parses it,
#: ``off`` checks nothing.
SignatureMode = Literal["strict", "structural", "off"]

#: The variable that names the issuer ESIA writes into its tokens, for a replica and for a stack
#: started from a shell alike.
ISSUER_VARIABLE = "GOSSTAND_ESIA_ISSUER"
SIGNATURE_MODES: tuple[SignatureMode, ...] = get_args(SignatureMode)


def parse_signature_mode(value: str) -> SignatureMode:
    """``value`` as a signature mode; :class:`ValueError` naming the modes when it is none."""
    for mode in SIGNATURE_MODES:
        if value == mode:
            return mode
    raise ValueError(f"signature mode must be one of {SIGNATURE_MODES}, not {value!r}")


def configured_issuer(environ: Mapping[str, str] = os.environ) -> str:
    """The ESIA issuer the environment asks for, else the test stand's. A stack reads it when it
    is made, so ``GOSSTAND_ESIA_ISSUER=… gosstand up`` (or ``peak``) reaches every replica instead
    of being overwritten by the default the stack hands each one."""
    issuer = environ.get(ISSUER_VARIABLE, "").strip()
    return parse_issuer(issuer) if issuer else TEST_STAND_ISSUER


def parse_issuer(value: str) -> str:
    """``value`` as an issuer: an absolute http(s) URL, written into tokens exactly as given (a
    relying party compares ``iss`` byte for byte, trailing slash included); :class:`ValueError`
    saying what is wrong otherwise."""
    scheme, _, rest = value.partition("://")
    if scheme not in ("http", "https") or not rest or any(c.isspace() for c in value):
        raise ValueError(f"the ESIA issuer must be an http(s) URL such as {TEST_STAND_ISSUER}, not {value!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class Settings:
    service: str
    replica: str
    state_dir: Path
    #: Where shared state lives: ``sqlite:///path`` (embedded, zero-install) or ``redis://...``.
    store_url: str
    #: Bearer token the control API under ``/_gosstand/control`` requires.
    control_token: str
    #: The address clients use to reach this service; absolute links in responses point here.
    public_url: str = "http://127.0.0.1"
    esia_issuer: str = TEST_STAND_ISSUER
    #: Where browsers find ESIA when the personal accounts of UTKO and FTS send them there to sign
    #: in (:mod:`gosstand.mocks.accounts`); empty: no ESIA to sign in with.
    esia_url: str = ""
    #: Where the replica itself reaches ESIA (the accounts' code exchange, ``/rs``, ESIA's clock) when
    #: that differs from :attr:`esia_url`, which browsers follow: in Compose the browser's
    #: ``127.0.0.1:8000`` is the replica's own container, ESIA is ``haproxy:8000``. Empty: :attr:`esia_url`.
    esia_internal_url: str = ""
    #: Directory with ESIA's signing key and certificate; UTKO and FTS read the certificate
    #: from here to verify access tokens.
    esia_keys_dir: Path = field(default=Path("."))
    #: How ESIA checks a client's signature (:data:`SignatureMode`).
    signature_mode: SignatureMode = "strict"
    #: Whether the hot reads are answered by :mod:`.hot_path` (off only to measure or rule it out).
    hot_path: bool = True
    #: Whether the replica serves ``/metrics`` and times its requests (off only to measure its cost).
    metrics: bool = True
    #: ``"N:GLOB"``: exit right after the Nth store write touching a matching key, to test that
    #: what a killed replica leaves half-done still serves (:mod:`.crash_points`); empty: never.
    crash_after_write: str = ""

    @property
    def esia_server_url(self) -> str:
        """Where this replica sends its own requests to ESIA."""
        return self.esia_internal_url or self.esia_url

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"unknown service {self.service!r}; expected one of {SERVICES}")
        if self.signature_mode not in SIGNATURE_MODES:
            raise ValueError(f"signature mode must be one of {SIGNATURE_MODES}")
        parse_issuer(self.esia_issuer)
        if self.crash_after_write:
            CrashPoint.parse(self.crash_after_write)  # a malformed one fails at start, not at the write

    @classmethod
    def in_state_dir(cls, service: str, replica: str, state_dir: Path, **options: Unpack[ReplicaOptions]) -> Settings:
        """A replica of a local stack: its service's SQLite file and ESIA's keys in ``state_dir``."""
        return cls(service=service, replica=replica, state_dir=state_dir,
                   store_url=f"sqlite:///{state_dir / (service + '.sqlite3')}",
                   esia_keys_dir=state_dir / "esia-keys", **options)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The replica's settings; a :class:`ValueError` naming the variable when one is missing or wrong."""
        missing = [name for name in ("GOSSTAND_SERVICE", "GOSSTAND_CONTROL_TOKEN") if not environ.get(name)]
        if missing:
            raise ValueError(f"{' and '.join(missing)} must be set")
        service = environ["GOSSTAND_SERVICE"]
        state_dir = Path(environ.get("GOSSTAND_STATE_DIR", ".gosstand"))
        return cls(
            service=service,
            replica=environ.get("GOSSTAND_REPLICA", f"{service}-1"),
            state_dir=state_dir,
            store_url=environ.get("GOSSTAND_STORE", f"sqlite:///{state_dir / (service + '.sqlite3')}"),
            control_token=environ["GOSSTAND_CONTROL_TOKEN"],
            public_url=environ.get("GOSSTAND_PUBLIC_URL", "http://127.0.0.1").rstrip("/"),
            esia_issuer=configured_issuer(environ),
            esia_url=environ.get("GOSSTAND_ESIA_URL", "").rstrip("/"),
            esia_internal_url=environ.get("GOSSTAND_ESIA_INTERNAL_URL", "").rstrip("/"),
            esia_keys_dir=Path(environ.get("GOSSTAND_ESIA_KEYS", str(state_dir / "esia-keys"))),
            signature_mode=parse_signature_mode(environ.get("GOSSTAND_SIGNATURE_MODE", "strict")),
            hot_path=environ.get("GOSSTAND_HOT_PATH", "1") not in ("0", "false", "no", "off"),
            metrics=environ.get("GOSSTAND_METRICS", "1") not in ("0", "false", "no", "off"),
            crash_after_write=environ.get("GOSSTAND_CRASH_AFTER_WRITE", ""),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes :meth:`from_env` rebuild these settings in a child process
        (a crash point only when one is set, so one given in the parent's environment reaches
        the replica started next)."""
        crash = {"GOSSTAND_CRASH_AFTER_WRITE": self.crash_after_write} if self.crash_after_write else {}
        return crash | {
            "GOSSTAND_SERVICE": self.service,
            "GOSSTAND_REPLICA": self.replica,
            "GOSSTAND_STATE_DIR": str(self.state_dir),
            "GOSSTAND_STORE": self.store_url,
            "GOSSTAND_CONTROL_TOKEN": self.control_token,
            "GOSSTAND_PUBLIC_URL": self.public_url,
            ISSUER_VARIABLE: self.esia_issuer,
            "GOSSTAND_ESIA_URL": self.esia_url,
            "GOSSTAND_ESIA_INTERNAL_URL": self.esia_internal_url,
            "GOSSTAND_ESIA_KEYS": str(self.esia_keys_dir),
            "GOSSTAND_SIGNATURE_MODE": self.signature_mode,
            "GOSSTAND_HOT_PATH": "1" if self.hot_path else "0",
            "GOSSTAND_METRICS": "1" if self.metrics else "0",
        }


class ReplicaOptions(TypedDict):
    """The settings :meth:`Settings.in_state_dir` passes through as they are (mypy checks each
    against the field of the same name)."""

    control_token: str
    public_url: NotRequired[str]
    esia_issuer: NotRequired[str]
    esia_url: NotRequired[str]
    esia_internal_url: NotRequired[str]
    signature_mode: NotRequired[SignatureMode]
    hot_path: NotRequired[bool]
    metrics: NotRequired[bool]
    crash_after_write: NotRequired[str]
