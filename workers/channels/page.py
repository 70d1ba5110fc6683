"""The public page as a delivery channel: publishing renders a fresh snapshot."""

from __future__ import annotations

from statuspage.messages import MessageFacts
from statuspage.models import Delivery
from statuspage.publishing.snapshot import publish
from workers.channels.base import SendResult, Transport


class Page(Transport):
    """Re-rendering is idempotent and always shows the latest state, so a burst of updates
    coalesces into one render and a lost outcome is simply rendered again."""

    coalesce = True
    safe_to_resend = True

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        snapshot = publish()
        return SendResult(external_id=snapshot.name)
