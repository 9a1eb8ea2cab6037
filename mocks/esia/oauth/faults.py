"""Failure switches per client system or per person, set through the control API, so a test
can make ESIA fail the way a relying party must survive:

- ``expired_tokens`` — tokens are issued already expired (``/rs`` answers :data:`~..errors.TOKEN_EXPIRED`);
- ``wrong_issuer`` — tokens carry another ``iss`` (:data:`WRONG_ISSUER`);
- ``tampered_signature`` — a byte of the tokens' signatures is changed;
- ``overload`` — :data:`~..errors.UNAVAILABLE` (``ac`` by redirect, ``te`` 503);
- ``deny_consent`` — :data:`~..errors.DENIED`, as if the person refused.

Switches live in the store (``esia:faults:client:<id>``, ``esia:faults:user:<oid>``) so every
replica obeys them; ``for_seconds`` ends them on the mock's clock. A person's switches apply to
whichever client they log in to, a client's to every person.
"""

from __future__ import annotations

import json
from typing import Any

from ...core.problems import Problem
from ...core.store import Store

FAULTS = ("expired_tokens", "wrong_issuer", "tampered_signature", "overload", "deny_consent")
WRONG_ISSUER = "http://esia.gosuslugi.invalid/"


def _key(kind: str, ident: str | int) -> str:
    return f"esia:faults:{kind}:{ident}"


def plan_faults(body: Any) -> tuple[dict[str, bool], float | None]:
    """``{"expired_tokens": true, "overload": false, "for_seconds": 60}`` → (switches, seconds)."""
    if not isinstance(body, dict) or not body:
        raise Problem(422, "faults must be an object", errors=[{"pointer": "/faults", "detail": "an object"}])
    errors = []
    switches: dict[str, bool] = {}
    seconds = body.get("for_seconds")
    for name, value in body.items():
        if name == "for_seconds":
            continue
        if name not in FAULTS:
            errors.append({"pointer": f"/faults/{name[:40]}", "detail": f"one of {', '.join(FAULTS)}"})
        elif not isinstance(value, bool):
            errors.append({"pointer": f"/faults/{name}", "detail": "true or false"})
        else:
            switches[name] = value
    if seconds is not None and (
        not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 < seconds <= 10**7
    ):
        errors.append({"pointer": "/faults/for_seconds", "detail": "seconds, 0 < n <= 10^7"})
    if errors:
        raise Problem(422, "the faults are invalid", errors=errors)
    return switches, seconds


async def set_faults(store: Store, kind: str, ident: str | int, body: Any, *, now: float) -> dict[str, Any]:
    """Merge switches into those already on; returns ``{"faults": [...], "until": …}``."""
    switches, seconds = plan_faults(body)
    current = await _read(store, _key(kind, ident), now=now)
    on = (current | {n for n, v in switches.items() if v}) - {n for n, v in switches.items() if not v}
    record = {"faults": sorted(on), "until": None if seconds is None else now + seconds}
    await store.set(_key(kind, ident), json.dumps(record))
    return record


async def _read(store: Store, key: str, *, now: float) -> set[str]:
    raw = await store.get(key)
    return _live(raw, now)


def _live(raw: str | None, now: float) -> set[str]:
    if raw is None:
        return set()
    record = json.loads(raw)
    if record["until"] is not None and now >= record["until"]:
        return set()
    return set(record["faults"])


async def active_faults(
    store: Store, *, client_id: str | None = None, oid: int | None = None, now: float
) -> frozenset[str]:
    """The switches on for this client and this person (either may be ``None``)."""
    keys = []
    if client_id is not None:
        keys.append(_key("client", client_id))
    if oid is not None:
        keys.append(_key("user", oid))
    if not keys:
        return frozenset()
    on: set[str] = set()
    for raw in await store.get_many(keys):
        on |= _live(raw, now)
    return frozenset(on)


def tamper(token: str) -> str:
    """The JWT with one character in the middle of its signature changed (never only the
    padding bits of the last character, which would leave the signature valid)."""
    head, _, signature = token.rpartition(".")
    middle = len(signature) // 2
    replacement = "A" if signature[middle] != "A" else "B"
    return f"{head}.{signature[:middle]}{replacement}{signature[middle + 1 :]}"
