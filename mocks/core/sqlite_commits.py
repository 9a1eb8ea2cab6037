"""Remembering reads of the SQLite store for as long as nobody has changed those keys.

The hottest reads (a person, a declaration's status) are one ``SELECT`` of one key. sqlite3
releases the GIL around each step of a statement, and under a server whose I/O threads want
the GIL too, getting it back costs more than the lookup. A replica therefore remembers what it
read, and needs two facts to reuse a read safely, both cheap:

* **Whether anything at all was committed since it last looked.** Every commit to a database in
  WAL mode rewrites the *WAL-index header* at the start of the ``-shm`` file that all
  connections map (SQLite's "WAL-mode File Format": frame count, a transaction counter and
  checksums change with each transaction; salts change when the log restarts). Readers take
  their snapshot from that header, so it is exactly where a commit becomes visible. Comparing
  48 mapped bytes takes a fraction of a microsecond and no SQLite call. The header is written
  twice; copies that differ mean a writer is mid-update, and nothing is trusted.
* **Which keys changed, when something was.** Every connection of the store logs the keys its
  writes touch into ``kv_changes`` by TEMP triggers, in the same transaction as the write. When
  the header has moved, one query reads the log past the last entry seen and forgets those
  keys; every other remembered read stays good. Under load, when commits land every few
  milliseconds, a replica thus pays one query per commit rather than one per read.

A connection's **own** commit needs no look at the log: it knows the keys it wrote and what
they now hold. The header's transaction counter tells whether the commit was the only one: when
the header was the one last seen before the write (every remembered read up to date with it) and
the counter has moved by exactly one after a write that changed rows, no other connection
committed in between, and the connection takes the new header as seen and remembers what it
wrote. Any other count — another replica's commit before or after its own, a write that changed
nothing, a header caught mid-update — leaves the header unseen, and the next read reads the log
as before. After :data:`OWN_COMMITS_UNREAD` such commits in a row the log is read anyway, so
its own entries never pile up unread. (The counter starts again from 0 when a crashed writer's
log is recovered; a header whose counter is 0 is never the one before a write taken as its own.)

The log keeps the last :data:`LOG_WINDOW` entries (and up to a 64th more, pruned in batches); a
replica that fell further behind forgets everything. Bulk loads log one "everything" entry instead of a row per key.

This holds while every writer goes through :class:`.store_sqlite.SQLiteStore` (whose
connections carry the triggers) and uses the shared-memory file; a ``sqlite3`` shell writing to
a running stand's store would not be seen by replicas that remembered the keys it changed.
"""

from __future__ import annotations

import mmap
import sqlite3
import sys
from pathlib import Path

__all__ = ["OWN_COMMITS_UNREAD", "CommitWatch", "LOG_WINDOW", "RememberedReads", "Written", "create_change_log"]

_HEADER = 48
#: Where the header keeps its transaction counter (``iChange``: one more with every commit).
_COMMITS = slice(8, 12)
_WAL_INDEX_VERSION = 3007000
_IS_INIT = 12
#: Where the header keeps the number of pages in the log (``mxFrame``), and where the checkpoint
#: information after the two header copies keeps how many of them were copied back (``nBackfill``).
_LOG_PAGES = slice(16, 20)
_COPIED_BACK = slice(2 * _HEADER, 2 * _HEADER + 4)
_MAPPED = 2 * _HEADER + 40

#: How many of its own commits in a row a connection takes without reading the log (see above).
OWN_COMMITS_UNREAD = 64
#: What a write left in each key it wrote: ``(value, expires)``, or ``None`` when not known.
Written = dict[str, tuple[str | None, float | None] | None]

#: How many changed keys the shared log keeps.
LOG_WINDOW = 65536
#: The key logged by a bulk load: every remembered read is forgotten.
_EVERYTHING = "\x00*"

_LOG_TABLE = "CREATE TABLE IF NOT EXISTS kv_changes (seq INTEGER PRIMARY KEY, key TEXT NOT NULL)"
_TRIGGERS = {
    "kv_logged_insert": "AFTER INSERT ON main.kv BEGIN {log}(NEW.key); {prune} END",
    "kv_logged_update": "AFTER UPDATE ON main.kv BEGIN {log}(NEW.key); {prune} END",
    "kv_logged_delete": "AFTER DELETE ON main.kv BEGIN {log}(OLD.key); {prune} END",
}
_LOG = "INSERT INTO kv_changes (key) VALUES "
#: Old entries go in batches of a 64th of the window, when an entry's number is a multiple of
#: that: deleting the oldest entry at every write changed the log's first page in every commit
#: (one more page for SQLite to write), a batch changes it once per batch.
_PRUNE = "DELETE FROM kv_changes WHERE last_insert_rowid() % {batch} = 0 AND seq <= last_insert_rowid() - {window};"


class CommitWatch:
    """The current WAL-index header of one database file, read from its mapped ``-shm``."""

    def __init__(self, mapped: mmap.mmap) -> None:
        self._mapped = mapped

    @classmethod
    def open(cls, database: str | Path) -> CommitWatch | None:
        """A watch on ``database``'s commits, or ``None`` when its WAL index cannot be mapped
        (not in WAL mode, no shared-memory file yet, an unknown format)."""
        try:
            with open(f"{database}-shm", "rb") as file:
                mapped = mmap.mmap(file.fileno(), _MAPPED, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None
        if int.from_bytes(mapped[0:4], sys.byteorder) != _WAL_INDEX_VERSION:
            mapped.close()
            return None
        return cls(mapped)

    def token(self) -> bytes | None:
        """The header as it is now, or ``None`` while a writer is updating it. Equal tokens
        mean no transaction was committed in between."""
        first = self._mapped[0:_HEADER]
        if first[_IS_INIT] != 1 or first != self._mapped[_HEADER : 2 * _HEADER]:
            return None
        return first

    def unsaved_pages(self) -> int:
        """Pages in the log not yet copied back into the database file (read unlocked: an
        estimate good enough to decide when to checkpoint)."""
        logged = int.from_bytes(self._mapped[_LOG_PAGES], sys.byteorder)
        return max(0, logged - int.from_bytes(self._mapped[_COPIED_BACK], sys.byteorder))

    def close(self) -> None:
        self._mapped.close()


def create_change_log(db: sqlite3.Connection) -> None:
    """The shared log table (once per file; call inside the store's schema transaction)."""
    db.execute(_LOG_TABLE)


def _one_commit_between(before: bytes, after: bytes) -> bool:
    """Whether exactly one transaction was committed between two headers (by their counters;
    none taken from a header whose counter is 0, where a recovered log starts counting again)."""
    counted = int.from_bytes(before[_COMMITS], sys.byteorder)
    return counted != 0 and int.from_bytes(after[_COMMITS], sys.byteorder) == (counted + 1) % 2**32 != 0


class RememberedReads:
    """One connection's remembered ``kv`` reads, each good until its key appears in the log.

    Use: :meth:`current` before reading (it brings the remembered reads up to date and says
    whether they may be used); :meth:`recall` and :meth:`remember` around the ``SELECT``;
    :meth:`before_write` and :meth:`after_write` around each write of the connection's own.
    """

    def __init__(self, db: sqlite3.Connection, watch: CommitWatch, *, max_keys: int, max_chars: int,
                 max_value_chars: int) -> None:
        self._db = db
        self._watch = watch
        self._max_keys, self._max_chars, self._max_value_chars = max_keys, max_chars, max_value_chars
        self._values: dict[str, tuple[str | None, float | None]] = {}
        self._chars = 0
        self._seen_header: bytes | None = None
        self._seen_seq = self._last_seq()
        #: This connection's commits taken as its own since the log was last read.
        self._own_unread = 0
        self.log_writes(True)

    @classmethod
    def attach(cls, db: sqlite3.Connection, path: str, *, max_keys: int, max_chars: int,
               max_value_chars: int) -> RememberedReads | None:
        """Remembered reads for ``db`` (open on ``path``): at most ``max_keys`` values of
        ``max_chars`` in all, none longer than ``max_value_chars``. ``None`` when its commits
        cannot be watched: then every read goes to SQLite."""
        watch = CommitWatch.open(path)
        if watch is None:
            return None
        return cls(db, watch, max_keys=max_keys, max_chars=max_chars, max_value_chars=max_value_chars)

    @property
    def watch(self) -> CommitWatch:
        """The watch on the file's commits (shared with the checkpoints: :mod:`.sqlite_checkpoints`)."""
        return self._watch

    def log_writes(self, on: bool) -> None:
        """Whether this connection's writes log their keys (off for the duration of a bulk load,
        which logs one "everything" entry instead: see :meth:`changed_everything`)."""
        for name, body in _TRIGGERS.items():
            self._db.execute(f"DROP TRIGGER IF EXISTS temp.{name}")
            if on:
                prune = _PRUNE.format(window=LOG_WINDOW, batch=max(1, LOG_WINDOW // 64))
                self._db.execute(f"CREATE TEMP TRIGGER {name} {body.format(log=_LOG, prune=prune)}")

    def changed_everything(self) -> None:
        """Log that any key may have changed (inside the bulk load's transaction)."""
        self._db.execute(f"{_LOG}(?)", (_EVERYTHING,))

    def before_write(self) -> bytes | None:
        """The header before this connection writes, when every remembered read is up to date
        with it (what :meth:`after_write` needs to take the write's commit as its own), else ``None``."""
        header = self._watch.token()
        if header is None or header != self._seen_header or self._own_unread >= OWN_COMMITS_UNREAD:
            return None
        return header

    def after_write(self, before: bytes | None, changed: bool, written: Written) -> None:
        """After this connection's write (committed, or changing nothing): ``before`` from
        :meth:`before_write`, ``changed`` whether it changed any row, ``written`` what it left in
        the keys it wrote. When its commit was the only one since ``before``, the new header is
        seen and the written values are remembered (the log need not be read for them);
        otherwise the written keys are forgotten and the next read reads the log."""
        if before is not None and changed:
            after = self._watch.token()
            if after is not None and _one_commit_between(before, after):
                self._seen_header = after
                self._own_unread += 1
                for key, value in written.items():
                    if value is None:
                        self._forget(key)
                    else:
                        self.remember(key, *value)
                return
        for key in written:
            self._forget(key)

    def current(self) -> bool:
        """Bring the remembered reads up to date with what was committed; ``False`` while that
        cannot be known (a writer is updating the header): read from SQLite, remember nothing."""
        header = self._watch.token()
        if header is None:
            return False
        if header != self._seen_header:
            self._catch_up()
            self._seen_header = header
            self._own_unread = 0
        return True

    def _catch_up(self) -> None:
        changed = self._db.execute("SELECT seq, key FROM kv_changes WHERE seq > ? ORDER BY seq",
                                   (self._seen_seq,)).fetchall()
        if not changed:
            return
        if changed[0][0] != self._seen_seq + 1 or any(key == _EVERYTHING for _, key in changed):
            self._forget_all()  # fell out of the log's window, or a bulk load
        else:
            for _, key in changed:
                self._forget(key)
        self._seen_seq = changed[-1][0]

    def _last_seq(self) -> int:
        row = self._db.execute("SELECT MAX(seq) FROM kv_changes").fetchone()
        return 0 if row[0] is None else int(row[0])

    def recall(self, key: str) -> tuple[str | None, float | None] | None:
        """``(value, expires)`` as last read, or ``None`` when not remembered."""
        return self._values.get(key)

    def remember(self, key: str, value: str | None, expires: float | None) -> None:
        """Keep what was just read of ``key`` (``None``: absent), unless it is too long."""
        self._forget(key)
        size = 0 if value is None else len(value)
        if size > self._max_value_chars:
            return
        if len(self._values) >= self._max_keys or self._chars + size > self._max_chars:
            self._forget_all()
        self._values[key] = (value, expires)
        self._chars += size

    def _forget(self, key: str) -> None:
        earlier = self._values.pop(key, None)
        if earlier is not None and earlier[0] is not None:
            self._chars -= len(earlier[0])

    def _forget_all(self) -> None:
        self._values.clear()
        self._chars = 0

    def close(self) -> None:
        self._watch.close()
