"""Failure switches per client system or per person, set through the control API, so a test
can make ESIA fail the way a relying party must survive:

- ``expired_tokens`` — tokens are issued already expired (``/rs`` answers :data:`~..errors.TOKEN_EXPIRED`);
- ``premature_tokens`` — tokens become valid only an hour after they are issued (``nbf`` and
  ``iat`` in the future: a relying party whose clock runs behind sees this);
- ``wrong_issuer`` — tokens carry another ``iss`` (:data:`WRONG_ISSUER`);
- ``tampered_signature`` — a byte of the tokens' signatures is changed;
- ``overload`` — :data:`~..errors.UNAVAILABLE` (``ac`` by redirect, ``te`` 503);
- ``deny_consent`` — :data:`~..errors.DENIED`, as if the person refused.

Switches live in the store (:mod:`.fault_repository`) so every replica obeys them;
``for_seconds`` ends them on the mock's clock. A person's switches apply to whichever client they
log in to, a client's to every person.
"""

from __future__ import annotations

from typing import Any

from ...core.problems import Problem

FAULTS = ("expired_tokens", "premature_tokens", "wrong_issuer", "tampered_signature", "overload", "deny_consent")
WRONG_ISSUER = "http://esia.gosuslugi.invalid/"
#: How far in the future ``premature_tokens`` start.
PREMATURE_BY = 3600


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


def tamper(token: str) -> str:
    """The JWT with one character in the middle of its signature changed (never only the
    padding bits of the last character, which would leave the signature valid)."""
    head, _, signature = token.rpartition(".")
    middle = len(signature) // 2
    replacement = "A" if signature[middle] != "A" else "B"
    return f"{head}.{signature[:middle]}{replacement}{signature[middle + 1 :]}"
