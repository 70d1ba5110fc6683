"""gzip bodies that reuse the deflate of a stretch repeated from publish to publish."""

from __future__ import annotations

import gzip
import zlib

import pytest

from statuspage.publishing import gzipped


@pytest.fixture(autouse=True)
def no_stretches(monkeypatch):
    monkeypatch.setattr(gzipped, "_stretches", {})


LIST = b"".join(
    b'<li class="operational" title="Day %d: 100.00%% uptime"></li>\n' % n for n in range(3000)
)


@pytest.mark.parametrize(
    "before, after",
    [
        (b"<!doctype html><h1>Status</h1>", b"<p>Last updated now.</p>"),
        (b"", b"</html>"),
        (b"<x>", b""),
    ],
)
def test_a_body_around_an_offered_stretch_inflates_to_the_file(before, after):
    gzipped.offer("de", LIST)
    data = before + LIST + after
    body = gzipped.compress(data)
    assert body != gzip.compress(data, gzipped.LEVEL, mtime=0)  # built around the stretch
    assert gzip.decompress(body) == data
    streamed = zlib.decompressobj(wbits=31)
    assert streamed.decompress(body) == data and streamed.eof and not streamed.unused_data
    assert len(body) < len(gzip.compress(data, 1, mtime=0))


def test_the_body_depends_on_the_data_and_the_offered_stretch_only():
    data = b"<h1>Status</h1>" + LIST + b"<p>Last updated now.</p>"
    gzipped.offer("de", LIST)
    first = gzipped.compress(data)  # deflates the stretch
    second = gzipped.compress(data)  # reuses it
    gzipped.offer("de", LIST[:-1] + b"\n")  # equal bytes, another object
    assert first == second == gzipped.compress(data)


def test_a_file_without_an_offered_stretch_is_compressed_whole():
    gzipped.offer("de", LIST)
    gzipped.offer("fr", LIST.replace(b"uptime", b"de disponibilit\xc3\xa9"))
    almost = b"<h1>Status</h1>" + LIST[:-2]  # the probe matches, the stretch does not
    assert gzipped.compress(almost) == gzip.compress(almost, gzipped.LEVEL, mtime=0)
    assert gzipped.compress(b"<p>short</p>") == gzip.compress(b"<p>short</p>", 6, mtime=0)


def month(ids: range) -> bytes:
    entries = b"".join(
        b'<li class="impact-minor">\n  <h2><a href="/incidents/inc%05d">Outage %d</a></h2>\n'
        b'  <p class="meta">Minor \xc2\xb7 Resolved</p>\n  <div class="body"><p>Slow.</p></div>\n'
        b"</li>\n" % (n, n)
        for n in reversed(ids)
    )
    return b"<!doctype html><h1>November 2026</h1><ol>" + entries + b"</ol></html>"


def test_a_month_is_deflated_in_blocks_that_inflate_to_the_file(monkeypatch):
    monkeypatch.setattr(gzipped, "_blocks", {})
    data = month(range(600))
    body = gzipped.compress(data)
    assert len(gzipped._blocks) > 10
    streamed = zlib.decompressobj(wbits=31)
    assert streamed.decompress(body) == data and streamed.eof and not streamed.unused_data
    whole = gzip.compress(data, gzipped.LEVEL, mtime=0)
    assert body != whole and len(body) < 1.2 * len(whole)


def test_a_month_body_depends_on_its_bytes_only(monkeypatch):
    monkeypatch.setattr(gzipped, "_blocks", {})
    data = month(range(600))
    first = gzipped.compress(data)
    gzipped.compress(month(range(7, 900)))
    assert gzipped.compress(data) == first
    gzipped._blocks.clear()
    assert gzipped.compress(data) == first


def test_an_entry_added_atop_a_month_deflates_the_first_blocks_only(monkeypatch):
    monkeypatch.setattr(gzipped, "_blocks", {})
    gzipped.compress(month(range(600)))
    blocks = len(gzipped._blocks)
    grown = month(range(601))
    body = gzipped.compress(grown)
    assert gzip.decompress(body) == grown
    assert 1 <= len(gzipped._blocks) - blocks <= 2
