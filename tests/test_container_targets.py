"""The container backend where users choose it: the conformance target ``containers``, the load
run's ``--backend containers`` and the ``restart`` failover action.

The fast tests need no Docker; the one marked ``containers`` starts a small container stack and
is skipped, with the reason, when no Docker daemon answers.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import httpx
import pytest
from gosstand.conformance import targets
from gosstand.conformance.targets import TargetOptions, TargetUnavailable, open_target
from gosstand.loadtests import run
from gosstand.loadtests.failover import inject
from gosstand.loadtests.schedule import RunShape, ScheduleError, parse_schedule
from gosstand.stand import containers
from gosstand.stand.backends import stack_factory
from gosstand.stand.containers import ContainerStack, docker_unavailable_reason
from gosstand.stand.stack import EmbeddedStack


def test_containers_is_a_target_kind_from_the_command_line_or_the_environment() -> None:
    assert TargetOptions.from_values({"target": "containers"}).kind == "containers"
    from_env = TargetOptions.from_values({}, environ={"GOSSTAND_TARGET": "containers", "GOSSTAND_REPLICAS": "3"})
    assert (from_env.kind, from_env.replicas) == ("containers", 3)
    assert from_env.urls == {} and from_env.control_token is None


def test_a_container_target_serves_its_own_contracts() -> None:
    target = targets.Target(kind="containers", urls={"fts": "http://127.0.0.1:1"}, control_token="t")
    assert target.contract_location("fts") == "http://127.0.0.1:1/_gosstand/openapi.yaml"


def test_a_container_target_without_docker_is_unavailable_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(containers, "docker_unavailable_reason", lambda: "no Docker daemon answers; start dockerd")

    def must_not_start(*_: object, **__: object) -> None:
        raise AssertionError("no stack may start without Docker")

    monkeypatch.setattr(containers, "ContainerStack", must_not_start)
    with pytest.raises(TargetUnavailable, match="containers: no Docker daemon answers"):
        open_target(TargetOptions(kind="containers"))


def test_the_load_run_picks_the_stack_of_its_backend() -> None:
    parser = argparse.ArgumentParser()
    run.add_arguments(parser)
    assert parser.parse_args([]).backend == "embedded"
    assert parser.parse_args(["--backend", "containers"]).backend == "containers"
    assert stack_factory("containers") is ContainerStack
    assert stack_factory("embedded") is EmbeddedStack


CONTAINERS = RunShape(duration_s=60, replicas={"esia": 2}, backend="containers")


def restart(shape: RunShape = CONTAINERS, action: str = "restart"):
    (parsed,) = parse_schedule({"actions": [{"at": 3, "service": "esia", "replica": 1, "action": action}]}, shape)
    return parsed


def test_restart_is_a_failover_action_and_unknown_ones_are_refused() -> None:
    assert restart().action == "restart"
    with pytest.raises(ScheduleError, match="entry 1, action: 'reboot' is not an action.*restart"):
        restart(action="reboot")
    with pytest.raises(ScheduleError, match="restart needs the container backend"):
        restart(RunShape(duration_s=60, replicas={"esia": 2}, backend="embedded"))


@pytest.fixture(scope="module")
def esia_in_containers() -> Iterator[ContainerStack]:
    reason = docker_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with ContainerStack(replicas=2, services=("esia",), log=lambda message: None) as stack:
        yield stack


@pytest.mark.containers
@pytest.mark.slow
def test_a_scheduled_restart_brings_a_killed_replica_back_and_records_when(
    esia_in_containers: ContainerStack,
) -> None:
    stack = esia_in_containers
    stack.kill("esia", 1)
    assert stack.replica("esia", 1).status() == "exited"
    manifest = stack.manifest()

    record = inject(restart(), manifest)

    assert record.action == "restart" and record.target == "esia-1" and record.took_effect
    assert record.removed_at is not None and record.removed_at >= record.injected_at
    assert stack.replica("esia", 1).status() == "running"
    health = httpx.get(f"{stack.replica('esia', 1).url}/_gosstand/health", timeout=5)
    assert health.status_code == 200
