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

A login's six requests (``GET /aas/oauth2/ac`` or ``/v2/ac``, the password and code pages and
their posts, ``POST /aas/oauth2/te`` or ``/v3/te``) and the logout after it also have hot routes
(:func:`hot_routes`, :mod:`...core.hot_path`), which answer in front of Starlette: they read the
query or a url-encoded form the way the routes above do, call the same flow, and answer through
the same response builders (:mod:`..web`, :mod:`..error_answers`), so both agree byte for byte.
Anything else — another body type, a body without ``Content-Length`` or over the hot path's
limit, an exception that is not an ESIA error — goes to the routes above.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...core.context import ServiceContext, context
from ...core.forms import URLENCODED, NotAForm, form_fields, media_type_of, urlencoded_fields
from ...core.hot_path import HotAnswer, HotRequest, HotRoute
from ...core.urlencoded import urlencoded_pairs
from ..browser import Answer
from ..error_answers import esia_error_answer, wants_html
from ..errors import BAD_PARAMETER, EsiaError
from ..web import browser_in, browser_of, hot_answer_to, read_form, respond
from . import consent, login, signature_login
from .authorize import AC_MANDATORY, authorize
from .grants import TE_MANDATORY, exchange
from .params import Params, SecretCheck, check_client_secret
from .v2 import V2_AC_MANDATORY, V3_TE_MANDATORY, check_ac_secret, check_te_secret

__all__ = ["hot_routes", "routes"]


def _not_a_form() -> EsiaError:
    return EsiaError(BAD_PARAMETER, "The request body is not a valid form")


async def read_params(request: Request) -> Params:
    """Query parameters of a GET; the form of a POST (nothing, for any other body)."""
    if request.method != "POST":
        return Params(request.query_params.multi_items())
    try:
        fields = await form_fields(request)
    except NotAForm:
        raise _not_a_form() from None
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


# --- the hot routes --------------------------------------------------------------------------

def _header(request: HotRequest, name: bytes) -> str:
    """The first value of header ``name``, as Starlette's ``headers.get(name, "")`` reads it."""
    value = request.header(name)
    return "" if value is None else value.decode("latin-1")


def _query(request: HotRequest) -> list[tuple[str, str]]:
    """The query's pairs, as Starlette's ``query_params`` parses them."""
    return urlencoded_pairs(request.query.decode("latin-1"))


def _form(request: HotRequest) -> list[tuple[str, str]]:
    """A url-encoded body's fields, or :class:`LookupError` (declined) for any other body: the
    full route reads those (a multipart form, or none at all)."""
    if media_type_of(_header(request, b"content-type")) != URLENCODED:
        raise LookupError("not a url-encoded form")
    return urlencoded_fields(request.body)


Flow = Callable[[HotRequest], Awaitable[Answer]]


def _hot_page(flow: Flow) -> Callable[[HotRequest], Awaitable[HotAnswer]]:
    """A hot route answering with a login page or redirect, or the ESIA error its flow raised,
    through the full routes' own response builders."""

    async def answer(request: HotRequest) -> HotAnswer:
        assert request.scope is not None
        try:
            return hot_answer_to(request.scope, await flow(request))
        except EsiaError as error:
            return esia_error_answer(error, html_page=wants_html(_header(request, b"accept")))

    return answer


def hot_routes(ctx: ServiceContext) -> list[HotRoute]:
    """The login flow's requests in their plain form, answered before Starlette (see the module's
    docstring): each reads what its full route reads, and calls the same flow."""

    def authorize_hot(mandatory: tuple[str, ...], check_secret: SecretCheck) -> Flow:
        async def flow(request: HotRequest) -> Answer:
            assert request.scope is not None
            return await authorize(ctx, Params(_query(request)), browser_in(request.scope), mandatory=mandatory,
                                   check_secret=check_secret)

        return flow

    async def password_page_hot(request: HotRequest) -> Answer:
        return await login.password_page(ctx, dict(_query(request)).get("rid", ""))

    async def submit_password_hot(request: HotRequest) -> Answer:
        form = dict(_read_form(request))
        return await login.submit_password(ctx, form.get("rid", ""), form.get("login", ""), form.get("password", ""))

    async def otp_page_hot(request: HotRequest) -> Answer:
        return await login.otp_page(ctx, dict(_query(request)).get("rid", ""))

    async def submit_otp_hot(request: HotRequest) -> Answer:
        assert request.scope is not None
        form = dict(_read_form(request))
        return await login.submit_otp(ctx, form.get("rid", ""), form.get("code", "").strip(),
                                      browser_in(request.scope))

    async def logout_hot(request: HotRequest) -> Answer:
        assert request.scope is not None
        query = dict(_query(request))
        return await login.logout(ctx, query.get("client_id"), query.get("redirect_url"), browser_in(request.scope))

    def token_hot(mandatory: tuple[str, ...], check_secret: SecretCheck) -> Callable[[HotRequest],
                                                                                     Awaitable[HotAnswer]]:
        async def answer(request: HotRequest) -> HotAnswer:
            try:
                try:
                    fields = _form(request)
                except NotAForm:
                    raise _not_a_form() from None
                body = await exchange(ctx, Params(fields), mandatory=mandatory, check_secret=check_secret)
            except EsiaError as error:
                return esia_error_answer(error, html_page=wants_html(_header(request, b"accept")))
            return HotAnswer.json(body, headers=_NO_STORE)

        return answer

    return [
        HotRoute("/aas/oauth2/ac", _hot_page(authorize_hot(AC_MANDATORY, check_client_secret)), "/aas/oauth2/ac"),
        HotRoute("/aas/oauth2/v2/ac", _hot_page(authorize_hot(V2_AC_MANDATORY, check_ac_secret)),
                 "/aas/oauth2/v2/ac"),
        HotRoute("/aas/oauth2/login", _hot_page(password_page_hot), "/aas/oauth2/login"),
        HotRoute("/aas/oauth2/login", _hot_page(submit_password_hot), "/aas/oauth2/login", methods=("POST",)),
        HotRoute("/aas/oauth2/otp", _hot_page(otp_page_hot), "/aas/oauth2/otp"),
        HotRoute("/aas/oauth2/otp", _hot_page(submit_otp_hot), "/aas/oauth2/otp", methods=("POST",)),
        HotRoute("/aas/oauth2/te", token_hot(TE_MANDATORY, check_client_secret), "/aas/oauth2/te",
                 methods=("POST",)),
        HotRoute("/aas/oauth2/v3/te", token_hot(V3_TE_MANDATORY, check_te_secret), "/aas/oauth2/v3/te",
                 methods=("POST",)),
        HotRoute("/idp/ext/Logout", _hot_page(logout_hot), "/idp/ext/Logout"),
    ]


def _read_form(request: HotRequest) -> list[tuple[str, str]]:
    """The login pages' form as :func:`..web.read_form` reads it: a form with too many fields is
    no fields at all (any other body: declined by :func:`_form`)."""
    try:
        return _form(request)
    except NotAForm:
        return []
