"""Read throughput of the public site, four ways side by side in one run.

(a) nginx serving the published directory with deploy/nginx/snapshot-locations.conf;
(b) the public site exactly as ``statuspage up`` serves it (the real command);
(c) the production web process: gunicorn with docker-compose.yml's settings;
(d) a minimal Flask app under the same gunicorn settings returning the same bytes from
    memory: the framework's ceiling.

Each is loaded with wrk on 127.0.0.1 (10 s, 64 connections) for ``/`` and
``/api/v2/summary.json``, one at a time so they never compete for the two cores. Targets:
b/a >= 0.2, c/d >= 0.8, p99 of (b) < 50 ms. Last line: one JSON object.

    python bench/public_read.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PATHS = ["/", "/api/v2/summary.json"]
DURATION, CONNECTIONS, THREADS = 10, 64, 2
# docker-compose.yml's web command, minus the bind address.
GUNICORN = ["--workers", "4", "--threads", "4", "--access-logfile", "-"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def prepare(env: dict[str, str]) -> None:
    """A mid-sized installation: 12 components, 90 days of history, 40 incidents."""
    script = (
        "import sys; sys.path.insert(0, 'bench')\n"
        "from dataset import populate\n"
        "from flask_migrate import upgrade\n"
        "from statuspage import create_app\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    upgrade(revision='heads')\n"
        "    populate(12, 90, 40)\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True)


def nginx(folder: Path, publish: Path, port: int) -> subprocess.Popen[bytes]:
    conf = folder / "nginx.conf"
    temp = folder / "nginx-temp"
    temp.mkdir()
    conf.write_text(
        f"""
worker_processes auto;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {temp}; proxy_temp_path {temp}; fastcgi_temp_path {temp};
    uwsgi_temp_path {temp}; scgi_temp_path {temp};
    server {{
        listen 127.0.0.1:{port};
        root {publish}/current;
        include {ROOT}/deploy/nginx/snapshot-locations.conf;
        location @app {{ return 404; }}
    }}
}}
"""
    )
    return subprocess.Popen(["nginx", "-c", str(conf), "-p", str(folder)])


def wrk(url: str) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"errors while loading {url}:\n{out}")

    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": round(rps), "p50_ms": latency("50%"), "p99_ms": latency("99%")}


def main() -> None:
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is required (Debian package {tool})")
    base = Path(tempfile.mkdtemp(prefix="statuspage-read-"))
    base.chmod(0o755)  # nginx workers run as an unprivileged user
    # The embedded data directory is its owner's alone; nginx reads the snapshot beside it.
    data, publish = base / "data", base / "public"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATUSPAGE_")}
    env["STATUSPAGE_DATA_DIR"] = str(data)
    env["STATUSPAGE_PUBLISH_DIR"] = str(publish)
    prepare(env)

    ports = {name: free_port() for name in ("nginx", "embedded", "gunicorn", "framework")}
    processes: list[subprocess.Popen[bytes]] = []
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        up = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "statuspage",
                "up",
                "--port",
                str(ports["embedded"]),
                "--data-dir",
                str(data),
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            **quiet,
        )
        processes.append(up)
        wait_until_up(f"http://127.0.0.1:{ports['embedded']}/")
        snapshot = (publish / "current").resolve()
        processes.append(nginx(base, publish, ports["nginx"]))
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"127.0.0.1:{ports['gunicorn']}",
                    *GUNICORN,
                    "statuspage.wsgi:app",
                ],
                env=env,
                cwd=ROOT,
                **quiet,
            )
        )
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"127.0.0.1:{ports['framework']}",
                    *GUNICORN,
                    "framework_ceiling:app",
                ],
                env=dict(env, BENCH_SNAPSHOT=str(snapshot)),
                cwd=ROOT / "bench",
                **quiet,
            )
        )
        for port in ports.values():
            wait_until_up(f"http://127.0.0.1:{port}/")
        for path in PATHS:  # every server answers with the same bytes
            bodies = {
                requests.get(f"http://127.0.0.1:{p}{path}", timeout=5).content
                for p in ports.values()
            }
            if len(bodies) != 1:
                raise SystemExit(f"servers disagree about {path}")

        results: dict[str, dict[str, dict[str, float]]] = {}
        for name, port in ports.items():
            results[name] = {}
            for path in PATHS:
                url = f"http://127.0.0.1:{port}{path}"
                results[name][path] = figures = wrk(url)
                print(
                    f"{name:10} {path:22} {figures['rps']:>8} req/s  "
                    f"p50 {figures['p50_ms']:7.2f} ms  p99 {figures['p99_ms']:7.2f} ms"
                )
    finally:
        for proc in processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if proc is processes[0] else signal.SIGTERM)
        for proc in processes:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(base, ignore_errors=True)

    def ratio(top: str, bottom: str) -> float:
        return round(min(results[top][p]["rps"] / results[bottom][p]["rps"] for p in PATHS), 3)

    summary = {
        "benchmark": "public_read",
        "duration_s": DURATION,
        "connections": CONNECTIONS,
        "results": results,
        "embedded_over_nginx": ratio("embedded", "nginx"),
        "gunicorn_over_framework": ratio("gunicorn", "framework"),
        "embedded_p99_ms": max(results["embedded"][p]["p99_ms"] for p in PATHS),
    }
    summary["meets_targets"] = (
        summary["embedded_over_nginx"] >= 0.2
        and summary["gunicorn_over_framework"] >= 0.8
        and summary["embedded_p99_ms"] < 50
    )
    print(
        f"embedded/nginx {summary['embedded_over_nginx']}  "
        f"gunicorn/framework {summary['gunicorn_over_framework']}  "
        f"embedded p99 {summary['embedded_p99_ms']} ms"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
