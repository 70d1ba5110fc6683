"""An installation with something on every admin page: incidents with long names and
unbroken strings, a full delivery ledger, inbox items, drafts, a followed vendor page.

The layout test opens every admin page with it; ``scripts/screenshots.py`` photographs it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from statuspage import accounts
from statuspage.extensions import db
from statuspage.incidents import maintenance, service
from statuspage.incidents import templates as incident_templates
from statuspage.integrations import intake, payloads, registry
from statuspage.lib.clock import now
from statuspage.listening import inbox, replies
from statuspage.listening import templates as reply_templates
from statuspage.listening.inbox import Found
from statuspage.models import (
    Channel,
    ChannelKind,
    Component,
    Delivery,
    DeliveryState,
    IntegrationKind,
    SubscriberKind,
    User,
)
from statuspage.upstreams import follow
from tests.fakes import x as x_fake
from tests.fakes.fixtures import add_channel, add_subscriber, connect
from tests.integrations.helpers import fixture

UNBROKEN = "https://example.com/" + "a1b2c3d4e5" * 12
LONG_NAME = (
    "Card payments fail for customers in the European region because the upstream "
    "processor rejects tokenised requests"
)


def seed(
    users: dict[str, User], components: dict[str, str], fakes: dict[str, Any], vendor_url: str
) -> dict[str, Any]:
    """Fill every admin page; returns the ids an admin URL may take, by argument name."""
    responder, admin = users["responder"], users["admin"]
    channels = connect(fakes)
    listening = add_channel(
        ChannelKind.X,
        {"listen": "on", "search_query": "example"},
        dict(x_fake.KEYS),
        announce_updates=False,
    )
    listening.name = "Listening on X for mentions of " + UNBROKEN
    for i in range(3):
        add_subscriber(SubscriberKind.EMAIL, f"reader{i}@example.com")
    add_subscriber(SubscriberKind.WEBHOOK, UNBROKEN)
    long_component = Component(name="Payments " + UNBROKEN[:60], position=9)
    db.session.add(long_component)
    db.session.commit()

    opened = service.open_incident(
        actor=responder,
        name=LONG_NAME,
        impact="critical",
        body=f"We are investigating failed card payments. Trace: {UNBROKEN}",
        components={
            components["API"]: "major_outage",
            components["Website"]: "degraded_performance",
            long_component.id: "partial_outage",
        },
    )
    update = service.post_update(
        actor=responder,
        incident_id=opened.id,
        status="identified",
        body="A faulty deploy of the payment gateway.",
        components={components["API"]: "partial_outage"},
    )
    service.edit_update(actor=responder, update_id=update.id, body="A faulty deploy of the API.")
    dead = db.session.scalars(
        db.select(Delivery).where(Delivery.update_id == update.id).limit(1)
    ).one()
    dead.state, dead.attempts = DeliveryState.DEAD, 8
    dead.last_error = "HTTP 503 from the far end: " + UNBROKEN
    db.session.commit()

    closed = service.open_incident(
        actor=responder, name="Slow dashboard", impact="minor", body="Looking into it."
    )
    start = now() + timedelta(days=1)
    window = maintenance.schedule(
        actor=responder,
        name="Database upgrade of the primary cluster " + UNBROKEN[:40],
        body="Planned work.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        components=[components["API"]],
    )

    template = incident_templates.save(
        actor=admin,
        name="Payments down",
        title="Payments are failing",
        status="investigating",
        body="We are investigating failed payments. " + UNBROKEN,
    )
    reply_template = reply_templates.save(
        actor=admin,
        name="Thanks",
        body="Thanks {author}, we are on it: {incident_url} " + UNBROKEN,
    )

    inbox.store(
        listening,
        "search",
        [
            Found(
                external_id=str(1000 + i),
                text=f"Checkout broken again? {UNBROKEN} #{i}",
                posted_at=now() - timedelta(minutes=5 * i),
                author_id=str(i),
                author_handle=f"customer{i}_" + "x" * 30,
                author_name="A customer with a very long display name " * 2,
                url=f"https://x.com/customer{i}/status/{1000 + i}",
            )
            for i in range(4)
        ],
    )
    report = inbox.add_report(
        text="The payment page shows an error: " + UNBROKEN,
        component_id=components["API"],
        email="someone@example.com",
    )
    posts = [i.id for i in inbox.listing(inbox.Filters(), limit=50)[0] if i.id != report.id]
    inbox.link(actor=responder, item_ids=posts[:2], incident_id=opened.id)
    inbox.link(actor=responder, item_ids=[report.id], incident_id=closed.id)
    replies.answer(actor=responder, item_id=report.id, body="We are on it, thank you.")
    service.resolve(actor=responder, incident_id=closed.id, body="Fixed.")
    service.publish_postmortem(
        actor=responder, incident_id=closed.id, body="## What happened\n\nA cache expired."
    )

    integration, _ = registry.create(actor=admin, kind="alertmanager", name="Prometheus")
    registry.save_rule(
        actor=admin,
        integration_id=integration.id,
        fields={
            "name": "API errors",
            "matchers": 'service="api"',
            "mode": "draft",
            "component_status": "partial_outage",
            "impact": "major",
            "component_ids": [components["API"]],
        },
    )
    alerts = payloads.parse(IntegrationKind.ALERTMANAGER, fixture("alertmanager_firing.json"))
    (draft_id,) = intake.receive(integration.id, alerts).drafts
    rule_id = registry.get(integration.id).rules[0].id

    upstream = follow.add(actor=admin, url=vendor_url)
    accounts.create_token(admin, "deploy bot " + UNBROKEN[:30])
    db.session.commit()
    return {
        "incident_id": opened.id,
        "update_id": update.id,
        "item_id": report.id,
        "component_id": long_component.id,
        "channel_id": channels["slack"].id,
        "kind": [str(k) for k in ChannelKind],
        "integration_id": integration.id,
        "rule_id": rule_id,
        "draft_id": draft_id,
        "upstream_id": upstream.id,
        "template_id": template.id,
        ("admin.reply_templates_page", "template_id"): reply_template.id,
        ("admin.follow_up", "incident_id"): closed.id,
        "maintenance_id": window.id,
        "channels": [c.id for c in db.session.scalars(db.select(Channel))],
    }
