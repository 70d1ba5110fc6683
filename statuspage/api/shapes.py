"""Statuspage v1 management API documents (the v2 public shapes plus v1's extra fields)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from statuspage.incidents import cadence
from statuspage.lib.clock import iso, now
from statuspage.models import (
    Component,
    Delivery,
    Incident,
    IncidentUpdate,
    IncidentUpdateRevision,
    Page,
)
from statuspage.subscriptions.service import email_available

Doc = dict[str, Any]


def page_doc(page: Page) -> Doc:
    """Statuspage's page profile, with the fields this installation can answer truthfully."""
    base = current_app.config["BASE_URL"]
    return {
        "id": page.id,
        "created_at": iso(page.created_at),
        "updated_at": iso(page.updated_at),
        "name": page.name,
        "url": base,
        "domain": urlsplit(base).hostname,
        "time_zone": page.time_zone,
        "hidden_from_search": False,
        "allow_page_subscribers": email_available(),
        "allow_incident_subscribers": False,
        "allow_email_subscribers": email_available(),
        "allow_sms_subscribers": False,
        "allow_rss_atom_feeds": True,
        "allow_webhook_subscribers": True,
    }


def component_doc(component: Component, page_id: str) -> Doc:
    return {
        "id": component.id,
        "page_id": page_id,
        "group_id": component.group_id,
        "created_at": iso(component.created_at),
        "updated_at": iso(component.updated_at),
        "group": False,
        "name": component.name,
        "description": component.description,
        "position": component.position,
        "status": str(component.status),
        "showcase": component.showcase,
        "only_show_if_degraded": component.only_show_if_degraded,
        "automation_email": None,
        "start_date": component.start_date.isoformat() if component.start_date else None,
    }


def update_doc(update: IncidentUpdate) -> Doc:
    return {
        "id": update.id,
        "incident_id": update.incident_id,
        "status": str(update.status),
        "body": update.body,
        "created_at": iso(update.created_at),
        "updated_at": iso(update.updated_at),
        "display_at": iso(update.display_at),
        "affected_components": [
            {
                "code": a.component_id,
                "name": a.component.display_name,
                "old_status": str(a.old_status),
                "new_status": str(a.new_status),
            }
            for a in update.affected
        ],
        "deliver_notifications": update.deliver_notifications,
        "custom_tweet": None,
        "tweet_id": None,
        "twitter_updated_at": None,
        "wants_twitter_update": False,
    }


def incident_doc(incident: Incident, page_id: str) -> Doc:
    base_url = current_app.config["BASE_URL"]
    maintenance = incident.is_maintenance
    return {
        "id": incident.id,
        "name": incident.name,
        "status": str(incident.status),
        "impact": str(incident.impact),
        "impact_override": None if maintenance else str(incident.impact),
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        "started_at": iso(incident.started_at),
        "monitoring_at": iso(incident.monitoring_at),
        "resolved_at": iso(incident.resolved_at),
        "shortlink": f"{base_url}/incidents/{incident.id}",
        "page_id": page_id,
        "incident_updates": [update_doc(u) for u in incident.updates],
        "components": [component_doc(c, page_id) for c in incident.components],
        "postmortem_body": incident.postmortem_body,
        "postmortem_body_last_updated_at": iso(incident.postmortem_published_at)
        if incident.postmortem_body
        else None,
        "postmortem_ignored": False,
        "postmortem_published_at": iso(incident.postmortem_published_at),
        "postmortem_notified_subscribers": False,
        "postmortem_notified_twitter": False,
        "backfilled": False,
        "scheduled_for": iso(incident.scheduled_for),
        "scheduled_until": iso(incident.scheduled_until),
        "scheduled_remind_prior": False,
        "scheduled_reminded_at": None,
        "scheduled_auto_in_progress": incident.scheduled_auto_in_progress if maintenance else False,
        "scheduled_auto_completed": incident.scheduled_auto_completed if maintenance else False,
        "metadata": {},
    }


def next_update_doc(incident: Incident) -> Doc:
    return {
        "incident_id": incident.id,
        "next_update_due": iso(incident.next_update_due),
        "update_interval": incident.update_interval,
        "reminded_at": iso(incident.reminded_at),
        "overdue_at": iso(incident.overdue_at),
        "state": cadence.state(incident, now()),
    }


def delivery_doc(delivery: Delivery) -> Doc:
    return {
        "id": delivery.id,
        "incident_update_id": delivery.update_id,
        "target_kind": str(delivery.target_kind),
        "target_id": delivery.target_id,
        "state": str(delivery.state),
        "attempts": delivery.attempts,
        "created_at": iso(delivery.created_at),
        "next_attempt_at": iso(delivery.next_attempt_at),
        "sent_at": iso(delivery.sent_at),
        "latency_seconds": delivery.latency_seconds,
        "last_error": delivery.last_error,
        "external_id": delivery.external_id,
        "external_url": delivery.external_url,
    }


def revision_doc(revision: IncidentUpdateRevision) -> Doc:
    return {
        "id": revision.id,
        "incident_update_id": revision.update_id,
        "body": revision.body,
        "replaced_at": iso(revision.created_at),
    }
