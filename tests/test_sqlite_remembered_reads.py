"""A replica's remembered reads of the SQLite store are never older than what others committed.

Replicas of a service share one SQLite file; each answers ``get`` of a key it read before from
memory while the change log says nobody wrote it (mocks/core/sqlite_commits.py). The stateful
test lets several stores on one file write and read in any order and holds every read to a
model of the committed state; the others pin down the cases the model cannot force: a reader
that fell out of the log's window, a bulk load, expiry, and a writer caught mid-update.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from gosstand.mocks.core import sqlite_commits, store_sqlite
from gosstand.mocks.core.sqlite_commits import CommitWatch
from gosstand.mocks.core.store import DeleteKey, Writes
from gosstand.mocks.core.store_sqlite import SQLiteStore
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

KEYS = st.sampled_from(["person:1", "person:2", "status:a", "status:b"])
COUNTERS = st.sampled_from(["failures:1", "failures:2"])
VALUES = st.text(max_size=12)


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


class ReplicasSharingOneFile(RuleBasedStateMachine):
    """Three stores on one file (two replicas and a writer); the model is what was committed."""

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, str] = {}

    @initialize()
    def open_stores(self) -> None:
        import tempfile

        self.directory = tempfile.mkdtemp(prefix="gosstand-remembered-")
        path = str(Path(self.directory) / "shared.sqlite3")
        self.stores = [SQLiteStore(path) for _ in range(3)]

    stores_index = st.integers(min_value=0, max_value=2)

    @rule(who=stores_index, key=KEYS, value=VALUES)
    def set(self, who: int, key: str, value: str) -> None:
        run(self.stores[who].set(key, value))
        self.model[key] = value

    @rule(who=stores_index, key=KEYS, value=VALUES)
    def set_if_absent(self, who: int, key: str, value: str) -> None:
        written = run(self.stores[who].set(key, value, only_if_absent=True))
        assert written == (key not in self.model)
        self.model.setdefault(key, value)

    @rule(who=stores_index, key=KEYS, value=VALUES)
    def set_already_expired(self, who: int, key: str, value: str) -> None:
        run(self.stores[who].set(key, value, ttl=-1))
        self.model.pop(key, None)

    @rule(who=stores_index, key=KEYS)
    def delete(self, who: int, key: str) -> None:
        run(self.stores[who].delete(key))
        self.model.pop(key, None)

    @rule(who=stores_index, key=KEYS)
    def take(self, who: int, key: str) -> None:
        assert run(self.stores[who].take(key)) == self.model.pop(key, None)

    @rule(who=stores_index, key=COUNTERS, amount=st.integers(-3, 3))
    def incr(self, who: int, key: str, amount: int) -> None:
        expected = int(self.model.get(key, "0")) + amount
        assert run(self.stores[who].incr(key, amount)) == expected
        self.model[key] = str(expected)

    @rule(who=stores_index, values=st.dictionaries(KEYS, VALUES, max_size=3), large=st.booleans())
    def set_many(self, who: int, values: dict[str, str], large: bool) -> None:
        if large:  # past the bulk threshold: one "everything" entry in the log instead of a row per key
            values = {**{f"bulk:{n}": "x" for n in range(1_100)}, **values}
        run(self.stores[who].set_many(values))
        self.model.update(values)

    @rule(who=stores_index, key=KEYS, other=KEYS, value=VALUES, delete=st.booleans(),
          wanted=st.one_of(st.none(), VALUES), first=st.booleans())
    def commit(self, who: int, key: str, other: str, value: str, delete: bool, wanted: str | None,
               first: bool) -> None:
        """Compare-and-set of ``key`` with another write before or after it: the expectation is
        checked by ``key``'s own write (or read, for a delete expecting absence)."""
        own = Writes().delete(key) if delete else Writes().set(key, value)
        writes = own.extend(Writes().set(other, value)) if first else Writes().set(other, value).extend(own)
        landed = run(self.stores[who].commit(writes, expect={key: wanted}))
        assert landed == (self.model.get(key) == wanted)
        if landed:
            for operation in writes:
                if isinstance(operation, DeleteKey):
                    self.model.pop(operation.key, None)
                else:
                    self.model[operation.key] = value

    @precondition(lambda self: self.model)
    @rule(who=stores_index, prefix=st.sampled_from(["person:", "status:", "failures:", "bulk:"]))
    def flush(self, who: int, prefix: str) -> None:
        run(self.stores[who].flush(prefix))
        for key in [key for key in self.model if key.startswith(prefix)]:
            del self.model[key]

    @rule(who=stores_index, key=st.one_of(KEYS, COUNTERS))
    def read(self, who: int, key: str) -> None:
        assert run(self.stores[who].get(key)) == self.model.get(key)

    @rule(who=stores_index, keys=st.lists(st.one_of(KEYS, COUNTERS), max_size=5))
    def read_many(self, who: int, keys: list[str]) -> None:
        assert run(self.stores[who].get_many(keys)) == [self.model.get(key) for key in keys]

    @invariant()
    def every_replica_reads_what_was_committed(self) -> None:
        for store in getattr(self, "stores", []):
            for key in ("person:1", "status:a", "failures:1"):
                assert run(store.get(key)) == self.model.get(key)

    def teardown(self) -> None:
        for store in getattr(self, "stores", []):
            run(store.close())


TestReplicasSharingOneFile = ReplicasSharingOneFile.TestCase
TestReplicasSharingOneFile.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)


@pytest.fixture
def pair(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = str(tmp_path / "shared.sqlite3")
    writer, reader = SQLiteStore(path), SQLiteStore(path)
    yield writer, reader
    run(writer.close())
    run(reader.close())


def _statements(store: SQLiteStore) -> list[str]:
    seen: list[str] = []
    store._db.set_trace_callback(seen.append)
    return seen


def test_a_remembered_read_needs_no_sqlite_statement_until_its_key_is_written(pair) -> None:  # type: ignore[no-untyped-def]
    writer, reader = pair
    run(writer.set("person:1", "first"))
    assert run(reader.get("person:1")) == "first"
    statements = _statements(reader)
    assert run(reader.get("person:1")) == "first"
    assert statements == []
    run(writer.set("person:2", "another key"))
    assert run(reader.get("person:1")) == "first"
    assert len(statements) == 1 and "kv_changes" in statements[0]  # one look at the log, no SELECT of kv
    run(writer.set("person:1", "second"))
    assert run(reader.get("person:1")) == "second"


def test_a_key_known_absent_is_read_from_memory_until_anyone_writes_it(pair) -> None:  # type: ignore[no-untyped-def]
    """A name just drawn (a login's record) needs no lookup on its first read; a write to it,
    by another store or the same one, is read as any write is — before or after a catch-up."""
    writer, reader = pair
    run(writer.set("other", "a write the reader has not caught up with"))
    for key, who in (("login:1", writer), ("login:2", reader)):
        reader.known_absent(key)
        statements = _statements(reader)
        assert run(reader.get(key)) is None
        assert not [statement for statement in statements if "FROM kv " in statement]
        run(who.set(key, "progress"))
        assert run(reader.get(key)) == "progress"


def test_a_reader_that_fell_out_of_the_logs_window_forgets_everything(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_commits, "LOG_WINDOW", 8)
    path = str(tmp_path / "shared.sqlite3")
    writer, reader = SQLiteStore(path), SQLiteStore(path)
    run(writer.set("person:1", "first"))
    assert run(reader.get("person:1")) == "first"
    run(writer.set("person:1", "second"))
    for n in range(20):  # pushes the entry for person:1 out of the log before the reader looks
        run(writer.set(f"other:{n}", "x"))
    assert writer._db.execute("SELECT COUNT(*) FROM kv_changes").fetchone()[0] <= 8
    assert run(reader.get("person:1")) == "second"
    run(writer.close())
    run(reader.close())


def test_the_log_is_pruned_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Old entries go a 64th of the window at a time (not one per write, which made SQLite write
    the log's first page again in every commit), and a reader behind the window still reads right."""
    monkeypatch.setattr(sqlite_commits, "LOG_WINDOW", 640)
    path = str(tmp_path / "shared.sqlite3")
    writer, reader = SQLiteStore(path), SQLiteStore(path)
    run(writer.set("person:1", "first"))
    assert run(reader.get("person:1")) == "first"
    run(writer.set("person:1", "second"))
    for n in range(703):  # entries 1..705: the last batch pruned at entry 700, everything up to 60
        run(writer.set(f"other:{n}", "x"))
    assert writer._db.execute("SELECT MIN(seq), MAX(seq), COUNT(*) FROM kv_changes").fetchone() == (61, 705, 645)
    assert run(reader.get("person:1")) == "second"
    run(writer.close())
    run(reader.close())


def test_a_commit_expecting_a_key_it_writes_reads_nothing_first(pair) -> None:  # type: ignore[no-untyped-def]
    """The expectation rides on the key's own write: no SELECT before it (a login's last step
    and its code's redemption each expect one key they write)."""
    writer, reader = pair
    run(writer.set("login:1", "in progress"))
    statements = _statements(writer)
    assert run(writer.commit(Writes().set("login:1", "ended").set("session:1", "open"),
                             expect={"login:1": "in progress"}))
    assert not any(statement.startswith("SELECT") for statement in statements), statements
    assert run(reader.get_many(["login:1", "session:1"])) == ["ended", "open"]


def test_a_bulk_load_logs_one_entry_and_is_seen_by_every_reader(pair) -> None:  # type: ignore[no-untyped-def]
    writer, reader = pair
    run(writer.set("person:1", "first"))
    assert run(reader.get("person:1")) == "first"
    before = writer._db.execute("SELECT COUNT(*) FROM kv_changes").fetchone()[0]
    run(writer.set_many({**{f"declaration:{n}": "{}" for n in range(5_000)}, "person:1": "loaded"}))
    assert writer._db.execute("SELECT COUNT(*) FROM kv_changes").fetchone()[0] == before + 1
    assert run(reader.get("person:1")) == "loaded"
    run(writer.set("person:1", "after the load"))  # the writer logs single writes again
    assert run(reader.get("person:1")) == "after the load"


def test_a_remembered_read_still_expires_on_the_wall_clock(pair, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    writer, reader = pair

    class Wall:
        now = 1_000_000.0

        @classmethod
        def time(cls) -> float:
            return cls.now

    monkeypatch.setattr(store_sqlite, "time", Wall)
    run(writer.set("session:1", "live", ttl=60))
    assert run(reader.get("session:1")) == "live"
    Wall.now += 61
    assert run(reader.get("session:1")) is None


def test_a_header_caught_mid_update_gives_no_token(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE t (x)")
    watch = CommitWatch.open(path)
    assert watch is not None
    steady = watch.token()
    assert steady is not None and watch.token() == steady
    db.execute("INSERT INTO t VALUES (1)")
    assert watch.token() not in (None, steady)
    torn = bytearray(watch._mapped[:96])
    torn[16] ^= 1  # the first copy written, the second not yet
    assert CommitWatch(torn).token() is None  # type: ignore[arg-type]
    watch.close()
    db.close()


def test_without_a_shared_memory_file_there_is_nothing_to_watch(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "rollback.sqlite3")
    db.execute("CREATE TABLE t (x)")
    assert CommitWatch.open(tmp_path / "rollback.sqlite3") is None
    db.close()


def test_remembered_reads_stay_within_their_memory_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_sqlite, "_REMEMBERED_KEYS", 4)
    monkeypatch.setattr(store_sqlite, "_REMEMBERED_CHARS", 100)
    monkeypatch.setattr(store_sqlite, "_REMEMBERED_VALUE_CHARS", 50)
    path = str(tmp_path / "shared.sqlite3")
    writer, reader = SQLiteStore(path), SQLiteStore(path)
    values = {f"declaration:{n}": chr(ord("a") + n) * 30 for n in range(12)} | {"declaration:long": "z" * 60}
    run(writer.set_many(values))
    for _ in range(2):
        for key, value in values.items():
            assert run(reader.get(key)) == value
            remembered = reader._reads._values  # type: ignore[union-attr]
            held = sum(len(v) for v, _ in remembered.values() if v is not None)
            assert len(remembered) <= 4 and held <= 100 and held == reader._reads._chars  # type: ignore[union-attr]
            assert "declaration:long" not in remembered
    run(writer.close())
    run(reader.close())


def test_a_store_reads_back_its_own_writes_without_sqlite(pair) -> None:  # type: ignore[no-untyped-def]
    """A login's next step reads what its last step wrote: when no other commit came between,
    the writer knows what its keys hold and needs neither the log nor a SELECT."""
    writer, reader = pair
    assert run(writer.get("login:1")) is None  # the writer has looked at the file once
    statements = _statements(writer)
    run(writer.commit(Writes().set("login:1", "password checked", ttl=600).append("outbox:1", "code 1234")))
    run(writer.commit(Writes().set("login:1", "code checked").set("code:1", "login:1"),
                      expect={"login:1": "password checked"}))
    run(writer.set("session:1", "open"))
    run(writer.delete("code:1"))
    written = len(statements)
    assert run(writer.get_many(["login:1", "code:1", "session:1"])) == ["code checked", None, "open"]
    assert statements[written:] == []
    assert run(reader.get_many(["login:1", "code:1", "session:1"])) == ["code checked", None, "open"]


def _at_once(coroutine) -> None:  # type: ignore[no-untyped-def]
    """Run a store call from inside another one (it never waits: one step finishes it)."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise AssertionError("the store call waited")


def _between(store: SQLiteStore, step: str, other: SQLiteStore, key: str, value: str,
             monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``other`` commit ``key`` = ``value`` within ``store``'s next write: just before it
    (``step="before_write"``, once the header is read) or just after it (``"after_write"``)."""
    reads = store._reads
    assert reads is not None
    original = getattr(reads, step)

    def with_another_commit(*args):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(reads, step, original)
        if step == "after_write":
            _at_once(other.set(key, value))
            return original(*args)
        header = original(*args)
        _at_once(other.set(key, value))
        return header

    monkeypatch.setattr(reads, step, with_another_commit)


@pytest.mark.parametrize("step", ["before_write", "after_write"])
@pytest.mark.parametrize("own_write", ["set", "commit", "delete"])
def test_another_replicas_commit_beside_an_own_write_is_read(pair, step: str, own_write: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A store takes no commit for its own unless it was the only one: another replica's write
    landing just before or just after it is read, not the value remembered earlier."""
    writer, other = pair
    run(other.set("person:1", "first"))
    run(writer.set("login:1", "started"))
    assert run(writer.get("person:1")) == "first"
    _between(writer, step, other, "person:1", "changed by another replica", monkeypatch)
    if own_write == "set":
        run(writer.set("login:1", "next step"))
    elif own_write == "commit":
        assert run(writer.commit(Writes().set("login:1", "next step").set("code:1", "x"),
                                 expect={"login:1": "started"}))
    else:
        assert run(writer.delete("login:1")) == 1
    assert run(writer.get("person:1")) == "changed by another replica"


def test_a_write_that_changed_nothing_takes_no_commit_for_its_own(pair, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A delete of an absent key, or a compare-and-set that found another value, commits
    nothing: the one commit since the header read is another replica's, and is read."""
    writer, other = pair
    run(other.set("person:1", "first"))
    run(writer.set("login:1", "started"))
    assert run(writer.get("person:1")) == "first"
    _between(writer, "before_write", other, "person:1", "second", monkeypatch)
    assert run(writer.delete("absent")) == 0
    assert run(writer.get("person:1")) == "second"
    _between(writer, "before_write", other, "person:1", "third", monkeypatch)
    assert not run(writer.commit(Writes().set("login:1", "x"), expect={"login:1": "not what it holds"}))
    assert run(writer.get("person:1")) == "third"


def test_own_commits_are_taken_unread_only_so_many_in_a_row(pair, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The log's entries of a store's own writes do not pile up unread: after a few own commits
    in a row the next read reads the log (and the count starts again)."""
    monkeypatch.setattr(sqlite_commits, "OWN_COMMITS_UNREAD", 3)
    writer, _ = pair
    assert run(writer.get("login:1")) is None
    statements = _statements(writer)
    for n in range(4):
        run(writer.set(f"login:{n}", "x"))
        written = len(statements)
        assert run(writer.get(f"login:{n}")) == "x"
        read_the_log = any("kv_changes" in statement for statement in statements[written:] if "SELECT" in statement)
        assert read_the_log == (n == 3)
