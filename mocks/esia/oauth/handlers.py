"""The OAuth endpoints' HTTP side: each handler reads the request (query or form, the browser),
calls its flow and turns what comes back into the response. Errors the flows raise
(:class:`~..errors.EsiaError`) are rendered by :mod:`..error_answers`.

===================================  ==========================================================
``GET|POST /aas/oauth2/ac``          :func:`.authorize.authorize`, v1 ``client_secret`` (CMS)
``GET /aas/oauth2/v2/ac``            the same, v2 ``client_secret`` (:mod:`.v2`)
``GET|POST /aas/oauth2/login``       :mod:`.login`: the password page
``GET|POST /aas/oauth2/otp``         :mod:`.login`: the one-time code page
``GET|POST /aas/oauth2/signature``   :mod:`.signature_login`: signing in with a signature
``GET|POST /aas/oauth2/consent``     :mod:`.consent`
``POST /aas/oauth2/te``              :func:`.grants.exchange`, v1 ``client_secret``
``POST /aas/oauth2/v3/te``           the same, v2 ``client_secret``
``GET /idp/ext/Logout``              :func:`.login.logout`
===================================  ==========================================================
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...core.context import context
from ...core.forms import NotAForm, form_fields
from ..errors import BAD_PARAMETER, EsiaError
from ..web import browser_of, read_form, respond
from . import consent, login, signature_login
from .authorize import AC_MANDATORY, authorize
from .grants import TE_MANDATORY, exchange
from .params import Params, check_client_secret
from .v2 import V2_AC_MANDATORY, V3_TE_MANDATORY, check_ac_secret, check_te_secret

__all__ = ["routes"]


async def read_params(request: Request) -> Params:
    """Query parameters of a GET; the form of a POST (nothing, for any other body)."""
    if request.method != "POST":
        return Params(request.query_params.multi_items())
    try:
        fields = await form_fields(request)
    except NotAForm:
        raise EsiaError(BAD_PARAMETER, "The request body is not a valid form") from None
    return Params(fields or ())


async def authorize_v1(request: Request) -> Response:
    """v1: ``client_secret`` is CMS over ``scope + timestamp + client_id + state``."""
    answer = await authorize(context(request), await read_params(request), browser_of(request),
                             mandatory=AC_MANDATORY, check_secret=check_client_secret)
    return respond(request, answer)


async def authorize_v2(request: Request) -> Response:
    answer = await authorize(context(request), await read_params(request), browser_of(request),
                             mandatory=V2_AC_MANDATORY, check_secret=check_ac_secret)
    return respond(request, answer)


async def password_page(request: Request) -> Response:
    return respond(request, await login.password_page(context(request), request.query_params.get("rid", "")))


async def submit_password(request: Request) -> Response:
    form = await read_form(request)
    answer = await login.submit_password(context(request), form.get("rid", ""), form.get("login", ""),
                                         form.get("password", ""))
    return respond(request, answer)


async def otp_page(request: Request) -> Response:
    return respond(request, await login.otp_page(context(request), request.query_params.get("rid", "")))


async def submit_otp(request: Request) -> Response:
    form = await read_form(request)
    answer = await login.submit_otp(context(request), form.get("rid", ""), form.get("code", "").strip(),
                                    browser_of(request))
    return respond(request, answer)


async def signature_page(request: Request) -> Response:
    return respond(request, await signature_login.signature_page(context(request), request.query_params.get("rid", "")))


async def submit_signature(request: Request) -> Response:
    form = await read_form(request)
    answer = await signature_login.submit_signature(context(request), form.get("rid", ""), form.get("signature", ""),
                                                    form.get("certificate", ""), browser_of(request))
    return respond(request, answer)


async def consent_page(request: Request) -> Response:
    return respond(request, await consent.consent_page(context(request), request.query_params.get("rid", "")))


async def submit_consent(request: Request) -> Response:
    form = await read_form(request)
    answer = await consent.submit_consent(context(request), form.get("rid", ""), form.get("decision", ""),
                                          browser_of(request))
    return respond(request, answer)


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def token_v1(request: Request) -> Response:
    """v1: ``client_secret`` is CMS over ``scope + timestamp + client_id + state``."""
    body = await exchange(context(request), await read_params(request), mandatory=TE_MANDATORY,
                          check_secret=check_client_secret)
    return JSONResponse(body, headers=_NO_STORE)


async def token_v3(request: Request) -> Response:
    body = await exchange(context(request), await read_params(request), mandatory=V3_TE_MANDATORY,
                          check_secret=check_te_secret)
    return JSONResponse(body, headers=_NO_STORE)


async def logout(request: Request) -> Response:
    query = request.query_params
    answer = await login.logout(context(request), query.get("client_id"), query.get("redirect_url"),
                                browser_of(request))
    return respond(request, answer)


routes: list[BaseRoute] = [
    Route("/aas/oauth2/ac", authorize_v1, methods=["GET", "POST"]),
    Route("/aas/oauth2/login", password_page, methods=["GET"]),
    Route("/aas/oauth2/login", submit_password, methods=["POST"]),
    Route("/aas/oauth2/otp", otp_page, methods=["GET"]),
    Route("/aas/oauth2/otp", submit_otp, methods=["POST"]),
    Route("/aas/oauth2/signature", signature_page, methods=["GET"]),
    Route("/aas/oauth2/signature", submit_signature, methods=["POST"]),
    Route("/aas/oauth2/consent", consent_page, methods=["GET"]),
    Route("/aas/oauth2/consent", submit_consent, methods=["POST"]),
    Route("/aas/oauth2/te", token_v1, methods=["POST"]),
    Route("/aas/oauth2/v2/ac", authorize_v2, methods=["GET"]),
    Route("/aas/oauth2/v3/te", token_v3, methods=["POST"]),
    Route("/idp/ext/Logout", logout, methods=["GET"]),
]
