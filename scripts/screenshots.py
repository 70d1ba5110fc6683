"""Photograph the incident console for the README: demo data in a throwaway installation,
served on 127.0.0.1 and opened in headless Chromium at a laptop's and a phone's width.

    python scripts/screenshots.py [--out docs] [--chromium /usr/bin/chromium]

Writes ``console-1280.png`` and ``console-390.png``. Nothing is sent anywhere: the
channels it adds point at reserved example addresses and no worker runs, so their rows
stay in the ledger as the demo shows them.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

WIDTHS = {1280: 900, 390: 844}  # viewport width: height
PASSWORD = "screenshots only, never kept"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def seed() -> str:
    """An admin, the demo components, two channels and an incident three updates long;
    returns the incident's id."""
    from statuspage.demo import seed_demo_components
    from statuspage.extensions import db
    from statuspage.incidents import service
    from statuspage.lib.clock import now
    from statuspage.models import (
        Channel,
        ChannelKind,
        Component,
        Delivery,
        DeliveryState,
        Page,
        Role,
        User,
    )

    seed_demo_components()
    Page.get().time_zone = "Europe/Berlin"  # times shown in it, with UTC beside
    admin = User(email="oncall@example.com", role=Role.ADMIN)
    admin.set_password(PASSWORD)
    db.session.add(admin)
    for kind, name in ((ChannelKind.SLACK, "#status"), (ChannelKind.MASTODON, "@status")):
        channel = Channel(kind=kind, name=name, config={"base_url": "https://example.social"})
        channel.secrets = {"webhook_url": "https://hooks.example.com/x", "access_token": "x"}
        db.session.add(channel)
    db.session.commit()
    ids = {c.name: c.id for c in db.session.scalars(db.select(Component))}
    incident = service.open_incident(
        actor=admin,
        name="Card payments fail in the EU region",
        impact="major",
        body="Card payments in the EU region fail for some customers. We are investigating.",
        components={ids["API"]: "partial_outage", ids["Dashboard"]: "degraded_performance"},
        problem_started_at=now() - timedelta(minutes=26),
    )
    service.post_update(
        actor=admin,
        incident_id=incident.id,
        status="identified",
        body="A certificate on the payment gateway expired at 14:02 UTC. A new one is rolling out.",
        components={ids["API"]: "major_outage"},
    )
    service.post_update(
        actor=admin,
        incident_id=incident.id,
        status="monitoring",
        body="The new certificate is live; payments succeed again. We are watching error rates.",
        components={ids["API"]: "operational", ids["Dashboard"]: "operational"},
    )
    for row in db.session.scalars(db.select(Delivery)):
        row.state, row.attempts = DeliveryState.SENT, 1
        row.sent_at = row.created_at + timedelta(milliseconds=140)
    db.session.commit()
    return incident.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs"))
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as data_dir:
        os.environ.update(
            STATUSPAGE_DATA_DIR=data_dir,
            STATUSPAGE_BASE_URL="https://status.example.com",
            STATUSPAGE_PUBLISH_DIR=str(Path(data_dir) / "public"),
        )
        from flask_migrate import upgrade
        from playwright.sync_api import sync_playwright
        from werkzeug.serving import make_server

        from statuspage import create_app

        app = create_app()
        with app.app_context():
            upgrade()
            incident_id = seed()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium, args=FLAGS)
                for width, height in WIDTHS.items():
                    context = browser.new_context(
                        viewport={"width": width, "height": height}, color_scheme="light"
                    )
                    page = context.new_page()
                    page.goto(base + "/admin/login")
                    page.get_by_label("Email").fill("oncall@example.com")
                    page.get_by_label("Password").fill(PASSWORD)
                    page.get_by_role("button", name="Log in").click()
                    page.wait_for_url(base + "/admin/")
                    page.goto(f"{base}/admin/incidents/{incident_id}")
                    target = out / f"console-{width}.png"
                    page.screenshot(path=str(target))
                    print(f"wrote {target}")
                    context.close()
                browser.close()
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
