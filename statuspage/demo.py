"""Demo components for a first run, so a new installation shows a real-looking page."""

from __future__ import annotations

from statuspage.extensions import db
from statuspage.models import Component, ComponentGroup, Page

DEMO = {
    "Platform": ["Website", "API", "Dashboard"],
    "Notifications": ["Email delivery", "Webhooks"],
}


def seed_demo_components() -> bool:
    """Create demo components unless any exist; returns whether it created them."""
    if db.session.scalars(db.select(Component).limit(1)).first() is not None:
        return False
    Page.get()
    for group_position, (group_name, names) in enumerate(DEMO.items()):
        group = ComponentGroup(name=group_name, position=group_position)
        db.session.add(group)
        for position, name in enumerate(names):
            db.session.add(Component(name=name, group=group, position=position))
    db.session.commit()
    return True
