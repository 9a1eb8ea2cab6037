"""The operations a contract protects with the ESIA bearer token, read from the contract itself.

An operation is protected when its security requirement (its own, else the document's) names the
``esiaBearer`` scheme; the scopes it needs are that requirement's list (OpenAPI 3.1 allows a list
of role names for an ``http`` scheme): ``[openid]`` to read, ``[openid, usr_org]`` to write. An
operation whose requirement is empty (``security: []``, REO's weight-control import, which an
access key opens) is not. So an operation added to a contract is covered by the authentication
rules without touching the suite.

For each one the suite sends a plausible request: path parameters are fresh UUIDs (an id nobody
holds — a target must refuse the token before it looks anything up), required query parameters
and headers carry a value of their schema, a body is an empty JSON object. The token is the only
thing the rules vary.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

__all__ = ["BEARER_SCHEME", "ProtectedOperation", "contract_document", "protected_operations"]

BEARER_SCHEME = "esiaBearer"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
#: Values for formats whose examples must pass real checks (a valid INN, KPP…), not just their shape.
_FORMAT_VALUES: dict[str, str] = {
    "inn": "7707083893",
    "kpp": "773601001",
    "ogrn": "1027700132195",
}
CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "mocks"


@dataclass(frozen=True, kw_only=True)
class ProtectedOperation:
    """One operation the bearer token guards, and what its request needs besides the token."""

    service: str
    operation_id: str
    method: str
    path: str
    scopes: tuple[str, ...]
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    takes_body: bool = False

    def __str__(self) -> str:
        return f"{self.service} {self.operation_id} ({self.method} {self.path})"

    def send(self, http: httpx.Client, base_url: str, authorization: str | None) -> httpx.Response:
        """The operation's request with ``Authorization: <authorization>`` (none if ``None``);
        path parameters are fresh UUIDs, so a target that skipped the token check answers 404,
        not 2xx — the rule still sees it was not refused."""
        path = self.path
        while "{" in path:
            head, _, rest = path.partition("{")
            path = f"{head}{uuid.uuid4()}{rest.partition('}')[2]}"
        headers = {name: (str(uuid.uuid4()) if value == "<uuid>" else value) for name, value in self.headers.items()}
        if authorization is not None:
            headers["Authorization"] = authorization
        return http.request(self.method, f"{base_url}{path}", params=dict(self.query), headers=headers,
                            json={} if self.takes_body else None)


def contract_document(service: str) -> dict[str, Any]:
    """The repository's contract of ``service`` (the one a real implementation is held to)."""
    with open(CONTRACTS_DIR / service / "openapi.yaml", encoding="utf-8") as stream:
        document = yaml.safe_load(stream)
    if not isinstance(document, dict):
        raise ValueError(f"{service}'s contract is not an OpenAPI document")
    return document


def protected_operations(service: str, document: Mapping[str, Any]) -> list[ProtectedOperation]:
    """Every operation of ``document`` that needs the ESIA bearer, in the document's order."""
    found = []
    default_security = document.get("security", [])
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            scopes = _bearer_scopes(operation.get("security", default_security))
            if scopes is None:
                continue
            query: dict[str, str] = {}
            headers: dict[str, str] = {}
            for parameter in [*shared, *operation.get("parameters", [])]:
                parameter = _resolved(document, parameter)
                if not parameter.get("required") or parameter.get("in") not in ("query", "header"):
                    continue
                value = _sample(document, parameter.get("schema", {}))
                (query if parameter["in"] == "query" else headers)[parameter["name"]] = value
            found.append(ProtectedOperation(
                service=service, operation_id=operation.get("operationId", f"{method} {path}"),
                method=method.upper(), path=path, scopes=scopes, query=query, headers=headers,
                takes_body="requestBody" in operation,
            ))
    return found


def _bearer_scopes(requirements: list[Mapping[str, list[str]]]) -> tuple[str, ...] | None:
    """The scopes of the first requirement naming the bearer scheme; ``None``: not protected by it."""
    for requirement in requirements:
        if BEARER_SCHEME in requirement:
            return tuple(requirement[BEARER_SCHEME])
    return None


def _resolved(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """``node`` with a local ``$ref`` followed (to the depth a contract uses)."""
    for _ in range(8):
        reference = node.get("$ref")
        if not isinstance(reference, str) or not reference.startswith("#/"):
            return node
        target: Any = document
        for part in reference[2:].split("/"):
            target = target[part]
        node = target
    raise ValueError("a $ref chain deeper than 8")


def _sample(document: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    """A value of ``schema`` as a query or header string: its example, enum, default, or one
    made for its format. A header value ``<uuid>`` is replaced by a fresh UUID per request."""
    schema = _resolved(document, schema)
    for source in (schema.get("examples"), schema.get("enum")):
        if isinstance(source, list) and source:
            return str(source[0])
    for name in ("example", "default"):
        if name in schema:
            return str(schema[name])
    kind = schema.get("format")
    if kind in _FORMAT_VALUES:
        return _FORMAT_VALUES[kind]
    if kind == "date":
        return dt.datetime.now(dt.UTC).date().isoformat()
    if kind == "uuid":
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return str(schema.get("minimum", 1))
    return "<uuid>"
