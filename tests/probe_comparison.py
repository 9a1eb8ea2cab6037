"""Observing one failover twice — by gosstand's report and by an independent probe — and
comparing what each saw. Used by the embedded-stack test (``test_failover_probe.py``) and the
container one (``test_containers.py``); the reasoning behind each tolerance is in
``test_failover_probe.py``'s docstring.

:func:`observe` runs ``gosstand peak`` against a running stack (its manifest) with a schedule of
faults on one service (both tests: a pause, then a kill) while ``failover_probe.py`` probes that
service in a process of its own, and gives each fault's observations; the ``check_*`` functions
are the comparisons, one fault at a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import failover_probe
import pytest

PROBE = Path(failover_probe.__file__)
PROBE_RATE = 100.0
TIMEOUT_S = 1.0
SLOW_AFTER_S = 3.0
REPLICAS = 2
#: Scheduling on a loaded two-core machine: a thread woken a few tens of ms late.
JITTER_S = 0.05
#: How long before a moment a request still samples it: an observer that sent the faulted replica
#: nothing for this long before the moment is credited with this much uncertainty.
SAMPLED_WITHIN_S = 0.5
#: At most this many seconds of probing, whatever happens (the probe also stops on SIGTERM).
PROBE_BOUND_S = 600
#: The longest HAProxy (docker/haproxy.cfg.template) takes to take a paused replica out: its first
#: check up to ``inter`` (250 ms) after the pause, timing out after 300 ms, the second ``fastinter``
#: (100 ms) later, timing out after 300 ms — 0.95 s — plus half a second for a loaded machine's
#: checks running late (seen: 1.11 s).
BALANCER_DETECTION_S = 0.95 + 0.5
#: The run's own canary on each service (a separate process gosstand starts and records): with the
#: probe's timeout, so the two dense observers measure a hang alike, and at half the probe's rate,
#: so together they do not outweigh the load on a starved machine.
CANARY_RATE = 50


#: The load: declarations arriving on an evenly spaced timetable (the open model), so a journey
#: hanging on the paused replica does not delay the next one and the load's requests are spread
#: evenly in time; after each virtual user's one login a journey is two cheap FTS requests. Few
#: enough that one surviving replica on a loaded machine keeps up — a journey falling behind its
#: timetable is affected too, which a health probe cannot see: the comparison is of availability,
#: so the load must not measure capacity instead.
RATE = 10
#: The fault comes once the load has settled: through HAProxy on a loaded machine the first
#: declarations (each after its user's login) came 10 s after the load began.
DURATION_S = 22
FAULT_AT_S = 12
#: A second fault in the same run comes this long after the first — the first one's episode ends
#: there (the next fault on a service ends the previous one's), as at the end of a run of its own —
#: and the run lasts as long again after it.
NEXT_FAULT_AFTER_S = DURATION_S - FAULT_AT_S
#: Three times the rate for the first seconds, falling to it by 4.4 s (:func:`curve`): the open
#: model makes a virtual user when an arrival finds none free, and a new user's first declaration
#: signs in to ESIA first. Growing the pool before the fault keeps a journey arriving during it two
#: FTS requests, not a login that sends FTS nothing for a while.
RAMP_S = 4.4
#: Virtual users (and people seeded for them): a journey may hang through four one-second
#: attempts on the paused replica, so 10 a second need up to 40 at once; three times that.
USERS = 120
#: A journey starting this late is counted late; 1 % of them would mark the generator saturated
#: and the run broken. A loaded machine's greenlets wake tens of ms late, which is not what is
#: being tested here.
LATE_START_MS = 1000


def curve(duration_s: float) -> str:
    """The profile's curve: its points ``duration_s / (n - 1)`` apart, as near ``RAMP_S`` as whole
    points allow (22 s: six points, 4.4 s apart), so the first one-to-second falls over the ramp."""
    gaps = max(1, round(duration_s / RAMP_S))
    return "[" + ", ".join(["1.0"] + ["0.33"] * gaps) + "]"


@dataclass(frozen=True)
class Fault:
    action: str
    service: str = "fts"
    #: Seconds after the load starts.
    at: float = FAULT_AT_S

    def entry(self) -> str:
        extra = ", duration: 2" if self.action == "pause" else ""
        return f"{{at: {self.at:g}, service: {self.service}, replica: 1, action: {self.action}{extra}}}"


#: Both faults of one replica in one run, the pause first (a killed replica cannot be paused): each
#: comes after as many seconds of load as a run of its own gave it, and each episode gets as long.
PAUSE_THEN_KILL = (Fault(action="pause"), Fault(action="kill", at=FAULT_AT_S + NEXT_FAULT_AFTER_S))


@dataclass(frozen=True)
class Observed:
    """One fault as the report and the probe saw it."""

    failover: dict[str, Any]
    origin: float
    probe: list[dict[str, Any]]
    load: list[dict[str, Any]]
    #: The run's canary samples on the faulted service.
    canary: list[dict[str, Any]]
    #: Why the run's generator fell behind its timetable, if it did (gosstand then calls the run
    #: broken: the load's figures measure the generator, and are not compared).
    saturated: list[str]
    #: How long each of the canary's kept-alive connections waits between uses (its pool's size
    #: over the rate of its kept-alive half), from the run's canary summary.
    canary_reuse_s: float = 0.0

    def require_load_on_time(self) -> None:
        if self.saturated:
            pytest.skip(f"the machine could not offer the load on time ({'; '.join(self.saturated)}): the "
                        f"load's figures measure the generator; the canary's are still compared")

    @property
    def t_f(self) -> float:
        return float(self.failover["failover"]["injected_at"])

    @property
    def report(self) -> dict[str, Any]:
        return self.failover["physical"]

    def probe_figures(self) -> dict[str, Any]:
        until = self.origin + self.failover["episode_end_offset_s"]
        return failover_probe.figures(self.probe, t_f=self.t_f, until=until, slow_after_s=SLOW_AFTER_S)

    @property
    def target(self) -> str:
        return str(self.failover["failover"]["target"])

    def tolerance(self, moment: float, *, observer: str = "load") -> float:
        """How finely the probe and the report's ``observer`` (``load`` or ``canary``) sampled the
        faulted replica at ``moment`` (epoch seconds)."""
        probe = [r["started"] for r in self.probe if r["replica"] in (self.target, None)]
        rows = self.load if observer == "load" else self.canary
        other = [r["started"] for r in rows if r.get("replica") in (self.target, None)]
        return (failover_probe.spacing(probe, moment, within=SAMPLED_WITHIN_S)
                + failover_probe.spacing(other, moment, within=SAMPLED_WITHIN_S) + JITTER_S)

    def end_sent_at(self) -> float:
        """When the probe sent its last affected request: the moment that placed the outage's end."""
        until = self.origin + self.failover["episode_end_offset_s"]
        hit = [r["started"] for r in self.probe
               if self.t_f - SLOW_AFTER_S <= r["intended"] < until and r["ended"] >= self.t_f
               and failover_probe.affected(r, SLOW_AFTER_S)]
        return max(hit, default=self.t_f)


def _write_inputs(base: Path, faults: tuple[Fault, ...]) -> dict[str, Path]:
    duration = max(fault.at for fault in faults) + NEXT_FAULT_AFTER_S
    profile = base / "profile.yaml"
    profile.write_text(
        f"name: probe-{'-'.join(fault.action for fault in faults)}\nduration_s: {duration:g}\n"
        f"peak_rate: {RATE * 3}\nmax_users: {USERS}\n"
        f"curve: {curve(duration)}\nmix: {{declaration: 1}}\ntimeouts_s: {{declaration: {TIMEOUT_S}}}\n")
    schedule = base / "failover.yaml"
    schedule.write_text("actions:\n" + "".join(f"  - {fault.entry()}\n" for fault in faults))
    slo = base / "slo.yaml"
    slo.write_text(f"healthy: {{window: 5s, success_ratio: 0.99}}\nslow_ms: {SLOW_AFTER_S * 1000:g}\n"
                   "objectives:\n  - {metric: ttr_s, max: 60}\n")
    return {"profile": profile, "failover": schedule, "slo": slo}


def _jsonl(paths: Iterator[Path]) -> list[dict[str, Any]]:
    return [json.loads(line) for path in paths for line in path.read_text().splitlines() if line.strip()]


class RunningStack(Protocol):
    """What :func:`observe` needs of a stack: the embedded one and the container one alike."""

    urls: dict[str, str]

    def write_manifest(self) -> Path: ...


def observe(stack: RunningStack, faults: tuple[Fault, ...], base: Path) -> tuple[Observed, ...]:
    """Run ``gosstand peak`` with ``faults`` (in the order they come, all on one service) against
    ``stack`` while the probe watches that service; one :class:`Observed` per fault, each with its
    own episode of the report, and the probe's, the load's and the canary's records of the run."""
    (service,) = {fault.service for fault in faults}
    inputs = _write_inputs(base, faults)
    probe_file = base / "probe.jsonl"
    manifest = stack.write_manifest()
    probe = subprocess.Popen(
        [sys.executable, str(PROBE), "--url", f"{stack.urls[service]}/_gosstand/health",
         "--rate", str(PROBE_RATE), "--timeout", str(TIMEOUT_S), "--seconds", str(PROBE_BOUND_S),
         "--out", str(probe_file)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "gosstand", "peak", "--manifest", str(manifest),
             "--profile", str(inputs["profile"]), "--failover", str(inputs["failover"]),
             "--slo", str(inputs["slo"]), "--users", str(USERS), "--late-start-ms", str(LATE_START_MS),
             "--canary-rate", str(CANARY_RATE), "--canary-timeout", str(TIMEOUT_S),
             "--live-every", "0", "--output", str(base / "runs")],
            capture_output=True, text=True, timeout=600)
    finally:
        probe.terminate()
        probe.wait(timeout=120)
    assert completed.returncode in (0, 2), completed.stdout + completed.stderr
    (run,) = (base / "runs").iterdir()
    summary = json.loads((run / "summary.json").read_text())
    broken = summary["verdict"]["broken"]
    saturated = [reason for reason in broken if reason.startswith("the generator saturated")]
    # BROKEN for any other reason, or a breach of this SLO, is a failure of the run itself
    assert (completed.returncode == 0) == (not broken) and broken == saturated, completed.stdout + completed.stderr
    failovers = summary["failovers"]
    assert [f["failover"]["action"] for f in failovers] == [fault.action for fault in faults], failovers
    assert all(f["failover"]["took_effect"] for f in failovers), failovers
    load = [r for r in _jsonl(run.glob("requests*.jsonl")) if r.get("service") == service]
    pool = json.loads((run / "run.json").read_text())["canary"][service]
    probed = _jsonl(iter([probe_file]))
    canary = _jsonl(iter([run / f"canary-{service}.jsonl"]))
    return tuple(Observed(failover=failover, origin=summary["run"]["origin"], probe=probed, load=load, canary=canary,
                          saturated=saturated, canary_reuse_s=pool["kept_alive"] / (pool["rate"] / 2))
                 for failover in failovers)


def check_both_observers_were_watching(observed: Observed, *, balancer_retries_held_gets: bool = False) -> None:
    """Both observers sent requests on either side of the fault; with no balancer in front, a
    pause is a 2-s hang no observer can miss. Behind HAProxy (``balancer_retries_held_gets``) it
    may be missed: once its checks take the paused replica out, HAProxy ends what it held and
    retries each GET on the other replica, so a client whose timeout outlasts the detection sees
    a slow success, not a failure."""
    for rows, start in ((observed.probe, "intended"), (observed.load, "intended_start")):
        assert any(observed.t_f - 1 < row[start] < observed.t_f for row in rows)
        assert any(observed.t_f < row[start] < observed.t_f + 1 for row in rows)
    if observed.failover["failover"]["action"] == "pause" and not balancer_retries_held_gets:
        assert observed.probe_figures()["affected"] > 0 and observed.failover["canary"]["by_class"]["timeout"] > 0
        assert observed.saturated or observed.report["by_class"]["timeout"] > 0


def _as_probe_rows(rows: list[dict[str, Any]], start: str) -> list[dict[str, Any]]:
    return [{"intended": r[start], "ended": r["ended"], "status": r.get("status", 0),
             "error": None if r["ok"] else r.get("failure") or "failed"} for r in rows]


def check_definitions_applied_to_the_loads_records(observed: Observed) -> None:
    """The probe's implementation of the definitions, applied to what the report's observers
    recorded, gives the report's figures — for the load and for the canary."""
    until = observed.origin + observed.failover["episode_end_offset_s"]
    for name, rows, start in (("physical", observed.load, "intended_start"), ("canary", observed.canary, "started")):
        mine = failover_probe.figures(_as_probe_rows(rows, start), t_f=observed.t_f, until=until,
                                      slow_after_s=SLOW_AFTER_S)
        report = observed.failover[name]
        assert (report["requests"], report["affected"]) == (mine["requests"], mine["affected"]), name
        for figure in ("ttfe_s", "outage_s", "ttr_s"):
            assert report[figure] == pytest.approx(mine[figure], abs=1e-6), (name, figure)


def check_canary_agrees_with_the_probe(observed: Observed, *, balancer_retries_held_gets: bool = False) -> None:
    """The run's canary, a dense observer the report measures, against the probe: TTFE, outage
    and TTR to within the two's spacing (tens of ms) plus the scheduling allowance.

    Half the canary's requests ride kept-alive connections, as a pooled client's do. One left
    open to a killed replica fails at its next use — up to a reuse interval after the kill —
    which a probe opening a new connection for every request never meets; when a kill's affected
    canary requests include such ones, that interval is allowed too. (On a paused replica a
    kept-alive request hangs as a new one does.)

    Behind a balancer that retries (``balancer_retries_held_gets``), a kill costs each observer
    at most the one request it had in flight: the balancer sends every later one to the survivor.
    Which observer, if either, is caught mid-flight is chance (seen: the probe one 1-s timeout at
    +1.3 s, the canary none; the next run neither), so there each must see at most one affected
    request, and the figures are compared only when both saw one.

    After a pause behind such a balancer, the requests the paused replica held are ended and
    retried on the survivor once its checks take it out; a request whose client timeout (1 s) runs
    out first is affected, as a timeout. Only the requests sent in the first moments after the
    pause can be — those the replica held for longer than the client's timeout before the checks
    took it out — so every affected request must be a timeout, and each observer's last must end
    within the balancer's detection (``BALANCER_DETECTION_S``) of the fault: a timeout later than
    that is a balancer that never took the replica out. How many fall in that moment is chance
    (seen: the canary two 1-s timeouts, the probe none; the probe four, sending concurrently, the
    canary two; other runs neither), so the figures are compared only when both saw some."""
    canary, probe = observed.failover["canary"], observed.probe_figures()
    assert canary is not None, "the run kept no canary of the faulted service"
    killed = observed.failover["failover"]["action"] == "kill"
    if killed and balancer_retries_held_gets:
        assert canary["affected"] <= 1 and probe["affected"] <= 1, (canary, probe)
        if not (canary["affected"] and probe["affected"]):
            return
    if not killed and balancer_retries_held_gets:
        assert canary["by_class"]["timeout"] == canary["affected"], canary
        assert probe["affected"] == 0 or probe["errors"] == ["timeout"], probe
        assert canary["ttr_s"] <= BALANCER_DETECTION_S and probe["ttr_s"] <= BALANCER_DETECTION_S, (canary, probe)
        if not (canary["affected"] and probe["affected"]):
            return
    pooled = observed.canary_reuse_s if killed and canary["by_connection"]["reused"] else 0.0
    start = observed.tolerance(observed.t_f, observer="canary") + pooled
    end = observed.tolerance(observed.end_sent_at(), observer="canary") + pooled
    assert abs(canary["ttfe_s"] - probe["ttfe_s"]) <= start, (canary, probe)
    assert abs(canary["ttr_s"] - probe["ttr_s"]) <= end, (canary, probe)
    assert abs(canary["outage_s"] - probe["outage_s"]) <= start + end, (canary, probe)


def check_time_to_first_error(observed: Observed) -> None:
    observed.require_load_on_time()
    probe = observed.probe_figures()
    assert abs(observed.report["ttfe_s"] - probe["ttfe_s"]) <= observed.tolerance(observed.t_f), (
        observed.report, probe)


def check_outage_window(observed: Observed) -> None:
    observed.require_load_on_time()
    probe, report = observed.probe_figures(), observed.report
    if report["seen"] and probe["affected"]:
        start = observed.origin + report["outage_start_offset_s"]
        end = observed.origin + report["outage_end_offset_s"]
        assert abs(start - probe["outage_start"]) <= observed.tolerance(observed.t_f), (report, probe)
        assert abs(end - probe["outage_end"]) <= observed.tolerance(observed.end_sent_at()), (report, probe)
    assert abs(report["outage_s"] - probe["outage_s"]) <= (
        observed.tolerance(observed.t_f) + observed.tolerance(observed.end_sent_at())), (report, probe)


def check_time_to_recover(observed: Observed) -> None:
    observed.require_load_on_time()
    probe = observed.probe_figures()
    tolerance = observed.tolerance(observed.end_sent_at())
    assert abs(observed.report["ttr_s"] - probe["ttr_s"]) <= tolerance, (observed.report, probe)
