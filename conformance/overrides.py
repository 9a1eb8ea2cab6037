"""Per-operation schemathesis settings, each scoped to one operation: nothing else is relaxed.

Each names its operation by ``include-name`` (method and path in one filter): schemathesis
matches an operation that meets *any* of an entry's include filters, so an ``include-path``
beside an ``include-method`` would relax every operation of that method as well.

ESIA's v2 token exchange (``POST /aas/oauth2/v3/te``) answers an unknown client, a wrong
certificate hash or a wrong raw signature with 400 ``invalid_client`` (ESIA-007002 /
ESIA-007053), as the real ESIA does and its contract declares. Schema-valid random data can never
carry a valid GOST signature of a registered client, so the positive-data check (ST202) accepts
that declared 400 for this one operation.

FTS judges an uploaded document (``POST /api/v1/declarations/{id}/documents``, multipart) by
its bytes: a PDF, JPEG, PNG or well-formed XML, with a detached signature that matches it. A
``format: binary`` part cannot say so, and schemathesis fills it with a sample image of its own
(a GIF), so the positive-data check also accepts the declared 415 (not a kind FTS takes) and
422 (a signature or XML problem) for that operation.

UTKO's ``PUT`` and ``DELETE /v1/objects/{id}`` take ``If-Match``: any well-formed tag is
schema-valid, but only the object's current version is accepted, so a stateful run that reaches
a real object with a generated tag gets the declared 412 — the answer optimistic concurrency
owes it.

UTKO's object list (``GET /v1/objects``) without ``operatorInn`` lists the objects of the one
organisation the caller acts for; a caller acting for several (the suite's person works for two)
must name one, and a schema-valid request that names none gets the declared 400 saying so.

For every operation, a 413 counts as refusing schema-violating data (:data:`REJECTIONS`). Every
other check, and every other operation, is as schemathesis ships it. Shared by the conformance
suite (in-process and on the schemathesis command line) and the in-process contract tests.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.config._checks import NegativeDataRejectionConfig

#: schemathesis' default positive-data statuses plus the 400 ESIA uses for client errors.
_ESIA_CLIENT_ERROR_ACCEPTED = ["2XX", "3XX", "400", "401", "403", "404", "409", "429", "5XX"]

#: schemathesis' default positive-data statuses plus FTS's answers to a file of the wrong kind.
_FTS_DOCUMENT_JUDGED_ACCEPTED = ["2XX", "3XX", "401", "403", "404", "409", "415", "422", "429", "5XX"]

#: schemathesis' default positive-data statuses plus the 412 a stale If-Match earns.
_UTKO_VERSION_CHECKED_ACCEPTED = ["2XX", "3XX", "401", "403", "404", "409", "412", "429", "5XX"]

#: schemathesis' default positive-data statuses plus the 400 of a list that must name its operator.
_UTKO_OPERATOR_NAMED_ACCEPTED = ["2XX", "3XX", "400", "401", "403", "404", "409", "429", "5XX"]

OPERATION_OVERRIDES: dict[str, list[dict[str, Any]]] = {
    "utko": [
        {
            "include-name": "GET /v1/objects",
            "checks": {"positive_data_acceptance": {"expected-statuses": _UTKO_OPERATOR_NAMED_ACCEPTED}},
        },
        *[{
            "include-name": f"{method} /v1/objects/{{id}}",
            "checks": {"positive_data_acceptance": {"expected-statuses": _UTKO_VERSION_CHECKED_ACCEPTED}},
        } for method in ("PUT", "DELETE")],
    ],
    "fts": [
        {
            "include-name": "POST /api/v1/declarations/{id}/documents",
            "checks": {"positive_data_acceptance": {"expected-statuses": _FTS_DOCUMENT_JUDGED_ACCEPTED}},
        }
    ],
    "esia": [
        {
            "include-name": "POST /aas/oauth2/v3/te",
            "checks": {"positive_data_acceptance": {"expected-statuses": _ESIA_CLIENT_ERROR_ACCEPTED}},
        }
    ],
}


#: What counts as refusing schema-violating data: schemathesis's own list, and 413 — an invalid
#: body over a route's body limit is refused before it is read (problem+json), which is a refusal
#: too (a clean-clone CI run drew one over 1 MiB and the check called the 413 an acceptance).
REJECTIONS = [*NegativeDataRejectionConfig._DEFAULT_EXPECTED_STATUSES, "413"]

#: The settings of every operation of every service: the in-process tests and the command line
#: read this one table, so the two runs judge answers alike.
CHECKS: dict[str, dict[str, Any]] = {"negative_data_rejection": {"expected-statuses": REJECTIONS}}


def contract_settings(service: str) -> dict[str, Any]:
    """``service``'s schemathesis settings as a config mapping: :data:`CHECKS` for every
    operation, the per-operation overrides for theirs."""
    return {"checks": CHECKS, "operations": OPERATION_OVERRIDES.get(service, [])}


def contract_config(service: str) -> schemathesis.Config:
    """An explicit config (a stray schemathesis.toml in a parent directory must not steer the
    run) carrying ``service``'s settings."""
    return schemathesis.Config.from_dict(contract_settings(service))


def contract_config_toml(service: str) -> str:
    """The same settings as a ``schemathesis.toml``, for the schemathesis command line.

    Written as dotted keys whose values are JSON strings and lists of strings, which TOML reads
    alike; the top-level checks come before the first ``[[operations]]`` table, as TOML wants."""
    settings = contract_settings(service)
    lines = _dotted_lines({"checks": settings["checks"]}) + [""]
    for operation in settings["operations"]:
        lines += ["[[operations]]", *_dotted_lines(operation), ""]
    return "\n".join(lines)


def _dotted_lines(table: dict[str, Any], prefix: str = "") -> list[str]:
    """``a.b.c = value`` for each leaf of a nested mapping (keys are bare TOML keys)."""
    lines: list[str] = []
    for key, value in table.items():
        if isinstance(value, dict):
            lines += _dotted_lines(value, f"{prefix}{key}.")
        else:
            lines.append(f"{prefix}{key} = {json.dumps(value)}")
    return lines
