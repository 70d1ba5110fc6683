"""A vendor's Statuspage-v2 page: serves ``/api/v2/summary.json`` from a real capture,
answers conditional GETs with 304, and lets a test change a component's status."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from tests.fakes.server import FakeServer, Recorded, Reply

SUMMARY_PATH = "/api/v2/summary.json"
CAPTURE = Path(__file__).resolve().parent.parent / "fixtures" / "statuspage"


class FakeVendorPage(FakeServer):
    def __init__(self, capture: str = "statuspage_summary_example1.json") -> None:
        super().__init__()
        self.original = json.loads((CAPTURE / capture).read_text())
        self.reset_state()

    def reset_state(self) -> None:
        self.document: dict[str, Any] = copy.deepcopy(self.original)
        self.modified = datetime(2021, 12, 7, 18, 7, 15, tzinfo=UTC)

    @property
    def summary_url(self) -> str:
        return self.url + SUMMARY_PATH

    def set_status(self, component_id: str, status: str) -> None:
        with self.lock:
            for component in self.document["components"]:
                if component["id"] == component_id:
                    component["status"] = status
            self.modified = datetime.now(UTC).replace(microsecond=0)

    def route(self, request: Recorded) -> Reply:
        if request.path != SUMMARY_PATH:
            return Reply(404, json={"error": "not found"})
        with self.lock:
            body = json.dumps(self.document).encode()
            modified = format_datetime(self.modified, usegmt=True)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": modified}
        if request.header("If-None-Match") == etag:
            return Reply(304, headers=headers)
        return Reply(body=body, headers=headers)
