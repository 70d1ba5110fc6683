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
from queue import Empty
from typing import Any

import redis
from kombu.transport import redis as kombu_redis
from kombu.transport import sqlalchemy as kombu_sqla
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)


class SQLiteChannel(kombu_sqla.Channel):
    def _engine_from_config(self) -> Engine:
        # No pooled SQLite handle may cross the fork of a prefork worker; connecting is cheap.
        return create_engine(self.connection.client.hostname, poolclass=NullPool)

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
