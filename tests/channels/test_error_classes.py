"""How each channel classes a failure: a connection never made is retried; a request sent
without a whole answer is an unknown outcome (retried where the far end dedupes or a
repeat is harmless, uncertain on X, Discord and Telegram); a refusal (4xx but 408, 409, 425, 429)
is permanent; anything else is retried."""

from __future__ import annotations

import pytest

from statuspage.extensions import db
from statuspage.models import Channel, DeliveryState
from tests.channels.helpers import deliver, open_incident, rows
from tests.fakes.bluesky import CREATE as BLUESKY_CREATE
from tests.fakes.discord import HOOK_PATH as DISCORD_PATH
from tests.fakes.fixtures import RECEIVER_PATH, connect
from tests.fakes.server import Reply
from tests.fakes.slack import HOOK_PATH
from tests.fakes.teams import FLOW_PATH as TEAMS_PATH
from tests.fakes.telegram import TOKEN as TELEGRAM_TOKEN
from workers.channels import transport_for

NOWHERE = "http://127.0.0.1:9"  # nothing listens there
FAILED, DEAD, UNCERTAIN = DeliveryState.FAILED, DeliveryState.DEAD, DeliveryState.UNCERTAIN


def _endpoint(wired, kind: str):
    return {
        "x": (wired["x"], "/2/tweets"),
        "mastodon": (wired["mastodon"], "/api/v1/statuses"),
        "slack": (wired["slack"], HOOK_PATH),
        "webhook": (wired["receiver"], RECEIVER_PATH),
        "teams": (wired["teams"], TEAMS_PATH),
        "discord": (wired["discord"], DISCORD_PATH),
        "telegram": (wired["telegram"], f"/bot{TELEGRAM_TOKEN}/sendMessage"),
        "bluesky": (wired["bluesky"], BLUESKY_CREATE),
    }[kind]


def _point_nowhere(app, channel: Channel) -> None:
    if channel.kind == "x":
        app.config["X_API_URL"] = NOWHERE
    elif channel.kind == "telegram":
        app.config["TELEGRAM_API_URL"] = NOWHERE
    elif channel.kind == "mastodon":
        channel.config = {**channel.config, "base_url": NOWHERE}
    elif channel.kind == "bluesky":
        channel.config = {**channel.config, "service": NOWHERE}
    elif channel.kind in ("slack", "teams", "discord"):
        channel.secrets = {"webhook_url": NOWHERE + HOOK_PATH}
    else:
        channel.config = {**channel.config, "url": NOWHERE + RECEIVER_PATH}
    db.session.commit()


CASES = {
    # case: (scripted answer, or None for no server at all; the state on channels that
    # cannot repeat a send (X, Discord, Telegram), the state on the others)
    "never connected": (None, FAILED, FAILED),
    "cut after sending": (Reply(process=True, cut="connection"), UNCERTAIN, FAILED),
    "timed out after sending": (Reply(process=True, delay=3), UNCERTAIN, FAILED),
    "refused (403)": (Reply(403, json={"error": "forbidden"}), DEAD, DEAD),
    "invalid (422)": (Reply(422, json={"error": "invalid"}), DEAD, DEAD),
    "conflict (409)": (Reply(409, json={"error": "conflict"}), FAILED, FAILED),
    "server error (502)": (Reply(502, json={"error": "bad gateway"}), FAILED, FAILED),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(
    "kind", ["x", "mastodon", "slack", "webhook", "teams", "discord", "telegram", "bluesky"]
)
def test_each_failure_has_its_class(app, components, wired, kind, case):
    answer, no_repeat, elsewhere = CASES[case]
    channel = connect(wired, kind)[kind]
    fake, path = _endpoint(wired, kind)
    if answer is None:
        _point_nowhere(app, channel)
    elif answer.cut and kind in ("webhook", "teams"):  # their answers have no body to cut
        fake.script("POST", path, Reply(200, json={"received": True}, cut=answer.cut))
    else:
        fake.script("POST", path, answer)
    open_incident()
    deliver(rows(kind)[0])
    row = rows(kind)[0]
    expected = elsewhere if transport_for(kind).safe_to_resend else no_repeat
    assert row.state == expected, row.last_error
    if row.state == FAILED:
        assert row.next_attempt_at > row.created_at
    if "after sending" in case:
        assert "no answer" in row.last_error
