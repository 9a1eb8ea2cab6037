"""The control API every mock shares, under ``/_gosstand/control`` (token-protected).

Service-specific endpoints (seeding ESIA users, reading the SMS outbox…) live beside each
service and are mounted next to these.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .context import context
from .json_body import read_json
from .near_misses import near_misses
from .problems import Problem
from .query import bounded_int


async def reset(request: Request) -> Response:
    """Forget every piece of state of this service (all replicas): users, codes, declarations."""
    await context(request).store.flush()
    return Response(status_code=204)


async def clock(request: Request) -> Response:
    """``GET`` shows the mock's time; ``POST {"advance": s}``, ``{"freeze": true|epoch}``,
    ``{"resume": true}`` or ``{"reset": true}`` moves it for every replica."""
    clk = context(request).clock
    if request.method == "POST":
        body = await read_json(request)
        if not isinstance(body, dict):
            raise Problem(422, "expected an object such as {\"advance\": 300}")
        if "advance" in body:
            seconds = body["advance"]
            if not isinstance(seconds, int | float) or isinstance(seconds, bool):
                raise Problem(422, "advance must be a number of seconds",
                              errors=[{"pointer": "/advance", "detail": "not a number"}])
            await clk.advance(float(seconds))
        elif "freeze" in body:
            at = body["freeze"]
            await clk.freeze(None if at is True else float(at))
        elif body.get("resume"):
            await clk.resume()
        elif body.get("reset"):
            await clk.reset()
        else:
            raise Problem(422, "say one of advance, freeze, resume or reset")
        await asyncio.sleep(clk.cache_seconds)  # until every replica's cached reading has expired
    return JSONResponse(await clk.describe())


async def faults(request: Request) -> Response:
    """``GET`` lists the fault rules with their counts; ``POST`` adds one (:mod:`.faults`);
    ``DELETE`` removes them all. A change answers once every replica applies it."""
    book = context(request).faults
    if request.method == "POST":
        rule = await book.add(await read_json(request))
        await asyncio.sleep(book.cache_seconds)
        return JSONResponse(rule.public(), status_code=201,
                            headers={"Location": f"{request.url.path}/{rule.id}"})
    if request.method == "DELETE":
        await book.clear()
        await asyncio.sleep(book.cache_seconds)
        return Response(status_code=204)
    return JSONResponse({"faults": await book.describe()})


async def fault(request: Request) -> Response:
    """``GET`` one rule with its counts; ``DELETE`` ends it."""
    book = context(request).faults
    rule_id = request.path_params["rule_id"]
    if request.method == "DELETE":
        if not await book.remove(rule_id):
            raise Problem(404, f"no fault rule {rule_id}")
        await asyncio.sleep(book.cache_seconds)
        return Response(status_code=204)
    found = [rule for rule in await book.describe() if rule["id"] == rule_id]
    if not found:
        raise Problem(404, f"no fault rule {rule_id}")
    return JSONResponse(found[0])


async def requests(request: Request) -> Response:
    """The request journal (:mod:`.journal`). ``GET ?method=&path=<glob>&status=&after=<seq>&limit=``
    reads it — with ``unmatched=true`` only the requests no API route took, each with its
    ``nearMisses`` (:mod:`.near_misses`); ``POST {"record": true|false}`` switches it on or off;
    ``DELETE`` empties it."""
    journal = context(request).journal
    if request.method == "POST":
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("record"), bool) or len(body) != 1:
            raise Problem(422, 'say {"record": true} or {"record": false}',
                          errors=[{"pointer": "/record", "detail": "true or false"}])
        await journal.switch(body["record"])
        await asyncio.sleep(journal.cache_seconds)
        return JSONResponse({"recording": body["record"]})
    if request.method == "DELETE":
        await journal.clear()
        return Response(status_code=204)
    query = request.query_params
    errors: list[dict[str, str]] = []
    limit = bounded_int(query, "limit", 100, 1, 1000, errors)
    status = bounded_int(query, "status", 0, 100, 599, errors) if "status" in query else None
    after = bounded_int(query, "after", 0, 0, 2**62, errors)
    unmatched = query.get("unmatched", "false")
    if unmatched not in ("true", "false"):
        errors.append({"parameter": "unmatched", "detail": "true or false"})
    if errors:
        raise Problem(400, "the query is malformed", errors=errors)
    found = await journal.find(limit=limit, method=query.get("method"), path=query.get("path"),
                               status=status, after=after, unmatched=unmatched == "true")
    if unmatched == "true":
        routes = request.app.state.definition.routes
        for item in found["items"]:
            item["nearMisses"] = near_misses(item["method"], item["path"], routes)
    return JSONResponse(found)


common_routes = [
    Route("/reset", reset, methods=["POST"]),
    Route("/clock", clock, methods=["GET", "POST"]),
    Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/faults/{rule_id}", fault, methods=["GET", "DELETE"]),
    Route("/requests", requests, methods=["GET", "POST", "DELETE"]),
]
