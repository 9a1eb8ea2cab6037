"""How ``gosstand peak`` runs Locust: all its output kept in locust.log, its live lines passed on
to the user's terminal, and — when it outlives its bound — the whole process group killed,
forked workers included, so the run ends instead of waiting on a worker that holds the output."""

from __future__ import annotations

import io
import os
import sys
import threading

import pytest
from gosstand.loadtests.run import _follow

_CHATTY = "print('[live] 5/60 s · offered 10.0/s', flush=True); print('locust: stats table', flush=True)"
#: A parent that forks a child holding the same output, both then waiting forever.
_FORKS = ("import os, sys, time\n"
          "child = os.fork()\n"
          "print('forked' if child else 'child', flush=True)\n"
          "time.sleep(3600)\n")


def test_live_lines_reach_the_terminal_and_everything_the_log(capsys: pytest.CaptureFixture[str]) -> None:
    log = io.BytesIO()
    assert _follow([sys.executable, "-c", _CHATTY], dict(os.environ), log, timeout=60) == 0
    assert capsys.readouterr().out == "[live] 5/60 s · offered 10.0/s\n"
    assert log.getvalue().decode() == "[live] 5/60 s · offered 10.0/s\nlocust: stats table\n"


def test_a_run_past_its_bound_is_killed_with_its_forked_children() -> None:
    log = io.BytesIO()
    ended: list[int] = []
    runner = threading.Thread(target=lambda: ended.append(_follow([sys.executable, "-c", _FORKS], dict(os.environ),
                                                                  log, timeout=1)), daemon=True)
    runner.start()
    runner.join(timeout=60)  # a child left holding the output would keep the reading open for an hour
    assert ended == [-9], "the run did not end at its bound"
    output = log.getvalue().decode()
    assert "child" in output and "forked" in output
