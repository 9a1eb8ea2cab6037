"""The report's physical failover figures against an independent observer, on a real stack.

A replica of the embedded stack is paused (SIGSTOP, then SIGCONT) and, ten seconds after the pause
began, killed (SIGKILL), in one run, by ``gosstand peak``'s own schedule — the kill ends the pause's
episode as the end of a run of its own would, and each fault gets as much load before and after
it — while a probe of this test's
(``failover_probe.py``: a separate process, the standard library only, sharing no code with
gosstand's recorder or reports) sends requests on new connections at a fixed rate to the same
service URL (100 a second: at 200 on a starved two-core machine the probe alone could push the
surviving replica into a queue it never drained), with the same one-second client timeout the
load's journeys get, and keeps its own records. Each observer's TTFE, outage window and TTR of
the fault are then compared.

Two observers of one event agree only as finely as each sampled it. Only a request that reached
the faulted replica could see the fault, and each connection lands on one replica of two, so an
observer samples a moment as finely as the gap between its requests around it that the faulted
replica answered or that got no answer at all (those answered by the survivor saw nothing of
it): about 20 ms for the probe, a few hundred for the load. Each edge of the outage — its start,
placed by the requests sent around the fault; its end, by those sent around the probe's last
affected request — must agree to within the two observers' spacing there, plus 50 ms for a
loaded machine's scheduling: far below what the report got wrong before (a kill reported with a
TTR of 0.598 s that clients saw for 2 ms; a 2-s pause that no figure noticed). Nothing here
asserts how fast anything is.

And the definitions themselves: the probe's own implementation of them, applied to the load's
recorded requests and to the run's canary samples, must give the report's figures to the
microsecond. The run's canary — a dense observer gosstand records, here at 50 requests a second
with the probe's timeout — must agree with the probe to within the two's spacing (tens of ms).

The latency objective (``slow_ms``) is set above the client timeout: what the observers compare
is which requests failed — a reset, a timeout — which both measure the same way, not how
slowly a loaded machine answered the rest.
"""

from __future__ import annotations

import probe_comparison as compare
import pytest
from gosstand.stand.stack import EmbeddedStack

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.load]


@pytest.fixture(scope="module")
def run_of_both_faults(tmp_path_factory: pytest.TempPathFactory) -> dict[str, compare.Observed]:
    """One run, the pause and then the kill of the same replica (each after as much load, each
    episode as long, as a run of its own gave it): one stack and one run's start and end fewer."""
    base = tmp_path_factory.mktemp("probe")
    with EmbeddedStack(replicas=compare.REPLICAS, services=("esia", "fts"), state_dir=base / "stack") as stack:
        observed = compare.observe(stack, compare.PAUSE_THEN_KILL, base)
    return {one.failover["failover"]["action"]: one for one in observed}


@pytest.fixture(params=["kill", "pause"])
def observed(request: pytest.FixtureRequest, run_of_both_faults: dict[str, compare.Observed]) -> compare.Observed:
    return run_of_both_faults[request.param]


def test_both_observers_were_watching_when_the_fault_struck(observed: compare.Observed) -> None:
    compare.check_both_observers_were_watching(observed)


def test_the_reports_figures_are_the_definitions_applied_to_what_was_recorded(observed: compare.Observed) -> None:
    compare.check_definitions_applied_to_the_loads_records(observed)


def test_time_to_first_error_agrees_with_the_probe(observed: compare.Observed) -> None:
    compare.check_time_to_first_error(observed)


def test_outage_window_agrees_with_the_probe(observed: compare.Observed) -> None:
    compare.check_outage_window(observed)


def test_time_to_recover_agrees_with_the_probe(observed: compare.Observed) -> None:
    compare.check_time_to_recover(observed)


def test_the_runs_canary_agrees_with_the_probe(observed: compare.Observed) -> None:
    compare.check_canary_agrees_with_the_probe(observed)
