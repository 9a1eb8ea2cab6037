"""The README's examples run as shown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.stack
def test_quickstart_runs_as_the_readme_shows() -> None:
    completed = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")],
                               capture_output=True, text=True, timeout=180)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("ESIA: logged in as OID ")
    assert "the retry was replayed, not filed twice" in lines[1]
    assert "registered, number 10" in lines[2]
    assert lines[3].startswith("FTS: signed document ") and "come back unchanged" in lines[3]
    assert lines[4].startswith("UTKO: object ")
