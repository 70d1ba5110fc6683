"""Discord webhooks: embeds kept by id (``wait=true``), a post per incident in forum
channels, limits, rate limits and unknown outcomes."""

from __future__ import annotations

import time

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import DeliveryState, Page
from tests.channels.helpers import deliver, open_incident, rows
from tests.fakes.discord import HOOK_PATH
from tests.fakes.fixtures import connect
from tests.fakes.server import Reply

LONG = "Logins fail for some customers while we roll back a change. " * 100


def test_it_posts_an_embed_and_keeps_the_message_id(app, components, wired):
    discord = wired["discord"]
    connect(wired, "discord")
    incident = open_incident({components["API"]: "major_outage"}, body=LONG)
    deliver(rows("discord")[0])

    (message,) = discord.messages
    (request,) = discord.received("POST", HOOK_PATH)
    assert request.query["wait"] == ["true"]
    (embed,) = message["embeds"]
    assert embed["title"] == "Investigating: Login failures"
    assert embed["url"].endswith(f"/incidents/{incident.id}#update-{rows('discord')[0].update_id}")
    description = embed["description"]
    assert len(description) <= 4096 and "…" in description
    assert "**Affected:** Platform - API (major outage)" in description
    assert "**Next update by**" in description and embed["url"] in description
    assert message["allowed_mentions"] == {"parse": []}  # no @everyone from any text
    (row,) = rows("discord")
    assert row.state == DeliveryState.SENT and row.external_id == message["id"]


def test_in_a_forum_each_incident_is_one_post_with_its_updates_inside(app, components, wired):
    discord = wired["discord"]
    discord.forum = True
    connect(wired, "discord")
    first = open_incident(name="Login failures")
    second = open_incident(name="Slow search " * 20)
    service.post_update(actor=None, incident_id=first.id, status="identified", body="Found it")
    service.post_update(actor=None, incident_id=first.id, status="resolved", body="Fixed")
    for row in rows("discord"):
        deliver(row)

    threads = discord.threads()
    assert len(threads) == 2
    by_name = {messages[0]["thread_name"]: messages for messages in threads.values()}
    login = by_name["Login failures"]
    assert [m["embeds"][0]["title"] for m in login] == [
        "Investigating: Login failures",
        "Identified: Login failures",
        "Resolved: Login failures",
    ]
    assert login[0]["id"] == login[0]["channel_id"]  # the post is named by its first message
    assert [m["thread_name"] for m in login[1:]] == [None, None]
    (search,) = [m for name, m in by_name.items() if name.startswith("Slow search")]
    assert len(search[0]["thread_name"]) <= 100
    assert {r.state for r in rows("discord")} == {DeliveryState.SENT}
    assert second.id != first.id


def test_a_429_waits_for_every_reset_header_discord_sends(app, components, wired):
    discord = wired["discord"]
    connect(wired, "discord")
    reset = time.time() + 50
    discord.script(
        "POST",
        HOOK_PATH,
        Reply(
            429,
            json={"message": "You are being rate limited.", "retry_after": 3, "global": False},
            headers={
                "Retry-After": "3",
                "X-RateLimit-Reset": f"{reset:.3f}",
                "X-RateLimit-Reset-After": "60.5",
            },
        ),
    )
    open_incident()
    deliver(rows("discord")[0])
    row = rows("discord")[0]
    waited = (row.next_attempt_at - row.created_at).total_seconds()
    assert row.state == DeliveryState.FAILED and 60 <= waited <= 70  # the latest one named
    assert "WEBHOOKTOKENSECRET" not in row.last_error and discord.messages == []


def test_an_unknown_outcome_is_not_sent_again_blindly(app, components, wired):
    discord = wired["discord"]
    connect(wired, "discord")
    discord.script("POST", HOOK_PATH, Reply(process=True, cut="connection"))
    incident = open_incident()
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    first, later = rows("discord")
    deliver(first)
    deliver(later)
    first, later = rows("discord")
    assert first.state == DeliveryState.UNCERTAIN and "no answer" in first.last_error
    assert later.state == DeliveryState.PENDING  # the thread waits for it to be settled
    assert len(discord.messages) == 1


def test_the_embed_speaks_the_page_language(app, components, wired):
    discord = wired["discord"]
    connect(wired, "discord")
    page = Page.get()
    page.default_language = "de"
    db.session.commit()
    open_incident({components["API"]: "major_outage"}, body="Anmeldungen schlagen fehl.")
    deliver(rows("discord")[0])

    (embed,) = discord.messages[0]["embeds"]
    assert embed["title"] == "Wird untersucht: Login failures"
    assert embed["footer"]["text"] == f"Statusmeldungen von {page.name}"
