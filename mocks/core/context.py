"""What a request handler may reach: the replica's settings, the shared store, the clock and the
fault rules."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from .clock import Clock
from .faults import FaultBook
from .settings import Settings
from .store import Store


@dataclass(frozen=True, slots=True)
class ServiceContext:
    settings: Settings
    store: Store
    clock: Clock
    faults: FaultBook


def context(request: Request) -> ServiceContext:
    return request.app.state.ctx
