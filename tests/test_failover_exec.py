"""``exec`` failover actions: the way to fail a system gosstand does not run (``--target``)."""

from __future__ import annotations

import json

import pytest
from gosstand.loadtests.failover import FailoverAction, apply, resume
from gosstand.loadtests.run import _failed_commands


def test_the_command_runs_and_its_outcome_is_logged(tmp_path):
    marker = tmp_path / "faulted"
    action = FailoverAction(at=5, service="fts", action="exec", command=f"echo down > {marker}; echo injected",
                            undo=f"rm {marker}", duration=3)
    record = apply(action, {}, now=lambda: 100.0)
    assert record == {"t": 100.0, "action": "exec", "service": "fts", "target": action.command,
                      "exit_code": 0, "output": "injected\n", "until": 103.0}
    assert marker.read_text() == "down\n"
    resume(action, {}, {})
    assert not marker.exists()


def test_a_failing_or_hanging_command_is_reported_and_fails_the_run(tmp_path):
    failed = apply(FailoverAction(at=0, service="fts", action="exec", command="echo no such pod >&2; exit 3"), {})
    hung = apply(FailoverAction(at=1, service="fts", action="exec", command="sleep 5", timeout=0.2), {})
    assert (failed["exit_code"], failed["output"], failed["until"]) == (3, "no such pod\n", None)
    assert hung["exit_code"] is None and "killed after 0.2 s" in hung["output"]
    (tmp_path / "failovers.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (failed, hung)))
    notes = _failed_commands(tmp_path)
    assert len(notes) == 2 and "exit code 3 (no such pod)" in notes[0] and "may not have happened" in notes[1]


@pytest.mark.parametrize("fields", [
    {"action": "exec"},                                               # no command
    {"action": "exec", "command": "true", "undo": "true"},            # undo without duration
    {"action": "kill"},                                               # no replica
    {"action": "kill", "replica": 1, "command": "true"},              # a command on a signal action
    {"action": "exec", "command": "true", "timeout": 0},
])
def test_malformed_actions_are_refused(fields):
    with pytest.raises(ValueError):
        FailoverAction(at=1, service="fts", **fields)
