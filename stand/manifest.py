"""``stack.json``: the manifest a running stack writes so other processes can reach and fail it.

A Locust process, an SRE's shell or a test reads it to find the services' URLs, the control
token and each replica — a process group (embedded) or a container (containers). It holds the
control token, so it is written readable by its owner only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Self

__all__ = ["MANIFEST_NAME", "Backend", "ManifestError", "ReplicaEntry", "StackManifest"]

MANIFEST_NAME = "stack.json"
Backend = Literal["embedded", "containers", "external"]


class ManifestError(ValueError):
    """A manifest that cannot be read, or that names no such service or replica."""


@dataclass(frozen=True, kw_only=True)
class ReplicaEntry:
    """One replica: ``esia-1``, with its process group (embedded) or container (containers)."""

    name: str
    pid: int | None = None
    container: str | None = None
    #: The replica's own URL, where something balances the service URL over its replicas
    #: (HAProxy, or the TCP fault layer).
    url: str | None = None
    alive: bool = True
    status: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        return cls(name=str(raw["name"]), pid=raw.get("pid"), container=raw.get("container"), url=raw.get("url"),
                   alive=bool(raw.get("alive", True)), status=raw.get("status"))


@dataclass(frozen=True, kw_only=True)
class StackManifest:
    backend: Backend
    urls: dict[str, str]
    control_token: str
    state_dir: str | None = None
    replicas: dict[str, list[ReplicaEntry]] = field(default_factory=dict)
    #: Containers only: the stack's label, its Redis URL and the images it runs.
    stack_id: str | None = None
    store: str | None = None
    images: dict[str, Any] | None = None
    #: The TCP fault layer's control socket, when the stack runs one (``blackhole``, ``reset``,
    #: ``partition`` can then be done to its replicas).
    tcp_faults: str | None = None
    #: The issuer ESIA's replicas write into tokens (``None``: a manifest from before it was kept).
    esia_issuer: str | None = None

    def replica(self, service: str, index: int) -> ReplicaEntry:
        """Replica ``index`` (1-based) of ``service``, or a :class:`ManifestError` naming what exists."""
        if service not in self.replicas:
            raise ManifestError(f"the stack has no service {service!r}; it has {', '.join(sorted(self.replicas))}")
        members = self.replicas[service]
        if not 1 <= index <= len(members):
            raise ManifestError(f"{service} has {len(members)} replica(s), numbered 1..{len(members)}; not {index}")
        return members[index - 1]

    def replica_count(self, service: str) -> int:
        return len(self.replicas.get(service, ()))

    def with_urls(self, urls: Mapping[str, str]) -> StackManifest:
        """The same stack with some services' traffic sent elsewhere (``--target fts=URL``)."""
        return replace(self, urls={**self.urls, **urls})

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "backend": self.backend, "urls": dict(self.urls), "control_token": self.control_token,
            "state_dir": self.state_dir,
            "replicas": {service: [r.to_json() for r in members] for service, members in self.replicas.items()},
        }
        for optional in ("stack_id", "store", "images", "tcp_faults", "esia_issuer"):
            if getattr(self, optional) is not None:
                raw[optional] = getattr(self, optional)
        return raw

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        try:
            return cls(
                backend=raw.get("backend", "external"), urls={str(k): str(v) for k, v in raw["urls"].items()},
                control_token=str(raw["control_token"]), state_dir=raw.get("state_dir"),
                replicas={str(service): [ReplicaEntry.from_json(r) for r in members]
                          for service, members in (raw.get("replicas") or {}).items()},
                stack_id=raw.get("stack_id"), store=raw.get("store"), images=raw.get("images"),
                tcp_faults=raw.get("tcp_faults"), esia_issuer=raw.get("esia_issuer"),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ManifestError(f"not a stack manifest: {exc!r}") from None

    @classmethod
    def load(cls, path: str | Path) -> Self:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{path}: not JSON ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise ManifestError(f"{path}: expected a JSON object")
        return cls.from_json(raw)

    def write(self, path: str | Path) -> Path:
        """Write atomically, owner-only (it holds the control token), whoever made the folder."""
        path = Path(path)
        scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, indent=2)
        os.chmod(scratch, 0o600)
        os.replace(scratch, path)
        return path
