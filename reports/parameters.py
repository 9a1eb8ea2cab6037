"""The run's parameters for the report's header: what was asked, and what was carried out.

A figure means little without the run that produced it: the profile and its users (or arrival
rate), the seed, the client timeouts, the SLO file, gosstand's version — and the failover
schedule, each action beside the record of what it did (when it ran, whether it took effect,
the evidence: the pid gone, the container paused, the rule's hit count). All of it comes from
``run.json`` and ``failovers.jsonl``; a field the run did not record is ``None``.

A run whose ``run.json`` lists an empty schedule is a control run and is called one; a run that
does not list its schedule at all (recorded by an older gosstand or another tool) is not
called anything it cannot be shown to be.
"""

from __future__ import annotations

from typing import Any

from .io import FailoverRecord, RunData
from .slo import SloSpec
from .timeline import Grid

__all__ = ["run_parameters"]


def _offset(grid: Grid, t: float | None) -> float | None:
    return None if t is None else grid.offset(t)


def _carried_out(record: FailoverRecord | None, grid: Grid) -> dict[str, Any]:
    if record is None:
        return {"ran": False, "target": None, "injected_offset_s": None, "removed_offset_s": None,
                "took_effect": False, "evidence": None, "error": "never ran"}
    return {
        "ran": True, "target": record.target, "injected_offset_s": _offset(grid, record.injected_at),
        "removed_offset_s": _offset(grid, record.removed_at), "took_effect": record.took_effect,
        "evidence": record.evidence, "error": record.error,
    }


def _schedule(run: RunData, grid: Grid) -> list[dict[str, Any]]:
    """Each scheduled action with its record; records no schedule entry names follow."""
    scheduled = [a for a in run.info.extra.get("schedule") or [] if isinstance(a, dict)]
    rows = [
        {"entry": action.get("entry"), "action": action.get("action"), "service": action.get("service"),
         "replica": action.get("replica"), "at_s": action.get("at"), "duration_s": action.get("duration"),
         **_carried_out(run.failover_of(action.get("entry")), grid)}
        for action in scheduled
    ]
    named = {action.get("entry") for action in scheduled}
    rows += [
        {"entry": record.entry or None, "action": record.action, "service": record.service,
         "replica": record.replica, "at_s": record.scheduled_at, "duration_s": None, **_carried_out(record, grid)}
        for record in run.failovers if record.entry not in named
    ]
    return rows


def _remote_workers(extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Each worker on another host (``gosstand peak --master``) and the request records the
    master got from it: where the load came from, and that each part of it is in the report."""
    return [{"index": w.get("index"), "host": w.get("host"), "pid": w.get("pid"),
             "requests": (w.get("received") or {}).get("requests")}
            for w in extra.get("workers") or [] if isinstance(w, dict)]


def run_parameters(run: RunData, spec: SloSpec, grid: Grid) -> dict[str, Any]:
    extra = run.info.extra
    schedule_recorded = isinstance(extra.get("schedule"), list)
    return {
        "profile": run.info.profile,
        "backend": run.info.backend,
        "duration_s": extra.get("duration_s"),
        "peak_users": extra.get("peak_users"),
        "rate": extra.get("rate"),
        "processes": extra.get("processes"),
        "remote_workers": _remote_workers(extra),
        "mix": extra.get("mix"),
        "seed": extra.get("seed"),
        "timeouts_s": extra.get("timeouts_s"),
        "version": extra.get("version"),
        "slo_file": spec.source,
        "failover_file": extra.get("failover_schedule"),
        "schedule_recorded": schedule_recorded,
        "schedule": _schedule(run, grid),
        #: No failover was asked for and none happened: the run is the baseline.
        "control_run": schedule_recorded and not extra["schedule"] and not run.failovers,
    }
