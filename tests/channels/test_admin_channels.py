"""Channel settings in the admin: admins only, secrets write-only, test sends."""

from __future__ import annotations

from sqlalchemy import select

from statuspage.extensions import db
from statuspage.models import AuditEvent, Channel
from tests.conftest import REDIS_URL
from tests.fakes.mastodon import TOKEN
from tests.fakes.x import KEYS
from tests.signin import csrf_token, sign_in
from workers import tasks


def channels() -> list[Channel]:
    db.session.expire_all()
    found = list(db.session.scalars(select(Channel).order_by(Channel.id)))
    db.session.commit()
    return found


def test_only_admins_manage_channels(client, cast):
    sign_in(client, "rob@example.com")
    assert client.get("/admin/channels").status_code == 403
    assert client.get("/admin/channels/new/x").status_code == 403


def test_secrets_are_stored_encrypted_and_never_shown_back(app, client, cast, wired):
    sign_in(client, "alice@example.com")
    path = "/admin/channels/new/x"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "name": "X", **KEYS})
    assert response.status_code == 302
    (channel,) = channels()
    assert channel.secrets == KEYS
    for secret in KEYS.values():
        assert secret not in (channel.secrets_encrypted or "")
    page = client.get(f"/admin/channels/{channel.id}").get_data(as_text=True)
    assert all(secret not in page for secret in KEYS.values())
    assert "Stored; leave empty to keep it." in page
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "channel.create")
    ).one()
    assert all(secret not in str(audit.after) for secret in KEYS.values())
    assert sorted(audit.after["secrets_changed"]) == sorted(KEYS)

    # Saving again with the secret fields empty keeps them.
    edit = f"/admin/channels/{channel.id}"
    data = {"csrf_token": csrf_token(client, edit), "name": "X (renamed)", "enabled": "y"}
    assert client.post(edit, data=data).status_code == 302
    (channel,) = channels()
    assert channel.name == "X (renamed)" and channel.secrets == KEYS


def test_send_test_queues_a_check_whose_result_is_shown(app, client, cast, wired):
    import redis

    sign_in(client, "alice@example.com")
    path = "/admin/channels/new/mastodon"
    data = {
        "csrf_token": csrf_token(client, path),
        "name": "Fediverse",
        "base_url": wired["mastodon"].url,
        "access_token": TOKEN,
        "visibility": "public",
        "announce_updates": "y",
        "enabled": "y",
    }
    assert client.post(path, data=data).status_code == 302
    (channel,) = channels()
    page = f"/admin/channels/{channel.id}"
    queued = client.post(f"{page}/test", data={"csrf_token": csrf_token(client, page)})
    assert queued.status_code == 302
    assert redis.Redis.from_url(REDIS_URL).llen(app.config["CELERY_QUEUE"]) == 1
    tasks.test_channel(channel.id, "alice@example.com")  # what the worker runs
    assert channels()[0].last_test_ok  # (also ends this test's read transaction)
    shown = client.get(page).get_data(as_text=True)
    result = shown[shown.index('id="test-result"') :][:300]
    assert "Test succeeded" in result and "Connected as @status" in result, result


def test_a_generated_webhook_secret_is_shown_once(client, cast, wired):
    sign_in(client, "alice@example.com")
    path = "/admin/channels/new/webhook"
    url = wired["receiver"].url + "/ops"
    response = client.post(
        path, data={"csrf_token": csrf_token(client, path), "name": "Ops hook", "url": url}
    )
    assert response.status_code == 200
    (channel,) = channels()
    secret = channel.secrets["signing_secret"]
    assert secret.startswith("whsec_") and secret in response.get_data(as_text=True)
    assert secret not in client.get(f"/admin/channels/{channel.id}").get_data(as_text=True)


def test_bad_settings_are_refused_with_field_errors(app, client, cast, wired):
    sign_in(client, "alice@example.com")
    path = "/admin/channels/new/webhook"
    bad = client.post(
        path, data={"csrf_token": csrf_token(client, path), "name": "Hook", "url": "ftp://x"}
    )
    assert bad.status_code == 422 and b"must be an http(s) URL" in bad.data
    app.config["ALLOW_PRIVATE_WEBHOOKS"] = False
    private = client.post(
        path,
        data={"csrf_token": csrf_token(client, path), "name": "Hook", "url": "https://127.0.0.1/h"},
    )
    assert private.status_code == 422 and b"non-public address" in private.data
    smtp = "/admin/channels/new/email-smtp"
    missing = client.post(smtp, data={"csrf_token": csrf_token(client, smtp), "name": "Mail"})
    assert missing.status_code == 422 and b"is required" in missing.data
    assert channels() == []
