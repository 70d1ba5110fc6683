"""Outbound HTTP dials exactly the address it checked, and refuses every non-public form."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from statuspage.lib import http
from tests.conftest import ROOT
from tests.security.rebinding_probe import PUBLIC


@pytest.fixture(scope="module")
def rebinding(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What the probe saw in its own network namespace (see rebinding_probe.py)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("the rebinding test needs unshare (util-linux) and ip (iproute2)")
    folder = tmp_path_factory.mktemp("rebinding")
    resolv = folder / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:2 attempts:1\n")
    setup = (
        "ip link set lo up && "
        f"ip addr add {PUBLIC}/32 dev lo && "
        f"mount --bind {resolv} /etc/resolv.conf && "
        f'exec "{sys.executable}" -m tests.security.rebinding_probe "{folder}"'
    )
    done = subprocess.run(
        ["unshare", "--net", "--mount", "sh", "-c", setup],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_rebinding_resolver_fools_a_check_then_connect_client(rebinding):
    """The harness itself: checking a name and then letting the library resolve it again
    reaches loopback, so the tests below can tell a safe client from an unsafe one."""
    assert rebinding["results"]["control"] == "None / HTTP 204"
    assert "/control" in [r["path"] for r in rebinding["loopback"]]


def test_a_webhook_goes_to_the_checked_address_even_when_the_name_rebinds(rebinding):
    assert rebinding["results"]["http"] == "HTTP 204"
    assert {"method": "POST", "path": "/hook", "host": "rebind-http.test"} in rebinding["public"]
    assert all(r["path"] == "/control" for r in rebinding["loopback"])


def test_tls_keeps_the_name_for_sni_and_certificate_while_dialling_the_checked_address(
    rebinding,
):
    assert rebinding["results"]["https"] == "HTTP 204"
    assert rebinding["public_tls"] == [
        {"method": "GET", "path": "/tls", "host": "rebind-https.test"}
    ]
    assert rebinding["server_names"] == ["rebind-https.test"]


def test_a_redirect_to_loopback_is_refused(rebinding):
    assert (
        "refused: 127.0.0.1 resolves to a non-public address"
        in (rebinding["results"]["redirect_followed"])
    )
    assert all(r["path"] != "/stolen" for r in rebinding["loopback"])


def test_webhook_and_slack_posts_do_not_follow_redirects(rebinding):
    assert rebinding["results"]["redirect_posted"].startswith("HttpError: HTTP 307 from")
    assert [r["method"] for r in rebinding["public"] if r["path"] == "/redirect"] == [
        "GET",
        "POST",
    ]


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::5db8:d822",  # local-use NAT64, whatever it carries
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001::5db8:d822",  # Teredo, any client
        "::ffff:93.184.216.34",  # IPv4-mapped, even of a public address
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::5db8:d822",  # IPv4-compatible, even of a public address
        "192.0.0.8",  # IETF protocol assignments
        "192.88.99.1",  # 6to4 relay anycast
        "ff02::1",
        "224.0.0.1",
        "fe80::1%eth0",
    ],
)
def test_embedded_and_tunnelled_forms_of_refused_addresses_are_refused(address):
    assert http.is_public_address(address) is False


@pytest.mark.parametrize("address", ["64:ff9b::5db8:d822", "2002:5db8:d822::1", "2606:4700::1"])
def test_nat64_and_6to4_of_a_public_address_stay_public(address):
    assert http.is_public_address(address) is True


def test_a_name_that_does_not_resolve_fails_as_a_resolution_error(rebinding):
    assert "NameResolutionError" in rebinding["results"]["unresolvable"]
