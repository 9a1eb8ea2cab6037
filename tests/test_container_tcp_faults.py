"""The TCP fault layer on the container backend: between HAProxy and each replica, so HAProxy's
own health checks meet a blackhole, a reset (before or after the replica takes the request) or a
partition and take the replica out of rotation, and bring it back once the fault is healed.

Marked ``containers`` and skipped, with the reason, when no Docker daemon answers. HAProxy's
checks run on its own timers (``docker/haproxy.cfg.template``: every 250 ms, down after 2
failures), so each test polls, bounded in count and time, for the state HAProxy reaches.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from built_images import images_or_skip
from gosstand.loadtests.failover import carry_out
from gosstand.loadtests.schedule import RunShape, parse_schedule
from gosstand.mocks.core.middleware import REPLICA_HEADER
from gosstand.stand.containers import ContainerStack

pytestmark = [pytest.mark.containers, pytest.mark.slow]

SHAPE = RunShape(duration_s=120, replicas={"esia": 2}, backend="containers", tcp_faults=True)
#: Time HAProxy may take to notice a fault or a heal: its checks' timers, on a busy machine.
NOTICE_S = 20.0


@pytest.fixture(scope="module")
def stack() -> Iterator[ContainerStack]:
    images = images_or_skip()
    with ContainerStack(replicas=2, services=("esia",), images=images, log=lambda message: None,
                        tcp_faults=True) as running:
        yield running


def served_by(url: str) -> str:
    """Which replica answered one health request through HAProxy, or how it failed."""
    try:
        response = httpx.get(f"{url}/_gosstand/health", timeout=3.0, headers={"connection": "close"})
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return response.headers.get(REPLICA_HEADER, str(response.status_code))


def until_only(url: str, wanted: set[str]) -> list[str]:
    """Ask until six answers in a row come from ``wanted`` only (HAProxy's rotation settled);
    what was seen, for the assertion message."""
    seen: list[str] = []
    deadline = time.monotonic() + NOTICE_S
    while time.monotonic() < deadline and len(seen) < 200:
        seen.append(served_by(url))
        if len(seen) >= 6 and set(seen[-6:]) <= wanted:
            return seen
    pytest.fail(f"HAProxy never settled on {sorted(wanted)}: {seen}")


#: What HAProxy's log says of esia-1's checks under each fault: what it says of the real thing.
REASONS = {
    "blackhole": "Layer7 timeout",  # a stopped process or a dead path: the check waits, unanswered
    "reset": 'Socket error, info: "Connection reset by peer"',
    "reset_answer": 'Socket error, info: "Connection reset by peer"',  # the check's answer replaced by a RST
    "partition": 'Layer4 connection problem, info: "Connection refused"',
}


def down_lines(stack: ContainerStack) -> list[str]:
    log = stack.proxies["esia"].get_wrapped_container().logs().decode(errors="replace")
    return [line for line in log.splitlines() if "esia-1 is DOWN" in line and not line.startswith("[")]


def until_down(stack: ContainerStack, before: int) -> list[str]:
    deadline = time.monotonic() + NOTICE_S
    while len(lines := down_lines(stack)) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    return lines[before:]


@pytest.mark.parametrize("fault", list(REASONS))
def test_haproxys_checks_meet_the_fault_and_the_replica_returns_after_it(stack, fault):
    url = stack.urls["esia"]
    until_only(url, {"esia-1", "esia-2"})
    assert {served_by(url) for _ in range(6)} == {"esia-1", "esia-2"}
    downs_before = len(down_lines(stack))
    (action,) = parse_schedule({"actions": [{"at": 1, "service": "esia", "replica": 1, "action": fault,
                                             "duration": 5}]}, SHAPE)
    seen: dict[str, list[str]] = {}

    def check(_: float) -> None:  # while the fault holds: HAProxy takes esia-1 out, esia-2 serves
        seen["during"] = until_only(url, {"esia-2"})
        seen["down"] = until_down(stack, downs_before)

    record = carry_out(action, stack.manifest(), sleep=check)
    assert record.took_effect and record.error is None, record
    (down, *_) = seen["down"]  # HAProxy's own health checks saw it, as they see the real thing
    assert REASONS[fault] in down, down
    # Healed: HAProxy's checks bring esia-1 back, and both replicas serve again.
    deadline = time.monotonic() + NOTICE_S
    answered: set[str] = set()
    while answered != {"esia-1", "esia-2"} and time.monotonic() < deadline:
        answered.add(served_by(url))
        answered &= {"esia-1", "esia-2"}
    assert answered == {"esia-1", "esia-2"}, seen


def test_a_killed_replica_behind_the_layer_is_refused_to_haproxy_as_without_it(stack):
    """The layer stops listening for a replica that refuses connections, so HAProxy's checks and
    connects are refused (and a POST is redispatched) exactly as with no layer in between."""
    url = stack.urls["esia"]
    until_only(url, {"esia-1", "esia-2"})
    before = len(down_lines(stack))
    stack.kill("esia", 1)
    try:
        posted = [httpx.post(f"{url}/_gosstand/health", timeout=3.0).status_code for _ in range(10)]
        (down, *_) = until_down(stack, before)
    finally:
        stack.restart("esia", 1)
    assert REASONS["partition"] in down, down
    assert all(status == 405 for status in posted), posted  # every POST reached a replica: none was a 502
