"""Public-site latency of ``statuspage up`` while clients hold half-sent bodies open.

Starts the real command on a fresh data directory, then times 200 sequential ``GET`` of
``/``, ``/api/v2/summary.json`` and ``/admin/login`` on one kept-alive connection, first
with no other client and then with 50 connections that each sent the headers of
``POST /api/subscriptions`` (``Content-Length: 1000``) and one byte of body. Last line:
one JSON object.

    python bench/slow_bodies.py
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = ("/", "/api/v2/summary.json", "/admin/login")
HELD = 50
REQUESTS = 200
HALF_SENT = (
    b"POST /api/subscriptions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n{"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timings(port: int, path: str) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    found = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")
        found.append((time.perf_counter() - started) * 1000)
    conn.close()
    found.sort()
    return {
        "p50_ms": round(statistics.median(found), 2),
        "p99_ms": round(found[int(len(found) * 0.99) - 1], 2),
    }


def main() -> None:
    port = free_port()
    data = tempfile.mkdtemp(prefix="statuspage-slow-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATUSPAGE_")}
    up = subprocess.Popen(
        [sys.executable, "-m", "statuspage", "up", "--port", str(port), "--data-dir", data],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, dict[str, dict[str, float]]] = {}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("statuspage up did not come up") from None
                time.sleep(0.2)
        time.sleep(2)  # the first publish
        results["alone"] = {path: timings(port, path) for path in PATHS}
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(HELD)]
        for sock in held:
            sock.sendall(HALF_SENT)
        time.sleep(0.5)
        results[f"{HELD}_half_sent"] = {path: timings(port, path) for path in PATHS}
        for sock in held:
            sock.close()
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(timeout=30)
    for case, figures in results.items():
        for path, f in figures.items():
            print(f"{case:14} {path:22} p50 {f['p50_ms']:6.2f} ms  p99 {f['p99_ms']:6.2f} ms")
    print(json.dumps({"benchmark": "slow_bodies", "results": results}))


if __name__ == "__main__":
    main()
