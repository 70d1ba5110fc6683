"""One update, the same facts everywhere: the page, the feeds, X, Mastodon, Slack, the
webhook and the email all carry its status, components, next update time and link."""

from __future__ import annotations

import html
import re
from pathlib import Path

from statuspage.lib.timefmt import human
from statuspage.models import ComponentStatus, DeliveryState, SubscriberKind
from statuspage.publishing.snapshot import current_dir
from tests.channels.helpers import deliver, open_incident, rows
from tests.fakes.fixtures import RECEIVER_PATH, add_subscriber, connect


def test_one_update_carries_the_same_facts_on_every_channel(app, components, wired):
    connect(wired)
    add_subscriber(SubscriberKind.EMAIL, "reader@example.net")
    incident = open_incident(
        {components["API"]: "major_outage", components["Website"]: "degraded_performance"},
        body="Logins fail for **some** customers.",
    )
    update = incident.updates[0]
    for row in rows():
        deliver(row)
    assert {r.state for r in rows()} == {DeliveryState.SENT}

    link = f"http://status.test/incidents/{incident.id}#update-{update.id}"
    next_update = human(update.next_update_due)
    changes = [
        (a.component.display_name, ComponentStatus(a.new_status).label.lower())
        for a in update.affected
    ]
    assert next_update and len(changes) == 2

    root = current_dir(Path(app.config["PUBLISH_DIR"]))
    page = html.unescape((root / f"incidents/{incident.id}.html").read_text())
    assert f'id="update-{update.id}"' in page  # the link's target on the page
    mail = wired["smtp"].to("reader@example.net")[0]
    (section,) = [b for b in wired["slack"].messages()[0]["blocks"] if b["type"] == "section"]
    (webhook,) = wired["receiver"].events(RECEIVER_PATH)
    texts = {
        "page": page,
        "x": wired["x"].tweets[0]["text"],
        "mastodon": wired["mastodon"].statuses[0]["content"],
        "slack": section["text"]["text"],
        "webhook": webhook["update"]["text"],
        "email (text)": mail.part("plain"),
        "email (html)": html.unescape(mail.part("html")),
    }
    texts["feed"] = html.unescape((root / "history.rss").read_text())
    for channel, marked_up in texts.items():
        text = re.sub(r"<[^>]+>|\*", "", marked_up)  # what readers see, unformatted
        lowered = text.lower()
        assert "investigating" in lowered, channel
        assert f"next update by {next_update}".lower() in lowered, channel
        for name, status in changes:
            assert name in text and status in lowered, (channel, name)
        if channel != "page":
            assert link in marked_up, channel

    doc_changes = [(c["name"], c["new_status"]) for c in webhook["component_changes"]]
    assert doc_changes == [(n, s.replace(" ", "_")) for n, s in changes]
    assert webhook["update"]["url"] == link and webhook["update"]["status"] == "investigating"
    assert webhook["update"]["next_update_due"].startswith(
        update.next_update_due.isoformat(timespec="seconds")[:19]
    )
