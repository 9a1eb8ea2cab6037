"""UTKO's own control endpoints, mounted under ``/_gosstand/control`` behind the control token:

- ``POST /objects/{id}/access-key`` — (re)issue the object's weight-control access key;
  body ``{"accessKey": "…"}`` sets a known key, an empty body or ``{}`` draws a random one →
  200 ``{"objectId", "accessKey"}``; the previous key stops working. 404 for an unknown object.
- ``PUT /allowlist/{client_id}`` ``{"addresses": ["127.0.0.1", "10.0.0.0/8"]}`` — the only
  addresses that client system may call UTKO from (:mod:`.allowlist`) → 200 ``{"clientId",
  "addresses"}``; ``GET`` shows it (404 when none is set), ``DELETE`` lifts it (204).
- ``GET /audit?limit=100&clientId=…&path=/v1/objects`` — the newest audit entries, oldest
  first, filtered by client system and path prefix (:mod:`.audit`) → ``{"items", "recorded"}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.context import context
from ..core.json_body import read_json
from ..core.problems import Problem, json_object
from ..core.query import bounded_int
from .access_keys import issue_access_key
from .allowlist import load_allowlist, parse_networks, remove_allowlist, save_allowlist
from .audit import CAPACITY, read_audit
from .params import canonical_uuid
from .repository import ObjectRepository

__all__ = ["control_routes"]


async def _optional_body(request: Request) -> dict[str, Any]:
    if not await request.body():
        return {}
    return json_object(await read_json(request))


async def reissue_access_key(request: Request) -> Response:
    store = context(request).store
    object_id = request.path_params["id"]
    body = await _optional_body(request)
    wanted = body.get("accessKey")
    if wanted is not None and not (isinstance(wanted, str) and 8 <= len(wanted) <= 200):
        raise Problem(422, "accessKey must be a string of 8–200 characters",
                      errors=[{"pointer": "/accessKey", "detail": "8–200 characters"}])
    if canonical_uuid(object_id) is None or await ObjectRepository(store).get(object_id) is None:
        raise Problem(404, "no object has this id")
    issued = await issue_access_key(store, object_id, access_key=wanted)
    return JSONResponse({"objectId": object_id, "accessKey": issued})


async def allowlist(request: Request) -> Response:
    store = context(request).store
    client_id = request.path_params["client_id"]
    if request.method == "PUT":
        networks = parse_networks(json_object(await read_json(request)).get("addresses"))
        await save_allowlist(store, client_id, networks)
        return JSONResponse({"clientId": client_id, "addresses": networks})
    if request.method == "DELETE":
        await remove_allowlist(store, client_id)
        return Response(status_code=204)
    allowlist = await load_allowlist(store, client_id)
    if allowlist is None:
        raise Problem(404, "no allowlist is set for this client: it may call from anywhere")
    return JSONResponse({"clientId": client_id, "addresses": allowlist})


async def audit(request: Request) -> Response:
    errors: list[dict[str, str]] = []
    limit = bounded_int(request.query_params, "limit", 100, 1, CAPACITY, errors)
    if errors:
        raise Problem(400, f"limit is an integer from 1 to {CAPACITY}", errors=errors)
    return JSONResponse(await read_audit(request, limit=limit, client_id=request.query_params.get("clientId"),
                                         path=request.query_params.get("path")))


control_routes: list[BaseRoute] = [
    Route("/objects/{id}/access-key", reissue_access_key, methods=["POST"]),
    Route("/allowlist/{client_id}", allowlist, methods=["GET", "PUT", "DELETE"]),
    Route("/audit", audit, methods=["GET"]),
]
