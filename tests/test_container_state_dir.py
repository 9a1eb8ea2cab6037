"""ContainerStack's state directory is absolute, because Docker bind mounts need one.

Constructing the dataclass starts nothing, so these tests need no Docker.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from gosstand.stand.containers import ContainerStack


def test_relative_state_dir_is_made_absolute_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stack = ContainerStack(state_dir=Path("run/state"))
    assert stack.state_dir == tmp_path / "run" / "state"
    assert stack.state_dir.is_absolute()


def test_string_state_dir_is_accepted_and_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stack = ContainerStack(state_dir="relative-dir")  # type: ignore[arg-type]
    assert stack.state_dir == tmp_path / "relative-dir"


def test_absolute_state_dir_is_kept_and_default_is_absolute(tmp_path):
    assert ContainerStack(state_dir=tmp_path).state_dir == tmp_path
    default = ContainerStack().state_dir
    try:
        assert default.is_absolute()
    finally:
        shutil.rmtree(default, ignore_errors=True)
