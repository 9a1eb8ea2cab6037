"""What differs between the two personal accounts: their ESIA client system, their title, what
the account lists for whom it acts, and whether an organisation registers on first sign-in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ..core.context import ServiceContext
from .acting import ActingFor

__all__ = ["AccountSystem", "ListPage", "Lister", "SCOPES"]

#: What the accounts ask ESIA for: the person's name, SNILS and INN, and their organisations.
SCOPES = ("openid", "fullname", "snils", "inn", "usr_org")


@dataclass(frozen=True, slots=True)
class ListPage:
    """The account's list (declarations or objects) as rows of text under ``headings``."""

    title: str
    headings: Sequence[str]
    rows: Sequence[Sequence[str]]


Lister = Callable[[ServiceContext, ActingFor], Awaitable[ListPage]]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSystem:
    #: The client system's mnemonic at ESIA.
    client_id: str
    #: The account's name on its pages («Личный кабинет участника ВЭД»).
    title: str
    #: The list shown to whoever the person acts for.
    lister: Lister
    #: Whether an organisation registers in the system (consent, roles) the first time (FGIS UTKO).
    registration: bool = False

    @property
    def session_cookie(self) -> str:
        """The session cookie's name, one per account: on a stand the accounts share a host
        (loopback, ports apart), and browsers keep cookies per host, not per port."""
        return f"{self.client_id.lower()}_session"

    @property
    def login_cookie(self) -> str:
        """The cookie binding a sign-in's ``state`` to the browser that started it."""
        return f"{self.client_id.lower()}_login"
