"""Request bodies are capped per route before they are read, and JSON depth is bounded."""

from __future__ import annotations

import io
import json

import pytest

from statuspage import accounts
from statuspage.extensions import db
from statuspage.models import Page
from statuspage.request_limits import MAX_JSON_DEPTH, json_depth

MIB = 1024 * 1024


class UnreadBody(io.BytesIO):
    """A request body that records whether anything read it."""

    read_from = False

    def read(self, size: int | None = -1) -> bytes:
        self.read_from = True
        return super().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        self.read_from = True
        return super().readline(size)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def token(cast) -> str:
    value = accounts.create_token(cast["admin"], "automation")
    db.session.commit()
    return value


def incidents_url() -> str:
    return f"/api/v1/pages/{Page.get().id}/incidents"


def test_a_50_mib_anonymous_body_is_refused_without_being_read(client):
    body = UnreadBody(b"{" * 1024)
    response = client.post(
        "/api/subscriptions",
        input_stream=body,
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": str(50 * MIB)},
    )
    assert response.status_code == 413
    assert response.json["code"] == "too_large"
    assert "65536 bytes" in response.json["error"]
    assert not body.read_from


def test_a_page_route_answers_413_in_words(client):
    response = client.post(
        "/subscribe",
        data="x" * (65 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert response.mimetype == "text/plain"
    assert "larger than the 65536 bytes allowed here" in response.text


def test_operator_routes_take_larger_bodies_up_to_their_own_limit(client, token):
    headers = {"Authorization": f"OAuth {token}"}
    markdown = "Ünïcödé " * 25_000  # 200 KB of JSON: a long update in a non-Latin script
    payload = {"incident": {"name": "Long", "status": "investigating", "body": markdown}}
    response = client.post(incidents_url(), json=payload, headers=headers)
    assert response.status_code != 413
    response = client.post(
        incidents_url(), data=b"x" * (MIB + 1), content_type="application/json", headers=headers
    )
    assert response.status_code == 413
    assert response.json["code"] == "too_large"


def test_the_body_limits_are_settings(app, client):
    app.config["MAX_BODY_BYTES"] = 1000
    response = client.post("/api/subscriptions", json={"email": "a" * 2000 + "@example.com"})
    assert response.status_code == 413


def test_deeply_nested_json_is_a_bad_request_on_subscriptions(client):
    response = client.post(
        "/api/subscriptions", data=nested(30_000), content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_json_nested_too_deeply_is_a_bad_request_on_the_write_api(client, token, depth):
    body = '{"incident": {"name": "Deep", "body": ' + nested(depth) + "}}"
    response = client.post(
        incidents_url(),
        data=body,
        content_type="application/json",
        headers={"Authorization": f"OAuth {token}"},
    )
    assert response.status_code == 400
    assert response.json["code"] == "bad_request"


def test_json_depth_counts_arrays_and_objects():
    assert json_depth(json.loads('{"a": [1, {"b": []}]}')) == 4
    assert json_depth("text") == 0
    assert json_depth(json.loads(nested(MAX_JSON_DEPTH))) == MAX_JSON_DEPTH
