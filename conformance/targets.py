"""What the conformance suite tests: the built-in mock stack, or any deployment given by URLs.

A :class:`Target` is a set of base URLs (one per service: ``esia``, ``utko``, ``fts``) plus what
the suite may use to drive it:

- ``control_token`` — the target exposes the gosstand control API (``/_gosstand/control``): the
  suite registers its own ESIA client system, seeds users and logs in for real;
- ``access_token`` — a target without the control API: a ready ESIA access token for UTKO/FTS;
- ``stack`` — the stack the suite started itself (closed at the end of the session): the
  embedded one (processes on loopback) or, with ``containers``, the container stack (replicas in
  Docker behind HAProxy, state in Redis; the images are built or reused on first use).

Options come from the pytest command line or, for CI, from environment variables
(:data:`ENVIRONMENT`). This module imports nothing heavy at import time: the plugin that uses it
loads in every pytest run of the project.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gosstand.scenarios.control import StackControl
    from gosstand.stand.protocol import ReplicatedStack, StackFactory

    from .suite_esia import SuiteEsia

__all__ = [
    "ENVIRONMENT",
    "SERVICES",
    "Target",
    "TargetOptions",
    "TargetUnavailable",
    "EsiaSession",
    "log_in",
    "close_target",
    "open_target",
]

SERVICES = ("esia", "utko", "fts")
TARGET_KINDS = ("embedded", "containers", "urls")
#: Kinds whose stack the suite starts itself.
STACK_KINDS = ("embedded", "containers")
DEFAULT_REPLICAS = 2
DEFAULT_CONTRACT_EXAMPLES = 20

#: Option name → environment variable that sets it when the command line does not.
ENVIRONMENT: dict[str, str] = {
    "target": "GOSSTAND_TARGET",
    "esia_url": "GOSSTAND_ESIA_URL",
    "utko_url": "GOSSTAND_UTKO_URL",
    "fts_url": "GOSSTAND_FTS_URL",
    "control_token": "GOSSTAND_CONTROL_TOKEN",
    "access_token": "GOSSTAND_ACCESS_TOKEN",
    "replicas": "GOSSTAND_REPLICAS",
    "contract_examples": "GOSSTAND_CONTRACT_EXAMPLES",
}

#: The contracts in this repository, used for targets that do not serve their own.
CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "mocks"


class TargetUnavailable(Exception):
    """The target cannot do what a test needs (no URL for a service, no control API, no token).
    Tests turn it into a skip that names the option to set."""


@dataclass(frozen=True, kw_only=True)
class TargetOptions:
    """The suite's settings, from the command line or the environment."""

    kind: str = "embedded"
    urls: Mapping[str, str] = field(default_factory=dict)
    control_token: str | None = None
    access_token: str | None = None
    replicas: int = DEFAULT_REPLICAS
    contract_examples: int = DEFAULT_CONTRACT_EXAMPLES

    def __post_init__(self) -> None:
        if self.kind not in TARGET_KINDS:
            raise ValueError(f"--gosstand-target must be one of {', '.join(TARGET_KINDS)}, not {self.kind!r}")
        if self.replicas < 1:
            raise ValueError("--gosstand-replicas must be at least 1")
        if self.contract_examples < 1:
            raise ValueError("--contract-examples must be at least 1")
        if self.kind == "urls" and not self.urls:
            raise ValueError("--gosstand-target urls needs at least one of --esia-url, --utko-url, --fts-url")

    @classmethod
    def from_values(cls, values: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> TargetOptions:
        """Build from option values (``None`` = not given), falling back on :data:`ENVIRONMENT`.
        Giving any service URL without ``target`` means ``urls``."""

        def pick(name: str) -> Any:
            value = values.get(name)
            return value if value not in (None, "") else (environ.get(ENVIRONMENT[name]) or None)

        urls = {s: str(pick(f"{s}_url")).rstrip("/") for s in SERVICES if pick(f"{s}_url")}
        kind = pick("target") or ("urls" if urls else "embedded")
        replicas = pick("replicas")
        examples = pick("contract_examples")
        return cls(
            kind=kind,
            urls=urls if kind == "urls" else {},
            control_token=pick("control_token") if kind == "urls" else None,
            access_token=pick("access_token"),
            replicas=int(replicas) if replicas is not None else DEFAULT_REPLICAS,
            contract_examples=int(examples) if examples is not None else DEFAULT_CONTRACT_EXAMPLES,
        )


@dataclass(frozen=True, kw_only=True)
class Target:
    """A running system under test."""

    kind: str
    urls: Mapping[str, str]
    control_token: str | None = None
    access_token: str | None = None
    stack: ReplicatedStack | None = None

    def has(self, service: str) -> bool:
        return service in self.urls

    def url(self, service: str) -> str:
        """Base URL of ``service``, or :class:`TargetUnavailable` naming the option to set."""
        if service not in self.urls:
            raise TargetUnavailable(f"no {service} URL for this target: pass --{service}-url "
                                    f"(or {ENVIRONMENT[service + '_url']})")
        return self.urls[service]

    @property
    def serves_own_contracts(self) -> bool:
        """gosstand mocks serve their contract at ``/_gosstand/openapi.yaml``; other systems are
        tested against the repository's documents."""
        return self.kind in STACK_KINDS or self.control_token is not None

    def contract_location(self, service: str) -> str:
        """Where to load ``service``'s OpenAPI document from: a URL or a file path."""
        if self.serves_own_contracts:
            return f"{self.url(service)}/_gosstand/openapi.yaml"
        return str(CONTRACTS_DIR / service / "openapi.yaml")

    def control(self) -> StackControl:
        """A client of the control API, or :class:`TargetUnavailable` if the target has none."""
        if self.control_token is None:
            raise TargetUnavailable("this target exposes no gosstand control API: pass --control-token "
                                    f"(or {ENVIRONMENT['control_token']}) if it does")
        from gosstand.scenarios.control import StackControl

        return StackControl(self.urls, self.control_token)


def open_target(options: TargetOptions) -> Target:
    """The target the options describe; ``embedded`` starts the mock stack (seconds),
    ``containers`` the container stack (seconds with built images; the first build takes minutes).
    Raises :class:`TargetUnavailable` when ``containers`` is asked for and no Docker daemon answers."""
    if options.kind == "urls":
        return Target(kind="urls", urls=dict(options.urls), control_token=options.control_token,
                      access_token=options.access_token)
    stack = _stack_factory(options.kind)(replicas=options.replicas).start()
    return Target(kind=options.kind, urls=dict(stack.urls), control_token=stack.control_token,
                  access_token=options.access_token, stack=stack)


def _stack_factory(kind: str) -> StackFactory:
    """The stack class of an ``embedded`` or ``containers`` target; the stand is imported only
    here, when the suite starts a stack, not whenever pytest loads the plugin."""
    from gosstand.stand.backends import stack_factory

    if kind == "containers":
        from gosstand.stand.containers import docker_unavailable_reason

        reason = docker_unavailable_reason()
        if reason is not None:
            raise TargetUnavailable(f"--gosstand-target containers: {reason}")
        return stack_factory("containers")
    return stack_factory("embedded")


def close_target(target: Target) -> None:
    """Stop what :func:`open_target` started (nothing for a ``urls`` target)."""
    if target.stack is not None:
        target.stack.close()


# ---------------------------------------------------------------------------------------------
# An ESIA session for the suite
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class EsiaSession:
    """A logged-in test person. ``oid``, ``person`` and the login's other tokens are known only
    when the suite seeded the person itself (targets with a control API)."""

    access_token: str
    oid: int | None = None
    person: Mapping[str, Any] | None = None
    id_token: str | None = None
    refresh_token: str | None = None


def log_in(target: Target, esia: SuiteEsia | None = None) -> EsiaSession:
    """A real ESIA login on a target with a control API (the suite's client, a fresh person who
    works for the reference organisations, the password + SMS journey:
    :class:`~.suite_esia.SuiteEsia`), else the given ``--access-token`` — which must then act for
    the reference organisations (``conformance/reference_requests.py``) for the tests that file."""
    if target.control_token is None or not target.has("esia"):
        if target.access_token:
            return EsiaSession(access_token=target.access_token)
        raise TargetUnavailable("no way to obtain an ESIA access token: this target has no control API "
                                f"and no --access-token (or {ENVIRONMENT['access_token']}) was given")
    from .suite_esia import SuiteEsia

    esia = esia or SuiteEsia(target)
    person = esia.seed_person()
    esia.employ_in_reference_organisations(person)
    tokens = esia.log_in(person)
    return EsiaSession(access_token=tokens.access_token, oid=person.oid, person=person.record,
                       id_token=tokens.id_token, refresh_token=tokens.refresh_token)
