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
