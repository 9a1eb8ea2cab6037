"""What every stack is: the life cycle and failover API the embedded, container and in-process
stacks share."""

from __future__ import annotations


class StackError(RuntimeError):
    """The stack could not start (a replica died, a port never answered)."""
