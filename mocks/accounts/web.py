"""What every page handler of an account shares: the system it belongs to, its ESIA client, the
session a request carries, and the cookies' attributes."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.requests import Request
from starlette.responses import Response

from ..core.bearer import BearerGate
from ..core.context import ServiceContext, context
from ..core.forms import NotAForm, form_fields
from ..core.keys import load_certificate
from ..crypto.gost import GostUnavailable
from .client_keys import settings_keys
from .esia_requests import EsiaClient
from .esia_time import EsiaTime
from .refusals import SignInRefused
from .sessions import ABSOLUTE_LIFETIME, Session, SessionRepository
from .system import SCOPES, AccountSystem
from .token_refresh import EsiaTrust, renewal_due, renewed

__all__ = ["Account", "CALLBACK_PATH", "LOGGED_OUT_PATH", "form_value", "set_cookie"]

CALLBACK_PATH = "/login/callback"
LOGGED_OUT_PATH = "/logged-out"


async def form_value(request: Request, name: str) -> str:
    """The first value of field ``name`` of a posted form; ``""`` when absent or not a form."""
    try:
        fields = await form_fields(request)
    except NotAForm:
        return ""
    return next((value for key, value in fields or [] if key == name), "")


def set_cookie(response: Response, name: str, value: str, *, max_age: int) -> None:
    """HttpOnly, and SameSite=Lax: sent on the top-level redirect back from ESIA (a cross-site
    navigation), withheld from cross-site form posts. ``Secure`` when the account is served
    over https."""
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax")


class Account:
    """One service's account: its :class:`AccountSystem` and the token gate the APIs use."""

    def __init__(self, system: AccountSystem, gate: BearerGate) -> None:
        self.system = system
        self.gate = gate
        self._esia_key: RSAPublicKey | None = None
        self._esia_time: EsiaTime | None = None

    async def esia_now(self, ctx: ServiceContext) -> float:
        """ESIA's time (:mod:`.esia_time`), for request timestamps and ESIA's token lifetimes."""
        if self._esia_time is None:
            self._esia_time = EsiaTime(ctx.settings)
        return await self._esia_time.now()

    def client(self, ctx: ServiceContext) -> EsiaClient:
        """The ESIA client system as this replica signs for it; refused with a 503 page when the
        stand gave the service no ESIA or no GOST engine is present."""
        if not ctx.settings.esia_url:
            raise SignInRefused("Вход через Госуслуги не настроен", status=503,
                                detail="the service was started without GOSSTAND_ESIA_URL")
        try:
            keys = settings_keys(ctx.settings, self.system.client_id)
        except GostUnavailable as exc:
            raise SignInRefused("Вход через Госуслуги недоступен", status=503, detail=str(exc)) from None
        return EsiaClient(esia_url=ctx.settings.esia_url, server_url=ctx.settings.esia_server_url,
                          client_id=self.system.client_id,
                          redirect_uri=ctx.settings.public_url + CALLBACK_PATH, scope=" ".join(SCOPES), keys=keys)

    def esia_key(self, ctx: ServiceContext) -> RSAPublicKey:
        """ESIA's RS256 key (its certificate in the shared keys directory), read once."""
        if self._esia_key is None:
            key = load_certificate(ctx.settings.esia_keys_dir).public_key()
            if not isinstance(key, RSAPublicKey):
                raise SignInRefused("Ключ ЕСИА не найден", status=503, detail="ESIA's certificate holds no RSA key")
            self._esia_key = key
        return self._esia_key

    async def session(self, request: Request) -> Session | None:
        """The request's live session (:meth:`live_session`)."""
        return await self.live_session(context(request), request.cookies.get(self.system.session_cookie))

    async def live_session(self, ctx: ServiceContext, sid: str | None) -> Session | None:
        """The live session ``sid`` names, its ESIA access token renewed when due
        (:mod:`.token_refresh`); ``None`` once it has ended."""
        now = await ctx.clock.now()
        session = await SessionRepository(ctx.store).find(sid, now=now)
        if session is None or not renewal_due(session, now):
            return session
        return await renewed(ctx, session, lambda: self._esia_trust(ctx), now=now)

    async def _esia_trust(self, ctx: ServiceContext) -> EsiaTrust:
        return EsiaTrust(client=self.client(ctx), esia_now=await self.esia_now(ctx), gate=self.gate,
                         esia_key=self.esia_key(ctx), issuer=ctx.settings.esia_issuer)

    def open_session_cookie(self, response: Response, session: Session) -> None:
        set_cookie(response, self.system.session_cookie, session.sid, max_age=ABSOLUTE_LIFETIME)
