"""``exec`` failover actions: the way to fail a system gosstand does not run (``--target``)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from gosstand.loadtests.failover import inject, remove
from gosstand.loadtests.schedule import RunShape, ScheduleError, parse_schedule
from gosstand.reports.integrity import broken_reasons
from gosstand.reports.io import load_run
from gosstand.reports.synthetic import steady_requests, write_run
from gosstand.stand.manifest import StackManifest

NOWHERE = StackManifest(backend="external", urls={}, control_token="")
SHAPE = RunShape(duration_s=60, replicas={"esia": 2}, targets={"fts": "https://fts.staging.local"})


def action(**fields):
    (parsed,) = parse_schedule({"actions": [{"service": "fts", "action": "exec", **fields}]}, SHAPE)
    return parsed


def test_the_command_runs_and_its_outcome_is_logged(tmp_path):
    marker = tmp_path / "faulted"
    scheduled = action(at=5, command=f"echo down > {marker}; echo injected", undo=f"rm {marker}", duration=3)
    record = inject(scheduled, NOWHERE, now=lambda: 100.0)
    assert (record.injected_at, record.action, record.service, record.target) == (100.0, "exec", "fts",
                                                                                   scheduled.command)
    assert record.took_effect and record.detail == {"exit_code": 0, "output": "injected\n"}
    assert marker.read_text() == "down\n"
    undone = remove(scheduled, NOWHERE, record, now=lambda: 103.0)
    assert not marker.exists() and undone.removed_at == 103.0 and undone.error is None


def test_a_failing_or_hanging_command_is_reported_and_breaks_the_run(tmp_path):
    failed = inject(action(at=0, command="echo no such pod >&2; exit 3"), NOWHERE)
    hung = inject(replace(action(at=1, command="sleep 5", timeout=0.2), entry=2), NOWHERE)
    assert (failed.detail["exit_code"], failed.detail["output"], failed.removed_at) == (3, "no such pod\n", None)
    assert not failed.took_effect and "exit code 3 (no such pod)" in (failed.error or "")
    assert hung.detail["exit_code"] is None and "killed after 0.2 s" in hung.detail["output"]
    schedule = [{"entry": 1, "action": "exec", "service": "fts", "at": 0}, {"entry": 2, "action": "exec",
                                                                             "service": "fts", "at": 1}]
    write_run(tmp_path, requests=steady_requests(duration=2), info={"schedule": schedule},
              failovers=[json.loads(json.dumps(r.to_json())) for r in (failed, hung)])
    reasons = broken_reasons(load_run(tmp_path))
    assert len(reasons) == 2 and "exit code 3 (no such pod)" in reasons[0] and "may not have happened" in reasons[1]


@pytest.mark.parametrize(("fields", "said"), [
    ({"action": "exec"}, "entry 1, command: an exec action needs the command"),
    ({"action": "exec", "command": "true", "undo": "true"}, "entry 1, undo: an exec action's undo and duration"),
    ({"action": "kill"}, "entry 1, action: fts is your system"),
    ({"action": "exec", "command": "true", "timeout": 0}, "entry 1, timeout: 0: expected seconds > 0"),
    ({"action": "exec", "command": "true", "replica": 1}, "entry 1, replica: not a field of a exec action"),
])
def test_malformed_actions_are_refused_naming_entry_and_field(fields, said):
    with pytest.raises(ScheduleError, match=said):
        parse_schedule({"actions": [{"at": 1, "service": "fts", **fields}]}, SHAPE)
