"""What may still stop a person who has logged in from being sent back to the client with a
code: the failure switches (:mod:`.faults`) and the client's required account level
(:mod:`..accounts.levels`). Every refusal goes back to the client by redirect, with its ESIA code.
"""

from __future__ import annotations

from ...core.context import ServiceContext
from ..accounts.levels import meets
from ..accounts.user_repository import UserRepository
from ..errors import ACCOUNT_LEVEL_TOO_LOW, EsiaError, denied_by_person, overloaded
from .clients import ClientSystem
from .fault_repository import FaultRepository

__all__ = ["admit", "check_faults"]


def check_faults(faults: frozenset[str], *, state: str, redirect_uri: str) -> None:
    if "overload" in faults:
        raise overloaded(state, redirect_uri)
    if "deny_consent" in faults:
        raise denied_by_person(state, redirect_uri)


async def admit(
    ctx: ServiceContext, client: ClientSystem | None, *, oid: int, state: str, redirect_uri: str, now: float
) -> bool:
    """Whether the person's account is confirmed (what the tokens' ``is_tru`` says) when nothing
    stops the login; otherwise the refusal to redirect with is raised."""
    client_id = client.client_id if client is not None else None
    check_faults(
        await FaultRepository(ctx.store).active(client_id=client_id, oid=oid, now=now),
        state=state,
        redirect_uri=redirect_uri,
    )
    account = await UserRepository(ctx.store).get(oid)
    if client is not None and account is not None and not meets(account.level, client.required_level):
        raise EsiaError(
            ACCOUNT_LEVEL_TOO_LOW,
            f"Login with an account that is not {client.required_level}; the client requires a "
            f"{client.required_level} account",
            state=state,
            redirect_uri=redirect_uri,
        )
    return account is not None and account.level == "confirmed"
