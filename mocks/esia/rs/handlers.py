"""``/rs``'s HTTP side: one route takes every path under ``/rs/`` and splits it itself (real
clients send trailing and double slashes, ``/rs/prns//1000/ctts/``, that a router would reject),
checks the Bearer token, and hands the parts to :mod:`.persons` or :mod:`.org_data`. Plus the
hot path's answer to the plainest read of all, ``GET /rs/prns/{oid}``."""

from __future__ import annotations

import json
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...core.context import ServiceContext, context
from ...core.hot_path import HotAnswer, HotRequest, HotRoute, caller
from ...core.problems import Problem
from ..accounts.organisations import parse_oid
from ..accounts.user_repository import UserRepository
from ..errors import TOKEN_EXPIRED, RsError
from ..oauth.token_verifier import own_gate
from .org_data import organisation_data
from .persons import person_data, root
from .shapes import parse_embed, scope_not_allowed

__all__ = ["hot_person_root", "routes"]

_RENDERED_LIMIT = 4096


class _Anything(Convertor[str]):
    """The rest of a path, newlines included. Starlette's ``path`` convertor is ``.*``, which
    stops at a decoded newline — and its ``$`` then matches before a trailing one, so
    ``/rs/prns/1/ctts/1%0A`` was served as ``…/ctts/1`` and ``…/ctts/1%0Ax`` fell through to the
    router's problem+json 404 instead of ESIA's own error."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anything", _Anything())


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type="application/json")


async def rs_data(request: Request) -> Response:
    ctx = context(request)
    parts = [part for part in request.path_params["rest"].split("/") if part]
    try:
        identity = await own_gate(ctx.settings).identify(request, scopes=())
    except Problem as problem:
        raise (RsError(TOKEN_EXPIRED) if problem.status == 401 else scope_not_allowed()) from None
    embed = parse_embed(request.query_params.get("embed", ""))
    if parts and parts[0] == "orgs":
        return json_response(await organisation_data(ctx, identity, parts[1:], embed))
    return json_response(await person_data(ctx, identity, parts, embed))


def hot_person_root(ctx: ServiceContext) -> HotRoute:
    """``GET /rs/prns/{oid}`` as load runs send it (no query, a valid token for that person):
    one store read, and the rendering reused while the stored record and the granted scopes
    are the same as last time. Anything else is declined to :func:`rs_data`."""
    gate = own_gate(ctx.settings)
    users = UserRepository(ctx.store)
    base_url = f"{ctx.settings.public_url}/rs/prns/"
    rendered: dict[tuple[int, frozenset[str]], tuple[str, bytes]] = {}

    async def answer(request: HotRequest) -> HotAnswer | None:
        known_caller = None if request.query else await caller(request, gate, ctx.clock, ("openid",))
        if known_caller is None:
            return None
        identity = known_caller[0]
        oid = parse_oid(request.groups[0])
        if oid is None or oid != identity.oid:
            return None
        raw = await users.text(oid)
        if raw is None:
            return None
        key = (oid, identity.scopes)
        earlier = rendered.get(key)
        if earlier is not None and earlier[0] == raw:
            return HotAnswer(earlier[1])
        body = json.dumps(root(users.parse(raw), {}, identity.scopes, f"{base_url}{oid}", set()),
                          ensure_ascii=False).encode()
        if len(rendered) >= _RENDERED_LIMIT:
            rendered.clear()
        rendered[key] = (raw, body)
        return HotAnswer(body)

    return HotRoute(r"/rs/prns/([0-9]{1,16})", answer, template=RS_TEMPLATE)


#: Every ``/rs`` read goes through one route, which dispatches on the rest of the path.
RS_TEMPLATE = "/rs/{rest:anything}"
routes: list[BaseRoute] = [Route(RS_TEMPLATE, rs_data, methods=["GET"])]
