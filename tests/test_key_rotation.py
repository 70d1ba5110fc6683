"""Changing the secret key: the retired key stays accepted as a fallback, and
``statuspage rotate-secrets`` re-seals stored secrets so the fallback can go."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from statuspage.cli import main
from statuspage.extensions import db
from statuspage.lib.crypto import LinkError, SecretError
from statuspage.models import Channel, Subscriber, SubscriberKind
from statuspage.subscriptions import links
from tests.fakes.fixtures import add_subscriber
from tests.signin import sign_in

OLD, NEW = "test-secret-key", "the new secret key"


@pytest.fixture
def stored(app):
    """A channel and a webhook subscriber whose secrets are sealed under the old key."""
    channel = Channel(kind="webhook", name="Ops hook", config={"url": "https://example.com/h"})
    channel.secrets = {"signing_secret": "whsec_channel"}
    db.session.add(channel)
    db.session.commit()
    subscriber = add_subscriber(
        SubscriberKind.WEBHOOK, "https://example.com/sub", secret="whsec_subscriber"
    )
    sealed = (channel.secrets_encrypted, subscriber.secret_encrypted)
    return channel.id, subscriber.id, sealed


def switch_key(app, monkeypatch, fallbacks: list[str]) -> None:
    """What an operator does: a new STATUSPAGE_SECRET_KEY, the old one as a fallback."""
    monkeypatch.setenv("STATUSPAGE_SECRET_KEY", NEW)
    monkeypatch.setenv("STATUSPAGE_SECRET_KEY_FALLBACKS", ", ".join(fallbacks))
    app.config.update(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=fallbacks)
    db.session.expire_all()


def rows(stored) -> tuple[Channel, Subscriber]:
    db.session.expire_all()
    return db.session.get(Channel, stored[0]), db.session.get(Subscriber, stored[1])


def test_a_retired_key_keeps_everything_working_until_the_secrets_are_rotated(
    app, client, cast, stored, monkeypatch
):
    sign_in(client, "alice@example.com")
    channel, subscriber = rows(stored)
    old_link = links.token(subscriber, links.MANAGE)

    switch_key(app, monkeypatch, [OLD])
    channel, subscriber = rows(stored)
    assert channel.secrets == {"signing_secret": "whsec_channel"}
    assert subscriber.secret == "whsec_subscriber"
    assert links.subscriber_for(old_link, links.MANAGE).id == subscriber.id
    new_link = links.token(subscriber, links.MANAGE)
    assert new_link != old_link
    assert client.get("/admin/").status_code == 200  # the session signed under OLD

    result = CliRunner().invoke(main, ["rotate-secrets"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 2 stored secrets" in result.output
    channel, subscriber = rows(stored)
    assert (channel.secrets_encrypted, subscriber.secret_encrypted) != stored[2]

    switch_key(app, monkeypatch, [])
    channel, subscriber = rows(stored)
    assert channel.secrets == {"signing_secret": "whsec_channel"}
    assert subscriber.secret == "whsec_subscriber"
    assert links.subscriber_for(new_link, links.MANAGE).id == subscriber.id
    with pytest.raises(LinkError):
        links.subscriber_for(old_link, links.MANAGE)
    # The session was re-signed under NEW by the requests made while OLD was a fallback.
    assert client.get("/admin/").status_code == 200


def test_without_the_old_key_nothing_is_lost_and_the_rows_are_named(app, stored, monkeypatch):
    switch_key(app, monkeypatch, [])
    channel, subscriber = rows(stored)
    with pytest.raises(SecretError):
        channel.secrets  # noqa: B018
    result = CliRunner().invoke(main, ["rotate-secrets"])
    assert result.exit_code == 1
    assert f"channel {stored[0]}, subscriber {stored[1]}" in result.output
    channel, subscriber = rows(stored)
    assert (channel.secrets_encrypted, subscriber.secret_encrypted) == stored[2]
    # Given the old key again, the untouched values open.
    switch_key(app, monkeypatch, ["unrelated key", OLD])
    assert rows(stored)[0].secrets == {"signing_secret": "whsec_channel"}
