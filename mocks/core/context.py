"""What a request handler may reach: the replica's settings, the shared store, the clock, the
fault rules and the request journal."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from .clock import Clock
from .faults import FaultBook
from .journal import Journal
from .settings import Settings
from .store import Store


@dataclass(frozen=True, slots=True)
class ServiceContext:
    settings: Settings
    store: Store
    clock: Clock
    faults: FaultBook
    journal: Journal


def context(request: Request) -> ServiceContext:
    return request.app.state.ctx
