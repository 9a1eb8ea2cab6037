"""Checkpoints of the SQLite store's write-ahead log, off the requests' path.

A commit in WAL mode appends pages to the log; SQLite copies them back into the database file
(a *checkpoint*) when a commit finds the log past 1,000 pages — inside that commit, so the
request that happened to pass the mark waits while the pages are read back, written to the
database file and, with ``synchronous=NORMAL``, both files are synced. Measured on this
project's shared machines: an ESIA login writes about 13 pages, so a checkpoint came every 75–80
logins and took 17–20 ms (2.5–4 ms of it CPU, the rest waiting on the disk) inside one request,
holding its replica's event loop for nearly the whole p99 budget of a load run's request.

So each store connection hands checkpoints to a thread with a connection of its own, woken when
a write sees the log past :data:`CHECKPOINT_PAGES` pages not yet copied back (read from the
WAL-index every connection maps: no SQLite call). ``sqlite3`` releases the GIL while the
checkpoint runs, so the event loop goes on serving. Nothing about durability changes: a commit
is in the log when it returns either way, and the checkpoint copies what was committed. The
request connections still checkpoint by themselves past :data:`SELF_CHECKPOINT_PAGES` (SQLite's
``wal_autocheckpoint``), which bounds the log should the thread fall behind.
"""

from __future__ import annotations

import sqlite3
import threading

from .sqlite_commits import CommitWatch

__all__ = ["CHECKPOINT_PAGES", "SELF_CHECKPOINT_PAGES", "Checkpointer"]

#: Log pages not yet copied back that wake the checkpoint thread (SQLite's own default mark).
CHECKPOINT_PAGES = 1000
#: Past this many, a committing connection checkpoints by itself, as SQLite would.
SELF_CHECKPOINT_PAGES = 10 * CHECKPOINT_PAGES
#: How long closing waits for a checkpoint in progress.
_JOIN_TIMEOUT_S = 10.0


class Checkpointer:
    """The checkpoint thread of one store connection: started on the first wake, ended by :meth:`close`."""

    def __init__(self, path: str, watch: CommitWatch, *, pages: int | None = None) -> None:
        self._path = path
        self._watch = watch
        self._pages = CHECKPOINT_PAGES if pages is None else pages
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        #: Checkpoints run so far (what the tests look at).
        self.runs = 0

    def written(self) -> None:
        """After a write: wake the thread when the log holds enough pages not yet copied back."""
        if self._wake.is_set() or self._watch.unsaved_pages() < self._pages:
            return
        if self._thread is None or not self._thread.is_alive():  # first use (or a forked process)
            self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
            self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._closed:  # ends with the store
                self._wake.wait()
                if self._closed:
                    break
                # Cleared before the checkpoint, not after: a write committed while it runs is not in
                # it, and that write's wake must bring the thread round again (cleared afterwards, the
                # wake was lost and the last commits' pages stayed in the log until some later write).
                self._wake.clear()
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.OperationalError:
                    pass  # busy (another replica's checkpoint): the next wake tries again
                self.runs += 1
        finally:
            db.close()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT_S)

    @property
    def running(self) -> bool:
        """Whether the thread is there (it starts at the first wake and ends with :meth:`close`)."""
        return self._thread is not None and self._thread.is_alive()
