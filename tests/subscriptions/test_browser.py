"""A reader subscribes, confirms, changes components and unsubscribes in real Chromium,
with a real worker mailing the confirmation to the SMTP server."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from statuspage.extensions import db
from statuspage.models import Subscriber
from tests.browser import artifact, chromium
from tests.channels.helpers import serve_at
from tests.conftest import wait_for
from tests.fakes.fixtures import connect
from tests.live import live_server

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_reader_subscribes_confirms_and_unsubscribes(app, components, wired, start_worker):
    smtp = wired["smtp"]
    connect(wired, "smtp")
    with live_server(app) as base, chromium() as browser:
        serve_at(app, base)
        start_worker()
        page = browser.new_page()
        page.goto(f"{base}/subscribe")
        page.fill("input[name=email]", "reader@example.net")
        page.check(f"input[value='{components['API']}']")
        page.click("button[type=submit]")
        page.wait_for_selector("text=Check your inbox")

        mail = wait_for(lambda: smtp.to("reader@example.net"), timeout=30)[0]
        confirm = re.search(r"(http://\S+/subscribe/confirm/\S+)", mail.part("plain")).group(1)
        page.goto(confirm)
        page.click("text=Confirm subscription")
        page.wait_for_selector("text=Subscription confirmed")
        db.session.expire_all()
        subscriber = db.session.scalars(select(Subscriber)).one()
        assert subscriber.confirmed_at is not None
        assert [c.id for c in subscriber.components] == [components["API"]]
        db.session.commit()

        page.click("text=Choose components or unsubscribe")
        page.check(f"input[value='{components['Website']}']")
        page.click("text=Save")
        page.wait_for_selector("text=Saved.")
        page.screenshot(path=artifact("subscription-manage.png"), full_page=True)
        db.session.expire_all()
        chosen = {c.id for c in db.session.scalars(select(Subscriber)).one().components}
        assert chosen == {components["API"], components["Website"]}
        db.session.commit()

        page.click("text=Unsubscribe")
        page.wait_for_selector("text=Nothing about you is kept")
        db.session.expire_all()
        assert db.session.scalars(select(Subscriber)).all() == []
