"""The account's routes, for a service to add to its own (:func:`account_routes`)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ..core.bearer import BearerGate
from .acting_pages import ActingPages
from .registration_pages import RegistrationPages
from .sign_in import SignInPages
from .system import AccountSystem
from .web import CALLBACK_PATH, LOGGED_OUT_PATH, Account

__all__ = ["account_routes"]


def account_routes(system: AccountSystem, gate: BearerGate) -> list[BaseRoute]:
    """``/login``, its callback, ``/logout``, the choice of whom to act for and the list; the
    first-login registration and the roles page where ``system.registration``."""
    account = Account(system, gate)
    sign_in, acting = SignInPages(account), ActingPages(account)
    routes: list[BaseRoute] = [
        Route("/login", sign_in.login, methods=["GET"]),
        Route(CALLBACK_PATH, sign_in.callback, methods=["GET"]),
        Route("/logout", sign_in.logout, methods=["POST"]),
        Route(LOGGED_OUT_PATH, sign_in.logged_out, methods=["GET"]),
        Route("/account", acting.home, methods=["GET"]),
        Route("/account/choose", acting.choose_form, methods=["GET"]),
        Route("/account/choose", acting.choose, methods=["POST"]),
    ]
    if system.registration:
        registration = RegistrationPages(account)
        routes += [
            Route("/account/registration", registration.identifier_form, methods=["GET"]),
            Route("/account/registration", registration.identifier, methods=["POST"]),
            Route("/account/registration/consent", registration.consent_form, methods=["GET"]),
            Route("/account/registration/consent", registration.consent, methods=["POST"]),
            Route("/account/roles", registration.roles_form, methods=["GET"]),
            Route("/account/roles", registration.assign, methods=["POST"]),
        ]
    return routes
