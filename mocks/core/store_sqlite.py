"""The zero-install shared store: one SQLite file in WAL mode that every replica opens.

WAL lets readers proceed while one process writes; every write is its own transaction (a
``commit`` of several writes is one ``BEGIN IMMEDIATE`` transaction, its expectations checked
under the write lock — by the write of the expected key itself where there is one) and is on
disk when the call returns (``synchronous=NORMAL`` survives a killed process, which is the failure
replicas are tested against). Calls block for microseconds, which is cheaper than
handing them to a thread.

``get`` answers a key it read before without SQLite for as long as nobody has written that key
(:mod:`.sqlite_commits` tells which keys were written, at one query per commit instead of one
per read): on a busy server the SQLite call is most of a hot read's time. A key the store wrote
itself is answered the same way, without that query, when its commit was the only one since
the store last looked (a login's next step reads what its last step wrote).
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .sqlite_checkpoints import SELF_CHECKPOINT_PAGES, Checkpointer
from .sqlite_commits import RememberedReads, Written, create_change_log
from .store import Append, DeleteKey, IndexAdd, IndexRemove, SetKey, Write, Writes

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value, expires REAL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS zset (
    name TEXT NOT NULL, member TEXT NOT NULL, score REAL NOT NULL, PRIMARY KEY (name, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS zset_by_score ON zset (name, score, member);
CREATE TABLE IF NOT EXISTS list (name TEXT NOT NULL, pos INTEGER NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (name, pos)) WITHOUT ROWID;
"""

_LIVE = "(expires IS NULL OR expires > ?)"
_UPSERT_KV = ("INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
              "value = excluded.value, expires = excluded.expires")
_APPEND = "INSERT INTO list (name, pos, value) SELECT ?, COALESCE(MAX(pos), -1) + 1, ? FROM list WHERE name = ?"
_UPSERT_ZSET = ("INSERT INTO zset (name, member, score) VALUES (?, ?, ?) "
                "ON CONFLICT (name, member) DO UPDATE SET score = excluded.score")
_INSERT_IF_ABSENT = ("INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                     "value = excluded.value, expires = excluded.expires "
                     "WHERE kv.expires IS NOT NULL AND kv.expires <= ?")
#: A live key holding the text given (a counter's value is an integer: compared as its text).
_HOLDS = "CAST(value AS TEXT) = ? AND (expires IS NULL OR expires > ?)"
#: Page cache (KiB) while a bulk write runs; the connection's usual one returns afterwards.
_BULK_CACHE_KIB = 512 * 1024
#: How many keys' reads a replica remembers, their size in all, and the longest value it keeps.
_REMEMBERED_KEYS = 4096
_REMEMBERED_CHARS = 8 * 1024 * 1024
_REMEMBERED_VALUE_CHARS = 64 * 1024
#: A ``get_many`` of more keys than this (a list page) is not remembered: it would push out the
#: few hot keys for reads that are rarely repeated.
_REMEMBERED_BATCH = 16


def _alive(value: str | None, expires: float | None) -> str | None:
    return value if expires is None or expires > time.time() else None


def _bound(value: float) -> float:
    # SQLite has no infinity literal in parameters on every build; clamp instead.
    return max(min(value, 1e300), -1e300)


def _use_wal(db: sqlite3.Connection, *, patience: float = 10.0) -> None:
    """Switch the file to WAL (it stays so). Replicas opening a new file together race for the
    switch, and SQLite answers the loser "database is locked" at once, without its busy
    handler: so the switch is retried until ``patience`` runs out (measured: 5 of 180 opens
    failed with six replicas starting on a busy machine, none after)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class _Stale(Exception):
    """A commit's expectation did not hold at its write: the transaction is rolled back."""


def _carried_expectations(operations: list[Write], expect: Mapping[str, str | None]
                          ) -> tuple[dict[int, str | None], dict[str, str | None]]:
    """Which expectations ride on a write of their own key (the write's number → the text it
    expects), and which must be read first.

    An expectation rides on the first write of its key when that write can say whether the key
    held what was expected — an ``UPDATE``/``DELETE`` of the expected text, an insert only if
    absent — which saves the ``SELECT`` a commit used to run per expectation: a login's last step
    and its code's redemption each expect one key they also write."""
    first: dict[str, int] = {}
    for number, operation in enumerate(operations):
        if isinstance(operation, SetKey | DeleteKey):
            first.setdefault(operation.key, number)
    carried: dict[int, str | None] = {}
    read: dict[str, str | None] = {}
    for key, wanted in expect.items():
        written = first.get(key)
        if written is not None and (wanted is not None or isinstance(operations[written], SetKey)):
            carried[written] = wanted
        else:
            read[key] = wanted
    return carried, read


class SQLiteStore:
    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
        self._db.execute("PRAGMA busy_timeout = 10000")
        if path != ":memory:":
            _use_wal(self._db)
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        self._reads: RememberedReads | None = None
        self._checkpoints: Checkpointer | None = None
        self._count_members()
        self._cache_size = self._db.execute("PRAGMA cache_size").fetchone()[0]
        if path != ":memory:":
            self._reads = RememberedReads.attach(self._db, path, max_keys=_REMEMBERED_KEYS,
                                                 max_chars=_REMEMBERED_CHARS, max_value_chars=_REMEMBERED_VALUE_CHARS)
        if self._reads is not None:  # the log's pages can be watched: checkpoints go to a thread
            self._checkpoints = Checkpointer(path, self._reads.watch)
            self._db.execute(f"PRAGMA wal_autocheckpoint = {SELF_CHECKPOINT_PAGES}")

    def _written(self) -> None:
        """After a write: the checkpoint thread may have work (:mod:`.sqlite_checkpoints`)."""
        if self._checkpoints is not None:
            self._checkpoints.written()

    def _before_write(self) -> bytes | None:
        """The commit header before one of this store's own writes (see :meth:`_after_write`)."""
        return None if self._reads is None else self._reads.before_write()

    def _after_write(self, before: bytes | None, changed: bool, written: Written) -> None:
        """After a write of its own that ``changed`` rows, leaving ``written`` in its keys: the
        remembered reads keep them when no other commit came between (:mod:`.sqlite_commits`)."""
        if self._reads is not None:
            self._reads.after_write(before, changed, written)
        self._written()

    def _count_members(self) -> None:
        """Keep each sorted index's size in ``zcard``, by triggers in the same transaction as the
        change (as Redis keeps ZCARD): counting a hundred thousand members would cost every list
        page milliseconds. Created once per file, counting what is there already (a store written
        before it existed); replicas opening the file together serialise on the write lock."""
        with self._transaction():
            create_change_log(self._db)
            if self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'zcard'").fetchone() is None:
                self._db.execute("CREATE TABLE zcard (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID")
                self._db.execute("INSERT INTO zcard (name, n) SELECT name, COUNT(*) FROM zset GROUP BY name")
                self._db.execute("CREATE TRIGGER zcard_add AFTER INSERT ON zset BEGIN INSERT INTO zcard (name, n) "
                                 "VALUES (new.name, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1; END")
                self._db.execute("CREATE TRIGGER zcard_remove AFTER DELETE ON zset BEGIN "
                                 "UPDATE zcard SET n = n - 1 WHERE name = old.name; END")

    @contextmanager
    def _transaction(self, *, many_keys: bool = False) -> Iterator[None]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        ``many_keys`` (a bulk load, a reset) logs one "everything changed" entry for the other
        replicas' remembered reads instead of a row per key written (:mod:`.sqlite_commits`)."""
        quiet = self._reads if many_keys else None
        if quiet is not None:
            quiet.log_writes(False)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            if quiet is not None:
                quiet.changed_everything()
            self._db.execute("COMMIT")
            self._written()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        finally:
            if quiet is not None:
                quiet.log_writes(True)

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else time.time() + ttl

    def _remembered(self) -> RememberedReads | None:
        """The remembered reads, brought up to date with what was committed, or ``None`` when
        they may not be used for this read (see :meth:`.RememberedReads.current`)."""
        reads = self._reads
        return reads if reads is not None and reads.current() else None

    async def get(self, key: str) -> str | None:
        reads = self._remembered()
        known = None if reads is None else reads.recall(key)
        if known is not None:
            return _alive(*known)
        row = self._db.execute("SELECT value, expires FROM kv WHERE key = ?", (key,)).fetchone()
        value, expires = (None, None) if row is None else (str(row[0]), row[1])
        if reads is not None:
            reads.remember(key, value, expires)
        return _alive(value, expires)

    def known_absent(self, key: str) -> None:
        # Remembered without catching up first: a key no one has written cannot be among the
        # changes a catch-up forgets, so it stays right whenever the catch-up comes.
        if self._reads is not None:
            self._reads.remember(key, None, None)

    async def get_many(self, keys: list[str]) -> list[str | None]:
        if not keys:
            return []
        reads = self._remembered()
        known: dict[str, tuple[str | None, float | None]] = {}
        if reads is not None:
            for key in keys:
                earlier = reads.recall(key)
                if earlier is not None:
                    known[key] = earlier
        missing = list(dict.fromkeys(key for key in keys if key not in known))
        for chunk_start in range(0, len(missing), 500):
            chunk = missing[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            for key, value, expires in self._db.execute(
                f"SELECT key, value, expires FROM kv WHERE key IN ({marks})", chunk
            ):
                known[key] = (str(value), expires)
        if reads is not None and len(missing) <= _REMEMBERED_BATCH:
            for key in missing:
                reads.remember(key, *known.get(key, (None, None)))
        return [_alive(*known.get(key, (None, None))) for key in keys]

    async def set(self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False) -> bool:
        expires = self._expiry(ttl)
        before = self._before_write()
        if only_if_absent:
            done = self._db.execute(_INSERT_IF_ABSENT, (key, value, expires, time.time())).rowcount == 1
        else:
            done = self._db.execute(_UPSERT_KV, (key, value, expires)).rowcount == 1
        self._after_write(before, done, {key: (value, expires)} if done else {})
        return done

    async def set_many(self, values: Mapping[str, str]) -> None:
        self._in_transaction(
            "INSERT INTO kv (key, value, expires) VALUES (?, ?, NULL) ON CONFLICT (key) DO UPDATE SET "
            "value = excluded.value, expires = NULL",
            sorted(values.items()),
            changes_keys=True,
        )

    async def index_add_many(self, entries: Iterable[tuple[str, str, float]]) -> None:
        self._in_transaction(_UPSERT_ZSET, sorted(entries))

    def _in_transaction(self, statement: str, rows: list[tuple[object, ...]], *, changes_keys: bool = False) -> None:
        """One statement over many rows in one transaction: all written or none, one fsync.

        Rows come in key order (B-tree pages are then touched once each, not at random), and a
        large batch gets a large page cache for its duration: a million-row seed otherwise
        spends most of its time re-reading the same pages. A large batch of ``kv`` writes logs
        one "everything changed" entry rather than a row per key (:mod:`.sqlite_commits`)."""
        if not rows:
            return
        large = len(rows) > 1_000
        if large:
            self._db.execute(f"PRAGMA cache_size = -{_BULK_CACHE_KIB}")
        try:
            with self._transaction(many_keys=large and changes_keys):
                self._db.executemany(statement, rows)
        finally:
            if large:
                self._db.execute(f"PRAGMA cache_size = {self._cache_size}")

    async def commit(self, writes: Writes, *, expect: Mapping[str, str | None] | None = None) -> bool:
        operations = writes.operations
        carried, read = _carried_expectations(operations, expect or {})
        written: Written = {}
        before = self._before_write()
        if len(operations) == 1 and not read:  # one statement is atomic by itself: no BEGIN and COMMIT
            if carried:
                done = changed = self._apply_if(operations[0], carried[0], time.time(), written)
            else:
                done, changed = True, self._apply(operations[0], written)
            self._after_write(before, changed, written)
            return done
        changed = False
        try:
            with self._transaction():
                now = time.time()
                for key, wanted in read.items():
                    row = self._db.execute("SELECT value, expires FROM kv WHERE key = ?", (key,)).fetchone()
                    held = None if row is None or (row[1] is not None and row[1] <= now) else str(row[0])
                    if held != wanted:
                        return False
                for number, operation in enumerate(operations):
                    if number not in carried:
                        changed = self._apply(operation, written) or changed
                    elif self._apply_if(operation, carried[number], now, written):
                        changed = True
                    else:
                        raise _Stale
        except _Stale:  # rolled back: the writes before the stale one are undone
            return False
        if self._reads is not None:
            self._reads.after_write(before, changed, written)
        return True

    def _apply_if(self, operation: Write, wanted: str | None, now: float, written: Written) -> bool:
        """Apply a ``SetKey`` or ``DeleteKey`` only while its key holds ``wanted`` (``None``:
        absent or expired) — the expectation and the write in one statement; whether it did
        (and, when it did, what the key holds now in ``written``)."""
        match operation:
            case SetKey(key, value, ttl) if wanted is None:
                expires = self._expiry(ttl)
                cursor = self._db.execute(_INSERT_IF_ABSENT, (key, value, expires, now))
                left: tuple[str | None, float | None] = (value, expires)
            case SetKey(key, value, ttl):
                expires = self._expiry(ttl)
                cursor = self._db.execute(f"UPDATE kv SET value = ?, expires = ? WHERE key = ? AND {_HOLDS}",
                                          (value, expires, key, wanted, now))
                left = (value, expires)
            case DeleteKey(key):
                cursor = self._db.execute(f"DELETE FROM kv WHERE key = ? AND {_HOLDS}", (key, wanted, now))
                left = (None, None)
            case _:
                raise AssertionError(f"no expectation rides on {operation!r}")
        if cursor.rowcount != 1:
            return False
        written[key] = left
        return True

    def _apply(self, operation: Write, written: Written) -> bool:
        """Apply one write, noting in ``written`` what a key it wrote holds now; whether it
        changed a row."""
        match operation:
            case SetKey(key, value, ttl):
                expires = self._expiry(ttl)
                cursor = self._db.execute(_UPSERT_KV, (key, value, expires))
                written[key] = (value, expires)
            case DeleteKey(key):
                cursor = self._db.execute("DELETE FROM kv WHERE key = ?", (key,))
                written[key] = (None, None)
            case IndexAdd(index, member, score):
                cursor = self._db.execute(_UPSERT_ZSET, (index, member, score))
            case IndexRemove(index, member):
                cursor = self._db.execute("DELETE FROM zset WHERE name = ? AND member = ?", (index, member))
            case Append(key, value):
                cursor = self._db.execute(_APPEND, (key, value, key))
        return cursor.rowcount > 0

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        marks = ",".join("?" * len(keys))
        before = self._before_write()
        deleted = self._db.execute(f"DELETE FROM kv WHERE key IN ({marks})", keys).rowcount
        self._after_write(before, deleted > 0, dict.fromkeys(keys, (None, None)))
        return deleted

    async def take(self, key: str) -> str | None:
        before = self._before_write()
        row = self._db.execute(
            f"DELETE FROM kv WHERE key = ? AND {_LIVE} RETURNING value", (key, time.time())
        ).fetchone()
        self._after_write(before, row is not None, {key: (None, None)} if row is not None else {})
        return None if row is None else str(row[0])

    async def incr(self, key: str, amount: int = 1, *, ttl: float | None = None) -> int:
        now = time.time()
        before = self._before_write()
        row = self._db.execute(
            "INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "value = CASE WHEN kv.expires IS NOT NULL AND kv.expires <= ? THEN excluded.value "
            "ELSE CAST(kv.value AS INTEGER) + excluded.value END, "
            "expires = CASE WHEN excluded.expires IS NULL THEN kv.expires ELSE excluded.expires END "
            "RETURNING value",
            (key, amount, self._expiry(ttl), now),
        ).fetchone()
        self._after_write(before, True, {key: None})  # its expiry may be the earlier one: read again
        return int(row[0])

    async def index_add(self, index: str, member: str, score: float) -> None:
        before = self._before_write()
        self._db.execute(_UPSERT_ZSET, (index, member, score))
        self._after_write(before, True, {})

    async def index_remove(self, index: str, member: str) -> None:
        before = self._before_write()
        removed = self._db.execute("DELETE FROM zset WHERE name = ? AND member = ?", (index, member)).rowcount
        self._after_write(before, removed > 0, {})

    async def index_range(
        self,
        index: str,
        *,
        min_score: float = -math.inf,
        max_score: float = math.inf,
        offset: int = 0,
        limit: int | None = None,
        reverse: bool = False,
    ) -> list[str]:
        order = "DESC" if reverse else "ASC"
        rows = self._db.execute(
            f"SELECT member FROM zset WHERE name = ? AND score >= ? AND score <= ? "
            f"ORDER BY score {order}, member {order} LIMIT ? OFFSET ?",
            (index, _bound(min_score), _bound(max_score), -1 if limit is None else limit, offset),
        )
        return [row[0] for row in rows]

    async def index_count(self, index: str, *, min_score: float = -math.inf, max_score: float = math.inf) -> int:
        if min_score == -math.inf and max_score == math.inf:
            row = self._db.execute("SELECT n FROM zcard WHERE name = ?", (index,)).fetchone()
            return 0 if row is None else int(row[0])
        row = self._db.execute(
            "SELECT COUNT(*) FROM zset WHERE name = ? AND score >= ? AND score <= ?",
            (index, _bound(min_score), _bound(max_score)),
        ).fetchone()
        return int(row[0])

    async def append(self, key: str, value: str) -> int:
        before = self._before_write()
        row = self._db.execute(_APPEND + " RETURNING pos", (key, value, key)).fetchone()
        self._after_write(before, True, {})
        return int(row[0]) + 1

    async def items(self, key: str, start: int = 0, stop: int = -1) -> list[str]:
        if start < 0 and stop == -1:  # the last few (an outbox's latest SMS): read only those rows
            rows = self._db.execute(
                "SELECT value FROM (SELECT pos, value FROM list WHERE name = ? ORDER BY pos DESC LIMIT ?) ORDER BY pos",
                (key, -start),
            )
            return [row[0] for row in rows]
        values = [row[0] for row in self._db.execute("SELECT value FROM list WHERE name = ? ORDER BY pos", (key,))]
        end = len(values) if stop == -1 else stop + 1
        return values[start:end]

    async def flush(self, prefix: str = "") -> None:
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._transaction(many_keys=True):  # a reset may delete millions of keys
            for table, column in (("kv", "key"), ("zset", "name"), ("list", "name")):
                self._db.execute(f"DELETE FROM {table} WHERE {column} LIKE ? ESCAPE '\\'", (pattern,))

    async def ping(self) -> bool:
        return self._db.execute("SELECT 1").fetchone() == (1,)

    async def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.close()
        if self._reads is not None:
            self._reads.close()
        self._db.close()
