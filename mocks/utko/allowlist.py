"""IP addresses registered for a client system: the seed's "access only from registered addresses".

``utko:allowlist:{client_id}`` holds the networks (JSON list of CIDR strings, a bare address is
a /32 or /128) from which that ESIA client system may call UTKO. A client without an entry may
call from anywhere, so a stand nobody configured behaves as before; an entry with an empty
list shuts the client out. The caller's address is the peer address of the connection
(``request.client``): behind a proxy, register the proxy's address.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from ..core.problems import Problem
from ..core.store import Store

__all__ = ["MAX_NETWORKS", "address_allowed", "load_allowlist", "parse_networks", "remove_allowlist",
           "save_allowlist"]

MAX_NETWORKS = 256
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _key(client_id: str) -> str:
    return f"utko:allowlist:{client_id}"


def parse_networks(value: Any) -> list[str]:
    """The networks of a control request ``{"addresses": [...]}`` in canonical form, or a 422."""
    if not isinstance(value, list) or len(value) > MAX_NETWORKS:
        raise Problem(422, f"addresses must be an array of at most {MAX_NETWORKS} addresses or networks",
                      errors=[{"pointer": "/addresses", "detail": "an array of IP addresses or CIDR networks"}])
    networks, errors = [], []
    for index, item in enumerate(value):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except (TypeError, ValueError):
            errors.append({"pointer": f"/addresses/{index}", "detail": "not an IP address or CIDR network"})
    if errors:
        raise Problem(422, "some addresses are not IP addresses or networks", errors=errors)
    return networks


async def save_allowlist(store: Store, client_id: str, networks: list[str]) -> None:
    await store.set(_key(client_id), json.dumps(networks))


async def remove_allowlist(store: Store, client_id: str) -> bool:
    return await store.delete(_key(client_id)) > 0


async def load_allowlist(store: Store, client_id: str) -> list[str] | None:
    raw = await store.get(_key(client_id))
    return None if raw is None else json.loads(raw)


def address_allowed(address: str | None, networks: list[str]) -> bool:
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network) for network in networks)
