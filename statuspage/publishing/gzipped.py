"""The gzip bodies published beside the files, for servers that send them as they are.

A long stretch that publish after publish repeats (the home page's list of components,
nine tenths of its bytes, in each language) is deflated once and its stream reused: the
body is the deflate of what comes before the stretch, the kept stream, and the deflate of
what follows, the first two ending on a byte boundary without a final block. That is one
valid deflate stream (pigz builds its bodies so); any client inflates the same bytes.
"""

from __future__ import annotations

import gzip
import zlib

LEVEL = 6
_HEADER = gzip.compress(b"", LEVEL, mtime=0)[:10]  # no name, no time: bytes depend on data only
_PROBE = 256  # bytes of a stretch searched for before comparing the whole of it

# name (a language) -> the stretch last offered under it, and its deflate once computed
_stretches: dict[str, tuple[bytes, bytes | None]] = {}


def offer(name: str, stretch: bytes) -> None:
    """Let bodies compressed from now on reuse ``stretch`` (replacing what ``name`` held)."""
    held = _stretches.get(name)
    if held is None or held[0] != stretch:
        _stretches[name] = (stretch, None)


def _deflate(data: bytes, final: bool) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH
    )


def _find(data: bytes, stretch: bytes) -> int:
    probe = stretch[:_PROBE]
    at = data.find(probe)
    while at >= 0 and not data.startswith(stretch, at):
        at = data.find(probe, at + 1)
    return at


def compress(data: bytes) -> bytes:
    """The gzip body of ``data``; the same bytes for the same data and offered stretches."""
    for name, (stretch, deflated) in _stretches.items():
        at = _find(data, stretch) if len(stretch) <= len(data) else -1
        if at < 0:
            continue
        if deflated is None:
            deflated = _deflate(stretch, final=False)
            _stretches[name] = (stretch, deflated)
        body = (
            _deflate(data[:at], final=False)
            + deflated
            + _deflate(data[at + len(stretch) :], final=True)
        )
        trailer = zlib.crc32(data).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(
            4, "little"
        )
        return _HEADER + body + trailer
    return gzip.compress(data, LEVEL, mtime=0)
