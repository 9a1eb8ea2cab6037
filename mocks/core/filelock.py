"""One process at a time across processes and containers: an exclusive ``flock`` on a file.

``flock`` is kept by the kernel per inode, so it also excludes processes in other containers
that see the file through a bind mount, and it is released when its holder dies — a killed
process never leaves a stale lock behind, unlike a lock *file* whose existence is the lock.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["exclusive"]


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the ``with`` block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
