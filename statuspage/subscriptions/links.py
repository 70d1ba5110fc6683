"""Signed links mailed to subscribers. Each carries the subscriber id and its nonce, so
rotating the nonce (on unsubscribe or resubscribe) revokes every link sent before."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import current_app

from statuspage.extensions import db
from statuspage.lib.crypto import LinkError, read_link, sign_link, sign_links
from statuspage.models import Subscriber

CONFIRM = "confirm"
MANAGE = "manage"
CONFIRM_MAX_AGE = 7 * 24 * 3600


def token(subscriber: Subscriber, purpose: str) -> str:
    return sign_link(purpose, [subscriber.id, subscriber.link_nonce])


def _url(path: str) -> str:
    return f"{current_app.config['BASE_URL']}{path}"


def confirm_url(subscriber: Subscriber) -> str:
    return _url(f"/subscribe/confirm/{token(subscriber, CONFIRM)}")


def manage_url(subscriber: Subscriber) -> str:
    return _url(f"/subscribe/manage/{token(subscriber, MANAGE)}")


def unsubscribe_url(subscriber: Subscriber) -> str:
    """One-click (RFC 8058): a POST here unsubscribes with no login and no form token."""
    return _url(f"/unsubscribe/{token(subscriber, MANAGE)}")


def mailing_links(recipients: Iterable[tuple[int, str]]) -> Iterator[tuple[str, str]]:
    """The manage and unsubscribe links of each ``(subscriber id, link nonce)`` of a
    mailing, in order. Both links of a recipient carry the same token, so a mailing of
    many thousands signs once per recipient and reads the settings once."""
    base = current_app.config["BASE_URL"]
    manage, unsubscribe = f"{base}/subscribe/manage/", f"{base}/unsubscribe/"
    payloads = ([subscriber_id, nonce] for subscriber_id, nonce in recipients)
    for signed in sign_links(MANAGE, payloads):
        yield manage + signed, unsubscribe + signed


def subscriber_for(link: str, purpose: str) -> Subscriber:
    """The subscriber a link names, or LinkError when it is forged, stale or expired."""
    max_age = CONFIRM_MAX_AGE if purpose == CONFIRM else None
    value = read_link(purpose, link, max_age=max_age)
    if len(value) != 2:
        raise LinkError("this link is not valid")
    subscriber = db.session.get(Subscriber, value[0])
    if subscriber is None or subscriber.link_nonce != value[1]:
        raise LinkError("this link is no longer valid")
    return subscriber
