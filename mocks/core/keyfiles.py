"""Key files that many replicas create once and then share.

A key pair is two files — the private key and its certificate — and every replica of a stack
must end up reading the same pair. Replicas start together, and in containers they share the
keys directory through a bind mount while each has its own PID namespace (every replica is
PID 7 there), so neither "the first to rename wins" per file nor a PID-named temporary file
keeps them apart: two creators could each win one file of the pair, or write the same
temporary name.

:func:`create_once` holds an exclusive ``flock`` on a lock file beside the pair while it
checks and writes. ``flock`` is kept by the kernel per inode, so it excludes processes in
other containers on the same host too. Each file is written under a unique temporary name and
renamed into place, so a reader that does not take the lock never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .filelock import exclusive

LOCK_FILE = ".create.lock"


def create_once(directory: Path, names: Sequence[str], make: Callable[[], Sequence[bytes]]) -> None:
    """Make sure the files ``names`` exist in ``directory``, writing ``make()`` if any is missing.

    Among racing processes ``make`` runs at most once. Its contents (one per name) are written
    in order, so a reader that sees the last file also sees the others.
    """
    with exclusive(directory / LOCK_FILE):
        if all((directory / name).exists() for name in names):
            return
        contents = make()
        if len(contents) != len(names):
            raise ValueError(f"make() gave {len(contents)} files for {len(names)} names")
        for name, data in zip(names, contents, strict=True):
            _write_atomically(directory / name, data)


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
