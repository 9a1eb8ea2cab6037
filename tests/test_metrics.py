"""``/metrics`` as Prometheus scrapes it: every replica's requests by route template and status
class, the faults that hit, the rules in force and the store's health — in the text format
prometheus_client's own parser reads, with counts that move with the traffic, and (on the
embedded stack, whose replicas share one port) each scrape giving the whole service's series
whichever replica answers it."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from gosstand.mocks.core.metrics import UNMATCHED
from gosstand.scenarios.control import StackControl
from gosstand.stand.ports import free_port
from gosstand.stand.stack import EmbeddedStack
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

pytestmark = pytest.mark.stack
REQUESTS = "gosstand_http_request_duration_seconds"


@pytest.fixture(scope="module")
def stack() -> Iterator[EmbeddedStack]:
    with EmbeddedStack(replicas=2, services=("fts",)) as running:
        yield running


def _scrape(url: str) -> tuple[str, list[Sample]]:
    answer = httpx.get(f"{url}/metrics", headers={"connection": "close"}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = [sample for family in text_string_to_metric_families(answer.text) for sample in family.samples]
    return answer.text, samples


def _scrape_until(url: str, settled: Callable[[list[Sample]], bool]) -> tuple[str, list[Sample]]:
    """Scrape until ``settled``: a replica adds its requests to the shared series once a second,
    so the other replica's last second may take that long to show. Bounded: 10 s."""
    deadline = time.monotonic() + 10
    text, samples = _scrape(url)
    while not settled(samples) and time.monotonic() < deadline:
        time.sleep(0.2)
        text, samples = _scrape(url)
    return text, samples


def _count(samples: list[Sample], **labels: str) -> float:
    return sum(s.value for s in samples if s.name == f"{REQUESTS}_count"
               and all(s.labels.get(k) == v for k, v in labels.items()))


def _fresh_get(url: str) -> httpx.Response:
    return httpx.get(url, headers={"connection": "close"}, timeout=10)  # the kernel picks a replica each time


def test_counts_move_with_traffic_by_route_template_whichever_replica_is_scraped(stack: EmbeddedStack) -> None:
    fts = stack.urls["fts"]
    _, before = _scrape(fts)
    served = {_fresh_get(f"{fts}/api/v1/declarations/{n:08d}-0000-4000-8000-000000000000").headers[
        "x-gosstand-replica"] for n in range(12)}
    for n in range(5):
        assert _fresh_get(f"{fts}/no/such/path/{n}").status_code == 404
    route = "/api/v1/declarations/{id}"

    def moved(samples: list[Sample], route: str = route) -> float:
        return _count(samples, route=route, status="4xx") - _count(before, route=route, status="4xx")

    text, after = _scrape_until(fts, lambda samples: moved(samples) >= 12 and moved(samples, UNMATCHED) >= 5)
    assert moved(after) == 12  # without a token: 401s, counted under the template, not 12 raw paths
    assert _count(after, route=UNMATCHED, status="4xx") - _count(before, route=UNMATCHED, status="4xx") == 5
    assert "/no/such/path" not in text and "00000001-0000" not in text
    assert served == {"fts-1", "fts-2"}  # both replicas served, and their series come in every scrape:
    for _ in range(4):
        _, again = _scrape(fts)
        assert {s.labels["replica"] for s in again if s.name == f"{REQUESTS}_count" and s.labels["route"] == route} \
            == {"fts-1", "fts-2"}
        assert _count(again, route=route, status="4xx") == _count(after, route=route, status="4xx")


def test_fault_rules_and_the_store_show_when_scraped(stack: EmbeddedStack) -> None:
    fts = stack.urls["fts"]
    control = StackControl(stack.urls, stack.control_token)
    rule = control.add_fault("fts", kind="error", status=503, path="/api/v1/declarations/*", times=3)
    try:
        _, samples = _scrape(fts)
        assert [s.value for s in samples if s.name == "gosstand_fault_rules" and s.labels["kind"] == "error"] == [1]
        for _ in range(5):
            _fresh_get(f"{fts}/api/v1/declarations/x")
        _, samples = _scrape_until(fts, lambda samples: _count(samples, route="/api/v1/declarations/{id}",
                                                                  status="5xx") >= 3)
        hits = sum(s.value for s in samples if s.name == "gosstand_faults_injected_total"
                   and s.labels["rule"] == rule["id"] and s.labels["kind"] == "error")
        assert hits == 3
        assert _count(samples, route="/api/v1/declarations/{id}", status="5xx") >= 3
        assert [s.value for s in samples if s.name == "gosstand_store_up"] == [1]
    finally:
        control.clear_faults("fts")
    _, samples = _scrape(fts)
    assert not [s for s in samples if s.name == "gosstand_fault_rules" and s.value]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian's prometheus package) is not here")
def test_promtool_accepts_the_exposition(stack: EmbeddedStack) -> None:
    text, _ = _scrape(stack.urls["fts"])
    checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="Debian's prometheus is not here")
def test_prometheus_scrapes_the_stack_and_answers_a_query(stack: EmbeddedStack, tmp_path: Path) -> None:
    """Debian's Prometheus, pointed at the stack as an SRE would, scrapes it and has the series."""
    fts, port = stack.urls["fts"], free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s}\n"
        f"scrape_configs: [{{job_name: gosstand, static_configs: [{{targets: ['{fts.removeprefix('http://')}']}}]}}]\n")
    _fresh_get(f"{fts}/_gosstand/health")
    server = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                               f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    query = 'sum by (route) (gosstand_http_request_duration_seconds_count{service="fts",status="2xx"})'
    try:
        deadline, result = time.monotonic() + 60, []
        while not result and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.5)
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": query}, timeout=5)
                result = answer.json()["data"]["result"] if answer.status_code == 200 else []
            except httpx.TransportError:
                pass
    finally:
        server.terminate()
        server.wait(timeout=30)
    routes = {item["metric"]["route"]: float(item["value"][1]) for item in result}
    assert routes.get("/_gosstand/health", 0) >= 1, routes


def test_latencies_land_in_their_buckets_and_sum(tmp_path: Path) -> None:
    """What a request adds between two flushes reaches the histogram whole: each latency in the
    first bucket whose bound it does not exceed, the sum and count exact, in the shared files too."""
    from gosstand.mocks.core.metrics import ReplicaMetrics

    recorded = ReplicaMetrics(service="fts", replica="fts-1", directory=None)
    for seconds in (0.0003, 0.0005, 0.0006, 0.7, 20.0):
        recorded.observe("GET", "/x", "2xx", seconds)
    samples = [s for f in text_string_to_metric_families(recorded.exposition(({}, True)).decode()) for s in f.samples]
    buckets = {s.labels["le"]: s.value for s in samples if s.name == f"{REQUESTS}_bucket"}
    assert (buckets["0.0005"], buckets["0.001"], buckets["0.5"], buckets["1.0"], buckets["10.0"], buckets["+Inf"]) \
        == (2, 3, 3, 4, 4, 5)
    assert _count(samples) == 5
    assert [s.value for s in samples if s.name == f"{REQUESTS}_sum"] == [pytest.approx(20.7014)]
    recorded.observe("GET", "/x", "2xx", 0.0003)  # after a flush, only what came since is added
    samples = [s for f in text_string_to_metric_families(recorded.exposition(({}, True)).decode()) for s in f.samples]
    assert _count(samples) == 6
