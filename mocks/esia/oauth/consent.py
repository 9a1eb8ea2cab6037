"""The consent page (Russian): which data the client system asks for, allow or deny.

Shown after the login when the client asks for data the person has not yet granted it
(registration ``consent``: ``remember`` — the default — asks once per set of scopes,
``always`` asks every time, ``never`` skips the page). ``openid`` alone needs no consent.

- ``GET /aas/oauth2/consent?rid=…`` — the page: the client's mnemonic, the list of scopes,
  buttons ``decision=allow`` (Предоставить) and ``decision=deny`` (Отказать);
- ``POST /aas/oauth2/consent`` (form ``rid``, ``decision``) — allow: the grant is remembered
  (:mod:`.consent_repository`) and the browser goes back with a code; deny: back with
  :data:`~..errors.DENIED`.
"""

from __future__ import annotations

from html import escape

from ...core.context import ServiceContext
from ..accounts.one_time_codes import new_handle
from ..browser import Answer, Browser, Page, Redirect
from ..errors import denied_by_person
from ..pages import message_page, page
from ..scopes import SCOPE_TITLES
from .clients import ClientSystem
from .consent_repository import ConsentRepository, PendingConsent
from .grant_repository import Authorization
from .handback import deliver_code
from .login_repository import Ending

__all__ = ["ask_consent", "consent_page", "needs_consent", "submit_consent"]

_EXPIRED = "Запрос на предоставление доступа истёк или не найден. Вернитесь на сайт и начните вход заново."


def data_scopes(grant: Authorization) -> list[str]:
    return [scope for scope in grant.scopes if scope != "openid"]


async def needs_consent(ctx: ServiceContext, client: ClientSystem | None, grant: Authorization) -> bool:
    wanted = data_scopes(grant)
    if not wanted or client is None or client.consent == "never":
        return False
    if client.consent == "always":
        return True
    return not set(wanted) <= await ConsentRepository(ctx.store).granted(grant.oid, grant.client_id)


async def ask_consent(
    ctx: ServiceContext, grant: Authorization, *, state: str, redirect_uri: str, now: float,
    along: Ending | None = None,
) -> Redirect:
    """Park the finished login (with ``along``, the end of its login request, in one commit)
    and send the browser to the consent page."""
    crid = new_handle()
    await ConsentRepository(ctx.store).park(crid, PendingConsent(grant, state, redirect_uri, now), along=along)
    return Redirect(location=f"/aas/oauth2/consent?rid={crid}")


def consent_form(crid: str, client_id: str, scopes: list[str]) -> Page:
    items = "".join(f"<li>{escape(SCOPE_TITLES.get(scope, scope))}</li>" for scope in scopes)
    body = (
        f"<p>Система <b>{escape(client_id)}</b> запрашивает доступ к вашим данным:</p>"
        f'<ul class="scopes">{items}</ul>'
        '<form method="post" action="/aas/oauth2/consent">'
        f'<input type="hidden" name="rid" value="{escape(crid)}">'
        '<button type="submit" name="decision" value="allow">Предоставить</button>'
        '<button type="submit" name="decision" value="deny" class="secondary">Отказать</button></form>'
    )
    return page("Предоставление прав доступа", body, 200)


async def consent_page(ctx: ServiceContext, crid: str) -> Page:
    pending = await ConsentRepository(ctx.store).pending(crid, now=await ctx.clock.now())
    if pending is None:
        return message_page("Доступ не предоставлен", _EXPIRED, status=400)
    return consent_form(crid, pending.grant.client_id, data_scopes(pending.grant))


async def submit_consent(ctx: ServiceContext, crid: str, decision: str, browser: Browser) -> Answer:
    consents = ConsentRepository(ctx.store)
    now = await ctx.clock.now()
    if decision not in ("allow", "deny"):
        if await consents.pending(crid, now=now) is None:
            return message_page("Доступ не предоставлен", _EXPIRED, status=400)
        return message_page("Доступ не предоставлен", "Выберите: предоставить или отказать.", status=400)
    pending = await consents.pending(crid, now=now, take=True)
    if pending is None:
        return message_page("Доступ не предоставлен", _EXPIRED, status=400)
    grant = pending.grant
    if decision == "deny":
        raise denied_by_person(pending.state, pending.redirect_uri)
    await consents.remember(grant.oid, grant.client_id, data_scopes(grant))
    return await deliver_code(ctx, grant, state=pending.state, redirect_uri=pending.redirect_uri, browser=browser,
                              now=now)
