"""Statuspage's v1 management API for one page, answering with real response samples
(``tests/fixtures/statuspage_v1``, and the real v2 incident captures, whose objects a v1
incident contains). It pages as Statuspage documents, checks ``Authorization: OAuth``,
and can be told to answer a request with 429 and ``Retry-After`` as its rate limit does."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.fakes.server import FakeServer, Recorded, Reply

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAGE_ID = "8m2l51279rpl"  # the page of the v1 samples
API_KEY = "sp-import-test-key"


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def sample_page() -> dict[str, list[dict[str, Any]]]:
    incident = _load("statuspage_v1/incident.json")
    components = [*incident["components"]]
    extra = _load("statuspage_v1/component.json")
    if extra["id"] not in {c["id"] for c in components}:
        components.append(extra)
    history = _load("statuspage/statuspage_incidents_example1.json")["incidents"]
    maintenances = _load("statuspage/statuspage_scheduled_maintenances_example1_docs.json")
    return {
        "component-groups": [_load("statuspage_v1/component_group.json")],
        "components": components,
        "incidents": [incident, *history, *maintenances["scheduled_maintenances"]],
        "subscribers": [
            _load("statuspage_v1/subscriber_active.json"),
            _load("statuspage_v1/subscriber_quarantined_spec.json"),
        ],
    }


class FakeStatuspageV1(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.reset_state()

    def reset_state(self) -> None:
        self.lists = sample_page()
        self.page_profile = _load("statuspage_v1/page.json")

    @property
    def api_url(self) -> str:
        return self.url + "/v1"

    def set(self, kind: str, items: list[dict[str, Any]]) -> None:
        with self.lock:
            self.lists[kind] = copy.deepcopy(items)

    def route(self, request: Recorded) -> Reply:
        if request.header("Authorization") != f"OAuth {API_KEY}":
            return Reply(401, json={"error": "Could not authenticate"})
        prefix = f"/v1/pages/{PAGE_ID}"
        if request.path == prefix:
            return Reply(json=self.page_profile)
        kind = request.path[len(prefix) + 1 :]
        if not request.path.startswith(prefix + "/") or kind not in self.lists:
            return Reply(404, json={"error": "The requested resource could not be found."})
        return Reply(json=self._page_of(kind, request.query))

    def _page_of(self, kind: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        size_param = "per_page" if kind in ("components", "component-groups") else "limit"
        size = min(int(query.get(size_param, ["100"])[0]), 100)
        page = int(query.get("page", ["0" if kind == "subscribers" else "1"])[0])
        if kind == "subscribers":
            index = page  # documented: the first page is page 0
            everyone = query.get("state", ["active"])[0] == "all"
            items = [s for s in self.lists[kind] if everyone or not s.get("quarantined_at")]
        else:
            index = max(page, 1) - 1  # pages from 1; page 0 reads as the first
            items = self.lists[kind]
        return items[index * size : (index + 1) * size]
