"""Rate-limit counters in a SQLite file, for installations without Redis.

The ``limits`` library keeps counters in memory (one count per process) or in a server.
``statuspage up`` runs several web processes and no server, so its counters live in
``ratelimits.sqlite`` in the data directory, where every process adds to the same count.
Registering the class makes ``sqlite:///<file>`` a storage URI that Flask-Limiter accepts.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from limits.storage import Storage

SCHEMA = "CREATE TABLE IF NOT EXISTS counter (key TEXT PRIMARY KEY, value INTEGER, expires REAL)"
# One statement, so two processes counting at once both count: a window that has ended
# starts again from this hit.
INCREMENT = """
INSERT INTO counter (key, value, expires) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN expires <= :now THEN :amount ELSE value + :amount END,
    expires = CASE WHEN expires <= :now THEN :now + :expiry ELSE expires END
RETURNING value
"""


class SQLiteStorage(Storage):
    """Fixed-window counters (Flask-Limiter's default strategy) in one SQLite file."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = uri.removeprefix("sqlite:///")
        self._local = threading.local()

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        # One connection per thread and process: sqlite3 handles must not cross either.
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(SCHEMA)
            held = self._local.held = (os.getpid(), conn)
        return held[1]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        db = self._db()
        now = time.time()
        (value,) = db.execute(
            INCREMENT, {"key": key, "amount": amount, "now": now, "expiry": expiry}
        ).fetchone()
        if value == amount:  # a new window: a good moment to forget ended ones
            db.execute("DELETE FROM counter WHERE expires <= ?", (now,))
        return int(value)

    def get(self, key: str) -> int:
        row = (
            self._db()
            .execute("SELECT value FROM counter WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires FROM counter WHERE key = ?", (key,)).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        return self._db().execute("SELECT 1").fetchone() == (1,)

    def reset(self) -> int | None:
        return self._db().execute("DELETE FROM counter").rowcount

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM counter WHERE key = ?", (key,))
