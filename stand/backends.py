"""Which stack class runs a backend: the one place ``embedded`` and ``containers`` become classes.

The container stack's module is imported only when it is asked for: the embedded backend, the
common case, should not pay for Docker's client library at start.
"""

from __future__ import annotations

from typing import Literal

from .protocol import StackFactory

__all__ = ["BACKENDS", "StackBackend", "stack_factory"]

#: The backends whose stack gosstand starts itself (``--backend``).
StackBackend = Literal["embedded", "containers"]
BACKENDS: tuple[StackBackend, ...] = ("embedded", "containers")


def stack_factory(backend: StackBackend) -> StackFactory:
    """The class that starts a ``backend`` stack, typed as what every such class is."""
    if backend == "containers":
        from .containers import ContainerStack

        return ContainerStack
    from .stack import EmbeddedStack

    return EmbeddedStack
