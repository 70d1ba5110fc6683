"""deploy/nginx serves a published snapshot the way the app does (Debian's nginx)."""

from __future__ import annotations

import gzip
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from statuspage.incidents import service
from statuspage.publishing.snapshot import publish
from tests.conftest import ROOT, free_port, wait_for

NGINX = os.environ.get("NGINX_PATH", "/usr/sbin/nginx")


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def nginx(app, tmp_path: Path) -> Iterator[str]:
    port = free_port()
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
    server {{
        listen 127.0.0.1:{port};
        root {app.config["PUBLISH_DIR"]}/current;
        include {ROOT}/deploy/nginx/snapshot-locations.conf;
        location @app {{ return 418; }}
    }}
}}
"""
    )
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)])
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            requests.get(base, timeout=1).close()
            return True
        except requests.ConnectionError:
            return False

    wait_for(up, timeout=10)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


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
        # What the snapshot lacks goes to the app.
        assert http.get(nginx + "/admin/login").status_code == 418
        assert http.post(nginx + "/subscribe").status_code == 418
