"""Delivery channels by kind, imported lazily by dotted path (no import-time registry)."""

from __future__ import annotations

from importlib import import_module

from statuspage.models import Delivery
from workers.channels.base import Transport

TRANSPORTS: dict[str, str] = {
    "page": "workers.channels.page.Page",
    "x": "workers.channels.x.X",
    "mastodon": "workers.channels.mastodon.Mastodon",
    "slack": "workers.channels.slack.Slack",
    "webhook": "workers.channels.webhook.Webhook",
    "email": "workers.channels.email.Email",
    "email-smtp": "workers.channels.email.Email",
    "teams": "workers.channels.teams.Teams",
    "discord": "workers.channels.discord.Discord",
    "s3": "workers.channels.bucket.Bucket",
    "telegram": "workers.channels.telegram.Telegram",
    "bluesky": "workers.channels.bluesky.Bluesky",
    "sms": "workers.channels.sms.Sms",
    "twilio": "workers.channels.sms.Sms",
}


def transport_for(kind: str) -> Transport:
    module_name, class_name = TRANSPORTS[kind].rsplit(".", 1)
    return getattr(import_module(module_name), class_name)()


def get_transport(delivery: Delivery) -> Transport:
    """Rows written before the ``transport`` column existed are page rows."""
    return transport_for(delivery.transport or delivery.target_kind)


def reading_back() -> list[str]:
    """The transports whose uncertain rows are settled by reading the account back."""
    return [kind for kind in TRANSPORTS if transport_for(kind).reads_back]
