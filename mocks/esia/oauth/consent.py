"""The consent page (Russian): which data the client system asks for, allow or deny.

Shown after the login when the client asks for data the person has not yet granted it
(registration ``consent``: ``remember`` — the default — asks once per set of scopes,
``always`` asks every time, ``never`` skips the page). ``openid`` alone needs no consent.

- ``GET /aas/oauth2/consent?rid=…`` — the page: the client's mnemonic, the list of scopes,
  buttons ``decision=allow`` (Предоставить) and ``decision=deny`` (Отказать);
- ``POST /aas/oauth2/consent`` (form ``rid``, ``decision``) — allow: the grant is remembered
  (``esia:consent:<oid>:<client>``) and the browser goes back with a code; deny: back with
  :data:`~..errors.DENIED`.
"""

from __future__ import annotations

import json
from html import escape

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ...core.context import ServiceContext, context
from ...core.store import Store
from .. import pages
from ..errors import denied_by_person
from ..scopes import SCOPE_TITLES
from .clients import ClientSystem
from .codes import Authorization
from .handback import deliver_code
from .sessions import LOGIN_REQUEST_LIFETIME, new_id

_EXPIRED = "Запрос на предоставление доступа истёк или не найден. Вернитесь на сайт и начните вход заново."


def _remembered_key(oid: int, client_id: str) -> str:
    return f"esia:consent:{oid}:{client_id}"


def _request_key(crid: str) -> str:
    return f"esia:consent-rid:{crid}"


def data_scopes(grant: Authorization) -> list[str]:
    return [scope for scope in grant.scopes if scope != "openid"]


async def needs_consent(store: Store, client: ClientSystem | None, grant: Authorization) -> bool:
    wanted = data_scopes(grant)
    if not wanted or client is None or client.consent == "never":
        return False
    if client.consent == "always":
        return True
    raw = await store.get(_remembered_key(grant.oid, grant.client_id))
    granted = set(json.loads(raw)) if raw else set()
    return not set(wanted) <= granted


async def ask_consent(
    ctx: ServiceContext, request: Request, grant: Authorization, *, state: str, redirect_uri: str, now: float
) -> Response:
    """Park the finished login and send the browser to the consent page."""
    crid = new_id()
    pending = {"grant": vars(grant), "state": state, "redirect_uri": redirect_uri, "created": now}
    await ctx.store.set(_request_key(crid), json.dumps(pending), ttl=LOGIN_REQUEST_LIFETIME * 2)
    return RedirectResponse(f"{str(request.base_url).rstrip('/')}/aas/oauth2/consent?rid={crid}", status_code=302)


async def _pending(store: Store, crid: str, *, now: float, take: bool = False) -> dict | None:
    if not crid or len(crid) > 64:
        return None
    raw = await (store.take if take else store.get)(_request_key(crid))
    if raw is None:
        return None
    pending = json.loads(raw)
    return pending if now - pending["created"] <= LOGIN_REQUEST_LIFETIME else None


def consent_form(crid: str, client_id: str, scopes: list[str]) -> Response:
    items = "".join(f"<li>{escape(SCOPE_TITLES.get(scope, scope))}</li>" for scope in scopes)
    body = (
        f"<p>Система <b>{escape(client_id)}</b> запрашивает доступ к вашим данным:</p>"
        f'<ul class="scopes">{items}</ul>'
        '<form method="post" action="/aas/oauth2/consent">'
        f'<input type="hidden" name="rid" value="{escape(crid)}">'
        '<button type="submit" name="decision" value="allow">Предоставить</button>'
        '<button type="submit" name="decision" value="deny" class="secondary">Отказать</button></form>'
    )
    return pages.page("Предоставление прав доступа", body, 200)


async def consent_page(request: Request) -> Response:
    ctx = context(request)
    crid = request.query_params.get("rid", "")
    pending = await _pending(ctx.store, crid, now=await ctx.clock.now())
    if pending is None:
        return pages.message_page("Доступ не предоставлен", _EXPIRED, status=400)
    grant = pending["grant"]
    return consent_form(crid, grant["client_id"], [s for s in grant["scopes"] if s != "openid"])


async def submit_consent(request: Request) -> Response:
    ctx = context(request)
    form = await pages.read_form(request)
    crid, decision = form.get("rid", ""), form.get("decision", "")
    now = await ctx.clock.now()
    if decision not in ("allow", "deny"):
        if await _pending(ctx.store, crid, now=now) is None:
            return pages.message_page("Доступ не предоставлен", _EXPIRED, status=400)
        return pages.message_page("Доступ не предоставлен", "Выберите: предоставить или отказать.", status=400)
    pending = await _pending(ctx.store, crid, now=now, take=True)
    if pending is None:
        return pages.message_page("Доступ не предоставлен", _EXPIRED, status=400)
    data = pending["grant"]
    grant = Authorization(**{**data, "scopes": tuple(data["scopes"])})
    if decision == "deny":
        raise denied_by_person(pending["state"], pending["redirect_uri"])
    key = _remembered_key(grant.oid, grant.client_id)
    raw = await ctx.store.get(key)
    remembered = set(json.loads(raw)) if raw else set()
    await ctx.store.set(key, json.dumps(sorted(remembered | set(data_scopes(grant)))))
    return await deliver_code(
        ctx, request, grant, state=pending["state"], redirect_uri=pending["redirect_uri"], now=now
    )
