"""Registration, recovery and unlock: the HTTP side. Each handler reads the request, calls its
flow (:mod:`.registration`, :mod:`.recovery`) and renders the page or redirect it gets back."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...core.context import context
from ..web import read_form, respond
from . import recovery, registration
from .recovery import Purpose

__all__ = ["routes"]


async def registration_page(request: Request) -> Response:
    return respond(request, registration.registration_page())


async def submit_registration(request: Request) -> Response:
    return respond(request, await registration.submit_registration(context(request), await read_form(request)))


async def confirmation_page(request: Request) -> Response:
    page = await registration.confirmation_page(context(request), request.query_params.get("rid", ""))
    return respond(request, page)


async def submit_confirmation(request: Request) -> Response:
    form = await read_form(request)
    page = await registration.submit_confirmation(context(request), form.get("rid", ""),
                                                  form.get("code", "").strip())
    return respond(request, page)


async def activate(request: Request) -> Response:
    return respond(request, await registration.activate(context(request), request.query_params.get("token", "")))


def _purpose(request: Request) -> Purpose:
    return "unlock" if request.url.path.startswith("/login/unlock") else "recovery"


async def recovery_start_page(request: Request) -> Response:
    return respond(request, recovery.start_page(_purpose(request)))


async def submit_recovery_start(request: Request) -> Response:
    login = (await read_form(request)).get("login", "").strip()
    return respond(request, await recovery.submit_start(context(request), _purpose(request), login))


async def recovery_confirm_page(request: Request) -> Response:
    page = await recovery.confirm_page(context(request), _purpose(request), request.query_params.get("rid", ""))
    return respond(request, page)


async def submit_recovery_confirm(request: Request) -> Response:
    page = await recovery.submit_confirm(context(request), _purpose(request), await read_form(request))
    return respond(request, page)


routes: list[BaseRoute] = [
    Route("/registration", registration_page, methods=["GET"]),
    Route("/registration", submit_registration, methods=["POST"]),
    Route("/registration/confirm", confirmation_page, methods=["GET"]),
    Route("/registration/confirm", submit_confirmation, methods=["POST"]),
    Route("/registration/activate", activate, methods=["GET"]),
    *(
        route
        for start in (path for _, path in recovery.PURPOSES.values())
        for route in (
            Route(start, recovery_start_page, methods=["GET"]),
            Route(start, submit_recovery_start, methods=["POST"]),
            Route(f"{start}/confirm", recovery_confirm_page, methods=["GET"]),
            Route(f"{start}/confirm", submit_recovery_confirm, methods=["POST"]),
        )
    ),
]
