"""Serving a service's OpenAPI document with ``servers`` pointing at this deployment.

The document is read and rendered when it is first asked for, not when a replica starts:
parsing and dumping the three services' YAML took most of a replica's app creation (about
0.3 s of CPU per replica with PyYAML's pure-Python parser, six replicas starting at once on two
cores), and a load run's replicas are seldom asked for their contract. libyaml's parser and
emitter (PyYAML's ``C`` classes, used where PyYAML was built with them) read the same data and
write the same bytes, several times faster.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

__all__ = ["FORMATS", "ServedContract", "contract_for", "load_contract", "render"]

#: Media type of each format the contract is served in.
FORMATS = {"yaml": "application/yaml", "json": "application/json"}


def _yaml() -> tuple[type[yaml.SafeLoader], type[yaml.SafeDumper]]:
    """PyYAML's safe loader and dumper, libyaml's where PyYAML has them (imported on first use)."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader), getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@lru_cache(maxsize=8)
def load_contract(path: Path) -> dict[str, Any]:
    import yaml

    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_yaml()[0])  # a safe loader (_yaml)
        return document


def contract_for(path: Path, public_url: str) -> dict[str, Any]:
    document = dict(load_contract(path))
    document["servers"] = [{"url": public_url, "description": "this gosstand deployment"}]
    return document


def render(document: dict[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2).encode()
    import yaml

    return yaml.dump(document, Dumper=_yaml()[1], allow_unicode=True, sort_keys=False).encode()


class ServedContract:
    """One replica's contract, rendered in each format the first time that format is asked for
    and kept (the document does not change while the replica runs)."""

    def __init__(self, path: Path, public_url: str) -> None:
        self.path, self.public_url = path, public_url
        self._bodies: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def body(self, fmt: str) -> bytes:
        """The document in ``fmt`` (a key of :data:`FORMATS`)."""
        if fmt not in FORMATS:
            raise ValueError(f"the contract is served as {' or '.join(FORMATS)}, not {fmt!r}")
        with self._lock:  # rendered once even when the first two asks come together
            if fmt not in self._bodies:
                self._bodies[fmt] = render(contract_for(self.path, self.public_url), fmt)
            return self._bodies[fmt]
