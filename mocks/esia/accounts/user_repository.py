"""Where ESIA's accounts live in the shared store, and the password check against them.

- ``esia:user:<oid>`` — the account (:class:`~.records.UserAccount`) as one JSON record, holding
  the person's data as ``/rs`` serves it, so a data request costs one store read;
- ``esia:login:<kind>:<value>`` — each login identifier (mobile phone, e-mail, SNILS digits)
  pointing at the OID, claimed with ``only_if_absent`` so two replicas can never seed the same
  phone twice;
- ``esia:fail:<oid>`` and ``esia:lock:<oid>`` — the lockout: three consecutive wrong passwords
  lock the account for :data:`LOCK_SECONDS` on the mock's clock (a right password resets the
  count);
- ``esia:totp-step:<oid>`` — the last TOTP time step used, so a code cannot be replayed;
- ``esia:seq:oid`` and ``esia:seq:element`` — ESIA's counters (:class:`Numbering`): one OID
  space for people and organisations, one for the elements of their collections.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import replace
from functools import lru_cache

from ...core.identifiers import normalize_mobile, snils_digits
from ...core.problems import Problem
from ...core.store import Store
from .records import PasswordHash, UserAccount
from .users import FIRST_OID, SeedPlan

__all__ = ["LOCK_SECONDS", "MAX_FAILURES", "LoginRefused", "Numbering", "UserRepository"]

MAX_FAILURES = 3
#: How long a lockout lasts (assumed; ESIA says only "temporarily").
LOCK_SECONDS = 15 * 60


def _user_key(oid: int) -> str:
    return f"esia:user:{oid}"


def _login_key(kind: str, value: str) -> str:
    return f"esia:login:{kind}:{value}"


def _login_key_for(identifier: str) -> str | None:
    """The store key a typed login points to: a mobile number in any common form, a SNILS
    bare or formatted, or an e-mail (case-insensitive)."""
    phone = normalize_mobile(identifier)
    if phone:
        return _login_key("phone", phone)
    digits = snils_digits(identifier.strip())
    if digits:
        return _login_key("snils", digits)
    if "@" in identifier:
        return _login_key("email", identifier.strip().lower())
    return None


def _hash_password(password: str, salt: str) -> str:
    # A fast salted hash on purpose: the mock must log in thousands of users a second.
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


def new_password_hash(password: str) -> PasswordHash:
    salt = secrets.token_hex(8)
    return PasswordHash(salt, _hash_password(password, salt))


@lru_cache(maxsize=1024)
def _parsed(text: str) -> UserAccount:
    """An account parsed once per distinct stored text: a login reads its person at the password
    and again at the code (the level), and ``/rs`` at every read; an account changed on any
    replica is new text, so nothing stale is served. Accounts are frozen values, safe to share."""
    return UserAccount.from_json(json.loads(text))


class LoginRefused(Exception):
    """Wrong credentials or a locked account; ``locked_until`` is set for the latter."""

    def __init__(self, message: str, *, locked_until: float | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


class Numbering:
    """ESIA's counters: the next OID (people and organisations share one space) and the next
    id of an element of a collection (contacts, documents, branches …)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def next_oid(self) -> int:
        return FIRST_OID + await self._store.incr("esia:seq:oid")

    async def next_element_id(self) -> int:
        return await self._store.incr("esia:seq:element")


class UserRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    # --- accounts ------------------------------------------------------------------------------

    async def create(self, plan: SeedPlan, *, now: float) -> UserAccount:
        """Store a validated account with its OID, element ids and login keys; 409 when its OID
        or a login identifier is taken (nothing stays stored then)."""
        numbering = Numbering(self._store)
        oid = plan.oid if plan.oid is not None else await numbering.next_oid()
        draft = plan.account(oid=oid, password=new_password_hash(plan.password), now=now)
        account = replace(  # ids drawn in the order the collections are stored
            draft,
            contacts=tuple([item.numbered(await numbering.next_element_id()) for item in draft.contacts]),
            documents=tuple([item.numbered(await numbering.next_element_id()) for item in draft.documents]),
            addresses=tuple([item.numbered(await numbering.next_element_id()) for item in draft.addresses]),
            vehicles=tuple([item.numbered(await numbering.next_element_id()) for item in draft.vehicles]),
            kids=tuple([item.numbered(await numbering.next_element_id()) for item in draft.kids]),
        )
        if not await self._store.set(_user_key(oid), json.dumps(account.to_json()), only_if_absent=True):
            raise Problem(409, f"a user with oid {oid} exists")
        claimed: list[str] = []
        for kind, value in account.logins.items():
            key = _login_key(kind, value)
            if not await self._store.set(key, str(oid), only_if_absent=True):
                await self._store.delete(_user_key(oid), *claimed)
                raise Problem(409, f"the {kind} {value} already belongs to another user")
            claimed.append(key)
        return account

    async def get(self, oid: int) -> UserAccount | None:
        text = await self.text(oid)
        return None if text is None else self.parse(text)

    async def text(self, oid: int) -> str | None:
        """The account exactly as stored (the hot path reuses a rendering while it is the same)."""
        return await self._store.get(_user_key(oid))

    @staticmethod
    def parse(text: str) -> UserAccount:
        return _parsed(text)

    async def save(self, account: UserAccount) -> None:
        """Replace a stored account (its logins are not re-keyed)."""
        await self._store.set(_user_key(account.oid), json.dumps(account.to_json()))

    async def set_password(self, oid: int, password: str) -> bool:
        """Replace the account's password (recovery); ``False`` when there is no such account."""
        account = await self.get(oid)
        if account is None:
            return False
        await self.save(replace(account, password=new_password_hash(password)))
        return True

    # --- logins --------------------------------------------------------------------------------

    async def login_taken(self, kind: str, value: str) -> bool:
        """Whether a phone (normalised) or an e-mail (lower case) already opens an account."""
        return await self._store.get(_login_key(kind, value)) is not None

    async def oid_for_login(self, login: str) -> int | None:
        """The OID a login identifier (phone, e-mail, SNILS) belongs to."""
        key = _login_key_for(login) if 0 < len(login) <= 320 else None
        oid = await self._store.get(key) if key else None
        return int(oid) if oid is not None else None

    async def oid_for_snils(self, snils: str) -> int | None:
        """The OID whose login SNILS this is. Asked by SNILS alone, since :meth:`oid_for_login`
        reads 11 digits starting with 7 or 8 as a mobile number."""
        digits = snils_digits(snils.strip())
        oid = await self._store.get(_login_key("snils", digits)) if digits else None
        return int(oid) if oid is not None else None

    async def authenticate(self, login: str, password: str, *, now: float) -> UserAccount:
        """The account a login and password open, or :class:`LoginRefused`."""
        key = _login_key_for(login)
        oid_text = await self._store.get(key) if key else None
        if oid_text is None:
            raise LoginRefused("Неверные логин или пароль")
        oid = int(oid_text)
        lock_raw, user_raw, failures_raw = await self._store.get_many(
            [f"esia:lock:{oid}", _user_key(oid), f"esia:fail:{oid}"]
        )
        if lock_raw is not None and float(lock_raw) > now:
            raise LoginRefused("Учётная запись временно заблокирована", locked_until=float(lock_raw))
        if user_raw is None:
            raise LoginRefused("Неверные логин или пароль")
        account = self.parse(user_raw)
        if hmac.compare_digest(_hash_password(password, account.password.salt), account.password.hash):
            if failures_raw is not None:  # a write only when there is a count to clear
                await self._store.delete(f"esia:fail:{oid}")
            return account
        failures = await self._store.incr(f"esia:fail:{oid}", ttl=LOCK_SECONDS * 4)
        if failures >= MAX_FAILURES:
            until = now + LOCK_SECONDS
            await self._store.set(f"esia:lock:{oid}", repr(until), ttl=LOCK_SECONDS * 4)
            await self._store.delete(f"esia:fail:{oid}")
            raise LoginRefused("Учётная запись временно заблокирована", locked_until=until)
        left = MAX_FAILURES - failures
        raise LoginRefused(f"Неверные логин или пароль. Осталось попыток: {left}")

    async def unlock(self, oid: int) -> None:
        """End a lockout and forget the wrong passwords counted so far."""
        await self._store.delete(f"esia:lock:{oid}", f"esia:fail:{oid}")

    async def use_totp_step(self, oid: int, step: int) -> bool:
        """Record that the TOTP code of time ``step`` was used; ``False`` if it, or a later one,
        was used before (a code read over someone's shoulder cannot be replayed)."""
        last = await self._store.get(f"esia:totp-step:{oid}")
        if last is not None and step <= int(last):
            return False
        await self._store.set(f"esia:totp-step:{oid}", str(step), ttl=3600)
        return True
