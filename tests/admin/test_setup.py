"""The dashboard's setup checklist: shown until components, an SMTP server and an
announcing channel exist, each step linking to where it is done."""

from __future__ import annotations

import re

from statuspage.demo import seed_demo_components
from tests.fakes.fixtures import connect
from tests.signin import sign_in


def steps(client) -> dict[str, str]:
    page = client.get("/admin/").get_data(as_text=True)
    found = re.findall(r'<li class="is-(done|todo)" id="setup-(\w+)"', page)
    return {key: state for state, key in found}


def test_a_new_installation_is_told_what_is_missing_until_nothing_is(app, client, cast, wired):
    sign_in(client, "alice@example.com")
    assert steps(client) == {"components": "todo", "smtp": "todo", "channel": "todo"}
    assert 'href="/admin/components">Add the components' in client.get("/admin/").get_data(
        as_text=True
    )
    seed_demo_components()
    connect(wired, "smtp")
    assert steps(client) == {"components": "done", "smtp": "done", "channel": "todo"}
    connect(wired, "slack")
    assert steps(client) == {}
    assert 'id="setup"' not in client.get("/admin/").get_data(as_text=True)


def test_people_who_cannot_set_up_are_told_who_can(app, client, cast):
    sign_in(client, "vera@example.com")
    page = client.get("/admin/").get_data(as_text=True)
    assert "An admin can do this." in page and 'href="/admin/channels"' not in page
