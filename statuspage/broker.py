"""Celery broker transports: kombu's own, with the two changes this service relies on.

``sqlite:///<file>`` (the embedded default) is kombu's SQLAlchemy transport on a SQLite
file. A message is one row written in one transaction, so a worker can never read half a
message, as it can with kombu's filesystem transport, which creates a message file before
writing into it. Unlike kombu's, a consumed row is deleted rather than kept hidden for
ever, and a row that does not decode is dropped with an error logged instead of stopping
the worker. As with any kombu transport, a message taken by a worker that is then killed
is gone; the outbox does not depend on it: beat's sweep rings every due row again.

``redis://`` is kombu's Redis transport, except for one crash after a lost connection:
the worker first collects the broken connection, which detaches its transport, and then
closes it, which makes the channel restore its unacknowledged messages through that
detached transport (``AttributeError: 'NoneType' object has no attribute 'hostname'``,
fatal to the worker). Here such a channel raises a connection error instead, which the
worker already treats as "the broker is gone": it logs it and reconnects. The messages stay
in Redis' unacknowledged set and come back after the visibility timeout.
"""

from __future__ import annotations

import json
import logging
import os
from queue import Empty
from typing import Any

import redis
from kombu.transport import redis as kombu_redis
from kombu.transport import sqlalchemy as kombu_sqla
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# How often an idle worker asks the embedded broker for work: a poll costs about 2 ms of
# one core, and an update waits for half an interval on average.
EMBEDDED_POLL_SECONDS = 0.05


def _broker_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web processes enqueue while a worker reads; NORMAL syncs to disk at
    # checkpoints instead of on every commit (the outbox, not the broker, is the record).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class SQLiteChannel(kombu_sqla.Channel):
    def _engine_from_config(self) -> Engine:
        # Pooled: closing a WAL database's last connection checkpoints it (milliseconds).
        engine = create_engine(self.connection.client.hostname)
        event.listen(engine, "connect", _broker_pragmas)
        return engine

    def _get(self, queue: str) -> dict[str, Any]:
        found = self._get_or_create(queue)
        # Take the write lock first, so two workers never read the same row.
        self.session.execute(text("BEGIN IMMEDIATE"))
        try:
            row = (
                self.session.query(self.message_cls)
                .filter(self.message_cls.queue_id == found.id)
                .order_by(self.message_cls.id)
                .first()
            )
            if row is None:
                raise Empty()
            row_id, payload = row.id, row.payload
            self.session.delete(row)
        finally:
            self.session.commit()
        try:
            return json.loads(payload)
        except ValueError:
            log.error(
                "dropped broker message %s in %s: it is not a readable message", row_id, queue
            )
            raise Empty() from None


class SQLiteTransport(kombu_sqla.Transport):
    Channel = SQLiteChannel


def _forget_engines() -> None:
    """A forked pool process opens its own SQLite handles, never its parent's."""
    for engine, _session in SQLiteChannel._engines.values():
        engine.dispose(close=False)
    SQLiteChannel._engines.clear()


os.register_at_fork(after_in_child=_forget_engines)


class RedisChannel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise redis.ConnectionError("the broker connection was already closed")
        return super()._connparams(asynchronous)


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel


TRANSPORTS = {
    "sqlite": f"{__name__}:SQLiteTransport",
    "redis": f"{__name__}:RedisTransport",
}


def transport_for(url: str) -> str | None:
    """The transport class for a broker URL, or None for kombu's choice by its scheme."""
    return TRANSPORTS.get(url.partition("://")[0])
