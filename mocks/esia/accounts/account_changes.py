"""Changing a seeded account through the control API (``PATCH /users/{oid}``): its level
(simplified → standard → confirmed, with the data each needs) and its second factor (SMS or
TOTP). Failure switches in the same body are :mod:`..oauth.faults`' business."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...core.problems import Problem
from .levels import LEVELS, level_problems
from .records import Level, SecondFactor, UserAccount
from .totp import new_secret, valid_secret

CHANGEABLE = ("level", "second_factor", "totp_secret", "faults")


def with_level(account: UserAccount, level: Level) -> UserAccount:
    """The account at ``level``: ``trusted`` exactly when confirmed, its documents verified
    unless simplified. Checking that the account has the data the level needs is the caller's."""
    status = "NOT_VERIFIED" if level == "simplified" else "VERIFIED"
    return replace(
        account,
        level=level,
        person=replace(account.person, trusted=level == "confirmed"),
        documents=tuple(replace(document, verification=status) for document in account.documents),
    )


def apply_changes(account: UserAccount, body: dict[str, Any]) -> UserAccount:
    """The account with ``body``'s changes, or a 422 naming what cannot change."""
    errors: list[dict[str, str]] = []
    unknown = [name for name in body if name not in CHANGEABLE]
    errors.extend({"pointer": f"/{name[:40]}", "detail": f"one of {', '.join(CHANGEABLE)}"} for name in unknown)
    changed = account
    if "level" in body:
        level = body["level"]
        if level not in LEVELS:
            errors.append({"pointer": "/level", "detail": f"one of {', '.join(LEVELS)}"})
        else:
            problems = list(level_problems(level, account.person, account.documents))
            errors.extend({"pointer": pointer, "detail": detail} for pointer, detail in problems)
            changed = with_level(changed, level)
    factor = account.second_factor or SecondFactor("sms", new_secret())
    if "second_factor" in body:
        if body["second_factor"] not in ("sms", "totp"):
            errors.append({"pointer": "/second_factor", "detail": "sms or totp"})
        factor = replace(factor, method=body["second_factor"])
    if "totp_secret" in body:
        if not valid_secret(body["totp_secret"]):
            errors.append({"pointer": "/totp_secret", "detail": "a base32 secret of 16..128 characters"})
        factor = replace(factor, totp_secret=body["totp_secret"])
    if errors:
        raise Problem(422, "the account cannot change so", errors=errors)
    return replace(changed, second_factor=factor)
