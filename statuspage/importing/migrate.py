"""Importing a Statuspage page: component groups, components, incidents with every update
at its own time, scheduled maintenances, and confirmed email subscribers.

The history is written as it was, not re-told: imported updates create no outbox rows, and
no promise of a next update, so nothing is sent to anyone and no reminder fires. The page
is re-published once at the end. Each record's source id is kept (``ImportedRecord``), so
running the import again updates what it brought in before and adds only what is new.
Each part commits on its own; a run that stops halfway is completed by the next one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from statuspage import text_rules
from statuspage.extensions import db
from statuspage.importing.client import StatuspageClient
from statuspage.incidents import workflow
from statuspage.incidents.republish import request_publish
from statuspage.incidents.service import set_component_status
from statuspage.lib.clock import iso, now
from statuspage.models import (
    AffectedComponent,
    ChangeCause,
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    Impact,
    ImportedRecord,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    IncidentUpdateRevision,
    Subscriber,
    SubscriberKind,
)
from statuspage.models.audit import record
from statuspage.models.subscribers import new_nonce
from statuspage.models.types import new_public_id

STATUSES = {str(s) for s in ComponentStatus}
INCIDENT_STATUSES = {str(s) for s in IncidentStatus}
IMPACTS = {str(i) for i in Impact}


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: str, kind: str) -> None:
        counts = getattr(self, bucket)
        counts[kind] = counts.get(kind, 0) + 1

    def lines(self) -> list[str]:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.skipped))
        return [
            f"{kind}: {self.created.get(kind, 0)} new, {self.updated.get(kind, 0)} updated"
            + (f", {self.skipped[kind]} skipped" if self.skipped.get(kind) else "")
            for kind in kinds
        ]


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _line(value: Any, fallback: str = "") -> str:
    return text_rules.plain_line(value)[: workflow.MAX_NAME] if isinstance(value, str) else fallback


def _body(value: Any) -> str:
    text = text_rules.strip_controls(value) if isinstance(value, str) else ""
    return text[: workflow.MAX_BODY]


class Importer:
    def __init__(self, client: StatuspageClient, page_id: str) -> None:
        self.client = client
        self.page_id = page_id
        self.source = f"statuspage:{page_id}"[:32]
        self.report = ImportReport()
        self._known: dict[tuple[str, str], str] = {}

    # -- the id map ------------------------------------------------------------------
    def local(self, kind: str, source_id: str) -> str | None:
        key = (kind, source_id)
        if key not in self._known:
            found = db.session.scalar(
                select(ImportedRecord.local_id).where(
                    ImportedRecord.source == self.source,
                    ImportedRecord.kind == kind,
                    ImportedRecord.source_id == source_id,
                )
            )
            if found is None:
                return None
            self._known[key] = found
        return self._known[key]

    def remember(self, kind: str, source_id: str, local_id: str) -> None:
        db.session.add(
            ImportedRecord(source=self.source, kind=kind, source_id=source_id, local_id=local_id)
        )
        self._known[(kind, source_id)] = local_id

    def _path(self, rest: str) -> str:
        return f"/pages/{self.page_id}/{rest}"

    # -- the run ---------------------------------------------------------------------
    def run(self) -> ImportReport:
        groups = list(
            self.client.pages(self._path("component-groups"), size_param="per_page", first_page=1)
        )
        components = list(
            self.client.pages(self._path("components"), size_param="per_page", first_page=1)
        )
        self.import_groups(groups)
        self.import_components(components)
        incidents = list(
            self.client.pages(self._path("incidents"), size_param="limit", first_page=0)
        )
        self.import_incidents(incidents)
        subscribers = self.client.pages(
            self._path("subscribers"),
            size_param="limit",
            first_page=0,
            params={"type": "email", "state": "active"},
        )
        self.import_subscribers(subscribers)
        record(
            None,
            "statuspage.import",
            "page",
            self.page_id,
            None,
            {"created": self.report.created, "updated": self.report.updated},
        )
        request_publish(f"imported from Statuspage page {self.page_id}")
        db.session.commit()
        return self.report

    def import_groups(self, groups: list[dict[str, Any]]) -> None:
        for raw in groups:
            name = _line(raw.get("name"))
            if not name:
                self.report.count("skipped", "component groups")
                continue
            local_id = self.local("group", raw["id"])
            group = db.session.get(ComponentGroup, local_id) if local_id else None
            if group is None:
                group = ComponentGroup(id=new_public_id())
                db.session.add(group)
                self.remember("group", raw["id"], group.id)
                self.report.count("created", "component groups")
            else:
                self.report.count("updated", "component groups")
            group.name = name
            group.description = _body(raw.get("description")) or None
            position = raw.get("position")
            group.position = position if isinstance(position, int) else group.position or 0
        db.session.commit()

    def import_components(self, components: list[dict[str, Any]]) -> None:
        at = now()
        for raw in components:
            name = _line(raw.get("name"))
            if raw.get("group") is True or not name:
                if raw.get("group") is not True:
                    self.report.count("skipped", "components")
                continue
            status = raw.get("status") if raw.get("status") in STATUSES else "operational"
            local_id = self.local("component", raw["id"])
            component = db.session.get(Component, local_id) if local_id else None
            if component is None:
                component = Component(id=new_public_id(), status=status)
                db.session.add(component)
                db.session.add(
                    ComponentStatusChange(
                        component_id=component.id,
                        old_status=None,
                        new_status=status,
                        cause=ChangeCause.MANUAL,
                        created_at=at,
                    )
                )
                self.remember("component", raw["id"], component.id)
                self.report.count("created", "components")
            else:
                set_component_status(component, ComponentStatus(status), ChangeCause.MANUAL, at)
                self.report.count("updated", "components")
            component.name = name
            component.description = _body(raw.get("description")) or None
            component.group_id = (
                self.local("group", raw["group_id"])
                if isinstance(raw.get("group_id"), str)
                else None
            )
            position = raw.get("position")
            component.position = position if isinstance(position, int) else 0
            component.showcase = raw.get("showcase") is not False
            component.only_show_if_degraded = raw.get("only_show_if_degraded") is True
            component.start_date = _date(raw.get("start_date"))
        db.session.commit()

    def import_incidents(self, incidents: list[dict[str, Any]]) -> None:
        for raw in incidents:
            name = _line(raw.get("name"))
            updates = [u for u in raw.get("incident_updates") or [] if isinstance(u, dict)]
            created = _time(raw.get("created_at"))
            if not name or raw.get("status") not in INCIDENT_STATUSES or created is None:
                self.report.count("skipped", "incidents")
                continue
            self._incident(raw, name, created, updates)
            db.session.commit()

    def _incident(
        self, raw: dict[str, Any], name: str, created: datetime, updates: list[dict[str, Any]]
    ) -> None:
        local_id = self.local("incident", raw["id"])
        incident = db.session.get(Incident, local_id) if local_id else None
        if incident is None:
            incident = Incident(id=new_public_id(), created_at=created)
            db.session.add(incident)
            self.remember("incident", raw["id"], incident.id)
            self.report.count("created", "incidents")
        else:
            self.report.count("updated", "incidents")
        maintenance = _time(raw.get("scheduled_for")) is not None
        impact = raw.get("impact_override") or raw.get("impact")
        incident.name = name
        incident.status = IncidentStatus(raw["status"])
        incident.impact = (
            Impact.MAINTENANCE if maintenance else Impact(impact if impact in IMPACTS else "none")
        )
        incident.started_at = _time(raw.get("started_at")) or created
        incident.monitoring_at = _time(raw.get("monitoring_at"))
        incident.resolved_at = _time(raw.get("resolved_at"))
        incident.updated_at = _time(raw.get("updated_at")) or created
        incident.scheduled_for = _time(raw.get("scheduled_for"))
        incident.scheduled_until = _time(raw.get("scheduled_until"))
        incident.scheduled_auto_in_progress = raw.get("scheduled_auto_in_progress") is True
        incident.scheduled_auto_completed = raw.get("scheduled_auto_completed") is True
        incident.next_update_due = None  # history: no promise to keep, no reminder
        postmortem = _body(raw.get("postmortem_body"))
        if postmortem:
            incident.postmortem_body = postmortem
            incident.postmortem_published_at = _time(raw.get("postmortem_published_at")) or (
                _time(raw.get("postmortem_body_last_updated_at")) or incident.updated_at
            )
        with db.session.no_autoflush:
            for component in raw.get("components") or []:
                local = (
                    self.local("component", component.get("id", ""))
                    if isinstance(component, dict)
                    else None
                )
                target = db.session.get(Component, local) if local else None
                if target is not None and target not in incident.components:
                    incident.components.append(target)
        db.session.flush()
        posted = [self._update(incident, u) for u in updates]
        times = [u.created_at for u in posted if u is not None]
        incident.first_posted_at = min(times) if times else None

    def _update(self, incident: Incident, raw: dict[str, Any]) -> IncidentUpdate | None:
        created = _time(raw.get("created_at"))
        if not isinstance(raw.get("id"), str) or created is None:
            self.report.count("skipped", "incident updates")
            return None
        status = raw.get("status") if raw.get("status") in INCIDENT_STATUSES else incident.status
        body = _body(raw.get("body"))
        local_id = self.local("update", raw["id"])
        update = db.session.get(IncidentUpdate, local_id) if local_id else None
        if update is None:
            update = IncidentUpdate(
                id=new_public_id(),
                incident=incident,
                status=status,
                body=body,
                deliver_notifications=False,
                created_at=created,
                updated_at=_time(raw.get("updated_at")) or created,
                display_at=_time(raw.get("display_at")) or created,
            )
            db.session.add(update)
            self.remember("update", raw["id"], update.id)
            self._affected(update, raw.get("affected_components"))
            self.report.count("created", "incident updates")
            return update
        if update.body != body:
            # Published text is never changed in place: the earlier text stays visible.
            db.session.add(
                IncidentUpdateRevision(update=update, body=update.body, created_at=now())
            )
            update.body, update.updated_at = body, now()
        update.status = status
        self.report.count("updated", "incident updates")
        return update

    def _affected(self, update: IncidentUpdate, entries: Any) -> None:
        """Statuspage's ``affected_components`` (``null``, or entries without a ``code``,
        for updates that named none)."""
        for position, entry in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
                continue
            local = self.local("component", entry["code"])
            old, new = entry.get("old_status"), entry.get("new_status")
            if local is None or old not in STATUSES or new not in STATUSES:
                continue
            if any(a.component_id == local for a in update.affected):
                continue
            update.affected.append(
                AffectedComponent(
                    component_id=local, position=position, old_status=old, new_status=new
                )
            )

    def import_subscribers(self, subscribers: Any) -> None:
        """Active email subscribers stay confirmed (they confirmed at Statuspage); ones it
        quarantined for bouncing are left behind. Each is audited."""
        for raw in subscribers:
            email = raw.get("email")
            if (
                raw.get("mode", "email") != "email"
                or not isinstance(email, str)
                or "@" not in email
                or raw.get("quarantined_at")
            ):
                self.report.count("skipped", "subscribers")
                continue
            address = email.strip().lower()[:1024]
            subscriber = db.session.scalars(
                select(Subscriber).where(
                    Subscriber.kind == SubscriberKind.EMAIL,
                    func.lower(Subscriber.address) == address,
                )
            ).first()
            if subscriber is not None:
                if self.local("subscriber", raw["id"]) is None:
                    self.remember("subscriber", raw["id"], str(subscriber.id))
                self.report.count("updated", "subscribers")
                continue
            confirmed = _time(raw.get("created_at")) or now()
            subscriber = Subscriber(
                kind=SubscriberKind.EMAIL,
                address=address,
                created_at=confirmed,
                confirmed_at=confirmed,
                link_nonce=new_nonce(),
            )
            subscriber.components = self._followed(raw.get("components"))
            db.session.add(subscriber)
            db.session.flush()
            self.remember("subscriber", raw["id"], str(subscriber.id))
            record(
                None,
                "subscriber.import",
                "subscriber",
                str(subscriber.id),
                None,
                {"email": address, "source": self.source, "confirmed_at": iso(confirmed)},
            )
            self.report.count("created", "subscribers")
        db.session.commit()

    def _followed(self, value: Any) -> list[Component]:
        # The API documents ``components`` as a string holding a JSON list of ids.
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = []
        ids = [self.local("component", v) for v in value or [] if isinstance(v, str)]
        return [c for c in (db.session.get(Component, i) for i in ids if i) if c is not None]
