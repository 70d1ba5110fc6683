"""deploy/nginx serves a published snapshot the way the app does (Debian's nginx)."""

from __future__ import annotations

import gzip
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from statuspage.incidents import service
from statuspage.publishing.snapshot import publish
from tests.conftest import ROOT, free_port, wait_for
from tests.fakes.tls import issue_certificate
from tests.live import live_server

NGINX = os.environ.get("NGINX_PATH", "/usr/sbin/nginx")


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@contextmanager
def running_nginx(
    tmp_path: Path, port: int, server: str, scheme: str = "http", ca: Path | None = None
) -> Iterator[str]:
    """Debian's nginx in the foreground with one ``server`` block; yields its base URL
    (``https://localhost`` when given the CA of its certificate)."""
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    user = "user root root;" if os.geteuid() == 0 else ""  # workers must read tmp_path
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"""
{user}
worker_processes 1;
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp}; proxy_temp_path {temp}; fastcgi_temp_path {temp};
    uwsgi_temp_path {temp}; scgi_temp_path {temp};
    {server}
}}
"""
    )
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)])
    base = f"{scheme}://{'localhost' if ca else '127.0.0.1'}:{port}"

    def up() -> bool:
        try:
            requests.get(base, timeout=1, verify=ca or True).close()
            return True
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, timeout=10)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def nginx(app, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    server = f"""
    server {{
        listen 127.0.0.1:{port};
        root {app.config["PUBLISH_DIR"]}/current;
        include {ROOT}/deploy/nginx/snapshot-locations.conf;
        location @app {{ return 418; }}
    }}"""
    with running_nginx(tmp_path, port, server) as base:
        yield base


@pytest.fixture
def production_nginx(app, tmp_path: Path) -> Iterator[str]:
    """deploy/nginx/statuspage.conf as shipped, pointed at the app on a loopback port."""
    port = free_port()
    with live_server(app) as app_url:
        server = (
            (ROOT / "deploy/nginx/statuspage.conf")
            .read_text()
            .replace("server web:8000;", f"server {app_url.removeprefix('http://')};")
            .replace("listen 80 default_server;", f"listen 127.0.0.1:{port};")
            .replace("root /data/public/current;", f"root {app.config['PUBLISH_DIR']}/current;")
            .replace(
                "/etc/nginx/snippets/statuspage-snapshot.conf",
                f"{ROOT}/deploy/nginx/snapshot-locations.conf",
            )
        )
        with running_nginx(tmp_path, port, server) as base:
            yield base


def test_nginx_serves_the_snapshot_with_the_same_urls_and_types(app, components, nginx):
    incident = service.open_incident(actor=None, name="Edge errors", impact="minor", body="x")
    publish()
    with requests.Session() as http:
        for path, mimetype in [
            ("/", "text/html"),
            (f"/incidents/{incident.id}", "text/html"),
            ("/history", "text/html"),
            ("/api/v2/summary.json", "application/json"),
            ("/history.rss", "application/rss+xml"),
            ("/history.atom", "application/atom+xml"),
            ("/badge.svg", "image/svg+xml"),
            ("/maintenance.ics", "text/calendar"),
            ("/de/", "text/html"),
            (f"/ja/incidents/{incident.id}", "text/html"),
        ]:
            response = http.get(nginx + path, headers={"Accept-Encoding": "identity"})
            assert response.status_code == 200, path
            assert response.headers["Content-Type"].split(";")[0] == mimetype, path
            assert "stale-if-error" in response.headers["Cache-Control"], path
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert response.headers["ETag"], path
        assert "Edge errors" in http.get(nginx + "/").text
        raw = http.get(
            nginx + "/api/v2/summary.json", headers={"Accept-Encoding": "gzip"}, stream=True
        )
        assert raw.headers["Content-Encoding"] == "gzip"  # the precompressed file
        assert b"Edge errors" in gzip.decompress(raw.raw.read())
        raw.close()
        etag = http.get(nginx + "/").headers["ETag"]
        assert http.get(nginx + "/", headers={"If-None-Match": etag}).status_code == 304
        german = http.get(nginx + "/", headers={"Accept-Language": "de-CH, en;q=0.5"})
        assert '<html lang="de"' in german.text and "Aktuelle Störungen" in german.text
        assert "Accept-Language" in german.headers["Vary"]
        assert '<html lang="en"' in http.get(nginx + "/", headers={"Accept-Language": "nl"}).text
        # What the snapshot lacks goes to the app.
        assert http.get(nginx + "/admin/login").status_code == 418
        assert http.post(nginx + "/subscribe").status_code == 418


def test_nginx_names_no_version_and_sends_the_page_headers(app, components, nginx):
    publish()
    with requests.Session() as http:
        page = http.get(nginx + "/")
        assert page.headers["Server"] == "nginx"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in page.headers  # plain http
        missing = http.get(nginx + "/.env")
        assert missing.status_code == 404
        assert missing.headers["Server"] == "nginx"
        assert "nginx/" not in missing.text


def test_the_production_config_passes_the_apps_headers_on_for_the_admin(
    app, components, production_nginx
):
    publish()
    with requests.Session() as http:
        assert http.get(production_nginx + "/").headers["X-Frame-Options"] == "DENY"
        login = http.get(production_nginx + "/admin/login")
        assert login.status_code == 200
        assert login.headers["Server"] == "nginx"
        assert login.headers["Cache-Control"] == "no-store"
        assert login.headers["X-Frame-Options"] == "DENY"
        assert login.headers["X-Content-Type-Options"] == "nosniff"
        assert "script-src 'self';" in login.headers["Content-Security-Policy"]


def test_nginx_sends_hsts_when_it_answers_over_https(app, components, tmp_path):
    publish()
    port = free_port()
    ca, cert, key = issue_certificate(tmp_path, ["localhost"])
    server = f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {app.config["PUBLISH_DIR"]}/current;
        include {ROOT}/deploy/nginx/snapshot-locations.conf;
        location @app {{ return 418; }}
    }}"""
    with running_nginx(tmp_path, port, server, scheme="https", ca=ca) as base:
        page = requests.get(base + "/", verify=ca, timeout=5)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
