"""The one interface every delivery channel implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from statuspage.messages import MessageFacts
from statuspage.models import Delivery


class DeliveryError(Exception):
    """A send failed. ``permanent`` means retrying cannot help (bad credentials, 4xx);
    ``retry_at`` is when the far end said to come back (429 reset, Retry-After)."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_at: datetime | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_at = retry_at


@dataclass(frozen=True)
class SendResult:
    external_id: str | None = None
    external_url: str | None = None


class Transport:
    """Carries one delivery to one target.

    ``coalesce``: one send covers every due row of the mailbox (the page re-renders all).
    ``safe_to_resend``: a send whose outcome is unknown may be repeated without a duplicate
    reaching people (true where the far end dedupes or the send is idempotent).
    """

    coalesce = False
    safe_to_resend = True

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        raise NotImplementedError
