"""Outbound requests against a rebinding DNS server, inside a private network namespace.

Run by ``test_ssrf.py`` as ``unshare --net --mount``: the namespace has only its own
loopback device, carrying 127.0.0.1 and a public address (``PUBLIC``), so nothing leaves
it. ``/etc/resolv.conf`` is bind-mounted to point at a DNS server on 127.0.0.1:53 that
answers names starting with ``rebind`` with ``PUBLIC`` the first time and 127.0.0.1 after
(TTL 0), and ``public.test`` always with ``PUBLIC``. Recorders listen on both addresses;
the probe prints, as JSON, what each scenario returned and what each recorder received.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
from pathlib import Path

import requests
from dnslib import QTYPE, RR, A
from dnslib.server import DNSLogger, DNSServer

from statuspage.lib import http
from tests.fakes.server import FakeServer, Recorded, Reply
from tests.fakes.tls import issue_certificate

PUBLIC = "93.184.216.34"
NAMES = ["rebind-http.test", "rebind-https.test", "rebind-control.test", "public.test"]


class RebindingResolver:
    """TTL 0 answers, IPv4 only; a ``rebind`` name turns to loopback after its first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.asked: dict[str, int] = {}

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        reply = request.reply()
        name = str(request.q.qname).rstrip(".")
        if request.q.qtype == QTYPE.A and name in NAMES:
            with self.lock:
                count = self.asked[name] = self.asked.get(name, 0) + 1
            rebound = name.startswith("rebind") and count > 1
            reply.add_answer(
                RR(request.q.qname, QTYPE.A, rdata=A("127.0.0.1" if rebound else PUBLIC), ttl=0)
            )
        return reply


class Recorder(FakeServer):
    def route(self, request: Recorded) -> Reply:
        return Reply(204)


def server_context(folder: Path) -> tuple[Path, ssl.SSLContext, list[str]]:
    """A CA file for clients and a server context for every test name (records SNI)."""
    ca_file, cert_file, key_file = issue_certificate(folder, NAMES)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server_names: list[str] = []
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)
    return ca_file, context, server_names


def outcome(call) -> str:  # type: ignore[no-untyped-def]
    try:
        response = call()
    except (requests.RequestException, http.HttpError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return f"HTTP {response.status_code}"


def main(folder: Path) -> dict:
    dns = DNSServer(
        RebindingResolver(), port=53, address="127.0.0.1", logger=DNSLogger("-request,-reply")
    )
    dns.start_thread()
    ca_file, tls, server_names = server_context(folder)
    public = Recorder().start(PUBLIC, 80)
    public.script("GET", "/redirect", Reply(302, headers={"Location": "http://127.0.0.1/stolen"}))
    public.script("POST", "/redirect", Reply(307, headers={"Location": "http://127.0.0.1/stolen"}))
    public_tls = Recorder().start(PUBLIC, 443, tls=tls)
    loopback = Recorder().start("127.0.0.1", 80)
    results: dict[str, str] = {}
    guarded = http.Session(allow_private=False)
    results["control"] = (
        str(http.refusal(NAMES[2], 80))
        + " / "
        + outcome(lambda: requests.post(f"http://{NAMES[2]}/control", data=b"{}", timeout=5))
    )
    results["http"] = outcome(
        lambda: http.post(guarded, f"http://{NAMES[0]}/hook", data=b"{}", timeout=5)
    )
    results["https"] = outcome(
        lambda: guarded.get(f"https://{NAMES[1]}/tls", verify=str(ca_file), timeout=5)
    )
    results["redirect_followed"] = outcome(
        lambda: guarded.get("http://public.test/redirect", timeout=5)
    )
    results["redirect_posted"] = outcome(
        lambda: http.post(guarded, "http://public.test/redirect", data=b"{}", timeout=5)
    )
    results["unresolvable"] = outcome(lambda: guarded.get("http://nowhere.test/", timeout=5))
    dns.stop()

    def seen(recorder: Recorder) -> list[dict[str, str]]:
        return [
            {"method": r.method, "path": r.path, "host": r.header("Host") or ""}
            for r in recorder.received()
        ]

    return {
        "results": results,
        "public": seen(public),
        "public_tls": seen(public_tls),
        "loopback": seen(loopback),
        "server_names": server_names,
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
