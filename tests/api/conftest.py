"""An API client holding tokens for each role of the cast."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from statuspage import accounts
from statuspage.extensions import db
from statuspage.models import Page


@dataclass
class Api:
    client: object
    page_id: str
    tokens: dict[str, str]

    def url(self, path: str) -> str:
        return f"/api/v1/pages/{self.page_id}/{path}"

    def headers(self, who: str = "admin", scheme: str = "OAuth") -> dict[str, str]:
        return {"Authorization": f"{scheme} {self.tokens[who]}"}

    def call(self, method: str, path: str, who: str = "admin", **kwargs):
        kwargs.setdefault("headers", self.headers(who))
        return self.client.open(self.url(path), method=method, **kwargs)


@pytest.fixture
def api(client, cast, components) -> Api:
    tokens = {
        role: accounts.create_token(cast[role], f"{role} automation")
        for role in ("admin", "responder", "viewer")
    }
    page_id = Page.get().id
    db.session.commit()
    return Api(client, page_id, tokens)
