"""What every stack is: the life cycle the embedded, container and in-process stacks share, and the
failover API of the two that run replicas.

Callers that do not care which backend they hold — ``gosstand up``, the ``peak`` job, the
conformance suite — are typed against these protocols, not against a union of classes, so a
method one backend grows or renames is a type error where it is used, not a surprise at run time.

Two levels, because the in-process stack has no replica to fail: its services run inside the
calling process, so killing one would kill the test. It answers at ``urls`` with a control token
and starts and stops like the others (:class:`Stack`); the embedded and container stacks add the
replica actions and the manifest another process reads to act on them (:class:`ReplicatedStack`).

mypy holds the implementations to these protocols: the embedded and container classes wherever
they are used as a :class:`StackFactory` (:func:`.backends.stack_factory` returns each as one, so
their constructors and their instances are checked), the in-process one by an assignment at the
end of :mod:`.inprocess`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, Self

from ..mocks.core.settings import SignatureMode
from .actions import Evidence, ReplicaAction
from .manifest import StackManifest

__all__ = ["ReplicatedStack", "Stack", "StackError", "StackFactory", "new_control_token"]


def new_control_token() -> str:
    """A stack's control token when none is given: 192 random bits in hex. Not
    ``token_urlsafe``, whose text starts with ``-`` one time in 64 — and ``--control-token
    -x…`` on a command line is read as a missing value and a second option (``gosstand up``
    refused such a token with exit 2, and a benchmark that passed one died)."""
    return secrets.token_hex(24)


class StackError(RuntimeError):
    """The stack could not start (a replica died, a port never answered)."""


class Stack(Protocol):
    """The mocks, started and answering: each service's base URL and the control API's token."""

    @property
    def urls(self) -> Mapping[str, str]:
        """Each service's base URL (``esia``, ``utko``, ``fts``)."""
        ...

    @property
    def control_token(self) -> str:
        """The bearer token of ``/_gosstand/control`` on every service."""
        ...

    def start(self) -> Self:
        """Start every service and return once each answers; :class:`StackError` if one cannot."""
        ...

    def close(self) -> None:
        """Stop everything the stack started and remove the state it owns."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...


class ReplicatedStack(Stack, Protocol):
    """A stack of replicas that can be failed: by this object, or by another process through the
    manifest it writes."""

    def act(self, service: str, index: int, action: ReplicaAction) -> Evidence:
        """Do ``action`` to replica ``index`` (1-based) of ``service``; what was seen of it after."""
        ...

    def kill(self, service: str, index: int) -> None:
        """A hard crash of one replica (``act`` with :attr:`ReplicaAction.KILL`)."""
        ...

    def restart(self, service: str, index: int) -> None:
        """Start one replica again from any state and return once it serves."""
        ...

    def manifest(self) -> StackManifest:
        """The stack as another process sees it: URLs, token, each replica and its state."""
        ...

    def write_manifest(self) -> Path:
        """Write :meth:`manifest` to ``stack.json`` in the stack's state directory; its path."""
        ...


class StackFactory(Protocol):
    """A backend's stack class, as the callers construct it (every argument has a default)."""

    def __call__(self, *, replicas: int | Mapping[str, int] = ..., state_dir: Path | None = ...,
                 ports: Mapping[str, int] = ..., control_token: str = ..., signature_mode: SignatureMode = ...,
                 tcp_faults: bool = ..., esia_issuer: str = ..., host: str = ...) -> ReplicatedStack: ...
