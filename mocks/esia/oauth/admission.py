"""What may still stop a person who has logged in from being sent back to the client with a
code: the failure switches (:mod:`.faults`) and the client's required account level
(:mod:`.levels`). Every refusal goes back to the client by redirect, with its ESIA code.
"""

from __future__ import annotations

from typing import Any

from ...core.store import Store
from ..accounts.levels import meets
from ..accounts.users import load_user
from ..errors import ACCOUNT_LEVEL_TOO_LOW, EsiaError, denied_by_person, overloaded
from .clients import ClientSystem
from .faults import active_faults


def check_faults(faults: frozenset[str], *, state: str, redirect_uri: str) -> None:
    if "overload" in faults:
        raise overloaded(state, redirect_uri)
    if "deny_consent" in faults:
        raise denied_by_person(state, redirect_uri)


async def admit(
    store: Store, client: ClientSystem | None, *, oid: int, state: str, redirect_uri: str, now: float
) -> dict[str, Any] | None:
    """The person's record once nothing stops the login, or the refusal to redirect with."""
    client_id = client.client_id if client is not None else None
    check_faults(
        await active_faults(store, client_id=client_id, oid=oid, now=now), state=state, redirect_uri=redirect_uri
    )
    user = await load_user(store, oid)
    if client is not None and user is not None and not meets(user.get("level", "confirmed"), client.required_level):
        raise EsiaError(
            ACCOUNT_LEVEL_TOO_LOW,
            f"Login with an account that is not {client.required_level}; the client requires a "
            f"{client.required_level} account",
            state=state,
            redirect_uri=redirect_uri,
        )
    return user
