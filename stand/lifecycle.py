"""The ending the embedded and container stacks share.

Both put a TCP fault layer in front of their replicas on request and keep their state (keys,
logs, the manifest, SQLite files) in a directory they may have made themselves. How each stops
its replicas differs — signals to process groups, ``docker stop`` — but what comes after is the
same: the layer goes, then the directory if the stack made it, and ``with`` means start then
close. It lives here once so the two cannot drift apart (a stack that forgot the layer left a
process holding the service's port behind).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Self

from .tcpfaults_control import LayerProcess

__all__ = ["StackLifecycle"]


class StackLifecycle:
    """Mixed into a stack class that sets ``layer``, ``state_dir`` and ``_own_state_dir``."""

    layer: LayerProcess | None
    state_dir: Path | None
    _own_state_dir: bool

    def start(self) -> Self:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _release_layer_and_state(self) -> None:
        """Stop the TCP fault layer, then remove the state directory if this stack made it."""
        if self.layer is not None:
            self.layer.close()
        if self._own_state_dir and self.state_dir is not None:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
