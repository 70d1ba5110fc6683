"""The one interface every delivery channel implements."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from statuspage.extensions import db
from statuspage.lib import http
from statuspage.lib.crypto import SecretError
from statuspage.listening.replies import ReplyFacts
from statuspage.messages import MessageFacts
from statuspage.models import (
    BatchRow,
    Channel,
    Delivery,
    DeliveryState,
    IncidentUpdate,
    OperatorAlert,
    Subscriber,
    TargetKind,
)


class DeliveryError(Exception):
    """A send failed. ``permanent`` means retrying cannot help (bad credentials, 4xx);
    ``retry_at`` is when the far end said to come back (any reset header of a 429 or 5xx);
    ``unknown_outcome`` means the request went out but no whole answer came back (a read
    timeout, a cut or unreadable body), so the post may exist: channels that dedupe send it
    again with the same key, the others must not send it again blindly."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_at: datetime | None = None,
        unknown_outcome: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_at = retry_at
        self.unknown_outcome = unknown_outcome

    @classmethod
    def from_http(cls, exc: http.HttpError) -> DeliveryError:
        return cls(
            exc.message,
            permanent=exc.permanent,
            retry_at=exc.retry_at,
            unknown_outcome=exc.unknown_outcome,
        )


@dataclass(frozen=True)
class SendResult:
    external_id: str | None = None
    external_url: str | None = None


Outcome = tuple[BatchRow, SendResult | DeliveryError]


class Transport:
    """Carries one delivery to one target.

    ``coalesce``: one send covers every due row of the mailbox (the page re-renders all).
    ``safe_to_resend``: a send whose outcome is unknown may be repeated without a duplicate
    reaching people (true where the far end dedupes or the send is idempotent).
    ``threaded``: each post replies to the previous one of the incident on the channel.
    ``reads_back``: ``find_sent`` can settle a send whose outcome is unknown.
    ``follows_page``: a publish target; its rows are taken only once the local snapshot
    holds their update (every earlier page row is finished).
    ``batch_commit``: a batch's outcomes are written (one UPDATE, one commit) per this many
    rows; a worker killed before writing them leaves those rows to be sent again.
    """

    coalesce = False
    safe_to_resend = True
    threaded = False
    reads_back = False
    follows_page = False
    batch_commit = 50

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        raise NotImplementedError

    def send_batch(self, deliveries: Sequence[BatchRow], facts: MessageFacts) -> Iterator[Outcome]:
        """Send to many subscribers at once; yields each row's outcome as it is known.
        Raising DeliveryError means every row not yet yielded failed with it."""
        raise DeliveryError(f"{type(self).__name__} has no subscribers", permanent=True)

    def send_alert(
        self, delivery: Delivery, facts: MessageFacts | None, alert: OperatorAlert
    ) -> SendResult:
        """An operator alert; ``facts`` is None when it is about nothing public yet (a
        draft, a vendor's change): ``alert.link`` then says where to act."""
        raise DeliveryError(f"{type(self).__name__} cannot carry operator alerts", permanent=True)

    def send_reply(self, delivery: Delivery, reply: ReplyFacts) -> SendResult:
        """Answer a customer where they spoke: a reply to their post, or an email."""
        raise DeliveryError(f"{type(self).__name__} cannot carry replies", permanent=True)

    def find_sent(self, delivery: Delivery) -> SendResult | None:
        """Look for what an uncertain send made: its result if found, None if the far end
        shows it certainly is not there; DeliveryError when that cannot be told."""
        raise DeliveryError(f"{type(self).__name__} cannot look for a post", permanent=True)

    def send_confirmation(self, subscriber: Subscriber) -> None:
        """Deliver a subscriber's double opt-in link (email and webhook subscribers)."""
        raise DeliveryError(f"{type(self).__name__} has no subscribers", permanent=True)

    def test(self, channel: Channel, recipient: str) -> str:
        """Prove the channel works (a test message, or a credentials check where a public
        post would be noise); return what operators should read."""
        raise NotImplementedError


def load_channel(channel_id: int | None) -> Channel:
    """The configured channel a row goes through; gone or disabled means it cannot go."""
    from statuspage.extensions import db

    channel = db.session.get(Channel, channel_id) if channel_id is not None else None
    if channel is None:
        raise DeliveryError("the channel was removed", permanent=True)
    if not channel.enabled:
        raise DeliveryError("the channel is disabled", permanent=True)
    return channel


def thread_root(channel_id: int, incident_id: str) -> str | None:
    """The first post an incident made on a channel, read from the ledger: channels whose
    updates hang under the incident's first message (a Discord forum post, a Telegram
    reply, a Bluesky thread root) need it, not only the last post."""
    from statuspage.extensions import db

    return db.session.scalar(
        db.select(Delivery.external_id)
        .join(IncidentUpdate, IncidentUpdate.id == Delivery.update_id)
        .where(
            Delivery.channel_id == channel_id,
            Delivery.target_kind == TargetKind.CHANNEL,
            Delivery.state == DeliveryState.SENT,
            Delivery.external_id.is_not(None),
            IncidentUpdate.incident_id == incident_id,
        )
        .order_by(Delivery.sent_at, Delivery.id)
        .limit(1)
    )


def channel_secrets(channel: Channel) -> dict[str, Any]:
    try:
        return channel.secrets
    except SecretError as exc:
        raise DeliveryError(str(exc), permanent=True) from None


class SubscriptionGone(DeliveryError):
    """The far end says a subscriber's address will never take a post again (a revoked
    Slack webhook, a receiver's 410): the subscription is removed with the outcome."""


PARALLEL = 16  # concurrent posts within one subscriber batch


class HttpTransport(Transport):
    """Shared plumbing for channels that speak HTTP through ``statuspage.lib.http``."""

    def session(self, **kwargs: Any) -> http.Session:
        return http.session(**kwargs)

    def confirmed_subscribers(
        self, deliveries: Sequence[BatchRow]
    ) -> tuple[dict[int, Subscriber], list[tuple[BatchRow, Outcome]]]:
        """A batch's subscribers by id, and the outcome of each row whose subscriber left
        or never confirmed."""
        subscribers = {
            s.id: s
            for s in db.session.scalars(
                db.select(Subscriber).where(Subscriber.id.in_([d.target_id for d in deliveries]))
            )
            if s.is_confirmed
        }
        gone = DeliveryError("unsubscribed before delivery", permanent=True)
        return subscribers, [(d, gone) for d in deliveries if d.target_id not in subscribers]

    def post_each(
        self,
        jobs: Sequence[tuple[BatchRow, Callable[[http.Session], None]]],
        subscribers: dict[int, Subscriber],
    ) -> Iterator[Outcome]:
        """Runs each row's post, ``PARALLEL`` at a time on one pooled session, yielding
        outcomes as they come; an address gone for good removes its subscription, and the
        deletion commits with that outcome."""
        with self.session(pool_size=PARALLEL) as session, ThreadPoolExecutor(PARALLEL) as pool:
            futures = {pool.submit(post, session): delivery for delivery, post in jobs}
            for future in as_completed(futures):
                delivery, error = futures[future], future.exception()
                if isinstance(error, SubscriptionGone):
                    db.session.delete(subscribers[delivery.target_id])
                    error = DeliveryError(f"{error.message}; subscription removed", permanent=True)
                elif error is not None and not isinstance(error, DeliveryError):
                    error = DeliveryError(f"internal error: {type(error).__name__}")
                yield delivery, error if error is not None else SendResult()

    def post_to_webhook(self, channel: Channel, payload: dict[str, Any]) -> None:
        """POSTs ``payload`` to the channel's incoming-webhook URL, for far ends whose answer
        names nothing we keep (Slack, a Teams workflow)."""
        keys = channel_secrets(channel)
        url = keys.get("webhook_url")
        if not url:
            raise DeliveryError("no webhook URL is configured", permanent=True)
        with self.session() as session:
            try:
                http.post(session, url, json=payload, secrets=keys.values()).close()
            except http.HttpError as exc:
                raise DeliveryError.from_http(exc) from None
