"""Rate-limit counters in one SQLite file: every process of ``statuspage up`` counts together."""

from __future__ import annotations

import time
from pathlib import Path

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from statuspage.ratelimit_store import SQLiteStorage


def test_two_processes_share_one_count(tmp_path: Path):
    uri = f"sqlite:///{tmp_path / 'ratelimits.sqlite'}"
    first, second = storage_from_string(uri), storage_from_string(uri)
    assert isinstance(first, SQLiteStorage)
    limit = RateLimitItemPerSecond(3, 60)
    hits = [
        FixedWindowRateLimiter(storage).hit(limit, "client")
        for storage in (first, second, first, second, first)
    ]
    assert hits == [True, True, True, False, False]
    assert second.get(limit.key_for("client")) == 5


def test_a_window_that_ended_counts_from_the_next_hit(tmp_path: Path):
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'ratelimits.sqlite'}")
    assert storage.incr("k", expiry=1) == 1
    assert storage.incr("k", expiry=1) == 2
    assert storage.get_expiry("k") > time.time()
    time.sleep(1.1)
    assert storage.get("k") == 0
    assert storage.incr("k", expiry=1) == 1


def test_clear_and_reset(tmp_path: Path):
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'ratelimits.sqlite'}")
    storage.incr("a", expiry=60)
    storage.incr("b", expiry=60)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b")) == (0, 1)
    assert storage.reset() == 1
    assert storage.check()
