"""UTKO's own control endpoints, mounted under ``/_gosstand/control`` behind the control token:

- ``POST /objects/{id}/access-key`` — (re)issue the object's weight-control access key;
  body ``{"accessKey": "…"}`` sets a known key, an empty body or ``{}`` draws a random one →
  200 ``{"objectId", "accessKey"}``; the previous key stops working. 404 for an unknown object.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core.context import context
from ..core.problems import Problem, json_object, read_json
from .access_keys import issue_access_key
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
    if await ObjectRepository(store).get(object_id) is None:
        raise Problem(404, "no object has this id")
    issued = await issue_access_key(store, object_id, access_key=wanted)
    return JSONResponse({"objectId": object_id, "accessKey": issued})


control_routes = [
    Route("/objects/{id}/access-key", reissue_access_key, methods=["POST"]),
]
