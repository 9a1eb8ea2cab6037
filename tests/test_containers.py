"""The stack in Docker containers: replicas behind HAProxy sharing one Redis.

Marked ``containers`` and skipped, with the reason, when no Docker daemon answers. The images
are built (or reused when unchanged) by the fixture; CI builds them in an earlier step with
``gosstand containers build --offline``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import probe_comparison as compare
import pytest
from built_images import images_or_skip
from gosstand.mocks.core.middleware import REPLICA_HEADER
from gosstand.scenarios import esia_login
from gosstand.scenarios.control import StackControl
from gosstand.scenarios.esia_client import RelyingParty, make_test_identity
from gosstand.scenarios.esia_login import EsiaJourneyError
from gosstand.scenarios.http import HttpResponse, HttpxClient, TransportFailure
from gosstand.stand.actions import ReplicaAction, perform
from gosstand.stand.containers import ContainerStack, clean
from gosstand.stand.images import docker_client
from gosstand.stand.manifest import StackManifest

pytestmark = [pytest.mark.containers, pytest.mark.slow]

CLIENT_ID = "CONTAINERSYS"
REDIRECT = "https://rp.example/callback"
PASSWORD = "Secret-Passw0rd"


@pytest.fixture(scope="module")
def stack() -> Iterator[ContainerStack]:
    images = images_or_skip()
    with ContainerStack(replicas=2, services=("esia",), images=images, log=lambda message: None) as running:
        yield running


@dataclass
class RecordingClient(HttpxClient):
    """The journeys' client, remembering which replica answered each step."""

    served_by: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(timeout=10.0)

    def send(self, method: str, url: str, *, name: str, **kwargs) -> HttpResponse:  # type: ignore[override]
        response = super().send(method, url, name=name, **kwargs)
        self.served_by.append((name, response.headers.get(REPLICA_HEADER.lower(), "")))
        return response


@dataclass
class Esia:
    control: StackControl
    rp: RelyingParty

    def person(self, phone: str) -> str:
        self.control.seed_user(
            phone=phone, password=PASSWORD, email=f"{phone[-7:]}@example.ru",
            person={"firstName": "Иван", "lastName": "Петров", "middleName": "Сергеевич",
                    "birthDate": "01.02.1980", "gender": "M"},
        )
        return phone

    def authorize(self, http: HttpxClient, url: str, phone: str, password: str = PASSWORD) -> str:
        return esia_login.authorize(http, esia_url=url, rp=self.rp, login=phone, password=password,
                                    read_sms=self.control.read_sms)

    def login(self, http: HttpxClient, url: str, phone: str, password: str = PASSWORD) -> esia_login.TokenSet:
        code = self.authorize(http, url, phone, password)
        return esia_login.exchange(http, esia_url=url, rp=self.rp, code=code)


@pytest.fixture(scope="module")
def esia(stack: ContainerStack) -> Esia:
    control = StackControl(stack.urls, stack.control_token)
    certificate, key = make_test_identity("gosstand container tests")
    rp = RelyingParty(CLIENT_ID, REDIRECT, certificate, key, clock=lambda: control.now("esia"))
    control.register_client(CLIENT_ID, redirect_uris=[REDIRECT], certificate=rp.certificate_pem)
    return Esia(control=control, rp=rp)


def replica_url(stack: ContainerStack, index: int) -> str:
    return stack.replica("esia", index).url


def test_every_replica_answers_through_haproxy_and_state_is_in_redis(stack):
    seen = {httpx.get(f"{stack.urls['esia']}/_gosstand/health").headers[REPLICA_HEADER] for _ in range(6)}
    assert seen == {"esia-1", "esia-2"}
    manifest = StackManifest.load(stack.write_manifest())
    assert manifest.backend == "containers" and (manifest.store or "").startswith("redis://127.0.0.1:")
    assert [entry.status for entry in manifest.replicas["esia"]] == ["running", "running"]


def test_an_error_answered_before_a_large_body_is_read_reaches_the_client(stack):
    """A client still sending a large body gets the answer that came before the body was read
    (here ESIA-007014 for a JSON body at te), through HAProxy. Before WholeBody read the rest of
    the body first, about a third of these connections were reset and the answer lost."""
    body = json.dumps({"client_id": "X", "padding": "x" * 800_000}).encode()
    for _ in range(20):
        with httpx.Client(timeout=10) as client:
            answer = client.post(f"{stack.urls['esia']}/aas/oauth2/te", content=body,
                                 headers={"Content-Type": "application/json"})
        assert answer.status_code == 400 and "ESIA-007014" in answer.json()["error_description"]


def test_code_issued_by_one_replica_is_redeemed_at_another(stack, esia):
    phone = esia.person("+79990000101")
    with RecordingClient() as browser:
        code = esia.authorize(browser, replica_url(stack, 1), phone)
        assert {replica for _, replica in browser.served_by} == {"esia-1"}
    with RecordingClient() as back_end:
        tokens = esia_login.exchange(back_end, esia_url=replica_url(stack, 2), rp=esia.rp, code=code)
        assert back_end.served_by == [("esia: te", "esia-2")]
        assert tokens.access_token
        with pytest.raises(EsiaJourneyError) as reused:  # single use, whichever replica is asked
            esia_login.exchange(back_end, esia_url=replica_url(stack, 1), rp=esia.rp, code=code)
        assert reused.value.status == 400


def test_lockout_is_counted_across_replicas(stack, esia):
    phone = esia.person("+79990000102")
    for attempt, index in enumerate((1, 2, 1)):
        with HttpxClient() as browser, pytest.raises(EsiaJourneyError) as refused:
            esia.login(browser, replica_url(stack, index), phone, password="wrong")
        assert refused.value.step == "esia: login"
        assert refused.value.status == (403 if attempt == 2 else 400)
    with HttpxClient() as browser, pytest.raises(EsiaJourneyError) as locked:
        esia.login(browser, replica_url(stack, 2), phone)
    assert locked.value.status == 403 and "заблокирована" in str(locked.value)
    esia.control.advance_clock("esia", 15 * 60 + 1)
    with HttpxClient() as browser:
        assert esia.login(browser, replica_url(stack, 2), phone).access_token


def test_pause_unpause_and_kill_through_the_manifest(stack):
    manifest = StackManifest.load(stack.write_manifest())
    paused = perform(manifest, "esia", 2, ReplicaAction.PAUSE)
    assert paused.took_effect and paused.seen.endswith("paused")
    assert stack.replica("esia", 2).status() == "paused"
    with pytest.raises(httpx.TimeoutException):
        httpx.get(f"{replica_url(stack, 2)}/_gosstand/health", timeout=0.5)
    assert perform(manifest, "esia", 2, ReplicaAction.UNPAUSE).took_effect
    assert httpx.get(f"{replica_url(stack, 2)}/_gosstand/health", timeout=5).status_code == 200
    killed = perform(manifest, "esia", 2, ReplicaAction.KILL)  # what the load run's failover schedule calls
    assert killed.took_effect and stack.replica("esia", 2).status() == "exited"
    again = perform(manifest, "esia", 2, ReplicaAction.PAUSE)  # a dead replica cannot be paused
    assert not again.took_effect
    stack.restart("esia", 2)
    assert httpx.get(f"{replica_url(stack, 2)}/_gosstand/health", timeout=5).headers[REPLICA_HEADER] == "esia-2"


#: How long after a kill a login may still fail: until HAProxy's checks mark the replica down
#: (docker/haproxy.cfg.template: ``fall 2`` at ``inter 250ms`` / ``fastinter 100ms``, under 1 s)
#: a request it sends there can land in the dying replica and be cut by ``shutdown-sessions``.
#: Measured by time, not by logins: on a fast machine eight logins fit in that second.
DETECTION_WINDOW_S = 3.0


def test_logins_continue_through_haproxy_when_a_replica_is_killed(stack, esia):
    phone = esia.person("+79990000103")
    url = stack.urls["esia"]
    #: (seconds since the kill at the login's start, or None before it; succeeded; replicas that served)
    outcomes: list[tuple[float | None, bool, set[str]]] = []
    failures: list[str] = []  # what each failed login said, for the assertion messages
    killed_at: float | None = None
    deadline = time.monotonic() + 90
    for attempt in range(400):  # bounded in count and time (a login takes 40 ms on a quiet machine)
        settled = [o for o in outcomes if o[0] is not None and o[0] > DETECTION_WINDOW_S]
        if time.monotonic() > deadline or len(settled) >= 10:
            break
        if attempt == 6:
            stack.kill("esia", 1)
            killed_at = time.monotonic()
        since = None if killed_at is None else time.monotonic() - killed_at
        with RecordingClient() as browser:
            try:
                esia.login(browser, url, phone)
                outcomes.append((since, True, {replica for _, replica in browser.served_by}))
            except (EsiaJourneyError, TransportFailure) as exc:
                outcomes.append((since, False, {replica for _, replica in browser.served_by}))
                failures.append(f"login {attempt}, {since if since is None else round(since, 2)} s after the "
                                f"kill: {exc} (served by {browser.served_by})")
    before = [o for o in outcomes if o[0] is None]
    detecting = [o for o in outcomes if o[0] is not None and o[0] <= DETECTION_WINDOW_S]
    settled = [o for o in outcomes if o[0] is not None and o[0] > DETECTION_WINDOW_S]
    assert all(ok for _, ok, _ in before), failures
    assert set().union(*(served for _, _, served in before)) == {"esia-1", "esia-2"}
    assert sum(not ok for _, ok, _ in detecting) <= 2, failures  # a reset or two while HAProxy notices
    assert len(settled) >= 10 and all(ok for _, ok, _ in settled), failures
    assert all(served <= {"esia-2", ""} for _, _, served in settled)
    stack.restart("esia", 1)
    back = time.monotonic() + 30
    while time.monotonic() < back:  # HAProxy's health check brings it back into rotation
        if httpx.get(f"{url}/_gosstand/health").headers[REPLICA_HEADER] == "esia-1":
            break
    else:
        pytest.fail("esia-1 never came back into HAProxy's rotation")


def _haproxy_says(stack: ContainerStack, service: str, text: str) -> int:
    """How many of HAProxy's own log lines (not the copies it prefixes with a level) hold ``text``."""
    log = stack.proxies[service].get_wrapped_container().logs().decode(errors="replace")
    return sum(text in line for line in log.splitlines() if not line.startswith("["))


def test_when_every_replicas_checks_fail_haproxy_still_sends_to_them_rather_than_503(stack):
    """Panic mode. On a starved machine live replicas can miss their health checks together; a
    balancer that then answers 503 "no server available" to everyone until two checks in a row
    pass again makes an outage of its own (seen: 13.8 s of 503s around a 2-s pause). Paused
    together, both replicas are taken out; the moment they resume, a request is answered by one
    of them — through the unchecked fallback servers — while the checks have yet to bring them
    back. (With no fallback, that request was a 503 for rise × downinter after the pause.)"""
    url = f"{stack.urls['esia']}/_gosstand/health"
    manifest = StackManifest.load(stack.write_manifest())
    downs = {name: _haproxy_says(stack, "esia", f"{name} is DOWN") for name in ("esia-1", "esia-2")}
    for index in (1, 2):
        assert perform(manifest, "esia", index, ReplicaAction.PAUSE).took_effect
    try:
        deadline = time.monotonic() + 30
        while any(_haproxy_says(stack, "esia", f"{name} is DOWN") == before for name, before in downs.items()):
            assert time.monotonic() < deadline, "HAProxy's checks never took both paused replicas out"
            time.sleep(0.1)
    finally:
        for index in (1, 2):
            perform(manifest, "esia", index, ReplicaAction.UNPAUSE)
    response = httpx.get(url, timeout=5.0)
    assert response.status_code == 200 and response.headers[REPLICA_HEADER] in {"esia-1", "esia-2"}, response.text
    deadline = time.monotonic() + 30  # the checks bring both back for the tests after this one
    while {httpx.get(url, timeout=5.0).headers.get(REPLICA_HEADER) for _ in range(4)} != {"esia-1", "esia-2"}:
        assert time.monotonic() < deadline, "HAProxy never brought both replicas back"
        time.sleep(0.1)


def test_clean_removes_containers_by_label(stack):
    from testcontainers.core.container import DockerContainer

    assert stack.images is not None
    leftover = DockerContainer(stack.images.redis).with_command(["sleep", "60"]).with_kwargs(
        network_mode="host", labels={"org.gosstand": "true", "org.gosstand.stack": "crashed-run"})
    leftover.start()
    name = leftover.get_wrapped_container().name
    assert clean(stack="crashed-run") == [name]
    assert clean(stack="crashed-run") == []


@pytest.fixture(scope="module")
def images() -> object:
    """The images the fixtures' stacks run (built once, reused while unchanged)."""
    return images_or_skip()


def test_a_stack_given_a_state_directory_keeps_each_containers_log_there_when_it_closes(images, tmp_path):
    """A load run's directory keeps what each replica, the balancer and Redis said, after the
    containers (and Docker's copy of their output) are removed: here HAProxy's own account of a
    kill, which an SRE reads beside the report's figures."""
    state = tmp_path / "stack"
    with ContainerStack(replicas=2, services=("esia",), images=images, state_dir=state,
                        log=lambda message: None) as running:
        running.kill("esia", 1)
        killed_at = time.time()
        deadline = time.monotonic() + 30
        while not _haproxy_says(running, "esia", "esia_replicas/esia-1 is DOWN"):  # checks every 250 ms
            assert time.monotonic() < deadline, "HAProxy never took the killed esia-1 out"
            time.sleep(0.1)
        names = [container.get_wrapped_container().name for container in running._named_containers().values()
                 if container is not None]
    logs = state / "logs"
    assert sorted(path.name for path in logs.iterdir()) == ["esia-1.log", "esia-2.log", "haproxy-esia.log",
                                                             "redis.log"]
    [down] = [line for line in (logs / "haproxy-esia.log").read_text().splitlines()
              if "esia_replicas/esia-1 is DOWN" in line and "[WARNING]" not in line]
    stamp = datetime.fromisoformat(down.split(" ", 1)[0][:26] + "+00:00")  # Docker's RFC 3339, ns cut to µs
    assert killed_at - 1 <= stamp.timestamp() <= killed_at + 30  # when HAProxy said it, on the run's clock
    assert "Ready to accept connections" in (logs / "redis.log").read_text()
    client = docker_client()
    assert not [name for name in names if client.containers.list(all=True, filters={"name": name})]


@pytest.fixture(scope="module")
def probed_through_haproxy(images: object, tmp_path_factory: pytest.TempPathFactory) -> dict[str, compare.Observed]:
    """One run of the container stack, the pause and then the kill of the same FTS replica, each
    after as much load and with as long an episode as a run of its own gave it (HAProxy's checks
    have the unpaused replica back in a second, long before the kill)."""
    base = tmp_path_factory.mktemp("probe")
    with ContainerStack(replicas=compare.REPLICAS, services=("esia", "fts"), images=images,
                        log=lambda message: None) as stack:
        observed = compare.observe(stack, compare.PAUSE_THEN_KILL, base)
    return {one.failover["failover"]["action"]: one for one in observed}


@pytest.mark.parametrize("action", ["kill", "pause"])
def test_failover_figures_agree_with_an_independent_probe_through_haproxy(
    action: str, probed_through_haproxy: dict[str, compare.Observed]
) -> None:
    """The embedded test's comparison (tests/test_failover_probe.py) with HAProxy in front, which
    routes each request, takes a replica out when its checks fail and retries the GETs a paused
    replica held on the other one (so a pause may cost a 1-s client nothing). The canary asks
    what the probe asks (a health GET) and is compared at every edge; the load's declarations
    (POSTs with bodies) meet the balancer at other moments than health GETs do — seen: 0.3 s
    before them after a kill — so of the load, the end of the outage (TTR) is compared after a
    kill, and its figures are checked against the definitions exactly. After a pause it is not:
    HAProxy retries the GETs the paused replica held, but not a POST it may have applied, which
    it ends with a 5xx when it takes the replica out — seen: the probe and canary saw nothing,
    six declarations failed at 0.88 s."""
    observed = probed_through_haproxy[action]
    compare.check_both_observers_were_watching(observed, balancer_retries_held_gets=True)
    compare.check_definitions_applied_to_the_loads_records(observed)
    compare.check_canary_agrees_with_the_probe(observed, balancer_retries_held_gets=True)
    if action == "kill":
        compare.check_time_to_recover(observed)
