"""Serving a service's OpenAPI document with ``servers`` pointing at this deployment."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


@lru_cache(maxsize=8)
def load_contract(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def contract_for(path: Path, public_url: str) -> dict[str, Any]:
    document = dict(load_contract(path))
    document["servers"] = [{"url": public_url, "description": "this gosstand deployment"}]
    return document


def render(document: dict[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2).encode()
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode()
