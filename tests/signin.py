"""Signing in through the real login form, and reading a page's CSRF token."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    token = csrf_token(client, "/admin/login")
    return client.post(
        "/admin/login", data={"csrf_token": token, "email": email, "password": password}
    )


def sign_in(client, email: str) -> None:
    response = login(client, email)
    assert response.status_code == 302, response.get_data(as_text=True)
