"""Run one replica: ``python -m gosstand.mocks.core.serve`` with ``GOSSTAND_*`` settings.

Granian serves the app (measured faster than uvicorn for this stack; see the README's
Performance section). Every granian listener sets SO_REUSEPORT, so N replica processes of a
service bind the same loopback port and the kernel spreads connections between them: when
one is killed, new connections go to the survivors.
"""

from __future__ import annotations

import os

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from .settings import Settings


def main() -> None:
    Settings.from_env()  # fail here, in the parent, on bad settings
    Granian(
        "gosstand.mocks.core.app:app_from_env",
        factory=True,
        address=os.environ.get("GOSSTAND_HOST", "127.0.0.1"),
        port=int(os.environ.get("GOSSTAND_PORT", "8000")),
        interface=Interfaces.ASGI,
        workers=1,
        log_level=LogLevels(os.environ.get("GOSSTAND_LOG_LEVEL", "warning")),
    ).serve()


if __name__ == "__main__":
    main()
