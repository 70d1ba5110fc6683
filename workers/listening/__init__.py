"""Listening pollers by channel kind, imported lazily by dotted path (as the transports)."""

from __future__ import annotations

from importlib import import_module

from workers.listening.base import Poller

POLLERS: dict[str, str] = {
    "x": "workers.listening.x.XPoller",
    "mastodon": "workers.listening.mastodon.MastodonPoller",
    "bluesky": "workers.listening.bluesky.BlueskyPoller",
}


def poller_for(kind: str) -> Poller:
    module_name, class_name = POLLERS[kind].rsplit(".", 1)
    return getattr(import_module(module_name), class_name)()
