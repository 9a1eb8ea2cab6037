"""Per-operation schemathesis settings, scoped by path: nothing else is relaxed.

ESIA's v2 token exchange (``POST /aas/oauth2/v3/te``) answers an unknown client, a wrong
certificate hash or a wrong raw signature with 400 ``invalid_client`` (ESIA-007002 /
ESIA-007053), as the real ESIA does and its contract declares. Schema-valid random data can never
carry a valid GOST signature of a registered client, so the positive-data check (ST202) accepts
that declared 400 for this one operation; every other check, and every other operation, is as
schemathesis ships it. Shared by the conformance suite and the in-process contract tests.
"""

from __future__ import annotations

from typing import Any

import schemathesis

#: schemathesis' default positive-data statuses plus the 400 ESIA uses for client errors.
_ESIA_CLIENT_ERROR_ACCEPTED = ["2XX", "3XX", "400", "401", "403", "404", "409", "429", "5XX"]

OPERATION_OVERRIDES: dict[str, list[dict[str, Any]]] = {
    "esia": [
        {
            "include-path": "/aas/oauth2/v3/te",
            "include-method": "POST",
            "checks": {"positive_data_acceptance": {"expected-statuses": _ESIA_CLIENT_ERROR_ACCEPTED}},
        }
    ],
}


def contract_config(service: str) -> schemathesis.Config:
    """An explicit config (a stray schemathesis.toml in a parent directory must not steer the
    run) carrying only ``service``'s per-operation overrides."""
    return schemathesis.Config.from_dict({"operations": OPERATION_OVERRIDES.get(service, [])})
