"""Opening a SQLite store while other replicas open the same new file: the switch to WAL is
retried when SQLite refuses it at once ("database is locked" without waiting, which it does to
the loser of a race between connections that all want the file exclusively)."""

from __future__ import annotations

import sqlite3

import pytest
from gosstand.mocks.core.store_sqlite import _use_wal


class RacingConnection:
    """Refuses the switch ``refusals`` times, as SQLite does to the losers of the race."""

    def __init__(self, refusals: int, error: str = "database is locked") -> None:
        self.refusals = refusals
        self.error = error
        self.tries = 0

    def execute(self, sql: str) -> None:
        assert sql == "PRAGMA journal_mode = WAL"
        self.tries += 1
        if self.tries <= self.refusals:
            raise sqlite3.OperationalError(self.error)


def test_a_refused_switch_is_tried_again_until_it_succeeds():
    connection = RacingConnection(refusals=3)
    _use_wal(connection)  # type: ignore[arg-type]
    assert connection.tries == 4


def test_it_gives_up_when_patience_runs_out_and_never_hides_other_errors():
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _use_wal(RacingConnection(refusals=10**6), patience=0.05)  # type: ignore[arg-type]
    other = RacingConnection(refusals=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _use_wal(other)  # type: ignore[arg-type]
    assert other.tries == 1


def test_a_real_file_ends_in_wal(tmp_path):
    connection = sqlite3.connect(tmp_path / "store.sqlite3", isolation_level=None)
    _use_wal(connection)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
